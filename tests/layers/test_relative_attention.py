"""RelativeAttention against Transformer-XL's score formula written out pair by
pair, the relative shift, masks, and argument checks."""

import numpy as np
import pytest

from tests.testing import assert_allclose, random_inputs, run_layer_test, to_numpy
from tfzoo.layers import RelativeAttention

B, T, M, D, H, K = 2, 5, 3, 8, 2, 4
S = M + T


def attention_inputs(seed=0):
    rng = np.random.default_rng(seed)
    mask = rng.random((B, T, S)) < 0.7
    mask[:, :, 0] = True  # every query sees something
    segments = np.concatenate([np.zeros((B, M), int), rng.integers(0, 2, (B, T))], axis=1)
    return {
        "query": random_inputs(B, T, D, seed=seed),
        "content": random_inputs(B, S, D, seed=seed + 1),
        "position_encoding": random_inputs(B, S + T, D, seed=seed + 2),
        "attention_mask": mask,
        "segment_matrix": segments[:, M:, None] != segments[:, None, :],
    }


def test_layer_contract():
    run_layer_test(RelativeAttention, {"num_heads": H, "key_dim": K, "use_segment_encoding": True},
                   attention_inputs(), expected_output_shapes=[(B, T, D)])


def test_layer_contract_without_segments_with_dropout():
    inputs = attention_inputs()
    del inputs["segment_matrix"]
    run_layer_test(RelativeAttention, {"num_heads": H, "key_dim": K, "dropout": 0.1},
                   inputs, expected_output_shapes=[(B, T, D)])


def reference(layer, inputs):
    """Transformer-XL, section 3.3, one (query i, key j) pair at a time: the
    position term uses the encoding of the distance i - j, with query i at
    absolute position M + i; row c of the encodings is the distance S - c."""
    weights = {w.path.split("/", 1)[1]: to_numpy(w) for w in layer.weights}
    wq, wk, wv = (weights[f"{n}/kernel"] for n in ("query", "key", "value"))
    wr, wo = weights["position/kernel"], weights["attention_output/kernel"]
    u, v = weights["content_bias"], weights["position_bias"]
    b, segment = weights["segment_bias"], weights["segment_embedding"]
    output = np.zeros((B, T, D))
    for batch in range(B):
        q = np.einsum("td,dhk->thk", inputs["query"][batch], wq)
        k = np.einsum("sd,dhk->shk", inputs["content"][batch], wk)
        val = np.einsum("sd,dhk->shk", inputs["content"][batch], wv)
        r = np.einsum("rd,dhk->rhk", inputs["position_encoding"][batch], wr)
        heads = np.zeros((T, H, K))
        for h in range(H):
            for i in range(T):
                scores = np.empty(S)
                for j in range(S):
                    distance = (M + i) - j
                    row = S - distance
                    different = inputs["segment_matrix"][batch, i, j]
                    scores[j] = ((q[i, h] + u[h]) @ k[j, h] + (q[i, h] + v[h]) @ r[row, h]
                                 + (q[i, h] + b[h]) @ segment[int(different), h])
                scores = scores / np.sqrt(K)
                scores = np.where(inputs["attention_mask"][batch, i], scores, -np.inf)
                probabilities = np.exp(scores - scores.max())
                probabilities /= probabilities.sum()
                heads[i, h] = probabilities @ val[:, h]
        output[batch] = np.einsum("thk,hkd->td", heads, wo)
    return output


def test_equals_the_formula_pair_by_pair():
    layer = RelativeAttention(num_heads=H, key_dim=K, use_segment_encoding=True,
                              bias_initializer="random_normal")
    inputs = attention_inputs(seed=3)
    output = layer(**inputs)
    assert_allclose(output, reference(layer, inputs), atol=1e-5, rtol=1e-5)


def test_relative_shift_reads_each_keys_distance():
    # Column c holds the distance S - c; after the shift, [i, j] must hold the
    # distance from key j to query i, (S - T) + i - j.
    distances = S - np.arange(S + T, dtype="float32")
    scores = np.broadcast_to(distances, (B, H, T, S + T))
    shifted = to_numpy(RelativeAttention.relative_shift(scores, S))
    expected = (S - T) + np.arange(T)[:, None] - np.arange(S)[None, :]
    np.testing.assert_array_equal(shifted, np.broadcast_to(expected, (B, H, T, S)))


def test_masked_keys_do_not_matter():
    layer = RelativeAttention(num_heads=H, key_dim=K)
    inputs = attention_inputs()
    del inputs["segment_matrix"]
    inputs["attention_mask"][:, :, 1] = False  # no query may see key 1
    changed = dict(inputs, content=inputs["content"].copy())
    changed["content"][:, 1] += 5.0
    assert_allclose(layer(**inputs), layer(**changed), atol=1e-6)
    changed["content"][:, 0] += 5.0  # key 0 is visible: the output moves
    assert not np.allclose(to_numpy(layer(**inputs)), to_numpy(layer(**changed)), atol=1e-3)


def test_bad_arguments():
    with pytest.raises(ValueError, match="num_heads=0"):
        RelativeAttention(num_heads=0, key_dim=4)
    with pytest.raises(ValueError, match="use_segment_encoding='yes'"):
        RelativeAttention(num_heads=2, key_dim=4, use_segment_encoding="yes")
    layer = RelativeAttention(num_heads=H, key_dim=K, use_segment_encoding=True)
    inputs = attention_inputs()
    with pytest.raises(ValueError, match="segment_matrix"):
        layer(inputs["query"], inputs["content"], inputs["position_encoding"])
    with pytest.raises(ValueError, match=r"attention_mask.shape=\(2, 8\)"):
        layer(inputs["query"], inputs["content"], inputs["position_encoding"],
              attention_mask=np.ones((2, 8), bool), segment_matrix=inputs["segment_matrix"])
