"""The Transformer learns a transduction through the shared trainer; decoding checks."""

import numpy as np
import pytest

from tests.testing import to_numpy
from tfzoo.preprocessing.vocabulary import build_wordpiece_vocabulary, write_vocabulary
from tfzoo.tasks.translation import translate
from tfzoo.training.config import experiment_from_dict
from tfzoo.training.trainer import train

LETTERS = list("abcdefghijkl")


def reversal_pairs(count, seed):
    rng = np.random.default_rng(seed)
    pairs = []
    for _ in range(count):
        word = list(rng.choice(LETTERS, size=rng.integers(3, 9)))
        pairs.append((" ".join(word), " ".join(reversed(word))))
    return pairs


def write_tsv(path, pairs):
    path.write_text("".join(f"{a}\t{b}\n" for a, b in pairs))
    return str(path)


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    directory = tmp_path_factory.mktemp("reversal")
    train_file = write_tsv(directory / "train.tsv", reversal_pairs(3000, seed=0))
    dev_file = write_tsv(directory / "dev.tsv", reversal_pairs(200, seed=1))
    vocabulary = build_wordpiece_vocabulary([" ".join(LETTERS)] * 10, vocab_size=100)
    write_vocabulary(vocabulary, str(directory / "vocab.txt"))
    experiment = experiment_from_dict({
        "task": {"type": "translation",
                 "model": {"config": "configs/models/transformer_tiny.yaml"},
                 "data": {"train": train_file, "validation": dev_file},
                 "vocabulary": str(directory / "vocab.txt"), "max_length": 16,
                 "num_beams": 3},
        "trainer": {"epochs": 12, "batch_size": 64, "verbose": 0, "tensorboard": False,
                    "optimizer": {"learning_rate": 3e-3, "warmup_fraction": 0.05,
                                  "weight_decay": 0.0, "beta_2": 0.98}},
        "runtime": {"seed": 0},
    })
    model, summary, task = train(experiment, str(directory / "run"))
    return model, task, summary


def test_learns_to_reverse(trained):
    model, task, summary = trained
    results = task.evaluate(model, num_beams=1)
    assert results["exact_match"] >= 0.95, results
    assert results["bleu"] > 0.9
    beam = task.evaluate(model, num_beams=3)
    assert beam["exact_match"] >= results["exact_match"] - 0.01


def sequence_log_prob(model, source, target, start, end):
    """log p(target | source) under the model, teacher-forced."""
    decoder_input = np.array([[start] + target[:-1]], "int32")
    encoder_input = np.array([source], "int32")
    logits = to_numpy(model({"encoder_input_word_ids": encoder_input,
                             "encoder_input_mask": np.ones_like(encoder_input),
                             "decoder_input_word_ids": decoder_input,
                             "decoder_input_mask": np.ones_like(decoder_input)}))[0]
    log_probs = logits - np.log(np.exp(logits).sum(-1, keepdims=True))
    return float(sum(log_probs[i, t] for i, t in enumerate(target)))


def test_beam_never_scores_below_greedy_and_cache_equals_no_cache(trained):
    model, task, _ = trained
    preprocessor = task.build_preprocessor()
    special = preprocessor.get_special_tokens_dict()
    start, end = special["start_of_sequence_id"], special["end_of_segment_id"]
    pairs = reversal_pairs(20, seed=7)
    sources = [ids + [end] for ids in
               preprocessor.tokenize([a for a, _ in pairs]).merge_dims(1, 2).to_list()]
    greedy = model.generate(sources, start, end, max_length=16)
    beams = model.generate(sources, start, end, max_length=16, num_beams=4, length_penalty=0.0)
    for source, g, b in zip(sources, greedy, beams):
        assert sequence_log_prob(model, source, b, start, end) >= (
            sequence_log_prob(model, source, g, start, end) - 1e-4)
        # Cached greedy equals step-by-step decoding without a cache.
        tokens = []
        for _ in range(15):
            decoder_input = np.array([[start] + tokens], "int32")
            encoder_input = np.array([source], "int32")
            logits = to_numpy(model({"encoder_input_word_ids": encoder_input,
                                     "encoder_input_mask": np.ones_like(encoder_input),
                                     "decoder_input_word_ids": decoder_input,
                                     "decoder_input_mask": np.ones_like(decoder_input)}))
            tokens.append(int(np.argmax(logits[0, -1])))
            if tokens[-1] == end:
                break
        assert tokens == g
    # One source at a time (one-row products in the decoding loop): the same tokens.
    for source, g in zip(sources[:3], greedy):
        assert model.generate([source], start, end, max_length=16)[0] == g


def test_translate_raw_strings(trained):
    model, task, _ = trained
    outputs = translate(model, ["a b c d", "l k j"], task.build_preprocessor(), num_beams=3)
    assert outputs == ["d c b a", "j k l"]


def test_bad_parallel_data(tmp_path):
    from tfzoo.tasks.translation import read_parallel

    bad = tmp_path / "bad.tsv"
    bad.write_text("a\tb\nonly one column\n")
    with pytest.raises(ValueError, match="line 2: expected source<TAB>target"):
        read_parallel(str(bad))
    (tmp_path / "s.txt").write_text("a\nb\n")
    (tmp_path / "t.txt").write_text("a\n")
    with pytest.raises(ValueError, match="has 2 lines but"):
        read_parallel(source=str(tmp_path / "s.txt"), target=str(tmp_path / "t.txt"))
