"""GELU (Hendrycks & Gimpel 2016) whose gradient is recomputed from its input."""

import math

import keras
from keras import ops

_SQRT_HALF = math.sqrt(0.5)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)
_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)
_CUBIC = 0.044715  # the tanh form's coefficient


def gelu_derivative(x, approximate=False):
    """d GELU(x) / dx, in float32.

    Exact: GELU(x) = x Phi(x), so the derivative is Phi(x) + x phi(x).
    Tanh form: GELU(x) = x (1 + tanh(u)) / 2 with u = sqrt(2/pi) (x + 0.044715 x^3).
    """
    x = ops.cast(x, "float32")
    if approximate:
        t = ops.tanh(_SQRT_2_OVER_PI * (x + _CUBIC * x * x * x))
        du = _SQRT_2_OVER_PI * (1.0 + 3.0 * _CUBIC * x * x)
        return 0.5 * (1.0 + t) + 0.5 * x * (1.0 - t * t) * du
    phi = _INV_SQRT_2PI * ops.exp(-0.5 * x * x)
    return 0.5 * (1.0 + ops.erf(x * _SQRT_HALF)) + x * phi


def gelu_forward(x, approximate=False):
    """GELU's values: Keras' tanh form, or the exact form computed in float32
    as x (1 + erf(x / sqrt 2)) / 2 (BERT's own code and TensorFlow write it so).

    Keras' exact GELU goes through erfc: two approximations and a division per
    element under JAX, and in a plain TensorFlow graph in bfloat16 an erfc
    kernel that took 110 ms where this form takes 42 (the twelve [1024, 3072]
    activations of a BERT-base batch of 8 on the 2-core CPU, docs/benchmarks.md).
    """
    if approximate:
        return keras.activations.gelu(x, approximate=True)
    x32 = ops.cast(x, "float32")
    return ops.cast(0.5 * x32 * (1.0 + ops.erf(x32 * _SQRT_HALF)), x.dtype)


def gelu(x, approximate=False):
    """`keras.activations.gelu`, with a backward pass that keeps only `x`.

    The forward values are Keras' own (the exact form computed in float32 as
    x (1 + erf(x / sqrt 2)) / 2, within rounding of Keras'). Automatic differentiation of GELU keeps
    intermediate tensors of the forward pass (for the exact form, `x / 2` and
    the erfc term) to build the gradient; at the feed-forward's [B*T, 4D] width
    writing and reading them back is most of the activation's cost in a
    training step (profiled on an H100, see docs/benchmarks.md). Here the
    backward pass recomputes the derivative from `x` alone, in float32.

    Args:
        x: tensor, any float dtype.
        approximate: bool, the tanh form (GPT-2) instead of the exact erf form
            (BERT). Defaults to False.
    """

    @ops.custom_gradient
    def forward(x):
        def grad(*args, upstream=None):
            if upstream is None:
                (upstream,) = args
            derivative = gelu_derivative(x, approximate)
            return ops.cast(ops.cast(upstream, "float32") * derivative, x.dtype)

        return gelu_forward(x, approximate), grad

    return forward(x)
