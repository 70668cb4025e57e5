"""Packing token segments into BERT-style model inputs (TF Hub's `bert_pack_inputs`)."""

import tensorflow as tf
import tensorflow_text as text


def check_seq_length(seq_length, minimum=2):
    """Raises ValueError unless `seq_length` is an int >= `minimum`; names it."""
    if (isinstance(seq_length, bool) or not isinstance(seq_length, int)
            or seq_length < minimum):
        raise ValueError(
            f"`seq_length` must be an integer >= {minimum}. "
            f"Received: seq_length={seq_length!r}"
        )
    return seq_length


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
        seq_length: int >= len(segments) + 1, the length of the outputs.
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
    check_seq_length(seq_length, minimum=len(segments) + 1)
    flat_segments = []
    for segment in segments:
        if not isinstance(segment, tf.RaggedTensor):
            segment = tf.RaggedTensor.from_tensor(segment)
        if segment.ragged_rank == 2:
            segment = segment.merge_dims(-2, -1)  # (B, (tokens))
        flat_segments.append(tf.cast(segment, tf.int32))
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
