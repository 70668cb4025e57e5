"""SQuAD span extraction: windows, labels that map back to the answers, the
best span, and a short fine-tune of real MiniLM weights."""

import json
import os
import time

import numpy as np
import pytest

from tfzoo.data.samples import sample_path
from tfzoo.tasks.span_extraction import SpanExtractionTask, best_answers, split_words
from tfzoo.training.config import experiment_from_dict, load_experiment
from tfzoo.training.trainer import train

ROOT = os.path.join(os.path.dirname(__file__), "..", "..")

# Accents, punctuation glued to words, a hyphenated name, and a context of
# about 120 pieces: longer than the 32-piece windows used with it.
CONTEXT = (
    "Le café « Chez Zoë » ouvrit ses portes en 1895, à Montréal (Québec), près du fleuve "
    "Saint-Laurent. On y servait du thé, des crêpes et des gâteaux; les clients venaient "
    "de loin. Pendant l'hiver, la salle était chauffée par un grand poêle en fonte. "
    "Plus tard, le café déménagea rue Sainte-Catherine, où il resta jusqu'en 1962. "
    "Son fondateur, Émile Brûlé-Côté, y servit des crêpes jusqu'à 90 ans!"
)
QUESTIONS = [
    ("q-name", "Quel est le nom du café ?", "Chez Zoë"),
    ("q-year", "Quand le café a-t-il ouvert ?", "1895"),
    ("q-city", "Où se trouvait le café ?", "Montréal (Québec)"),
    ("q-founder", "Qui a fondé le café ?", "Émile Brûlé-Côté"),
    ("q-street", "Où le café déménagea-t-il ?", "rue Sainte-Catherine"),
    ("q-age", "Jusqu'à quel âge le fondateur servit-il ?", "90 ans!"),
]


def write_squad(path, context=CONTEXT, questions=QUESTIONS):
    qas = [{"id": id_, "question": question,
            "answers": [{"text": answer, "answer_start": context.index(answer)}]}
           for id_, question, answer in questions]
    data = {"version": "1.1", "data": [{"title": "t", "paragraphs": [
        {"context": context, "qas": qas}]}]}
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return str(path)


def make_task(minilm_path, train_file, validation_file=None, **task):
    experiment = experiment_from_dict({"task": {
        "type": "span_extraction", "model": {"init_checkpoint": minilm_path},
        "data": {"train": train_file, "validation": validation_file}, **task}})
    return SpanExtractionTask(experiment.task)


def check_windows(windows, preprocessor):
    """Every window is [CLS] question [SEP] context [SEP] with type ids 0 then
    1; labelled positions give back exactly the first answer's text; windows
    labelled [CLS] do not hold the whole answer; every question has a
    labelled window; the windows of a question cover its whole context."""
    special = preprocessor.get_special_tokens_dict()
    labelled = set()
    for window, index in enumerate(windows.question):
        question = windows.questions[index]
        paragraph = windows.paragraphs[question.paragraph]
        ids = windows.features["input_word_ids"][window]
        types = windows.features["input_type_ids"][window]
        offset = windows.context_offset[window]
        length = windows.context_length[window]
        assert ids[0] == special["start_of_sequence_id"]
        assert ids[offset - 1] == ids[offset + length] == special["end_of_segment_id"]
        np.testing.assert_array_equal(types[:offset], 0)
        np.testing.assert_array_equal(types[offset:offset + length + 1], 1)
        context_start = windows.context_start[window]
        np.testing.assert_array_equal(ids[offset:offset + length],
                                      paragraph.pieces[context_start:context_start + length])
        text, char_start = question.answers[0]
        start, end = windows.start_positions[window], windows.end_positions[window]
        if start:
            assert 0 < start <= end
            assert windows.text(window, start, end) == text
            labelled.add(int(index))
        else:
            first, last = paragraph.answer_pieces(text, char_start)
            assert not context_start <= first <= last < context_start + length
    assert labelled == set(range(len(windows.questions)))
    check_coverage(windows)


def check_coverage(windows):
    """The windows of every question cover every piece of its context."""
    for index in range(len(windows.questions)):
        covered = np.zeros(len(windows.paragraphs[windows.questions[index].paragraph].pieces))
        for row in np.flatnonzero(windows.question == index):
            covered[windows.context_start[row]:
                    windows.context_start[row] + windows.context_length[row]] += 1
        assert covered.min() >= 1


def test_split_words_keeps_punctuation_apart():
    text = "Le café « Chez Zoë », 1895!\tOK"
    words = [text[start:end] for start, end in split_words(text)]
    assert words == ["Le", "café", "«", "Chez", "Zoë", "»", ",", "1895", "!", "OK"]


def test_words_tokenized_alone_give_the_pieces_of_the_whole_text(tmp_path, minilm_path):
    task = make_task(minilm_path, write_squad(tmp_path / "train.json"),
                     sample_path("squad_dev.json"))
    preprocessor = task.build_preprocessor()
    for split in ("train", "validation"):
        paragraphs = task.windows(split).paragraphs
        whole = preprocessor.tokenize([p.text for p in paragraphs]).merge_dims(1, 2).to_list()
        for paragraph, pieces in zip(paragraphs, whole):
            assert paragraph.pieces.tolist() == pieces


def test_long_context_with_accents_is_windowed_and_answers_map_back(tmp_path, minilm_path):
    task = make_task(minilm_path, write_squad(tmp_path / "train.json"), seq_length=32,
                     doc_stride=8, max_query_length=12)
    windows = task.windows("train")
    assert len(windows.paragraphs[0].pieces) > 100
    assert len(windows.question) > 4 * len(QUESTIONS)
    check_windows(windows, task.build_preprocessor())


@pytest.mark.parametrize("seq_length", [384, 40])
def test_sample_answers_map_back_exactly(minilm_path, seq_length):
    task = make_task(minilm_path, sample_path("squad_train.json"), sample_path("squad_dev.json"),
                     seq_length=seq_length, doc_stride=16, max_query_length=16)
    preprocessor = task.build_preprocessor()
    for split in ("train", "validation"):
        windows = task.windows(split)
        assert len(windows.questions) == {"train": 300, "validation": 60}[split]
        check_windows(windows, preprocessor)
        # Every answer the dev file lists, not only the first, lies on word boundaries.
        for question in windows.questions:
            paragraph = windows.paragraphs[question.paragraph]
            for text, start in question.answers:
                first, last = paragraph.answer_pieces(text, start)
                words = paragraph.words
                assert paragraph.text[words[paragraph.piece_word[first]][0]:
                                      words[paragraph.piece_word[last]][1]] == text


class Oracle:
    """Stands in for a model: logits that peak at the labelled positions."""

    def __init__(self, windows):
        self.windows = windows

    def predict(self, dataset, verbose=0):
        length = self.windows.features["input_word_ids"].shape[1]
        rows = np.arange(len(self.windows.question))
        start = np.zeros([len(rows), length], np.float32)
        end = np.zeros([len(rows), length], np.float32)
        start[rows, self.windows.start_positions] = 10.0
        end[rows, self.windows.end_positions] = 10.0
        return {"start_logits": start, "end_logits": end}


def test_evaluate_scores_the_labelled_spans_perfectly(tmp_path, minilm_path):
    dev = write_squad(tmp_path / "dev.json")
    task = make_task(minilm_path, dev, dev, seq_length=48, doc_stride=16, max_query_length=16)
    windows = task.windows("validation")
    assert len(windows.question) > len(QUESTIONS)
    result = task.evaluate(Oracle(windows))
    assert result == {"exact_match": 1.0, "f1": 1.0, "questions": len(QUESTIONS)}


def test_best_answers_keep_to_valid_spans(tmp_path, minilm_path):
    dev = write_squad(tmp_path / "dev.json")
    task = make_task(minilm_path, dev, dev, seq_length=48, doc_stride=16, max_query_length=16)
    windows = task.windows("validation")
    can_start = windows.max_context_mask()
    window = next(w for w in np.flatnonzero(windows.start_positions)
                  if can_start[w, windows.start_positions[w]])
    question = windows.question[window]
    first, last = windows.start_positions[window], windows.end_positions[window]
    other, another = [w for w in np.flatnonzero(windows.question == question) if w != window][:2]
    start = np.full(windows.features["input_word_ids"].shape, -100.0, np.float32)
    end = np.full_like(start, -100.0)
    start[window, first] = end[window, last] = 10.0  # the answer
    # Higher scores, all invalid: [CLS] and the question; an end before its
    # start; a span longer than max_answer_length.
    start[window, 0] = end[window, 0] = start[window, 1] = end[window, 2] = 50.0
    offset = windows.context_offset[other]
    start[other, offset + 3] = end[other, offset + 2] = 50.0
    offset = windows.context_offset[another]
    start[another, offset] = end[another, offset + 6] = 50.0
    answers = best_answers(windows, start, end, max_answer_length=5)
    assert answers[question] == windows.questions[question].answers[0][0]


def test_read_errors_name_the_question(tmp_path, minilm_path):
    with open(write_squad(tmp_path / "a.json"), encoding="utf-8") as f:
        data = json.load(f)
    data["data"][0]["paragraphs"][0]["qas"][1]["answers"][0]["answer_start"] += 1
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(ValueError, match=r"question 'q-year': answer '1895' is not at"):
        make_task(minilm_path, str(path)).windows("train")
    data["data"][0]["paragraphs"][0]["qas"][1]["answers"] = []
    path.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(ValueError, match="question 'q-year' has no answer"):
        make_task(minilm_path, str(path)).windows("train")


@pytest.mark.parametrize("task, message", [
    ({"seq_length": 0}, r"task.seq_length must be >= 1. Received: 0"),
    ({"doc_stride": -1}, r"task.doc_stride must be >= 1. Received: -1"),
    ({"seq_length": 64, "max_query_length": 61}, "seq_length=64 leaves no room"),
    ({"max_answer_length": "10"}, "task.max_answer_length must be an integer; received '10'"),
    ({"stride": 8}, r"Unknown config key\(s\) task.stride"),
    ({"data": {}}, "task.data.train is required"),
])
def test_bad_config_values_are_named(task, message):
    config = {"type": "span_extraction", "model": {"init_checkpoint": "x"},
              "data": {"train": "t.json"}}
    with pytest.raises(ValueError, match=message):
        experiment_from_dict({"task": {**config, **task}})


@pytest.mark.slow
def test_fine_tuning_minilm_answers_the_sample_questions(tmp_path):
    """The shipped config, shortened, with 64-piece windows so that paragraphs
    are read in several windows."""
    started = time.time()
    experiment = load_experiment(
        os.path.join(ROOT, "configs", "bert", "squad_minilm.yaml"),
        ["task.seq_length=64", "task.doc_stride=32", "trainer.epochs=2",
         "trainer.steps_per_epoch=50", "trainer.tensorboard=false", "trainer.verbose=0"])
    model, _, task = train(experiment, str(tmp_path))
    result = task.evaluate(model)
    print(f"squad sample: {result}, {time.time() - started:.0f} s")
    assert len(task.windows("validation").question) > 60  # some questions span windows
    # A random span is almost never right; 120 updates find most answers.
    assert result["exact_match"] > 0.3 and result["f1"] > 0.35, result
