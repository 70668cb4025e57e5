"""Permutation-LM examples: the factorization orders' masks, partial and
span-based prediction, determinism, and the pipeline on the shipped corpus."""

import numpy as np
import pytest
import tensorflow as tf

from tfzoo.data.samples import sample_path
from tfzoo.data.xlnet import XLNetPretrainingData, permutation_targets, xlnet_pretraining_dataset
from tfzoo.preprocessing.xlnet_preprocessor import XLNetPreprocessor

SEP, CLS, PAD = 4, 3, 5


def packed_batch(batch=16, length=64, seed=0):
    """Left-padded ids: <pad>... A <sep> B <sep> <cls>, with random lengths."""
    rng = np.random.default_rng(seed)
    ids = rng.integers(9, 250, size=(batch, length)).astype("int32")
    lengths = rng.integers(length // 2, length + 1, size=batch)
    mask = (np.arange(length)[None, :] >= length - lengths[:, None]).astype("int32")
    ids[mask == 0] = PAD
    for row, n in enumerate(lengths):
        ids[row, length - n + n // 2], ids[row, -2], ids[row, -1] = SEP, SEP, CLS
    return ids, mask


def config(**overrides):
    return XLNetPretrainingData(corpus="unused", **{"max_predictions": 16, **overrides})


def draw(ids, mask, seed=0, **overrides):
    result = permutation_targets(ids, mask, (SEP, CLS, PAD), config(**overrides), seed=seed)
    return {k: v.numpy() for k, v in result.items()}


def test_masks_follow_a_factorization_order():
    ids, mask = packed_batch()
    drawn = draw(ids, mask)
    perm, mapping, weights = drawn["perm_mask"], drawn["target_mapping"], drawn["target_weights"]
    for row in range(len(ids)):
        slots = int(weights[row].sum())
        targets = np.zeros(ids.shape[1], bool)
        targets[drawn["target_positions"][row, :slots]] = True
        candidates = (mask[row] == 1) & ~np.isin(ids[row], (SEP, CLS, PAD))
        assert not (targets & ~candidates).any()  # never special tokens or padding
        # Partial prediction: about 1/K of the real tokens.
        assert slots == min(max(round(candidates.sum() / 6), 1), 16)
        # Context sees context, and no target.
        np.testing.assert_array_equal(perm[row][~targets], np.broadcast_to(
            targets, (int((~targets).sum()), len(targets))))
        # A target sees the context, not itself, and exactly the targets
        # before it in one total order.
        sub = perm[row][np.ix_(targets, targets)] == 0  # i sees j
        assert not perm[row][np.ix_(targets, ~targets)].any()
        assert not sub.diagonal().any()
        np.testing.assert_array_equal(sub | sub.T, ~np.eye(slots, dtype=bool))
        np.testing.assert_array_equal(np.sort(sub.sum(axis=1)), np.arange(slots))
        # target_mapping: one-hot rows at the targets, in position order; then zeros.
        positions = mapping[row, :slots].argmax(axis=-1)
        assert (np.diff(positions) > 0).all() and targets[positions].all()
        np.testing.assert_array_equal(mapping[row, :slots].sum(axis=-1), 1)
        assert not mapping[row, slots:].any() and not weights[row, slots:].any()
        np.testing.assert_array_equal(drawn["target_ids"][row, :slots], ids[row, positions])


def test_spans_and_single_tokens():
    ids, mask = packed_batch(batch=64, length=128)

    def mean_run(**overrides):
        drawn = draw(ids, mask, prediction_ratio=4.0, max_predictions=40, **overrides)
        runs = []
        for row in range(len(ids)):
            targets = np.zeros(128, int)
            targets[drawn["target_positions"][row, :int(drawn["target_weights"][row].sum())]] = 1
            starts = np.flatnonzero(np.diff(np.concatenate([[0], targets])) == 1)
            runs.append(targets.sum() / len(starts))
        return np.mean(runs)

    # Lengths 1..5 with probability ~ 1/n average 2.19; merged neighbours and
    # budget cuts move that a little.
    assert 1.7 < mean_run(max_span_length=5) < 2.8
    assert mean_run(max_span_length=1) < 1.4


def test_seeds_make_orders_reproducible():
    ids, mask = packed_batch()
    first, again, other = draw(ids, mask, seed=3), draw(ids, mask, seed=3), draw(ids, mask, seed=4)
    for key in first:
        np.testing.assert_array_equal(first[key], again[key])
    assert not np.array_equal(first["perm_mask"], other["perm_mask"])


def test_pipeline_on_the_shipped_corpus():
    preprocessor = XLNetPreprocessor.from_pretrained(sample_path("xlnet_spiece.model"))
    data = XLNetPretrainingData(corpus=sample_path("pretraining_corpus.txt"), seq_length=64,
                                max_predictions=12)
    epoch_dataset, count, validation = xlnet_pretraining_dataset(data, preprocessor, 8)
    assert count > 300
    features, labels, weights = next(iter(epoch_dataset(0)))
    assert set(features) == {"input_word_ids", "input_mask", "input_type_ids", "perm_mask",
                             "target_mapping"}
    assert features["perm_mask"].shape == (8, 64, 64)
    assert features["target_mapping"].shape == (8, 12, 64)
    assert labels.shape == weights.shape == (8, 12)
    ids = features["input_word_ids"].numpy()
    assert (ids[:, -1] == CLS).all()  # <cls> last, padding on the left
    assert (weights.numpy().sum(axis=1) >= 1).all()
    positions = features["target_mapping"].numpy().argmax(-1)
    real = weights.numpy() == 1
    np.testing.assert_array_equal(labels.numpy()[real],
                                  np.take_along_axis(ids, positions, 1)[real])
    # Each epoch its own orders, the same whenever it is rebuilt.
    again = next(iter(epoch_dataset(0)))[0]["perm_mask"]
    other = next(iter(epoch_dataset(tf.constant(1, tf.int64))))[0]["perm_mask"]
    np.testing.assert_array_equal(again, features["perm_mask"])
    assert not np.array_equal(other, features["perm_mask"])
    held_out = sum(int(batch[0]["input_word_ids"].shape[0]) for batch in validation)
    assert held_out == pytest.approx(0.1 * (count + held_out), abs=1)


@pytest.mark.parametrize("field, value", [("prediction_ratio", 1.0), ("max_span_length", 0),
                                          ("max_predictions", 0), ("validation_fraction", 1.0),
                                          ("seq_length", 4)])
def test_bad_config(field, value):
    with pytest.raises(ValueError, match=f"{field}={value!r}"):
        XLNetPretrainingData(corpus="c.txt", **{field: value})
