"""The GPT and GPT-2 decoder stack (Radford et al. 2018; 2019)."""

import keras
from keras import ops

from tfzoo.checkpoints.gpt import GPT
from tfzoo.layers import TokenAndPositionEmbedding, TransformerDecoderBlock
from tfzoo.layers.utils import check_positive_int
from tfzoo.models.backbone import Backbone


@keras.saving.register_keras_serializable(package="tfzoo")
class GPTBackbone(Backbone):
    """A stack of causal decoder blocks over token + learned position embeddings.

    - `normalize_first=False`: GPT (Radford et al. 2018, section 3.1): post-LN
      blocks, no final LayerNorm.
    - `normalize_first=True`: GPT-2 (Radford et al. 2019, section 2.3): LayerNorm
      moved to each sublayer's input, plus a final LayerNorm after the last block.

    Inputs: `input_word_ids` and `input_mask` (1 for real tokens), int32 [B, T].
    Output: hidden states [B, T, D].

    Args:
        vocabulary_size: int.
        num_layers: int, decoder blocks.
        num_heads: int.
        hidden_dim: int, D.
        intermediate_dim: int, feed-forward width (4D).
        max_sequence_length: int, context length (learned positions).
        dropout: float, on embeddings and sublayer outputs. 0.1.
        attention_dropout: float, on attention probabilities. Defaults to 0,
            so training runs the fused causal attention kernel; GPT and GPT-2
            used `dropout`'s rate here (pass it for the original recipe).
        normalize_first: bool, GPT-2's pre-LN. Defaults to True.
        activation: feed-forward activation. Defaults to "gelu_approximate"
            (GPT-2's tanh GELU).
        layer_norm_epsilon: float. Defaults to 1e-5.
        initializer_range: float, stddev of the normal initializer. 0.02.
        **kwargs: `name`, `dtype`, `trainable`.
    """

    checkpoint_converter = GPT

    def __init__(
        self,
        vocabulary_size,
        num_layers,
        num_heads,
        hidden_dim,
        intermediate_dim,
        max_sequence_length,
        dropout=0.1,
        attention_dropout=0.0,
        normalize_first=True,
        activation="gelu_approximate",
        layer_norm_epsilon=1e-5,
        initializer_range=0.02,
        **kwargs,
    ):
        check_positive_int("num_layers", num_layers)
        check_positive_int("num_heads", num_heads)
        if hidden_dim % num_heads:
            raise ValueError(
                f"hidden_dim ({hidden_dim}) must be divisible by num_heads ({num_heads}).")
        dtype = kwargs.pop("dtype", None)

        def initializer():
            return keras.initializers.RandomNormal(stddev=initializer_range)

        # === Layers ===
        self.embeddings = TokenAndPositionEmbedding(
            vocabulary_size, max_sequence_length, hidden_dim, dropout=dropout,
            embeddings_initializer=initializer(), dtype=dtype, name="embeddings")
        self.blocks = [
            TransformerDecoderBlock(
                num_heads=num_heads, intermediate_dim=intermediate_dim, dropout=dropout,
                attention_dropout=attention_dropout,
                activation=activation, normalize_first=normalize_first,
                layer_norm_epsilon=layer_norm_epsilon, kernel_initializer=initializer(),
                dtype=dtype, name=f"transformer_layer_{i}")
            for i in range(num_layers)
        ]
        self.final_layer_norm = None
        if normalize_first:
            self.final_layer_norm = keras.layers.LayerNormalization(
                epsilon=layer_norm_epsilon, dtype=dtype, name="final_layer_norm")

        # === Functional graph ===
        inputs = {
            "input_word_ids": keras.Input((None,), dtype="int32", name="input_word_ids"),
            "input_mask": keras.Input((None,), dtype="int32", name="input_mask"),
        }
        x = self.embeddings(inputs["input_word_ids"])  # (B, T, D)
        for block in self.blocks:
            x = block(x, decoder_padding_mask=inputs["input_mask"])
        if self.final_layer_norm is not None:
            x = self.final_layer_norm(x)
        super().__init__(inputs=inputs, outputs=x, dtype=dtype, **kwargs)

        # === Config ===
        self.vocabulary_size = vocabulary_size
        self.num_layers = num_layers
        self.num_heads = num_heads
        self.hidden_dim = hidden_dim
        self.intermediate_dim = intermediate_dim
        self.max_sequence_length = max_sequence_length
        self.dropout = dropout
        self.attention_dropout = attention_dropout
        self.normalize_first = normalize_first
        self.activation = activation
        self.layer_norm_epsilon = layer_norm_epsilon
        self.initializer_range = initializer_range
        self.token_embedding = self.embeddings.token_embedding

    def cache_shape(self, batch_size, length):
        """Shape of the stacked key/value cache: [B, layers, 2, length, H, K]."""
        return (batch_size, self.num_layers, 2, length, self.num_heads,
                self.hidden_dim // self.num_heads)

    def initial_cache(self, batch_size, length):
        """An empty key/value cache in the per-layer form: a tuple with one
        `(keys, values)` pair of zeros [B, length, H, K] per block, in the
        compute dtype. Decoding loops should use this form: each step updates
        it in place, where the stacked [B, layers, 2, length, H, K] tensor is
        sliced and rebuilt (whole-cache copies) at every step."""
        shape = (batch_size, length, self.num_heads, self.hidden_dim // self.num_heads)
        dtype = self.layers_compute_dtype
        return tuple((ops.zeros(shape, dtype), ops.zeros(shape, dtype))
                     for _ in range(self.num_layers))

    def call_with_cache(self, token_ids, cache, cache_update_index):
        """Hidden states of `token_ids` [B, t] at positions `cache_update_index`...,
        attending to the cache, which is updated and returned in the form it
        came in: `initial_cache`'s per-layer pairs, or a stacked tensor of
        `cache_shape`.

        Right-padded batches decode in lockstep: every position before the
        current one is a real token, so the causal mask alone is correct.
        """
        stacked = not isinstance(cache, (tuple, list))
        x = self.embeddings(token_ids, start_index=cache_update_index)
        layer_caches = []
        for i, block in enumerate(self.blocks):
            x, layer_cache = block(
                x, self_attention_cache=cache[:, i] if stacked else tuple(cache[i]),
                self_attention_cache_update_index=cache_update_index)
            layer_caches.append(layer_cache if stacked else tuple(layer_cache))
        if self.final_layer_norm is not None:
            x = self.final_layer_norm(x)
        return x, ops.stack(layer_caches, axis=1) if stacked else tuple(layer_caches)
