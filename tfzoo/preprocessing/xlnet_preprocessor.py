"""XLNet preprocessing in the graph: SentencePiece and XLNet's packing.

Text -> ids the way XLNet was trained (Yang et al. 2019, section 3.1: a
32,000-piece SentencePiece unigram model; inputs `A <sep> B <sep> <cls>` with
<cls> last and the padding on the left), with the BERT preprocessor's TF Hub
interface (`tokenize`, `bert_pack_inputs`, `get_special_tokens_dict`). Only
core TF and TF Text ops, so it runs in `tf.data` under any Keras backend and
exports in a SavedModel.
"""

import json
import os
import struct

import tensorflow as tf
import tensorflow_text as text
from absl import logging

from tfzoo.preprocessing.packing import (
    check_same_batch,
    check_seq_length,
    text_segments,
    token_lists,
)

SPIECE_MODEL = "spiece.model"
_SPECIAL_TOKENS = {"unk": "<unk>", "bos": "<s>", "eos": "</s>", "cls": "<cls>", "sep": "<sep>",
                   "pad": "<pad>", "mask": "<mask>", "eod": "<eod>", "eop": "<eop>"}
_REQUIRED = ("unk", "cls", "sep", "pad", "mask")
# Segment ids of XLNet's inputs (transformers' XLNetTokenizer): A and its
# <sep> 0, B and its <sep> 1, <cls> 2, padding 3. The model only compares
# them (same segment or not, section 2.5).
CLS_TYPE_ID = 2
PAD_TYPE_ID = 3
# Unicode White_Space: what transformers' WhitespaceSplit splits on (RE2's
# \s is ASCII only).
_WHITESPACE = r"[\t\n\x0B\f\r \x{85}\x{A0}\x{1680}\x{2000}-\x{200A}\x{2028}\x{2029}" \
              r"\x{202F}\x{205F}\x{3000}]+"
# How much transformers lowers the scores of pieces that end in a digit and a comma.
_NUMBER_COMMA_PENALTY = 100.0


# === The SentencePiece model proto, read and edited without the sentencepiece package ===
def _read_varint(data, position):
    value = shift = 0
    while True:
        byte = data[position]
        position += 1
        value |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            return value, position


def _varint(value):
    out = bytearray()
    while True:
        byte, value = value & 0x7F, value >> 7
        out.append(byte | (0x80 if value else 0))
        if not value:
            return bytes(out)


def _fields(data):
    """(field number, wire type, the field's bytes, its payload) of a message."""
    position = 0
    while position < len(data):
        start = position
        key, position = _read_varint(data, position)
        number, wire_type = key >> 3, key & 7
        if wire_type == 0:
            payload, position = _read_varint(data, position)
        elif wire_type == 2:
            length, position = _read_varint(data, position)
            payload, position = data[position:position + length], position + length
        elif wire_type in (1, 5):
            width = 8 if wire_type == 1 else 4
            payload, position = data[position:position + width], position + width
        else:
            raise ValueError(f"Not a SentencePiece model: protobuf wire type {wire_type}.")
        yield number, wire_type, data[start:position], payload


def sentencepiece_pieces(model):
    """[(piece, score)] of a serialized SentencePiece ModelProto, in id order."""
    pieces = []
    for number, wire_type, _, payload in _fields(model):
        if number == 1 and wire_type == 2:  # ModelProto.pieces
            piece, score = "", 0.0
            for field, field_type, _, value in _fields(payload):
                if field == 1 and field_type == 2:
                    piece = value.decode("utf-8")
                elif field == 2 and field_type == 5:
                    score = struct.unpack("<f", value)[0]
            pieces.append((piece, score))
    return pieces


def is_number_comma(piece):
    """Whether a piece ends in a digit and a comma ("▁3,"), as XLNet's code checks."""
    return len(piece) >= 2 and piece[-1] == "," and piece[-2].isdigit()


def penalize_number_comma(model):
    """The model with the score of every "digit + comma" piece lowered by 100.

    Original XLNet re-splits such pieces ("3," -> "3" ","); transformers'
    conversion to a fast tokenizer (the tokenizer.json of the released
    checkpoints) instead lowers their scores so that the unigram search
    avoids them. This does the latter.
    """
    out = bytearray()
    for number, wire_type, raw, payload in _fields(model):
        if number != 1 or wire_type != 2:
            out += raw
            continue
        fields = list(_fields(payload))
        piece = next((v.decode("utf-8") for f, t, _, v in fields if f == 1 and t == 2), "")
        if not is_number_comma(piece):
            out += raw
            continue
        score = next((struct.unpack("<f", v)[0] for f, t, _, v in fields if f == 2 and t == 5),
                     0.0)
        body = b"".join(r for f, t, r, _ in fields if not (f == 2 and t == 5))
        body += _varint(2 << 3 | 5) + struct.pack("<f", score - _NUMBER_COMMA_PENALTY)
        out += _varint(1 << 3 | 2) + _varint(len(body)) + body
    return bytes(out)


def _read_model(spiece_model):
    if isinstance(spiece_model, bytes):
        return spiece_model
    if isinstance(spiece_model, (str, os.PathLike)):
        path = os.fspath(spiece_model)
        if os.path.isdir(path):
            path = os.path.join(path, SPIECE_MODEL)
        if not os.path.isfile(path):
            raise FileNotFoundError(f"No SentencePiece model at {path!r}.")
        with open(path, "rb") as file:
            return file.read()
    raise ValueError(
        "`spiece_model` must be the path of a spiece.model or its bytes. "
        f"Received: spiece_model of type {type(spiece_model).__name__}")


def _string_batch(strings):
    strings = tf.convert_to_tensor(strings, dtype=tf.string)
    if strings.shape.rank == 0:
        return strings[tf.newaxis]
    if strings.shape.rank is not None and strings.shape.rank != 1:
        raise ValueError(
            f"Expected a batch of strings of shape [batch]. Received: shape={strings.shape}")
    return strings


class _Tokenize(tf.Module):
    """`XLNetPreprocessor.tokenize`: strings [B] -> piece ids [B, (tokens)].

    transformers' XLNetTokenizer normalisation, then SentencePiece (whose own
    normaliser, nmt_nfkc for XLNet's model, runs inside the op).
    """

    def __init__(self, model, lower_case, keep_accents, remove_space, special_tokens):
        super().__init__(name="tokenize")
        self._lower_case = lower_case
        self._keep_accents = keep_accents
        self._remove_space = remove_space
        self._special_tokens = special_tokens
        self._model = model
        self.sentencepiece = text.SentencepieceTokenizer(model=model, out_type=tf.int32)

    def normalize(self, strings):
        """The text SentencePiece sees: quotes, accents, case, spaces as XLNet's tokenizer."""
        strings = tf.strings.unicode_transcode(
            _string_batch(strings), "UTF-8", "UTF-8", errors="replace",
            replace_control_characters=False)
        # LaTeX-style quotes `` and '' become ".
        strings = tf.strings.regex_replace(strings, "``|''", '"')
        if not self._keep_accents:
            strings = text.normalize_utf8(strings, "NFKD")
            strings = tf.strings.regex_replace(strings, r"\p{M}", "")
        if self._lower_case:
            # transformers lower-cases character by character: a final capital
            # sigma becomes σ, not the ς of ICU's context rule.
            strings = tf.strings.regex_replace(strings, "\u03a3", "\u03c3")
            strings = tf.strings.lower(strings, encoding="utf-8")
        if self._remove_space:
            strings = tf.strings.strip(tf.strings.regex_replace(strings, _WHITESPACE, " "))
        return strings

    def _run(self, method, strings):
        if tf.executing_eagerly():
            try:
                return getattr(self.sentencepiece, method)(strings)
            except tf.errors.NotFoundError:
                # tf.random.set_seed (and keras.utils.set_random_seed) clears
                # TF's kernel cache, which deletes TF Text's kernel-owned
                # SentencePiece model (its b/318839908): load it again.
                logging.info("The SentencePiece model resource was deleted; reloading it.")
                self.sentencepiece = text.SentencepieceTokenizer(model=self._model,
                                                                 out_type=tf.int32)
        return getattr(self.sentencepiece, method)(strings)

    def __call__(self, strings):
        return self._run("tokenize", self.normalize(strings))  # (B, (tokens))

    def with_offsets(self, strings):
        """(normalized strings [B], piece ids [B, (tokens)], start and end
        byte offsets of each piece in its normalized string [B, (tokens)]).

        A piece's bytes are end - start; a lone "▁" (the word boundary
        SentencePiece adds before a word) covers none."""
        strings = self.normalize(strings)
        return (strings,) + tuple(self._run("tokenize_with_offsets", strings))

    def get_special_tokens_dict(self):
        """TF Hub-style special token ids, as Python ints."""
        return dict(self._special_tokens)


class XLNetPreprocessor(tf.Module):
    """XLNet's text preprocessing as a `tf.Module` of TF and TF Text ops.

    Turns a batch of strings (or of string pairs) into XLNet's inputs: the
    SentencePiece ids of each segment, trimmed round-robin so that the
    segments, one <sep> after each and a final <cls> fit `seq_length`, then
    padded with <pad> ON THE LEFT, so that <cls>, the summary token the
    classifier reads, is always the last position:

        <pad> ... <pad>  A <sep> [B <sep>] <cls>
        type ids:  3 ... 3   0   0    1   1     2
        input_mask: 0 ... 0  1 ...                1

    (transformers' XLNetTokenizer: its post-processor and pad_token_type_id
    3; XLNet's own code pads with segment id 4, which the model treats the
    same: it only compares segment ids.) It is not a Keras layer, so it runs
    inside `tf.data` whatever the Keras backend.

    Normalisation (transformers' XLNetTokenizer): `` and '' become ",
    accents are removed (NFKD, then combining marks dropped) unless
    `keep_accents`, lower-casing if `lower_case`, whitespace runs collapse
    to one space (`remove_space`); SentencePiece then applies the model's
    own normaliser (XLNet: NFKC-based nmt_nfkc).

    Ids equal transformers' XLNetTokenizer loaded from the same spiece.model
    (tested on text with accents, curly and LaTeX quotes, numbers, odd
    whitespace, fullwidth forms, CJK and emoji). Known differences:

    - Special-token strings in the text ("<sep>") are matched by
      transformers, and here only when the model has them as user-defined
      symbols (XLNet's has <eop>; <cls>, <sep>, <pad>, <mask>, <eod> are
      control symbols, tokenized as text).
    - "3," pieces. XLNet's own code re-splits pieces that end in a digit and
      a comma ("▁3," -> "▁3" ","); transformers 4 converted that into scores
      lowered by 100 in tokenizer.json (so the released checkpoints' fast
      tokenizers avoid such pieces); transformers 5 building the tokenizer
      from spiece.model alone does neither. `split_number_comma=True` is the
      tokenizer.json behaviour (the unigram search avoids them; the result
      can differ from the re-split in rare cases); `from_pretrained` turns
      it on when the directory's tokenizer.json has the lowered scores.
    - `keep_accents=True` keeps accents; transformers 5's XLNetTokenizer
      strips them whatever the setting.
    - Pairs longer than `seq_length` are trimmed round-robin (TF Hub), not
      "longest_first" (transformers); single texts keep their first tokens
      in both.
    - Bytes that are not UTF-8 become U+FFFD before tokenization.

    TF Text keeps the SentencePiece model in a kernel-owned resource, which
    `tf.random.set_seed` / `keras.utils.set_random_seed` delete (they clear
    TF's kernel cache). Eager calls load it again; graphs traced earlier
    (`tf.function`, `tf.data`) fail with NotFoundError, so build those
    after seeding (as `tfzoo.training.trainer.train` does).

    Args:
        spiece_model: path of a spiece.model (or of a directory holding one),
            or its bytes. Must have <unk>, <cls>, <sep>, <pad> and <mask>.
        seq_length: int >= 3, length of the packed inputs. Defaults to 128.
        lower_case: bool, lower-case the text (XLNet's models are cased).
            Defaults to False.
        keep_accents: bool, keep accents. Defaults to False.
        remove_space: bool, collapse whitespace first. Defaults to True.
        split_number_comma: bool, avoid "digit + comma" pieces (see above).
            Defaults to False.
        name: name of the module.

    Call arguments:
        inputs: string tensor [B] for single segments, or a list/tuple of one
            or two string tensors [B] (pairs). A Python str or list of str
            is one segment; a tuple is always one entry per segment, as in
            keras-hub: ("Who?", "Me.") is one pair.

    Returns:
        dict of int32 tensors [B, seq_length]: `input_word_ids`, `input_mask`
        (1 for real tokens) and `input_type_ids`.

    Example:
    >>> preprocessor = XLNetPreprocessor.from_pretrained("xlnet_base_cased/")
    >>> inputs = preprocessor(tf.constant(["The café is open.", "Hi!"]))
    >>> inputs["input_word_ids"][:, -1]  # <cls>, id 3
    >>> pairs = preprocessor([tf.constant(["Who?"]), tf.constant(["Me."])])
    """

    def __init__(self, spiece_model, seq_length=128, lower_case=False, keep_accents=False,
                 remove_space=True, split_number_comma=False, name=None):
        super().__init__(name=name)
        model = _read_model(spiece_model)
        for flag, value in (("lower_case", lower_case), ("keep_accents", keep_accents),
                            ("remove_space", remove_space),
                            ("split_number_comma", split_number_comma)):
            if not isinstance(value, bool):
                raise ValueError(f"`{flag}` must be a bool. Received: {flag}={value!r}")
        self.seq_length = check_seq_length(seq_length, minimum=3)
        pieces = sentencepiece_pieces(model)
        if not pieces:
            raise ValueError("`spiece_model` holds no pieces: not a SentencePiece model.")
        ids = {piece: index for index, (piece, _) in reversed(list(enumerate(pieces)))}
        missing = [_SPECIAL_TOKENS[k] for k in _REQUIRED if _SPECIAL_TOKENS[k] not in ids]
        if missing:
            raise ValueError(
                f"The SentencePiece model has no {missing}. XLNet needs "
                f"{[_SPECIAL_TOKENS[k] for k in _REQUIRED]}. Received {len(pieces)} pieces "
                f"starting with {[p for p, _ in pieces[:9]]}")
        self.spiece_model = model  # the file as given; save_pretrained writes it
        self.lower_case = lower_case
        self.keep_accents = keep_accents
        self.remove_space = remove_space
        self.split_number_comma = split_number_comma
        self.special_token_ids = {key: ids[token] for key, token in _SPECIAL_TOKENS.items()
                                  if token in ids}
        special_tokens = {
            "vocab_size": len(pieces),
            "end_of_segment_id": ids["<sep>"],
            "cls_id": ids["<cls>"],
            "padding_id": ids["<pad>"],
            "mask_id": ids["<mask>"],
            "unk_id": ids["<unk>"],
        }
        self.tokenize = _Tokenize(
            penalize_number_comma(model) if split_number_comma else model,
            lower_case=lower_case, keep_accents=keep_accents, remove_space=remove_space,
            special_tokens=special_tokens)

    def get_special_tokens_dict(self):
        """Ids XLNet's heads and data need: `vocab_size`, `end_of_segment_id`
        (<sep>), `cls_id` (<cls>), `padding_id` (<pad>), `mask_id` (<mask>)
        and `unk_id`, as Python ints. There is no start-of-sequence token."""
        return self.tokenize.get_special_tokens_dict()

    def bert_pack_inputs(self, segments, seq_length=None):
        """Packs token ids into XLNet's inputs, like TF Hub's `bert_pack_inputs`.

        Args:
            segments: list of one or two int tensors, each [B, (tokens)]
                (from `tokenize`), [B, (words), (tokens)] or dense [B, T].
            seq_length: int >= len(segments) + 2, length of the outputs.
                Defaults to the constructor's `seq_length`.

        Returns:
            dict of int32 [B, seq_length]: `input_word_ids` (left padding, A
            <sep> [B <sep>] <cls>), `input_mask` and `input_type_ids`.
        """
        if not isinstance(segments, (list, tuple)) or not 1 <= len(segments) <= 2:
            received = (f"{len(segments)} segments" if isinstance(segments, (list, tuple))
                        else f"segments of type {type(segments).__name__}")
            raise ValueError("`segments` must be a list of one or two token tensors (XLNet "
                             f"packs single texts and pairs). Received: {received}")
        if seq_length is None:
            seq_length = self.seq_length
        seq_length = check_seq_length(seq_length, minimum=len(segments) + 2)
        special = self.get_special_tokens_dict()
        segments = check_same_batch([token_lists(segment) for segment in segments])
        trimmed = text.RoundRobinTrimmer(max_seq_length=seq_length - len(segments) - 1).trim(
            segments)
        pieces, types = [], []
        for index, tokens in enumerate(trimmed):
            separator = tf.fill([tokens.nrows(), 1], special["end_of_segment_id"])
            tokens = tf.concat([tokens, separator], axis=1)
            pieces.append(tokens)
            types.append(tf.ones_like(tokens) * index)
        cls = tf.fill([trimmed[0].nrows(), 1], special["cls_id"])
        pieces.append(tf.RaggedTensor.from_tensor(cls))
        types.append(tf.RaggedTensor.from_tensor(tf.fill(tf.shape(cls), CLS_TYPE_ID)))
        word_ids = tf.concat(pieces, axis=1)  # (B, (n))
        type_ids = tf.concat(types, axis=1)
        return {
            "input_word_ids": _pad_left(word_ids, seq_length, special["padding_id"]),
            "input_mask": _pad_left(tf.ones_like(word_ids), seq_length, 0),
            "input_type_ids": _pad_left(type_ids, seq_length, PAD_TYPE_ID),
        }

    def __call__(self, inputs):
        return self.bert_pack_inputs(
            [self.tokenize(s) for s in text_segments(inputs)])

    @classmethod
    def from_pretrained(cls, path, seq_length=128, **overrides):
        """Loads spiece.model (and tokenizer_config.json, when there is one)
        from a Hugging Face XLNet directory or `save_pretrained` output, or
        the path of a spiece.model.

        `lower_case` and `keep_accents` come from tokenizer_config.json
        (do_lower_case, keep_accents); `split_number_comma` is on when the
        directory's tokenizer.json lowers the "digit + comma" pieces' scores
        (transformers' conversion). `overrides` replace any of them.

        Raises:
            FileNotFoundError: naming the path when there is no spiece.model.
        """
        path = os.fspath(path)
        model = _read_model(path)
        directory = path if os.path.isdir(path) else os.path.dirname(path)
        kwargs = {}
        config_path = os.path.join(directory, "tokenizer_config.json")
        if os.path.isfile(config_path):
            with open(config_path, encoding="utf-8") as file:
                config = json.load(file)
            for ours, theirs in (("lower_case", "do_lower_case"), ("keep_accents", "keep_accents"),
                                 ("remove_space", "remove_space")):
                if theirs in config:
                    kwargs[ours] = bool(config[theirs])
        kwargs["split_number_comma"] = _penalized_in_tokenizer_json(directory, model)
        kwargs.update(overrides)
        return cls(model, seq_length=seq_length, **kwargs)

    def save_pretrained(self, path):
        """Writes spiece.model and tokenizer_config.json to the directory `path`;
        `from_pretrained(path)` and transformers' XLNetTokenizer both load
        them. `seq_length` is not saved: pass it to `from_pretrained`."""
        path = os.fspath(path)
        os.makedirs(path, exist_ok=True)
        with open(os.path.join(path, SPIECE_MODEL), "wb") as file:
            file.write(self.spiece_model)
        config = {
            "tokenizer_class": "XLNetTokenizer",
            "do_lower_case": self.lower_case,
            "keep_accents": self.keep_accents,
            "remove_space": self.remove_space,
            "padding_side": "left",
            **{f"{key}_token": token for key, token in _SPECIAL_TOKENS.items()
               if key in ("bos", "eos", "unk", "sep", "pad", "cls", "mask")},
            "additional_special_tokens": ["<eop>", "<eod>"],
        }
        with open(os.path.join(path, "tokenizer_config.json"), "w", encoding="utf-8") as file:
            json.dump(config, file, indent=2)


def _pad_left(ragged, length, value):
    """Ragged [B, (n)], n <= length -> dense [B, length], padded at the start."""
    ragged = tf.cast(ragged, tf.int32)
    dense = ragged.to_tensor(default_value=value, shape=[None, length])  # right-padded
    shift = length - tf.cast(ragged.row_lengths(), tf.int32)  # (B,)
    positions = tf.range(length)[tf.newaxis, :] - shift[:, tf.newaxis]  # (B, length)
    gathered = tf.gather(dense, tf.maximum(positions, 0), batch_dims=1)
    return tf.where(positions >= 0, gathered, value)


def _penalized_in_tokenizer_json(directory, model):
    """Whether directory/tokenizer.json scores "digit + comma" pieces 100 lower."""
    path = os.path.join(directory, "tokenizer.json")
    if not os.path.isfile(path):
        return False
    with open(path, encoding="utf-8") as file:
        vocab = json.load(file).get("model", {}).get("vocab") or []
    scores = dict(sentencepiece_pieces(model))
    for piece, score in (tuple(entry) for entry in vocab):
        if is_number_comma(piece) and piece in scores:
            penalized = score <= scores[piece] - _NUMBER_COMMA_PENALTY / 2
            logging.info("%s: tokenizer.json %s the scores of pieces like %r.", path,
                         "lowers" if penalized else "keeps", piece)
            return penalized
    return False
