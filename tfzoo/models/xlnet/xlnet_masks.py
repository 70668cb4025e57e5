"""Who attends to whom in XLNet's two streams (Yang et al. 2019, sections 2.3 and 2.5)."""

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="tfzoo")
class XLNetMasks(keras.layers.Layer):
    """The boolean [B, T, S] matrices every `XLNetBlock` uses (S = M + T keys).

    - `query_mask[b, i, j]`: the query stream at i may attend to key j. Every
      position sees the whole memory (the previous segment). Padding
      (`input_mask` 0) is never seen. `perm_mask[b, i, j] = 1` forbids i to
      see j: the factorization order puts j at or after i (section 2.3;
      transformers' convention). Without `perm_mask` every real token is
      visible (bidirectional, as in fine-tuning).
    - `content_mask`: the same, except that every position also sees itself:
      the content stream h_i encodes x_i (section 2.3, "content
      representation"); the query stream g_i must not, so a target needs
      `perm_mask[b, i, i] = 1`.
    - `segment_matrix[b, i, j]`: i and j are in different segments (relative
      segment encoding, section 2.5). Memory positions count as segment 0,
      as in XLNet's code.

    Call arguments:
        input_mask: int [B, T], 1 for real tokens.
        input_type_ids: int [B, T], segment ids.
        perm_mask: 0/1 float [B, T, T] or None.
        memory: [B, M, D] or None; only its length M is used.

    Returns:
        dict of bool [B, T, S]: `content_mask`, `query_mask`, `segment_matrix`.
    """

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.built = True

    def call(self, input_mask, input_type_ids, perm_mask=None, memory=None):
        for name, value, rank in (("input_mask", input_mask, 2),
                                  ("input_type_ids", input_type_ids, 2),
                                  ("perm_mask", perm_mask, 3), ("memory", memory, 3)):
            if value is not None and len(value.shape) != rank:
                raise ValueError(
                    f"`{name}` must have rank {rank}. Received: {name}.shape={tuple(value.shape)}")
        shape = ops.shape(input_mask)
        batch, length = shape[0], shape[1]
        visible = ops.expand_dims(ops.cast(input_mask, "bool"), 1)  # (B, 1, T)
        if perm_mask is not None:
            visible = ops.logical_and(visible, ops.logical_not(ops.greater(perm_mask, 0)))
        query_mask = ops.broadcast_to(visible, (batch, length, length))  # (B, T, T)
        content_mask = ops.logical_or(query_mask, ops.expand_dims(ops.eye(length) > 0, 0))
        segment_ids = ops.cast(input_type_ids, "int32")
        key_segment_ids = segment_ids
        if memory is not None:
            memory_length = ops.shape(memory)[1]
            memory_visible = ops.ones((batch, length, memory_length), "bool")  # (B, T, M)
            query_mask = ops.concatenate([memory_visible, query_mask], axis=2)
            content_mask = ops.concatenate([memory_visible, content_mask], axis=2)
            key_segment_ids = ops.concatenate(
                [ops.zeros((batch, memory_length), "int32"), segment_ids], axis=1)  # (B, S)
        segment_matrix = ops.not_equal(
            ops.expand_dims(segment_ids, 2), ops.expand_dims(key_segment_ids, 1))  # (B, T, S)
        return {"content_mask": content_mask, "query_mask": query_mask,
                "segment_matrix": segment_matrix}

    def compute_output_spec(self, input_mask, input_type_ids, perm_mask=None, memory=None):
        batch, length = input_mask.shape[0], input_mask.shape[1]
        shape = (batch, length, length if memory is None else None)
        return {name: keras.KerasTensor(shape, dtype="bool")
                for name in ("content_mask", "query_mask", "segment_matrix")}
