"""The callbacks every tfzoo run gets, from its trainer config."""

import os

import keras


def build_callbacks(trainer, model_dir):
    """Progress, TensorBoard, best/last checkpoints, resume, NaN guard, early stop.

    Layout under `model_dir`:
        backup/          BackupAndRestore state: a killed run resumes here
        checkpoints/     last.weights.h5 and, with a monitor, best.weights.h5
        logs/            TensorBoard
    """
    callbacks = [
        keras.callbacks.TerminateOnNaN(),
        keras.callbacks.BackupAndRestore(os.path.join(model_dir, "backup")),
        keras.callbacks.ModelCheckpoint(
            os.path.join(model_dir, "checkpoints", "last.weights.h5"), save_weights_only=True),
    ]
    if trainer.checkpoint_monitor:
        callbacks.append(keras.callbacks.ModelCheckpoint(
            os.path.join(model_dir, "checkpoints", "best.weights.h5"),
            monitor=trainer.checkpoint_monitor, mode=trainer.checkpoint_mode,
            save_best_only=True, save_weights_only=True))
        if trainer.early_stopping_patience is not None:
            callbacks.append(keras.callbacks.EarlyStopping(
                monitor=trainer.checkpoint_monitor, mode=trainer.checkpoint_mode,
                patience=trainer.early_stopping_patience, restore_best_weights=True))
    elif trainer.early_stopping_patience is not None:
        raise ValueError("trainer.early_stopping_patience needs trainer.checkpoint_monitor.")
    if trainer.tensorboard:
        callbacks.append(keras.callbacks.TensorBoard(os.path.join(model_dir, "logs")))
    return callbacks
