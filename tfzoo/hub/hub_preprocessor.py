"""A TF Hub BERT preprocessor SavedModel, for string inputs in tf.data."""

import os

import tensorflow as tf

from tfzoo.hub.handles import load_saved_model
from tfzoo.preprocessing.packing import text_segments


def _strings(strings):
    """A string tensor [B] from a tensor, a str or a list of str (a str is a batch of 1)."""
    strings = tf.convert_to_tensor(strings, dtype=tf.string)
    return strings[tf.newaxis] if strings.shape.rank == 0 else strings


class HubPreprocessor(tf.Module):
    """Strings -> BERT inputs with a TF Hub BERT preprocessor SavedModel.

    Inference only (it has no variables). A `tf.Module`, not a Keras layer,
    so it runs in `Dataset.map` whatever the Keras backend; under a
    `tf.distribute` strategy create it outside `strategy.scope()`, as TF Hub
    advises for preprocessors used in tf.data.

    Args:
        handle: str, a SavedModel directory (e.g. from
            `tfzoo.export.hub.export_hub_preprocessor`) or a TF Hub handle.
        seq_length: int or None. None packs to the SavedModel's default
            length; an int is passed to its `bert_pack_inputs` (TF Hub's
            preprocessors and tfzoo's exports take any length).

    Call arguments:
        inputs: string tensor [B] for single segments, or a list of string
            tensors [B], one per segment (pairs). A str or a list of str is
            one segment; a tuple is one entry per segment.

    Returns:
        dict of int32 [B, seq_length]: `input_word_ids`, `input_mask`,
        `input_type_ids`.

    Example:
    >>> preprocessor = HubPreprocessor("exports/bert_preprocess")
    >>> dataset = dataset.map(lambda text, label: (preprocessor(text), label))
    """

    def __init__(self, handle, seq_length=None, name=None):
        super().__init__(name=name)
        if seq_length is not None and (isinstance(seq_length, bool)
                                       or not isinstance(seq_length, int) or seq_length < 2):
            raise ValueError("`seq_length` must be None or an integer >= 2. "
                             f"Received: seq_length={seq_length!r}")
        self.handle = os.fspath(handle)
        self.seq_length = seq_length
        self._saved_model = load_saved_model(self.handle)
        for attribute in ("tokenize", "bert_pack_inputs"):
            if not hasattr(self._saved_model, attribute):
                raise ValueError(f"{self.handle!r} is no TF Hub BERT preprocessor: it has no "
                                 f"`.{attribute}`.")

    def tokenize(self, strings):
        """Strings [B] -> int32 ragged ids [B, (words), (wordpieces)]."""
        return self._saved_model.tokenize(_strings(strings))

    def bert_pack_inputs(self, segments, seq_length=None):
        """Token segments (from `tokenize`) -> the dict of packed inputs."""
        seq_length = self.seq_length if seq_length is None else seq_length
        if seq_length is None:
            return self._saved_model.bert_pack_inputs(list(segments))
        return self._saved_model.bert_pack_inputs(list(segments), seq_length=seq_length)

    def get_special_tokens_dict(self):
        """`vocab_size`, `start_of_sequence_id`, ... as Python ints."""
        special = self._saved_model.tokenize.get_special_tokens_dict()
        return {key: int(value) for key, value in special.items()}

    def __call__(self, inputs):
        segments = text_segments(inputs)
        one_batch = len(segments) == 1 and segments[0] is inputs  # not a list of segments
        if not one_batch:
            return self.bert_pack_inputs([self.tokenize(_strings(s)) for s in segments])
        if self.seq_length is None:
            return self._saved_model(_strings(inputs))
        return self.bert_pack_inputs([self.tokenize(_strings(inputs))])

    def get_config(self):
        return {"handle": self.handle, "seq_length": self.seq_length, "name": self.name}

    @classmethod
    def from_config(cls, config):
        return cls(**config)
