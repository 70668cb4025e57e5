"""XLNetBackbone: contract, parity with transformers' XLNetModel on randomized
weights (padding, segments, memory, the query stream, bi_data and clamping),
the query stream's blindness to its own token, checkpoints, and argument checks."""

import numpy as np
import pytest

from tests.reference_models import XLNET_TINY, randomize, torch_outputs
from tests.testing import assert_allclose, run_model_test, to_numpy
from tfzoo.config import load_yaml
from tfzoo.models.registry import backbone_from_config, build_backbone
from tfzoo.models.xlnet import XLNetBackbone

TINY_KWARGS = dict(vocabulary_size=60, num_layers=2, num_heads=4, hidden_dim=16,
                   intermediate_dim=32)
ATOL = 1e-4


def xlnet_inputs(lengths=(5, 8), length=8, seed=0):
    """Left-padded inputs as XLNetPreprocessor packs them: A <sep> B <sep> <cls>,
    type ids 0, 1, 2 and 3 on padding."""
    rng = np.random.default_rng(seed)
    ids = rng.integers(9, 60, size=(len(lengths), length)).astype("int32")
    mask = (np.arange(length)[None, :] >= length - np.array(lengths)[:, None]).astype("int32")
    types = np.where(mask == 1, 0, 3).astype("int32")
    for row, n in enumerate(lengths):
        start = length - n
        types[row, start + n // 2:] = 1
        ids[row, start + n // 2 - 1], ids[row, -2], ids[row, -1] = 4, 4, 3  # <sep>, <sep>, <cls>
        types[row, -1] = 2
        ids[row, :start] = 5  # <pad>
    return {"input_word_ids": ids, "input_mask": mask, "input_type_ids": types}


def permutation(seed, batch=2, length=8, predictions=3):
    """perm_mask and target_mapping of a random factorization order whose last
    `predictions` positions are predicted (they do not see themselves)."""
    rng = np.random.default_rng(seed)
    perm_mask = np.zeros((batch, length, length), "float32")
    target_mapping = np.zeros((batch, predictions, length), "float32")
    for row in range(batch):
        order = rng.permutation(length)
        rank = np.argsort(order)
        perm_mask[row] = rank[None, :] >= rank[:, None]  # j at or after i in the order
        for slot, position in enumerate(sorted(order[-predictions:])):
            target_mapping[row, slot, position] = 1
    return perm_mask, target_mapping


def masked(array, mask):
    return np.asarray(array) * mask[..., None]


def test_model_contract():
    backbone = XLNetBackbone(**TINY_KWARGS)
    inputs = xlnet_inputs()
    outputs = backbone(inputs)
    assert set(outputs) == {"sequence_output", "pooled_output"}
    assert outputs["sequence_output"].shape == (2, 8, 16)
    # The summary is the LAST position (<cls>; padding is on the left).
    assert_allclose(outputs["pooled_output"], outputs["sequence_output"][:, -1])
    run_model_test(XLNetBackbone, backbone, inputs)


def test_model_contract_with_memory():
    backbone = XLNetBackbone(**TINY_KWARGS, memory_length=4)
    inputs = dict(xlnet_inputs(), memory=np.asarray(backbone.initial_memory(2)))
    assert inputs["memory"].shape == (2, 2, 0, 16)
    first = backbone(inputs)
    assert first["memory"].shape == (2, 2, 4, 16)  # the last 4 of 8 states
    second = dict(xlnet_inputs(seed=1), memory=to_numpy(first["memory"]))
    run_model_test(XLNetBackbone, backbone, second)


def test_random_weights_match_transformers(hf_checkpoint):
    path, reference = hf_checkpoint("xlnet")
    backbone = XLNetBackbone.from_pretrained(path)
    inputs = xlnet_inputs()
    expected = torch_outputs(reference, inputs).last_hidden_state.numpy()
    mask = inputs["input_mask"]
    np.testing.assert_allclose(masked(backbone(inputs)["sequence_output"], mask),
                               masked(expected, mask), atol=ATOL)
    # Segment ids matter, by more than the parity error: the same tokens as
    # one segment give other outputs, and those match too.
    one_segment = dict(inputs, input_type_ids=np.where(mask == 1, 0, 3).astype("int32"))
    expected_one = torch_outputs(reference, one_segment).last_hidden_state.numpy()
    ours_one = masked(backbone(one_segment)["sequence_output"], mask)
    error = np.abs(ours_one - masked(expected_one, mask)).max()
    assert error < np.abs(masked(expected_one - expected, mask)).max() / 100
    assert error < ATOL


def test_memory_matches_transformers_mems(hf_checkpoint):
    import torch

    path, reference = hf_checkpoint("xlnet")
    backbone = XLNetBackbone.from_pretrained(path, memory_length=5)
    reference.mem_len = 5
    try:
        first = xlnet_inputs(seed=1)
        ours = backbone(dict(first, memory=np.asarray(backbone.initial_memory(2))))
        theirs = torch_outputs(reference, first, use_mems=True)
        their_memory = np.stack([m.numpy().transpose(1, 0, 2) for m in theirs.mems], axis=1)
        np.testing.assert_allclose(to_numpy(ours["memory"]), their_memory, atol=ATOL)
        # The next segment attends over that memory.
        second = xlnet_inputs(lengths=(6, 6), length=6, seed=2)
        memory, first_mems = to_numpy(ours["memory"]), theirs.mems
        ours = backbone(dict(second, memory=memory))
        theirs = torch_outputs(reference, second, use_mems=True, mems=first_mems)
        without_memory = torch_outputs(reference, second).last_hidden_state.numpy()
        error = np.abs(to_numpy(ours["sequence_output"]) - theirs.last_hidden_state.numpy())
        # The memory matters, by far more than the parity error.
        assert error.max() < np.abs(without_memory - theirs.last_hidden_state.numpy()).max() / 100
        assert error.max() < ATOL
        their_memory = np.stack([m.numpy().transpose(1, 0, 2) for m in theirs.mems], axis=1)
        np.testing.assert_allclose(to_numpy(ours["memory"]), their_memory, atol=ATOL)
        # The query stream attends over the memory too.
        perm_mask, target_mapping = permutation(seed=4, length=6, predictions=2)
        ours = backbone.encode(dict(second, memory=memory, perm_mask=perm_mask,
                                    target_mapping=target_mapping))
        theirs = torch_outputs(reference, second, use_mems=True, mems=first_mems,
                               perm_mask=torch.tensor(perm_mask),
                               target_mapping=torch.tensor(target_mapping))
        np.testing.assert_allclose(to_numpy(ours["query_output"]),
                                   theirs.last_hidden_state.numpy(), atol=ATOL)
    finally:
        reference.mem_len = None


def test_query_stream_matches_transformers(hf_checkpoint):
    import torch

    path, reference = hf_checkpoint("xlnet")
    backbone = XLNetBackbone.from_pretrained(path)
    inputs = xlnet_inputs()
    perm_mask, target_mapping = permutation(seed=0)
    ours = backbone.encode(dict(inputs, perm_mask=perm_mask, target_mapping=target_mapping))
    assert ours["query_output"].shape == (2, 3, 16)
    theirs = torch_outputs(reference, inputs, perm_mask=torch.tensor(perm_mask),
                           target_mapping=torch.tensor(target_mapping))
    # With target_mapping, transformers returns the query stream as
    # last_hidden_state; the content stream is the second-to-last hidden state.
    np.testing.assert_allclose(to_numpy(ours["query_output"]),
                               theirs.last_hidden_state.numpy(), atol=ATOL)
    mask = inputs["input_mask"]
    np.testing.assert_allclose(masked(ours["sequence_output"], mask),
                               masked(theirs.hidden_states[-2].numpy(), mask), atol=ATOL)


def test_bi_data_and_clamping_match_transformers(tmp_path):
    import transformers

    reference = randomize(transformers.XLNetModel(transformers.XLNetConfig(
        **dict(XLNET_TINY, bi_data=True, clamp_len=3))), seed=5)
    reference.save_pretrained(str(tmp_path))
    backbone = XLNetBackbone.from_pretrained(str(tmp_path))
    assert (backbone.bi_data, backbone.clamp_length) == (True, 3)
    inputs = xlnet_inputs(lengths=(8, 8, 6, 7), seed=3)
    expected = torch_outputs(reference, inputs).last_hidden_state.numpy()
    mask = inputs["input_mask"]
    np.testing.assert_allclose(masked(backbone(inputs)["sequence_output"], mask),
                               masked(expected, mask), atol=ATOL)


def test_query_stream_never_sees_its_own_token():
    """Changing the token at a predicted position t leaves the query stream at t
    unchanged, and changes the content stream at t; a perm_mask that lets t see
    itself shows that the check can fail."""
    backbone = XLNetBackbone(**TINY_KWARGS, dropout=0.0)
    inputs = xlnet_inputs(lengths=(8, 8))
    perm_mask, target_mapping = permutation(seed=1)
    rows = np.arange(2)

    def difference(changed, perm, stream, at):
        """|change| of `stream` at row positions `at` (B,), between inputs and `changed`."""
        outputs = [to_numpy(backbone.encode(dict(values, perm_mask=perm,
                                                 target_mapping=target_mapping))[stream])
                   for values in (inputs, changed)]
        return np.abs(outputs[1] - outputs[0])[rows, at].max(axis=-1)  # (B,)

    for slot in range(target_mapping.shape[1]):
        target = target_mapping[:, slot].argmax(axis=-1)  # (B,), one target per row
        changed = dict(inputs, input_word_ids=inputs["input_word_ids"].copy())
        changed["input_word_ids"][rows, target] = (changed["input_word_ids"][rows, target]
                                                   + 17) % 60
        assert difference(changed, perm_mask, "query_output", slot).max() < 1e-6
        assert difference(changed, perm_mask, "sequence_output", target).min() > 1e-3
        # Control: once t may see itself, its query stream changes.
        leaky = perm_mask.copy()
        leaky[rows, target, target] = 0
        assert difference(changed, leaky, "query_output", slot).min() > 1e-3


def test_checkpoint_through_the_registry(hf_checkpoint, tmp_path):
    path, _ = hf_checkpoint("xlnet")
    backbone = build_backbone(init_checkpoint=path, overrides={"dropout": 0.0})
    assert isinstance(backbone, XLNetBackbone) and backbone.dropout == 0.0
    backbone.save_pretrained(str(tmp_path))
    restored = XLNetBackbone.from_pretrained(str(tmp_path))
    inputs = xlnet_inputs()
    assert_allclose(restored(inputs)["sequence_output"], backbone(inputs)["sequence_output"])
    # An architecture file and the checkpoint must agree on every shape.
    config = dict(model_type="xlnet", **TINY_KWARGS)
    assert isinstance(build_backbone(config, init_checkpoint=path), XLNetBackbone)
    with pytest.raises(ValueError, match=r"token_embedding/embeddings has shape \(60, 32\)"):
        build_backbone(dict(config, hidden_dim=32, intermediate_dim=32), init_checkpoint=path)


def test_unsupported_checkpoint_settings(hf_checkpoint, tmp_path):
    import json
    import shutil

    path, _ = hf_checkpoint("xlnet")
    shutil.copytree(path, tmp_path, dirs_exist_ok=True)
    with open(tmp_path / "config.json") as f:
        config = json.load(f)
    with open(tmp_path / "config.json", "w") as f:
        json.dump(dict(config, attn_type="uni"), f)
    with pytest.raises(ValueError, match="attn_type='uni'"):
        XLNetBackbone.from_pretrained(str(tmp_path))


@pytest.mark.parametrize("name", ["xlnet_tiny", "xlnet_base", "xlnet_large"])
def test_configs_match_the_reference_parameter_count(name):
    import os

    import torch
    import transformers

    path = os.path.join(os.path.dirname(__file__), "..", "..", "..", "configs", "models",
                        f"{name}.yaml")
    # One and two layers of the architecture; the rest is per-layer and scales.
    config = load_yaml(path)
    one = backbone_from_config(path, num_layers=1).count_params()
    two = backbone_from_config(path, num_layers=2).count_params()
    layers = config["num_layers"]
    ours = one + (two - one) * (layers - 1)
    with torch.device("meta"):
        reference = transformers.XLNetModel(transformers.XLNetConfig(
            vocab_size=config["vocabulary_size"], d_model=config["hidden_dim"],
            n_layer=layers, n_head=config["num_heads"], d_inner=config["intermediate_dim"]))
    assert ours == sum(p.numel() for p in reference.parameters())


def test_bad_arguments():
    with pytest.raises(ValueError, match=r"hidden_dim \(16\) must be divisible by num_heads \(3\)"):
        XLNetBackbone(**dict(TINY_KWARGS, num_heads=3))
    with pytest.raises(ValueError, match="memory_length=-1"):
        XLNetBackbone(**TINY_KWARGS, memory_length=-1)
    with pytest.raises(ValueError, match="bi_data='yes'"):
        XLNetBackbone(**TINY_KWARGS, bi_data="yes")
    with pytest.raises(ValueError, match="Unknown activation: 'swishy'"):
        XLNetBackbone(**dict(TINY_KWARGS, activation="swishy"))
    backbone = XLNetBackbone(**TINY_KWARGS)
    inputs = xlnet_inputs()
    with pytest.raises(ValueError, match=r"Unknown XLNet input\(s\) \['perm'\]"):
        backbone.encode(dict(inputs, perm=np.zeros((2, 8, 8))))
    with pytest.raises(ValueError, match=r"perm_mask.shape=\(2, 8\)"):
        backbone.encode(dict(inputs, perm_mask=np.zeros((2, 8), "float32")))
    with pytest.raises(ValueError, match=r"target_mapping.shape=\(2, 8\)"):
        backbone.encode(dict(inputs, target_mapping=np.zeros((2, 8), "float32")))
