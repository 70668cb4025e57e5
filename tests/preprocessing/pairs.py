"""A check every pair-packing preprocessor (BERT, RoBERTa, XLNet) must pass."""

import pytest
import tensorflow as tf


def check_unequal_pair_batches_fail(preprocessor):
    """Rows are never dropped or filled from memory: known sizes fail while
    tracing, unknown ones when the batch runs (before tensorflow_text's
    trimmer, which aborts the process on unequal batches)."""
    with pytest.raises(ValueError, match=r"same batch size.*\[2, 1\] rows"):
        preprocessor([tf.constant(["a b", "c"]), tf.constant(["d"])])
    with pytest.raises(ValueError, match=r"same batch size.*\[1, 3\] rows"):
        preprocessor([tf.constant(["a"]), tf.constant(["c", "d", "e"])])
    spec = tf.TensorSpec([None], tf.string)
    pack = tf.function(lambda a, b: preprocessor([a, b]), input_signature=[spec, spec])
    assert pack(tf.constant(["a", "b"]), tf.constant(["c", "d"]))["input_word_ids"].shape[0] == 2
    with pytest.raises(tf.errors.InvalidArgumentError, match="same batch size"):
        pack(tf.constant(["a", "b"]), tf.constant(["c"]))


def check_tuples_are_segments(preprocessor):
    """A tuple holds one entry per segment (keras-hub's convention), a list of
    str is a batch of single texts."""
    pair = preprocessor([tf.constant(["Who is it?"]), tf.constant(["Me."])])
    for tuple_pair in (preprocessor(("Who is it?", "Me.")),
                       preprocessor((["Who is it?"], ["Me."]))):
        for key, value in pair.items():
            assert tuple_pair[key].numpy().tolist() == value.numpy().tolist(), key
    assert preprocessor(["Who is it?", "Me."])["input_word_ids"].shape[0] == 2
    single, one_tuple = preprocessor("Who is it?"), preprocessor(("Who is it?",))
    for key, value in single.items():
        assert one_tuple[key].numpy().tolist() == value.numpy().tolist(), key
