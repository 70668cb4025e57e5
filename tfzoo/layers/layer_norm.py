"""LayerNorm (Ba et al. 2016) whose backward pass keeps only its input and two row statistics."""

import keras
from keras import ops


def layer_norm(x, gamma, beta, epsilon):
    """LayerNorm over the last axis, computed in float32, with a recomputing gradient.

    y = (x - mean) / sqrt(var + epsilon) * gamma + beta, rows being the last
    axis. The values are those of `keras.ops.layer_normalization` (within
    float32 rounding). Automatic differentiation of that op keeps float32
    intermediates of the whole [rows, width] input for the backward pass;
    here the backward pass keeps `x` (in its own dtype) and the per-row mean
    and reciprocal standard deviation, and rebuilds the normalised input
    from them:
        x_hat = (x - mean) * rstd,  g = dy * gamma
        dx = rstd * (g - mean(g) - x_hat * mean(g * x_hat))
        dgamma = sum over rows of dy * x_hat,  dbeta = sum over rows of dy

    Args:
        x: [..., D] tensor, any float dtype; the output has the same dtype.
        gamma: [D] scale. beta: [D] offset. Both are used in float32.
        epsilon: float added to the variance.
    """
    row_axes = tuple(range(len(x.shape) - 1))

    @ops.custom_gradient
    def forward(x, gamma, beta):
        x32 = ops.cast(x, "float32")
        gamma32 = ops.cast(gamma, "float32")
        mean = ops.mean(x32, axis=-1, keepdims=True)
        variance = ops.mean(ops.square(x32 - mean), axis=-1, keepdims=True)
        rstd = ops.rsqrt(variance + epsilon)
        outputs = (x32 - mean) * rstd * gamma32 + ops.cast(beta, "float32")

        def grad(*args, upstream=None):
            if upstream is None:
                (upstream,) = args
            dy = ops.cast(upstream, "float32")
            x_hat = (ops.cast(x, "float32") - mean) * rstd
            g = dy * gamma32
            dx = rstd * (
                g
                - ops.mean(g, axis=-1, keepdims=True)
                - x_hat * ops.mean(g * x_hat, axis=-1, keepdims=True)
            )
            dgamma = ops.sum(dy * x_hat, axis=row_axes)
            dbeta = ops.sum(dy, axis=row_axes)
            return (
                ops.cast(dx, x.dtype),
                ops.cast(dgamma, gamma.dtype),
                ops.cast(dbeta, beta.dtype),
            )

        return ops.cast(outputs, x.dtype), grad

    return forward(x, gamma, beta)


@keras.saving.register_keras_serializable(package="tfzoo")
class LayerNormalization(keras.layers.LayerNormalization):
    """`keras.layers.LayerNormalization` with a cheaper backward pass in training.

    Same arguments, weights (`gamma`, `beta`), values and config as the Keras
    layer. In training, with the default last-axis normalisation, centring and
    scaling, it runs `layer_norm`, whose gradient is rebuilt from the input and
    two per-row statistics instead of the float32 intermediates that automatic
    differentiation keeps (measured in docs/benchmarks.md). Otherwise, and at
    inference, it is the Keras layer.
    """

    def call(self, inputs, training=None):
        last_axis = self.axis in (-1, [-1], len(inputs.shape) - 1, [len(inputs.shape) - 1])
        if not (training and last_axis and self.center and self.scale) or self.rms_scaling:
            return super().call(inputs)
        # Copies are plain tensors: TensorFlow's custom gradients reject variables.
        outputs = layer_norm(inputs, ops.copy(self.gamma), ops.copy(self.beta), self.epsilon)
        return ops.cast(outputs, self.compute_dtype)
