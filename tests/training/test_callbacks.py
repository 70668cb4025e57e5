"""The callbacks of every run: a checkpoint monitor must name a logged metric."""

import keras
import numpy as np
import pytest

from tfzoo.training.callbacks import MonitorCheck, build_callbacks
from tfzoo.training.config import TrainerConfig


def fit(monitor, validation=True):
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    model.compile("sgd", keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  weighted_metrics=[keras.metrics.SparseCategoricalAccuracy(name="accuracy")])
    x, y = np.ones((8, 3), "float32"), np.zeros(8, "int32")
    return model.fit(x, y, validation_data=(x, y) if validation else None, epochs=2,
                     batch_size=4, verbose=0, callbacks=[MonitorCheck(monitor, validation)])


@pytest.mark.parametrize("monitor", ["loss", "accuracy", "val_loss", "val_accuracy"])
def test_logged_names_pass(monitor):
    assert monitor in fit(monitor).history


@pytest.mark.parametrize("monitor, validation", [("val_acc", True), ("acc", True),
                                                 ("val_accuracy", False)])
def test_a_name_the_model_does_not_log_stops_the_first_step(monitor, validation):
    with pytest.raises(ValueError) as error:
        fit(monitor, validation)
    message = str(error.value)
    assert f"trainer.checkpoint_monitor={monitor!r}" in message
    logged = message.split("it logs: ")[1]
    assert logged == ("accuracy, loss, val_accuracy, val_loss" if validation
                      else "accuracy, loss")


def test_build_callbacks_checks_the_monitor_first(tmp_path):
    trainer = TrainerConfig(checkpoint_monitor="val_accuracy", tensorboard=False)
    callbacks = build_callbacks(trainer, str(tmp_path), validation=False)
    assert isinstance(callbacks[0], MonitorCheck)
    assert callbacks[0].monitor == "val_accuracy" and not callbacks[0].validation
    assert not any(isinstance(c, MonitorCheck)
                   for c in build_callbacks(TrainerConfig(tensorboard=False), str(tmp_path)))
