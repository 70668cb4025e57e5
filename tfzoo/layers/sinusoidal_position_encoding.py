"""Fixed sinusoidal position encoding (Vaswani et al. 2017, section 3.5)."""

import keras
from keras import ops

from tfzoo.layers.utils import check_positive_int


@keras.saving.register_keras_serializable(package="tfzoo")
class SinusoidalPositionEncoding(keras.layers.Layer):
    """The Transformer's fixed position encoding.

    For position `pos` and feature `i` of a width-`D` model (paper, section 3.5):

        PE[pos, 2j]   = sin(pos / max_wavelength ** (2j / D))
        PE[pos, 2j+1] = cos(pos / max_wavelength ** (2j / D))

    so even features carry sines and odd features cosines, with wavelengths in a
    geometric progression from 2*pi to max_wavelength*2*pi. The layer has no
    weights and works for any sequence length.

    Args:
        max_wavelength: int, the longest wavelength's base (the paper's 10000).
        **kwargs: standard `keras.layers.Layer` arguments (`name`, `dtype`, ...).

    Call arguments:
        inputs: tensor [B, T, D]; only its shape and dtype are used.
        start_index: int or scalar tensor, position of the first step (for
            incremental decoding with a cache). Defaults to 0.

    Returns:
        The encoding [B, T, D] in the layer's compute dtype, to be added to
        `inputs`.

    Example:
    >>> x = keras.random.normal((2, 10, 16))
    >>> y = x + SinusoidalPositionEncoding()(x)
    """

    def __init__(self, max_wavelength=10000, **kwargs):
        super().__init__(**kwargs)
        self.max_wavelength = check_positive_int("max_wavelength", max_wavelength)
        self.built = True

    def call(self, inputs, start_index=0):
        shape = ops.shape(inputs)
        if len(inputs.shape) != 3:
            raise ValueError(
                "SinusoidalPositionEncoding expects inputs of shape [batch, "
                f"sequence, width]. Received: inputs.shape={tuple(inputs.shape)}"
            )
        sequence_length, width = shape[1], inputs.shape[-1]
        # Angles in float32 whatever the compute dtype: bf16 positions lose
        # integer precision above 256.
        positions = ops.cast(ops.arange(sequence_length), "float32")
        positions = positions + ops.cast(start_index, "float32")  # (T,)
        features = ops.arange(width)
        # Feature pairs (2j, 2j+1) share the frequency 1 / wavelength^(2j/D).
        exponents = ops.cast(2 * (features // 2), "float32") / float(width)
        frequencies = ops.power(float(self.max_wavelength), -exponents)  # (D,)
        angles = ops.expand_dims(positions, -1) * ops.expand_dims(frequencies, 0)
        is_even = ops.equal(features % 2, 0)
        encoding = ops.where(is_even, ops.sin(angles), ops.cos(angles))  # (T, D)
        encoding = ops.cast(encoding, self.compute_dtype)
        return ops.broadcast_to(ops.expand_dims(encoding, 0), shape)  # (B, T, D)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        config = super().get_config()
        config.update({"max_wavelength": self.max_wavelength})
        return config
