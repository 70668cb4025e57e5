"""The input of XLNet's query stream (Yang et al. 2019, section 2.3)."""

import keras
from keras import ops

from tfzoo.layers.utils import check_positive_int


@keras.saving.register_keras_serializable(package="tfzoo")
class XLNetQueryEmbedding(keras.layers.Layer):
    """One learned vector w at every predicted position: g_i^(0) = w.

    The query stream must not see the token it predicts, so it cannot start
    from the token's embedding as the content stream does (section 2.3;
    "mask_emb" in XLNet's code).

    Args:
        embedding_dim: int, D.
        initializer: initializer of w.
        **kwargs: standard `keras.layers.Layer` arguments.

    Call arguments:
        target_mapping: float [B, P, T]; only its shape is used.

    Returns:
        [B, P, D].

    Example:
    >>> w = XLNetQueryEmbedding(64)
    >>> w(keras.ops.zeros((2, 3, 10))).shape
    (2, 3, 64)
    """

    def __init__(self, embedding_dim, initializer="uniform", **kwargs):
        super().__init__(**kwargs)
        self.embedding_dim = check_positive_int("embedding_dim", embedding_dim)
        self.initializer = keras.initializers.get(initializer)

    def build(self, target_mapping_shape):
        self.embedding = self.add_weight(
            name="embedding", shape=(self.embedding_dim,), initializer=self.initializer)
        self.built = True

    def call(self, target_mapping):
        if len(target_mapping.shape) != 3:
            raise ValueError(
                "`target_mapping` must have shape [batch, predictions, sequence] (rank 3). "
                f"Received: target_mapping.shape={tuple(target_mapping.shape)}"
            )
        shape = ops.shape(target_mapping)
        return ops.broadcast_to(ops.cast(self.embedding, self.compute_dtype),
                                (shape[0], shape[1], self.embedding_dim))  # (B, P, D)

    def compute_output_shape(self, target_mapping_shape):
        return tuple(target_mapping_shape[:2]) + (self.embedding_dim,)

    def get_config(self):
        config = super().get_config()
        config.update({
            "embedding_dim": self.embedding_dim,
            "initializer": keras.initializers.serialize(self.initializer),
        })
        return config
