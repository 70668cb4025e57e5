"""TransformerDecoderBlock against keras-hub's TransformerDecoder, causality and caches."""

import keras_hub
import numpy as np
import pytest
from keras import ops

from tests.testing import (
    assert_allclose,
    copy_weights_by_path,
    random_inputs,
    run_layer_test,
    to_numpy,
)
from tfzoo.layers import TransformerDecoderBlock

B, T, S, D, H = 2, 5, 7, 8, 2
TARGET_PADDING = (np.arange(T)[None, :] < np.array([[3], [5]])).astype("int32")
SOURCE_PADDING = (np.arange(S)[None, :] < np.array([[7], [4]])).astype("int32")

KERAS_HUB_RENAMES = [
    ("feedforward_layer_norm", "feed_forward_layer_norm"),
    ("feedforward_intermediate_dense", "feed_forward/intermediate_dense"),
    ("feedforward_output_dense", "feed_forward/output_dense"),
]


@pytest.mark.parametrize("cross", [False, True], ids=["decoder_only", "encoder_decoder"])
def test_layer_contract(cross):
    inputs = {"decoder_sequence": random_inputs(B, T, D), "decoder_padding_mask": TARGET_PADDING}
    if cross:
        inputs.update(encoder_sequence=random_inputs(B, S, D, seed=1),
                      encoder_padding_mask=SOURCE_PADDING)
    run_layer_test(
        TransformerDecoderBlock,
        {"num_heads": H, "intermediate_dim": 16},
        inputs,
        expected_output_shapes=[(B, T, D)],
    )


@pytest.mark.parametrize("normalize_first", [False, True], ids=["post_ln", "pre_ln"])
@pytest.mark.parametrize("cross", [False, True], ids=["decoder_only", "encoder_decoder"])
def test_matches_keras_hub_decoder(normalize_first, cross):
    kwargs = dict(num_heads=H, intermediate_dim=16, activation="gelu",
                  normalize_first=normalize_first)
    theirs = keras_hub.layers.TransformerDecoder(**kwargs)
    ours = TransformerDecoderBlock(**kwargs)
    target = random_inputs(B, T, D)
    source = random_inputs(B, S, D, seed=1) if cross else None
    theirs(target, source)
    ours(target, source)
    copy_weights_by_path(theirs, ours, KERAS_HUB_RENAMES)
    masks = dict(decoder_padding_mask=TARGET_PADDING)
    if cross:
        masks["encoder_padding_mask"] = SOURCE_PADDING
    assert_allclose(ours(target, source, **masks), theirs(target, source, **masks), atol=1e-5)


def test_outputs_do_not_see_later_positions():
    block = TransformerDecoderBlock(num_heads=H, intermediate_dim=16)
    target, source = random_inputs(B, T, D), random_inputs(B, S, D, seed=1)
    changed = target.copy()
    changed[:, 3:] = random_inputs(B, T - 3, D, seed=5)
    before, after = to_numpy(block(target, source)), to_numpy(block(changed, source))
    np.testing.assert_allclose(after[:, :3], before[:, :3], atol=1e-5)
    assert not np.allclose(after[:, 3:], before[:, 3:])


def test_padded_source_does_not_change_outputs():
    block = TransformerDecoderBlock(num_heads=H, intermediate_dim=16)
    target, source = random_inputs(B, T, D), random_inputs(B, S, D, seed=1)
    changed = source.copy()
    changed[1, 4:] = 30.0
    before = block(target, source, encoder_padding_mask=SOURCE_PADDING)
    after = block(target, changed, encoder_padding_mask=SOURCE_PADDING)
    assert_allclose(after, before, atol=1e-5)


@pytest.mark.parametrize("cross", [False, True], ids=["decoder_only", "encoder_decoder"])
def test_cached_decoding_equals_full_pass(cross):
    block = TransformerDecoderBlock(num_heads=H, intermediate_dim=16, normalize_first=True)
    target = random_inputs(B, T, D)
    source = random_inputs(B, S, D, seed=1) if cross else None
    source_kwargs = {"encoder_padding_mask": SOURCE_PADDING} if cross else {}
    full = to_numpy(block(target, source, **source_kwargs))

    self_cache = ops.zeros((B, 2, T, H, D // H))
    cross_cache = ops.zeros((B, 2, S, H, D // H)) if cross else None
    steps = []
    for index in range(T):
        step_kwargs = dict(self_attention_cache=self_cache,
                           self_attention_cache_update_index=index, **source_kwargs)
        if cross:
            # First step fills the cross-attention cache, later ones reuse it.
            step_kwargs.update(cross_attention_cache=cross_cache,
                               cross_attention_cache_update_index=0 if index == 0 else None)
        outputs = block(target[:, index: index + 1],
                        source if index == 0 or not cross else None, **step_kwargs)
        if cross:
            output, self_cache, cross_cache = outputs
        else:
            output, self_cache = outputs
        steps.append(to_numpy(output))
    np.testing.assert_allclose(np.concatenate(steps, axis=1), full, atol=1e-5)


def test_bad_arguments():
    decoder_only = TransformerDecoderBlock(num_heads=H, intermediate_dim=16)
    decoder_only(random_inputs(B, T, D))
    with pytest.raises(ValueError, match="built without cross-attention"):
        decoder_only(random_inputs(B, T, D), random_inputs(B, S, D))
    encoder_decoder = TransformerDecoderBlock(num_heads=H, intermediate_dim=16)
    encoder_decoder(random_inputs(B, T, D), random_inputs(B, S, D))
    with pytest.raises(ValueError, match="has cross-attention"):
        encoder_decoder(random_inputs(B, T, D))
    with pytest.raises(ValueError, match=r"width \(8\) must be divisible by num_heads \(3\)"):
        TransformerDecoderBlock(num_heads=3, intermediate_dim=16)(random_inputs(B, T, D))
