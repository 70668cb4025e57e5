"""The Transformer (Vaswani et al. 2017): an encoder-decoder for sequence transduction."""

import keras
import numpy as np
from keras import ops

from tfzoo.generation import decoding
from tfzoo.generation.compile import FunctionCache, compile_with_model
from tfzoo.generation.sampling import SamplingConfig, seed_value
from tfzoo.layers import (
    TokenAndPositionEmbedding,
    TransformerDecoderBlock,
    TransformerEncoderBlock,
)
from tfzoo.layers.row_products import one_row_products
from tfzoo.layers.utils import check_positive_int
from tfzoo.models.backbone import Backbone

_BUCKET = 32  # source and target buffers are padded to a multiple: few recompilations


@keras.saving.register_keras_serializable(package="tfzoo")
class Transformer(Backbone):
    """Encoder-decoder Transformer with sinusoidal positions (paper, section 3).

    N encoder blocks (self-attention + feed-forward) and N decoder blocks
    (causal self-attention, cross-attention to the encoder output,
    feed-forward), each sublayer wrapped in dropout, a residual connection and
    LayerNorm (post-LN, section 3.1 and 5.4). Embeddings are multiplied by
    sqrt(D) and added to sinusoidal position encodings (3.4-3.5). With
    `share_embeddings` the source and target share one embedding matrix, also
    used, transposed, as the output projection (3.4); otherwise the output
    projection is tied to the target embedding.

    Inputs: `encoder_input_word_ids`, `encoder_input_mask`,
    `decoder_input_word_ids`, `decoder_input_mask`, int32 [B, S] and [B, T].
    Output: logits [B, T, V] over the target vocabulary.

    Args:
        vocabulary_size: int, target vocabulary (and source, when shared).
        num_layers: int, N. Defaults to 6.
        num_heads: int, h. Defaults to 8.
        hidden_dim: int, d_model. Defaults to 512.
        intermediate_dim: int, d_ff. Defaults to 2048.
        max_sequence_length: int, longest source or target (positions are
            computed, this bounds generation). Defaults to 256.
        source_vocabulary_size: int, when the source has its own vocabulary;
            None shares the target's (required by `share_embeddings`).
        share_embeddings: bool, one embedding matrix for source and target.
        dropout: float, P_drop. Defaults to 0.1.
        attention_dropout: float, dropout on attention probabilities. Defaults
            to 0, as the paper (section 5.4 drops sublayer outputs and
            embeddings only); 0 also lets training run the fused kernel.
        activation: feed-forward activation. Defaults to "relu" (the paper's).
        layer_norm_epsilon: float. Defaults to 1e-6.
        **kwargs: `name`, `dtype`, `trainable`.
    """

    def __init__(
        self,
        vocabulary_size,
        num_layers=6,
        num_heads=8,
        hidden_dim=512,
        intermediate_dim=2048,
        max_sequence_length=256,
        source_vocabulary_size=None,
        share_embeddings=True,
        dropout=0.1,
        attention_dropout=0.0,
        activation="relu",
        layer_norm_epsilon=1e-6,
        **kwargs,
    ):
        check_positive_int("num_layers", num_layers)
        if hidden_dim % num_heads:
            raise ValueError(
                f"hidden_dim ({hidden_dim}) must be divisible by num_heads ({num_heads}).")
        if share_embeddings and source_vocabulary_size not in (None, vocabulary_size):
            raise ValueError(
                "share_embeddings needs one vocabulary; received source_vocabulary_size="
                f"{source_vocabulary_size} and vocabulary_size={vocabulary_size}.")
        dtype = kwargs.pop("dtype", None)

        def embedding(vocabulary, name):
            # N(0, d^-1/2): with the sqrt(d) scale, embeddings start at unit size.
            return TokenAndPositionEmbedding(
                vocabulary, max_sequence_length, hidden_dim, position_encoding="sinusoidal",
                scale_embeddings=True, dropout=dropout,
                embeddings_initializer=keras.initializers.RandomNormal(stddev=hidden_dim**-0.5),
                dtype=dtype, name=name)

        # === Layers ===
        self.target_embedding = embedding(vocabulary_size, "target_embedding")
        self.source_embedding = (self.target_embedding if share_embeddings else
                                 embedding(source_vocabulary_size or vocabulary_size,
                                           "source_embedding"))
        block_args = dict(num_heads=num_heads, intermediate_dim=intermediate_dim, dropout=dropout,
                          attention_dropout=attention_dropout,
                          activation=activation, layer_norm_epsilon=layer_norm_epsilon,
                          dtype=dtype)
        self.encoder_blocks = [TransformerEncoderBlock(**block_args, name=f"encoder_layer_{i}")
                               for i in range(num_layers)]
        self.decoder_blocks = [TransformerDecoderBlock(**block_args, name=f"decoder_layer_{i}")
                               for i in range(num_layers)]

        # === Functional graph ===
        inputs = {
            name: keras.Input((None,), dtype="int32", name=name)
            for name in ("encoder_input_word_ids", "encoder_input_mask",
                         "decoder_input_word_ids", "decoder_input_mask")
        }
        encoded = self._encode(inputs["encoder_input_word_ids"], inputs["encoder_input_mask"])
        x = self.target_embedding(inputs["decoder_input_word_ids"])  # (B, T, D)
        for block in self.decoder_blocks:
            x = block(x, encoded, decoder_padding_mask=inputs["decoder_input_mask"],
                      encoder_padding_mask=inputs["encoder_input_mask"])
        logits = self.target_embedding.token_embedding(x, reverse=True)  # (B, T, V)
        super().__init__(inputs=inputs, outputs=logits, dtype=dtype, **kwargs)

        # === Config ===
        self.vocabulary_size = vocabulary_size
        self.num_layers = num_layers
        self.num_heads = num_heads
        self.hidden_dim = hidden_dim
        self.intermediate_dim = intermediate_dim
        self.max_sequence_length = max_sequence_length
        self.source_vocabulary_size = source_vocabulary_size
        self.share_embeddings = share_embeddings
        self.dropout = dropout
        self.attention_dropout = attention_dropout
        self.activation = activation
        self.layer_norm_epsilon = layer_norm_epsilon
        self._generate_functions = FunctionCache()

    def _encode(self, word_ids, mask, training=None):
        x = self.source_embedding(word_ids, training=training)  # (B, S, D)
        for block in self.encoder_blocks:
            x = block(x, padding_mask=mask, training=training)
        return x

    # === Incremental decoding ===
    def _initial_cache(self, source_ids, source_mask, target_length):
        """Encodes the source once; cross-attention keys/values computed once.

        Caches are per decoder block `(keys, values)` pairs [B, length, H, K],
        which attention updates in place (see `MultiHeadAttention`)."""
        encoded = self._encode(source_ids, source_mask)  # (B, S, D)
        batch, source_length = ops.shape(source_ids)[0], ops.shape(source_ids)[1]
        head_dim = self.hidden_dim // self.num_heads

        def empty(length):
            shape = (batch, length, self.num_heads, head_dim)
            dtype = self.layers_compute_dtype
            return (ops.zeros(shape, dtype), ops.zeros(shape, dtype))

        cross = []
        for block in self.decoder_blocks:
            _, filled = block.cross_attention(encoded[:, :1], encoded,
                                              cache=empty(source_length), cache_update_index=0)
            cross.append(tuple(filled))
        return {
            "self": tuple(empty(target_length) for _ in self.decoder_blocks),
            "cross": tuple(cross),
            "source_mask": source_mask,
        }

    def _decode_with_cache(self, token_ids, cache, index):
        x = self.target_embedding(token_ids, start_index=index)
        self_caches = []
        for i, block in enumerate(self.decoder_blocks):
            x, self_cache, _ = block(
                x, encoder_padding_mask=cache["source_mask"],
                self_attention_cache=tuple(cache["self"][i]),
                self_attention_cache_update_index=index,
                cross_attention_cache=tuple(cache["cross"][i]))
            self_caches.append(tuple(self_cache))
        return x, dict(cache, self=tuple(self_caches))

    def decode_function(self, sampling, num_beams, length_penalty, end_token_id):
        """`decode(source [B, S], buffer [B, L], prompt_lengths, end_indices, seed)`:
        target buffers ([B, L], or the best beam with beam search), from padded
        source ids (0 = padding). Plain keras.ops: `generate` compiles it, the
        SavedModel export traces it. The target prompt (the start token) is
        fed one position per step: no separate prompt pass."""

        def decode(source, buffer, prompt_lengths, end_indices, seed):
            cache = self._initial_cache(source, ops.cast(ops.not_equal(source, 0), "int32"),
                                        ops.shape(buffer)[1])
            table = self.target_embedding.token_embedding
            with one_row_products([*self.decoder_blocks, table],
                                  decoding.step_rows(buffer, num_beams)):
                outputs = decoding.generate(
                    self._decode_with_cache, table.reverse_projection(),
                    cache, buffer, prompt_lengths, end_indices, sampling, seed,
                    num_beams, length_penalty, (end_token_id,), prefill_length=0)
            return outputs[:, 0] if num_beams > 1 else outputs

        return decode

    def generate(self, source_ids, start_token_id, end_token_id, max_length=None,
                 num_beams=1, length_penalty=0.6, greedy=True, temperature=1.0, top_k=0,
                 top_p=1.0, seed=None):
        """Target token ids for each source sequence.

        Args:
            source_ids: list of int lists (ragged) or a padded int array (0 = pad).
            start_token_id: the decoder's first input.
            end_token_id: decoding of a row stops after it.
            max_length: target length limit, the start token included (an
                int >= 2); defaults to each source's own length + 50, capped
                by max_sequence_length (the paper's rule, section 6.1).
            num_beams: > 1 for beam search with GNMT length penalty alpha
                `length_penalty` (the paper: beam 4, alpha 0.6).
            greedy, temperature, top_k, top_p, seed: sampling when greedy=False.

        Returns:
            list of int lists: the target tokens after the start token, up to
            and including the end token when one was produced.
        """
        rows = [list(map(int, [t for t in ids if t != 0])) if not isinstance(ids, list) else ids
                for ids in source_ids]
        if not rows or any(len(r) == 0 for r in rows):
            raise ValueError("Every source sequence needs at least one token.")
        longest = max(len(r) for r in rows)
        if longest > self.max_sequence_length:
            raise ValueError(f"A source has {longest} tokens; max_sequence_length="
                             f"{self.max_sequence_length}.")
        source_width = min(int(np.ceil(longest / _BUCKET)) * _BUCKET, self.max_sequence_length)
        source = np.zeros((len(rows), source_width), "int32")
        for index, row in enumerate(rows):
            source[index, :len(row)] = row
        if max_length is None:  # each row's own source length + 50
            ends = np.array([min(len(r) + 50, self.max_sequence_length) for r in rows], "int32")
        else:
            if check_positive_int("max_length", max_length) < 2:
                raise ValueError("max_length counts the start token and at least one more: an "
                                 f"int >= 2. Received: max_length={max_length!r}")
            if max_length > self.max_sequence_length:
                raise ValueError(f"max_length={max_length} exceeds max_sequence_length="
                                 f"{self.max_sequence_length}.")
            ends = np.full(len(rows), max_length, "int32")
        check_positive_int("num_beams", num_beams)
        limit = int(ends.max())
        target_width = min(int(np.ceil(limit / _BUCKET)) * _BUCKET, self.max_sequence_length)
        buffer = np.zeros((len(rows), target_width), "int32")
        buffer[:, 0] = start_token_id
        prompt_lengths = np.ones(len(rows), "int32")

        sampling = SamplingConfig(greedy=greedy, temperature=temperature, top_k=top_k,
                                  top_p=top_p, seed=seed)
        sampling.check_used(num_beams)
        key = (sampling.greedy, sampling.temperature, sampling.top_k, sampling.top_p, num_beams,
               length_penalty, end_token_id)
        function = self._generate_functions.get(key, lambda: compile_with_model(
            self, self.decode_function(sampling, num_beams, length_penalty, end_token_id)))
        outputs = np.asarray(ops.convert_to_numpy(function(
            source, buffer, prompt_lengths, ends, seed_value(seed))))
        results = []
        for row, end in zip(outputs, ends):
            tokens = row[1:end].tolist()
            if end_token_id in tokens:
                tokens = tokens[:tokens.index(end_token_id) + 1]
            results.append(tokens)
        return results
