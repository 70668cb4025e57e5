"""One decoder layer (Vaswani et al. 2017, section 3.1; GPT/GPT-2 without cross-attention)."""

import keras

from tfzoo.layers.transformer_block_base import TransformerBlockBase
from tfzoo.layers.utils import merge_padding_and_attention_mask


@keras.saving.register_keras_serializable(package="tfzoo")
class TransformerDecoderBlock(TransformerBlockBase):
    """Causal self-attention, optional cross-attention, then a feed-forward network.

    With an encoder sequence (the Transformer's decoder, section 3.1) the block
    has three sublayers; without one (GPT, GPT-2) it has two. Whether it has
    cross-attention is fixed by the first call: pass `encoder_sequence` then.
    Residual, dropout and LayerNorm wiring is that of `TransformerEncoderBlock`
    (post-LN by default, pre-LN with `normalize_first=True`).

    For incremental decoding, pass `self_attention_cache` [B, 2, T_max, H, K]
    and `self_attention_cache_update_index`: the new positions' keys and values
    are written into the cache and the block returns it. The cross-attention
    keys and values depend only on the encoder output, so compute them once
    (pass `cross_attention_cache` with `cross_attention_cache_update_index=0`
    on the first step) and reuse them (index None) on the following steps.

    Args:
        Same as `TransformerEncoderBlock`.

    Call arguments:
        decoder_sequence: [B, T, D].
        encoder_sequence: [B, S, D_enc], the encoder output, or None.
        decoder_padding_mask: [B, T] (or [B, T_max] with a cache), true/1 for
            real tokens.
        decoder_attention_mask: [B, T, T] (or [B, T, T_max] with a cache).
        encoder_padding_mask: [B, S], true/1 for real source tokens.
        encoder_attention_mask: [B, T, S].
        self_attention_cache: [B, 2, T_max, H, K] or None.
        self_attention_cache_update_index: int or scalar tensor.
        cross_attention_cache: [B, 2, S, H, K] or None.
        cross_attention_cache_update_index: int or scalar tensor, or None to
            reuse the cross-attention cache as it is.
        use_causal_mask: bool, forbid attending to later positions. Defaults
            to True.
        training: bool, whether dropout is active.

    Returns:
        [B, T, D]; with a self-attention cache, `(outputs, self_attention_cache)`
        for a block without cross-attention and `(outputs, self_attention_cache,
        cross_attention_cache)` for one with it.

    Example:
    >>> block = TransformerDecoderBlock(num_heads=4, intermediate_dim=256)
    >>> target = keras.random.normal((2, 7, 64))
    >>> source = keras.random.normal((2, 9, 64))
    >>> y = block(target, source)  # (2, 7, 64)
    """

    def build(self, decoder_sequence_shape, encoder_sequence_shape=None):
        hidden_dim = decoder_sequence_shape[-1]
        self.self_attention = self._attention("self_attention", hidden_dim)
        self.self_attention.build(decoder_sequence_shape, decoder_sequence_shape)
        self.self_attention_layer_norm = self._layer_norm("self_attention_layer_norm")
        self.self_attention_layer_norm.build(decoder_sequence_shape)
        self.self_attention_dropout = self._dropout("self_attention_dropout")
        self.cross_attention = None
        if encoder_sequence_shape is not None:
            self.cross_attention = self._attention("cross_attention", hidden_dim)
            self.cross_attention.build(decoder_sequence_shape, encoder_sequence_shape)
            self.cross_attention_layer_norm = self._layer_norm("cross_attention_layer_norm")
            self.cross_attention_layer_norm.build(decoder_sequence_shape)
            self.cross_attention_dropout = self._dropout("cross_attention_dropout")
        self.feed_forward = self._feed_forward()
        self.feed_forward.build(decoder_sequence_shape)
        self.feed_forward_layer_norm = self._layer_norm("feed_forward_layer_norm")
        self.feed_forward_layer_norm.build(decoder_sequence_shape)
        self.feed_forward_dropout = self._dropout("feed_forward_dropout")
        self.built = True

    def call(
        self,
        decoder_sequence,
        encoder_sequence=None,
        decoder_padding_mask=None,
        decoder_attention_mask=None,
        encoder_padding_mask=None,
        encoder_attention_mask=None,
        self_attention_cache=None,
        self_attention_cache_update_index=None,
        cross_attention_cache=None,
        cross_attention_cache_update_index=None,
        use_causal_mask=True,
        training=None,
    ):
        has_cross_attention = self.cross_attention is not None
        if not has_cross_attention and (
            encoder_sequence is not None or cross_attention_cache is not None
        ):
            raise ValueError(
                "This decoder block was built without cross-attention (its first "
                "call had no `encoder_sequence`), but an encoder sequence or "
                "cross-attention cache was passed."
            )
        if has_cross_attention and encoder_sequence is None and (
            cross_attention_cache is None or cross_attention_cache_update_index is not None
        ):
            raise ValueError(
                "This decoder block has cross-attention: pass `encoder_sequence`, "
                "or a precomputed `cross_attention_cache` with "
                "cross_attention_cache_update_index=None."
            )
        self_mask = merge_padding_and_attention_mask(
            decoder_padding_mask, decoder_attention_mask,
            decoder_sequence.shape[1] if self_attention_cache is None else None,
            "decoder_padding_mask", batch_size=decoder_sequence.shape[0],
        )

        def self_attend(x):
            if self_attention_cache is None:
                output = self.self_attention(
                    x,
                    x,
                    attention_mask=self_mask,
                    use_causal_mask=use_causal_mask,
                    training=training,
                )
                return output, None
            return self.self_attention(
                x,
                x,
                attention_mask=self_mask,
                use_causal_mask=use_causal_mask,
                cache=self_attention_cache,
                cache_update_index=self_attention_cache_update_index,
                training=training,
            )

        x, self_cache = self._residual(
            decoder_sequence,
            self.self_attention_layer_norm,
            self.self_attention_dropout,
            self_attend,
            training,
        )

        cross_cache = None
        if has_cross_attention:
            cross_mask = merge_padding_and_attention_mask(
                encoder_padding_mask, encoder_attention_mask,
                None if encoder_sequence is None else encoder_sequence.shape[1],
                "encoder_padding_mask", batch_size=decoder_sequence.shape[0],
            )

            def cross_attend(x):
                if cross_attention_cache is None:
                    output = self.cross_attention(
                        x, encoder_sequence, attention_mask=cross_mask, training=training
                    )
                    return output, None
                return self.cross_attention(
                    x,
                    encoder_sequence,
                    attention_mask=cross_mask,
                    cache=cross_attention_cache,
                    cache_update_index=cross_attention_cache_update_index,
                    training=training,
                )

            x, cross_cache = self._residual(
                x,
                self.cross_attention_layer_norm,
                self.cross_attention_dropout,
                cross_attend,
                training,
            )

        def feed_forward(x):
            return self.feed_forward(x, training=training), None

        x, _ = self._residual(
            x, self.feed_forward_layer_norm, self.feed_forward_dropout, feed_forward, training
        )
        if self_attention_cache is None:
            return x
        if has_cross_attention:
            return x, self_cache, cross_cache
        return x, self_cache
