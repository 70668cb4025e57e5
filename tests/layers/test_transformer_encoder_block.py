"""TransformerEncoderBlock against keras-hub's TransformerEncoder, and its masks."""

import keras_hub
import numpy as np
import pytest

from tests.testing import (
    assert_allclose,
    copy_weights_by_path,
    random_inputs,
    run_layer_test,
    to_numpy,
)
from tfzoo.layers import TransformerEncoderBlock

B, T, D = 2, 6, 8
PADDING = (np.arange(T)[None, :] < np.array([[4], [6]])).astype("int32")

# keras-hub names -> tfzoo names.
KERAS_HUB_RENAMES = [
    ("self_attention_layer/", "self_attention/"),
    ("feedforward_layer_norm", "feed_forward_layer_norm"),
    ("feedforward_intermediate_dense", "feed_forward/intermediate_dense"),
    ("feedforward_output_dense", "feed_forward/output_dense"),
]


@pytest.mark.parametrize("normalize_first", [False, True])
def test_layer_contract(normalize_first):
    run_layer_test(
        TransformerEncoderBlock,
        {"num_heads": 2, "intermediate_dim": 16, "normalize_first": normalize_first},
        {"inputs": random_inputs(B, T, D), "padding_mask": PADDING},
        expected_output_shapes=[(B, T, D)],
    )


@pytest.mark.parametrize("normalize_first", [False, True], ids=["post_ln", "pre_ln"])
@pytest.mark.parametrize("activation", ["relu", "gelu"])
def test_matches_keras_hub_encoder(normalize_first, activation):
    kwargs = dict(num_heads=2, intermediate_dim=16, activation=activation,
                  normalize_first=normalize_first, layer_norm_epsilon=1e-12)
    theirs = keras_hub.layers.TransformerEncoder(**kwargs)
    ours = TransformerEncoderBlock(**kwargs)
    x = random_inputs(B, T, D)
    theirs(x)
    ours(x)
    copy_weights_by_path(theirs, ours, KERAS_HUB_RENAMES)
    assert_allclose(ours(x, padding_mask=PADDING), theirs(x, padding_mask=PADDING), atol=1e-5)
    # An explicit attention mask too (block-diagonal: two halves).
    halves = np.zeros((B, T, T), "int32")
    halves[:, :3, :3] = halves[:, 3:, 3:] = 1
    assert_allclose(ours(x, attention_mask=halves), theirs(x, attention_mask=halves), atol=1e-5)


def test_padded_keys_do_not_change_unpadded_outputs():
    block = TransformerEncoderBlock(num_heads=2, intermediate_dim=16)
    x = random_inputs(B, T, D)
    changed = x.copy()
    changed[0, 4:] = 50.0
    before = to_numpy(block(x, padding_mask=PADDING))
    after = to_numpy(block(changed, padding_mask=PADDING))
    np.testing.assert_allclose(after[0, :4], before[0, :4], atol=1e-5)
    np.testing.assert_allclose(after[1], before[1], atol=1e-5)
    unmasked = to_numpy(block(changed))
    assert not np.allclose(unmasked[0, :4], before[0, :4], atol=1e-3)


def test_bad_arguments():
    with pytest.raises(ValueError, match=r"width \(8\) must be divisible by num_heads \(3\)"):
        TransformerEncoderBlock(num_heads=3, intermediate_dim=16)(random_inputs(B, T, D))
    with pytest.raises(ValueError, match=r"padding_mask.shape=\(2, 1, 6\)"):
        TransformerEncoderBlock(num_heads=2, intermediate_dim=16)(
            random_inputs(B, T, D), padding_mask=PADDING[:, None, :]
        )
    with pytest.raises(ValueError, match="layer_norm_epsilon=0"):
        TransformerEncoderBlock(num_heads=2, intermediate_dim=16, layer_norm_epsilon=0)
    with pytest.raises(ValueError, match="attention_dropout=2"):
        TransformerEncoderBlock(num_heads=2, intermediate_dim=16, attention_dropout=2)
