"""XLNet pretraining through the shared trainer: the permutation-LM loss falls on
the shipped corpus, and the final directory reloads."""

import math
import os

import numpy as np
import pytest

from tfzoo.models.xlnet import XLNetLMHead
from tfzoo.preprocessing.xlnet_preprocessor import XLNetPreprocessor
from tfzoo.tasks import task_class
from tfzoo.training.config import load_experiment
from tfzoo.training.trainer import train

CONFIG = os.path.join(os.path.dirname(__file__), "..", "..", "configs", "xlnet",
                      "pretrain_xlnet_tiny.yaml")


def test_permutation_lm_loss_falls(tmp_path):
    experiment = load_experiment(CONFIG, ["trainer.epochs=3", "trainer.verbose=0",
                                          "trainer.tensorboard=false"])
    model, summary, task = train(experiment, str(tmp_path))
    history = summary["history"]
    losses, validation = history["loss"], history["val_loss"]
    assert all(b < a for a, b in zip(losses, losses[1:])), losses
    assert all(b < a for a, b in zip(validation, validation[1:])), validation
    vocabulary = model.backbone.vocabulary_size
    assert vocabulary == 250  # from the sample spiece.model
    assert validation[-1] < 0.8 * math.log(vocabulary)  # well below the uniform guess

    # The final directory holds the model and its SentencePiece model.
    final = str(tmp_path / "final")
    restored = XLNetLMHead.from_pretrained(final)
    preprocessor = XLNetPreprocessor.from_pretrained(final)
    assert preprocessor.get_special_tokens_dict()["vocab_size"] == vocabulary
    _, validation_data, _ = task.datasets(8, 8)
    features, _, _ = next(iter(validation_data))
    np.testing.assert_allclose(restored.predict(features, verbose=0),
                               model.predict(features, verbose=0), atol=1e-5)


def test_needs_a_sentencepiece_model():
    experiment = load_experiment(CONFIG, ["task.spiece_model=null"])
    task = task_class("xlnet_pretraining")(experiment.task)
    with pytest.raises(ValueError, match="task.spiece_model is required"):
        task.build_preprocessor()
