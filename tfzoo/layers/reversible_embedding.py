"""Token embedding whose transpose is also the output projection (tied weights)."""

import keras
from keras import ops

from tfzoo.layers.row_products import row_product


@keras.saving.register_keras_serializable(package="tfzoo")
class ReversibleEmbedding(keras.layers.ReversibleEmbedding):
    """`keras.layers.ReversibleEmbedding` with a GEMM-friendly output projection.

    Same weights, checkpoints and semantics as Keras' layer: `layer(ids)` looks
    tokens up, `layer(hidden, reverse=True)` returns logits [..., V] from the
    transposed table (Press & Wolf 2017; GPT-2, BERT's MLM head).

    What it changes is the shape of the reverse matrix product under mixed
    precision. Vocabularies such as GPT-2's 50,257 are not a multiple of any
    GEMM tile, and the [B*T, D] x [D, V] product and its two gradients run at a
    fraction of the GPU's speed at that width (`benchmarks/lm_head_probe.py`:
    14.5 -> 9.0 ms forward+backward at GPT-2's shape on an H100). When the
    table is cast to a lower compute dtype anyway (mixed precision makes that
    copy every call), the copy is padded with zero rows to a multiple of
    `pad_to_multiple_of` and the extra logits are sliced off, so the output is
    exactly [..., V] and the padding costs no extra memory pass. In full
    precision the table is used as stored (no copy), e.g. for CPU decoding,
    which is bound by reading the table.

    Args:
        input_dim: int. Vocabulary size V.
        output_dim: int. Embedding width D.
        pad_to_multiple_of: int, default 64. Row multiple for the padded copy;
            1 turns padding off.
        **kwargs: passed to `keras.layers.ReversibleEmbedding`.

    Example:
    >>> layer = ReversibleEmbedding(10, 4)
    >>> hidden = layer(keras.ops.convert_to_tensor([[1, 2]]))
    >>> tuple(layer(hidden, reverse=True).shape)
    (1, 2, 10)
    """

    def __init__(self, input_dim, output_dim, pad_to_multiple_of=64, **kwargs):
        if isinstance(pad_to_multiple_of, bool) or not isinstance(pad_to_multiple_of, int) \
                or pad_to_multiple_of < 1:
            raise ValueError("`pad_to_multiple_of` must be a positive integer. "
                             f"Received pad_to_multiple_of={pad_to_multiple_of!r}")
        super().__init__(input_dim, output_dim, **kwargs)
        self.pad_to_multiple_of = pad_to_multiple_of

    def _pads_reverse(self):
        return (self.tie_weights and self.reverse_dtype is None
                and not self.quantization_mode
                and self.input_dim % self.pad_to_multiple_of != 0
                and self.variable_dtype != self.compute_dtype)

    def call(self, inputs, reverse=False):
        if not reverse or not self._pads_reverse():
            return super().call(inputs, reverse=reverse)
        table = self.embeddings  # (V, D), autocast to the compute dtype: a copy anyway
        extra = -self.input_dim % self.pad_to_multiple_of
        padded = ops.pad(table, [[0, extra], [0, 0]])  # (V + extra, D)
        return self._soft_cap(ops.matmul(inputs, ops.transpose(padded))[..., : self.input_dim])

    def _soft_cap(self, logits):
        """Keras' optional logit soft cap: cap * tanh(logits / cap)."""
        if self.logit_soft_cap is None:
            return logits
        soft_cap = self.logit_soft_cap
        return ops.multiply(ops.tanh(ops.divide(logits, soft_cap)), soft_cap)

    def reverse_projection(self):
        """`hidden -> logits`, as `layer(hidden, reverse=True)`, for a decoding
        loop: call it once before the loop, which then multiplies by a table
        transposed once ([D, V]) instead of transposing it every step. XLA on
        CPU multiplies a few rows by the [D, V] copy faster than by the [V, D]
        table (GPT-2 124M, 8 rows: 6.3 against 8.7 ms), for one table-sized
        copy per call. Separate reverse weights, quantized tables and the
        padded mixed-precision product keep the plain `call`. Inside
        `tfzoo.layers.row_products.one_row_products`, a bfloat16 table
        multiplies one row as stored ([V, D], read as bfloat16), which halves
        the bytes a batch-1 decoding step reads for the logits."""
        if not self.tie_weights or self.quantization_mode:
            return lambda hidden: self(hidden, reverse=True)

        def one_row_or(product):
            # Inside `one_row_products` a bfloat16 table has a one-row matrix.
            def reverse(hidden):
                logits = row_product(self, hidden)
                return product(hidden) if logits is None else self._soft_cap(logits)
            return reverse

        if self._pads_reverse():
            return one_row_or(lambda hidden: self(hidden, reverse=True))
        dtype = self.reverse_dtype or self.compute_dtype
        kernel = ops.cast(ops.transpose(self.embeddings), dtype)  # (D, V)
        return one_row_or(
            lambda hidden: self._soft_cap(ops.matmul(ops.cast(hidden, dtype), kernel)))

    def get_config(self):
        config = super().get_config()
        config["pad_to_multiple_of"] = self.pad_to_multiple_of
        return config
