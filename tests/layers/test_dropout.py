"""tfzoo.layers.Dropout: Keras dropout semantics with hash-based masks."""

import keras
import numpy as np
import pytest

from tests.testing import to_numpy
from tfzoo.layers import Dropout
from tfzoo.layers.dropout import fmix32, hash_bits

SHAPE = (16, 128, 384)  # 786,432 elements
N = int(np.prod(SHAPE))


def fmix32_reference(x):
    """murmur3's fmix32 on Python integers (Appleby's MurmurHash3.cpp)."""
    x ^= x >> 16
    x = (x * 0x85EBCA6B) & 0xFFFFFFFF
    x ^= x >> 13
    x = (x * 0xC2B2AE35) & 0xFFFFFFFF
    return x ^ (x >> 16)


def test_fmix32_matches_murmur3():
    values = [0, 1, 2, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFF, 123456789, 0xDEADBEEF]
    got = to_numpy(fmix32(keras.ops.convert_to_tensor(np.array(values, "uint32"))))
    assert got.tolist() == [fmix32_reference(v) for v in values]


def test_bits_are_uniform():
    bits = to_numpy(hash_bits((N,), np.array([7, 0])))
    assert len(np.unique(bits)) > 0.99 * N
    counts = np.bincount(bits >> 24, minlength=256)  # top byte
    expected = N / 256
    chi2 = ((counts - expected) ** 2 / expected).sum()
    assert chi2 < 340, chi2  # 255 degrees of freedom: p ~ 1e-3
    low = np.bincount(bits & 255, minlength=256)  # bottom byte too
    assert ((low - expected) ** 2 / expected).sum() < 340


@pytest.mark.parametrize("rate", [0.1, 0.5])
def test_training_drops_rate_and_rescales(rate):
    x = np.random.default_rng(0).uniform(1, 2, SHAPE).astype("float32")
    y = to_numpy(Dropout(rate, seed=3)(x, training=True))
    kept = y != 0
    # Binomial: 5 standard deviations.
    assert abs(kept.mean() - (1 - rate)) < 5 * np.sqrt(rate * (1 - rate) / N)
    np.testing.assert_allclose(y[kept], x[kept] / (1 - rate), rtol=1e-6)


def test_masks_are_fresh_per_call_and_uncorrelated():
    layer = Dropout(0.5, seed=1)
    x = np.ones(SHAPE, "float32")
    first = to_numpy(layer(x, training=True)) == 0
    second = to_numpy(layer(x, training=True)) == 0
    both = (first & second).mean()  # independent masks: 0.25
    assert abs(both - 0.25) < 5 * np.sqrt(0.25 * 0.75 / N)
    flat = first.ravel().astype("float64")
    for lag in (1, 2, 384, 128 * 384):  # neighbours, rows, batch entries
        assert abs(np.corrcoef(flat[:-lag], flat[lag:])[0, 1]) < 0.01, lag


def test_same_seed_same_masks_different_seed_different():
    x = np.ones((4, 64), "float32")
    a = to_numpy(Dropout(0.5, seed=11)(x, training=True))
    b = to_numpy(Dropout(0.5, seed=11)(x, training=True))
    c = to_numpy(Dropout(0.5, seed=12)(x, training=True))
    np.testing.assert_array_equal(a, b)
    assert (a != c).any()


def test_inference_and_rate_zero_are_identity():
    x = np.random.default_rng(1).normal(size=(3, 5)).astype("float32")
    np.testing.assert_array_equal(to_numpy(Dropout(0.3)(x, training=False)), x)
    np.testing.assert_array_equal(to_numpy(Dropout(0.0)(x, training=True)), x)


def test_same_statistics_as_keras_dropout():
    """Mean and variance of the output match keras.layers.Dropout's."""
    x = np.random.default_rng(2).normal(1.0, 1.0, SHAPE).astype("float32")
    ours = to_numpy(Dropout(0.1, seed=5)(x, training=True))
    theirs = to_numpy(keras.layers.Dropout(0.1, seed=5)(x, training=True))
    np.testing.assert_allclose(ours.mean(), theirs.mean(), atol=0.01)
    np.testing.assert_allclose(ours.var(), theirs.var(), rtol=0.01)


def test_bfloat16_inputs_keep_their_dtype():
    layer = Dropout(0.1, seed=0, dtype="bfloat16")
    y = layer(keras.ops.ones((4, 8), "bfloat16"), training=True)
    assert keras.backend.standardize_dtype(y.dtype) == "bfloat16"


def test_serializes_and_keeps_noise_shape_semantics():
    layer = Dropout(0.5, noise_shape=(1, 8), seed=0)
    restored = Dropout.from_config(layer.get_config())
    assert restored.get_config() == layer.get_config()
    y = to_numpy(restored(np.ones((6, 8), "float32"), training=True))
    assert (y == y[:1]).all()  # one mask broadcast over the batch (Keras' path)


@pytest.mark.skipif(keras.backend.backend() != "tensorflow", reason="TensorFlow graphs only")
def test_unknown_dimensions_in_a_tensorflow_graph():
    import tensorflow as tf

    layer = Dropout(0.5, seed=0)
    fn = tf.function(lambda x: layer(x, training=True),
                     input_signature=[tf.TensorSpec([None, None], tf.float32)])
    y = fn(tf.ones((300, 70))).numpy()
    assert y.shape == (300, 70) and abs((y == 0).mean() - 0.5) < 0.02


def test_more_elements_than_int32_indexes_is_an_error_naming_the_shape():
    with pytest.raises(ValueError, match=r"shape=\(65536, 32768\)"):
        hash_bits((65536, 32768), np.array([0, 0]))
