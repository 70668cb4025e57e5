"""FeedForward against a NumPy reference of section 3.3."""

import math

import numpy as np
import pytest

from tests.testing import assert_allclose, random_inputs, run_layer_test, to_numpy
from tfzoo.layers import FeedForward

_erf = np.vectorize(math.erf)


def gelu(x):
    return 0.5 * x * (1.0 + _erf(x / math.sqrt(2.0)))


def gelu_tanh(x):
    return 0.5 * x * (1.0 + np.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * x**3)))


def test_layer_contract():
    run_layer_test(
        FeedForward,
        {"intermediate_dim": 16, "dropout": 0.1},
        {"inputs": random_inputs(2, 5, 8)},
        expected_output_shapes=[(2, 5, 8)],
    )


@pytest.mark.parametrize(
    "activation, reference",
    [("relu", lambda x: np.maximum(x, 0)), ("gelu", gelu), ("gelu_approximate", gelu_tanh)],
)
def test_equals_reference(activation, reference):
    layer = FeedForward(intermediate_dim=16, activation=activation, output_dim=6)
    x = random_inputs(2, 5, 8)
    output = layer(x)
    w1, b1, w2, b2 = (to_numpy(w).astype("float64") for w in layer.weights)
    expected = reference(x @ w1 + b1) @ w2 + b2
    assert output.shape == (2, 5, 6)
    assert_allclose(output, expected, atol=1e-5)


def test_bad_arguments():
    with pytest.raises(ValueError, match="intermediate_dim=0"):
        FeedForward(intermediate_dim=0)
    with pytest.raises(ValueError, match="'swishy'"):
        FeedForward(intermediate_dim=4, activation="swishy")
