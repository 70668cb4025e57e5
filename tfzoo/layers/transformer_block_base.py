"""What the encoder and decoder blocks share: arguments, sublayers, residual wiring."""

import keras

from tfzoo.layers.dropout import Dropout
from tfzoo.layers.feed_forward import FeedForward
from tfzoo.layers.multi_head_attention import MultiHeadAttention
from tfzoo.layers.utils import (
    check_positive_int,
    check_rate,
    get_activation,
    serialize_activation,
)


class TransformerBlockBase(keras.layers.Layer):
    """Base of `TransformerEncoderBlock` and `TransformerDecoderBlock`.

    Every sublayer (attention or feed-forward) is wrapped the same way: dropout
    on its output, a residual connection, and LayerNorm either after the sum
    (post-LN: the paper's section 5.4 and BERT, `normalize_first=False`) or on
    the sublayer's input (pre-LN: GPT-2, `normalize_first=True`).
    """

    def __init__(
        self,
        num_heads,
        intermediate_dim,
        dropout=0.1,
        attention_dropout=None,
        activation="relu",
        normalize_first=False,
        layer_norm_epsilon=1e-5,
        kernel_initializer="glorot_uniform",
        bias_initializer="zeros",
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.num_heads = check_positive_int("num_heads", num_heads)
        self.intermediate_dim = check_positive_int("intermediate_dim", intermediate_dim)
        self.dropout = check_rate("dropout", dropout)
        self.attention_dropout = check_rate(
            "attention_dropout", dropout if attention_dropout is None else attention_dropout
        )
        get_activation(activation)  # fail early on unknown names
        self.activation = serialize_activation(activation)
        self.normalize_first = bool(normalize_first)
        if not isinstance(layer_norm_epsilon, (int, float)) or layer_norm_epsilon <= 0:
            raise ValueError(
                "`layer_norm_epsilon` must be a positive float. Received: "
                f"layer_norm_epsilon={layer_norm_epsilon!r}"
            )
        self.layer_norm_epsilon = float(layer_norm_epsilon)
        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        self.bias_initializer = keras.initializers.get(bias_initializer)

    def _initializer(self, initializer):
        return initializer.__class__.from_config(initializer.get_config())

    def _head_dim(self, hidden_dim):
        if hidden_dim % self.num_heads != 0:
            raise ValueError(
                f"The model width ({hidden_dim}) must be divisible by num_heads "
                f"({self.num_heads})."
            )
        return hidden_dim // self.num_heads

    def _attention(self, name, hidden_dim):
        return MultiHeadAttention(
            num_heads=self.num_heads,
            key_dim=self._head_dim(hidden_dim),
            dropout=self.attention_dropout,
            kernel_initializer=self._initializer(self.kernel_initializer),
            bias_initializer=self._initializer(self.bias_initializer),
            dtype=self.dtype_policy,
            name=name,
        )

    def _layer_norm(self, name):
        return keras.layers.LayerNormalization(
            epsilon=self.layer_norm_epsilon, dtype=self.dtype_policy, name=name
        )

    def _dropout(self, name):
        return Dropout(self.dropout, dtype=self.dtype_policy, name=name)

    def _feed_forward(self):
        return FeedForward(
            self.intermediate_dim,
            activation=self.activation,
            kernel_initializer=self._initializer(self.kernel_initializer),
            bias_initializer=self._initializer(self.bias_initializer),
            dtype=self.dtype_policy,
            name="feed_forward",
        )

    def _residual(self, x, layer_norm, dropout, sublayer, training):
        """x + dropout(sublayer(x)), normalised before or after.

        `sublayer` maps a tensor to `(output, extra)`; `extra` (a cache, or
        None) is passed through.
        """
        residual = x
        if self.normalize_first:
            x = layer_norm(x)
        x, extra = sublayer(x)
        x = dropout(x, training=training) + residual
        if not self.normalize_first:
            x = layer_norm(x)
        return x, extra

    def compute_output_shape(self, inputs_shape, *args, **kwargs):
        return inputs_shape

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "num_heads": self.num_heads,
                "intermediate_dim": self.intermediate_dim,
                "dropout": self.dropout,
                "attention_dropout": self.attention_dropout,
                "activation": self.activation,
                "normalize_first": self.normalize_first,
                "layer_norm_epsilon": self.layer_norm_epsilon,
                "kernel_initializer": keras.initializers.serialize(self.kernel_initializer),
                "bias_initializer": keras.initializers.serialize(self.bias_initializer),
            }
        )
        return config
