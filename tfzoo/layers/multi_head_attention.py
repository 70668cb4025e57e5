"""Multi-head scaled dot-product attention (Vaswani et al. 2017, section 3.2)."""

import math

import keras
from keras import ops

from tfzoo.layers.dropout import Dropout
from tfzoo.layers.row_products import project
from tfzoo.layers.utils import as_mask_tensor, check_positive_int, check_rate, write_positions

# Masked logits get this before the softmax (computed in float32): the same
# value Keras' own Softmax uses, so fully masked rows come out uniform as there.
_MASKED_LOGIT = -1e9
# A causal decoding step reads the key/value cache in blocks of this many
# positions, up to the block holding its own (`_attend_one_query`).
_CACHE_BLOCK = 32


def skip_all_ones_masks():
    """Whether fused attention tests a mask for all-true and then runs without it.

    cuDNN's fused kernel (JAX on GPUs) is markedly faster with no mask than with
    a full [B, 1, T, S] one (`benchmarks/attention_probe.py`), and training
    batches are often unpadded. Elsewhere the mask costs little, so the test
    (a runtime branch) is not worth it.
    """
    if keras.backend.backend() != "jax":
        return False
    import jax

    return jax.default_backend() == "gpu"


@keras.saving.register_keras_serializable(package="tfzoo")
class MultiHeadAttention(keras.layers.Layer):
    """Multi-head attention with padding/causal masks and a key/value cache.

    Implements section 3.2.2 of the paper:

        MultiHead(Q, K, V) = Concat(head_1..head_H) W_O,
        head_h = softmax(Q W_Q,h (K W_K,h)^T / sqrt(K)) V W_V,h

    for self-attention (`value` is `query`), cross-attention (`value` is the
    encoder output) and causal self-attention (`use_causal_mask=True`).

    Weights: sublayers `query`, `key`, `value` with kernels [D, H*K] and
    biases [H*K] (heads merged, as Google's and Hugging Face's checkpoints
    store them; `keras.layers.MultiHeadAttention` keeps [D, H, K] and [H, K]:
    reshape to move weights across), and `attention_output` with kernel
    [H, V, D_out] and bias [D_out], as Keras'.

    Attention runs through the fused `keras.ops.dot_product_attention` (cuDNN
    flash attention on GPUs with the JAX backend) whenever nothing needs the
    probabilities themselves: at inference whatever the dropout rate, and in
    training when the rate is 0 (and value heads are as wide as key heads).
    Training with attention dropout, or asking for
    the scores, takes the explicit einsum + softmax path. Softmax always runs in
    float32, so `mixed_bfloat16`/`mixed_float16` are safe.

    Args:
        num_heads: int, H.
        key_dim: int, K, the width of each query/key head.
        value_dim: int, width of each value head. Defaults to `key_dim`.
        dropout: float, dropout rate on the attention probabilities.
        use_bias: bool, whether the projections have biases. Defaults to True.
        output_dim: int, width of the output. Defaults to the query's width.
        kernel_initializer: initializer of the projection kernels.
        bias_initializer: initializer of the projection biases.
        **kwargs: standard `keras.layers.Layer` arguments.

    Call arguments:
        query: [B, T, D_q].
        value: [B, S, D_v]. May be None only with a precomputed `cache` and no
            `cache_update_index` (reusing a cross-attention cache).
        key: [B, S, D_k]. Defaults to `value`.
        attention_mask: boolean or 0/1 mask, true where attention is allowed:
            [B, S] (a key padding mask, same for every query) or [B, T, S].
        use_causal_mask: bool, forbid attending to later positions. With a cache,
            query t sits at absolute position `cache_update_index + t`.
        cache: [B, 2, S, H, K], stacked keys and values, or a pair
            `(keys [B, S, H, K], values [B, S, H, V])`; the updated cache comes
            back in the form it was given. With `cache_update_index`, the new
            keys/values are written into it at that index and attention runs
            over the whole cache (mask the unused tail with `use_causal_mask` or
            `attention_mask`). Without it, the cache is used as the keys/values
            as it is. The pair is the faster form for decoding loops: the
            stacked tensor is split and rebuilt at every call (copies of the
            whole cache), the pair is updated in place.
        cache_update_index: int or scalar int tensor, where the new keys/values go.
        training: bool, whether dropout is active.
        return_attention_scores: bool, also return the probabilities
            [B, H, T, S].

    Returns:
        output [B, T, D_out]; `(output, scores)` with
        `return_attention_scores`; `(output, new_cache)` when a cache is passed;
        `(output, scores, new_cache)` with both.

    Example:
    >>> mha = MultiHeadAttention(num_heads=4, key_dim=16)
    >>> x = keras.random.normal((2, 10, 64))
    >>> y = mha(x, x, use_causal_mask=True)  # (2, 10, 64)
    """

    def __init__(
        self,
        num_heads,
        key_dim,
        value_dim=None,
        dropout=0.0,
        use_bias=True,
        output_dim=None,
        kernel_initializer="glorot_uniform",
        bias_initializer="zeros",
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.num_heads = check_positive_int("num_heads", num_heads)
        self.key_dim = check_positive_int("key_dim", key_dim)
        self.value_dim = check_positive_int(
            "value_dim", key_dim if value_dim is None else value_dim
        )
        self.dropout = check_rate("dropout", dropout)
        self.use_bias = bool(use_bias)
        self.output_dim = (
            None if output_dim is None else check_positive_int("output_dim", output_dim)
        )
        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        self.bias_initializer = keras.initializers.get(bias_initializer)
        self.scale = 1.0 / math.sqrt(self.key_dim)

    def _projection(self, name, equation, output_shape, bias_axes):
        # A fresh initializer per sublayer so each draws its own values.
        return keras.layers.EinsumDense(
            equation,
            output_shape=output_shape,
            bias_axes=bias_axes if self.use_bias else None,
            kernel_initializer=self.kernel_initializer.__class__.from_config(
                self.kernel_initializer.get_config()
            ),
            bias_initializer=self.bias_initializer.__class__.from_config(
                self.bias_initializer.get_config()
            ),
            dtype=self.dtype_policy,
            name=name,
        )

    def build(self, query_shape, value_shape=None, key_shape=None):
        for arg, shape in (("query", query_shape), ("value", value_shape), ("key", key_shape)):
            if shape is not None and len(shape) != 3:
                raise ValueError(
                    f"MultiHeadAttention expects `{arg}` of shape [batch, sequence, "
                    f"width]. Received: {arg}.shape={tuple(shape)}"
                )
        value_shape = query_shape if value_shape is None else value_shape
        key_shape = value_shape if key_shape is None else key_shape
        heads = self.num_heads
        # (B, T, D) x (D, H*K) -> (B, T, H*K), split into heads by `_heads`.
        self.query_dense = self._projection(
            "query", "btd,de->bte", (None, heads * self.key_dim), "e"
        )
        self.key_dense = self._projection(
            "key", "bsd,de->bse", (None, heads * self.key_dim), "e"
        )
        self.value_dense = self._projection(
            "value", "bsd,de->bse", (None, heads * self.value_dim), "e"
        )
        output_dim = self.output_dim or query_shape[-1]
        # (B, T, H, V) x (H, V, D) -> (B, T, D)
        self.output_dense = self._projection(
            "attention_output", "bthv,hvd->btd", (None, output_dim), "d"
        )
        self.query_dense.build(query_shape)
        self.key_dense.build(key_shape)
        self.value_dense.build(value_shape)
        self.output_dense.build((None, None, heads, self.value_dim))
        self.dropout_layer = Dropout(
            self.dropout, dtype=self.dtype_policy, name="attention_dropout"
        )
        self.built = True

    def call(
        self,
        query,
        value=None,
        key=None,
        attention_mask=None,
        use_causal_mask=False,
        cache=None,
        cache_update_index=None,
        training=None,
        return_attention_scores=False,
    ):
        if cache_update_index is not None and cache is None:
            raise ValueError("`cache_update_index` was passed without a `cache`.")
        if value is None and (cache is None or cache_update_index is not None):
            raise ValueError(
                "`value` is required, except when reusing a precomputed `cache` "
                "(cache given, cache_update_index=None)."
            )
        if key is None:
            key = value

        query = self._heads(project(self.query_dense, query), self.key_dim)  # (B, T, H, K)
        if cache is None:
            key = self._heads(project(self.key_dense, key), self.key_dim)  # (B, S, H, K)
            value = self._heads(project(self.value_dense, value), self.value_dim)  # (B, S, H, V)
        else:
            stacked = self._check_cache(cache)
            key_cache, value_cache = (cache[:, 0], cache[:, 1]) if stacked else cache
            if cache_update_index is None:
                key, value = key_cache, value_cache
            else:
                new_key = self._heads(project(self.key_dense, key), self.key_dim)
                new_value = self._heads(project(self.value_dense, value), self.value_dim)
                key = write_positions(
                    key_cache, cache_update_index, ops.cast(new_key, key_cache.dtype)
                )
                value = write_positions(
                    value_cache, cache_update_index, ops.cast(new_value, value_cache.dtype)
                )
            cache = ops.stack((key, value), axis=1) if stacked else (key, value)

        mask = self._padding_or_attention_mask(attention_mask, query, key)
        output, scores = self._attend(
            query,
            key,
            value,
            mask,
            use_causal_mask,
            cache_update_index,
            training,
            return_attention_scores,
        )
        output = project(self.output_dense, output)  # (B, T, D_out)

        results = (output,)
        if return_attention_scores:
            results += (scores,)
        if cache is not None:
            results += (cache,)
        return results[0] if len(results) == 1 else results

    def _heads(self, projected, head_dim):
        """(B, T, H*K) -> (B, T, H, K)."""
        batch, length = ops.shape(projected)[0], ops.shape(projected)[1]
        return ops.reshape(projected, (batch, length, self.num_heads, head_dim))

    def _check_cache(self, cache):
        """Whether `cache` is the stacked form; raises on anything else."""
        if isinstance(cache, (tuple, list)):
            shapes = [tuple(c.shape) for c in cache]
            if len(cache) != 2 or any(len(shape) != 4 for shape in shapes) or (
                None not in (shapes[0][3], shapes[1][3])
                and (shapes[0][3], shapes[1][3]) != (self.key_dim, self.value_dim)
            ):
                raise ValueError(
                    "A `cache` pair must be (keys [batch, sequence, num_heads, key_dim], "
                    "values [batch, sequence, num_heads, value_dim]) with key_dim="
                    f"{self.key_dim} and value_dim={self.value_dim}. Received shapes: {shapes}"
                )
            return False
        if len(cache.shape) != 5 or (cache.shape[1] is not None and cache.shape[1] != 2):
            raise ValueError(
                "`cache` must have shape [batch, 2, sequence, num_heads, key_dim] or be a "
                f"(keys, values) pair. Received: cache.shape={tuple(cache.shape)}"
            )
        if self.key_dim != self.value_dim:
            raise ValueError(
                "A stacked key/value cache needs key_dim == value_dim (pass a (keys, values) "
                f"pair otherwise). Received: key_dim={self.key_dim}, value_dim={self.value_dim}"
            )
        return True

    @staticmethod
    def _padding_or_attention_mask(attention_mask, query, key):
        """Normalises a user mask to boolean [B, 1, S] or [B, T, S]; raises
        ValueError naming the shapes when a known size does not fit the
        query [B, T, ...] and keys [B, S, ...]."""
        if attention_mask is None:
            return None
        attention_mask = as_mask_tensor(attention_mask)
        shape = tuple(attention_mask.shape)
        rank = len(shape)
        if rank not in (2, 3):
            raise ValueError(
                "`attention_mask` must have shape [batch, key] or [batch, query, "
                f"key]. Received: attention_mask.shape={shape}"
            )
        batch, queries, keys = query.shape[0], query.shape[1], key.shape[1]
        names = "[batch, key]" if rank == 2 else "[batch, query, key]"
        expected = (batch, keys) if rank == 2 else (batch, queries, keys)
        for axis, (size, want) in enumerate(zip(shape, expected)):
            if None in (size, want) or size == want or (size == 1 and axis < rank - 1):
                continue  # unknown, equal, or one mask for every row / every query
            raise ValueError(f"`attention_mask` must have shape {names} = {expected}. "
                             f"Received: attention_mask.shape={shape}")
        mask = ops.cast(attention_mask, "bool")
        return ops.expand_dims(mask, 1) if rank == 2 else mask

    @staticmethod
    def causal_mask(query_length, key_length, start_index=0):
        """Boolean [1, T, S] mask: query t (at `start_index + t`) sees keys <= it."""
        query_positions = ops.arange(query_length) + start_index
        key_positions = ops.arange(key_length)
        mask = ops.greater_equal(
            ops.expand_dims(query_positions, -1), ops.expand_dims(key_positions, 0)
        )
        return ops.expand_dims(mask, 0)

    def _attend(
        self,
        query,
        key,
        value,
        mask,
        use_causal_mask,
        cache_update_index,
        training,
        return_attention_scores,
    ):
        """Attention over projected heads: (B,T,H,K),(B,S,H,K),(B,S,H,V) -> (B,T,H,V)."""
        fused = (
            not return_attention_scores
            and (self.dropout == 0.0 or not training)
            # jax.nn.dot_product_attention needs value heads as wide as key heads.
            and self.key_dim == self.value_dim
        )
        if fused and cache_update_index is None:
            # cuDNN's fused kernel (JAX on GPUs) takes a mask only as a full
            # [B, H|1, T, S] tensor and masks the causal triangle itself, faster
            # than a [T, S] mask: measured in benchmarks/attention_probe.py.
            def attend(mask=None):
                return ops.dot_product_attention(
                    query, key, value, mask=mask, scale=self.scale, is_causal=use_causal_mask
                )

            if mask is None:
                return attend(), None
            mask = ops.broadcast_to(
                ops.expand_dims(mask, 1),
                (ops.shape(mask)[0], 1, ops.shape(query)[1], ops.shape(key)[1]),
            )
            if skip_all_ones_masks():
                return ops.cond(ops.all(mask), attend, lambda: attend(mask)), None
            return attend(mask), None
        if use_causal_mask:
            causal = self.causal_mask(
                ops.shape(query)[1],
                ops.shape(key)[1],
                0 if cache_update_index is None else cache_update_index,
            )
            mask = causal if mask is None else ops.logical_and(mask, causal)
        if mask is not None:
            mask = ops.expand_dims(mask, 1)  # (B, 1, T|1, S), broadcast over heads
        if fused and cache_update_index is not None and query.shape[1] == 1:
            position = cache_update_index if use_causal_mask else None
            return self._attend_one_query(query, key, value, mask, position), None
        if fused:
            output = ops.dot_product_attention(
                query, key, value, mask=mask, scale=self.scale
            )
            return output, None

        logits = ops.einsum("bthk,bshk->bhts", query, key)  # (B, H, T, S)
        logits = ops.cast(logits, "float32") * self.scale
        if mask is not None:
            logits = ops.where(mask, logits, _MASKED_LOGIT)
        probabilities = ops.cast(ops.softmax(logits, axis=-1), query.dtype)
        dropped = self.dropout_layer(probabilities, training=training)
        output = ops.einsum("bhts,bshv->bthv", dropped, value)  # (B, T, H, V)
        return output, probabilities

    def _attend_one_query(self, query, key, value, mask, causal_position=None):
        """Attention of one query position over a key/value cache, as
        broadcast products and sums: (B,1,H,K),(B,S,H,K),(B,S,H,V) -> (B,1,H,V).

        The decoding step of incremental generation. As matrix products these
        are B*H products of one row each, plus transposes of the whole cache
        into the (B, H, S, K) layout they need; as multiply-and-sum over the
        cache's own layout, XLA reads each key and value once in a fused loop
        (GPT-2 124M on 2 CPU cores, batch 8: docs/benchmarks.md).

        `causal_position`: the query's position when the mask is causal. Keys
        after it are masked (their weights are exactly 0), so the step reads
        only the cache's first blocks of `_CACHE_BLOCK` positions, through the
        block that holds the query (`ops.switch` over the static lengths): an
        early step no longer reads the whole, mostly unfilled, buffer.
        """
        length = key.shape[1]
        if causal_position is None or length is None or length <= _CACHE_BLOCK:
            return self._attend_cached_keys(query, key, value, mask)

        def attend_through(limit):
            return lambda q, k, v, m: self._attend_cached_keys(
                q, k[:, :limit], v[:, :limit], None if m is None else m[..., :limit])

        blocks = -(-length // _CACHE_BLOCK)
        block = ops.minimum(ops.cast(causal_position, "int32") // _CACHE_BLOCK, blocks - 1)
        branches = [attend_through(min((b + 1) * _CACHE_BLOCK, length)) for b in range(blocks)]
        return ops.switch(block, branches, query, key, value, mask)

    def _attend_cached_keys(self, query, key, value, mask):
        """`_attend_one_query` over all of `key` and `value`."""
        # Sums in float32, as the matrix products accumulate (no-ops in float32).
        scores = ops.sum(ops.cast(query, "float32") * ops.cast(key, "float32"), axis=-1)
        logits = ops.expand_dims(ops.transpose(scores, (0, 2, 1)), 2) * self.scale  # (B,H,1,S)
        if mask is not None:
            logits = ops.where(mask, logits, _MASKED_LOGIT)
        weights = ops.transpose(ops.softmax(logits, axis=-1)[:, :, 0], (0, 2, 1))  # (B, S, H)
        output = ops.sum(ops.expand_dims(weights, -1) * ops.cast(value, "float32"), axis=1)
        return ops.cast(ops.expand_dims(output, 1), value.dtype)  # (B, 1, H, V)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "num_heads": self.num_heads,
                "key_dim": self.key_dim,
                "value_dim": self.value_dim,
                "dropout": self.dropout,
                "use_bias": self.use_bias,
                "output_dim": self.output_dim,
                "kernel_initializer": keras.initializers.serialize(self.kernel_initializer),
                "bias_initializer": keras.initializers.serialize(self.bias_initializer),
            }
        )
        return config
