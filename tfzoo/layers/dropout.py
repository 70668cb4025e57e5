"""Dropout whose mask comes from an integer hash instead of the backend's RNG."""

import math

import keras
import numpy as np
from keras import ops

# murmur3's 32-bit finaliser (fmix32) constants, and the golden-ratio increment.
_M1 = np.uint32(0x85EBCA6B)
_M2 = np.uint32(0xC2B2AE35)
_GOLDEN = np.uint32(0x9E3779B9)
_MAX_ELEMENTS = 2**31 - 1


def fmix32(x):
    """murmur3's finaliser: a bijection of uint32 that mixes every input bit."""
    x = ops.bitwise_xor(x, ops.right_shift(x, 16))
    x = ops.multiply(x, _M1)
    x = ops.bitwise_xor(x, ops.right_shift(x, 13))
    x = ops.multiply(x, _M2)
    return ops.bitwise_xor(x, ops.right_shift(x, 16))


def hash_bits(shape, seed):
    """uint32 noise of `shape`: two keyed fmix32 rounds over the element index.

    `seed` is a length-2 integer tensor (a `SeedGenerator` state); each element
    i gets fmix32(fmix32(i ^ a) ^ b), with a and b mixed from the seed. This is
    a counter-based generator in the manner of Philox and Threefry, with far
    fewer rounds: enough for dropout masks, not for anything statistical.
    """
    seed = ops.cast(seed, "uint32")
    a = fmix32(ops.multiply(seed[0], _GOLDEN) + seed[1])
    b = fmix32(ops.bitwise_xor(a, seed[1] + _GOLDEN))
    if all(isinstance(d, int) for d in shape):
        size = math.prod(shape)  # static, as JAX needs
        if size > _MAX_ELEMENTS:
            raise ValueError(f"hash_bits indexes elements with int32: at most {_MAX_ELEMENTS} "
                             f"elements. Received shape={tuple(shape)} ({size} elements).")
    else:  # TensorFlow graphs with unknown dimensions
        size = ops.prod(ops.stack([ops.cast(d, "int32") for d in shape]))
    index = ops.cast(ops.arange(size, dtype="int32"), "uint32")
    bits = fmix32(ops.bitwise_xor(fmix32(ops.bitwise_xor(index, a)), b))
    return ops.reshape(bits, shape)


@keras.saving.register_keras_serializable(package="tfzoo")
class Dropout(keras.layers.Dropout):
    """`keras.layers.Dropout` with a cheap counter-based mask.

    Same arguments, weights (the seed generator's state) and semantics as the
    Keras layer: in training each element is zeroed with probability `rate` and
    the rest scaled by 1 / (1 - rate); at inference it is the identity. Only the
    random bits differ: the mask is `hash_bits(shape, seed)` compared with
    `rate * 2**32`, where the seed advances on every call. The backends' random
    generators (Threefry in JAX, Philox in TensorFlow) cost tens of integer
    rounds per element, and under XLA that dominated training steps: see
    docs/benchmarks.md. With `noise_shape` set, or inputs of more than 2**31 - 1
    elements, the Keras implementation runs.
    """

    def call(self, inputs, training=False):
        static = [d for d in inputs.shape if isinstance(d, int)]
        too_large = len(static) == len(inputs.shape) and math.prod(static) > _MAX_ELEMENTS
        if not training or self.rate == 0 or self.noise_shape is not None or too_large:
            return super().call(inputs, training=training)
        if self.rate >= 1:
            return ops.zeros_like(inputs)
        bits = hash_bits(ops.shape(inputs), self.seed_generator.next())
        threshold = np.uint32(min(round(self.rate * 2**32), 2**32 - 1))
        keep = ops.greater_equal(bits, threshold)
        scaled = ops.divide(inputs, ops.cast(1.0 - self.rate, inputs.dtype))
        return ops.where(keep, scaled, ops.zeros_like(inputs))
