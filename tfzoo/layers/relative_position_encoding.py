"""Sinusoidal encodings of relative distances (Dai et al. 2019, Transformer-XL, section 3.3)."""

import keras
from keras import ops

from tfzoo.layers.utils import check_positive_int


@keras.saving.register_keras_serializable(package="tfzoo")
class RelativePositionEncoding(keras.layers.Layer):
    """The distances a `RelativeAttention` layer scores, as fixed sinusoids.

    For T queries after M memory positions (S = M + T keys), row c encodes
    the distance d = S - c, for d = S, S - 1, ..., 1 - T (S + T rows), as

        R[d] = [sin(d f_0), ..., sin(d f_{D/2-1}), cos(d f_0), ..., cos(d f_{D/2-1})]
        f_j = 1 / max_wavelength^(2j / D)

    sines first, then cosines (Transformer-XL's and XLNet's layout; the
    Transformer's `SinusoidalPositionEncoding` interleaves them). The layer
    has no weights and works for any length.

    Args:
        max_wavelength: int, the longest wavelength's base. Defaults to 10000.
        clamp_length: int, distances beyond +-clamp_length are encoded as
            +-clamp_length (XLNet's `clamp_len`); -1 (or 0) never clamps.
        bidirectional: bool, XLNet's `bi_data` pretraining input: the second
            half of the batch holds sequences read backwards and gets the
            negated distances (the first ceil(B/2) rows forwards). Defaults
            to False.
        **kwargs: standard `keras.layers.Layer` arguments.

    Call arguments:
        inputs: [B, T, D]; only its shape and dtype are used (D even).
        memory: [B, M, D] or None; only its length is used.

    Returns:
        [B, M + 2T, D] in the layer's compute dtype.

    Example:
    >>> x = keras.random.normal((2, 10, 16))
    >>> RelativePositionEncoding()(x).shape
    (2, 20, 16)
    """

    def __init__(self, max_wavelength=10000, clamp_length=-1, bidirectional=False, **kwargs):
        super().__init__(**kwargs)
        self.max_wavelength = check_positive_int("max_wavelength", max_wavelength)
        if isinstance(clamp_length, bool) or not isinstance(clamp_length, int) or (
                clamp_length < -1):
            raise ValueError(
                "`clamp_length` must be an integer >= -1 (-1: no clamping). "
                f"Received: clamp_length={clamp_length!r}"
            )
        if not isinstance(bidirectional, bool):
            raise ValueError(
                f"`bidirectional` must be a bool. Received: bidirectional={bidirectional!r}")
        self.clamp_length = clamp_length
        self.bidirectional = bidirectional
        self.built = True

    def _encode(self, distances, width):
        """[R] float32 distances -> [R, D] float32 encodings."""
        if self.clamp_length > 0:
            distances = ops.clip(distances, -self.clamp_length, self.clamp_length)
        # As XLNet computes them: 1 / base^(2j / D) for j < D / 2.
        exponents = ops.arange(0, width, 2, dtype="float32") / float(width)
        inverse_frequencies = 1.0 / ops.power(float(self.max_wavelength), exponents)
        angles = ops.expand_dims(distances, 1) * ops.expand_dims(inverse_frequencies, 0)
        return ops.concatenate([ops.sin(angles), ops.cos(angles)], axis=-1)

    def call(self, inputs, memory=None):
        if len(inputs.shape) != 3:
            raise ValueError(
                "RelativePositionEncoding expects inputs of shape [batch, sequence, "
                f"width]. Received: inputs.shape={tuple(inputs.shape)}"
            )
        width = inputs.shape[-1]
        if width is None or width % 2:
            raise ValueError(
                f"The width of the inputs must be even. Received: inputs.shape={inputs.shape}")
        shape = ops.shape(inputs)
        batch, length = shape[0], shape[1]
        key_length = length if memory is None else length + ops.shape(memory)[1]
        # Distances S, S - 1, ..., 1 - T, in float32 whatever the compute dtype.
        distances = ops.cast(key_length - ops.arange(key_length + length), "float32")
        forward = self._encode(distances, width)  # (S + T, D)
        if not self.bidirectional:
            encoding = ops.broadcast_to(forward, (batch, key_length + length, width))
        else:
            backward = self._encode(-distances, width)
            forward_rows = (batch + 1) // 2
            encoding = ops.concatenate([
                ops.broadcast_to(forward, (forward_rows, key_length + length, width)),
                ops.broadcast_to(backward, (batch - forward_rows, key_length + length, width)),
            ], axis=0)
        return ops.cast(encoding, self.compute_dtype)  # (B, S + T, D)

    def compute_output_shape(self, inputs_shape, memory_shape=None):
        if memory_shape is None and inputs_shape[1] is not None:
            return (inputs_shape[0], 2 * inputs_shape[1], inputs_shape[2])
        return (inputs_shape[0], None, inputs_shape[2])

    def get_config(self):
        config = super().get_config()
        config.update({
            "max_wavelength": self.max_wavelength,
            "clamp_length": self.clamp_length,
            "bidirectional": self.bidirectional,
        })
        return config
