"""BERT task heads: shapes, default compile, a training step, serialization,
and a tiny fine-tune that must learn a synthetic task."""

import numpy as np
import pytest

from tests.reference_models import encoder_inputs
from tests.testing import run_model_test
from tfzoo.models.bert import BertBackbone, BertClassifier, BertSpanLabeler, BertTokenClassifier

TINY = dict(vocabulary_size=60, num_layers=2, num_heads=4, hidden_dim=16, intermediate_dim=32,
            max_sequence_length=40)


def tiny_backbone(**overrides):
    return BertBackbone(**{**TINY, **overrides})


def test_classifier():
    classifier = BertClassifier(tiny_backbone(), num_classes=3)
    inputs = encoder_inputs(pairs=True)
    assert classifier(inputs).shape == (2, 3)
    run_model_test(BertClassifier, classifier, inputs)


def test_token_classifier():
    tagger = BertTokenClassifier(tiny_backbone(), num_classes=5)
    inputs = encoder_inputs()
    assert tagger(inputs).shape == (2, 8, 5)
    run_model_test(BertTokenClassifier, tagger, inputs)


def test_span_labeler():
    labeler = BertSpanLabeler(tiny_backbone())
    inputs = encoder_inputs(pairs=True)
    outputs = labeler(inputs)
    assert outputs["start_logits"].shape == (2, 8) and outputs["end_logits"].shape == (2, 8)
    run_model_test(BertSpanLabeler, labeler, inputs)
    labeler.compile(optimizer="adam")
    history = labeler.fit(inputs, {"start_logits": np.array([1, 2]), "end_logits": np.array([3, 5])},
                          epochs=2, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]


def test_classifier_learns_a_synthetic_task():
    """Label = whether token 7 occurs: needs attention over the whole sequence."""
    rng = np.random.default_rng(0)
    ids = rng.integers(10, 60, size=(512, 12)).astype("int32")
    labels = rng.integers(0, 2, size=512)
    positions = rng.integers(1, 12, size=512)
    ids[labels == 1, positions[labels == 1]] = 7
    ids[:, 0] = 2  # a [CLS]-like start token
    inputs = {"input_word_ids": ids, "input_mask": np.ones_like(ids),
              "input_type_ids": np.zeros_like(ids)}
    classifier = BertClassifier(tiny_backbone(hidden_dim=32, intermediate_dim=64, dropout=0.0),
                                num_classes=2, dropout=0.0)
    import keras

    classifier.compile(optimizer=keras.optimizers.Adam(3e-3))
    classifier.fit({k: v[:448] for k, v in inputs.items()}, labels[:448], batch_size=32,
                   epochs=12, verbose=0)
    _, accuracy = classifier.evaluate({k: v[448:] for k, v in inputs.items()}, labels[448:],
                                      verbose=0)
    assert accuracy > 0.9


def test_bad_arguments():
    with pytest.raises(ValueError, match="num_classes=0"):
        BertClassifier(tiny_backbone(), num_classes=0)
    with pytest.raises(ValueError, match="dropout=1.2"):
        BertTokenClassifier(tiny_backbone(), num_classes=2, dropout=1.2)
