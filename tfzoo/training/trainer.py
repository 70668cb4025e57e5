"""Runs an experiment: build, compile, fit, save. The same path for every task."""

import json
import os
import time

import keras
import tensorflow as tf
from absl import logging

from tfzoo.distribute.strategies import (
    FIT_STRATEGIES,
    check_global_batch_size,
    get_strategy,
    is_chief,
    write_path,
)
from tfzoo.tasks import task_class
from tfzoo.training.callbacks import build_callbacks
from tfzoo.training.loop import Trainer
from tfzoo.training.optimizers import build_optimizer, check_weight_decay_exclusions


def set_up_runtime(runtime):
    """Seed and global dtype policy; returns the distribution strategy."""
    keras.utils.set_random_seed(runtime.seed)
    keras.config.set_dtype_policy(runtime.mixed_precision or "float32")
    return get_strategy(runtime.strategy, devices=runtime.devices,
                        all_reduce=runtime.all_reduce, tpu_address=runtime.tpu_address)


def resumed_epoch(model_dir):
    """The epoch a killed run resumes at (0 for a fresh run), from the backup
    `keras.callbacks.BackupAndRestore` keeps under model_dir/backup."""
    path = os.path.join(model_dir, "backup", "training_metadata.json")
    if not os.path.isfile(path):
        return 0
    with open(path) as f:
        return int(json.load(f)["epoch"])


def training_stream(epoch_dataset, batches_per_epoch, start_batch, autotune=True):
    """Endless batches: data epoch after data epoch, starting `start_batch` in.

    Each data epoch is `epoch_dataset(epoch)`, deterministic in the epoch, so
    starting at any batch replays exactly what an uninterrupted run reads there.
    `autotune=False` turns tf.data's autotuning off (see `input_autotune`).
    """
    first_epoch, skip = divmod(start_batch, batches_per_epoch)
    stream = tf.data.Dataset.range(first_epoch, 2**62).flat_map(epoch_dataset)
    return with_autotune(stream.skip(skip).prefetch(tf.data.AUTOTUNE), autotune)


def input_autotune(runtime):
    """Whether tf.data autotunes the input pipelines: `runtime.data_autotune`,
    or when null, on where a GPU or TPU runs the model and off on CPU-only hosts.

    On a CPU-only host the model and the pipeline share the cores, and the
    tuner's thread takes them from the model: with it on, the demo's training
    took 150 and 153 s on 2 cores, without it 125 and 137 s, and single
    `fit` calls of BERT-base ran every step 1.65x slower at random
    (docs/benchmarks.md). tfzoo's pipelines tokenize once, before training,
    so they have little to tune.
    """
    if runtime.data_autotune is not None:
        return runtime.data_autotune
    return runtime.strategy == "tpu" or bool(tf.config.list_logical_devices("GPU"))


def with_autotune(dataset, autotune):
    """`dataset` with tf.data autotuning on or off (None passes through)."""
    if dataset is None or autotune:
        return dataset
    options = tf.data.Options()
    options.autotune.enabled = False
    return dataset.with_options(options)


def train(experiment, model_dir, callbacks=()):
    """Trains `experiment` (an ExperimentConfig), writing everything to `model_dir`.

    A run killed part-way resumes when started again with the same
    `model_dir`, on the same data it would have read: from the last completed
    epoch (`BackupAndRestore`) with `model.fit`, from the last checkpoint with
    the custom loop.

    Under default, one_device and mirrored strategies this is Keras'
    `model.fit`; under multi_worker_mirrored, parameter_server and tpu it is
    `tfzoo.training.loop.Trainer`, with the same model, loss, optimizer and
    metrics. Models, optimizers and metrics are created under the
    strategy's scope; `trainer.batch_size` is the global batch.

    Args:
        experiment: `ExperimentConfig`.
        model_dir: directory for backups, checkpoints, logs and the final model.
        callbacks: extra Keras callbacks.

    Returns:
        (model, summary dict, task).
    """
    policy = keras.config.dtype_policy()
    try:
        return _train(experiment, model_dir, callbacks)
    finally:  # runtime.mixed_precision applies to this run, not to the caller's later models
        keras.config.set_dtype_policy(policy)


def _train(experiment, model_dir, callbacks):
    os.makedirs(model_dir, exist_ok=True)
    strategy = set_up_runtime(experiment.runtime)
    trainer = experiment.trainer
    # Both loops, before anything is built: model.fit would split an uneven
    # batch unevenly and fail inside its first step (AddN of unequal shapes).
    check_global_batch_size(trainer.batch_size, strategy, key="trainer.batch_size")
    if trainer.eval_batch_size is not None:
        check_global_batch_size(trainer.eval_batch_size, strategy,
                                key="trainer.eval_batch_size")
    task = task_class(experiment.task.type)(experiment.task)

    eval_batch_size = (trainer.batch_size if trainer.eval_batch_size is None
                       else trainer.eval_batch_size)
    epoch_dataset, validation_data, batches_per_epoch = task.datasets(
        trainer.batch_size, eval_batch_size, seed=experiment.runtime.seed)
    autotune = input_autotune(experiment.runtime)
    validation_data = with_autotune(validation_data, autotune)
    steps_per_epoch = (batches_per_epoch if trainer.steps_per_epoch is None
                       else trainer.steps_per_epoch)
    total_steps = steps_per_epoch * trainer.epochs
    logging.info("Training %s for %d epochs x %d steps (global batch %d, %s strategy) into %s",
                 experiment.task.type, trainer.epochs, steps_per_epoch, trainer.batch_size,
                 experiment.runtime.strategy, model_dir)
    with strategy.scope():
        model = task.build_model()
        optimizer = build_optimizer(trainer.optimizer, total_steps)
    # A config asking for longer inputs than the model takes fails here,
    # naming both values, not inside the first training step.
    task.check_model(model)
    check_weight_decay_exclusions(trainer.optimizer, model)
    started = time.time()
    runtime = experiment.runtime
    use_fit = runtime.loop == "fit" or (runtime.loop == "auto"
                                         and runtime.strategy in FIT_STRATEGIES)
    if use_fit:
        history = _fit(model, optimizer, strategy, task, experiment, epoch_dataset,
                       validation_data, batches_per_epoch, steps_per_epoch, model_dir,
                       callbacks, autotune)
    else:
        history = _custom_loop(model, optimizer, strategy, task, experiment, epoch_dataset,
                               validation_data, batches_per_epoch, steps_per_epoch, model_dir,
                               callbacks, autotune)
    elapsed = time.time() - started
    final_dir = write_path(os.path.join(model_dir, "final"), strategy)
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
        "strategy": experiment.runtime.strategy,
        "replicas": strategy.num_replicas_in_sync,
        "history": {k: [float(v) for v in values] for k, values in history.items()},
    }
    if is_chief(strategy):
        with open(os.path.join(model_dir, "train_summary.json"), "w") as f:
            json.dump(summary, f, indent=2)
    return model, summary, task


def _fit(model, optimizer, strategy, task, experiment, epoch_dataset, validation_data,
         batches_per_epoch, steps_per_epoch, model_dir, callbacks, autotune):
    """Keras' model.fit, resumable through BackupAndRestore."""
    trainer = experiment.trainer
    start_epoch = resumed_epoch(model_dir)
    if start_epoch:
        logging.info("Resuming %s from epoch %d", model_dir, start_epoch)
    train_data = training_stream(epoch_dataset, batches_per_epoch, start_epoch * steps_per_epoch,
                                 autotune)
    with strategy.scope():
        model.compile(optimizer=optimizer, jit_compile=experiment.runtime.jit_compile,
                      **task.compile_kwargs())
    history = model.fit(
        train_data,
        epochs=trainer.epochs,
        steps_per_epoch=steps_per_epoch,
        validation_data=validation_data,
        callbacks=build_callbacks(trainer, model_dir, validation=validation_data is not None)
        + list(callbacks),
        verbose=trainer.verbose,
        shuffle=False,  # the tf.data pipelines shuffle (seeded); fit would warn it ignores it
    )
    return history.history


def _custom_loop(model, optimizer, strategy, task, experiment, epoch_dataset, validation_data,
                 batches_per_epoch, steps_per_epoch, model_dir, callbacks, autotune):
    """tfzoo's Trainer: the strategies model.fit cannot run."""
    trainer = experiment.trainer
    compile_kwargs = task.compile_kwargs()
    with strategy.scope():
        loss = compile_kwargs.get("loss") or model.default_loss()
        metrics = compile_kwargs.get("weighted_metrics")
        if metrics is None:
            metrics = model.default_metrics()
        if keras.config.dtype_policy().name == "mixed_float16":
            optimizer = keras.optimizers.LossScaleOptimizer(optimizer)
    extra = [keras.callbacks.TerminateOnNaN()]
    if trainer.tensorboard and is_chief(strategy):
        extra.append(keras.callbacks.TensorBoard(os.path.join(model_dir, "logs")))
    loop = Trainer(model, loss, optimizer, strategy, trainer.batch_size, model_dir,
                   metrics=metrics, jit_compile=experiment.runtime.jit_compile,
                   checkpoint_every=trainer.checkpoint_every_steps,
                   callbacks=extra + list(callbacks), eval_batch_size=trainer.eval_batch_size)
    return loop.fit(lambda start: training_stream(epoch_dataset, batches_per_epoch, start, autotune),
                    trainer.epochs, steps_per_epoch, validation_data, verbose=trainer.verbose)
