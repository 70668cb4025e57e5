"""CoNLL token tagging: reading, one weighted position per word, long
sentences split without losing words, and a short fine-tune of real MiniLM
weights."""

import os
import time

import numpy as np
import pytest

from tfzoo.data.samples import sample_path
from tfzoo.tasks.token_tagging import TokenTaggingTask, read_conll
from tfzoo.training.config import experiment_from_dict, load_experiment
from tfzoo.training.trainer import train

ROOT = os.path.join(os.path.dirname(__file__), "..", "..")

# CoNLL-2003's own layout: word, POS, chunk, entity.
CONLL = """-DOCSTART- -X- -X- O

EU NNP B-NP B-ORG
rejects VBZ B-VP O
German JJ B-NP B-MISC
call NN I-NP O
. . O O

Peter NNP B-NP B-PER
Blackburn NNP I-NP I-PER

-DOCSTART- -X- -X- O

Brûlé-Côté NNP B-NP B-PER
visited VBD B-VP O
Montréal NNP B-NP B-LOC
"""


def make_task(minilm_path, train_file, validation_file=None, **task):
    experiment = experiment_from_dict({"task": {
        "type": "token_tagging", "model": {"init_checkpoint": minilm_path},
        "data": {"train": train_file, "validation": validation_file}, **task}})
    return TokenTaggingTask(experiment.task)


def test_read_conll_skips_docstart_and_splits_at_blank_lines(tmp_path):
    path = tmp_path / "a.txt"
    path.write_text(CONLL, encoding="utf-8")
    sentences = read_conll(str(path))
    assert [s.words for s in sentences] == [["EU", "rejects", "German", "call", "."],
                                            ["Peter", "Blackburn"],
                                            ["Brûlé-Côté", "visited", "Montréal"]]
    assert sentences[0].tags == ["B-ORG", "O", "B-MISC", "O", "O"]
    assert sentences[1].lines == [9, 10]
    assert read_conll(str(path), tag_column=1)[1].tags == ["NNP", "NNP"]


def test_unknown_tag_names_file_line_and_tag(tmp_path, minilm_path):
    path = tmp_path / "a.txt"
    path.write_text(CONLL.replace("Blackburn NNP I-NP I-PER", "Blackburn NNP I-NP I-PERSON"),
                    encoding="utf-8")
    with pytest.raises(ValueError, match=rf"{path}, line 10: tag 'I-PERSON' is not one of"):
        make_task(minilm_path, str(path)).windows("train")


def test_missing_tag_column_names_the_line(tmp_path):
    path = tmp_path / "a.txt"
    path.write_text("EU B-ORG\nrejects\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"line 2: no tag in column -1 of 'rejects'"):
        read_conll(str(path))


def check_alignment(windows, preprocessor, label_ids):
    """Each word has exactly one weighted position: its first piece, labelled
    with its tag; nothing else is weighted."""
    words = [w for s in windows.sentences for w in s.words]
    tags = [t for s in windows.sentences for t in s.tags]
    assert windows.weights.sum() == len(words) == len(windows.word_window)
    places = set(zip(windows.word_window.tolist(), windows.word_position.tolist()))
    assert len(places) == len(words)  # no position shared by two words
    np.testing.assert_array_equal(windows.weights[windows.word_window, windows.word_position], 1)
    np.testing.assert_array_equal(windows.labels[windows.word_window, windows.word_position],
                                  [label_ids[t] for t in tags])
    first_pieces = [p[0] for p in preprocessor.tokenize(words).merge_dims(1, 2).to_list()]
    np.testing.assert_array_equal(
        windows.features["input_word_ids"][windows.word_window, windows.word_position],
        first_pieces)
    # Words keep their order: within a sentence, window and position increase.
    order = windows.word_window * 10_000 + windows.word_position
    start = 0
    for sentence in windows.sentences:
        assert np.all(np.diff(order[start:start + len(sentence.words)]) > 0)
        start += len(sentence.words)


@pytest.mark.parametrize("seq_length", [128, 12])
def test_every_sample_word_gets_one_weighted_position(minilm_path, seq_length):
    task = make_task(minilm_path, sample_path("conll_train.txt"), sample_path("conll_dev.txt"),
                     seq_length=seq_length)
    label_ids = {label: i for i, label in enumerate(task.config.labels)}
    for split in ("train", "validation"):
        windows = task.windows(split)
        check_alignment(windows, task.build_preprocessor(), label_ids)
        split_sentences = len(windows.labels) - len(windows.sentences)
        assert (split_sentences > 0) == (seq_length == 12)
        assert windows.features["input_mask"].sum(1).max() <= seq_length


class Oracle:
    """Stands in for a model: logits that peak at the labelled tags."""

    def __init__(self, windows, classes):
        self.logits = np.eye(classes, dtype=np.float32)[windows.labels]  # (N, T, classes)

    def predict(self, dataset, verbose=0):
        return self.logits


def test_long_sentences_are_split_and_every_word_is_predicted(tmp_path, minilm_path):
    words = [f"Word{i} Brûlé-Côté Montréal ." for i in range(15)]  # 60 words, 125 pieces
    lines = [f"{w} {['B-PER', 'I-PER', 'B-LOC', 'O'][i % 4]}"
             for i, w in enumerate(" ".join(words).split())]
    path = tmp_path / "long.txt"
    path.write_text("\n".join(lines) + "\n\nshort O\n", encoding="utf-8")
    task = make_task(minilm_path, str(path), str(path), seq_length=16)
    windows = task.windows("validation")
    assert len(windows.labels) == 9 + 1  # 125 pieces fill 9 inputs of 14, then "short"
    check_alignment(windows, task.build_preprocessor(),
                    {label: i for i, label in enumerate(task.config.labels)})
    # Every word is predicted: perfect logits give a perfect score, and
    # predicting nothing but O finds nothing.
    result = task.evaluate(Oracle(windows, len(task.config.labels)))
    assert result == {"precision": 1.0, "recall": 1.0, "f1": 1.0, "sentences": 2}
    windows.labels[:] = 0
    assert task.evaluate(Oracle(windows, len(task.config.labels)))["f1"] == 0.0


def test_a_word_of_nothing_but_format_characters_is_still_tagged(tmp_path, minilm_path):
    path = tmp_path / "a.txt"
    path.write_text("Oslo B-LOC\n\u200b O\nrain O\n", encoding="utf-8")
    task = make_task(minilm_path, str(path))
    windows = task.windows("train")
    unknown = task.build_preprocessor().vocabulary.index("[UNK]")
    assert windows.features["input_word_ids"][0, 2] == unknown  # [CLS] oslo [UNK] rain
    np.testing.assert_array_equal(windows.word_position, [1, 2, 3])


@pytest.mark.parametrize("task, message", [
    ({"labels": ["O", "PER"]}, "must be BIO tags: O, B-TYPE or I-TYPE. Received: 'PER'"),
    ({"labels": ["O", "B-PER", "O"]}, "must list distinct tags"),
    ({"seq_length": 2}, r"task.seq_length must be >= 3 .*Received: 2"),
    ({"data": {"train": "t.txt", "tag_column": 0}}, "Received: tag_column=0"),
    ({"dropout": "high"}, "task.dropout must be a number; received 'high'"),
    ({"label": ["O"]}, r"Unknown config key\(s\) task.label"),
])
def test_bad_config_values_are_named(task, message):
    config = {"type": "token_tagging", "model": {"init_checkpoint": "x"},
              "data": {"train": "t.txt"}}
    with pytest.raises(ValueError, match=message):
        experiment_from_dict({"task": {**config, **task}})


@pytest.mark.slow
def test_fine_tuning_minilm_tags_the_sample_entities(tmp_path):
    """The shipped config, shortened, with 16-piece inputs so that long
    sentences are split."""
    started = time.time()
    experiment = load_experiment(
        os.path.join(ROOT, "configs", "bert", "conll_minilm.yaml"),
        ["task.seq_length=16", "trainer.epochs=2", "trainer.steps_per_epoch=25",
         "trainer.tensorboard=false", "trainer.verbose=0"])
    model, _, task = train(experiment, str(tmp_path))
    result = task.evaluate(model)
    print(f"conll sample: {result}, {time.time() - started:.0f} s")
    assert len(task.windows("validation").labels) > 80  # some sentences were split
    # Chance (a tag drawn at random per word) finds almost no entity.
    assert result["f1"] > 0.8, result
