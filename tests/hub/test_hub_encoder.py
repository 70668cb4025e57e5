"""HubEncoder and HubPreprocessor: a TF Hub BERT export fine-tuned in Keras 3.

Round trip: tfzoo BertBackbone -> TF Hub SavedModels -> HubEncoder in a
classifier, compared with the same classifier built on the backbone itself:
equal outputs at step 0, and equal encoder weights after one SGD step.
"""

import os

import keras
import numpy as np
import pytest
import tensorflow as tf

from tests.hub.exports import (
    SEQ_LENGTH,
    TEXTS,
    classifier,
    export_pair,
    numpy_inputs,
    tiny_bert,
)
from tests.testing import assert_allclose, to_numpy
from tfzoo.hub import HubEncoder, HubPreprocessor
from tfzoo.models.bert.bert_backbone import BertBackbone
from tfzoo.preprocessing import BertPreprocessor


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    preprocessor, backbone, pretrainer = tiny_bert()
    encoder_dir, preprocessor_dir = export_pair(
        tmp_path_factory.mktemp("hub"), preprocessor, backbone, pretrainer)
    return {"preprocessor": preprocessor, "backbone": backbone, "pretrainer": pretrainer,
            "encoder_dir": encoder_dir, "preprocessor_dir": preprocessor_dir}


def hub_weight_name(variable):
    """The HubEncoder name of a backbone variable: its path, "/" -> "_"."""
    return variable.path.replace("/", "_")


def fine_tune_both(backbone, encoder_dir, inputs, labels, learning_rate):
    """One SGD step on the HubEncoder classifier and on the backbone classifier
    (which trains `backbone` in place)."""
    hub_encoder = HubEncoder(encoder_dir)
    hub_model, direct_model = classifier(hub_encoder), classifier(backbone)
    direct_model.get_layer("head").set_weights(hub_model.get_layer("head").get_weights())
    assert_allclose(hub_model(inputs), direct_model(inputs), atol=1e-5)
    before = {hub_weight_name(v): to_numpy(v) for v in backbone.weights}
    for model in (hub_model, direct_model):
        model.compile(optimizer=keras.optimizers.SGD(learning_rate),
                      loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
        model.fit(inputs, labels, batch_size=len(labels), epochs=1, verbose=0, shuffle=False)
    return hub_encoder, hub_model, direct_model, before


def assert_trained_alike(hub_encoder, backbone, before, atol=1e-5):
    hub_weights = {v.name: to_numpy(v) for v in hub_encoder.trainable_weights}
    want = {hub_weight_name(v): to_numpy(v) for v in backbone.trainable_weights}
    assert sorted(hub_weights) == sorted(want)
    for name, value in want.items():
        np.testing.assert_allclose(hub_weights[name], value, atol=atol, err_msg=name)
    changed = [name for name in want if not np.allclose(want[name], before[name], atol=1e-7)]
    assert len(changed) > 0.8 * len(want), sorted(set(want) - set(changed))


def test_round_trip_fine_tunes_like_the_backbone(tiny):
    backbone = BertBackbone.from_config(tiny["backbone"].get_config())  # the fixture's stays
    backbone.set_weights(tiny["backbone"].get_weights())
    inputs = numpy_inputs(tiny["preprocessor"])
    hub_encoder, hub_model, direct_model, before = fine_tune_both(
        backbone, tiny["encoder_dir"], inputs, np.array([0, 1, 2]), learning_rate=0.5)
    assert_trained_alike(hub_encoder, backbone, before)
    # The optimizer wrote to the SavedModel's own variables: its call sees them.
    assert_allclose(hub_model(inputs), direct_model(inputs), atol=1e-5)
    assert_allclose(hub_encoder(inputs)["sequence_output"], backbone(inputs)["sequence_output"],
                    atol=1e-5)


@pytest.mark.slow
def test_round_trip_minilm(minilm_path, tmp_path):
    """The real all-MiniLM-L6-v2 (dropout off) and its vocabulary, with
    HubPreprocessor for the inputs."""
    backbone = BertBackbone.from_pretrained(minilm_path, dropout=0.0)
    preprocessor = BertPreprocessor.from_pretrained(minilm_path, seq_length=32)
    encoder_dir, preprocessor_dir = export_pair(tmp_path, preprocessor, backbone,
                                                seq_length=32)
    texts = ["The café is open.", "Hello world, this is MiniLM.", "A third one."]
    inputs = {k: to_numpy(v) for k, v in HubPreprocessor(preprocessor_dir)(texts).items()}
    for key, value in preprocessor(texts).items():
        np.testing.assert_array_equal(inputs[key], value)
    outputs, want = HubEncoder(encoder_dir)(inputs), backbone(inputs)
    assert len(outputs["encoder_outputs"]) == 6
    for got, expected in zip(keras.tree.flatten(outputs), keras.tree.flatten(
            dict(want, default=want["pooled_output"]))):
        assert_allclose(got, expected, atol=1e-5)

    hub_encoder, hub_model, direct_model, before = fine_tune_both(
        backbone, encoder_dir, inputs, np.array([0, 1, 2]), learning_rate=0.1)
    assert len(hub_encoder.trainable_weights) == len(backbone.trainable_weights)
    assert_trained_alike(hub_encoder, backbone, before)
    assert_allclose(hub_model(inputs), direct_model(inputs), atol=1e-5)


def test_outputs_and_training_flag(tiny):
    hub_encoder = HubEncoder(tiny["encoder_dir"])
    inputs = numpy_inputs(tiny["preprocessor"])
    outputs = hub_encoder(inputs, training=True)
    assert sorted(outputs) == ["default", "encoder_outputs", "pooled_output", "sequence_output"]
    assert len(outputs["encoder_outputs"]) == 2
    assert_allclose(outputs["pooled_output"], tiny["backbone"](inputs)["pooled_output"],
                    atol=1e-5)
    # Symbolic call: the shapes TF Hub promises.
    symbolic = hub_encoder({k: keras.Input((None,), dtype="int32", name=k) for k in inputs})
    assert tuple(symbolic["sequence_output"].shape) == (None, None, 16)
    assert tuple(symbolic["pooled_output"].shape) == (None, 16)


def test_frozen_encoder_is_not_trained(tiny):
    hub_encoder = HubEncoder(tiny["encoder_dir"], trainable=False)
    assert hub_encoder.trainable_weights == []
    assert len(hub_encoder.non_trainable_weights) == len(tiny["backbone"].trainable_weights)
    model = classifier(hub_encoder)
    assert len(model.trainable_weights) == 2  # the head's
    model.compile(optimizer=keras.optimizers.SGD(0.5),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    before = [to_numpy(v) for v in hub_encoder.weights]
    model.fit(numpy_inputs(tiny["preprocessor"]), np.array([0, 1, 2]), verbose=0)
    for old, variable in zip(before, hub_encoder.weights):
        np.testing.assert_array_equal(old, variable)


def test_mlm_endpoint(tiny):
    hub_mlm = HubEncoder(tiny["encoder_dir"], endpoint="mlm")
    inputs = numpy_inputs(tiny["preprocessor"])
    inputs["masked_lm_positions"] = np.array([[1, 2], [3, 4], [1, 1]], "int32")
    assert_allclose(hub_mlm(inputs)["mlm_logits"], tiny["pretrainer"](inputs)["mlm_logits"],
                    atol=1e-5)
    assert len(hub_mlm.trainable_weights) == len(tiny["pretrainer"].trainable_weights) - 2  # NSP
    with pytest.raises(ValueError, match="no sub-object 'nsp'"):
        HubEncoder(tiny["encoder_dir"], endpoint="nsp")


def test_config_and_keras_file_round_trip(tiny, tmp_path):
    hub_encoder = HubEncoder(tiny["encoder_dir"], name="encoder")
    config = hub_encoder.get_config()
    assert config["handle"] == tiny["encoder_dir"] and config["trainable"] is True
    clone = HubEncoder.from_config(config)
    assert clone.get_config() == config

    model = classifier(hub_encoder)
    inputs = numpy_inputs(tiny["preprocessor"])
    model.compile(optimizer=keras.optimizers.SGD(0.5),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    model.fit(inputs, np.array([0, 1, 2]), verbose=0)  # weights now differ from the export
    path = str(tmp_path / "classifier.keras")
    model.save(path)
    with pytest.raises(ValueError, match="safe mode"):
        keras.saving.load_model(path)
    restored = keras.saving.load_model(path, safe_mode=False)
    assert_allclose(restored(inputs), model(inputs), atol=1e-6)


def test_hub_preprocessor_in_tf_data(tiny):
    preprocessor = tiny["preprocessor"]
    hub_preprocessor = HubPreprocessor(tiny["preprocessor_dir"])
    dataset = tf.data.Dataset.from_tensor_slices((TEXTS, [0, 1, 2])).batch(2).map(
        lambda text, label: (hub_preprocessor(text), label))
    batches = list(dataset)
    got = {k: np.concatenate([b[0][k] for b in batches]) for k in batches[0][0]}
    for key, value in preprocessor(TEXTS).items():
        np.testing.assert_array_equal(got[key], value)
    pairs = hub_preprocessor([tf.constant(TEXTS), tf.constant(TEXTS[::-1])])
    want = preprocessor([tf.constant(TEXTS), tf.constant(TEXTS[::-1])])
    for key, value in want.items():
        np.testing.assert_array_equal(pairs[key], value)
    for key, value in preprocessor(("Hello world!", "TF Hub")).items():  # a tuple: one pair
        np.testing.assert_array_equal(hub_preprocessor(("Hello world!", "TF Hub"))[key], value)
    # Any length, as TF Hub's preprocessors (the export's default is SEQ_LENGTH).
    longer = HubPreprocessor(tiny["preprocessor_dir"], seq_length=SEQ_LENGTH + 5)(TEXTS)
    for key, value in preprocessor.bert_pack_inputs(
            [preprocessor.tokenize(TEXTS)], seq_length=SEQ_LENGTH + 5).items():
        np.testing.assert_array_equal(longer[key], value)
    assert hub_preprocessor.get_special_tokens_dict() == preprocessor.get_special_tokens_dict()
    assert HubPreprocessor.from_config(hub_preprocessor.get_config()).handle == \
        tiny["preprocessor_dir"]


def test_a_handle_under_the_home_directory(tiny, monkeypatch):
    home, name = os.path.split(tiny["preprocessor_dir"])
    monkeypatch.setenv("HOME", home)
    texts = tf.constant(TEXTS)
    for key, value in HubPreprocessor(f"~/{name}")(texts).items():
        np.testing.assert_array_equal(value, tiny["preprocessor"](texts)[key])


def test_errors(tiny, tmp_path, monkeypatch):
    with pytest.raises(FileNotFoundError, match="No SavedModel"):
        HubEncoder(str(tmp_path))
    with pytest.raises(FileNotFoundError, match="No SavedModel directory"):
        HubEncoder(str(tmp_path / "missing"))
    with pytest.raises(ValueError, match="no TF Hub BERT preprocessor"):
        HubPreprocessor(tiny["encoder_dir"])
    with pytest.raises(ValueError, match="seq_length"):
        HubPreprocessor(tiny["preprocessor_dir"], seq_length=1)
    with pytest.raises(ValueError, match="no TF Hub BERT encoder.*HubPreprocessor"):
        HubEncoder(tiny["preprocessor_dir"])  # at construction, not at the first call
    hub_encoder = HubEncoder(tiny["encoder_dir"])
    inputs = numpy_inputs(tiny["preprocessor"])
    with pytest.raises(ValueError, match=r"lack \['input_type_ids'\]"):
        hub_encoder({k: v for k, v in inputs.items() if k != "input_type_ids"})
    with pytest.raises(ValueError, match="'input_mask' must hold integer.*float32"):
        hub_encoder({**inputs, "input_mask": inputs["input_mask"].astype("float32")})
    monkeypatch.setattr(keras.backend, "backend", lambda: "jax")
    with pytest.raises(ValueError, match="TensorFlow backend.*'jax'"):
        HubEncoder(tiny["encoder_dir"])


def test_int64_inputs_are_taken(tiny):
    """NumPy's default integer type works like the int32 the signature names."""
    hub_encoder = HubEncoder(tiny["encoder_dir"])
    inputs = numpy_inputs(tiny["preprocessor"])
    wide = {k: v.astype("int64") for k, v in inputs.items()}
    assert_allclose(hub_encoder(wide)["pooled_output"], hub_encoder(inputs)["pooled_output"])


def test_keras_2_saved_model_as_on_tfhub_dev(tmp_path):
    """tfhub.dev's BERT encoders are Keras 2 SavedModels (TF Model Garden saves
    a tf_keras model with dict inputs and outputs): one such, tiny, with dropout."""
    import tf_keras

    inputs = {name: tf_keras.Input((None,), dtype=tf.int32, name=name)
              for name in ("input_word_ids", "input_mask", "input_type_ids")}
    x = tf_keras.layers.Embedding(60, 8)(inputs["input_word_ids"])
    x = x + tf_keras.layers.Embedding(2, 8)(inputs["input_type_ids"])
    encoder_outputs = []
    for i in range(2):
        x = tf_keras.layers.Dense(8, activation="relu", name=f"layer_{i}")(
            tf_keras.layers.Dropout(0.3)(x))
        encoder_outputs.append(x)
    pooled = tf_keras.layers.Dense(8, activation="tanh", name="pooler")(x[:, 0])
    keras_2_model = tf_keras.Model(inputs, {
        "sequence_output": x, "pooled_output": pooled, "default": pooled,
        "encoder_outputs": encoder_outputs})
    keras_2_model.save(str(tmp_path), save_format="tf", include_optimizer=False)

    hub_encoder = HubEncoder(str(tmp_path))
    assert len(hub_encoder.trainable_weights) == len(keras_2_model.trainable_weights) == 8
    data = {"input_word_ids": np.arange(24, dtype="int32").reshape(4, 6),
            "input_mask": np.ones((4, 6), "int32"), "input_type_ids": np.zeros((4, 6), "int32")}
    assert_allclose(hub_encoder(data)["pooled_output"], keras_2_model(data)["pooled_output"],
                    atol=1e-6)
    inference = to_numpy(hub_encoder(data)["sequence_output"])
    assert not np.allclose(to_numpy(hub_encoder(data, training=True)["sequence_output"]),
                           inference)  # dropout on
    model = classifier(hub_encoder, num_classes=2)
    model.compile(optimizer=keras.optimizers.SGD(0.5),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    before = [to_numpy(v) for v in hub_encoder.weights]
    model.fit(data, np.array([0, 1, 0, 1]), verbose=0)
    assert all(not np.allclose(old, to_numpy(v)) for old, v in zip(before, hub_encoder.weights))
