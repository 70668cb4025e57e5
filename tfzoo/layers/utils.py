"""Helpers shared by the layers: argument checks, activations and masks.

Shape notation used across tfzoo: B batch, T query/target length, S key/source
length, H heads, D model width, K head width.
"""

import keras
import numpy as np
from keras import ops


def check_positive_int(name, value):
    """Raises ValueError unless `value` is an int (Python or NumPy) > 0;
    names the argument."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value <= 0:
        raise ValueError(
            f"`{name}` must be a positive integer. Received: {name}={value!r}"
        )
    return value


def check_rate(name, value):
    """Raises ValueError unless `value` is a probability in [0, 1)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"`{name}` must be a float in [0, 1). Received: {name}={value!r}")
    if not 0.0 <= value < 1.0:
        raise ValueError(f"`{name}` must be in [0, 1). Received: {name}={value!r}")
    return float(value)


@keras.saving.register_keras_serializable(package="tfzoo")
def gelu_approximate(x):
    """GELU with the tanh approximation (GPT-2's and BERT's TF "gelu_new")."""
    return keras.activations.gelu(x, approximate=True)


_ACTIVATIONS = {"gelu_approximate": gelu_approximate, "gelu_new": gelu_approximate}


def get_activation(identifier):
    """Resolves an activation name or callable.

    "gelu" is the exact (erf) GELU, as BERT uses it; "gelu_approximate" (alias
    "gelu_new") is the tanh form GPT-2 uses. Everything else goes to
    `keras.activations.get`, which raises on unknown names.
    """
    if isinstance(identifier, str) and identifier in _ACTIVATIONS:
        return _ACTIVATIONS[identifier]
    try:
        return keras.activations.get(identifier)
    except ValueError as error:
        raise ValueError(f"Unknown activation: {identifier!r}") from error


def serialize_activation(identifier):
    """Config value for an activation: names stay names."""
    if isinstance(identifier, str):
        return identifier
    return keras.activations.serialize(identifier)


def as_mask_tensor(mask):
    """A mask given as a list or array, as a tensor (None stays None)."""
    return mask if mask is None or hasattr(mask, "shape") else ops.convert_to_tensor(mask)


def merge_padding_and_attention_mask(padding_mask=None, attention_mask=None, key_length=None,
                                     name="padding_mask", batch_size=None):
    """Combines a key padding mask and an attention mask into one boolean mask.

    Args:
        padding_mask: [B, S], true (or 1) where the key is a real token.
        attention_mask: [B, T, S], true where query t may attend to key s.
        key_length: S when known: a padding mask of another length is an
            error naming `name`.
        name: the padding mask's argument name, for that error.
        batch_size: B when known: a padding mask for another batch size is
            an error naming `name`.

    Returns:
        A boolean mask of shape [B, 1, S] or [B, T, S], or None when both are
        None. Raises ValueError naming the shape when a rank is wrong.
    """
    mask = None
    padding_mask, attention_mask = as_mask_tensor(padding_mask), as_mask_tensor(attention_mask)
    if padding_mask is not None:
        if len(padding_mask.shape) != 2:
            raise ValueError(
                f"`{name}` must have shape [batch, sequence] (rank 2). "
                f"Received: {name}.shape={tuple(padding_mask.shape)}"
            )
        rows, length = padding_mask.shape
        if None not in (length, key_length) and length != key_length:
            raise ValueError(f"`{name}` must have one entry per position of the sequence "
                             f"({key_length}). Received: {name}.shape="
                             f"{tuple(padding_mask.shape)}")
        if None not in (rows, batch_size) and rows != batch_size:
            raise ValueError(f"`{name}` must have one row per sequence of the batch "
                             f"({batch_size}). Received: {name}.shape="
                             f"{tuple(padding_mask.shape)}")
        mask = ops.expand_dims(ops.cast(padding_mask, "bool"), axis=1)  # (B, 1, S)
    if attention_mask is not None:
        if len(attention_mask.shape) != 3:
            raise ValueError(
                "`attention_mask` must have shape [batch, query, key] (rank 3). "
                f"Received: attention_mask.shape={tuple(attention_mask.shape)}"
            )
        attention_mask = ops.cast(attention_mask, "bool")
        mask = attention_mask if mask is None else ops.logical_and(mask, attention_mask)
    return mask


def write_positions(inputs, index, updates):
    """`inputs` [B, S, ...] with positions index ... index + t - 1 set to `updates` [B, t, ...].

    `ops.slice_update(inputs, (0, index, 0, ...), updates)` computes the same,
    but on the TensorFlow backend it becomes `XlaDynamicUpdateSlice`, an op
    outside core TF that a graph run without XLA (a SavedModel in TF Serving,
    tensorflow/serving#2217) executes only through XLA's on-demand compiler. A
    scatter of whole rows (`TensorScatterUpdate` in TF) is core TF and still
    compiles under XLA and JAX.

    Args:
        inputs: tensor [B, S, ...] (a key/value cache, a token buffer).
        index: int scalar (tensor or Python int), the first position written;
            index + t <= S (slice_update would clamp, a scatter does not).
        updates: tensor [B, t, ...], the trailing dims those of `inputs`.
    """
    batch, steps = ops.shape(updates)[0], ops.shape(updates)[1]
    rows = ops.tile(ops.expand_dims(ops.arange(batch, dtype="int32"), 1), (1, steps))
    positions = ops.tile(ops.expand_dims(ops.arange(steps, dtype="int32"), 0), (batch, 1))
    positions = positions + ops.cast(index, "int32")
    indices = ops.reshape(ops.stack([rows, positions], axis=-1), (-1, 2))  # (B*t, 2)
    flat = ops.reshape(updates, (-1,) + tuple(updates.shape[2:]))  # (B*t, ...)
    return ops.scatter_update(inputs, indices, flat)


def check_positions(sequence_length, length, start_index=0):
    """Raises ValueError when positions start_index ... start_index + length - 1
    run past a table of `sequence_length` positions, where both are known
    while tracing (a tensor start_index, as in decoding loops, is the caller's
    to bound: on JAX an index past the table would be clamped, not an error)."""
    if not isinstance(start_index, int) or isinstance(start_index, bool) or length is None:
        return
    if start_index < 0 or start_index + length > sequence_length:
        raise ValueError(
            f"Positions start_index={start_index} to {start_index + length - 1} (a sequence "
            f"of {length}) do not fit sequence_length={sequence_length}."
        )
