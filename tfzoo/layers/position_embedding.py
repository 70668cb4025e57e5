"""Learned absolute position embeddings (as in BERT and GPT)."""

import keras
from keras import ops

from tfzoo.layers.utils import check_positions, check_positive_int


@keras.saving.register_keras_serializable(package="tfzoo")
class PositionEmbedding(keras.layers.Layer):
    """A trainable vector per position, up to `sequence_length` positions.

    BERT (Devlin et al. 2018, section 3) and GPT (Radford et al. 2018) learn
    their position embeddings instead of using the fixed sinusoids.

    Args:
        sequence_length: int, the number of positions that have an embedding.
        initializer: initializer of the [sequence_length, D] table.
            Defaults to "glorot_uniform".
        **kwargs: standard `keras.layers.Layer` arguments.

    Call arguments:
        inputs: tensor [B, T, D]; only its shape is used (T <= sequence_length).
        start_index: int or scalar tensor, position of the first step.

    Returns:
        The position embeddings [B, T, D], to be added to `inputs`.

    Example:
    >>> x = keras.random.normal((2, 10, 16))
    >>> y = x + PositionEmbedding(sequence_length=512)(x)
    """

    def __init__(self, sequence_length, initializer="glorot_uniform", **kwargs):
        super().__init__(**kwargs)
        self.sequence_length = check_positive_int("sequence_length", sequence_length)
        self.initializer = keras.initializers.get(initializer)

    def build(self, inputs_shape):
        if len(inputs_shape) != 3:
            raise ValueError(
                "PositionEmbedding expects inputs of shape [batch, sequence, "
                f"width]. Received: inputs_shape={tuple(inputs_shape)}"
            )
        length = inputs_shape[1]
        if length is not None and length > self.sequence_length:
            raise ValueError(
                f"Input sequence length {length} is longer than "
                f"sequence_length={self.sequence_length}."
            )
        self.position_embeddings = self.add_weight(
            name="embeddings",
            shape=(self.sequence_length, inputs_shape[-1]),
            initializer=self.initializer,
            trainable=True,
        )

    def call(self, inputs, start_index=0):
        check_positions(self.sequence_length, inputs.shape[1], start_index)
        shape = ops.shape(inputs)
        sequence_length = shape[1]
        table = ops.convert_to_tensor(self.position_embeddings)  # (L, D)
        # Slice [start_index, start_index + T) without a Python-side length so a
        # traced function serves every length.
        table = ops.slice(table, (start_index, 0), (sequence_length, shape[2]))
        return ops.broadcast_to(ops.expand_dims(table, 0), shape)  # (B, T, D)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "sequence_length": self.sequence_length,
                "initializer": keras.initializers.serialize(self.initializer),
            }
        )
        return config
