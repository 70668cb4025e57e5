"""ReversibleEmbedding: Keras' tied embedding, with a padded output projection under mixed precision."""

import keras
import numpy as np
import pytest
from keras import ops

from tests.testing import assert_allclose, random_inputs, run_layer_test, to_numpy
from tfzoo.layers import ReversibleEmbedding


def test_layer_contract():
    # The reverse direction keeps Keras' dtype rules (float32 hidden states
    # promote the product), which the helper's mixed-precision check does not
    # expect; the tests below cover it against Keras' layer.
    run_layer_test(
        ReversibleEmbedding,
        {"input_dim": 10, "output_dim": 8},
        {"inputs": np.array([[1, 2, 9], [0, 3, 3]], "int32")},
        expected_output_shapes=[(2, 3, 8)],
    )


def _pair(dtype, vocabulary=101, width=16, **kwargs):
    """tfzoo's layer and Keras' own, built with the same table."""
    ours = ReversibleEmbedding(vocabulary, width, dtype=dtype, **kwargs)
    theirs = keras.layers.ReversibleEmbedding(vocabulary, width, dtype=dtype, **kwargs)
    ids = np.array([[1, 5, vocabulary - 1]])
    ours(ids), theirs(ids)
    theirs.set_weights(ours.get_weights())
    return ours, theirs


@pytest.mark.parametrize("dtype", ["float32", "mixed_bfloat16", "mixed_float16"])
def test_equals_keras_reversible_embedding(dtype):
    ours, theirs = _pair(dtype)
    assert ours._pads_reverse() == (dtype != "float32")  # only where a cast copy is made anyway
    hidden = ops.convert_to_tensor(random_inputs(2, 3, 16), ours.compute_dtype)
    got, want = ours(hidden, reverse=True), theirs(hidden, reverse=True)
    assert tuple(got.shape) == (2, 3, 101) and got.dtype == want.dtype
    # Zero rows add nothing: the kept logits are the same dot products.
    assert_allclose(ops.cast(got, "float32"), ops.cast(want, "float32"), atol=1e-2, rtol=1e-2)
    # Forward lookups are Keras' own.
    ids = np.array([[0, 7, 100]])
    assert_allclose(ops.cast(ours(ids), "float32"), ops.cast(theirs(ids), "float32"))


def test_gradient_reaches_only_real_rows():
    import tensorflow as tf

    if keras.backend.backend() != "tensorflow":
        pytest.skip("gradient taken with tf.GradientTape")
    ours, theirs = _pair("mixed_bfloat16")
    hidden = ops.convert_to_tensor(random_inputs(4, 16), "bfloat16")
    weights = ops.convert_to_tensor(random_inputs(4, 101, seed=1), "float32")
    grads = []
    for layer in (ours, theirs):
        with tf.GradientTape() as tape:
            logits = ops.cast(layer(hidden, reverse=True), "float32")
            loss = ops.sum(logits * weights)
        grads.append(to_numpy(tape.gradient(loss, layer.embeddings)))
    assert grads[0].shape == (101, 16)
    assert_allclose(grads[0], grads[1], atol=1e-2, rtol=1e-2)


def test_soft_cap_applies_on_the_padded_path():
    ours, theirs = _pair("mixed_bfloat16", logit_soft_cap=0.5)
    hidden = ops.convert_to_tensor(10 * random_inputs(2, 16), "bfloat16")
    got = to_numpy(ops.cast(ours(hidden, reverse=True), "float32"))
    want = to_numpy(ops.cast(theirs(hidden, reverse=True), "float32"))
    assert np.abs(got).max() <= 0.5
    assert_allclose(got, want, atol=2e-2, rtol=2e-2)


@pytest.mark.parametrize("dtype, kwargs", [
    ("float32", {}),
    ("float32", {"logit_soft_cap": 0.5}),
    ("bfloat16", {"reverse_dtype": "float32"}),
    ("float32", {"tie_weights": False}),
    ("mixed_bfloat16", {}),
], ids=["float32", "soft_cap", "reverse_dtype", "untied", "padded_mixed"])
def test_reverse_projection_equals_reverse_call(dtype, kwargs):
    ours, theirs = _pair(dtype, **kwargs)
    hidden = ops.convert_to_tensor(10 * random_inputs(2, 3, 16), ours.compute_dtype)
    got = ours.reverse_projection()(hidden)
    want = theirs(hidden, reverse=True)
    assert tuple(got.shape) == (2, 3, 101) and got.dtype == want.dtype
    tolerance = 1e-5 if dtype == "float32" else 2e-2
    assert_allclose(ops.cast(got, "float32"), ops.cast(want, "float32"), atol=tolerance,
                    rtol=tolerance)


def test_config_and_bad_arguments():
    layer = ReversibleEmbedding(10, 4, pad_to_multiple_of=128)
    assert ReversibleEmbedding.from_config(layer.get_config()).pad_to_multiple_of == 128
    assert not ReversibleEmbedding(128, 4, dtype="mixed_bfloat16")._pads_reverse()
    for bad in (0, -64, 2.5, True):
        with pytest.raises(ValueError, match=f"pad_to_multiple_of={bad!r}"):
            ReversibleEmbedding(10, 4, pad_to_multiple_of=bad)
