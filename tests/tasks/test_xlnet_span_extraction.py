"""SQuAD span extraction on XLNet: SentencePiece pieces that map back to the
context's characters, XLNet's window layout (context <sep> question <sep>
<cls>, padded on the left), and a tiny XLNet trained, reloaded and exported
through the same flow as BERT."""

import json
import os

import numpy as np
import pytest

from tests.tasks.test_span_extraction import (CONTEXT, QUESTIONS, Oracle, check_coverage,
                                              write_squad)
from tfzoo.data.samples import sample_path
from tfzoo.export import export_saved_model
from tfzoo.export.verify import run_with_tf1_loader
from tfzoo.models.xlnet import XLNetSpanLabeler
from tfzoo.preprocessing.xlnet_preprocessor import (XLNetPreprocessor, CLS_TYPE_ID, PAD_TYPE_ID,
                                                    sentencepiece_pieces)
from tfzoo.tasks.span_extraction import SpanExtractionTask, sentencepiece_units
from tfzoo.training.config import experiment_from_dict, load_experiment
from tfzoo.training.trainer import train

ROOT = os.path.join(os.path.dirname(__file__), "..", "..")
SPIECE = "pkg:tfzoo/data/samples/xlnet_spiece.model"


def make_task(train_file, validation_file=None, **task):
    experiment = experiment_from_dict({"task": {
        "type": "span_extraction",
        "model": {"config": os.path.join(ROOT, "configs/models/xlnet_tiny.yaml")},
        "vocabulary": SPIECE, "data": {"train": train_file, "validation": validation_file},
        **task}})
    return SpanExtractionTask(experiment.task)


def check_xlnet_windows(windows, preprocessor):
    """Every window is padding, context <sep> question <sep> <cls> with type
    ids 3, 0, 1, 2; labelled positions give back exactly the first answer's
    text; windows labelled <cls> do not hold the whole answer; every question
    has a labelled window; a question's windows cover its whole context."""
    special = preprocessor.get_special_tokens_dict()
    length = windows.features["input_word_ids"].shape[1]
    labelled = set()
    for window, index in enumerate(windows.question):
        question = windows.questions[index]
        paragraph = windows.paragraphs[question.paragraph]
        ids = windows.features["input_word_ids"][window]
        types = windows.features["input_type_ids"][window]
        mask = windows.features["input_mask"][window]
        offset, pieces = windows.context_offset[window], windows.context_length[window]
        assert ids[-1] == special["cls_id"] and types[-1] == CLS_TYPE_ID
        np.testing.assert_array_equal(ids[:offset], special["padding_id"])
        np.testing.assert_array_equal(types[:offset], PAD_TYPE_ID)
        np.testing.assert_array_equal(mask, np.arange(length) >= offset)
        assert ids[offset + pieces] == ids[-2] == special["end_of_segment_id"]
        np.testing.assert_array_equal(types[offset:offset + pieces + 1], 0)
        np.testing.assert_array_equal(types[offset + pieces + 1:-1], 1)
        context_start = windows.context_start[window]
        np.testing.assert_array_equal(ids[offset:offset + pieces],
                                      paragraph.pieces[context_start:context_start + pieces])
        text, char_start = question.answers[0]
        start, end = windows.start_positions[window], windows.end_positions[window]
        if start != length - 1:
            assert offset <= start <= end < offset + pieces
            assert windows.text(window, start, end) == text
            labelled.add(int(index))
        else:
            assert end == length - 1
            first, last = paragraph.answer_pieces(text, char_start)
            assert not context_start <= first <= last < context_start + pieces
    assert labelled == set(range(len(windows.questions)))
    check_coverage(windows)


def test_pieces_of_runs_are_the_whole_texts_pieces_and_cover_their_characters():
    """Tokenizing each run between whitespace gives the pieces the whole text
    gets, and each piece's characters normalise to the piece's own string."""
    preprocessor = XLNetPreprocessor.from_pretrained(sample_path("xlnet_spiece.model"))
    strings = [piece for piece, _ in sentencepiece_pieces(preprocessor.spiece_model)]
    with open(sample_path("squad_dev.json"), encoding="utf-8") as f:
        texts = [p["context"] for a in json.load(f)["data"] for p in a["paragraphs"]]
    texts += [CONTEXT, "  odd\u00a0 spacing\tand ``quotes'' ﬁne  ", "", "   "]
    whole = preprocessor.tokenize(texts).to_list()
    checked = 0
    for text, (units, pieces, unit_pieces), expected in zip(
            texts, sentencepiece_units(preprocessor, texts), whole):
        assert pieces.tolist() == expected
        assert unit_pieces[0] == 0 and unit_pieces[-1] == len(pieces)
        for (start, end), first, last in zip(units, unit_pieces[:-1], unit_pieces[1:]):
            assert 0 <= start <= end <= len(text)
            if last - first == 1 and strings[pieces[first]] != "<unk>":
                normalized = preprocessor.tokenize.normalize([text[start:end]]).numpy()[0]
                assert normalized.decode() == strings[pieces[first]].lstrip("\u2581")
                checked += 1
    assert checked > 1000
    # "``quotes''" changes length when normalised: one unit for the whole run.
    units = sentencepiece_units(preprocessor, [texts[-3]])[0][0]
    assert any(texts[-3][s:e] == "``quotes''" for s, e in units)


def test_long_context_with_accents_is_windowed_xlnet_style(tmp_path):
    task = make_task(write_squad(tmp_path / "train.json"), seq_length=48, doc_stride=12,
                     max_query_length=16)
    windows = task.windows("train")
    assert len(windows.question) > 4 * len(QUESTIONS)
    check_xlnet_windows(windows, task.build_preprocessor())


@pytest.mark.parametrize("seq_length", [256, 64])
def test_sample_answers_map_back_exactly(seq_length):
    task = make_task(sample_path("squad_train.json"), sample_path("squad_dev.json"),
                     seq_length=seq_length, doc_stride=16, max_query_length=32)
    preprocessor = task.build_preprocessor()
    for split in ("train", "validation"):
        windows = task.windows(split)
        assert len(windows.questions) == {"train": 300, "validation": 60}[split]
        check_xlnet_windows(windows, preprocessor)


def test_evaluate_scores_the_labelled_spans_perfectly(tmp_path):
    dev = write_squad(tmp_path / "dev.json")
    task = make_task(dev, dev, seq_length=48, doc_stride=16, max_query_length=16)
    windows = task.windows("validation")
    assert len(windows.question) > len(QUESTIONS)
    result = task.evaluate(Oracle(windows))
    assert result == {"exact_match": 1.0, "f1": 1.0, "questions": len(QUESTIONS)}


def _facts_squad(path, count, seed):
    """Paragraphs of filler sentences and one "the mayor is NAME." fact;
    the question asks for the mayor."""
    rng = np.random.default_rng(seed)
    names = ["Sofia Rossi", "Tom Baker", "Anna Weber", "Omar Haddad", "Lena Costa",
             "Ivan Petrov", "Maria Silva", "Yuki Sato", "Ada Stone", "Paul Martin"]
    filler = ["The town is near the river.", "It has a garden.", "The bread is old.",
              "Visitors come each winter.", "The tower is tall.", "A fair is held there."]
    paragraphs = []
    for index in range(count):
        name = names[rng.integers(len(names))]
        sentences = [filler[i] for i in rng.permutation(len(filler))[:3]]
        sentences.insert(int(rng.integers(4)), f"The mayor is {name}.")
        context = " ".join(sentences)
        paragraphs.append({"context": context, "qas": [{
            "id": f"q{index}", "question": "Who is the mayor?",
            "answers": [{"text": name, "answer_start": context.index(name)}]}]})
    path.write_text(json.dumps({"data": [{"title": "t", "paragraphs": paragraphs}]}))
    return str(path)


def test_xlnet_fine_tunes_on_squad_reloads_and_exports(tmp_path):
    experiment = experiment_from_dict({
        "task": {
            "type": "span_extraction",
            "model": {"config": os.path.join(ROOT, "configs/models/xlnet_tiny.yaml")},
            "vocabulary": SPIECE,
            "data": {"train": _facts_squad(tmp_path / "train.json", 256, 0),
                     "validation": _facts_squad(tmp_path / "dev.json", 48, 1)},
            "seq_length": 96, "max_query_length": 16, "max_answer_length": 12,
        },
        "trainer": {"epochs": 5, "batch_size": 16, "verbose": 0, "tensorboard": False,
                    "optimizer": {"learning_rate": 2e-3, "warmup_fraction": 0.1}},
    })
    model, summary, task = train(experiment, str(tmp_path / "run"))
    assert isinstance(model, XLNetSpanLabeler)
    history = summary["history"]
    assert history["loss"][-1] < 0.3 * history["loss"][0], history["loss"]
    # A span picked at random is almost never exact; 80 updates find most
    # names (0.875 exact, 0.95 F1 on the machine this was written on).
    result = task.evaluate(model)
    assert result["exact_match"] >= 0.7 and result["f1"] >= 0.8, result

    # The final directory reloads as the same span labeler.
    windows = task.windows("validation")
    features = {name: value[:8] for name, value in windows.features.items()}
    restored = XLNetSpanLabeler.from_pretrained(str(tmp_path / "run" / "final"))
    expected = model.predict(features, verbose=0)
    got = restored.predict(features, verbose=0)
    for name in ("start_logits", "end_logits"):
        np.testing.assert_allclose(got[name], expected[name], atol=1e-5)

    # The export serves the token signature; TF Serving's loader answers like Keras.
    export_dir = export_saved_model(model, str(tmp_path / "export" / "1"))
    served = run_with_tf1_loader(export_dir, {k: v.tolist() for k, v in features.items()})
    for name in ("start_logits", "end_logits"):
        np.testing.assert_allclose(served[name], expected[name], atol=1e-4)


def test_shipped_squad_config_builds_xlnet_windows():
    experiment = load_experiment(os.path.join(ROOT, "configs/xlnet/squad_tiny.yaml"))
    task = SpanExtractionTask(experiment.task)
    assert isinstance(task.build_preprocessor(), XLNetPreprocessor)
    assert isinstance(task.build_model(), XLNetSpanLabeler)
    check_xlnet_windows(task.windows("validation"), task.build_preprocessor())
