"""The callbacks every tfzoo run gets, from its trainer config."""

import os

import keras
import numpy as np

from tfzoo.training.loop import random_states


class RandomStateBackup(keras.callbacks.Callback):
    """Backs up the random-number state of dropout and other random layers.

    Keras' weights files (and so `BackupAndRestore`) leave out the state of
    `SeedGenerator`s, so a resumed run would draw its dropout masks from the
    start again and drift from the uninterrupted run. This callback saves
    those states next to the backup at every epoch end and restores them when
    training starts again; `BackupAndRestore` removes the backup directory
    when training ends.
    """

    def __init__(self, backup_dir):
        super().__init__()
        self.path = os.path.join(backup_dir, "random_state.npz")

    def _states(self):
        return random_states(self.model)

    def on_train_begin(self, logs=None):
        if not os.path.isfile(self.path):
            return
        saved = np.load(self.path)
        states = self._states()
        if len(saved.files) != len(states):
            raise ValueError(f"{self.path} holds {len(saved.files)} random states; the model "
                             f"has {len(states)}. Was the backup made by another model?")
        for index, variable in enumerate(states):
            variable.assign(saved[str(index)])

    def on_epoch_end(self, epoch, logs=None):
        os.makedirs(os.path.dirname(self.path), exist_ok=True)
        arrays = {str(i): keras.ops.convert_to_numpy(v.value) for i, v in enumerate(self._states())}
        np.savez(self.path, **arrays)


class MonitorCheck(keras.callbacks.Callback):
    """Stops a run whose `trainer.checkpoint_monitor` names nothing it logs.

    Keras only warns when a monitored metric is missing, and then
    `ModelCheckpoint(save_best_only=True)` saves every epoch and
    `EarlyStopping` never stops. Which names exist depends on the model's
    compiled metrics, so the check waits for the first training step: the
    epoch logs of `model.fit` are that step's names (`loss` and the
    compiled metrics) plus, with validation data, each of them prefixed
    with `val_`.

    Args:
        monitor: the metric name, `trainer.checkpoint_monitor`.
        validation: whether the run has validation data.
    """

    def __init__(self, monitor, validation):
        super().__init__()
        self.monitor = monitor
        self.validation = validation
        self.checked = False

    def on_train_batch_end(self, batch, logs=None):
        if self.checked:
            return
        self.checked = True
        names = sorted(logs or {})
        if self.validation:
            names += [f"val_{name}" for name in names]
        if self.monitor not in names:
            without = "" if self.validation else " (this run has no validation data)"
            raise ValueError(f"trainer.checkpoint_monitor={self.monitor!r} is not a metric this "
                             f"model logs{without}; it logs: {', '.join(names)}")


def build_callbacks(trainer, model_dir, validation=True):
    """Progress, TensorBoard, best/last checkpoints, resume, NaN guard, early stop.

    Layout under `model_dir`:
        backup/          BackupAndRestore state (+ random state): a killed run
                         resumes here
        checkpoints/     last.weights.h5 and, with a monitor, best.weights.h5
        logs/            TensorBoard

    `validation`: whether `fit` gets validation data (for `MonitorCheck`).
    """
    callbacks = [
        keras.callbacks.TerminateOnNaN(),
        keras.callbacks.BackupAndRestore(os.path.join(model_dir, "backup")),
        RandomStateBackup(os.path.join(model_dir, "backup")),
        keras.callbacks.ModelCheckpoint(
            os.path.join(model_dir, "checkpoints", "last.weights.h5"), save_weights_only=True),
    ]
    if trainer.checkpoint_monitor:
        callbacks.insert(0, MonitorCheck(trainer.checkpoint_monitor, validation))
        callbacks.append(keras.callbacks.ModelCheckpoint(
            os.path.join(model_dir, "checkpoints", "best.weights.h5"),
            monitor=trainer.checkpoint_monitor, mode=trainer.checkpoint_mode,
            save_best_only=True, save_weights_only=True))
        if trainer.early_stopping_patience is not None:
            callbacks.append(keras.callbacks.EarlyStopping(
                monitor=trainer.checkpoint_monitor, mode=trainer.checkpoint_mode,
                patience=trainer.early_stopping_patience, restore_best_weights=True))
    if trainer.tensorboard:
        callbacks.append(keras.callbacks.TensorBoard(os.path.join(model_dir, "logs")))
    return callbacks
