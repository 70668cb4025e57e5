"""Position-wise feed-forward network (Vaswani et al. 2017, section 3.3)."""

import keras

from tfzoo.layers.dropout import Dropout
from tfzoo.layers.gelu import gelu, gelu_forward
from tfzoo.layers.row_products import project
from tfzoo.layers.utils import (
    check_positive_int,
    check_rate,
    gelu_approximate,
    get_activation,
    serialize_activation,
)


@keras.saving.register_keras_serializable(package="tfzoo")
class FeedForward(keras.layers.Layer):
    """FFN(x) = activation(x W1 + b1) W2 + b2, applied at every position.

    The paper uses ReLU and an inner width of 4*D (section 3.3); BERT uses the
    exact GELU, GPT-2 the tanh approximation ("gelu_approximate"). In training
    both GELUs take `tfzoo.layers.gelu.gelu`, whose backward pass recomputes
    the derivative from the pre-activations instead of keeping intermediates
    (same values; less memory traffic). The exact GELU is computed through erf
    in float32 (`tfzoo.layers.gelu.gelu_forward`), in training and inference.

    Args:
        intermediate_dim: int, the inner width.
        activation: activation name or callable. Defaults to "gelu".
        dropout: float, dropout on the inner activations (tensor2tensor's
            "relu_dropout"). The residual dropout on the sublayer output belongs
            to the encoder/decoder blocks. Defaults to 0.0.
        output_dim: int, width of the output. Defaults to the input's width.
        kernel_initializer: initializer of both kernels.
        bias_initializer: initializer of both biases.
        **kwargs: standard `keras.layers.Layer` arguments.

    Call arguments:
        inputs: [B, T, D].
        training: bool, whether dropout is active.

    Example:
    >>> ffn = FeedForward(intermediate_dim=256)
    >>> y = ffn(keras.random.normal((2, 10, 64)))  # (2, 10, 64)
    """

    def __init__(
        self,
        intermediate_dim,
        activation="gelu",
        dropout=0.0,
        output_dim=None,
        kernel_initializer="glorot_uniform",
        bias_initializer="zeros",
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.intermediate_dim = check_positive_int("intermediate_dim", intermediate_dim)
        self.activation = get_activation(activation)
        # GELUs get a training path with a recomputed gradient (None: others).
        self._gelu_approximate = (
            False if self.activation is keras.activations.gelu
            else True if self.activation is gelu_approximate
            else None
        )
        self._activation_config = serialize_activation(activation)
        self.dropout = check_rate("dropout", dropout)
        self.output_dim = (
            None if output_dim is None else check_positive_int("output_dim", output_dim)
        )
        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        self.bias_initializer = keras.initializers.get(bias_initializer)

    def _dense(self, units, activation, name):
        return keras.layers.Dense(
            units,
            activation=activation,
            kernel_initializer=self.kernel_initializer.__class__.from_config(
                self.kernel_initializer.get_config()
            ),
            bias_initializer=self.bias_initializer.__class__.from_config(
                self.bias_initializer.get_config()
            ),
            dtype=self.dtype_policy,
            name=name,
        )

    def build(self, inputs_shape):
        output_dim = self.output_dim or inputs_shape[-1]
        self.intermediate_dense = self._dense(
            self.intermediate_dim,
            None if self._gelu_approximate is not None else self.activation,
            "intermediate_dense",
        )
        self.output_dense = self._dense(output_dim, None, "output_dense")
        self.intermediate_dense.build(inputs_shape)
        self.output_dense.build(tuple(inputs_shape[:-1]) + (self.intermediate_dim,))
        self.dropout_layer = Dropout(
            self.dropout, dtype=self.dtype_policy, name="dropout"
        )
        self.built = True

    def call(self, inputs, training=None):
        x = project(self.intermediate_dense, inputs)  # (B, T, intermediate_dim)
        if self._gelu_approximate is not None:
            if training:
                x = gelu(x, approximate=self._gelu_approximate)
            else:
                x = gelu_forward(x, approximate=self._gelu_approximate)
        x = self.dropout_layer(x, training=training)
        return project(self.output_dense, x)  # (B, T, D)

    def compute_output_shape(self, inputs_shape):
        return tuple(inputs_shape[:-1]) + (self.output_dim or inputs_shape[-1],)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "intermediate_dim": self.intermediate_dim,
                "activation": self._activation_config,
                "dropout": self.dropout,
                "output_dim": self.output_dim,
                "kernel_initializer": keras.initializers.serialize(self.kernel_initializer),
                "bias_initializer": keras.initializers.serialize(self.bias_initializer),
            }
        )
        return config
