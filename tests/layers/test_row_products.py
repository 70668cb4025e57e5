"""One-row products: the [out, in + 1] matrices give the layers' own results."""

import re

import keras
import numpy as np
import pytest
from keras import ops

from tests.testing import assert_allclose, random_inputs, to_numpy
from tfzoo.layers import FeedForward, MultiHeadAttention, ReversibleEmbedding
from tfzoo.layers.row_products import one_row_matrix, one_row_products, project


def _dense_layers(dtype=None):
    dense = keras.layers.Dense(6, activation="tanh", dtype=dtype)
    dense.build((None, 1, 8))
    no_bias = keras.layers.Dense(6, use_bias=False, dtype=dtype)
    no_bias.build((None, 1, 8))
    heads = keras.layers.EinsumDense("btd,de->bte", (None, 6), bias_axes="e", dtype=dtype)
    heads.build((None, 1, 8))
    merge = keras.layers.EinsumDense("bthv,hvd->btd", (None, 5), bias_axes="d", dtype=dtype)
    merge.build((None, 1, 2, 4))
    return [dense, no_bias, heads, merge]


def _randomize(layer, seed=1):
    rng = np.random.default_rng(seed)
    for weight in layer.weights:
        weight.assign(ops.cast(rng.normal(size=weight.shape).astype("float32"), weight.dtype))


def _one_row_input(layer):
    return random_inputs(1, 1, 2, 4) if layer.kernel.ndim == 3 else random_inputs(1, 1, 8)


@pytest.mark.parametrize("index", range(4), ids=["dense", "no_bias", "einsum", "merge_heads"])
def test_matrix_is_the_transposed_kernel_with_the_bias_column(index):
    layer = _dense_layers()[index]
    _randomize(layer)
    kernel = to_numpy(layer.kernel)
    expected = kernel.reshape(-1, kernel.shape[-1]).T
    if layer.bias is not None:
        expected = np.concatenate([expected, to_numpy(layer.bias)[:, None]], axis=1)
    assert_allclose(to_numpy(one_row_matrix(layer)), expected, atol=0, rtol=0)


def _bits_path():
    """Whether bfloat16 layers get one-row matrices (kept as bits): TensorFlow only."""
    return keras.backend.backend() == "tensorflow"


@pytest.mark.parametrize("dtype", ["float32", "bfloat16", "mixed_bfloat16"])
@pytest.mark.parametrize("index", range(4), ids=["dense", "no_bias", "einsum", "merge_heads"])
def test_one_row_product_equals_the_layer(index, dtype):
    layer = _dense_layers(dtype)[index]
    _randomize(layer)
    model = keras.Sequential([layer])
    x = _one_row_input(layer)
    expected = to_numpy(layer(x))
    with one_row_products(model, rows=1):
        # The matrices are made on entry: a kernel changed afterwards shows
        # whether `project` used them.
        layer.kernel.assign(np.zeros(layer.kernel.shape, "float32"))
        actual = to_numpy(project(layer, x))
        several = to_numpy(project(layer, ops.concatenate([x, x], axis=0)))
    assert actual.shape == expected.shape
    assert actual.dtype == expected.dtype
    if dtype != "float32" and not _bits_path():
        # bfloat16 one-row matrices are a TensorFlow path: elsewhere the
        # layer's own product (with the zeroed kernel).
        assert_allclose(actual.astype("float32"), to_numpy(layer(x)).astype("float32"))
        return
    # bfloat16: the bias is added before the one rounding of the product, the
    # layer rounds the product and then the sum (a few units of bf16's 2**-8).
    tolerance = 1e-5 if dtype == "float32" else 2e-2
    assert_allclose(actual.astype("float32"), expected.astype("float32"), atol=tolerance,
                    rtol=tolerance)
    # More than one row: the layer's own product, with the zeroed kernel.
    assert_allclose(several, to_numpy(layer(ops.concatenate([x, x], axis=0))))
    assert not np.allclose(several[0].astype("float32"), expected[0].astype("float32"))


@pytest.mark.parametrize("rows", [2, None])
def test_other_row_counts_leave_products_alone(rows):
    layer = _dense_layers()[0]
    _randomize(layer)
    x = _one_row_input(layer)
    with one_row_products(keras.Sequential([layer]), rows=rows):
        layer.kernel.assign(np.zeros(layer.kernel.shape, "float32"))
        actual = to_numpy(project(layer, x))
    assert_allclose(actual, to_numpy(layer(x)))


def test_outside_the_block_products_are_the_layers():
    layer = _dense_layers()[2]
    model = keras.Sequential([layer])
    with one_row_products(model, rows=1):
        pass
    layer.kernel.assign(np.zeros(layer.kernel.shape, "float32"))
    x = _one_row_input(layer)
    assert_allclose(to_numpy(project(layer, x)), to_numpy(layer(x)))


def test_attention_and_feed_forward_decode_alike():
    """A cached one-position attention step and the feed-forward network, in
    and out of the block."""
    attention = MultiHeadAttention(num_heads=2, key_dim=4)
    feed_forward = FeedForward(intermediate_dim=16)
    x = random_inputs(1, 1, 8)
    cache = (ops.zeros((1, 3, 2, 4)), ops.zeros((1, 3, 2, 4)))
    attention(x, x)
    feed_forward(x)
    for layer in (attention, feed_forward):
        _randomize(layer)

    def step():
        out, (keys, values) = attention(x, x, cache=cache, cache_update_index=1)
        return [to_numpy(t) for t in (feed_forward(out), keys, values)]

    expected = step()
    with one_row_products([attention, feed_forward], rows=1):  # a list of layers
        actual = step()
    for a, e in zip(actual, expected):
        assert_allclose(a, e, atol=1e-5, rtol=1e-5)


def _tied_table(dtype, vocabulary=37, width=8):
    layer = ReversibleEmbedding(vocabulary, width, dtype=dtype)
    layer.build((None, 1))
    _randomize(layer)
    return layer


@pytest.mark.parametrize("dtype", ["bfloat16", "mixed_bfloat16", "float32"])
def test_tied_table_multiplies_one_row_as_stored_in_bfloat16(dtype):
    layer = _tied_table(dtype)
    hidden = ops.cast(random_inputs(1, 1, 8), layer.compute_dtype)
    expected = to_numpy(layer(hidden, reverse=True)).astype("float32")
    with one_row_products(layer, rows=1):
        # The matrix is made on entry, reverse_projection's own copy when it
        # is called: only the matrix still holds the table.
        layer.embeddings.assign(np.zeros(layer.embeddings.shape, "float32"))
        reverse = layer.reverse_projection()
        actual = to_numpy(reverse(hidden)).astype("float32")
        several = to_numpy(reverse(ops.concatenate([hidden, hidden], axis=0)))
    assert actual.shape == expected.shape == (1, 1, 37)
    if dtype != "float32" and _bits_path():
        assert_allclose(actual, expected, atol=2e-2, rtol=2e-2)
    else:  # float32 tables (and other backends) keep reverse_projection's product
        assert not actual.any()
    assert not several.astype("float32").any()  # two rows never take the matrix


def test_a_nan_row_gives_nan_as_the_layer_does():
    """The bits' XOR key is 1 when the row's first value is NaN: the product is
    NaN either way."""
    layer = _dense_layers("bfloat16")[0]
    _randomize(layer)
    x = np.full((1, 1, 8), np.nan, "float32")
    with one_row_products(keras.Sequential([layer]), rows=1):
        actual = to_numpy(project(layer, x)).astype("float32")
    assert np.isnan(actual).all() and np.isnan(to_numpy(layer(x)).astype("float32")).all()


def test_bfloat16_matrices_are_converted_inside_the_decoding_loop():
    """XLA hoists a loop-invariant bfloat16 -> float32 conversion out of a
    while loop, and the products then read a float32 copy of every matrix.
    Kept as bits with a step-dependent key, no float32 matrix exists in the
    optimized program (the conversion is fused into each step's product)."""
    if not _bits_path():
        pytest.skip("the bits are a TensorFlow path")
    import tensorflow as tf

    attention = MultiHeadAttention(num_heads=2, key_dim=16, dtype="bfloat16")
    feed_forward = FeedForward(intermediate_dim=128, dtype="bfloat16")
    x = ops.cast(random_inputs(1, 1, 32), "bfloat16")
    attention(x, x)
    feed_forward(x)

    @tf.function(jit_compile=True)
    def decode(x):
        with one_row_products([attention, feed_forward], rows=1):
            def body(step, x):
                return step + 1, x + feed_forward(attention(x, x))
            return tf.while_loop(lambda step, x: step < 3, body, (0, x))[1]

    hlo = decode.experimental_get_compiler_ir(x)(stage="optimized_hlo")
    # The loop's state (the while body's parameter tuple) carries the matrices.
    bodies = [line for line in hlo.splitlines()
              if line.startswith("%") and "while_body" in line.split("(")[0]]
    assert bodies, "no while loop in the optimized program"
    state = bodies[0].split("->")[0]
    matrices = r"\[(32,33|128,33|32,129)\]"  # [out, in + 1]
    assert len(re.findall("u16" + matrices, state)) == 6, state
    either_way = r"\[(32,33|128,33|32,129|33,32|33,128|129,32)\]"
    assert not re.findall("f32" + either_way, state), state


def test_quantized_layers_keep_their_own_product():
    layer = keras.layers.Dense(6)
    layer.build((None, 1, 8))
    layer.quantize("int8")
    x = random_inputs(1, 1, 8)
    expected = to_numpy(layer(x))
    with one_row_products(keras.Sequential([layer]), rows=1):
        assert_allclose(to_numpy(project(layer, x)), expected)


# === Flattened products: [B, T, ...] inputs as one [B*T, in] x [in, out] ===

def _sequence_input(layer, batch=3, length=5):
    shape = (batch, length, 2, 4) if layer.kernel.ndim == 3 else (batch, length, 8)
    return random_inputs(*shape, seed=3)


@pytest.mark.parametrize("dtype", ["float32", "mixed_bfloat16", "bfloat16"])
@pytest.mark.parametrize("index", range(4), ids=["dense", "no_bias", "einsum", "merge_heads"])
def test_flattened_product_equals_the_layer(index, dtype):
    layer = _dense_layers(dtype)[index]
    _randomize(layer)
    x = _sequence_input(layer)
    expected = to_numpy(layer(x))
    actual = to_numpy(project(layer, x))
    assert actual.shape == expected.shape
    assert actual.dtype == expected.dtype
    tolerance = 1e-5 if dtype == "float32" else 3e-2
    assert_allclose(actual.astype("float32"), expected.astype("float32"),
                    atol=tolerance, rtol=tolerance)


def test_tensorflow_graphs_run_one_matrix_product_with_the_bias_fused():
    """In a TensorFlow graph the [B, T, D] EinsumDense becomes a 2-D MatMul
    (the batched product and separate bias add it replaces are absent), also
    with an unknown batch size."""
    if keras.backend.backend() != "tensorflow":
        pytest.skip("the flattened product is a TensorFlow path; the other backends "
                    "keep the layer's own call")
    import tensorflow as tf

    layer = _dense_layers()[2]
    _randomize(layer)
    x = _sequence_input(layer)

    def op_types(fn):
        graph = tf.function(fn).get_concrete_function(
            tf.TensorSpec((None, 5, 8), "float32")).graph
        return {op.type for op in graph.get_operations()}

    flattened, own = op_types(lambda x: project(layer, x)), op_types(layer)
    assert "MatMul" in flattened and not flattened & {"Einsum", "BatchMatMulV2"}
    assert own & {"Einsum", "BatchMatMulV2"}  # what the layer's call builds
    dynamic = tf.function(lambda x: project(layer, x),
                          input_signature=[tf.TensorSpec((None, 5, 8), "float32")])
    assert_allclose(to_numpy(dynamic(x)), to_numpy(layer(x)), atol=1e-5, rtol=1e-5)


def test_lora_layers_include_their_update_and_quantized_layers_keep_their_call():
    lora = _dense_layers()[0]
    _randomize(lora)
    lora.enable_lora(2)
    rng = np.random.default_rng(5)
    lora.lora_kernel_b.assign(rng.normal(size=lora.lora_kernel_b.shape).astype("float32"))
    x = _sequence_input(lora)
    assert_allclose(to_numpy(project(lora, x)), to_numpy(lora(x)), atol=1e-5, rtol=1e-5)
    with one_row_products(keras.Sequential([lora]), rows=1):  # one row, the matrix
        row = x[:1, :1]
        assert_allclose(to_numpy(project(lora, row)), to_numpy(lora(row)), atol=1e-5,
                        rtol=1e-5)

    quantized = _dense_layers()[2]
    _randomize(quantized)
    quantized.quantize("int8")
    assert_allclose(to_numpy(project(quantized, x)), to_numpy(quantized(x)))
