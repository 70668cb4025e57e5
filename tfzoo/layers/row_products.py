"""Weights laid out for one-row products, the shape of a decoding step at batch 1.

A decoding step at batch 1 multiplies one row by every weight matrix. XLA's CPU
compiler does that faster with the matrix stored [out, in] (a dot product per
output, reading the weights in storage order) than [in, out], the layout Keras
keeps; at two or more rows [in, out] is the faster one. And a bias added after
the product is fused into it, in a loop that wants [in, out] again and copies the
weights back every step; appending the bias to the matrix as one more input
column (the row gets a 1) keeps the product alone.

So a decoding loop that runs one row computes, once per call and before the
loop, each projection's [out, in + 1] matrix (`one_row_products`), and the
layers' projections (`project`) use it inside the loop for inputs of one row.
The loop is traced once, inside the `with` block: the matrices are the loop's
invariant inputs, and nothing changes outside the block. They are a second
copy of the projection weights while the call runs (GPT-2 124M: 85M float32
values, 340 MB); made per call, they always match the current weights.
Measured in docs/benchmarks.md (GPT-2 generation on the CPU, item 6).

In bfloat16 (TensorFlow backend) the one-row product can read half the bytes:
XLA's CPU product converts a bfloat16 matrix to float32, and when that
conversion sits inside the product's fusion the weights are read as stored and
widened in registers. But in a decoding loop the matrix is loop-invariant, so
XLA hoists the conversion out of the loop and every step reads a float32 copy
(no faster than float32 weights; GPT-2 124M was slower in bfloat16 than in
float32). So bfloat16 matrices are kept as their uint16 bit patterns and
reinterpreted inside the step after an XOR with a zero that XLA cannot prove
is zero (whether the row's first value is NaN, which makes the result NaN
anyway): the conversion depends on the step, stays in the product's fusion,
and the product reads bfloat16 (item 7 in docs/benchmarks.md). A tied output
table (`keras.layers.ReversibleEmbedding`) in bfloat16 is registered too, as
its [V, D] table is already [out, in]; `ReversibleEmbedding.reverse_projection`
uses it through `row_product`.

Outside such a loop, on the TensorFlow backend, `project` multiplies inputs of
several leading axes ([B, T, D]) as one [B*T, in] x [in, out] product (`_flat`):
TensorFlow's plain graphs then run one matrix product with the bias fused in
instead of a batched product and a bias add (docs/benchmarks.md, BERT-base on
the CPU, bfloat16).
"""

import contextlib
import contextvars
import math

import keras
from keras import ops

# id(layer) -> [out, in + 1] matrix, while a one-row decoding loop is traced.
_MATRICES = contextvars.ContextVar("tfzoo_one_row_matrices", default=None)


def _kernel_axes(layer):
    """(input axes, output axes) of a projection's kernel: its leading axes
    contract with the input's trailing axes; None for kernels of another form."""
    if isinstance(layer, keras.layers.Dense):
        return 1, 1
    if isinstance(layer, keras.layers.EinsumDense):
        inputs, rest = layer.equation.split(",")
        kernel, outputs = rest.split("->")
        contracted = len([axis for axis in kernel if axis in inputs])
        produced = len(kernel) - contracted
        if (produced == 0 or kernel[:contracted] != inputs[-contracted:]
                or outputs != inputs[:-contracted] + kernel[contracted:]):
            return None
        return contracted, produced
    return None


def _projection_axes(layer):
    """`_kernel_axes` of a built, non-quantized projection whose bias (if any)
    covers every output axis; None for any other layer. (A LoRA layer's
    `kernel` already includes its low-rank update.)"""
    if not layer.built or getattr(layer, "quantization_mode", None) is not None:
        return None  # quantized kernels have their own product
    axes = _kernel_axes(layer)
    if axes is None:
        return None
    bias = getattr(layer, "bias", None)
    if bias is not None and math.prod(bias.shape) != math.prod(layer.kernel.shape[axes[0]:]):
        return None
    return axes


def _bfloat16_bits(layer):
    """Whether `layer` computes in bfloat16 where its matrix is kept as bits
    (XLA's hoisted conversion is what they avoid; measured with TensorFlow)."""
    return layer.compute_dtype == "bfloat16" and keras.backend.backend() == "tensorflow"


def _supported(layer):
    if _is_tied_table(layer):
        # A float32 table read as [V, D] was no faster than the [D, V] copy
        # `reverse_projection` makes (docs/benchmarks.md), so only bfloat16.
        return _bfloat16_bits(layer)
    return ((layer.compute_dtype == "float32" or _bfloat16_bits(layer))
            and _projection_axes(layer) is not None)


def _is_tied_table(layer):
    return (isinstance(layer, keras.layers.ReversibleEmbedding) and layer.built
            and layer.tie_weights and layer.reverse_dtype is None
            and not getattr(layer, "quantization_mode", None))


def one_row_matrix(layer):
    """`layer`'s kernel as an [out, in] matrix with the bias appended as the
    last column ([out, in + 1]), in the layer's compute dtype. For a tied
    `ReversibleEmbedding`: its [V, D] table."""
    if _is_tied_table(layer):
        return ops.cast(layer.embeddings, layer.compute_dtype)
    inputs_axes, _ = _kernel_axes(layer)
    kernel = layer.kernel
    fan_in = math.prod(kernel.shape[:inputs_axes])
    matrix = ops.transpose(ops.reshape(kernel, (fan_in, -1)))  # (out, in)
    bias = getattr(layer, "bias", None)
    if bias is not None:
        matrix = ops.concatenate([matrix, ops.reshape(bias, (-1, 1))], axis=1)
    return ops.cast(matrix, layer.compute_dtype)


@contextlib.contextmanager
def one_row_products(layers, rows):
    """Within the block, `project` multiplies one-row inputs of the Dense and
    EinsumDense layers in `layers` (a layer or a list; sublayers included) by
    [out, in + 1] matrices made here, once. `rows`: the rows each decoding
    step runs (batch x beams); anything but 1 (or None, unknown) leaves every
    product as it is."""
    matrices = None
    if rows == 1:
        roots = layers if isinstance(layers, (list, tuple)) else [layers]
        matrices = {
            id(layer): store_matrix(one_row_matrix(layer))
            for root in roots
            for layer in root._flatten_layers(include_self=True)
            if _supported(layer)
        }
    token = _MATRICES.set(matrices)
    try:
        yield
    finally:
        _MATRICES.reset(token)


def store_matrix(matrix):
    """How a matrix waits for the decoding loop: bfloat16 as its uint16 bits
    (`load_matrix` gives it back inside a step)."""
    return ops.view(matrix, "uint16") if matrix.dtype == "bfloat16" else matrix


def load_matrix(stored, row):
    """The matrix again, inside a step (`row`: the step's [1, in] input). For bits, the XOR key is 0 unless
    the row's first value is NaN (then the product is NaN whatever the key):
    a step-dependent zero that keeps the conversion in the product's fusion."""
    if stored.dtype != "uint16":
        return stored
    key = ops.cast(ops.not_equal(row[0, 0], row[0, 0]), "uint16")
    return ops.view(ops.bitwise_xor(stored, key), "bfloat16")


def row_product(layer, inputs):
    """Inside `one_row_products`, `inputs` (one row: all axes but the
    contracted ones of size 1) times the matrix made for `layer`, before any
    activation: [..., out], with the kernel's output axes for Dense and
    EinsumDense, [..., V] for a tied table. None when `layer` has no matrix
    or `inputs` has more than one row."""
    matrices = _MATRICES.get()
    stored = None if matrices is None else matrices.get(id(layer))
    if stored is None:
        return None
    table = _is_tied_table(layer)
    inputs_axes = 1 if table else _kernel_axes(layer)[0]
    leading = tuple(inputs.shape[:-inputs_axes])
    if any(size != 1 for size in leading):
        return None
    dtype = layer.compute_dtype
    row = ops.reshape(ops.cast(inputs, dtype), (1, -1))  # (1, in)
    if not table and getattr(layer, "bias", None) is not None:
        row = ops.concatenate([row, ops.ones((1, 1), dtype)], axis=1)
    outputs = ops.matmul(row, ops.transpose(load_matrix(stored, row)))  # (1, out)
    output_shape = (layer.input_dim,) if table else tuple(layer.kernel.shape[inputs_axes:])
    return ops.reshape(outputs, leading + output_shape)


def project(layer, inputs):
    """`layer(inputs)`; inside `one_row_products`, for an input of one row
    (all axes but the contracted ones of size 1), the product with the matrix
    made for `layer`, with the same result up to rounding."""
    outputs = row_product(layer, inputs)
    if outputs is None:
        if _flat(layer, inputs):
            return _flat_product(layer, inputs)
        return layer(inputs)
    activation = getattr(layer, "activation", None)
    return outputs if activation is None else activation(outputs)


def _flat(layer, inputs):
    """Whether `project` multiplies `layer`'s inputs as one 2-D matrix product.

    In TensorFlow's plain graphs an EinsumDense over [B, T, D] runs as a batched
    product plus a separate bias add; flattened to [B*T, D] it is one matrix
    product into which the bias is fused (BERT-base's 48 query/key/value/output
    projections of a sequence of 128 in bfloat16: 15 -> 12.5 ms). TensorFlow's
    XLA runs either form alike; the other backends keep the layer's own call.
    """
    if keras.backend.backend() != "tensorflow":
        return False
    axes = _projection_axes(layer)
    return axes is not None and len(inputs.shape) >= axes[0] + 2


def _flat_product(layer, inputs):
    """`layer(inputs)` as [rows, in] x [in, out] + bias, reshaped back."""
    inputs_axes, _ = _kernel_axes(layer)
    dtype = layer.compute_dtype
    kernel = layer.kernel
    fan_in = math.prod(kernel.shape[:inputs_axes])
    leading = ops.shape(inputs)[:-inputs_axes]
    rows = ops.reshape(ops.cast(inputs, dtype), (-1, fan_in))
    outputs = ops.matmul(rows, ops.reshape(ops.cast(kernel, dtype), (fan_in, -1)))
    bias = getattr(layer, "bias", None)
    if bias is not None:
        outputs = outputs + ops.reshape(ops.cast(bias, dtype), (-1,))
    outputs = ops.reshape(outputs, tuple(leading) + tuple(kernel.shape[inputs_axes:]))
    activation = getattr(layer, "activation", None)
    return outputs if activation is None else activation(outputs)
