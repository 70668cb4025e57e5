"""GPT-2's byte-level BPE tokenizer in the graph (also RoBERTa's).

Radford et al. 2019, section 2.2 ("Input Representation"): byte-pair encoding
over the UTF-8 bytes of the text, so any string has a tokenization and no
unknown token is needed, after a pre-tokenization regex that keeps merges from
crossing letters, digits, punctuation and whitespace. Only core TF ops, so it
runs in `tf.data` under any Keras backend and exports in a SavedModel that
TF Serving loads.
"""

import json
import os
from types import MappingProxyType

import tensorflow as tf
from absl import logging

_END_OF_TEXT = "<|endoftext|>"
# (vocabulary, merges) file names: Hugging Face's, then OpenAI's GPT-2 release.
_FILE_LAYOUTS = (("vocab.json", "merges.txt"), ("encoder.json", "vocab.bpe"))
_MERGES_HEADER = "#version: 0.2"
# Marks cuts between words: a byte that never occurs in UTF-8 text.
_CUT = b"\xff"

# The character classes of GPT-2's pattern as transformers' regex engine
# (Oniguruma, in tokenizers 0.23) reads them, written for RE2 (TF 2.21).
# `\s`: \t to \r, NEL and the separators Zs, Zl, Zp; RE2's is ASCII only and
# has no \v.
_SPACE = r"\t\n\x0B\f\r\x{85}\p{Z}"
# \p{L} and \p{N}, plus the letters and digits Unicode 16.0 added, which RE2
# does not know yet and Oniguruma does (the only differences in a comparison
# of all 1,112,064 code points).
_LETTER = (
    r"\p{L}\x{1C89}-\x{1C8A}\x{A7CB}-\x{A7CD}\x{A7DA}-\x{A7DC}\x{105C0}-\x{105F3}"
    r"\x{10D4A}-\x{10D65}\x{10D6F}-\x{10D85}\x{10EC2}-\x{10EC4}\x{11380}-\x{11389}"
    r"\x{1138B}\x{1138E}\x{11390}-\x{113B5}\x{113B7}\x{113D1}\x{113D3}"
    r"\x{11BC0}-\x{11BE0}\x{13460}-\x{143FA}\x{16100}-\x{1611D}\x{16D40}-\x{16D6C}"
    r"\x{18CFF}\x{1E5D0}-\x{1E5ED}\x{1E5F0}\x{2EBF0}-\x{2EE5D}"
)
_DIGIT = (
    r"\p{N}\x{10D40}-\x{10D49}\x{116D0}-\x{116E3}\x{11BF0}-\x{11BF9}"
    r"\x{16130}-\x{16139}\x{16D70}-\x{16D79}\x{1CCF0}-\x{1CCF9}\x{1E5F1}-\x{1E5FA}"
)
_SPACE_RUN = "[" + _SPACE + "]+"
# GPT-2's pattern 's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+
# |\s+(?!\S)|\s+ without the lookahead, which RE2 lacks: `_split_words` does
# its work beforehand.
_WORD = (
    "'s|'t|'re|'ve|'m|'ll|'d| ?[" + _LETTER + "]+| ?[" + _DIGIT + "]+"
    "| ?[^" + _SPACE + _LETTER + _DIGIT + "]+|" + _SPACE_RUN
)


def _byte_alphabet():
    """GPT-2's byte -> character map, as (bytes, characters), in byte order.

    Bytes that are printable Latin-1 characters stand for themselves; the 68
    others (controls, space, no-break space, soft hyphen) become U+0100,
    U+0101, ... so that tokens in vocab.json never hold whitespace or controls.
    """
    printable = [*range(ord("!"), ord("~") + 1), *range(ord("¡"), ord("¬") + 1),
                 *range(ord("®"), ord("ÿ") + 1)]
    characters = {byte: chr(byte) for byte in printable}
    others = [byte for byte in range(256) if byte not in characters]
    characters.update({byte: chr(256 + n) for n, byte in enumerate(others)})
    return [bytes([byte]) for byte in range(256)], [characters[b] for b in range(256)]


def _static_table(keys, values, key_dtype, value_dtype, default):
    return tf.lookup.StaticHashTable(
        tf.lookup.KeyValueTensorInitializer(
            tf.constant(keys, key_dtype), tf.constant(values, value_dtype)
        ),
        default_value=default,
    )


def _read_vocabulary(vocabulary):
    """A dict token -> id from a dict or a vocab.json / encoder.json path."""
    if isinstance(vocabulary, (str, os.PathLike)):
        path = os.fspath(vocabulary)
        if not os.path.isfile(path):
            raise FileNotFoundError(f"No vocabulary file at {path!r}.")
        with open(path, encoding="utf-8") as file:
            vocabulary = json.load(file)
    if not isinstance(vocabulary, dict) or not vocabulary:
        raise ValueError(
            "`vocabulary` must be a non-empty dict token -> id or a path to "
            f"vocab.json. Received: vocabulary of type {type(vocabulary).__name__}"
            f" with {len(vocabulary) if isinstance(vocabulary, dict) else 'no'} tokens"
        )
    seen = {}
    for token, index in vocabulary.items():
        if (not isinstance(token, str) or isinstance(index, bool)
                or not isinstance(index, int) or index < 0):
            raise ValueError(
                "`vocabulary` must map strings to ids >= 0. "
                f"Received: {token!r}: {index!r}"
            )
        if index in seen:
            raise ValueError(
                f"Tokens {seen[index]!r} and {token!r} have the same id {index}."
            )
        seen[index] = token
    return dict(vocabulary)


def _read_merges(merges):
    """A list of (left, right) from "a b" strings, pairs or a merges.txt path.

    The "#version" header of merges.txt / vocab.bpe and blank lines are skipped.
    """
    if isinstance(merges, (str, os.PathLike)):
        path = os.fspath(merges)
        if not os.path.isfile(path):
            raise FileNotFoundError(f"No merges file at {path!r}.")
        with open(path, encoding="utf-8") as file:
            merges = [line.rstrip("\r\n") for line in file]
        merges = [m for m in merges if m and not m.startswith("#version")]
    if not isinstance(merges, (list, tuple)):
        raise ValueError(
            "`merges` must be a list of \"a b\" strings or a path to merges.txt. "
            f"Received: merges of type {type(merges).__name__}"
        )
    pairs = []
    for index, merge in enumerate(merges):
        pair = merge.split(" ") if isinstance(merge, str) else merge
        if (not isinstance(pair, (list, tuple)) or len(pair) != 2
                or not all(isinstance(s, str) and s for s in pair)):
            raise ValueError(
                "Each merge must be two tokens separated by one space. "
                f"Received: merge {index} = {merge!r}"
            )
        pairs.append(tuple(pair))
    return pairs


def _cut_at_matches(strings, pattern, replacement=b"\\0" + _CUT):
    """Strings [N] -> pieces [N, (pieces)], cut after every match of `pattern`.

    TF Text's `regex_split` stops reading at a NUL character, so the cuts are
    marked with a byte that UTF-8 text never holds and split there.
    """
    pieces = tf.strings.split(tf.strings.regex_replace(strings, pattern, replacement),
                              sep=_CUT)
    return tf.ragged.boolean_mask(pieces, pieces != "")


def _split_words(strings):
    """GPT-2's pre-tokenization: strings [N] -> words [N, (words)].

    The text is cut into maximal whitespace runs and the text between them
    first. A run followed by text gives its last character to that text: a
    space then starts the next word (" world"), another character ("\\n")
    becomes a word of its own; the rest of the run is one word. That is what
    GPT-2's `\\s+(?!\\S)` does, so the lookahead-free `_WORD` pattern then
    splits each piece the way GPT-2's pattern splits the whole text.
    """
    runs = _cut_at_matches(strings, _SPACE_RUN + "|[^" + _SPACE + "]+")  # (N, (runs))
    values = runs.flat_values
    lengths = runs.row_lengths()
    position = tf.ragged.range(lengths).flat_values
    followed = position < tf.gather(lengths, runs.value_rowids()) - 1
    gives = tf.strings.regex_full_match(values, _SPACE_RUN) & followed
    characters = tf.strings.length(values, unit="UTF8_CHAR")
    kept = tf.strings.substr(values, tf.zeros_like(characters),
                             characters - tf.cast(gives, tf.int32), unit="UTF8_CHAR")
    given = tf.where(gives, tf.strings.substr(values, -1, 1, unit="UTF8_CHAR"), "")
    # Runs and text alternate, so what a run gives goes to the next piece; the
    # last piece of a row gives nothing, so nothing crosses rows.
    received = tf.concat([[""], given], axis=0)[:-1]
    words = _cut_at_matches(tf.strings.join([received, kept]), _WORD)  # (runs, (words))
    return tf.RaggedTensor.from_row_splits(words, runs.row_splits).merge_dims(1, 2)


class GPT2Tokenizer(tf.Module):
    """GPT-2's byte-level BPE tokenizer as a `tf.Module` of core TF ops.

    Text -> words by GPT-2's pre-tokenization regex -> the UTF-8 bytes of each
    word written as printable characters (one of 256 each) -> BPE merges in
    rank order -> ids. Ids equal transformers' `GPT2TokenizerFast` on the same
    files (tested on whitespace runs, newlines, tabs, accents, CJK, Hangul,
    Arabic, emoji sequences, numbers, contractions, code and random joins of
    those; the words equal its pre-tokenizer's for every code point), and
    `detokenize` inverts `tokenize` exactly.

    Why not keras-hub's `BytePairTokenizer`: it is a Keras layer, and under
    the JAX backend its lookup tables are not tracked, so a SavedModel that
    holds it fails to save ("untracked resource"); called eagerly it runs the
    Python `tokenizers` library with a Llama-3 split pattern, which splits
    whitespace runs differently ("hello  world", indented code). Its graph
    path differs from GPT-2 on whitespace at the end of a text ("a  "), on
    runs of newlines, on U+0085 and most Unicode spaces outside ASCII, and on
    the letters and digits of Unicode 16; it deletes U+096C, which it uses as
    a marker; TF Text's `regex_split`, which it uses, stops reading at a NUL;
    and its mutable cache grows with every new word. This class reuses the
    algorithm's TF building blocks (static hash tables of the vocabulary and
    of merge ranks, a `tf.while_loop` of merges over ragged words) and fixes
    those points: `_split_words` does the lookahead's work by moving one
    character from each whitespace run to the next word, the character
    classes are Oniguruma's, words are cut with core `regex_replace` and
    `strings.split`, every occurrence of the best pair merges in one loop
    step, and each distinct word of a batch is merged once (`tf.unique`).

    Known differences from `GPT2TokenizerFast`:

    - Special-token strings in the text ("<|endoftext|>") are tokenized as
      text unless listed in `unsplittable_tokens` (transformers matches them
      unless `split_special_tokens=True`). Add `end_of_text_id` by id.
    - Character classes are those of tokenizers 0.23 (Unicode 16); letters
      and digits of later Unicode versions would need adding to `_LETTER`
      and `_DIGIT`.
    - Bytes that are not UTF-8 (never in a Python str) become U+FFFD first.
    - Characters missing from the vocabulary (possible only when it lacks
      some of the 256 byte characters) are dropped, as by transformers' BPE
      without an unknown token.

    Args:
        vocabulary: dict token -> id, or the path of a vocab.json (Hugging
            Face) or encoder.json (OpenAI).
        merges: list of "a b" strings (or pairs) in rank order, or the path of
            a merges.txt (Hugging Face) or vocab.bpe (OpenAI); the "#version"
            header line is skipped. Both tokens and their concatenation must
            be in the vocabulary.
        unsplittable_tokens: list of vocabulary tokens kept whole when they
            appear in the text (the longest first), e.g. ["<|endoftext|>"].
            Defaults to none.
        name: name of the module.

    Call arguments:
        strings: string tensor [B] or scalar, a Python str or a list of str.

    Returns:
        int32 RaggedTensor [B, (tokens)], or a Tensor [tokens] for a scalar.

    Example:
    >>> tokenizer = GPT2Tokenizer.from_pretrained("gpt2/")
    >>> ids = tokenizer(tf.constant(["Hello  world!", "café 🙂"]))
    >>> tokenizer.detokenize(ids)  # [b"Hello  world!", "café 🙂".encode()]
    >>> dataset = tf.data.Dataset.from_tensor_slices(texts).batch(8).map(tokenizer)
    """

    def __init__(self, vocabulary, merges, unsplittable_tokens=None, name=None):
        super().__init__(name=name)
        vocabulary = _read_vocabulary(vocabulary)
        pairs = _read_merges(merges)
        ranks = {}
        for rank, (left, right) in enumerate(pairs):
            for token in (left, right, left + right):
                if token not in vocabulary:
                    raise ValueError(
                        f"Merge {rank} ({left!r} {right!r}) makes or uses {token!r}, "
                        "which is not in the vocabulary."
                    )
            if (left, right) in ranks:
                raise ValueError(
                    f"Merge {rank} ({left!r} {right!r}) repeats merge "
                    f"{ranks[left, right]}."
                )
            ranks[left, right] = rank
        unsplittable_tokens = list(unsplittable_tokens or [])
        for token in unsplittable_tokens:
            if token not in vocabulary:
                raise ValueError(
                    "`unsplittable_tokens` must be vocabulary tokens. "
                    f"Received: {token!r}, which is not in the vocabulary."
                )
        # Read-only mappings, which tf.Module does not wrap for tracking.
        self._token_ids = MappingProxyType(vocabulary)
        self._id_tokens = MappingProxyType({i: t for t, i in vocabulary.items()})
        self._merges = tuple(f"{left} {right}" for left, right in pairs)
        self.unsplittable_tokens = tuple(unsplittable_tokens)

        byte_values, byte_characters = _byte_alphabet()
        self._byte_to_character = _static_table(
            byte_values, byte_characters, tf.string, tf.string, "")
        self._character_to_byte = _static_table(
            byte_characters, byte_values, tf.string, tf.string, "")
        self._no_merge = len(pairs)
        # A table needs a key; without merges, "" (pairs always hold a space).
        self._merge_ranks = _static_table(
            list(self._merges) or [""], list(range(len(pairs))) or [self._no_merge],
            tf.string, tf.int64, self._no_merge)
        tokens, ids = list(vocabulary), list(vocabulary.values())
        self._token_to_id = _static_table(tokens, ids, tf.string, tf.int64, -1)
        self._id_to_token = _static_table(ids, tokens, tf.int64, tf.string, "")
        self._unsplittable_pattern = "|".join(
            _re2_escape(token)
            for token in sorted(set(unsplittable_tokens), key=len, reverse=True)
        )

    @property
    def vocabulary_size(self):
        """One more than the largest id: the embedding rows a model needs."""
        return max(self._id_tokens, default=-1) + 1

    @property
    def vocabulary(self):
        """A copy of the vocabulary, dict token -> id."""
        return dict(self._token_ids)

    @property
    def merges(self):
        """The merges, "a b" strings in rank order."""
        return list(self._merges)

    @property
    def end_of_text_id(self):
        """The id of "<|endoftext|>", or None when the vocabulary has none."""
        return self._token_ids.get(_END_OF_TEXT)

    def token_to_id(self, token):
        """The id of a vocabulary token (a Python int)."""
        if token not in self._token_ids:
            raise ValueError(f"Token {token!r} is not in the vocabulary.")
        return self._token_ids[token]

    def id_to_token(self, id):
        """The vocabulary token of an id, as written in vocab.json."""
        if isinstance(id, bool) or not isinstance(id, int) or id not in self._id_tokens:
            raise ValueError(f"No token has the id {id!r}.")
        return self._id_tokens[id]

    def _merge(self, symbols):
        """BPE on words of symbols [U, (symbols)] -> tokens [U, (tokens)].

        Each step merges, in every word, the adjacent pair of lowest rank
        wherever it occurs (OpenAI's encoder.py; transformers' priority queue
        gives the same), until no word has a pair in the merges.
        """
        num_words = symbols.nrows()

        def merge_best_pairs(values, row_splits, _):
            count = tf.size(values, out_type=tf.int64)
            row_ids = tf.ragged.row_splits_to_segment_ids(row_splits)
            index = tf.range(count)
            # Pair i is symbols i and i + 1 of one word.
            has_pair = index + 1 < tf.gather(row_splits[1:], row_ids)
            following = tf.gather(values, tf.minimum(index + 1, count - 1))
            ranks = self._merge_ranks.lookup(
                tf.strings.join([values, following], separator=" "))
            ranks = tf.where(has_pair, ranks, self._no_merge)
            best = tf.math.unsorted_segment_min(ranks, row_ids, num_words)
            is_best = (ranks == tf.gather(best, row_ids)) & (ranks < self._no_merge)
            candidates = tf.where(is_best)[:, 0]
            # Occurrences overlap only in runs of one symbol ("a a a" and the
            # pair "a a"); there, as in encoder.py, every second one from the
            # left merges.
            previous = tf.concat([[-2], candidates], axis=0)[:-1]
            run_ids = tf.cumsum(tf.cast(candidates != previous + 1, tf.int64)) - 1
            run_starts = tf.math.segment_min(candidates, run_ids)
            chosen = tf.boolean_mask(
                candidates, (candidates - tf.gather(run_starts, run_ids)) % 2 == 0)
            merged = tf.strings.join(
                [tf.gather(values, chosen), tf.gather(values, chosen + 1)])
            values = tf.tensor_scatter_nd_update(values, chosen[:, None], merged)
            keep = tf.tensor_scatter_nd_update(
                tf.ones([count], tf.bool), chosen[:, None] + 1,
                tf.zeros_like(chosen, tf.bool))
            row_lengths = tf.math.unsorted_segment_sum(
                tf.cast(keep, tf.int64), row_ids, num_words)
            row_splits = tf.concat([[0], tf.cumsum(row_lengths)], axis=0)
            return tf.boolean_mask(values, keep), row_splits, tf.size(chosen) > 0

        values, row_splits, _ = tf.while_loop(
            lambda values, row_splits, merged_some: merged_some,
            merge_best_pairs,
            (symbols.flat_values, symbols.row_splits, tf.constant(True)),
            shape_invariants=(tf.TensorShape([None]), tf.TensorShape([None]),
                              tf.TensorShape([])),
        )
        return tf.RaggedTensor.from_row_splits(values, row_splits, validate=False)

    def _word_ids(self, words):
        """Words [W] -> ids [W, (tokens)], each distinct word merged once."""
        distinct, index = tf.unique(words)
        symbols = tf.ragged.map_flat_values(
            self._byte_to_character.lookup, tf.strings.bytes_split(distinct))
        tokens = self._merge(symbols)
        ids = tf.ragged.map_flat_values(self._token_to_id.lookup, tokens)
        ids = tf.ragged.boolean_mask(ids, ids >= 0)
        return tf.gather(ids, index)

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string)])
    def _tokenize_batch(self, strings):
        # Invalid UTF-8 (never in a Python str) becomes U+FFFD, as in Python's
        # decode(errors="replace"), so no text holds the byte that marks cuts.
        strings = tf.strings.unicode_transcode(
            strings, "UTF-8", "UTF-8", errors="replace",
            replace_control_characters=False)
        pattern = self._unsplittable_pattern
        if pattern:
            parts = _cut_at_matches(strings, pattern, _CUT + b"\\0" + _CUT)
            is_special = tf.strings.regex_full_match(parts.flat_values, pattern)
        else:
            parts = tf.RaggedTensor.from_tensor(strings[:, tf.newaxis])
            is_special = tf.zeros_like(parts.flat_values, tf.bool)
        # parts: (B, (parts)); a special part has no words and one id.
        words = _split_words(tf.where(is_special, "", parts.flat_values))
        ids = tf.RaggedTensor.from_row_splits(  # (parts, (words), (tokens))
            self._word_ids(words.flat_values), words.row_splits)
        special_ids = tf.ragged.boolean_mask(  # (parts, (0 or 1))
            self._token_to_id.lookup(parts.flat_values)[:, tf.newaxis],
            is_special[:, tf.newaxis])
        ids = tf.concat([ids.merge_dims(1, 2), special_ids], axis=1)
        ids = tf.RaggedTensor.from_row_splits(ids, parts.row_splits).merge_dims(1, 2)
        return tf.cast(ids, tf.int32)

    def tokenize(self, strings):
        """Strings [B] -> int32 RaggedTensor [B, (tokens)]; scalar -> [tokens]."""
        strings = tf.convert_to_tensor(strings, dtype=tf.string)
        if strings.shape.rank == 0:
            return self._tokenize_batch(strings[tf.newaxis])[0]
        if strings.shape.rank != 1:
            raise ValueError(
                "Expected a string or a batch of strings of shape [batch]. "
                f"Received: shape={strings.shape}"
            )
        return self._tokenize_batch(strings)

    def __call__(self, strings):
        return self.tokenize(strings)

    @tf.function(input_signature=[tf.RaggedTensorSpec([None, None], tf.int64, 1)])
    def _detokenize_batch(self, ids):
        tokens = tf.ragged.map_flat_values(self._id_to_token.lookup, ids)
        characters = tf.strings.unicode_split(
            tf.strings.reduce_join(tokens, axis=1), "UTF-8")
        values = characters.flat_values
        byte_values = self._character_to_byte.lookup(values)
        # Characters outside the byte alphabet only come from added tokens
        # ("<|endoftext|>" is inside it); they stand for their own UTF-8.
        byte_values = tf.where(byte_values == "", values, byte_values)
        return tf.strings.reduce_join(characters.with_flat_values(byte_values), axis=1)

    def detokenize(self, ids):
        """Ids [B, (tokens)] (ragged or dense) -> strings [B]; [tokens] -> scalar.

        Returns the UTF-8 bytes the tokens stand for, exactly: the inverse of
        `tokenize`. Ids that cut a character in two give bytes that are not
        valid UTF-8; `tf.strings.unicode_transcode(..., errors="replace")`
        turns them into U+FFFD as transformers' `decode` does. Unknown ids are
        skipped.
        """
        if isinstance(ids, (list, tuple)):
            ids = tf.ragged.constant(ids, dtype=tf.int64)
        elif not isinstance(ids, tf.RaggedTensor):
            ids = tf.convert_to_tensor(ids)
        if ids.shape.rank not in (1, 2) or not ids.dtype.is_integer:
            raise ValueError(
                "Expected integer ids of shape [tokens] or [batch, tokens]. "
                f"Received: shape={ids.shape}, dtype={ids.dtype.name}"
            )
        unbatched = ids.shape.rank == 1
        if unbatched:
            ids = ids[tf.newaxis]
        if not isinstance(ids, tf.RaggedTensor):
            ids = tf.RaggedTensor.from_tensor(ids)
        strings = self._detokenize_batch(tf.cast(ids, tf.int64))
        return strings[0] if unbatched else strings

    def get_config(self):
        """The constructor arguments: `GPT2Tokenizer(**config)` is a copy."""
        return {
            "vocabulary": self.vocabulary,
            "merges": self.merges,
            "unsplittable_tokens": list(self.unsplittable_tokens),
        }

    @classmethod
    def from_pretrained(cls, path, **kwargs):
        """Loads vocab.json + merges.txt, or OpenAI's encoder.json + vocab.bpe.

        Args:
            path: a directory with either pair of files (Hugging Face's GPT-2
                and RoBERTa directories, `save_pretrained` output, or OpenAI's
                GPT-2 release).
            **kwargs: other constructor arguments (`unsplittable_tokens`).

        Raises:
            FileNotFoundError: naming the path and the files looked for.
        """
        path = os.fspath(path)
        if not os.path.isdir(path):
            raise FileNotFoundError(
                f"No such directory: {path!r}. Expected one with vocab.json and "
                "merges.txt, or encoder.json and vocab.bpe."
            )
        for vocab_name, merges_name in _FILE_LAYOUTS:
            vocab_path = os.path.join(path, vocab_name)
            merges_path = os.path.join(path, merges_name)
            if os.path.isfile(vocab_path) and os.path.isfile(merges_path):
                logging.info("Reading %s and %s from %s.", vocab_name, merges_name, path)
                return cls(vocab_path, merges_path, **kwargs)
        raise FileNotFoundError(
            f"{path!r} has neither vocab.json and merges.txt (Hugging Face) nor "
            f"encoder.json and vocab.bpe (OpenAI). It holds: {sorted(os.listdir(path))}"
        )

    def save_pretrained(self, path):
        """Writes vocab.json and merges.txt (with its "#version" header) to
        the directory `path`; `from_pretrained(path)` and transformers'
        `GPT2TokenizerFast.from_pretrained(path)` both load them."""
        path = os.fspath(path)
        os.makedirs(path, exist_ok=True)
        vocabulary = dict(sorted(self._token_ids.items(), key=lambda item: item[1]))
        with open(os.path.join(path, "vocab.json"), "w", encoding="utf-8") as file:
            json.dump(vocabulary, file, ensure_ascii=False)
        with open(os.path.join(path, "merges.txt"), "w", encoding="utf-8") as file:
            file.writelines(line + "\n" for line in (_MERGES_HEADER, *self._merges))


def _re2_escape(literal):
    """`literal` as an RE2 pattern: every character matched as itself."""
    return "".join(
        character if character.isalnum() and character.isascii() else
        f"\\x{{{ord(character):X}}}"
        for character in literal
    )
