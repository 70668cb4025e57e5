"""Losses the tasks train with."""

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="tfzoo")
class LabelSmoothedCrossEntropy(keras.losses.Loss):
    """Cross-entropy against smoothed targets (Szegedy et al. 2016; Vaswani et
    al. 2017, section 5.4, epsilon 0.1), from integer labels and logits.

    The target distribution is (1 - epsilon) on the label plus epsilon / V on
    every class, as `keras.losses.CategoricalCrossentropy(label_smoothing=...)`
    builds it, computed from log-softmax without a one-hot [B, T, V] tensor.
    Averaged over weighted positions only, so padding (weight 0) is ignored.

    Args:
        epsilon: float in [0, 1).
    """

    def __init__(self, epsilon=0.1, name="label_smoothed_cross_entropy",
                 reduction="mean_with_sample_weight", **kwargs):
        super().__init__(name=name, reduction=reduction, **kwargs)
        if not 0.0 <= epsilon < 1.0:
            raise ValueError(f"epsilon must be in [0, 1). Received: epsilon={epsilon!r}")
        self.epsilon = float(epsilon)

    def call(self, y_true, y_pred):
        log_probs = ops.log_softmax(ops.cast(y_pred, "float32"), axis=-1)  # (..., V)
        labels = ops.expand_dims(ops.cast(y_true, "int32"), -1)
        label_term = -ops.squeeze(ops.take_along_axis(log_probs, labels, axis=-1), -1)
        uniform_term = -ops.mean(log_probs, axis=-1)
        return (1.0 - self.epsilon) * label_term + self.epsilon * uniform_term

    def get_config(self):
        return {**super().get_config(), "epsilon": self.epsilon}
