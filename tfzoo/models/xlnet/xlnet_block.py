"""One XLNet layer: two-stream relative self-attention, then a feed-forward network
(Yang et al. 2019, section 2.3 and figure 1)."""

import keras
from keras import ops

from tfzoo.layers.relative_attention import RelativeAttention
from tfzoo.layers.transformer_block_base import TransformerBlockBase


@keras.saving.register_keras_serializable(package="tfzoo")
class XLNetBlock(TransformerBlockBase):
    """Transformer-XL's layer, applied to either of XLNet's two streams.

    A stream x (the content stream h or the query stream g) attends over the
    content stream's memory and current states, then goes through the
    feed-forward network, post-LN as in XLNet:

        x = LN(x + Dropout(RelativeAttention(query=x, keys=[mem, h])))
        x = LN(x + Dropout(FFN(x)))

    The backbone calls the same block once per stream, so both streams share
    every weight and differ only in their queries and masks (`XLNetMasks`):
    h_i sees its own token, g_i does not, so that g can predict it
    (section 2.3, "two-stream self-attention").

    With `target_mapping` [B, P, T] the query stream holds only the P
    predicted positions: each query is placed at its position in the
    sequence for attention (so the relative distances are right) and read
    back from there. XLNet maps the projected query heads; mapping the hidden
    states before the projections computes the same, since the projections
    have no biases.

    Args:
        num_heads: int, H; must divide the width.
        intermediate_dim: int, inner width of the feed-forward network.
        dropout: float, dropout on each sublayer's output and the
            feed-forward activations. Defaults to 0.1.
        attention_dropout: float, dropout on attention probabilities.
            Defaults to `dropout` (XLNet uses one rate).
        activation: feed-forward activation. Defaults to "relu"; XLNet uses
            "gelu".
        layer_norm_epsilon: float. Defaults to 1e-5; XLNet uses 1e-12.
        kernel_initializer: initializer of the kernels.
        bias_initializer: initializer of the attention biases, the segment
            embeddings and the feed-forward biases.
        **kwargs: standard `keras.layers.Layer` arguments.

    Call arguments:
        inputs: the stream to update: the content stream [B, T, D], or the
            query stream [B, P, D] (or [B, T, D] without `target_mapping`).
        content: [B, T, D], the content stream's states this layer reads
            keys and values from (for the content stream, `inputs` itself).
        position_encoding: [B, M + 2T, D] (`RelativePositionEncoding`).
        attention_mask: bool [B, T, M + T], the stream's mask.
        segment_matrix: bool [B, T, M + T], true where the segments differ.
        memory: [B, M, D], this layer's content input on the previous
            segment, or None.
        target_mapping: float [B, P, T], one-hot rows (prediction p is at
            position t), for a query stream of P rows; None otherwise.
        training: bool, whether dropout is active.

    Returns:
        The updated stream, shaped as `inputs`.

    Example:
    >>> block = XLNetBlock(num_heads=4, intermediate_dim=256, activation="gelu")
    >>> h = keras.random.normal((2, 10, 64))
    >>> r = RelativePositionEncoding()(h)
    >>> mask = keras.ops.ones((2, 10, 10), "bool")
    >>> h = block(h, h, r, mask, segment_matrix=keras.ops.zeros((2, 10, 10), "bool"))
    """

    def build(self, inputs_shape):
        hidden_dim = inputs_shape[-1]
        self.attention = RelativeAttention(
            num_heads=self.num_heads,
            key_dim=self._head_dim(hidden_dim),
            dropout=self.attention_dropout,
            use_segment_encoding=True,
            kernel_initializer=self._initializer(self.kernel_initializer),
            bias_initializer=self._initializer(self.bias_initializer),
            dtype=self.dtype_policy,
            name="attention",
        )
        self.attention.build(inputs_shape, inputs_shape, (None, None, hidden_dim))
        self.attention_layer_norm = self._layer_norm("attention_layer_norm")
        self.attention_layer_norm.build(inputs_shape)
        self.attention_output_dropout = self._dropout("attention_output_dropout")
        self.feed_forward = self._feed_forward()
        self.feed_forward.build(inputs_shape)
        self.feed_forward_layer_norm = self._layer_norm("feed_forward_layer_norm")
        self.feed_forward_layer_norm.build(inputs_shape)
        self.feed_forward_dropout = self._dropout("feed_forward_dropout")
        self.built = True

    def call(
        self,
        inputs,
        content,
        position_encoding,
        attention_mask=None,
        segment_matrix=None,
        memory=None,
        target_mapping=None,
        training=None,
    ):
        keys = content
        if memory is not None:
            keys = ops.concatenate([ops.cast(memory, content.dtype), content], axis=1)  # (B, S, D)

        def attend(x):
            if target_mapping is not None:
                mapping = ops.cast(target_mapping, x.dtype)
                x = ops.einsum("bpt,bpd->btd", mapping, x)  # (B, T, D), queries at their positions
            x = self.attention(x, keys, position_encoding, attention_mask=attention_mask,
                               segment_matrix=segment_matrix, training=training)
            if target_mapping is not None:
                x = ops.einsum("bpt,btd->bpd", mapping, x)  # (B, P, D)
            return x, None

        def feed_forward(x):
            return self.feed_forward(x, training=training), None

        x, _ = self._residual(inputs, self.attention_layer_norm, self.attention_output_dropout,
                              attend, training)
        x, _ = self._residual(x, self.feed_forward_layer_norm, self.feed_forward_dropout,
                              feed_forward, training)
        return x
