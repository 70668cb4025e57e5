"""Epochs as deterministic functions of their index.

A run that is killed and resumed must read exactly the batches an
uninterrupted run reads. `shuffled_batches` permutes in-memory examples with a
stateless shuffle seeded by (seed, epoch), so epoch k is the same whenever it
is built.
"""

import tensorflow as tf


def shuffled_batches(examples, batch_size, seed, epoch, drop_remainder=False):
    """Batches of `examples` in an order fixed by (seed, epoch).

    Args:
        examples: nested structure of tensors (dense or ragged) whose first
            dimension indexes the examples.
        batch_size: int.
        seed: int, the run's seed.
        epoch: int or int64 scalar tensor.
        drop_remainder: drop the last partial batch.

    Returns:
        A `tf.data.Dataset` of batches with the structure of `examples`.
    """
    count = tf.shape(tf.nest.flatten(examples)[0], out_type=tf.int64)[0]
    key = tf.stack([tf.cast(seed, tf.int64), tf.cast(epoch, tf.int64)])
    order = tf.random.experimental.stateless_shuffle(tf.range(count), seed=key)
    indices = tf.data.Dataset.from_tensor_slices(order).batch(
        batch_size, drop_remainder=drop_remainder)
    return indices.map(lambda index: tf.nest.map_structure(
        lambda tensor: tf.gather(tensor, index), examples))


def in_memory_datasets(train, validation, batch_size, eval_batch_size, seed):
    """What a task's `datasets` returns, for examples already tokenized in memory.

    Args:
        train: nested structure of tensors, first dimension the examples.
        validation: the same for validation, or None.
        batch_size, eval_batch_size, seed: as in `shuffled_batches`.

    Returns:
        (epoch_dataset, validation_dataset or None, steps_per_epoch), where
        `epoch_dataset(epoch)` gives that epoch's shuffled batches.
    """

    def epoch_dataset(epoch):
        return shuffled_batches(train, batch_size, seed, epoch)

    validation_dataset = None
    if validation is not None:
        validation_dataset = tf.data.Dataset.from_tensor_slices(validation).batch(eval_batch_size)
    count = int(tf.nest.flatten(train)[0].shape[0])
    return epoch_dataset, validation_dataset, -(-count // batch_size)
