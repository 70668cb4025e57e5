"""TF Hub-format BERT exports: TF Hub's call conventions, parity with the Keras
backbone, tensorflow_hub.load, TF Serving's TF1 loader and the ops in the graphs.

The real all-MiniLM-L6-v2 goes through the same export in
tests/hub/test_hub_encoder.py (`test_round_trip_minilm`)."""

import json
import os
import subprocess
import sys

import keras
import numpy as np
import pytest
import tensorflow as tf

from tests.hub.exports import (
    SEQ_LENGTH,
    TEXTS,
    VOCABULARY,
    export_pair,
    import_tensorflow_hub,
    numpy_inputs,
    tiny_bert,
)
from tests.testing import assert_allclose
from tfzoo.export.hub import export_hub_encoder, export_hub_preprocessor
from tfzoo.export.verify import graph_ops, run_with_tf1_loader
from tfzoo.models.bert.bert_pretrainer import BertPretrainer

KEYS = ("input_word_ids", "input_mask", "input_type_ids")
SPECIAL_KEYS = ("vocab_size", "start_of_sequence_id", "end_of_segment_id", "padding_id",
                "mask_id")
# The TF Text ops of the preprocessor graph. TF Serving 2.20+ links them all
# (RoundRobinTrim arrived with TF Text 2.20); the encoder has none.
PREPROCESSOR_TF_TEXT_OPS = {"NormalizeUTF8", "RegexSplitWithOffsets", "TFText>RoundRobinTrim",
                            "WordpieceTokenizeWithOffsets"}


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    preprocessor, backbone, pretrainer = tiny_bert()
    encoder_dir, preprocessor_dir = export_pair(
        tmp_path_factory.mktemp("hub"), preprocessor, backbone, pretrainer)
    return {"preprocessor": preprocessor, "backbone": backbone, "pretrainer": pretrainer,
            "encoder_dir": encoder_dir, "preprocessor_dir": preprocessor_dir,
            "encoder": tf.saved_model.load(encoder_dir),
            "hub_preprocessor": tf.saved_model.load(preprocessor_dir)}


def assert_same_inputs(got, want):
    assert sorted(got) == sorted(KEYS)
    for key in KEYS:
        assert got[key].dtype == tf.int32
        np.testing.assert_array_equal(got[key], want[key])


def test_preprocessor_call_and_tokenize(tiny):
    preprocessor, loaded = tiny["preprocessor"], tiny["hub_preprocessor"]
    texts = tf.constant(TEXTS)
    inputs = loaded(texts)
    assert inputs["input_word_ids"].shape == (len(TEXTS), SEQ_LENGTH)
    assert_same_inputs(inputs, preprocessor(texts))

    tokens = loaded.tokenize(texts)
    assert isinstance(tokens, tf.RaggedTensor) and tokens.dtype == tf.int32
    assert tokens.shape.rank == 3 and tokens.ragged_rank == 2  # [B, (words), (wordpieces)]
    assert tokens.to_list() == preprocessor.tokenize(texts).to_list()

    special = loaded.tokenize.get_special_tokens_dict()
    assert sorted(special) == sorted(SPECIAL_KEYS)
    for key, value in special.items():
        assert value.dtype == tf.int32 and value.shape == ()
        assert int(value) == preprocessor.get_special_tokens_dict()[key]
    assert int(special["vocab_size"]) == len(VOCABULARY)


def test_bert_pack_inputs(tiny):
    """One to three segments, [B, (words), (wordpieces)] or [B, (tokens)]; the
    export's seq_length by default, or any length, as TF Hub's preprocessors."""
    preprocessor, loaded = tiny["preprocessor"], tiny["hub_preprocessor"]
    first = loaded.tokenize(tf.constant(TEXTS))
    second = loaded.tokenize(tf.constant(TEXTS[::-1]))
    for segments in ([first], [first, second], [first.merge_dims(-2, -1)],
                     [first.merge_dims(-2, -1), second.merge_dims(-2, -1)],
                     [first, second, first]):
        want = preprocessor.bert_pack_inputs(segments, seq_length=SEQ_LENGTH)
        assert_same_inputs(loaded.bert_pack_inputs(segments), want)
        assert_same_inputs(loaded.bert_pack_inputs(segments, seq_length=SEQ_LENGTH), want)
        for length in (7, SEQ_LENGTH + 9, np.int32(11), tf.constant(12)):
            want = preprocessor.bert_pack_inputs(segments, seq_length=int(length))
            got = loaded.bert_pack_inputs(segments, seq_length=length)
            assert got["input_word_ids"].shape == (len(TEXTS), int(length))
            assert_same_inputs(got, want)
    packed = loaded.bert_pack_inputs([first, second, first])
    assert set(np.unique(packed["input_type_ids"])) == {0, 1, 2}
    with pytest.raises(tf.errors.InvalidArgumentError, match="must be >= 3"):
        loaded.bert_pack_inputs([first, second], seq_length=2)


def test_encoder_call_conventions(tiny):
    backbone, encoder = tiny["backbone"], tiny["encoder"]
    inputs = numpy_inputs(tiny["preprocessor"])
    want = backbone(inputs)
    for training in (False, True):  # dropout is 0: the training trace agrees
        outputs = encoder(inputs, training=training)
        assert sorted(outputs) == ["default", "encoder_outputs", "pooled_output",
                                   "sequence_output"]
        assert outputs["sequence_output"].shape == (len(TEXTS), SEQ_LENGTH, 16)
        assert outputs["pooled_output"].shape == (len(TEXTS), 16)
        assert_allclose(outputs["sequence_output"], want["sequence_output"], atol=1e-5)
        assert_allclose(outputs["pooled_output"], want["pooled_output"], atol=1e-5)
        assert_allclose(outputs["default"], outputs["pooled_output"], atol=0)
        assert len(outputs["encoder_outputs"]) == 2
        for got, expected in zip(outputs["encoder_outputs"], want["encoder_outputs"]):
            assert_allclose(got, expected, atol=1e-5)
    # The variable lists are the very variables the call reads, so fine-tuning
    # through `trainable_variables` (hub.KerasLayer) trains the model.
    read = {id(v) for f in encoder.__call__.concrete_functions for v in f.trainable_variables}
    assert {id(v) for v in encoder.trainable_variables} == read
    assert len(encoder.trainable_variables) == len(backbone.trainable_weights)


def test_encoder_mlm_sub_object(tiny):
    encoder, pretrainer = tiny["encoder"], tiny["pretrainer"]
    inputs = numpy_inputs(tiny["preprocessor"])
    inputs["masked_lm_positions"] = np.array([[1, 2], [3, 4], [1, 1]], "int32")
    outputs = encoder.mlm(inputs)
    assert sorted(outputs) == ["default", "encoder_outputs", "mlm_logits", "pooled_output",
                               "sequence_output"]
    assert outputs["mlm_logits"].shape == (3, 2, len(VOCABULARY))
    assert_allclose(outputs["mlm_logits"], pretrainer(inputs)["mlm_logits"], atol=1e-5)
    assert_allclose(encoder.mlm(inputs, training=True)["mlm_logits"], outputs["mlm_logits"],
                    atol=1e-5)
    read = {id(v) for f in encoder.mlm.__call__.concrete_functions for v in f.trainable_variables}
    assert {id(v) for v in encoder.mlm.trainable_variables} == read
    # The MLM head's own variables stay out of the encoder's lists.
    assert len(encoder.mlm.trainable_variables) > len(encoder.trainable_variables)


def test_encoder_carries_vocab_file_and_do_lower_case(tiny):
    encoder = tiny["encoder"]
    vocab_path = encoder.vocab_file.asset_path.numpy().decode()
    assert vocab_path.startswith(tiny["encoder_dir"])
    with open(vocab_path, encoding="utf-8") as file:
        assert file.read().splitlines() == VOCABULARY
    assert encoder.do_lower_case.dtype == tf.bool and bool(encoder.do_lower_case.numpy())
    assert not encoder.do_lower_case.trainable


def test_tensorflow_hub_load(tiny):
    hub = import_tensorflow_hub()
    preprocessor = hub.load(tiny["preprocessor_dir"])
    encoder = hub.load(tiny["encoder_dir"])
    outputs = encoder(preprocessor(tf.constant(TEXTS)))
    want = tiny["backbone"](numpy_inputs(tiny["preprocessor"]))
    assert_allclose(outputs["pooled_output"], want["pooled_output"], atol=1e-5)
    assert_allclose(outputs["sequence_output"], want["sequence_output"], atol=1e-5)


def test_tensorflow_hub_keras_layer_fine_tunes_it(tiny):
    """TF Hub's own (Keras 2) layer trains the export like a tfhub.dev BERT."""
    hub = import_tensorflow_hub()
    import tf_keras

    text = tf_keras.Input(shape=(), dtype=tf.string)
    encoder = hub.KerasLayer(tiny["encoder_dir"], trainable=True)
    pooled = encoder(hub.KerasLayer(tiny["preprocessor_dir"])(text))["pooled_output"]
    model = tf_keras.Model(text, pooled)
    assert len(encoder.trainable_weights) == len(tiny["backbone"].trainable_weights)
    want = tiny["backbone"](numpy_inputs(tiny["preprocessor"]))["pooled_output"]
    assert_allclose(model(tf.constant(TEXTS)), want, atol=1e-5)


def test_tf1_session_loader_runs_serving_default(tiny):
    """TF Serving's loader, in a process that imports only TF and TF Text."""
    inputs = run_with_tf1_loader(tiny["preprocessor_dir"], {"sentences": TEXTS})
    assert_same_inputs({k: np.asarray(v, "int32") for k, v in inputs.items()},  # JSON ints
                       tiny["preprocessor"](TEXTS))
    outputs = run_with_tf1_loader(tiny["encoder_dir"], inputs)
    assert sorted(outputs) == ["encoder_outputs_0", "encoder_outputs_1", "pooled_output",
                               "sequence_output"]
    want = tiny["backbone"]({k: np.asarray(v, "int32") for k, v in inputs.items()})
    assert_allclose(np.asarray(outputs["pooled_output"], "float32"), want["pooled_output"],
                    atol=1e-5)
    assert_allclose(np.asarray(outputs["encoder_outputs_1"], "float32"),
                    want["encoder_outputs"][1], atol=1e-5)


_OP_ORIGIN = r"""
import json, sys
import tensorflow as tf
from tensorflow.python.framework import op_def_registry
ops = json.loads(sys.argv[1])
core = {op for op in ops if op_def_registry.get(op) is not None}
import tensorflow_text  # noqa: F401
tf_text = {op for op in ops if op not in core and op_def_registry.get(op) is not None}
print("ORIGIN=" + json.dumps({"core": sorted(core), "tf_text": sorted(tf_text)}))
"""


def op_origins(ops):
    """Which ops a process with TensorFlow alone knows, and which only TF Text registers."""
    result = subprocess.run([sys.executable, "-c", _OP_ORIGIN, json.dumps(sorted(ops))],
                            check=False, capture_output=True, text=True, timeout=300,
                            env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2"))
    line = [x for x in result.stdout.splitlines() if x.startswith("ORIGIN=")]
    assert result.returncode == 0 and line, result.stderr[-2000:]
    origins = json.loads(line[0][len("ORIGIN="):])
    return set(origins["core"]), set(origins["tf_text"])


def test_graphs_hold_only_core_and_tf_text_ops(tiny):
    encoder_ops = graph_ops(tiny["encoder_dir"])
    preprocessor_ops = graph_ops(tiny["preprocessor_dir"])
    assert all(hasattr(tf.raw_ops, op) for op in encoder_ops), sorted(
        op for op in encoder_ops if not hasattr(tf.raw_ops, op))
    not_raw = {op for op in preprocessor_ops if not hasattr(tf.raw_ops, op)}
    assert not_raw == PREPROCESSOR_TF_TEXT_OPS
    core, tf_text = op_origins(encoder_ops | preprocessor_ops)
    assert tf_text == PREPROCESSOR_TF_TEXT_OPS
    assert core | tf_text == encoder_ops | preprocessor_ops


def test_export_errors(tiny, tmp_path):
    preprocessor, backbone = tiny["preprocessor"], tiny["backbone"]
    with pytest.raises(ValueError, match="seq_length=2"):
        export_hub_preprocessor(preprocessor, str(tmp_path / "p"), seq_length=2)
    with pytest.raises(ValueError, match="pretrainer.backbone is backbone"):
        other = BertPretrainer(tiny_bert()[1])
        export_hub_encoder(backbone, str(tmp_path / "e"), pretrainer=other)
    with pytest.raises(ValueError, match="already holds a SavedModel"):
        export_hub_encoder(backbone, tiny["encoder_dir"])
    features = keras.Input((4,), name="features")
    with pytest.raises(ValueError, match="takes the inputs"):
        export_hub_encoder(keras.Model(features, keras.layers.Dense(2)(features)),
                           str(tmp_path / "e"))


def test_mixed_precision_exports_answer_float32(tmp_path):
    """TF Hub's encoders answer float32; a model built under a mixed-precision
    policy computes in float16 and its export casts the answers."""
    keras.config.set_dtype_policy("mixed_float16")
    try:
        preprocessor, backbone, pretrainer = tiny_bert()
    finally:
        keras.config.set_dtype_policy("float32")
    encoder_dir, preprocessor_dir = export_pair(tmp_path, preprocessor, backbone, pretrainer)
    encoder = tf.saved_model.load(encoder_dir)
    inputs = tf.saved_model.load(preprocessor_dir)(tf.constant(TEXTS))
    outputs = encoder(inputs)
    for name in ("sequence_output", "pooled_output", "default"):
        assert outputs[name].dtype == tf.float32, name
    assert all(item.dtype == tf.float32 for item in outputs["encoder_outputs"])
    assert_allclose(outputs["pooled_output"], backbone(inputs)["pooled_output"], atol=1e-3)
    mlm = encoder.mlm(dict(inputs, masked_lm_positions=tf.constant([[1, 2]] * len(TEXTS))))
    assert mlm["mlm_logits"].dtype == tf.float32
    signature = encoder.signatures["serving_default"].structured_outputs
    assert {value.dtype for value in signature.values()} == {tf.float32}
