"""RobertaPreprocessor against transformers' RobertaTokenizerFast, and TF Hub's
round-robin packing.

Both load a byte-level BPE trained for the session by `bpe_fixtures` with
RoBERTa's special tokens at RoBERTa's ids (<s> 0, <pad> 1, </s> 2, <unk> 3,
<mask> 4). The reference is told `split_special_tokens=True`: special-token
strings in the text are text here, as in BertPreprocessor. Round-robin
trimming, which transformers does not implement, is checked against a
plain-Python round robin over the reference's tokens.
"""

import json

import numpy as np
import pytest
import tensorflow as tf
from transformers import RobertaTokenizerFast

from tests.preprocessing import bpe_fixtures
from tests.preprocessing.pairs import check_tuples_are_segments, check_unequal_pair_batches_fail
from tfzoo.export.verify import run_with_tf1_loader
from tfzoo.preprocessing.gpt2_tokenizer import GPT2Tokenizer
from tfzoo.preprocessing.roberta_preprocessor import RobertaPreprocessor

SEQ_LENGTH = 40
KEYS = ("input_word_ids", "input_mask", "input_type_ids")
LONG_TEXT = (
    "RoBERTa, a Robustly Optimized BERT Pretraining Approach, drops next "
    "sentence prediction, masks dynamically and trains longer on more data "
    "with byte-level BPE: café, 中文, 🙂 and code like `x = y[::-1]` all fit."
)
PAIRS = [
    ("Who wrote it?", "Liu et al. wrote RoBERTa in 2019."),
    ("café naïve", "Straße  and\ttabs"),
    ("", "only the second"),
    ("中文 🙂👍🏽", ""),
    ("don't", "we'll\n\nsee"),
]


@pytest.fixture(scope="session")
def roberta_dir(tmp_path_factory):
    return bpe_fixtures.train_byte_level_bpe(
        tmp_path_factory.mktemp("roberta_bpe"), bpe_fixtures.ROBERTA_SPECIAL_TOKENS)


@pytest.fixture(scope="module")
def preprocessor(roberta_dir):
    return RobertaPreprocessor.from_pretrained(roberta_dir, seq_length=SEQ_LENGTH)


@pytest.fixture(scope="module")
def reference(roberta_dir):
    return RobertaTokenizerFast.from_pretrained(roberta_dir, split_special_tokens=True)


def reference_inputs(reference, texts, pairs=None, seq_length=SEQ_LENGTH,
                     truncation=False):
    encoded = reference(texts, pairs, max_length=seq_length, padding="max_length",
                        truncation=truncation, return_tensors="np")
    return {
        "input_word_ids": encoded["input_ids"],
        "input_mask": encoded["attention_mask"],
        "input_type_ids": np.zeros_like(encoded["input_ids"]),  # no segments
    }


def round_robin_inputs(reference, segments, seq_length):
    """RoBERTa's packing with TF Hub's trimming in plain Python; one row."""
    tokens = [reference(s, add_special_tokens=False)["input_ids"] for s in segments]
    budget = seq_length - 2 * len(tokens)
    kept = [0] * len(tokens)
    while budget > 0 and any(k < len(t) for k, t in zip(kept, tokens)):
        for i, t in enumerate(tokens):  # one token from each segment with one left
            if budget > 0 and kept[i] < len(t):
                kept[i] += 1
                budget -= 1
    bos, eos, pad = reference.bos_token_id, reference.eos_token_id, reference.pad_token_id
    word_ids = [bos]
    for i, t in enumerate(tokens):
        word_ids += ([eos] if i else []) + t[:kept[i]] + [eos]
    padding = seq_length - len(word_ids)
    return {
        "input_word_ids": word_ids + [pad] * padding,
        "input_mask": [1] * len(word_ids) + [0] * padding,
        "input_type_ids": [0] * seq_length,
    }


def assert_inputs_equal(got, want, rows):
    """Equal dicts of [B, seq_length]; `rows` names each row in messages."""
    assert set(got) == set(KEYS)
    for key in KEYS:
        assert got[key].dtype == tf.int32, key
        got_rows, want_rows = np.asarray(got[key]), np.asarray(want[key])
        assert got_rows.shape == want_rows.shape, key
        for row, got_row, want_row in zip(rows, got_rows, want_rows):
            np.testing.assert_array_equal(got_row, want_row, err_msg=f"{key} of {row!r}")


@pytest.mark.parametrize("case", list(bpe_fixtures.CASES))
def test_single_segments_match_reference(preprocessor, reference, case):
    texts = bpe_fixtures.CASES[case]
    want = reference_inputs(reference, texts, truncation=True)  # "a" * 300 is long
    assert_inputs_equal(preprocessor(tf.constant(texts)), want, texts)


def test_pairs_match_reference(preprocessor, reference):
    first, second = [list(texts) for texts in zip(*PAIRS)]
    got = preprocessor([tf.constant(first), tf.constant(second)])
    assert_inputs_equal(got, reference_inputs(reference, first, second), PAIRS)


def test_truncated_single_segments_match_reference(preprocessor, reference):
    texts = [LONG_TEXT, LONG_TEXT.upper(), "short"]
    want = reference_inputs(reference, texts, truncation=True)
    assert_inputs_equal(preprocessor(texts), want, texts)


@pytest.mark.parametrize("seq_length", [4, 7, 12, 30])
def test_segments_are_trimmed_round_robin(preprocessor, reference, seq_length):
    rows = [
        (LONG_TEXT, "A short answer."),
        ("Short question?", LONG_TEXT),
        (LONG_TEXT, LONG_TEXT.upper()),
        ("", LONG_TEXT),
        ("one two three four five", "six", "seven eight nine ten"),
    ]
    for segments in rows:
        if seq_length < 2 * len(segments):
            continue
        tokens = [preprocessor.tokenize([text]) for text in segments]
        got = preprocessor.bert_pack_inputs(tokens, seq_length=seq_length)
        want = round_robin_inputs(reference, segments, seq_length)
        for key in KEYS:
            np.testing.assert_array_equal(got[key][0], want[key],
                                          err_msg=f"{key} of {segments}")


def test_special_tokens_dict(preprocessor, reference):
    expected = {"vocab_size": len(reference), "start_of_sequence_id": 0,
                "end_of_segment_id": 2, "padding_id": 1, "mask_id": 4}
    assert preprocessor.get_special_tokens_dict() == expected
    assert preprocessor.tokenize.get_special_tokens_dict() == expected
    assert all(type(value) is int for value in expected.values())
    assert reference.mask_token_id == 4 and reference.cls_token_id == 0


def test_tokenize_gives_token_lists(preprocessor, reference):
    texts = ["Hello  world!", "", "中文 café 🙂"]
    tokens = preprocessor.tokenize(tf.constant(texts))
    assert isinstance(tokens, tf.RaggedTensor) and tokens.dtype == tf.int32
    assert tokens.ragged_rank == 1
    assert tokens.to_list() == reference(texts, add_special_tokens=False)["input_ids"]
    assert preprocessor.tokenize("Hello").shape.as_list() == [1, None]
    words = tf.RaggedTensor.from_uniform_row_length(tokens, 1)  # [B, (1), (tokens)]
    packed = preprocessor.bert_pack_inputs([words])
    assert_inputs_equal(packed, preprocessor(texts), texts)


def test_special_token_strings_are_text(preprocessor, roberta_dir, reference):
    texts = ["fill the <mask> in, </s><s> and <pad>"]
    got = preprocessor(texts)
    assert_inputs_equal(got, reference_inputs(reference, texts), texts)
    matched = RobertaTokenizerFast.from_pretrained(roberta_dir)(texts)["input_ids"][0]
    assert 4 in matched and 4 not in got["input_word_ids"][0].numpy().tolist()


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
    first = [text for texts in bpe_fixtures.CASES.values() for text in texts]
    second = list(reversed(first))
    singles = tf.data.Dataset.from_tensor_slices(first).batch(8).map(preprocessor)
    pairs = tf.data.Dataset.from_tensor_slices((first, second)).batch(8).map(
        lambda a, b: preprocessor([a, b]))
    for dataset, segments in ((singles, [first]), (pairs, [first, second])):
        got = {key: np.concatenate([batch[key] for batch in dataset]) for key in KEYS}
        eager = preprocessor([tf.constant(s) for s in segments])
        for key in KEYS:
            np.testing.assert_array_equal(got[key], eager[key])


def test_saved_model_loads_like_tf_serving(preprocessor, tmp_path):
    module = tf.Module()
    module.preprocessor = preprocessor
    pair_signature = [tf.TensorSpec([None], tf.string, name="first"),
                      tf.TensorSpec([None], tf.string, name="second")]
    module.serve = tf.function(lambda first, second: preprocessor([first, second]),
                               input_signature=pair_signature)
    tf.saved_model.save(module, str(tmp_path), signatures={"serving_default": module.serve})
    first, second = [list(texts) for texts in zip(*PAIRS)]
    want = preprocessor([tf.constant(first), tf.constant(second)])
    restored = tf.saved_model.load(str(tmp_path))
    for key, value in restored.serve(tf.constant(first), tf.constant(second)).items():
        np.testing.assert_array_equal(value, want[key])
    served = run_with_tf1_loader(str(tmp_path), {"first": first, "second": second})
    for key in KEYS:
        np.testing.assert_array_equal(served[key], want[key])


def test_save_and_load(preprocessor, tmp_path):
    texts = bpe_fixtures.CASES["unicode"] + bpe_fixtures.CASES["code"]
    preprocessor.save_pretrained(tmp_path)
    with open(tmp_path / "tokenizer_config.json", encoding="utf-8") as file:
        assert json.load(file)["tokenizer_class"] == "RobertaTokenizer"
    restored = RobertaPreprocessor.from_pretrained(tmp_path, seq_length=SEQ_LENGTH)
    assert_inputs_equal(restored(texts), preprocessor(texts), texts)
    theirs = RobertaTokenizerFast.from_pretrained(str(tmp_path), split_special_tokens=True)
    want = reference_inputs(theirs, texts, truncation=True)
    assert_inputs_equal(preprocessor(texts), want, texts)


def test_word_start_ids(preprocessor):
    starts = preprocessor.word_start_ids().numpy()
    tokenizer = preprocessor.tokenizer
    assert starts.shape == (tokenizer.vocabulary_size,)
    for token in ("<s>", "</s>", "<pad>", "<mask>", "Ġthe"):
        assert starts[tokenizer.token_to_id(token)], token
    for token in ("the", "a", "Ċ"):
        assert not starts[tokenizer.token_to_id(token)], token


def test_from_pretrained_names_what_is_missing(tmp_path):
    with pytest.raises(FileNotFoundError, match="vocab.json and merges.txt"):
        RobertaPreprocessor.from_pretrained(tmp_path)


def test_bad_arguments(preprocessor, roberta_dir):
    tokenizer = preprocessor.tokenizer
    for seq_length in (1, 0, "128", 2.5, True):
        with pytest.raises(ValueError, match=f"seq_length={seq_length!r}"):
            RobertaPreprocessor(tokenizer, seq_length=seq_length)
    with pytest.raises(ValueError, match="tokenizer of type str"):
        RobertaPreprocessor(roberta_dir)
    for missing in ("<s>", "</s>", "<pad>", "<unk>", "<mask>"):
        vocabulary = tokenizer.vocabulary
        del vocabulary[missing]
        with pytest.raises(ValueError, match=f"no {missing} token"):
            RobertaPreprocessor(GPT2Tokenizer(vocabulary, tokenizer.merges))
    pair = [preprocessor.tokenize("a"), preprocessor.tokenize("b")]
    with pytest.raises(ValueError, match="seq_length=3"):
        preprocessor.bert_pack_inputs(pair, seq_length=3)  # needs 4 special tokens
    with pytest.raises(ValueError, match="segments=\\[\\]"):
        preprocessor.bert_pack_inputs([])



def test_pairs_of_unequal_batch_sizes_are_an_error(preprocessor):
    check_unequal_pair_batches_fail(preprocessor)


def test_a_tuple_is_one_entry_per_segment(preprocessor):
    check_tuples_are_segments(preprocessor)
