"""TokenAndPositionEmbedding in its BERT, Transformer and GPT configurations."""

import math

import numpy as np
import pytest

from tests.layers.test_sinusoidal_position_encoding import paper_table
from tests.testing import assert_allclose, run_layer_test, to_numpy
from tfzoo.layers import TokenAndPositionEmbedding

B, T, V, D = 2, 6, 11, 8
IDS = np.random.default_rng(0).integers(0, V, size=(B, T)).astype("int32")
TYPES = (np.arange(T)[None, :] >= 3).astype("int32").repeat(B, axis=0)

BERT = dict(vocabulary_size=V, sequence_length=16, embedding_dim=D, type_vocabulary_size=2,
            use_layer_norm=True, dropout=0.1)
TRANSFORMER = dict(vocabulary_size=V, sequence_length=16, embedding_dim=D,
                   position_encoding="sinusoidal", scale_embeddings=True)
GPT = dict(vocabulary_size=V, sequence_length=16, embedding_dim=D, dropout=0.1)


@pytest.mark.parametrize(
    "kwargs, inputs",
    [
        (BERT, {"token_ids": IDS, "token_type_ids": TYPES}),
        (TRANSFORMER, {"token_ids": IDS}),
        (GPT, {"token_ids": IDS}),
    ],
    ids=["bert", "transformer", "gpt"],
)
def test_layer_contract(kwargs, inputs):
    run_layer_test(TokenAndPositionEmbedding, kwargs, inputs, expected_output_shapes=[(B, T, D)])


def layer_norm(x, gamma, beta, epsilon):
    mean = x.mean(-1, keepdims=True)
    variance = x.var(-1, keepdims=True)
    return (x - mean) / np.sqrt(variance + epsilon) * gamma + beta


def test_bert_embeddings_equal_reference():
    layer = TokenAndPositionEmbedding(**BERT)
    output = layer(IDS, token_type_ids=TYPES)
    tokens = to_numpy(layer.token_embedding.embeddings)
    positions = to_numpy(layer.position_embedding.position_embeddings)
    types = to_numpy(layer.type_embedding.embeddings)
    summed = tokens[IDS] + positions[None, :T] + types[TYPES]
    gamma, beta = (to_numpy(w) for w in layer.layer_norm.weights)
    assert_allclose(output, layer_norm(summed, gamma, beta, 1e-12), atol=1e-5)


def test_transformer_embeddings_equal_reference():
    layer = TokenAndPositionEmbedding(**TRANSFORMER)
    output = layer(IDS, start_index=3)
    tokens = to_numpy(layer.token_embedding.embeddings)
    expected = tokens[IDS] * math.sqrt(D) + paper_table(T, D, start=3)[None]
    assert_allclose(output, expected, atol=1e-5)


def test_tied_output_projection():
    layer = TokenAndPositionEmbedding(**GPT)
    hidden = layer(IDS)
    logits = layer.token_embedding(hidden, reverse=True)
    expected = to_numpy(hidden) @ to_numpy(layer.token_embedding.embeddings).T
    assert_allclose(logits, expected, atol=1e-5)


def test_bad_arguments():
    with pytest.raises(ValueError, match="position_encoding='rotary'"):
        TokenAndPositionEmbedding(V, 16, D, position_encoding="rotary")
    with pytest.raises(ValueError, match="vocabulary_size=0"):
        TokenAndPositionEmbedding(0, 16, D)
    with pytest.raises(ValueError, match="type_vocabulary_size=-1"):
        TokenAndPositionEmbedding(V, 16, D, type_vocabulary_size=-1)
    with pytest.raises(ValueError, match="token_type_ids` are required"):
        TokenAndPositionEmbedding(**BERT)(IDS)
    with pytest.raises(ValueError, match="no segment embeddings"):
        TokenAndPositionEmbedding(**GPT)(IDS, token_type_ids=TYPES)
