"""The masked-language-model head of BERT (Devlin et al. 2018, section 3.1, task 1)."""

import keras
from keras import ops

from tfzoo.layers.utils import check_positive_int, get_activation, serialize_activation


@keras.saving.register_keras_serializable(package="tfzoo")
class MaskedLMHead(keras.layers.Layer):
    """Predicts the original tokens at masked positions.

    Gathers the hidden states at `masked_positions`, applies a dense transform,
    the activation and LayerNorm, then projects onto the vocabulary with the
    transposed token embedding (weights tied to the input embedding, as BERT,
    RoBERTa and DistilBERT do) plus a per-token output bias.

    Args:
        token_embedding: the model's `tfzoo.layers.ReversibleEmbedding`; the
            output projection uses its table. Not serialised: the task model
            that owns this head passes it when it is rebuilt.
        activation: activation of the transform. Defaults to "gelu".
        layer_norm_epsilon: float. Defaults to 1e-12.
        kernel_initializer: initializer of the transform kernel.
        **kwargs: standard `keras.layers.Layer` arguments.

    Call arguments:
        sequence_output: [B, T, D].
        masked_positions: int [B, P], positions to predict.

    Returns:
        Logits [B, P, V].
    """

    def __init__(
        self,
        token_embedding,
        activation="gelu",
        layer_norm_epsilon=1e-12,
        kernel_initializer="glorot_uniform",
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.token_embedding = token_embedding
        self.vocabulary_size = check_positive_int("vocabulary_size", token_embedding.input_dim)
        self.activation = serialize_activation(activation)
        self.layer_norm_epsilon = layer_norm_epsilon
        self.kernel_initializer = keras.initializers.get(kernel_initializer)

    def build(self, sequence_output_shape, masked_positions_shape=None):
        hidden_dim = sequence_output_shape[-1]
        self.transform_dense = keras.layers.Dense(
            hidden_dim,
            activation=get_activation(self.activation),
            kernel_initializer=self.kernel_initializer,
            dtype=self.dtype_policy,
            name="transform_dense",
        )
        self.transform_dense.build((None, None, hidden_dim))
        self.transform_layer_norm = keras.layers.LayerNormalization(
            epsilon=self.layer_norm_epsilon, dtype=self.dtype_policy, name="transform_layer_norm"
        )
        self.transform_layer_norm.build((None, None, hidden_dim))
        self.output_bias = self.add_weight(
            name="output_bias", shape=(self.vocabulary_size,), initializer="zeros"
        )
        self.built = True

    def call(self, sequence_output, masked_positions):
        positions = ops.cast(masked_positions, "int32")
        x = ops.take_along_axis(
            sequence_output, ops.expand_dims(positions, -1), axis=1
        )  # (B, P, D)
        x = self.transform_layer_norm(self.transform_dense(x))
        logits = self.token_embedding(x, reverse=True)  # (B, P, V)
        return logits + ops.cast(self.output_bias, logits.dtype)

    def compute_output_shape(self, sequence_output_shape, masked_positions_shape):
        return tuple(masked_positions_shape) + (self.vocabulary_size,)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "activation": self.activation,
                "layer_norm_epsilon": self.layer_norm_epsilon,
                "kernel_initializer": keras.initializers.serialize(self.kernel_initializer),
            }
        )
        return config
