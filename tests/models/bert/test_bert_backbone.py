"""BertBackbone: contract, parity with transformers' BertModel (real and random
weights), Google-format checkpoints, and tfzoo's own save/load."""

import json
import os

import numpy as np
import pytest
import tensorflow as tf

from tests.reference_models import TINY, encoder_inputs, masked, torch_outputs
from tests.testing import assert_allclose, run_model_test, to_numpy
from tfzoo.models.bert import BertBackbone

TINY_KWARGS = dict(vocabulary_size=60, num_layers=2, num_heads=4, hidden_dim=16,
                   intermediate_dim=32, max_sequence_length=40)


def test_model_contract():
    backbone = BertBackbone(**TINY_KWARGS)
    inputs = encoder_inputs(pairs=True)
    outputs = backbone(inputs)
    assert set(outputs) == {"sequence_output", "pooled_output", "encoder_outputs"}
    assert outputs["sequence_output"].shape == (2, 8, 16)
    assert outputs["pooled_output"].shape == (2, 16)
    assert len(outputs["encoder_outputs"]) == 2
    assert_allclose(outputs["encoder_outputs"][-1], outputs["sequence_output"])
    run_model_test(BertBackbone, backbone, inputs)


def test_real_minilm_weights_match_transformers(minilm_path):
    import transformers

    backbone = BertBackbone.from_pretrained(minilm_path)
    assert (backbone.num_layers, backbone.hidden_dim, backbone.num_heads) == (6, 384, 12)
    # "[CLS] the quick brown fox jumps [SEP]" and a pair with padding, real vocab ids.
    inputs = {
        "input_word_ids": np.array([[101, 1996, 4248, 2829, 4419, 14523, 102, 0, 0, 0],
                                    [101, 7592, 2088, 102, 2129, 2024, 2017, 1029, 102, 0]],
                                   "int32"),
        "input_mask": np.array([[1] * 7 + [0] * 3, [1] * 9 + [0]], "int32"),
        "input_type_ids": np.array([[0] * 10, [0] * 4 + [1] * 5 + [0]], "int32"),
    }
    reference = transformers.BertModel.from_pretrained(minilm_path).eval()
    expected = torch_outputs(reference, inputs)
    outputs = backbone(inputs)
    mask = inputs["input_mask"]
    np.testing.assert_allclose(masked(outputs["sequence_output"], mask),
                               masked(expected.last_hidden_state.numpy(), mask), atol=1e-4)
    np.testing.assert_allclose(to_numpy(outputs["pooled_output"]),
                               expected.pooler_output.numpy(), atol=1e-4)
    for ours, theirs in zip(outputs["encoder_outputs"], expected.hidden_states[1:]):
        np.testing.assert_allclose(masked(ours, mask), masked(theirs.numpy(), mask), atol=1e-4)


def test_random_weights_match_transformers(hf_checkpoint):
    path, reference = hf_checkpoint("bert")
    backbone = BertBackbone.from_pretrained(path)
    inputs = encoder_inputs(pairs=True)
    expected = torch_outputs(reference, inputs)
    outputs = backbone(inputs)
    mask = inputs["input_mask"]
    np.testing.assert_allclose(masked(outputs["sequence_output"], mask),
                               masked(expected.last_hidden_state.numpy(), mask), atol=1e-4)
    np.testing.assert_allclose(to_numpy(outputs["pooled_output"]),
                               expected.pooler_output.numpy(), atol=1e-4)


def google_name(hf_name):
    """Original BERT variable name for a Hugging Face one (written independently
    of tfzoo's mapping tables), and whether the array is transposed."""
    name = hf_name.removeprefix("bert.")
    if not name.startswith("cls."):
        name = "bert." + name
    name = name.replace("encoder.layer.", "encoder.layer_")
    # torch Linear weights are [out, in]; TF kernels [in, out]. The NSP
    # "output_weights" are [2, D] in both.
    transposed = name.endswith(".weight") and not any(
        part in name for part in ("LayerNorm", "embeddings", "seq_relationship"))
    if name.endswith("LayerNorm.weight"):
        name = name[: -len("weight")] + "gamma"
    elif name.endswith("LayerNorm.bias"):
        name = name[: -len("bias")] + "beta"
    elif name.endswith("embeddings.weight"):
        name = name[: -len(".weight")]
    elif name == "cls.predictions.bias":
        name = "cls.predictions.output_bias"
    elif name == "cls.seq_relationship.weight":
        name = "cls.seq_relationship.output_weights"
    elif name == "cls.seq_relationship.bias":
        name = "cls.seq_relationship.output_bias"
    elif name.endswith(".weight"):
        name = name[: -len("weight")] + "kernel"
    return name.replace(".", "/"), transposed


def write_google_checkpoint(reference, directory):
    """bert_config.json + bert_model.ckpt.* with the original variable names."""
    os.makedirs(directory, exist_ok=True)
    names, tensors = [], []
    for hf_name, tensor in reference.state_dict().items():
        if hf_name.endswith(("position_ids", "decoder.weight", "decoder.bias")):
            continue
        name, transposed = google_name(hf_name)
        array = tensor.numpy().T if transposed else tensor.numpy()
        names.append(name)
        tensors.append(tf.constant(array))
    tf.raw_ops.SaveV2(prefix=os.path.join(directory, "bert_model.ckpt"),
                      tensor_names=names, shape_and_slices=[""] * len(names), tensors=tensors)
    config = {k: v for k, v in reference.config.to_dict().items()
              if k in ("vocab_size", "hidden_size", "num_hidden_layers", "num_attention_heads",
                       "intermediate_size", "hidden_act", "hidden_dropout_prob",
                       "attention_probs_dropout_prob", "max_position_embeddings",
                       "type_vocab_size", "initializer_range")}
    with open(os.path.join(directory, "bert_config.json"), "w") as f:
        json.dump(config, f)
    return names


def test_google_checkpoint_loads_like_its_hugging_face_twin(hf_checkpoint, tmp_path):
    hf_path, reference = hf_checkpoint("bert")
    names = write_google_checkpoint(reference, str(tmp_path))
    assert "bert/encoder/layer_1/attention/self/query/kernel" in names
    from_google = BertBackbone.from_pretrained(str(tmp_path))
    from_hf = BertBackbone.from_pretrained(hf_path)
    inputs = encoder_inputs(pairs=True)
    for got, want in zip(keras_flat(from_google(inputs)), keras_flat(from_hf(inputs))):
        assert_allclose(got, want, atol=1e-6)


def keras_flat(outputs):
    import keras

    return keras.tree.flatten(outputs)


def test_save_pretrained_round_trip(tmp_path):
    backbone = BertBackbone(**TINY_KWARGS, name="my_bert")
    backbone.save_pretrained(str(tmp_path))
    restored = BertBackbone.from_pretrained(str(tmp_path))
    inputs = encoder_inputs()
    for got, want in zip(keras_flat(restored(inputs)), keras_flat(backbone(inputs))):
        assert_allclose(got, want)
    # Overrides apply on top of the saved config.
    assert BertBackbone.from_pretrained(str(tmp_path), dropout=0.0).dropout == 0.0


def test_mixed_precision_survives_save_pretrained(tmp_path):
    """A backbone built with dtype="mixed_bfloat16" saves that policy (Keras'
    functional model keeps none of its own) and reloads with it, whatever
    the global policy."""
    import keras

    def policies(model):
        return {layer.name: layer.dtype_policy.name for layer in model._flatten_layers()
                if layer is not model and not isinstance(layer, keras.layers.InputLayer)}

    backbone = BertBackbone(**TINY_KWARGS, dtype="mixed_bfloat16")
    assert "mixed_bfloat16" in set(policies(backbone).values())
    backbone.save_pretrained(str(tmp_path))
    restored = BertBackbone.from_pretrained(str(tmp_path))
    assert policies(restored) == policies(backbone)
    inputs = encoder_inputs()
    for got, want in zip(keras_flat(restored(inputs)), keras_flat(backbone(inputs))):
        assert_allclose(got, want)


def test_bad_arguments():
    with pytest.raises(ValueError, match=r"hidden_dim \(16\) must be divisible by num_heads \(3\)"):
        BertBackbone(**dict(TINY_KWARGS, num_heads=3))
    with pytest.raises(ValueError, match="num_layers=0"):
        BertBackbone(**dict(TINY_KWARGS, num_layers=0))


assert TINY["hidden_size"] == TINY_KWARGS["hidden_dim"]
