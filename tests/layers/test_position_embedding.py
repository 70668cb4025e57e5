"""PositionEmbedding: learned table lookups."""

import pytest

from tests.testing import assert_allclose, random_inputs, run_layer_test, to_numpy
from tfzoo.layers import PositionEmbedding


def test_layer_contract():
    run_layer_test(
        PositionEmbedding,
        {"sequence_length": 10},
        {"inputs": random_inputs(2, 6, 8)},
        expected_output_shapes=[(2, 6, 8)],
    )


def test_returns_rows_of_the_table():
    layer = PositionEmbedding(sequence_length=10)
    x = random_inputs(2, 4, 8)
    output = layer(x)
    table = to_numpy(layer.position_embeddings)
    assert_allclose(output[0], table[:4])
    assert_allclose(output[1], table[:4])
    assert_allclose(layer(x, start_index=5)[0], table[5:9])


def test_bad_arguments():
    with pytest.raises(ValueError, match="sequence_length=-3"):
        PositionEmbedding(sequence_length=-3)
    with pytest.raises(ValueError, match="length 12 is longer than sequence_length=10"):
        PositionEmbedding(sequence_length=10)(random_inputs(2, 12, 8))
