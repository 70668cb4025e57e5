"""GELU with a recomputed gradient: Keras' values, the formula's derivative, autodiff's gradient."""

import math

import keras
import numpy as np
import pytest
from keras import ops

from tests.testing import assert_allclose, random_inputs, to_numpy
from tfzoo.layers import FeedForward
from tfzoo.layers.gelu import gelu, gelu_derivative, gelu_forward


def gradient(fn, x):
    """d sum(fn(x) * w) / dx for a fixed random w, on the active backend."""
    w = ops.convert_to_tensor(random_inputs(*x.shape, seed=7), x.dtype)
    backend = keras.backend.backend()
    if backend == "tensorflow":
        import tensorflow as tf

        with tf.GradientTape() as tape:
            tape.watch(x)
            loss = ops.sum(ops.cast(fn(x) * w, "float32"))
        return tape.gradient(loss, x)
    if backend == "jax":
        import jax

        return jax.grad(lambda x: ops.sum(ops.cast(fn(x) * w, "float32")))(x)
    pytest.skip(f"no gradient helper for {backend}")


def reference_derivative(x, approximate):
    """Central difference of the textbook GELU in float64."""
    def f(x):
        if approximate:
            return 0.5 * x * (1 + np.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x**3)))
        erf = np.vectorize(math.erf)
        return 0.5 * x * (1 + erf(x / math.sqrt(2)))
    h = 1e-5
    return (f(x + h) - f(x - h)) / (2 * h)


@pytest.mark.parametrize("approximate", [False, True], ids=["erf", "tanh"])
def test_derivative_is_the_formulas(approximate):
    x = np.linspace(-6, 6, 241)
    assert_allclose(gelu_derivative(ops.convert_to_tensor(x, "float32"), approximate),
                    reference_derivative(x, approximate), atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("approximate", [False, True], ids=["erf", "tanh"])
def test_values_and_gradient_equal_keras_autodiff(approximate):
    x = ops.convert_to_tensor(3 * random_inputs(4, 32), "float32")
    keras_gelu = lambda x: keras.activations.gelu(x, approximate=approximate)  # noqa: E731
    ours = lambda x: gelu(x, approximate=approximate)  # noqa: E731
    assert_allclose(ours(x), keras_gelu(x), atol=1e-6, rtol=1e-6)
    got, want = gradient(ours, x), gradient(keras_gelu, x)
    assert_allclose(got, want, atol=1e-5, rtol=1e-5)  # float32 rounding of tiny tails
    # The other form's gradient differs: the comparison can fail.
    other = gradient(lambda x: keras.activations.gelu(x, approximate=not approximate), x)
    assert np.abs(to_numpy(got) - to_numpy(other)).max() > 1e-4


def textbook_gelu(x, approximate):
    x = np.asarray(x, "float64")
    if approximate:
        return 0.5 * x * (1 + np.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x**3)))
    return 0.5 * x * (1 + np.vectorize(math.erf)(x / math.sqrt(2)))


@pytest.mark.parametrize("approximate", [False, True], ids=["erf", "tanh"])
def test_forward_is_the_formula_and_keras(approximate):
    x = np.linspace(-8, 8, 641).astype("float32")
    ours = to_numpy(gelu_forward(ops.convert_to_tensor(x), approximate))
    assert_allclose(ours, textbook_gelu(x, approximate), atol=1e-6, rtol=1e-6)
    assert_allclose(ours, keras.activations.gelu(x, approximate=approximate), atol=1e-6,
                    rtol=1e-6)
    # The other form differs by more than the tolerance: the comparison can fail.
    assert np.abs(ours - textbook_gelu(x, not approximate)).max() > 1e-4


def test_bfloat16_forward_is_the_float32_value_rounded():
    x = ops.cast(ops.convert_to_tensor(3 * random_inputs(64, 32), "float32"), "bfloat16")
    got = gelu_forward(x)
    assert keras.backend.standardize_dtype(got.dtype) == "bfloat16"
    want = ops.cast(gelu_forward(ops.cast(x, "float32")), "bfloat16")
    assert_allclose(ops.cast(got, "float32"), ops.cast(want, "float32"), atol=0, rtol=0)


def test_bfloat16_gradient_keeps_the_dtype_and_is_close():
    x32 = ops.convert_to_tensor(3 * random_inputs(4, 32), "float32")
    x16 = ops.cast(x32, "bfloat16")
    got = gradient(gelu, x16)
    assert keras.backend.standardize_dtype(got.dtype) == "bfloat16"
    want = gradient(gelu, ops.cast(x16, "float32"))
    assert_allclose(ops.cast(got, "float32"), want, atol=2e-2, rtol=2e-2)


@pytest.mark.parametrize("activation", ["gelu", "gelu_approximate", "relu"])
def test_feed_forward_training_gradients_equal_plain_dense_layers(activation):
    """FeedForward's training path against Dense(activation) -> Dense with its weights."""
    ffn = FeedForward(intermediate_dim=16, activation=activation)
    x = ops.convert_to_tensor(random_inputs(2, 3, 8), "float32")
    ffn(x)
    first = keras.layers.Dense(16, activation=ffn.activation)
    second = keras.layers.Dense(8)
    first(x)
    second(first(x))
    first.set_weights(ffn.intermediate_dense.get_weights())
    second.set_weights(ffn.output_dense.get_weights())
    assert_allclose(ffn(x, training=True), second(first(x)), atol=1e-6)
    assert_allclose(ffn(x, training=False), second(first(x)), atol=1e-6)
    assert_allclose(gradient(lambda x: ffn(x, training=True), x),
                    gradient(lambda x: second(first(x)), x), atol=1e-5, rtol=1e-5)
