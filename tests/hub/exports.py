"""Shared by the TF Hub export and import tests: tiny BERT parts, exports, classifiers."""

import contextlib
import sys
import types

import keras
import numpy as np

from tfzoo.export.hub import export_hub_encoder, export_hub_preprocessor
from tfzoo.models.bert.bert_backbone import BertBackbone, encoder_inputs
from tfzoo.models.bert.bert_pretrainer import BertPretrainer
from tfzoo.preprocessing import BertPreprocessor

SEQ_LENGTH = 16
WORDS = ["the", "a", "cat", "dog", "sat", "on", "mat", "hello", "world", "tf", "hub", "pre",
         "##s", "##ing", ".", ",", "!", "?"]
VOCABULARY = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"] + WORDS
VOCABULARY += [f"word{i}" for i in range(60 - len(VOCABULARY))]
TEXTS = ["Hello world!", "The cats sat on the mat, the dogs sat too.", "TF Hub"]


def tiny_bert():
    """(preprocessor, backbone, pretrainer): vocabulary 60, 2 layers, width 16, no dropout."""
    preprocessor = BertPreprocessor(VOCABULARY, lower_case=True, seq_length=SEQ_LENGTH)
    backbone = BertBackbone(vocabulary_size=len(VOCABULARY), num_layers=2, num_heads=2,
                            hidden_dim=16, intermediate_dim=32, max_sequence_length=40,
                            dropout=0.0)
    return preprocessor, backbone, BertPretrainer(backbone)


def export_pair(directory, preprocessor, backbone, pretrainer=None, seq_length=SEQ_LENGTH):
    """Exports both SavedModels under `directory`; returns their paths."""
    encoder_dir, preprocessor_dir = str(directory / "encoder"), str(directory / "preprocessor")
    export_hub_encoder(backbone, encoder_dir, preprocessor=preprocessor, pretrainer=pretrainer)
    export_hub_preprocessor(preprocessor, preprocessor_dir, seq_length=seq_length)
    return encoder_dir, preprocessor_dir


def classifier(encoder, num_classes=3):
    """keras.Input dict -> encoder -> pooled_output -> Dense, the fine-tuning model."""
    inputs = encoder_inputs()
    pooled = encoder(inputs)["pooled_output"]
    return keras.Model(inputs, keras.layers.Dense(num_classes, name="head")(pooled))


def numpy_inputs(preprocessor, texts=TEXTS):
    return {name: np.asarray(value) for name, value in preprocessor(texts).items()}


@contextlib.contextmanager
def _pkg_resources_stand_in():
    """tensorflow_hub 0.16.1 imports `pkg_resources` for a version check only, and
    setuptools 82+ no longer ships it (tensorflow/hub#934, open): lend it
    packaging's `parse_version` while tensorflow_hub is imported."""
    try:
        import pkg_resources  # noqa: F401
        yield
        return
    except ImportError:
        pass
    from packaging.version import parse

    stand_in = types.ModuleType("pkg_resources")
    stand_in.parse_version = parse
    sys.modules["pkg_resources"] = stand_in
    try:
        yield
    finally:
        del sys.modules["pkg_resources"]


def import_tensorflow_hub():
    with _pkg_resources_stand_in():
        import tensorflow_hub
    return tensorflow_hub
