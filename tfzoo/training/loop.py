"""A custom training loop for every tf.distribute strategy.

Keras 3 `model.fit` is broken under MultiWorkerMirroredStrategy (keras#20585)
and does not support ParameterServerStrategy. `Trainer` runs the same model,
loss, optimizer, metrics and Keras callbacks with `strategy.run`:

- each replica's loss is divided by the GLOBAL denominator (the global batch,
  or the global sum of sample weights for weighted losses, all-reduced), and
  the optimizer sums the replicas' gradients: exactly the single-device
  gradient of the global batch;
- input comes from `distribute_datasets_from_function`: every worker builds
  the same deterministic global batches and keeps its replicas' slices, so a
  run on N replicas sees the batches one device sees;
- `tf.train.CheckpointManager` saves every `checkpoint_every` steps and at
  each epoch end, with the dropout layers' random states; a restarted job
  restores the latest checkpoint and resumes the data stream at the restored
  step (no lost or repeated steps, the same dropout masks); under
  MultiWorkerMirroredStrategy a `PreemptionCheckpointHandler` also saves when
  a worker is told to stop (SIGTERM). Only the chief writes to the real paths.
"""

import os

import keras
import numpy as np
import tensorflow as tf
from absl import logging

from tfzoo.distribute.strategies import check_global_batch_size, is_chief, write_path


def _per_element_loss(loss_fn, y_true, y_pred):
    """Unreduced losses of a Keras Loss (before its reduction)."""
    return loss_fn.call(y_true, y_pred)


def random_states(model):
    """The state variables of the model's `keras.random.SeedGenerator`s (dropout
    masks): `model.weights`, and so the model's checkpoint, leave them out."""
    return [v for v in model.variables if "seed_generator_state" in v.path]


class Trainer:
    """Trains a Keras model under any strategy with a custom loop.

    Args:
        model: a Keras model created under `strategy.scope()`.
        loss: a Keras `Loss`, or a dict of them keyed like the model's outputs.
        optimizer: a Keras optimizer created under `strategy.scope()`.
        strategy: the tf.distribute strategy.
        global_batch_size: examples per step across all replicas.
        eval_batch_size: examples per evaluation step across all replicas;
            None: global_batch_size.
        model_dir: checkpoints go to model_dir/checkpoints (chief) .
        metrics: Keras metrics (or a dict of lists keyed by output) updated with
            sample weights.
        jit_compile: XLA-compile the replica step.
        checkpoint_every: save every N steps (and at every epoch end).
        callbacks: Keras callbacks (progress bar and history are added).
    """

    def __init__(self, model, loss, optimizer, strategy, global_batch_size, model_dir,
                 metrics=(), jit_compile=False, checkpoint_every=None, callbacks=(),
                 eval_batch_size=None):
        eval_batch_size = eval_batch_size or global_batch_size
        check_global_batch_size(global_batch_size, strategy)
        check_global_batch_size(eval_batch_size, strategy, key="eval_batch_size")
        self.model = model
        self.loss = loss
        self.optimizer = optimizer
        self.strategy = strategy
        self.global_batch_size = global_batch_size
        self.eval_batch_size = eval_batch_size
        self.model_dir = model_dir
        self.metrics = metrics
        self.jit_compile = jit_compile
        self.checkpoint_every = checkpoint_every
        self.callbacks = list(callbacks)
        self.parameter_server = isinstance(
            strategy, tf.distribute.experimental.ParameterServerStrategy)
        with strategy.scope():
            self.step = tf.Variable(0, dtype=tf.int64, trainable=False, name="global_step")
            # Slots now, not lazily inside the first distributed step (a cond
            # in the replica context cannot create mirrored variables).
            optimizer.build(model.trainable_variables)
        # Without the random states a resumed run would replay the dropout
        # masks of step 0 and drift from the uninterrupted run.
        checkpoint = tf.train.Checkpoint(model=model, optimizer=optimizer, step=self.step,
                                         random_states=random_states(model))
        directory = write_path(os.path.join(model_dir, "checkpoints"), strategy)
        self.manager = tf.train.CheckpointManager(checkpoint, directory, max_to_keep=3)
        self.preemption = None
        if isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy):
            # Saves when a worker receives SIGTERM; restores the latest checkpoint now.
            self.preemption = tf.distribute.experimental.PreemptionCheckpointHandler(
                strategy.cluster_resolver, self.manager)
        elif self.manager.latest_checkpoint:
            checkpoint.restore(self.manager.latest_checkpoint)
        if int(self.step.numpy()):
            logging.info("Restored step %d from %s", int(self.step.numpy()), directory)

    # === Loss and steps ===
    def _global_loss(self, targets, predictions, weights):
        """This replica's share of the global loss; summed over replicas it is the
        single-device loss of the global batch."""
        losses = self.loss if isinstance(self.loss, dict) else None
        keys = list(losses) if losses else [None]
        context = tf.distribute.get_replica_context()
        total = 0.0
        for key in keys:
            loss_fn = losses[key] if losses else self.loss
            y_true = targets[key] if key is not None else targets
            y_pred = tf.cast(predictions[key] if key is not None else predictions, tf.float32)
            per_element = _per_element_loss(loss_fn, y_true, y_pred)
            w = weights.get(key) if isinstance(weights, dict) else weights
            w = tf.ones_like(per_element) if w is None else tf.cast(
                tf.reshape(w, tf.shape(per_element)), tf.float32)
            numerator = tf.reduce_sum(per_element * w)
            if loss_fn.reduction == "mean_with_sample_weight":
                denominator = tf.reduce_sum(w)
            else:
                denominator = tf.cast(tf.size(per_element), tf.float32)
            if not self.parameter_server:  # synchronous: the global denominator
                denominator = context.all_reduce(tf.distribute.ReduceOp.SUM, denominator)
            total += numerator / tf.maximum(denominator, 1e-9)
        return total

    def _update_metrics(self, targets, predictions, weights):
        if isinstance(self.metrics, dict):
            for key, metrics in self.metrics.items():
                w = weights.get(key) if isinstance(weights, dict) else None
                for metric in metrics:
                    metric.update_state(targets[key], predictions[key], sample_weight=w)
        else:
            for metric in self.metrics:
                metric.update_state(targets, predictions, sample_weight=weights)

    def _train_replica_step(self, batch):
        features, targets, weights = _unpack(batch)
        with tf.GradientTape() as tape:
            predictions = self.model(features, training=True)
            loss = self._global_loss(targets, predictions, weights)
            scaled = self.optimizer.scale_loss(loss)
        gradients = tape.gradient(scaled, self.model.trainable_variables)
        self.optimizer.apply_gradients(zip(gradients, self.model.trainable_variables))
        self._update_metrics(targets, predictions, weights)
        return loss

    def _eval_replica_step(self, batch):
        features, targets, weights = _unpack(batch)
        predictions = self.model(features, training=False)
        loss = self._global_loss(targets, predictions, weights)
        self._update_metrics(targets, predictions, weights)
        return loss

    def _distributed(self, replica_fn):
        if self.jit_compile:
            replica_fn = tf.function(replica_fn, jit_compile=True)

        @tf.function
        def step(iterator):
            per_replica = self.strategy.run(replica_fn, args=(next(iterator),))
            return self.strategy.reduce(tf.distribute.ReduceOp.SUM, per_replica, axis=None)

        return step

    # === Input ===
    def distribute(self, make_global_batches, global_batch_size=None):
        """Per-replica slices of global batches, for `strategy.run`.

        Every input pipeline builds all global batches with
        `make_global_batches()` (inside the pipeline function: parameter-server
        workers build their own) and keeps, in order, the slices of its own
        replicas. Batches smaller than the global batch size (an epoch's last
        one) are skipped. `global_batch_size`: None for the training one.
        """
        size = global_batch_size or self.global_batch_size

        def dataset_fn(context):
            complete = make_global_batches().filter(
                lambda *batch: tf.shape(tf.nest.flatten(batch)[0])[0] == size)
            per_replica = context.get_per_replica_batch_size(size)
            local = context.num_replicas_in_sync // context.num_input_pipelines
            first = context.input_pipeline_id * local

            def slices(*batch):
                pieces = [tf.nest.map_structure(
                    lambda t, r=r: t[(first + r) * per_replica:(first + r + 1) * per_replica],
                    batch) for r in range(local)]
                return tf.data.Dataset.from_tensor_slices(
                    tf.nest.map_structure(lambda *p: tf.stack(p), *pieces))

            return complete.flat_map(slices).prefetch(tf.data.AUTOTUNE)

        if self.parameter_server:
            # Built on each worker by the coordinator.
            return lambda: self.strategy.distribute_datasets_from_function(dataset_fn)
        return self.strategy.distribute_datasets_from_function(dataset_fn)

    # === The loop ===
    def fit(self, stream_fn, epochs, steps_per_epoch, validation_data=None, verbose=1):
        """Trains for `epochs` x `steps_per_epoch` steps.

        Args:
            stream_fn: `start_step -> tf.data.Dataset` of global batches from
                that step on (the trainer resumes it where the checkpoint left).
            validation_data: a dataset of global batches, or None.

        Returns:
            history dict: metric name -> per-epoch values (from this run).
        """
        start = int(self.step.numpy())
        initial_epoch = start // steps_per_epoch
        chief = is_chief(self.strategy)
        callbacks = keras.callbacks.CallbackList(
            self.callbacks, add_history=True, add_progbar=bool(verbose) and chief,
            model=self.model, verbose=verbose, epochs=epochs, steps=steps_per_epoch)
        train_step = self._distributed(self._train_replica_step)
        eval_step = self._distributed(self._eval_replica_step)
        if self.parameter_server:
            coordinator = tf.distribute.experimental.coordinator.ClusterCoordinator(self.strategy)
            dataset = coordinator.create_per_worker_dataset(
                self.distribute(lambda: stream_fn(start)))
            iterator = iter(dataset)
        else:
            iterator = iter(self.distribute(lambda: stream_fn(start)))

        callbacks.on_train_begin()
        self.model.stop_training = False
        for epoch in range(initial_epoch, epochs):
            callbacks.on_epoch_begin(epoch)
            for metric in keras.tree.flatten(self.metrics):
                metric.reset_state()
            losses = []
            first_batch = start - epoch * steps_per_epoch if epoch == initial_epoch else 0
            for batch in range(first_batch, steps_per_epoch):
                callbacks.on_train_batch_begin(batch)
                if self.parameter_server:
                    loss = coordinator.schedule(train_step, args=(iterator,))
                elif self.preemption is not None:
                    loss = self.preemption.run(train_step, iterator)
                else:
                    loss = train_step(iterator)
                self.step.assign_add(1)
                if self.parameter_server:
                    coordinator.join()
                    loss = loss.fetch()
                losses.append(float(loss))
                logs = {"loss": float(np.mean(losses)), **self._metric_logs()}
                callbacks.on_train_batch_end(batch, logs)
                if self.checkpoint_every and int(self.step.numpy()) % self.checkpoint_every == 0:
                    self.manager.save(checkpoint_number=self.step)
                if self.model.stop_training:
                    break
            logs = {"loss": float(np.mean(losses)) if losses else float("nan"),
                    **self._metric_logs()}
            if validation_data is not None and not self.parameter_server:
                logs.update(self.evaluate(validation_data, eval_step))
            self.manager.save(checkpoint_number=self.step)
            callbacks.on_epoch_end(epoch, logs)
            if self.model.stop_training:
                break
        callbacks.on_train_end(logs if epochs > initial_epoch else None)
        history = self.model.history.history if self.model.history else {}
        return dict(history)

    def evaluate(self, validation_data, eval_step=None):
        """{"val_loss", "val_<metric>"} over the whole validation dataset."""
        eval_step = eval_step or self._distributed(self._eval_replica_step)
        for metric in keras.tree.flatten(self.metrics):
            metric.reset_state()
        distributed = self.distribute(lambda: validation_data, self.eval_batch_size)
        iterator, losses = iter(distributed), []
        while True:
            try:
                losses.append(float(eval_step(iterator)))
            except (StopIteration, tf.errors.OutOfRangeError):
                break
        results = {"val_loss": float(np.mean(losses)) if losses else float("nan")}
        results.update({f"val_{k}": v for k, v in self._metric_logs().items()})
        return results

    def _metric_logs(self):
        logs = {}
        if isinstance(self.metrics, dict):
            for key, metrics in self.metrics.items():
                for metric in metrics:
                    logs[f"{key}_{metric.name}"] = float(metric.result())
        else:
            for metric in self.metrics:
                logs[metric.name] = float(metric.result())
        return logs


def _unpack(batch):
    """(features, targets, weights) from a 2- or 3-element batch."""
    if len(batch) == 3:
        return batch
    return batch[0], batch[1], None
