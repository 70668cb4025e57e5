"""Token + position (+ segment) embeddings: the input layer of every tfzoo model."""

import math

import keras
from keras import ops

from tfzoo.layers.dropout import Dropout
from tfzoo.layers.position_embedding import PositionEmbedding
from tfzoo.layers.reversible_embedding import ReversibleEmbedding
from tfzoo.layers.sinusoidal_position_encoding import SinusoidalPositionEncoding
from tfzoo.layers.utils import check_positions, check_positive_int, check_rate

_POSITION_ENCODINGS = ("learned", "sinusoidal")


@keras.saving.register_keras_serializable(package="tfzoo")
class TokenAndPositionEmbedding(keras.layers.Layer):
    """Sums token, position and (optionally) segment embeddings.

    Covers the input layers of the zoo's models:
    - Transformer (Vaswani et al. 2017, sections 3.4-3.5): token embeddings
      scaled by sqrt(D) plus sinusoidal positions (`scale_embeddings=True`,
      `position_encoding="sinusoidal"`).
    - BERT (Devlin et al. 2018, section 3, figure 2): token + learned position
      + segment embeddings, then LayerNorm and dropout
      (`type_vocabulary_size=2`, `use_layer_norm=True`, `dropout=0.1`).
    - GPT / GPT-2: token + learned position embeddings, then dropout.

    The token table is a `tfzoo.layers.ReversibleEmbedding` (`token_embedding`),
    so a model can tie its output projection to it:
    `logits = layer.token_embedding(hidden, reverse=True)`.

    Args:
        vocabulary_size: int, number of token ids.
        sequence_length: int, maximum sequence length (size of the learned
            position table; unused by sinusoidal positions beyond validation).
        embedding_dim: int, D.
        type_vocabulary_size: int, number of segment (token type) ids; 0 for
            none. Defaults to 0.
        position_encoding: "learned" or "sinusoidal". Defaults to "learned".
        scale_embeddings: bool, multiply token embeddings by sqrt(D) before
            adding positions (Transformer, section 3.4). Defaults to False.
        use_layer_norm: bool, LayerNorm after the sum (BERT). Defaults to False.
        layer_norm_epsilon: float. Defaults to 1e-12 (BERT's value).
        dropout: float, dropout rate on the output. Defaults to 0.0.
        embeddings_initializer: initializer of the token, position and type
            tables. Defaults to "uniform" (keras.layers.Embedding's default).
        **kwargs: standard `keras.layers.Layer` arguments.

    Call arguments:
        token_ids: int tensor [B, T].
        token_type_ids: int tensor [B, T] of segment ids; required when
            `type_vocabulary_size > 0`, rejected otherwise.
        start_index: int or scalar tensor, position of the first token (for
            incremental decoding, or RoBERTa's offset of 2). Defaults to 0.
        training: bool, whether dropout is active.

    Returns:
        Embeddings [B, T, D].

    Example:
    >>> layer = TokenAndPositionEmbedding(30522, 512, 128, type_vocabulary_size=2,
    ...                                   use_layer_norm=True, dropout=0.1)
    >>> ids = keras.ops.ones((2, 16), "int32")
    >>> x = layer(ids, token_type_ids=keras.ops.zeros((2, 16), "int32"))
    """

    def __init__(
        self,
        vocabulary_size,
        sequence_length,
        embedding_dim,
        type_vocabulary_size=0,
        position_encoding="learned",
        scale_embeddings=False,
        use_layer_norm=False,
        layer_norm_epsilon=1e-12,
        dropout=0.0,
        embeddings_initializer="uniform",
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.vocabulary_size = check_positive_int("vocabulary_size", vocabulary_size)
        self.sequence_length = check_positive_int("sequence_length", sequence_length)
        self.embedding_dim = check_positive_int("embedding_dim", embedding_dim)
        if isinstance(type_vocabulary_size, bool) or not isinstance(
            type_vocabulary_size, int
        ) or type_vocabulary_size < 0:
            raise ValueError(
                "`type_vocabulary_size` must be an integer >= 0. Received: "
                f"type_vocabulary_size={type_vocabulary_size!r}"
            )
        if position_encoding not in _POSITION_ENCODINGS:
            raise ValueError(
                f"`position_encoding` must be one of {_POSITION_ENCODINGS}. "
                f"Received: position_encoding={position_encoding!r}"
            )
        self.type_vocabulary_size = type_vocabulary_size
        self.position_encoding = position_encoding
        self.scale_embeddings = bool(scale_embeddings)
        self.use_layer_norm = bool(use_layer_norm)
        self.layer_norm_epsilon = layer_norm_epsilon
        self.dropout = check_rate("dropout", dropout)
        self.embeddings_initializer = keras.initializers.get(embeddings_initializer)

        def initializer():
            # Each table gets its own initializer object (own seed).
            return keras.initializers.get(
                keras.initializers.serialize(self.embeddings_initializer)
            )

        self.token_embedding = ReversibleEmbedding(
            vocabulary_size,
            embedding_dim,
            embeddings_initializer=initializer(),
            dtype=self.dtype_policy,
            name="token_embedding",
        )
        if position_encoding == "learned":
            self.position_embedding = PositionEmbedding(
                sequence_length,
                initializer=initializer(),
                dtype=self.dtype_policy,
                name="position_embedding",
            )
        else:
            self.position_embedding = SinusoidalPositionEncoding(
                dtype=self.dtype_policy, name="position_embedding"
            )
        self.type_embedding = None
        if type_vocabulary_size:
            self.type_embedding = keras.layers.Embedding(
                type_vocabulary_size,
                embedding_dim,
                embeddings_initializer=initializer(),
                dtype=self.dtype_policy,
                name="type_embedding",
            )
        self.layer_norm = None
        if use_layer_norm:
            self.layer_norm = keras.layers.LayerNormalization(
                epsilon=layer_norm_epsilon, dtype=self.dtype_policy, name="layer_norm"
            )
        self.dropout_layer = Dropout(
            self.dropout, dtype=self.dtype_policy, name="dropout"
        )

    def build(self, token_ids_shape, token_type_ids_shape=None):
        self.token_embedding.build(token_ids_shape)
        embedded_shape = tuple(token_ids_shape) + (self.embedding_dim,)
        self.position_embedding.build(embedded_shape)
        if self.type_embedding is not None:
            self.type_embedding.build(token_ids_shape)
        if self.layer_norm is not None:
            self.layer_norm.build(embedded_shape)
        self.built = True

    def call(self, token_ids, token_type_ids=None, start_index=0, training=None):
        if self.type_embedding is None and token_type_ids is not None:
            raise ValueError(
                "`token_type_ids` were passed but this layer has no segment "
                "embeddings (type_vocabulary_size=0)."
            )
        if self.type_embedding is not None and token_type_ids is None:
            raise ValueError(
                "`token_type_ids` are required: this layer has "
                f"type_vocabulary_size={self.type_vocabulary_size}."
            )
        check_positions(self.sequence_length, token_ids.shape[1], start_index)
        x = self.token_embedding(token_ids)  # (B, T, D)
        if self.scale_embeddings:
            x = x * ops.cast(math.sqrt(self.embedding_dim), x.dtype)
        x = x + self.position_embedding(x, start_index=start_index)
        if self.type_embedding is not None:
            x = x + self.type_embedding(token_type_ids)
        if self.layer_norm is not None:
            x = self.layer_norm(x)
        return self.dropout_layer(x, training=training)

    def compute_output_shape(self, token_ids_shape, token_type_ids_shape=None):
        return tuple(token_ids_shape) + (self.embedding_dim,)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "vocabulary_size": self.vocabulary_size,
                "sequence_length": self.sequence_length,
                "embedding_dim": self.embedding_dim,
                "type_vocabulary_size": self.type_vocabulary_size,
                "position_encoding": self.position_encoding,
                "scale_embeddings": self.scale_embeddings,
                "use_layer_norm": self.use_layer_norm,
                "layer_norm_epsilon": self.layer_norm_epsilon,
                "dropout": self.dropout,
                "embeddings_initializer": keras.initializers.serialize(
                    self.embeddings_initializer
                ),
            }
        )
        return config
