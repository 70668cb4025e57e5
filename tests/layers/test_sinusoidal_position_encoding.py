"""SinusoidalPositionEncoding against the paper's formula (section 3.5)."""

import math

import numpy as np
import pytest

from tests.testing import assert_allclose, random_inputs, run_layer_test
from tfzoo.layers import SinusoidalPositionEncoding


def paper_table(length, width, max_wavelength=10000, start=0):
    """PE(pos, 2i) = sin(pos / 10000^(2i/d)); PE(pos, 2i+1) = cos(pos / 10000^(2i/d))."""
    table = np.zeros((length, width))
    for pos in range(start, start + length):
        for i in range(0, width, 2):
            angle = pos / max_wavelength ** (i / width)
            table[pos - start, i] = math.sin(angle)
            if i + 1 < width:
                table[pos - start, i + 1] = math.cos(angle)
    return table


def test_layer_contract():
    run_layer_test(
        SinusoidalPositionEncoding,
        {"max_wavelength": 10000},
        {"inputs": random_inputs(2, 6, 8)},
        expected_output_shapes=[(2, 6, 8)],
    )


@pytest.mark.parametrize("width", [16, 7])
def test_equals_paper_formula(width):
    x = random_inputs(3, 50, width)
    encoding = SinusoidalPositionEncoding()(x)
    expected = np.broadcast_to(paper_table(50, width), (3, 50, width))
    assert_allclose(encoding, expected, atol=2e-5)


def test_start_index_and_wavelength():
    x = random_inputs(1, 4, 8)
    encoding = SinusoidalPositionEncoding(max_wavelength=100)(x, start_index=9)
    assert_allclose(encoding[0], paper_table(4, 8, max_wavelength=100, start=9), atol=2e-5)


def test_bad_arguments():
    with pytest.raises(ValueError, match="max_wavelength=0"):
        SinusoidalPositionEncoding(max_wavelength=0)
    with pytest.raises(ValueError, match=r"inputs.shape=\(2, 8\)"):
        SinusoidalPositionEncoding()(random_inputs(2, 8))
