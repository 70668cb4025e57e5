"""Relative multi-head attention (Dai et al. 2019, Transformer-XL, section 3.3),
with XLNet's relative segment encodings (Yang et al. 2019, section 2.5)."""

import math

import keras
from keras import ops

from tfzoo.layers.dropout import Dropout
from tfzoo.layers.utils import check_positive_int, check_rate

# Masked logits get this before the softmax (float32), as XLNet and Transformer-XL
# do; a row with every key masked comes out uniform, the same as there.
_MASKED_LOGIT = -1e30


@keras.saving.register_keras_serializable(package="tfzoo")
class RelativeAttention(keras.layers.Layer):
    """Multi-head attention whose scores see relative distances, not positions.

    Transformer-XL (section 3.3) scores query i against key j as

        A[i, j] = (q_i + u) . k_j              content term
                + (q_i + v) . W_R R_{i-j}      position term: R is a sinusoid
                                               of the distance i - j
                + (q_i + b) . s_ij             XLNet's segment term (section 2.5):
                                               s_ij = s_same or s_different

    with learned biases u ("r_w_bias"), v ("r_r_bias") and b ("r_s_bias"),
    then softmax(A / sqrt(K)) over the keys, the weighted values, and the
    output projection. Queries are the last T of the S keys (memory first), so
    query i sits at absolute position S - T + i.

    The position term is computed once for all T x (S + T) pairs of a query
    and an encoded distance, then "relatively shifted" so that entry [i, j]
    holds the distance S - T + i - j (Transformer-XL, appendix B).

    This layer serves both of XLNet's streams: the content stream passes its
    hidden states as `query`, the query stream its own (see `XLNetBlock`),
    with the same keys, values and weights. It cannot use
    `MultiHeadAttention`'s fused kernel: the position and segment terms are
    not a mask or a softmax scale.

    Projections have no biases (as in Transformer-XL and XLNet). Weights:
    sublayers `query`, `key`, `value`, `position` with kernels [D, H, K],
    `attention_output` with kernel [H, K, D]; `content_bias`,
    `position_bias` (and `segment_bias`) [H, K]; `segment_embedding`
    [2, H, K] (same segment, different segment).

    Args:
        num_heads: int, H.
        key_dim: int, K, the width of each head.
        dropout: float, dropout on the attention probabilities. Defaults to 0.
        use_segment_encoding: bool, add XLNet's segment term. Defaults to False.
        kernel_initializer: initializer of the projection kernels.
        bias_initializer: initializer of the u, v, b biases and the segment
            embeddings.
        **kwargs: standard `keras.layers.Layer` arguments.

    Call arguments:
        query: [B, T, D].
        content: [B, S, D], the keys and values: memory then the sequence.
        position_encoding: [B, S + T, D], the encodings of the distances S,
            S - 1, ..., 1 - T (`RelativePositionEncoding`).
        attention_mask: boolean or 0/1 [B, T, S], true where query i may
            attend to key j. None: everything.
        segment_matrix: boolean or 0/1 [B, T, S], true where query i and key j
            are in different segments. Required with `use_segment_encoding`.
        training: bool, whether dropout is active.

    Returns:
        [B, T, D].

    Example:
    >>> attention = RelativeAttention(num_heads=4, key_dim=16)
    >>> x = keras.random.normal((2, 10, 64))
    >>> r = RelativePositionEncoding()(x)  # (2, 20, 64)
    >>> y = attention(x, x, r)  # (2, 10, 64)
    """

    def __init__(
        self,
        num_heads,
        key_dim,
        dropout=0.0,
        use_segment_encoding=False,
        kernel_initializer="glorot_uniform",
        bias_initializer="zeros",
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.num_heads = check_positive_int("num_heads", num_heads)
        self.key_dim = check_positive_int("key_dim", key_dim)
        self.dropout = check_rate("dropout", dropout)
        if not isinstance(use_segment_encoding, bool):
            raise ValueError(
                "`use_segment_encoding` must be a bool. Received: "
                f"use_segment_encoding={use_segment_encoding!r}"
            )
        self.use_segment_encoding = use_segment_encoding
        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        self.bias_initializer = keras.initializers.get(bias_initializer)
        self.scale = 1.0 / math.sqrt(self.key_dim)

    def _fresh(self, initializer):
        # A fresh initializer per weight, so each draws its own values.
        return initializer.__class__.from_config(initializer.get_config())

    def _projection(self, name, equation, output_shape):
        return keras.layers.EinsumDense(
            equation,
            output_shape=output_shape,
            kernel_initializer=self._fresh(self.kernel_initializer),
            dtype=self.dtype_policy,
            name=name,
        )

    def build(self, query_shape, content_shape=None, position_encoding_shape=None):
        if len(query_shape) != 3:
            raise ValueError(
                "RelativeAttention expects `query` of shape [batch, sequence, width]. "
                f"Received: query.shape={tuple(query_shape)}"
            )
        hidden_dim = query_shape[-1]
        content_shape = query_shape if content_shape is None else content_shape
        heads, width = self.num_heads, self.key_dim
        # (B, T, D) x (D, H, K) -> (B, T, H, K)
        self.query_dense = self._projection("query", "btd,dhk->bthk", (None, heads, width))
        self.key_dense = self._projection("key", "bsd,dhk->bshk", (None, heads, width))
        self.value_dense = self._projection("value", "bsd,dhk->bshk", (None, heads, width))
        self.position_dense = self._projection(
            "position", "brd,dhk->brhk", (None, heads, width))
        # (B, T, H, K) x (H, K, D) -> (B, T, D)
        self.output_dense = self._projection(
            "attention_output", "bthk,hkd->btd", (None, hidden_dim))
        self.query_dense.build(query_shape)
        self.key_dense.build(content_shape)
        self.value_dense.build(content_shape)
        self.position_dense.build((None, None, hidden_dim))
        self.output_dense.build((None, None, heads, width))

        def bias(name, shape):
            return self.add_weight(
                name=name, shape=shape, initializer=self._fresh(self.bias_initializer))

        self.content_bias = bias("content_bias", (heads, width))
        self.position_bias = bias("position_bias", (heads, width))
        if self.use_segment_encoding:
            self.segment_bias = bias("segment_bias", (heads, width))
            self.segment_embedding = bias("segment_embedding", (2, heads, width))
        self.dropout_layer = Dropout(
            self.dropout, dtype=self.dtype_policy, name="attention_dropout"
        )
        self.built = True

    @staticmethod
    def relative_shift(scores, key_length):
        """(B, H, T, S + T) scores per encoded distance -> (B, H, T, S) per key.

        Column c of `scores` is the distance S - c. Entry [i, j] of the result
        is column j + T - i: the distance S - T + i - j from key j to query i.
        Reading the [T, S + T] block as [S + T, T], dropping its first row and
        reading the rest as [T, S + T - 1] moves row i left by T - i.
        """
        shape = ops.shape(scores)
        batch, heads, length, width = shape[0], shape[1], shape[2], shape[3]
        scores = ops.reshape(scores, (batch, heads, width, length))[:, :, 1:, :]
        scores = ops.reshape(scores, (batch, heads, length, width - 1))
        return scores[:, :, :, :key_length]

    def call(
        self,
        query,
        content,
        position_encoding,
        attention_mask=None,
        segment_matrix=None,
        training=None,
    ):
        if self.use_segment_encoding and segment_matrix is None:
            raise ValueError(
                "This RelativeAttention has use_segment_encoding=True: pass "
                "`segment_matrix` [batch, query, key]."
            )
        for name, mask in (("attention_mask", attention_mask),
                           ("segment_matrix", segment_matrix)):
            if mask is not None and len(mask.shape) != 3:
                raise ValueError(
                    f"`{name}` must have shape [batch, query, key] (rank 3). "
                    f"Received: {name}.shape={tuple(mask.shape)}"
                )
        query_heads = self.query_dense(query)  # (B, T, H, K)
        key = self.key_dense(content)  # (B, S, H, K)
        value = self.value_dense(content)  # (B, S, H, K)
        position = self.position_dense(position_encoding)  # (B, S + T, H, K)

        def biased(bias):
            return query_heads + ops.cast(bias, query_heads.dtype)

        content_scores = ops.einsum("bthk,bshk->bhts", biased(self.content_bias), key)
        position_scores = ops.einsum("bthk,brhk->bhtr", biased(self.position_bias), position)
        position_scores = self.relative_shift(position_scores, ops.shape(key)[1])
        logits = content_scores + position_scores  # (B, H, T, S)
        if self.use_segment_encoding:
            per_segment = ops.einsum(  # (B, H, T, 2): same segment, different segment
                "bthk,ghk->bhtg", biased(self.segment_bias),
                ops.cast(self.segment_embedding, query_heads.dtype))
            different = ops.expand_dims(ops.cast(segment_matrix, "bool"), 1)  # (B, 1, T, S)
            logits = logits + ops.where(different, per_segment[..., 1:], per_segment[..., :1])

        logits = ops.cast(logits, "float32") * self.scale
        if attention_mask is not None:
            allowed = ops.expand_dims(ops.cast(attention_mask, "bool"), 1)  # (B, 1, T, S)
            logits = ops.where(allowed, logits, _MASKED_LOGIT)
        probabilities = ops.cast(ops.softmax(logits, axis=-1), query_heads.dtype)
        probabilities = self.dropout_layer(probabilities, training=training)
        output = ops.einsum("bhts,bshk->bthk", probabilities, value)  # (B, T, H, K)
        return self.output_dense(output)  # (B, T, D)

    def compute_output_shape(self, query_shape, *args, **kwargs):
        return tuple(query_shape)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "num_heads": self.num_heads,
                "key_dim": self.key_dim,
                "dropout": self.dropout,
                "use_segment_encoding": self.use_segment_encoding,
                "kernel_initializer": keras.initializers.serialize(self.kernel_initializer),
                "bias_initializer": keras.initializers.serialize(self.bias_initializer),
            }
        )
        return config
