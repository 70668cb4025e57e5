"""MultiHeadAttention against Keras' own layer, the causal and padding
properties, the key/value cache, and argument checks."""

import keras
import numpy as np
import pytest
from keras import ops

from tests.testing import (
    assert_allclose,
    random_inputs,
    run_layer_test,
    set_weights_merging_heads,
    to_numpy,
)
from tfzoo.layers import MultiHeadAttention

B, T, S, D = 2, 5, 7, 8


def padding_mask(lengths, length):
    return (np.arange(length)[None, :] < np.array(lengths)[:, None]).astype("int32")


@pytest.mark.parametrize(
    "inputs, call_kwargs",
    [
        ({"query": random_inputs(B, T, D), "value": random_inputs(B, T, D, seed=1)}, {}),
        ({"query": random_inputs(B, T, D), "value": random_inputs(B, S, D, seed=1)},
         {"use_causal_mask": False}),
        ({"query": random_inputs(B, T, D), "value": random_inputs(B, T, D, seed=1),
          "attention_mask": padding_mask([3, 5], T)}, {"use_causal_mask": True}),
    ],
    ids=["self", "cross", "causal_padded"],
)
def test_layer_contract(inputs, call_kwargs):
    run_layer_test(
        MultiHeadAttention,
        {"num_heads": 2, "key_dim": 4},
        inputs,
        call_kwargs,
        expected_output_shapes=[(B, T, D)],
    )


def test_layer_contract_with_dropout_and_scores():
    # The fit step trains through the explicit (dropout) attention path.
    run_layer_test(
        MultiHeadAttention,
        {"num_heads": 2, "key_dim": 4, "dropout": 0.1},
        {"query": random_inputs(B, T, D), "value": random_inputs(B, S, D, seed=1)},
        {"return_attention_scores": True},
        expected_output_shapes=[(B, T, D), (B, 2, T, S)],
    )


def test_layer_contract_with_cache():
    cache = np.zeros((B, 2, T, 2, 4), "float32")
    run_layer_test(
        MultiHeadAttention,
        {"num_heads": 2, "key_dim": 4},
        {"query": random_inputs(B, 1, D), "value": random_inputs(B, 1, D, seed=1),
         "cache": cache},
        {"cache_update_index": 2, "use_causal_mask": True, "return_attention_scores": True},
        expected_output_shapes=[(B, 1, D), (B, 2, 1, T), (B, 2, T, 2, 4)],
        # The cache serves decoding only; TensorFlow has no gradient for the
        # dynamic-update-slice that writes it.
        run_fit=False,
    )


def test_projection_kernels_keep_heads_merged():
    # Checkpoints store query/key/value as [D, H*K] (Google) or its transpose
    # (Hugging Face); the merged layout also keeps XLA on CPU from fusing a
    # reshape into one-row matrix-vector products (docs/benchmarks.md).
    layer = MultiHeadAttention(num_heads=3, key_dim=4, value_dim=5, output_dim=7)
    layer(random_inputs(B, T, D), random_inputs(B, S, D, seed=1))
    shapes = {w.path.split("/", 1)[1]: tuple(w.shape) for w in layer.weights}
    assert shapes == {
        "query/kernel": (D, 12), "query/bias": (12,),
        "key/kernel": (D, 12), "key/bias": (12,),
        "value/kernel": (D, 15), "value/bias": (15,),
        "attention_output/kernel": (3, 5, 7), "attention_output/bias": (7,),
    }


def reference_pair(**kwargs):
    ours = MultiHeadAttention(**kwargs)
    theirs = keras.layers.MultiHeadAttention(
        num_heads=kwargs["num_heads"],
        key_dim=kwargs["key_dim"],
        value_dim=kwargs.get("value_dim"),
        use_bias=kwargs.get("use_bias", True),
        output_shape=kwargs.get("output_dim"),
    )
    return ours, theirs


CASES = {
    "self": dict(query_len=T, value_len=T, causal=False, lengths=None),
    "cross": dict(query_len=T, value_len=S, causal=False, lengths=None),
    "causal": dict(query_len=T, value_len=T, causal=True, lengths=None),
    "padded": dict(query_len=T, value_len=S, causal=False, lengths=[4, 7]),
    "causal_padded": dict(query_len=T, value_len=T, causal=True, lengths=[2, 5]),
}


@pytest.mark.parametrize("case", sorted(CASES))
@pytest.mark.parametrize(
    "layer_kwargs",
    [
        {"num_heads": 2, "key_dim": 4},
        {"num_heads": 4, "key_dim": 3, "value_dim": 5, "output_dim": 6, "use_bias": False},
    ],
    ids=["default", "odd_dims_no_bias"],
)
def test_matches_keras_multi_head_attention(case, layer_kwargs):
    spec = CASES[case]
    query = random_inputs(B, spec["query_len"], D)
    value = random_inputs(B, spec["value_len"], D, seed=1)
    key = random_inputs(B, spec["value_len"], D, seed=2)
    ours, theirs = reference_pair(**layer_kwargs)
    ours(query, value, key)
    # Build through Keras' explicit path: its fused path breaks on JAX when
    # value_dim != key_dim (the case our layer keeps off the fused path).
    theirs(query, value, key, return_attention_scores=True)
    set_weights_merging_heads(ours, theirs.get_weights())

    our_mask = their_mask = None
    if spec["lengths"] is not None:
        our_mask = padding_mask(spec["lengths"], spec["value_len"])  # (B, S)
        their_mask = np.repeat(our_mask[:, None, :], spec["query_len"], axis=1)  # (B, T, S)

    expected, expected_scores = theirs(
        query, value, key, attention_mask=their_mask,
        use_causal_mask=spec["causal"], return_attention_scores=True,
    )
    # Fused path (no scores requested) and explicit path (scores requested).
    fused = ours(query, value, key, attention_mask=our_mask, use_causal_mask=spec["causal"])
    explicit, scores = ours(
        query, value, key, attention_mask=our_mask, use_causal_mask=spec["causal"],
        return_attention_scores=True,
    )
    assert_allclose(fused, expected, atol=1e-5)
    assert_allclose(explicit, expected, atol=1e-5)
    assert_allclose(scores, expected_scores, atol=1e-5)


@pytest.mark.parametrize("causal", [False, True], ids=["bidirectional", "causal"])
def test_all_ones_mask_skipping_keeps_outputs_and_gradients(monkeypatch, causal):
    """The runtime branch that drops all-true masks (on by default with JAX on GPUs)."""
    import tfzoo.layers.multi_head_attention as module

    ours, theirs = reference_pair(num_heads=2, key_dim=4)
    x = random_inputs(B, T, D)
    ours(x, x)
    theirs(x, x)
    set_weights_merging_heads(ours, theirs.get_weights())
    masks = {"all ones": np.ones((B, T), "int32"), "padded": padding_mask([3, 6], T)}
    expected = {
        name: theirs(x, x, attention_mask=np.repeat(mask[:, None, :], T, axis=1),
                     use_causal_mask=causal)
        for name, mask in masks.items()
    }
    inputs = {"x": keras.Input((T, D), batch_size=B), "mask": keras.Input((T,), batch_size=B)}
    model = keras.Model(inputs, ours(inputs["x"], inputs["x"], attention_mask=inputs["mask"],
                                     use_causal_mask=causal))
    monkeypatch.setattr(module, "skip_all_ones_masks", lambda: True)
    for name, mask in masks.items():
        assert_allclose(ours(x, x, attention_mask=mask, use_causal_mask=causal),
                        expected[name], atol=1e-5)
        # Compiled (tf.function / jax.jit): the branch is taken at run time.
        assert_allclose(model.predict({"x": x, "mask": mask.astype("float32")}, verbose=0),
                        expected[name], atol=1e-5)
    # Training through the branch: one SGD step lands where the masked path's does.
    start = model.get_weights()
    target = random_inputs(B, T, D, seed=3)
    trained = {}
    for skip in (True, False):
        monkeypatch.setattr(module, "skip_all_ones_masks", lambda skip=skip: skip)
        for name, mask in masks.items():
            model.set_weights(start)
            model.compile(optimizer=keras.optimizers.SGD(0.5), loss="mse")
            model.fit({"x": x, "mask": mask.astype("float32")}, target, verbose=0)
            trained[skip, name] = model.get_weights()
    for name in masks:
        assert not np.allclose(trained[True, name][0], start[0])
        for got, want in zip(trained[True, name], trained[False, name]):
            assert_allclose(got, want, atol=1e-5)


def test_causal_outputs_do_not_see_the_future():
    layer = MultiHeadAttention(num_heads=2, key_dim=4)
    x = random_inputs(B, T, D)
    changed = x.copy()
    t = 2
    changed[:, t + 1:] = random_inputs(B, T - t - 1, D, seed=9)
    for scores in (False, True):
        before = to_numpy(layer(x, x, use_causal_mask=True, return_attention_scores=scores)[0]
                          if scores else layer(x, x, use_causal_mask=True))
        after = to_numpy(layer(changed, changed, use_causal_mask=True,
                               return_attention_scores=scores)[0]
                         if scores else layer(changed, changed, use_causal_mask=True))
        np.testing.assert_allclose(after[:, : t + 1], before[:, : t + 1], atol=1e-6)
        assert not np.allclose(after[:, t + 1:], before[:, t + 1:])


def test_padded_keys_do_not_change_outputs():
    layer = MultiHeadAttention(num_heads=2, key_dim=4)
    query, value = random_inputs(B, T, D), random_inputs(B, S, D, seed=1)
    mask = padding_mask([4, 6], S)
    changed = value.copy()
    changed[0, 4:] = 100.0
    changed[1, 6:] = -100.0
    assert_allclose(layer(query, changed, attention_mask=mask),
                    layer(query, value, attention_mask=mask), atol=1e-5)
    # Without the mask the change is visible: the test can fail.
    assert not np.allclose(to_numpy(layer(query, changed)), to_numpy(layer(query, value)))


def test_cached_decoding_equals_full_pass():
    layer = MultiHeadAttention(num_heads=2, key_dim=4)
    x = random_inputs(B, T, D)
    full = to_numpy(layer(x, x, use_causal_mask=True))
    cache = ops.zeros((B, 2, T, 2, 4))
    # A 2-token prefill, then one token at a time.
    outputs = []
    out, cache = layer(x[:, :2], x[:, :2], use_causal_mask=True, cache=cache,
                       cache_update_index=0)
    outputs.append(to_numpy(out))
    for index in range(2, T):
        step = x[:, index: index + 1]
        out, cache = layer(step, step, use_causal_mask=True, cache=cache,
                           cache_update_index=index)
        outputs.append(to_numpy(out))
    np.testing.assert_allclose(np.concatenate(outputs, axis=1), full, atol=1e-5)


def test_cached_steps_read_the_cache_in_blocks_as_the_full_pass():
    """A causal one-query step reads the cache only through the block of
    `_CACHE_BLOCK` positions that holds its own (`ops.switch` over the
    lengths). Over a cache of 2.5 blocks, steps in every block, at both block
    edges, equal the full causal pass; an unfilled tail full of large values
    changes nothing (a block too short would drop the step's own key).
    TensorFlow also runs every step in an XLA-compiled loop, as `generate`
    does, and compiles one branch per block length."""
    from tfzoo.layers.multi_head_attention import _CACHE_BLOCK

    length = 2 * _CACHE_BLOCK + _CACHE_BLOCK // 2
    layer = MultiHeadAttention(num_heads=2, key_dim=4)
    x = random_inputs(B, length, D)
    padding = padding_mask([length, length - 9], length)
    full = to_numpy(layer(x, x, attention_mask=padding, use_causal_mask=True))
    _, (keys, values) = layer(x, x, cache=(ops.zeros((B, length, 2, 4)),) * 2,
                              cache_update_index=0)
    noise = 1e3 * random_inputs(B, length, 2, 4, seed=7)

    def step(index):
        # Positions after `index` hold noise: a decoding step has not written them.
        tail = ops.reshape(ops.greater(ops.arange(length), index), (1, length, 1, 1))
        cache = tuple(ops.where(tail, noise, c) for c in (keys, values))
        x_step = ops.slice(x, (0, index, 0), (B, 1, D))
        out, _ = layer(x_step, x_step, attention_mask=padding, use_causal_mask=True,
                       cache=cache, cache_update_index=index)
        return out

    for index in (0, 5, _CACHE_BLOCK - 1, _CACHE_BLOCK, 2 * _CACHE_BLOCK - 1,
                  2 * _CACHE_BLOCK, length - 1):
        np.testing.assert_allclose(to_numpy(step(index))[:, 0], full[:, index], atol=1e-5,
                                   err_msg=f"position {index}")
    if keras.backend.backend() != "tensorflow":
        return
    import tensorflow as tf

    @tf.function(jit_compile=True)
    def decode_all():
        # Every position as a decoding loop's step, the position a loop variable.
        def body(index, outputs):
            update = ops.expand_dims(step(index)[:, 0], 0)  # (1, B, D)
            return index + 1, tf.tensor_scatter_nd_update(outputs, [[index]], update)

        outputs = tf.zeros((length, B, D))
        return tf.while_loop(lambda index, _: index < length, body, (0, outputs))[1]

    np.testing.assert_allclose(np.swapaxes(to_numpy(decode_all()), 0, 1), full, atol=1e-5)
    # One branch per block length, chosen at run time.
    hlo = decode_all.experimental_get_compiler_ir()(stage="hlo")
    branches = [line.split("branch_computations={")[1].split("}")[0]
                for line in hlo.splitlines() if " conditional(" in line]
    assert [b.count("%") for b in branches] == [3], branches


def test_cache_pair_equals_stacked_cache():
    """The (keys, values) form gives the stacked form's outputs and comes back as a pair."""
    layer = MultiHeadAttention(num_heads=2, key_dim=4)
    x = random_inputs(B, T, D)
    stacked = ops.zeros((B, 2, T, 2, 4))
    pair = (ops.zeros((B, T, 2, 4)), ops.zeros((B, T, 2, 4)))
    for index in range(T):
        step = x[:, index: index + 1]
        expected, stacked = layer(step, step, use_causal_mask=True, cache=stacked,
                                  cache_update_index=index)
        got, pair = layer(step, step, use_causal_mask=True, cache=pair,
                          cache_update_index=index)
        assert isinstance(pair, tuple) and len(pair) == 2
        assert_allclose(got, expected, atol=1e-6)
    assert_allclose(pair[0], to_numpy(stacked)[:, 0])
    assert_allclose(pair[1], to_numpy(stacked)[:, 1])


def test_one_query_over_a_cache_respects_the_padding_mask():
    """A decoding step (one query, the single-query path) equals the last row
    of a full pass with the same key padding mask, in float32 and bfloat16."""
    lengths = [T, 3]
    mask = padding_mask(lengths, T)
    for dtype, atol in (("float32", 1e-5), ("bfloat16", 3e-2)):
        layer = MultiHeadAttention(num_heads=2, key_dim=4, dtype=dtype)
        x = random_inputs(B, T, D)
        full = to_numpy(layer(x, x, attention_mask=mask)).astype("float32")
        pair = (ops.zeros((B, T, 2, 4), dtype), ops.zeros((B, T, 2, 4), dtype))
        _, pair = layer(x[:, :-1], x[:, :-1], cache=pair, cache_update_index=0)
        step, _ = layer(x[:, -1:], x[:, -1:], attention_mask=mask, cache=pair,
                        cache_update_index=T - 1)
        np.testing.assert_allclose(to_numpy(step).astype("float32")[:, 0], full[:, -1],
                                   atol=atol)


def test_cache_pair_allows_value_dim_different_from_key_dim():
    layer = MultiHeadAttention(num_heads=2, key_dim=4, value_dim=3)
    x = random_inputs(B, T, D)
    full = to_numpy(layer(x, x, use_causal_mask=True))
    pair = (ops.zeros((B, T, 2, 4)), ops.zeros((B, T, 2, 3)))
    out, pair = layer(x, x, use_causal_mask=True, cache=pair, cache_update_index=0)
    np.testing.assert_allclose(to_numpy(out), full, atol=1e-5)
    with pytest.raises(ValueError, match="key_dim == value_dim"):
        layer(x, x, cache=ops.zeros((B, 2, T, 2, 4)), cache_update_index=0)


def test_bad_cache_pair_names_the_shapes():
    layer = MultiHeadAttention(num_heads=2, key_dim=4)
    x = random_inputs(B, T, D)
    with pytest.raises(ValueError, match=r"\(2, 5, 2, 5\)"):
        layer(x, x, cache=(ops.zeros((B, T, 2, 4)), ops.zeros((B, T, 2, 5))),
              cache_update_index=0)
    with pytest.raises(ValueError, match="pair"):
        layer(x, x, cache=(ops.zeros((B, T, 2, 4)),), cache_update_index=0)


def test_precomputed_cross_attention_cache_equals_no_cache():
    layer = MultiHeadAttention(num_heads=2, key_dim=4)
    query, memory = random_inputs(B, T, D), random_inputs(B, S, D, seed=1)
    expected = layer(query, memory)
    _, cache = layer(query[:, :1], memory, cache=ops.zeros((B, 2, S, 2, 4)),
                     cache_update_index=0)
    got, reused = layer(query, None, cache=cache)
    assert_allclose(got, expected, atol=1e-5)
    assert_allclose(reused, cache)


def test_attention_dropout_only_in_training():
    x = random_inputs(B, T, D)
    dropped = MultiHeadAttention(num_heads=2, key_dim=4, dropout=0.5)
    plain = MultiHeadAttention(num_heads=2, key_dim=4)
    dropped(x, x)
    plain(x, x)
    plain.set_weights(dropped.get_weights())
    # Inference takes the fused path and equals the dropout-free layer.
    assert_allclose(dropped(x, x, training=False), plain(x, x), atol=1e-6)
    assert not np.allclose(to_numpy(dropped(x, x, training=True)), to_numpy(plain(x, x)))


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"num_heads": 0, "key_dim": 4}, "num_heads=0"),
        ({"num_heads": 2, "key_dim": -1}, "key_dim=-1"),
        ({"num_heads": 2, "key_dim": 4, "dropout": 1.5}, "dropout=1.5"),
        ({"num_heads": 2.0, "key_dim": 4}, "num_heads=2.0"),
    ],
)
def test_bad_constructor_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        MultiHeadAttention(**kwargs)


def test_bad_call_arguments():
    layer = MultiHeadAttention(num_heads=2, key_dim=4)
    x = random_inputs(B, T, D)
    with pytest.raises(ValueError, match=r"attention_mask.shape=\(2, 1, 5, 5\)"):
        layer(x, x, attention_mask=np.ones((B, 1, T, T), "bool"))
    with pytest.raises(ValueError, match=r"cache.shape=\(2, 3, 5, 2, 4\)"):
        layer(x, x, cache=np.zeros((B, 3, T, 2, 4), "float32"), cache_update_index=0)
    with pytest.raises(ValueError, match="cache_update_index"):
        layer(x, x, cache_update_index=0)
    with pytest.raises(ValueError, match=r"query.shape=\(2, 8\)"):
        MultiHeadAttention(num_heads=2, key_dim=4)(np.zeros((B, D), "float32"), x)
