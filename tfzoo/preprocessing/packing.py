"""Packing token segments into BERT-style model inputs (TF Hub's `bert_pack_inputs`)."""

import numpy as np
import tensorflow as tf
import tensorflow_text as text


def check_seq_length(seq_length, minimum=2):
    """Raises ValueError unless `seq_length` is an int (Python or NumPy) >=
    `minimum`; names it. Returns it as a Python int."""
    if (isinstance(seq_length, bool) or not isinstance(seq_length, (int, np.integer))
            or seq_length < minimum):
        raise ValueError(
            f"`seq_length` must be an integer >= {minimum}. "
            f"Received: seq_length={seq_length!r}"
        )
    return int(seq_length)


def token_lists(segment):
    """A ragged int32 [B, (tokens)] from [B, (tokens)], [B, (words), (tokens)]
    or a dense [B, T]."""
    if not isinstance(segment, tf.RaggedTensor):
        segment = tf.RaggedTensor.from_tensor(segment)
    if segment.ragged_rank == 2:
        segment = segment.merge_dims(-2, -1)
    return tf.cast(segment, tf.int32)


def text_segments(inputs):
    """The segments a preprocessor call packs, as a list.

    A tuple always holds one entry per segment, as in keras-hub: ("Who?",
    "Me.") is one pair. A list of tensors or of lists also holds one entry
    per segment. Anything else (a tensor, a str, a list of str) is a single
    segment: ["Who?", "Me."] is a batch of two texts."""
    if isinstance(inputs, tuple):
        return list(inputs)
    if isinstance(inputs, list) and not all(isinstance(x, (str, bytes)) for x in inputs):
        return inputs
    return [inputs]


def check_same_batch(segments):
    """`segments` (ragged [B, (tokens)] each), checked to have the same number
    of rows (a pair's first and second texts come in equal numbers): a
    ValueError when the sizes are known while tracing, else an
    InvalidArgumentError when the batch runs, before any packing op sees them
    (tensorflow_text's trimmer aborts the process on unequal batches).
    Rows are never dropped or made up from other rows."""
    sizes = [segment.shape[0] for segment in segments]
    if all(size is not None for size in sizes):
        if len(set(sizes)) > 1:
            raise ValueError(f"Every segment needs the same batch size (one text per row "
                             f"and segment); received segments of {sizes} rows.")
        return list(segments)
    rows = [tf.cast(segment.nrows(), tf.int64) for segment in segments]
    checks = [tf.debugging.assert_equal(size, rows[0], message=(
        f"Every segment needs the same batch size; segment {index} differs from segment 0 "
        "in rows")) for index, size in enumerate(rows[1:], start=1)]
    with tf.control_dependencies(checks):
        return [tf.RaggedTensor.from_row_splits(tf.identity(segment.values),
                                                tf.identity(segment.row_splits),
                                                validate=False)
                for segment in segments]


def pack_segments(
    segments, seq_length, start_of_sequence_id, end_of_segment_id, padding_id
):
    """[start] a [end] b [end] ... [pad]..., trimmed round-robin to `seq_length`.

    Each segment keeps its leading tokens; the budget of `seq_length - 1 -
    len(segments)` tokens is dealt one token per segment in turn, skipping
    segments that have run out (`tensorflow_text.RoundRobinTrimmer`).

    Args:
        segments: non-empty list of ragged int tensors, [B, (tokens)] or
            [B, (words), (wordpieces)].
        seq_length: int >= len(segments) + 1, the length of the outputs; or
            a scalar integer tensor (checked when the graph runs).
        start_of_sequence_id, end_of_segment_id, padding_id: ints.

    Returns:
        dict of int32 [B, seq_length]: `input_word_ids`, `input_mask` (1 on
        tokens, 0 on padding) and `input_type_ids` (i on segment i and on the
        end token after it, 0 on padding).
    """
    if not isinstance(segments, (list, tuple)) or not segments:
        raise ValueError(
            "`segments` must be a non-empty list of token tensors, one per "
            f"segment. Received: segments={segments!r}"
        )
    flat_segments = check_same_batch([token_lists(segment) for segment in segments])
    if isinstance(seq_length, (tf.Tensor, tf.Variable)):
        # A scalar tensor (a SavedModel traces one, so any length is served).
        if seq_length.shape.rank != 0 or not seq_length.dtype.is_integer:
            raise ValueError(f"`seq_length` must be an integer scalar. Received: {seq_length!r}")
        seq_length = tf.cast(seq_length, tf.int32)
        check = tf.debugging.assert_greater_equal(
            seq_length, len(segments) + 1,
            message=f"`seq_length` must be >= {len(segments) + 1} ([CLS] and one [SEP] "
                    f"per segment for {len(segments)} segment(s))")
        with tf.control_dependencies([check]):
            seq_length = tf.identity(seq_length)
    else:
        seq_length = check_seq_length(seq_length, minimum=len(segments) + 1)
    budget = seq_length - 1 - len(segments)  # room left by [CLS] and the [SEP]s
    trimmed = text.RoundRobinTrimmer(max_seq_length=budget).trim(flat_segments)
    word_ids, type_ids = text.combine_segments(  # (B, (tokens)) each
        trimmed,
        start_of_sequence_id=start_of_sequence_id,
        end_of_segment_id=end_of_segment_id,
    )
    input_word_ids, input_mask = text.pad_model_inputs(  # (B, seq_length) each
        word_ids, seq_length, padding_id
    )
    input_type_ids, _ = text.pad_model_inputs(type_ids, seq_length, 0)
    return {
        "input_word_ids": tf.cast(input_word_ids, tf.int32),
        "input_mask": tf.cast(input_mask, tf.int32),
        "input_type_ids": tf.cast(input_type_ids, tf.int32),
    }
