"""Runs an experiment: build, compile, fit, save. The same path for every task."""

import json
import os
import time

import keras
import tensorflow as tf
from absl import logging

from tfzoo.tasks import task_class
from tfzoo.training.callbacks import build_callbacks
from tfzoo.training.optimizers import build_optimizer


def set_up_runtime(runtime):
    """Seed and global dtype policy; returns the distribution strategy."""
    keras.utils.set_random_seed(runtime.seed)
    keras.config.set_dtype_policy(runtime.mixed_precision or "float32")
    if runtime.strategy != "default":
        raise ValueError(
            f"runtime.strategy={runtime.strategy!r} is not available yet; use 'default'.")
    return None


def resumed_epoch(model_dir):
    """The epoch a killed run resumes at (0 for a fresh run), from the backup
    `keras.callbacks.BackupAndRestore` keeps under model_dir/backup."""
    path = os.path.join(model_dir, "backup", "training_metadata.json")
    if not os.path.isfile(path):
        return 0
    with open(path) as f:
        return int(json.load(f)["epoch"])


def training_stream(epoch_dataset, batches_per_epoch, start_batch):
    """Endless batches: data epoch after data epoch, starting `start_batch` in.

    Each data epoch is `epoch_dataset(epoch)`, deterministic in the epoch, so
    starting at any batch replays exactly what an uninterrupted run reads there.
    """
    first_epoch, skip = divmod(start_batch, batches_per_epoch)
    stream = tf.data.Dataset.range(first_epoch, 2**62).flat_map(epoch_dataset)
    return stream.skip(skip).prefetch(tf.data.AUTOTUNE)


def train(experiment, model_dir, callbacks=()):
    """Trains `experiment` (an ExperimentConfig), writing everything to `model_dir`.

    A run killed part-way resumes when started again with the same
    `model_dir`: from the last completed epoch (`BackupAndRestore`), on the
    same data it would have read.

    Args:
        experiment: `ExperimentConfig`.
        model_dir: directory for backups, checkpoints, logs and the final model.
        callbacks: extra Keras callbacks.

    Returns:
        (model, summary dict, task).
    """
    os.makedirs(model_dir, exist_ok=True)
    set_up_runtime(experiment.runtime)
    trainer = experiment.trainer
    task = task_class(experiment.task.type)(experiment.task)

    epoch_dataset, validation_data, batches_per_epoch = task.datasets(
        trainer.batch_size, trainer.eval_batch_size or trainer.batch_size,
        seed=experiment.runtime.seed)
    steps_per_epoch = trainer.steps_per_epoch or batches_per_epoch
    start_epoch = resumed_epoch(model_dir)
    if start_epoch:
        logging.info("Resuming %s from epoch %d", model_dir, start_epoch)
    train_data = training_stream(epoch_dataset, batches_per_epoch, start_epoch * steps_per_epoch)
    total_steps = steps_per_epoch * trainer.epochs
    logging.info("Training %s for %d epochs x %d steps (batch %d) into %s",
                 experiment.task.type, trainer.epochs, steps_per_epoch, trainer.batch_size,
                 model_dir)

    model = task.build_model()
    model.compile(optimizer=build_optimizer(trainer.optimizer, total_steps),
                  jit_compile=experiment.runtime.jit_compile, **task.compile_kwargs())
    started = time.time()
    history = model.fit(
        train_data,
        epochs=trainer.epochs,
        steps_per_epoch=steps_per_epoch,
        validation_data=validation_data,
        callbacks=build_callbacks(trainer, model_dir) + list(callbacks),
        verbose=trainer.verbose,
    )
    elapsed = time.time() - started
    final_dir = os.path.join(model_dir, "final")
    model.save_pretrained(final_dir)
    preprocessor = task.build_preprocessor()
    if preprocessor is not None:
        # Tokenizer files beside the weights: the final directory is self-contained.
        preprocessor.save_pretrained(final_dir)
    summary = {
        "task": experiment.task.type,
        "epochs": trainer.epochs,
        "steps_per_epoch": steps_per_epoch,
        "train_seconds": round(elapsed, 1),
        "history": {k: [float(v) for v in values] for k, values in history.history.items()},
    }
    with open(os.path.join(model_dir, "train_summary.json"), "w") as f:
        json.dump(summary, f, indent=2)
    return model, summary, task
