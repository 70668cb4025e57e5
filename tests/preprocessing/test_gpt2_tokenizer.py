"""GPT2Tokenizer against transformers' GPT2TokenizerFast on the same files.

No GPT-2 vocabulary can be had offline: both load a byte-level BPE trained
for the session by `bpe_fixtures` (GPT-2's recipe, about 1,300 tokens), in
Hugging Face's and in OpenAI's file layout. The reference is told
`split_special_tokens=True` because GPT2Tokenizer tokenizes special-token
strings as text unless they are listed as unsplittable.
"""

import json
import os
import random

import numpy as np
import pytest
import tensorflow as tf
from transformers import GPT2TokenizerFast

from tests.preprocessing import bpe_fixtures
from tfzoo.export.verify import graph_ops, run_with_tf1_loader
from tfzoo.preprocessing.gpt2_tokenizer import (
    GPT2Tokenizer,
    _byte_alphabet,
    _split_words,
)

ALL_CASES = [text for texts in bpe_fixtures.CASES.values() for text in texts]
# Pieces of text whose joins stress pre-tokenization: whitespace runs before
# words, contractions, digits, marks, emoji sequences, NUL, special tokens.
FUZZ_PIECES = [
    " ", "  ", "    ", "\t", "\n", "\r\n", "\x0b", "\u00a0", "\u3000", "a", "b", "s",
    "ll", "the", "The", "'", "'s", "'t", "'ll", "'M", "1", "23", "3.5", ",", ".",
    "!", "-", "_", "é", "e\u0301", "中", "한", "ع", "🙂", "👍🏽", "👨‍👩‍👧", "\x00",
    "<|endoftext|>",
]


def fuzz_texts(count=3000, seed=0):
    rng = random.Random(seed)
    return ["".join(rng.choice(FUZZ_PIECES) for _ in range(rng.randint(0, 12)))
            for _ in range(count)]


def assert_same_ids(got, want, texts):
    """Equal lists of id lists; names the first differing texts."""
    different = [(text, g, w) for text, g, w in zip(texts, got, want) if g != w]
    assert not different, different[:3]
    assert len(got) == len(want) == len(texts)


@pytest.fixture(scope="session")
def gpt2_dir(tmp_path_factory):
    return bpe_fixtures.train_byte_level_bpe(
        tmp_path_factory.mktemp("gpt2_bpe"), bpe_fixtures.GPT2_SPECIAL_TOKENS)


@pytest.fixture(scope="module")
def tokenizer(gpt2_dir):
    return GPT2Tokenizer.from_pretrained(gpt2_dir)


@pytest.fixture(scope="module")
def reference(gpt2_dir):
    return GPT2TokenizerFast.from_pretrained(gpt2_dir, split_special_tokens=True)


@pytest.mark.parametrize("case", list(bpe_fixtures.CASES))
def test_ids_match_reference(tokenizer, reference, case):
    texts = bpe_fixtures.CASES[case]
    got = tokenizer(tf.constant(texts)).to_list()
    assert_same_ids(got, reference(texts)["input_ids"], texts)


def test_training_and_held_out_text_match_reference(tokenizer, reference):
    texts = bpe_fixtures.corpus_lines(seed=0) + bpe_fixtures.corpus_lines(seed=1)
    assert_same_ids(tokenizer(texts).to_list(), reference(texts)["input_ids"], texts)


def test_random_joins_match_reference(tokenizer, reference):
    texts = fuzz_texts()
    assert_same_ids(tokenizer(texts).to_list(), reference(texts)["input_ids"], texts)


def test_words_match_reference_pre_tokenizer_for_every_code_point(reference):
    """The words BPE merges within, for each character of the planes that have
    assigned ones (0-3 and 14) after a letter, twice after a space and before
    a digit: letters, digits, whitespace and the rest must be classed alike."""
    code_points = [c for plane in (0, 1, 2, 3, 14)
                   for c in range(plane << 16, (plane + 1) << 16)
                   if not 0xD800 <= c <= 0xDFFF]
    texts = [f"a{chr(c)} {chr(c)}{chr(c)}1" for c in code_points]
    words = _split_words(tf.constant(texts)).to_list()
    pre_tokenizer = reference.backend_tokenizer.pre_tokenizer
    characters = dict(zip(*_byte_alphabet()))  # b"\x00" -> "Ā", as in vocab.json
    different = []
    for code_point, text, row in zip(code_points, texts, words):
        ours = ["".join(characters[bytes([b])] for b in word) for word in row]
        if ours != [word for word, _ in pre_tokenizer.pre_tokenize_str(text)]:
            different.append(f"U+{code_point:04X}")
    assert not different, different[:20]


def test_overlapping_pairs_merge_left_to_right():
    """Runs of one symbol ("a a a" and the merge "a a") as transformers merges
    them; characters missing from the vocabulary are dropped, as there."""
    vocabulary = {"a": 0, "aa": 1, "aaa": 2, "aaaa": 3, "b": 4}
    merges = [("a", "a"), ("aa", "aa"), ("aa", "a")]
    ours = GPT2Tokenizer(vocabulary, [" ".join(merge) for merge in merges])
    theirs = GPT2TokenizerFast(vocab=vocabulary, merges=merges)
    texts = ["a" * n + suffix for n in range(1, 12) for suffix in ("", "b", "c")]
    assert_same_ids(ours(texts).to_list(), theirs(texts)["input_ids"], texts)


def test_detokenize_inverts_tokenize(tokenizer, reference):
    texts = ALL_CASES + fuzz_texts(500, seed=1)
    ids = tokenizer(texts)
    got = [text.decode("utf-8") for text in tokenizer.detokenize(ids).numpy()]
    assert got == texts
    assert got == [reference.decode(row) for row in ids.to_list()]


def test_detokenize_input_forms(tokenizer):
    text = "Hello  wörld 🙂"
    ids = tokenizer(text)
    assert tokenizer.detokenize(ids).numpy().decode() == text  # [tokens] -> scalar
    rows = [ids.numpy().tolist(), ids.numpy().tolist()[:2]]
    assert tokenizer.detokenize(rows).shape == [2]  # a Python list of lists
    dense = np.stack([ids.numpy(), ids.numpy()]).astype("int64")
    assert tokenizer.detokenize(dense).numpy().tolist() == [text.encode()] * 2
    assert tokenizer.detokenize([]).numpy() == b""
    # A cut character gives its bytes as they are.
    cut = tokenizer.detokenize([tokenizer.token_to_id("ð")]).numpy()
    assert cut == "🙂".encode()[:1]


def test_unsplittable_tokens_match_reference_special_tokens(gpt2_dir, tokenizer):
    texts = ["a<|endoftext|>b", "<|endoftext|><|endoftext|>", " <|endoftext|> x\n",
             "doc one.<|endoftext|>doc two", "<|endoftext", "no special"]
    ours = GPT2Tokenizer.from_pretrained(gpt2_dir, unsplittable_tokens=["<|endoftext|>"])
    theirs = GPT2TokenizerFast.from_pretrained(gpt2_dir)
    assert_same_ids(ours(texts).to_list(), theirs(texts)["input_ids"], texts)
    default = tokenizer(texts[0]).numpy().tolist()
    assert tokenizer.end_of_text_id not in default  # text, by default
    assert ours.detokenize(ours(texts)).numpy().tolist() == [t.encode() for t in texts]


def test_openai_layout_gives_the_same_ids(gpt2_dir, tokenizer, tmp_path):
    openai_dir = bpe_fixtures.write_openai_layout(gpt2_dir, tmp_path)
    assert sorted(os.listdir(openai_dir)) == ["encoder.json", "vocab.bpe"]
    from_directory = GPT2Tokenizer.from_pretrained(openai_dir)
    from_files = GPT2Tokenizer(os.path.join(openai_dir, "encoder.json"),
                               os.path.join(openai_dir, "vocab.bpe"))
    want = tokenizer(ALL_CASES).to_list()
    assert from_directory(ALL_CASES).to_list() == want
    assert from_files(ALL_CASES).to_list() == want


def test_from_pretrained_names_what_is_missing(gpt2_dir, tmp_path):
    with pytest.raises(FileNotFoundError, match="nowhere"):
        GPT2Tokenizer.from_pretrained(tmp_path / "nowhere")
    (tmp_path / "vocab.json").write_text("{}")  # merges.txt is missing
    with pytest.raises(FileNotFoundError, match="merges.txt.*encoder.json") as error:
        GPT2Tokenizer.from_pretrained(tmp_path)
    assert str(tmp_path) in str(error.value)
    with pytest.raises(FileNotFoundError, match="no_merges.txt"):
        GPT2Tokenizer(os.path.join(gpt2_dir, "vocab.json"), tmp_path / "no_merges.txt")


def test_input_forms(tokenizer, reference):
    want = reference("Hello world")["input_ids"]
    scalar = tokenizer("Hello world")  # a Python str -> [tokens]
    assert isinstance(scalar, tf.Tensor) and scalar.dtype == tf.int32
    assert scalar.numpy().tolist() == want
    assert tokenizer(tf.constant("Hello world")).numpy().tolist() == want
    batch = tokenizer(["Hello world", ""])  # a list of str -> [B, (tokens)]
    assert isinstance(batch, tf.RaggedTensor) and batch.dtype == tf.int32
    assert batch.to_list() == [want, []]
    assert tokenizer(tf.constant([], tf.string)).shape.as_list() == [0, None]
    with pytest.raises(ValueError, match=r"shape=\(1, 1\)"):
        tokenizer(tf.constant([["Hello"]]))


def test_in_tf_data(tokenizer):
    texts = ALL_CASES
    batched = tf.data.Dataset.from_tensor_slices(texts).batch(8).map(tokenizer)
    got = [row for batch in batched for row in batch.to_list()]
    assert got == tokenizer(texts).to_list()
    single = tf.data.Dataset.from_tensor_slices(texts[:5]).map(tokenizer)
    assert [ids.numpy().tolist() for ids in single] == got[:5]


def test_in_tf_function_with_string_signature(tokenizer):
    function = tf.function(tokenizer, input_signature=[tf.TensorSpec([None], tf.string)])
    output = function.get_concrete_function().structured_outputs
    assert output.shape.as_list() == [None, None] and output.dtype == tf.int32
    texts = tf.constant(bpe_fixtures.CASES["code"])
    assert function(texts).to_list() == tokenizer(texts).to_list()
    round_trip = tf.function(lambda s: tokenizer.detokenize(tokenizer(s)),
                             input_signature=[tf.TensorSpec([None], tf.string)])
    assert round_trip(texts).numpy().tolist() == texts.numpy().tolist()


def test_saved_model_loads_like_tf_serving(tokenizer, tmp_path):
    """TF Serving's loader (TF1 session, restore then init ops) in a fresh
    process, on an export whose ops are all core TensorFlow ops."""
    module = tf.Module()
    module.tokenizer = tokenizer

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string, name="text")])
    def serve(text):
        ids = tokenizer(text)
        return {"ids": ids.to_tensor(), "lengths": ids.row_lengths(),
                "text": tokenizer.detokenize(ids)}

    tf.saved_model.save(module, str(tmp_path), signatures={"serving_default": serve})
    assert all(hasattr(tf.raw_ops, op) for op in graph_ops(str(tmp_path)))
    texts = ["Hello  world!", "café 中文 🙂\n\n", "    return x"]
    served = run_with_tf1_loader(str(tmp_path), {"text": texts})
    want = tokenizer(texts).to_list()
    assert [row[:n] for row, n in zip(served["ids"], served["lengths"])] == want
    assert served["text"] == texts


def test_vocabulary_properties(tokenizer, reference, gpt2_dir):
    with open(os.path.join(gpt2_dir, "vocab.json"), encoding="utf-8") as file:
        vocabulary = json.load(file)
    assert tokenizer.vocabulary_size == len(vocabulary) == len(reference)
    assert tokenizer.vocabulary == vocabulary
    assert tokenizer.end_of_text_id == reference.eos_token_id
    for token in ("<|endoftext|>", "Ġthe", "a", "Ċ"):
        index = tokenizer.token_to_id(token)
        assert index == reference.convert_tokens_to_ids(token)
        assert tokenizer.id_to_token(index) == token
    no_end = GPT2Tokenizer({"a": 0, "b": 1, "ab": 2}, ["a b"])
    assert no_end.end_of_text_id is None and no_end.vocabulary_size == 3
    no_merges = GPT2Tokenizer({"a": 0, "b": 5}, [])
    assert no_merges(["ab", ""]).to_list() == [[0, 5], []]
    assert no_merges.vocabulary_size == 6  # ids need not be contiguous
    with pytest.raises(ValueError, match="'zzz' is not in the vocabulary"):
        tokenizer.token_to_id("zzz")
    for index in (10**6, -1, "3", 2.0):
        with pytest.raises(ValueError, match=f"id {index!r}"):
            tokenizer.id_to_token(index)


def test_save_pretrained_round_trip(tokenizer, tmp_path):
    tokenizer.save_pretrained(tmp_path)
    assert sorted(os.listdir(tmp_path)) == ["merges.txt", "vocab.json"]
    with open(tmp_path / "merges.txt", encoding="utf-8") as file:
        assert file.readline() == "#version: 0.2\n"
    texts = ALL_CASES
    want = tokenizer(texts).to_list()
    restored = GPT2Tokenizer.from_pretrained(tmp_path)
    assert restored(texts).to_list() == want
    assert restored.vocabulary == tokenizer.vocabulary
    assert restored.merges == tokenizer.merges
    theirs = GPT2TokenizerFast.from_pretrained(str(tmp_path), split_special_tokens=True)
    assert_same_ids(want, theirs(texts)["input_ids"], texts)
    copy = GPT2Tokenizer(**tokenizer.get_config())
    assert copy(texts).to_list() == want


def test_bad_arguments(tmp_path):
    vocabulary, merges = {"a": 0, "b": 1, "ab": 2}, ["a b"]
    with pytest.raises(ValueError, match="vocabulary of type int"):
        GPT2Tokenizer(42, merges)
    with pytest.raises(ValueError, match="vocabulary of type dict with 0 tokens"):
        GPT2Tokenizer({}, [])
    with pytest.raises(ValueError, match="'b': -1"):
        GPT2Tokenizer({"a": 0, "b": -1}, [])
    with pytest.raises(ValueError, match="'a': True"):
        GPT2Tokenizer({"a": True}, [])
    with pytest.raises(ValueError, match="'a' and 'b' have the same id 0"):
        GPT2Tokenizer({"a": 0, "b": 0}, [])
    with pytest.raises(ValueError, match="merges of type int"):
        GPT2Tokenizer(vocabulary, 7)
    with pytest.raises(ValueError, match="merge 0 = 'a b ab'"):
        GPT2Tokenizer(vocabulary, ["a b ab"])
    with pytest.raises(ValueError, match="merge 1 = 'ab'"):
        GPT2Tokenizer(vocabulary, ["a b", "ab"])
    with pytest.raises(ValueError, match="'ba', which is not in the vocabulary"):
        GPT2Tokenizer(vocabulary, ["b a"])
    with pytest.raises(ValueError, match="Merge 1 .* repeats merge 0"):
        GPT2Tokenizer(vocabulary, ["a b", "a b"])
    with pytest.raises(ValueError, match="Received: '<s>'"):
        GPT2Tokenizer(vocabulary, merges, unsplittable_tokens=["<s>"])
    with pytest.raises(FileNotFoundError, match="no_vocab.json"):
        GPT2Tokenizer(tmp_path / "no_vocab.json", merges)
    tokenizer = GPT2Tokenizer(vocabulary, merges)
    with pytest.raises(ValueError, match=r"shape=\(1, 1, 1\)"):
        tokenizer.detokenize(tf.zeros([1, 1, 1], tf.int32))
    with pytest.raises(ValueError, match="dtype=float32"):
        tokenizer.detokenize(tf.zeros([1, 2]))
