"""XLNet's own layers: the block's contract, the two streams' masks, the query
stream's input."""

import numpy as np
import pytest

from tests.testing import random_inputs, run_layer_test, to_numpy
from tfzoo.models.xlnet.xlnet_block import XLNetBlock
from tfzoo.models.xlnet.xlnet_masks import XLNetMasks
from tfzoo.models.xlnet.xlnet_query_embedding import XLNetQueryEmbedding

B, T, M, D = 2, 5, 3, 8


@pytest.mark.parametrize("stream", ["content", "query"])
def test_block_contract(stream):
    content = random_inputs(B, T, D, seed=1)
    inputs = {"inputs": content if stream == "content" else random_inputs(B, 2, D),
              "content": content,
              "position_encoding": random_inputs(B, M + 2 * T, D, seed=2),
              "attention_mask": np.ones((B, T, M + T), bool),
              "segment_matrix": np.zeros((B, T, M + T), bool),
              "memory": random_inputs(B, M, D, seed=3)}
    if stream == "query":
        inputs["target_mapping"] = np.eye(T, dtype="float32")[[1, 3]][None].repeat(B, 0)
    run_layer_test(XLNetBlock, {"num_heads": 2, "intermediate_dim": 16, "activation": "gelu"},
                   inputs, expected_output_shapes=[inputs["inputs"].shape])


def test_masks():
    input_mask = np.array([[0, 1, 1, 1], [1, 1, 1, 1]], "int32")
    types = np.array([[3, 0, 1, 2], [0, 0, 1, 1]], "int32")
    perm_mask = np.zeros((2, 4, 4), "float32")
    perm_mask[:, :, 2] = 1  # nobody may see position 2 (the last in the order)
    masks = {k: to_numpy(v) for k, v in XLNetMasks()(
        input_mask, types, perm_mask=perm_mask, memory=np.zeros((2, 2, 8), "float32")).items()}
    query, content, segments = masks["query_mask"], masks["content_mask"], masks["segment_matrix"]
    assert query.shape == content.shape == segments.shape == (2, 4, 6)
    assert query[:, :, :2].all() and content[:, :, :2].all()  # the memory is always visible
    assert not query[0, :, 2].any()  # padding
    assert not query[:, :, 4].any()  # perm_mask
    np.testing.assert_array_equal(content[:, 2, 4], [True, True])  # ... but itself it sees
    np.testing.assert_array_equal(content[:, :, 2:] & ~query[:, :, 2:],
                                  np.eye(4, dtype=bool)[None] & ~query[:, :, 2:])
    # Segments: memory counts as segment 0.
    np.testing.assert_array_equal(segments[1, 0], [False, False, False, False, True, True])
    np.testing.assert_array_equal(segments[0, 2], [True, True, True, True, False, True])


def test_query_embedding():
    layer = XLNetQueryEmbedding(8, initializer="random_normal")
    query = to_numpy(layer(np.zeros((2, 3, 5), "float32")))
    assert query.shape == (2, 3, 8)
    np.testing.assert_array_equal(query, np.broadcast_to(to_numpy(layer.embedding), (2, 3, 8)))
    with pytest.raises(ValueError, match=r"target_mapping.shape=\(2, 3\)"):
        layer(np.zeros((2, 3), "float32"))
