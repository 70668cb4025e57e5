"""RelativePositionEncoding against Transformer-XL's formula: distances, memory,
clamping and XLNet's bidirectional batches."""

import math

import numpy as np
import pytest

from tests.testing import assert_allclose, random_inputs, run_layer_test
from tfzoo.layers import RelativePositionEncoding


def formula(distances, width, base=10000):
    """R[d] = [sin(d / base^(2j/D)) for j < D/2] + [cos(...) for j < D/2]."""
    table = np.zeros((len(distances), width))
    for row, d in enumerate(distances):
        for j in range(width // 2):
            angle = d / base ** (2 * j / width)
            table[row, j], table[row, width // 2 + j] = math.sin(angle), math.cos(angle)
    return table


def test_layer_contract():
    run_layer_test(RelativePositionEncoding, {"clamp_length": 4},
                   {"inputs": random_inputs(2, 6, 8)},
                   expected_output_shapes=[(2, 12, 8)], run_fit=False)


def test_distances_with_and_without_memory():
    x = random_inputs(2, 5, 16)
    # S = T = 5 keys: distances 5, 4, ..., -4.
    assert_allclose(RelativePositionEncoding()(x)[1], formula(range(5, -5, -1), 16), atol=2e-5)
    # 3 memory positions: S = 8, distances 8, ..., -4.
    encoding = RelativePositionEncoding()(x, memory=random_inputs(2, 3, 16))
    assert encoding.shape == (2, 13, 16)
    assert_allclose(encoding[0], formula(range(8, -5, -1), 16), atol=2e-5)


def test_clamping_and_bidirectional_batches():
    x = random_inputs(3, 4, 8)
    encoding = RelativePositionEncoding(clamp_length=2, bidirectional=True)(x)
    distances = np.clip(np.arange(4, -4, -1), -2, 2)
    forward, backward = formula(distances, 8), formula(-distances, 8)
    # The first ceil(B/2) rows read forwards, the others backwards.
    for row, expected in enumerate((forward, forward, backward)):
        assert_allclose(encoding[row], expected, atol=2e-5)


def test_bad_arguments():
    with pytest.raises(ValueError, match="clamp_length=-2"):
        RelativePositionEncoding(clamp_length=-2)
    with pytest.raises(ValueError, match="bidirectional=1"):
        RelativePositionEncoding(bidirectional=1)
    with pytest.raises(ValueError, match=r"inputs.shape=\(2, 8\)"):
        RelativePositionEncoding()(random_inputs(2, 8))
    with pytest.raises(ValueError, match="even"):
        RelativePositionEncoding()(random_inputs(2, 4, 7))
