"""BERT preprocessing in the graph: WordPiece tokenization and input packing.

Text -> ids the way BERT was trained (Devlin et al. 2018, section 3: WordPiece
tokens, [CLS] first, [SEP] after each segment, segment embeddings from type
ids), with TF Hub's preprocessor interface (`tokenize`, `bert_pack_inputs`,
`get_special_tokens_dict`). Only core TF and TF Text ops, so it runs in
`tf.data` under any Keras backend and exports in a SavedModel.
"""

import json
import os

import tensorflow as tf
import tensorflow_text as text
from absl import logging

from tfzoo.checkpoints.readers import read_json_object
from tfzoo.preprocessing.packing import check_seq_length, pack_segments, text_segments

# The special tokens every BERT vocabulary has ([PAD] may instead be line 0).
_CLS, _SEP, _PAD, _UNK, _MASK = "[CLS]", "[SEP]", "[PAD]", "[UNK]", "[MASK]"
# Longer words become [UNK] (BERT's `max_input_chars_per_word`).
_MAX_CHARS_PER_WORD = 100

# The steps of transformers' BertNormalizer and BertPreTokenizer, as RE2
# patterns. Clean text: drop control (Cc, but tab, newline and carriage return
# are whitespace), format (Cf, e.g. U+200B, U+00AD) and private-use (Co)
# characters and U+FFFD.
_DROPPED = r"[^\P{Cc}\t\n\r]|[\p{Cf}\p{Co}\x{FFFD}]"
# Chinese characters (CJK Unified Ideographs and extensions) are words of their
# own.
_CJK = (
    r"([\x{3400}-\x{4DBF}\x{4E00}-\x{9FFF}\x{F900}-\x{FAFF}\x{20000}-\x{2A6DF}"
    r"\x{2A700}-\x{2B81F}\x{2B920}-\x{2CEAF}\x{2F800}-\x{2FA1F}])"
)
# Words are split at whitespace (Unicode White_Space; the other control
# characters are gone) and around punctuation: ASCII punctuation (including
# $+<=>^`|~) and Unicode P*, each a word of its own.
_PUNCTUATION = r"[!-/:-@\[-`{-~]|\p{P}"
_DELIMITERS = r"[\t\n\r\p{Z}]+|" + _PUNCTUATION


def _read_vocabulary(vocabulary):
    """A list of tokens from a list or a vocab.txt path (one token a line)."""
    if isinstance(vocabulary, (str, os.PathLike)):
        path = os.fspath(vocabulary)
        if not os.path.isfile(path):
            raise FileNotFoundError(f"No vocabulary file at {path!r}.")
        with open(path, encoding="utf-8") as file:
            return [line.rstrip("\n") for line in file]
    if isinstance(vocabulary, (list, tuple)) and all(
        isinstance(token, str) for token in vocabulary
    ):
        return list(vocabulary)
    raise ValueError(
        "`vocabulary` must be a path to vocab.txt or a list of tokens. "
        f"Received: vocabulary of type {type(vocabulary).__name__}"
    )


def _wordpiece_from_tokenizer_json(path):
    """(vocabulary, settings) from a Hugging Face tokenizer.json of a BERT
    WordPiece tokenizer: the tokens of `model.vocab` (token -> id) in id order,
    and its BertNormalizer's settings under tokenizer_config.json's names."""
    data = read_json_object(path)
    model = data.get("model") or {}
    expected = {"type": "WordPiece", "continuing_subword_prefix": "##",
                "max_input_chars_per_word": _MAX_CHARS_PER_WORD}
    for key, value in expected.items():
        if model.get(key, value) != value:
            raise ValueError(f"{path} has model.{key}={model.get(key)!r}; BertPreprocessor "
                             f"reads BERT's WordPiece tokenizers ({key}={value!r}).")
    vocab = model.get("vocab")
    if not isinstance(vocab, dict) or not vocab:
        raise ValueError(f"{path} has no model.vocab (token -> id) to read.")
    tokens = sorted(vocab, key=vocab.get)
    ids = [vocab[token] for token in tokens]
    if ids != list(range(len(ids))):
        first = next(i for i, token_id in enumerate(ids) if token_id != i)
        raise ValueError(f"{path}: model.vocab ids must run 0..{len(ids) - 1} without gaps "
                         f"or repeats; token {tokens[first]!r} has id {ids[first]}, "
                         f"expected {first}.")
    normalizer = data.get("normalizer") or {}
    settings = {}
    if normalizer.get("type") == "BertNormalizer":
        for ours, theirs in (("do_lower_case", "lowercase"), ("strip_accents", "strip_accents"),
                             ("tokenize_chinese_chars", "handle_chinese_chars")):
            if theirs in normalizer:
                settings[ours] = normalizer[theirs]
    return tokens, settings


def _read_directory(path):
    """(vocabulary, settings) of a tokenizer directory: vocab.txt, else
    tokenizer.json's WordPiece vocabulary; tokenizer_config.json's settings
    over tokenizer.json's."""
    vocab_path = os.path.join(path, "vocab.txt")
    json_path = os.path.join(path, "tokenizer.json")
    config_path = os.path.join(path, "tokenizer_config.json")
    settings = {}
    if os.path.isfile(vocab_path):
        vocabulary = _read_vocabulary(vocab_path)
    elif os.path.isfile(json_path):
        vocabulary, settings = _wordpiece_from_tokenizer_json(json_path)
    else:
        raise FileNotFoundError(f"No vocabulary in {path!r}: expected vocab.txt or a "
                                f"WordPiece tokenizer.json. Found: {sorted(os.listdir(path))}")
    if os.path.isfile(config_path):
        settings.update(read_json_object(config_path))
    return vocabulary, settings


def _looks_cased(vocabulary):
    """Whether any token but the bracketed special ones has upper-case letters."""
    return any(
        token.lower() != token
        for token in vocabulary
        if not (token.startswith("[") and token.endswith("]"))
    )


def _string_batch(strings):
    """A [B] string tensor from a tensor, a str, or a list of str."""
    strings = tf.convert_to_tensor(strings, dtype=tf.string)
    if strings.shape.rank == 0:
        return strings[tf.newaxis]
    if strings.shape.rank is not None and strings.shape.rank != 1:
        raise ValueError(
            "Expected a batch of strings of shape [batch]. "
            f"Received: shape={strings.shape}"
        )
    return strings


class _Tokenize(tf.Module):
    """`BertPreprocessor.tokenize`: strings [B] -> ids [B, (words), (wordpieces)].

    Reproduces transformers' BertNormalizer (clean text, space out Chinese
    characters, strip accents, lower-case), BertPreTokenizer (split on
    whitespace, punctuation is a word of its own) and WordPiece. TF Text's
    `BertTokenizer` is not used whole because its basic tokenizer differs:
    it NFKC-case-folds (ß -> ss, ﬁ -> fi, fullwidth -> ASCII), turns control
    and format characters into spaces instead of dropping them, and limits
    words to 100 bytes rather than 100 characters.
    """

    def __init__(self, vocabulary, lower_case, strip_accents, special_tokens,
                 tokenize_chinese_chars=True):
        super().__init__(name="tokenize")
        self._lower_case = lower_case
        self._strip_accents = strip_accents
        self._tokenize_chinese_chars = tokenize_chinese_chars
        self._special_tokens = special_tokens
        # A repeated token gets the id of its last line, as in transformers.
        ids = {token: index for index, token in enumerate(vocabulary)}
        table = tf.lookup.StaticHashTable(
            tf.lookup.KeyValueTensorInitializer(
                list(ids), list(ids.values()), tf.string, tf.int64
            ),
            default_value=-1,
        )
        # A word of at most 100 characters has at most 400 UTF-8 bytes; longer
        # words are replaced by [UNK] before WordPiece sees them.
        self._wordpiece = text.WordpieceTokenizer(
            table,
            suffix_indicator="##",
            max_bytes_per_word=4 * _MAX_CHARS_PER_WORD,
            unknown_token=_UNK,
        )

    def _normalize(self, strings):
        strings = tf.strings.regex_replace(strings, _DROPPED, "")
        if self._tokenize_chinese_chars:
            strings = tf.strings.regex_replace(strings, _CJK, r" \1 ")
        if self._strip_accents:
            strings = text.normalize_utf8(strings, "NFD")
            strings = tf.strings.regex_replace(strings, r"\p{Mn}", "")
        if self._lower_case:
            # The reference lower-cases character by character, so a final
            # capital sigma becomes σ, not the ς that ICU's context rule gives.
            strings = tf.strings.regex_replace(strings, "\u03a3", "\u03c3")
            # Unicode lower-casing (ß stays ß), not TF Text's NFKC case folding.
            strings = tf.strings.lower(strings, encoding="utf-8")
        return strings

    def __call__(self, strings):
        # Bytes that are not UTF-8 (never in a Python str) become U+FFFD, as
        # Python's decode(errors="replace") makes them, and cleaning then
        # drops U+FFFD: b"caf\xc3 ok" tokenizes as "caf ok".
        strings = tf.strings.unicode_transcode(
            _string_batch(strings), "UTF-8", "UTF-8", errors="replace",
            replace_control_characters=False)
        strings = self._normalize(strings)
        words = text.regex_split(strings, _DELIMITERS, _PUNCTUATION)  # (B, (words))
        lengths = tf.strings.length(words.flat_values, unit="UTF8_CHAR")
        words = words.with_flat_values(
            tf.where(lengths > _MAX_CHARS_PER_WORD, _UNK, words.flat_values)
        )
        token_ids = self._wordpiece.tokenize(words)  # (B, (words), (wordpieces))
        return tf.cast(token_ids, tf.int32)

    def get_special_tokens_dict(self):
        """TF Hub's special token ids, as Python ints."""
        return dict(self._special_tokens)


class BertPreprocessor(tf.Module):
    """BERT's text preprocessing as a `tf.Module` of TF and TF Text ops.

    Turns a batch of strings (or of string pairs, triples, ...) into BERT's
    inputs, like the TF Hub BERT preprocessor: WordPiece tokens of each
    segment, trimmed round-robin so [CLS] + segments + one [SEP] per segment
    fits `seq_length`, padded, with type ids 0, 1, 2, ... per segment. It is not
    a Keras layer, so it runs inside `tf.data` whatever the Keras backend.

    Token ids equal transformers' `BertTokenizerFast` with the same vocabulary
    and `do_lower_case` (tested on accents, case-folding traps, CJK, Hangul,
    emoji, control and format characters, long words). Known differences:

    - Special-token strings in the text ("[SEP]") are tokenized as text, like
      TF Hub and Google's BERT, not matched as special tokens: the same as
      `BertTokenizerFast(..., split_special_tokens=True)`.
    - Pairs longer than `seq_length` are trimmed round-robin (TF Hub), not
      "longest_first" (transformers).
    - Bytes that are not UTF-8 (a Python str never holds them) become
      U+FFFD, which cleaning drops: the ids of the text decoded with
      `errors="replace"`.
    - Unicode versions. transformers' tokenizers (0.23) classifies
      punctuation, control/format characters and nonspacing marks with
      Unicode 8-era tables, and lower-cases with Rust's recent ones; here RE2
      and ICU (as built into TF 2.21) decide. Characters encoded or
      recategorised since then differ: punctuation such as U+2E43-U+2E5D
      (Unicode 9+) is split off here, not there; marks such as U+0898 (Mn)
      are stripped and U+0890 (Cf) dropped here, not there; U+1734 (Mn then,
      Mc now) is kept here; Vithkuqi capitals (U+10570...) are not lower-cased
      here. With the uncased BERT vocabulary, 568 of the 1.1 million code
      points give other ids (149 cased), none in the Latin, Greek, Cyrillic,
      Hebrew, CJK, kana, Hangul, general punctuation or emoji blocks.

    Args:
        vocabulary: path to a vocab.txt (one token a line; the line number is
            the id), or a list of tokens. Must contain [CLS], [SEP], [UNK] and
            [MASK]; padding uses [PAD], or the token with id 0 if there is none.
        lower_case: bool, lower-case the text (and strip accents unless
            `strip_accents` says otherwise), for uncased vocabularies.
            Defaults to True.
        seq_length: int >= 2, length of the packed inputs. Defaults to 128.
        strip_accents: bool or None, drop accents (NFD, then remove
            nonspacing marks). None follows `lower_case`, as in transformers.
        tokenize_chinese_chars: bool, make every Chinese character (CJK
            ideograph) a word of its own, as BERT does. False keeps runs of
            them together ("中国" one word), like transformers'
            `tokenize_chinese_chars=False`. Defaults to True.
        name: name of the module.

    Call arguments:
        inputs: string tensor [B] for single segments, or a list/tuple of
            string tensors [B], one per segment (pairs, triples). A Python
            str or list of str is one segment (a batch of 1 or of len(list));
            a tuple is always one entry per segment, as in keras-hub:
            ("Who?", "Me.") is one pair.

    Returns:
        dict of int32 tensors [B, seq_length]: `input_word_ids`, `input_mask`
        (1 for real tokens) and `input_type_ids`.

    `tokenize(strings)` gives int32 ids [B, (words), (wordpieces)] and has its
    own `tokenize.get_special_tokens_dict()`; `bert_pack_inputs(segments,
    seq_length=None)` packs such token lists into the dict above.

    Example:
    >>> preprocessor = BertPreprocessor.from_pretrained("bert_uncased/")
    >>> inputs = preprocessor(tf.constant(["The café is open.", "Hi!"]))
    >>> inputs["input_word_ids"].shape  # (2, 128)
    >>> pairs = preprocessor([tf.constant(["Who?"]), tf.constant(["Me."])])
    """

    def __init__(
        self, vocabulary, lower_case=True, seq_length=128, strip_accents=None,
        tokenize_chinese_chars=True, name=None
    ):
        super().__init__(name=name)
        vocabulary = _read_vocabulary(vocabulary)
        if not isinstance(lower_case, bool):
            raise ValueError(
                f"`lower_case` must be a bool. Received: lower_case={lower_case!r}"
            )
        if not isinstance(tokenize_chinese_chars, bool):
            raise ValueError(
                "`tokenize_chinese_chars` must be a bool. "
                f"Received: tokenize_chinese_chars={tokenize_chinese_chars!r}"
            )
        if strip_accents is not None and not isinstance(strip_accents, bool):
            raise ValueError(
                "`strip_accents` must be a bool or None. "
                f"Received: strip_accents={strip_accents!r}"
            )
        self.seq_length = check_seq_length(seq_length)
        ids = {token: index for index, token in enumerate(vocabulary)}
        for token in (_CLS, _SEP, _UNK, _MASK):
            if token not in ids:
                raise ValueError(
                    f"The vocabulary has no {token} token. BERT needs {_CLS}, "
                    f"{_SEP}, {_UNK} and {_MASK}. Received {len(vocabulary)} tokens "
                    f"starting with {vocabulary[:5]}"
                )
        self.pad_token = _PAD if _PAD in ids else vocabulary[0]
        if self.pad_token != _PAD:
            logging.info("No %s in the vocabulary: padding with id 0, %r.", _PAD,
                         vocabulary[0])
        self.vocabulary = tuple(vocabulary)  # a tuple, so tf.Module does not wrap it
        self.lower_case = lower_case
        self.strip_accents = strip_accents
        self.tokenize_chinese_chars = tokenize_chinese_chars
        special_tokens = {
            "vocab_size": len(vocabulary),
            "start_of_sequence_id": ids[_CLS],
            "end_of_segment_id": ids[_SEP],
            "padding_id": ids[self.pad_token],
            "mask_id": ids[_MASK],
        }
        self.tokenize = _Tokenize(
            vocabulary,
            lower_case=lower_case,
            strip_accents=lower_case if strip_accents is None else strip_accents,
            special_tokens=special_tokens,
            tokenize_chinese_chars=tokenize_chinese_chars,
        )

    def get_special_tokens_dict(self):
        """Ids BERT's heads need: keys `vocab_size`, `start_of_sequence_id`
        ([CLS]), `end_of_segment_id` ([SEP]), `padding_id` and `mask_id`, as
        Python ints (the same as `tokenize.get_special_tokens_dict()`)."""
        return self.tokenize.get_special_tokens_dict()

    def detokenize(self, token_ids):
        """Token ids -> text: word pieces joined, special tokens dropped.

        Args:
            token_ids: int [B, T] (dense, ragged, or a list of lists).

        Returns:
            string tensor [B]. Lower-casing and accent stripping are not undone.
            Ids outside the vocabulary are skipped, as transformers' `decode`
            skips them.
        """
        if not isinstance(token_ids, (tf.Tensor, tf.RaggedTensor)):
            token_ids = tf.ragged.constant(token_ids, dtype=tf.int32) if isinstance(
                token_ids, list) else tf.convert_to_tensor(token_ids, tf.int32)
        special = self.get_special_tokens_dict()
        drop = [special["start_of_sequence_id"], special["end_of_segment_id"],
                special["padding_id"]]
        ids = tf.cast(token_ids, tf.int32)
        if isinstance(ids, tf.Tensor):
            ids = tf.RaggedTensor.from_tensor(ids)
        keep = tf.reduce_all(tf.stack(
            [tf.not_equal(ids, d) for d in drop]
            + [ids >= 0, ids < len(self.vocabulary)]), axis=0)
        tokens = tf.gather(tf.constant(self.vocabulary), tf.ragged.boolean_mask(ids, keep))
        text = tf.strings.reduce_join(tokens, axis=-1, separator=" ")
        return tf.strings.regex_replace(text, " ##", "")

    def word_start_ids(self):
        """bool [vocab_size]: true for tokens that begin a word (no "##" prefix).

        Whole-word masking gathers this with the packed ids to find word
        boundaries.
        """
        return tf.constant([not token.startswith("##") for token in self.vocabulary])

    def bert_pack_inputs(self, segments, seq_length=None):
        """Packs token ids into BERT's inputs, as TF Hub's `bert_pack_inputs`.

        Args:
            segments: list of ragged int tensors, one per segment, each
                [B, (words), (wordpieces)] (from `tokenize`) or [B, (tokens)].
            seq_length: int, length of the outputs. Defaults to the
                constructor's `seq_length`.

        Returns:
            dict of int32 [B, seq_length]: `input_word_ids` ([CLS] a [SEP]
            b [SEP] ... then padding), `input_mask`, `input_type_ids`.
        """
        if seq_length is None:
            seq_length = self.seq_length
        special = self.get_special_tokens_dict()
        return pack_segments(
            segments,
            seq_length=seq_length,
            start_of_sequence_id=special["start_of_sequence_id"],
            end_of_segment_id=special["end_of_segment_id"],
            padding_id=special["padding_id"],
        )

    def __call__(self, inputs):
        return self.bert_pack_inputs(
            [self.tokenize(s) for s in text_segments(inputs)])

    def get_config(self):
        """The constructor arguments (the vocabulary as a list of tokens)."""
        return {
            "vocabulary": list(self.vocabulary),
            "lower_case": self.lower_case,
            "seq_length": self.seq_length,
            "strip_accents": self.strip_accents,
            "tokenize_chinese_chars": self.tokenize_chinese_chars,
        }

    @classmethod
    def from_pretrained(cls, path, seq_length=128, lower_case=None):
        """Loads the vocabulary of a BERT checkpoint or tokenizer directory.

        Args:
            path: a directory with vocab.txt (Hugging Face, with
                tokenizer_config.json; Google's BERT, with bert_config.json;
                or `save_pretrained` output) or with a WordPiece tokenizer.json
                (transformers 5's `BertTokenizerFast.save_pretrained` writes no
                vocab.txt), or the path of a vocab.txt.
            seq_length: int >= 2, length of the packed inputs. Defaults to 128.
            lower_case: bool or None. None reads `do_lower_case` from the
                directory's tokenizer_config.json (or tokenizer.json's
                normalizer), or else infers it from the vocabulary: a cased
                vocabulary has tokens with upper-case letters (besides [CLS]
                and the like), an uncased one has none.

        `strip_accents` and `tokenize_chinese_chars` come from the same files.

        Raises:
            FileNotFoundError: naming the path when there is neither vocab.txt
                nor tokenizer.json.
            ValueError: naming the file and the setting when a file is not
                valid JSON or tokenizer.json is not a WordPiece BERT tokenizer.
        """
        path = os.fspath(path)
        if not os.path.exists(path):
            raise FileNotFoundError(f"No such directory or vocab.txt: {path!r}")
        settings = {}
        if os.path.isdir(path):
            vocabulary, settings = _read_directory(path)
        else:
            vocabulary = _read_vocabulary(path)
        if lower_case is None and "do_lower_case" in settings:
            lower_case = bool(settings["do_lower_case"])
        elif lower_case is None:
            lower_case = not _looks_cased(vocabulary)
            logging.info(
                "No do_lower_case setting for %s: the vocabulary %s upper-case "
                "tokens, so lower_case=%s.",
                path, "has" if not lower_case else "has no", lower_case,
            )
        chinese = settings.get("tokenize_chinese_chars")
        return cls(vocabulary, lower_case=lower_case, seq_length=seq_length,
                   strip_accents=settings.get("strip_accents"),
                   tokenize_chinese_chars=True if chinese is None else chinese)

    def save_pretrained(self, path):
        """Writes vocab.txt and tokenizer_config.json to the directory `path`.

        `from_pretrained(path)` and transformers' `BertTokenizerFast
        .from_pretrained(path)` both load them. `seq_length` is not saved:
        pass it to `from_pretrained`.
        """
        path = os.fspath(path)
        os.makedirs(path, exist_ok=True)
        with open(os.path.join(path, "vocab.txt"), "w", encoding="utf-8") as file:
            file.writelines(token + "\n" for token in self.vocabulary)
        config = {
            "tokenizer_class": "BertTokenizer",
            "do_lower_case": self.lower_case,
            "strip_accents": self.strip_accents,
            "tokenize_chinese_chars": self.tokenize_chinese_chars,
            "cls_token": _CLS,
            "sep_token": _SEP,
            "pad_token": self.pad_token,
            "unk_token": _UNK,
            "mask_token": _MASK,
        }
        config_path = os.path.join(path, "tokenizer_config.json")
        with open(config_path, "w", encoding="utf-8") as file:
            json.dump(config, file, indent=2, ensure_ascii=False)
