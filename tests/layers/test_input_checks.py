"""Inputs that do not fit a layer are errors naming the argument, on every
backend (JAX would otherwise clamp a position or broadcast a mask silently)."""

import numpy as np
import pytest

from tfzoo.layers import (MultiHeadAttention, PositionEmbedding, TokenAndPositionEmbedding,
                          TransformerEncoderBlock)

X = np.random.default_rng(0).normal(size=(2, 4, 8)).astype("float32")


def test_positions_past_the_table_are_an_error():
    layer = PositionEmbedding(8)
    assert layer(X, start_index=4).shape == (2, 4, 8)  # positions 4-7 fit
    with pytest.raises(ValueError, match="start_index=6 to 9.*sequence_length=8"):
        layer(X, start_index=6)
    with pytest.raises(ValueError, match="start_index=-1"):
        layer(X, start_index=-1)


@pytest.mark.parametrize("position_encoding", ["learned", "sinusoidal"])
def test_token_and_position_embedding_checks_its_length(position_encoding):
    layer = TokenAndPositionEmbedding(20, 4, 8, type_vocabulary_size=0,
                                      position_encoding=position_encoding)
    ids = np.ones((2, 4), "int32")
    assert layer(ids).shape == (2, 4, 8)
    with pytest.raises(ValueError, match="sequence_length=4"):
        layer(np.ones((2, 6), "int32"))


@pytest.mark.parametrize("mask_shape", [(2, 5), (2, 4, 6), (2, 3, 4), (2, 1), (3, 4)])
def test_attention_masks_of_the_wrong_shape_name_it(mask_shape):
    layer = MultiHeadAttention(num_heads=2, key_dim=4)
    with pytest.raises(ValueError, match=r"attention_mask.*Received: attention_mask.shape"):
        layer(X, X, attention_mask=np.ones(mask_shape, "bool"))


def test_attention_masks_that_fit():
    layer = MultiHeadAttention(num_heads=2, key_dim=4)
    for shape in [(2, 4), (2, 4, 4), (1, 4, 4), (2, 1, 4)]:  # size 1: broadcast
        assert layer(X, X, attention_mask=np.ones(shape, "bool")).shape == (2, 4, 8)


def test_encoder_block_takes_x_and_checks_the_padding_mask():
    block = TransformerEncoderBlock(num_heads=2, intermediate_dim=16)
    assert block(x=X, padding_mask=np.ones((2, 4), "bool")).shape == (2, 4, 8)
    with pytest.raises(ValueError, match=r"padding_mask.*\(4\)"):
        block(X, padding_mask=np.ones((2, 7), "bool"))
    with pytest.raises(ValueError, match=r"`padding_mask` must have one row per sequence.*\(2\)"):
        block(X, padding_mask=np.ones((3, 4), "bool"))


def test_masks_as_python_lists():
    layer = MultiHeadAttention(num_heads=2, key_dim=4)
    listed = [[True, True, True, False], [True, True, False, False]]
    expected = layer(X, X, attention_mask=np.array(listed))
    np.testing.assert_allclose(layer(X, X, attention_mask=listed), expected, atol=1e-6)
    block = TransformerEncoderBlock(num_heads=2, intermediate_dim=16)
    np.testing.assert_allclose(block(X, padding_mask=listed),
                               block(X, padding_mask=np.array(listed)), atol=1e-6)


def test_decoder_block_names_its_padding_masks():
    from tfzoo.layers import TransformerDecoderBlock

    block = TransformerDecoderBlock(num_heads=2, intermediate_dim=16)
    encoded = np.zeros((2, 5, 8), "float32")
    assert block(X, encoded).shape == (2, 4, 8)
    with pytest.raises(ValueError, match=r"`decoder_padding_mask` must have one row"):
        block(X, encoded, decoder_padding_mask=np.ones((1, 4), "bool"))
    with pytest.raises(ValueError, match=r"`encoder_padding_mask` must have one row"):
        block(X, encoded, encoder_padding_mask=np.ones((3, 5), "bool"))
