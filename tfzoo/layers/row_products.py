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


def _supported(layer):
    # bfloat16 products gained nothing this way (GPT-2 124M, batch 1: 61
    # against 65-67 tokens/s).
    return layer.compute_dtype == "float32" and _projection_axes(layer) is not None


def one_row_matrix(layer):
    """`layer`'s kernel as an [out, in] matrix with the bias appended as the
    last column ([out, in + 1]), in the layer's compute dtype."""
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
            id(layer): one_row_matrix(layer)
            for root in roots
            for layer in root._flatten_layers(include_self=True)
            if _supported(layer)
        }
    token = _MATRICES.set(matrices)
    try:
        yield
    finally:
        _MATRICES.reset(token)


def project(layer, inputs):
    """`layer(inputs)`; inside `one_row_products`, for an input of one row
    (all axes but the contracted ones of size 1), the product with the matrix
    made for `layer`, with the same result up to rounding."""
    matrices = _MATRICES.get()
    matrix = None if matrices is None else matrices.get(id(layer))
    if matrix is None:
        if _flat(layer, inputs):
            return _flat_product(layer, inputs)
        return layer(inputs)
    inputs_axes, _ = _kernel_axes(layer)
    leading = tuple(inputs.shape[:-inputs_axes])
    if any(size != 1 for size in leading):
        return layer(inputs)
    row = ops.reshape(ops.cast(inputs, matrix.dtype), (1, -1))  # (1, in)
    if getattr(layer, "bias", None) is not None:
        row = ops.concatenate([row, ops.ones((1, 1), matrix.dtype)], axis=1)
    outputs = ops.matmul(row, ops.transpose(matrix))  # (1, out)
    outputs = ops.reshape(outputs, leading + tuple(layer.kernel.shape[inputs_axes:]))
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
