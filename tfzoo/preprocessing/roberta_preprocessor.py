"""RoBERTa preprocessing in the graph: byte-level BPE and input packing.

Text -> ids the way RoBERTa was trained (Liu et al. 2019, section 4.4: GPT-2's
byte-level BPE; fairseq's packing `<s> A </s></s> B </s>`, no segment
embeddings), with the BERT preprocessor's TF Hub interface (`tokenize`,
`bert_pack_inputs`, `get_special_tokens_dict`). Only core TF and TF Text ops,
so it runs in `tf.data` under any Keras backend and exports in a SavedModel.
"""

import json
import os

import tensorflow as tf
import tensorflow_text as text

from tfzoo.preprocessing.gpt2_tokenizer import GPT2Tokenizer
from tfzoo.preprocessing.packing import (
    check_same_batch,
    check_seq_length,
    pack_segments,
    text_segments,
    token_lists,
)

_BOS, _PAD, _EOS, _UNK, _MASK = "<s>", "<pad>", "</s>", "<unk>", "<mask>"


class _Tokenize(tf.Module):
    """`RobertaPreprocessor.tokenize`: strings [B] -> ids [B, (tokens)]."""

    def __init__(self, tokenizer, special_tokens):
        super().__init__(name="tokenize")
        self.tokenizer = tokenizer
        self._special_tokens = special_tokens

    def __call__(self, strings):
        strings = tf.convert_to_tensor(strings, dtype=tf.string)
        if strings.shape.rank == 0:
            strings = strings[tf.newaxis]
        return self.tokenizer.tokenize(strings)

    def get_special_tokens_dict(self):
        """TF Hub's special token ids, as Python ints."""
        return dict(self._special_tokens)


class RobertaPreprocessor(tf.Module):
    """RoBERTa's text preprocessing as a `tf.Module` of TF and TF Text ops.

    Turns a batch of strings (or of string pairs, triples, ...) into
    RoBERTa's inputs, with the interface of `BertPreprocessor`: byte-level BPE
    tokens of each segment (`GPT2Tokenizer`), trimmed round-robin so that
    `<s>`, the segments and RoBERTa's separators fit `seq_length`, then
    padded with `<pad>`. Type ids are all 0: RoBERTa has no segment
    embeddings. It is not a Keras layer, so it runs inside `tf.data` whatever
    the Keras backend.

    Ids equal transformers' `RobertaTokenizerFast` on the same files, for
    single texts (truncated or not) and pairs padded to `max_length`
    (tested). Known differences:

    - Special-token strings in the text ("<mask>") are tokenized as text, as
      in `BertPreprocessor` (transformers: `split_special_tokens=True`).
    - Pairs too long for `seq_length` are trimmed round-robin (TF Hub), not
      "longest_first" (transformers); single texts are cut alike.

    Args:
        tokenizer: a `GPT2Tokenizer` whose vocabulary has <s>, </s>, <pad>,
            <unk> and <mask> (ids 0, 2, 1, 3 and 4 in RoBERTa's).
        seq_length: int >= 2, length of the packed inputs. Defaults to 128.
        name: name of the module.

    Call arguments:
        inputs: string tensor [B] for single segments, or a list/tuple of
            string tensors [B], one per segment (pairs, triples). A Python
            str or list of str is one segment (a batch of 1 or of len(list));
            a tuple is always one entry per segment, as in keras-hub:
            ("Who?", "Me.") is one pair.

    Returns:
        dict of int32 tensors [B, seq_length]: `input_word_ids`, `input_mask`
        (1 for real tokens) and `input_type_ids` (zeros).

    `tokenize(strings)` gives int32 ids [B, (tokens)] and has its own
    `tokenize.get_special_tokens_dict()`; `bert_pack_inputs(segments,
    seq_length=None)` packs such token lists into the dict above.

    Example:
    >>> preprocessor = RobertaPreprocessor.from_pretrained("roberta_base/")
    >>> inputs = preprocessor(tf.constant(["The café is open.", "Hi!"]))
    >>> inputs["input_word_ids"].shape  # (2, 128)
    >>> pairs = preprocessor([tf.constant(["Who?"]), tf.constant(["Me."])])
    """

    def __init__(self, tokenizer, seq_length=128, name=None):
        super().__init__(name=name)
        if not isinstance(tokenizer, GPT2Tokenizer):
            raise ValueError(
                "`tokenizer` must be a GPT2Tokenizer. "
                f"Received: tokenizer of type {type(tokenizer).__name__}"
            )
        self.seq_length = check_seq_length(seq_length)
        vocabulary = tokenizer.vocabulary
        for token in (_BOS, _EOS, _PAD, _UNK, _MASK):
            if token not in vocabulary:
                raise ValueError(
                    f"The vocabulary has no {token} token. RoBERTa needs {_BOS}, "
                    f"{_EOS}, {_PAD}, {_UNK} and {_MASK}. Received "
                    f"{len(vocabulary)} tokens starting with {list(vocabulary)[:5]}"
                )
        special_tokens = {
            "vocab_size": tokenizer.vocabulary_size,
            "start_of_sequence_id": vocabulary[_BOS],
            "end_of_segment_id": vocabulary[_EOS],
            "padding_id": vocabulary[_PAD],
            "mask_id": vocabulary[_MASK],
        }
        self.tokenize = _Tokenize(tokenizer, special_tokens)

    @property
    def tokenizer(self):
        """The `GPT2Tokenizer`."""
        return self.tokenize.tokenizer

    def get_special_tokens_dict(self):
        """Ids RoBERTa's heads need: keys `vocab_size`, `start_of_sequence_id`
        (<s>), `end_of_segment_id` (</s>), `padding_id` and `mask_id`, as
        Python ints (the same as `tokenize.get_special_tokens_dict()`)."""
        return self.tokenize.get_special_tokens_dict()

    def word_start_ids(self):
        """bool [vocab_size]: true for tokens that begin a word.

        As fairseq's whole-word masking for GPT-2 BPE: tokens that start with
        a space ("Ġ" in vocab.json) and the special tokens. Whole-word masking
        gathers this with the packed ids to find word boundaries.
        """
        starts = [False] * self.tokenizer.vocabulary_size
        specials = (_BOS, _EOS, _PAD, _UNK, _MASK)
        for token, index in self.tokenizer.vocabulary.items():
            starts[index] = token.startswith("\u0120") or token in specials
        return tf.constant(starts)

    def bert_pack_inputs(self, segments, seq_length=None):
        """Packs token ids into RoBERTa's inputs, like TF Hub's `bert_pack_inputs`.

        Args:
            segments: non-empty list of int tensors, one per segment, each
                [B, (tokens)] (from `tokenize`), [B, (words), (tokens)] or
                dense [B, T].
            seq_length: int >= 2 * len(segments), length of the outputs.
                Defaults to the constructor's `seq_length`.

        Returns:
            dict of int32 [B, seq_length]: `input_word_ids` (`<s> a </s>`, and
            `</s> b </s>` for every further segment, then `<pad>`),
            `input_mask` and `input_type_ids` (zeros).
        """
        if not isinstance(segments, (list, tuple)) or not segments:
            raise ValueError(
                "`segments` must be a non-empty list of token tensors, one per "
                f"segment. Received: segments={segments!r}"
            )
        if seq_length is None:
            seq_length = self.seq_length
        seq_length = check_seq_length(seq_length, minimum=2 * len(segments))
        special = self.get_special_tokens_dict()
        end = special["end_of_segment_id"]
        segments = check_same_batch([token_lists(segment) for segment in segments])
        # pack_segments puts one </s> after each segment; RoBERTa has a second
        # one before every segment after the first. Trimming here to the room
        # RoBERTa's 2 * len(segments) special tokens leave and then prepending
        # that </s> leaves nothing for pack_segments' own trimming to cut.
        segments = text.RoundRobinTrimmer(
            max_seq_length=seq_length - 2 * len(segments)
        ).trim(segments)
        for index in range(1, len(segments)):
            separator = tf.fill([segments[index].nrows(), 1], end)
            segments[index] = tf.concat([separator, segments[index]], axis=1)
        packed = pack_segments(
            segments,
            seq_length=seq_length,
            start_of_sequence_id=special["start_of_sequence_id"],
            end_of_segment_id=end,
            padding_id=special["padding_id"],
        )
        packed["input_type_ids"] = tf.zeros_like(packed["input_type_ids"])
        return packed

    def __call__(self, inputs):
        return self.bert_pack_inputs(
            [self.tokenize(s) for s in text_segments(inputs)])

    @classmethod
    def from_pretrained(cls, path, seq_length=128):
        """Loads a RoBERTa tokenizer directory (vocab.json and merges.txt, or
        encoder.json and vocab.bpe); see `GPT2Tokenizer.from_pretrained`.

        Raises:
            FileNotFoundError: naming the path and the files looked for.
        """
        return cls(GPT2Tokenizer.from_pretrained(path), seq_length=seq_length)

    def save_pretrained(self, path):
        """Writes vocab.json, merges.txt and tokenizer_config.json to the
        directory `path`; `from_pretrained(path)` and transformers'
        `RobertaTokenizerFast.from_pretrained(path)` both load them.
        `seq_length` is not saved: pass it to `from_pretrained`."""
        self.tokenizer.save_pretrained(path)
        config = {"tokenizer_class": "RobertaTokenizer", "add_prefix_space": False,
                  "bos_token": _BOS, "eos_token": _EOS, "sep_token": _EOS,
                  "cls_token": _BOS, "pad_token": _PAD, "unk_token": _UNK,
                  "mask_token": _MASK}
        with open(os.path.join(os.fspath(path), "tokenizer_config.json"), "w",
                  encoding="utf-8") as file:
            json.dump(config, file, indent=2)
