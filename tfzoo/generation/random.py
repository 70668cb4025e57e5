"""Counter-based random numbers for sampling inside compiled decoding loops.

`keras.random` needs a `SeedGenerator` (state that must be threaded through a
compiled loop) or a Python int. Hashing (seed, step, position) with murmur3's
finaliser gives uniform numbers from `keras.ops` alone: stateless, identical
on every backend, and reproducible from the seed.
"""

from keras import ops

_GOLDEN = 0x9E3779B1
_C1, _C2, _C3 = 0x85EBCA6B, 0xC2B2AE35, 0x85EBCA77


def _fmix32(x):
    """murmur3's 32-bit finaliser: a bijection that mixes every input bit."""
    x = ops.bitwise_xor(x, ops.right_shift(x, 16))
    x = ops.multiply(x, ops.cast(_C1, "uint32"))
    x = ops.bitwise_xor(x, ops.right_shift(x, 13))
    x = ops.multiply(x, ops.cast(_C2, "uint32"))
    return ops.bitwise_xor(x, ops.right_shift(x, 16))


def hashed_uniform(seed, step, shape):
    """Uniform floats in (0, 1) of `shape` [B, V], a pure function of (seed, step).

    Args:
        seed: int or int scalar tensor.
        step: int or int scalar tensor (the decoding step).
        shape: 2-D shape (ints or scalar tensors).
    """
    rows, columns = shape
    index = ops.cast(ops.arange(rows * columns), "uint32")
    key = _fmix32(ops.cast(seed, "uint32") * ops.cast(_C3, "uint32") + ops.cast(step, "uint32"))
    bits = _fmix32(index * ops.cast(_GOLDEN, "uint32") + key)
    return ops.reshape(unit_interval(bits), (rows, columns))


def unit_interval(bits):
    """uint32 bits -> float32 in (0, 1): the top 23 bits, centred in their interval.

    (k + 0.5) / 2**23 for k < 2**23 is exact in float32, from 2**-24 to
    1 - 2**-24, so it is never 0 or 1 and the Gumbel noise -log(-log u) stays
    finite. (With 24 bits, (2**24 - 0.5) / 2**24 rounds to 1.0 in float32, and
    a noise of +inf let a token that top-k or top-p had removed win.)
    """
    return (ops.cast(ops.right_shift(bits, 9), "float32") + 0.5) / 8388608.0
