"""One encoder layer (Vaswani et al. 2017, section 3.1; BERT; pre-LN variants)."""

import keras

from tfzoo.layers.transformer_block_base import TransformerBlockBase
from tfzoo.layers.utils import merge_padding_and_attention_mask


@keras.saving.register_keras_serializable(package="tfzoo")
class TransformerEncoderBlock(TransformerBlockBase):
    """Self-attention then a feed-forward network, each with residual + LayerNorm.

    Post-LN (`normalize_first=False`) is the paper's and BERT's:
        x = LN(x + Dropout(SelfAttention(x)));  x = LN(x + Dropout(FFN(x)))
    Pre-LN (`normalize_first=True`) is GPT-2's:
        x = x + Dropout(SelfAttention(LN(x)));  x = x + Dropout(FFN(LN(x)))

    Args:
        num_heads: int, number of attention heads; must divide the input width.
        intermediate_dim: int, inner width of the feed-forward network.
        dropout: float, residual dropout on each sublayer's output (section 5.4).
            Defaults to 0.1.
        attention_dropout: float, dropout on attention probabilities. Defaults
            to `dropout`.
        activation: feed-forward activation. Defaults to "relu" (the paper's);
            BERT uses "gelu".
        normalize_first: bool, pre-LN instead of post-LN. Defaults to False.
        layer_norm_epsilon: float. Defaults to 1e-5 (BERT uses 1e-12).
        kernel_initializer: initializer of all kernels.
        bias_initializer: initializer of all biases.
        **kwargs: standard `keras.layers.Layer` arguments.

    Call arguments:
        inputs: [B, T, D].
        padding_mask: [B, T], true/1 for real tokens; padded keys are ignored.
        attention_mask: [B, T, T], true where query t may attend to key s.
        training: bool, whether dropout is active.

    Returns:
        [B, T, D].

    Example:
    >>> block = TransformerEncoderBlock(num_heads=4, intermediate_dim=256)
    >>> x = keras.random.normal((2, 10, 64))
    >>> y = block(x, padding_mask=keras.ops.ones((2, 10), "int32"))
    """

    def build(self, inputs_shape):
        hidden_dim = inputs_shape[-1]
        self.self_attention = self._attention("self_attention", hidden_dim)
        self.self_attention.build(inputs_shape, inputs_shape)
        self.self_attention_layer_norm = self._layer_norm("self_attention_layer_norm")
        self.self_attention_layer_norm.build(inputs_shape)
        self.self_attention_dropout = self._dropout("self_attention_dropout")
        self.feed_forward = self._feed_forward()
        self.feed_forward.build(inputs_shape)
        self.feed_forward_layer_norm = self._layer_norm("feed_forward_layer_norm")
        self.feed_forward_layer_norm.build(inputs_shape)
        self.feed_forward_dropout = self._dropout("feed_forward_dropout")
        self.built = True

    def call(self, x, padding_mask=None, attention_mask=None, training=None):
        mask = merge_padding_and_attention_mask(padding_mask, attention_mask, x.shape[1],
                                                batch_size=x.shape[0])

        def attend(y):
            return self.self_attention(y, y, attention_mask=mask, training=training), None

        def feed_forward(y):
            return self.feed_forward(y, training=training), None

        y, _ = self._residual(
            x,
            self.self_attention_layer_norm,
            self.self_attention_dropout,
            attend,
            training,
        )
        y, _ = self._residual(
            y, self.feed_forward_layer_norm, self.feed_forward_dropout, feed_forward, training
        )
        return y
