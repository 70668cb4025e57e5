"""Keras metrics that task models report during training."""

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="tfzoo")
class Perplexity(keras.metrics.Metric):
    """exp(mean next-token cross-entropy) over weighted (non-padding) tokens.

    Use as a weighted metric on logits [B, T, V] with integer labels [B, T]
    and sample weights 0 on padding.
    """

    def __init__(self, name="perplexity", **kwargs):
        super().__init__(name=name, **kwargs)
        self.total = self.add_variable(shape=(), initializer="zeros", name="total")
        self.count = self.add_variable(shape=(), initializer="zeros", name="count")

    def update_state(self, y_true, y_pred, sample_weight=None):
        losses = keras.losses.sparse_categorical_crossentropy(
            y_true, ops.cast(y_pred, "float32"), from_logits=True)
        weights = ops.ones_like(losses) if sample_weight is None else ops.cast(
            ops.reshape(sample_weight, ops.shape(losses)), "float32")
        self.total.assign_add(ops.sum(losses * weights))
        self.count.assign_add(ops.sum(weights))

    def result(self):
        return ops.exp(self.total / ops.maximum(self.count, 1e-9))
