"""XLNetPreprocessor against transformers' XLNetTokenizer on a SentencePiece
model trained here, with XLNet's special pieces at XLNet's ids (<unk> 0, <s> 1,
</s> 2, <cls> 3, <sep> 4, <pad> 5, <mask> 6, <eod> 7, <eop> 8) and its trainer
settings (control symbols, <eop> user-defined), on text generated here."""

import io
import json
import os
import random
import types

import numpy as np
import pytest
import tensorflow as tf

from tests.preprocessing.pairs import check_tuples_are_segments, check_unequal_pair_batches_fail
from tfzoo.data.samples import sample_path
from tfzoo.preprocessing.xlnet_preprocessor import XLNetPreprocessor

SEQ_LENGTH = 32
SPECIAL_IDS = {"<unk>": 0, "<s>": 1, "</s>": 2, "<cls>": 3, "<sep>": 4, "<pad>": 5,
               "<mask>": 6, "<eod>": 7, "<eop>": 8}
TEXTS = [
    "Riverton is a town of about 3,000 people, 12,34 or 5,6,",
    "It cost 12,345 dollars in 1987, or 45,000 in all.",
    "  Café   ``naïve''  résumé “curly” and ‘single’ quotes ",
    "Tab\there\nnew line\u00a0no-break\u3000ideographic\u2028line separator",
    "ＦＵＬＬ width ①② ﬁne, Ångström façade, a¨b",
    "東京 は 日本 です 😀 ok, ğ ş ı İ, नमस्ते, ΟΔΟΣ οδός",
    "zero\u200bwidth, control\x01char, A–B — C…",
    "",
    "   ",
]
PAIRS = [("Who lives in Riverton?", "About 3,000 people."), ("", "only B"), ("only A", "")]


def generated_text(count=300, seed=0):
    """Corpus sentences, and sentences with numbers, accents and quotes."""
    rng = random.Random(seed)
    with open(sample_path("pretraining_corpus.txt"), encoding="utf-8") as f:
        lines = [line.strip() for line in f if line.strip()][:1500]
    for _ in range(count):
        lines.append(f"In 19{rng.randrange(10, 99)}, it cost {rng.randrange(1, 99)},"
                     f"{rng.randrange(100, 999)} dollars, or {rng.randrange(2, 9)},5 each.")
    lines += ["Café naïve résumé “quoted” ``quoted'' façade", "Über straße ﬁne ①②",
              "東京 は 日本 です 😀", "ğ ş ı İ Ç नमस्ते", "οδός σας ΟΔΟΣ"] * 3
    return lines


def train_spiece(lines, vocab_size=400):
    import sentencepiece

    model = io.BytesIO()
    sentencepiece.SentencePieceTrainer.train(
        sentence_iterator=iter(lines), model_writer=model, vocab_size=vocab_size,
        model_type="unigram", unk_id=0, bos_id=1, eos_id=2, pad_id=-1,
        control_symbols=["<cls>", "<sep>", "<pad>", "<mask>", "<eod>"],
        user_defined_symbols=["<eop>"], character_coverage=1.0, num_threads=1,
        minloglevel=2)
    return model.getvalue()


@pytest.fixture(scope="module")
def spiece_dir(tmp_path_factory):
    directory = tmp_path_factory.mktemp("xlnet_spiece")
    (directory / "spiece.model").write_bytes(train_spiece(generated_text()))
    return str(directory)


@pytest.fixture(scope="module")
def reference(spiece_dir):
    from transformers import XLNetTokenizer

    return XLNetTokenizer.from_pretrained(spiece_dir)


@pytest.fixture
def preprocessor(spiece_dir):
    # Per test: the autouse seed fixture clears TF's kernel cache, and with it
    # TF Text's SentencePiece resource (see XLNetPreprocessor).
    return XLNetPreprocessor.from_pretrained(spiece_dir, seq_length=SEQ_LENGTH)


def test_special_ids_follow_xlnet(reference, preprocessor):
    assert {token: reference.convert_tokens_to_ids(token) for token in SPECIAL_IDS} == SPECIAL_IDS
    special = preprocessor.get_special_tokens_dict()
    assert special == {"vocab_size": 400, "end_of_segment_id": 4, "cls_id": 3, "padding_id": 5,
                       "mask_id": 6, "unk_id": 0}


def test_ids_equal_transformers(reference, preprocessor):
    ours = preprocessor.tokenize(tf.constant(TEXTS)).to_list()
    theirs = [reference(text, add_special_tokens=False)["input_ids"] for text in TEXTS]
    assert ours == theirs
    # The checks are not vacuous: numbers, accents and quotes are pieces.
    pieces = reference.convert_ids_to_tokens(theirs[0] + theirs[2])
    assert "3," in pieces or "▁3," in pieces
    assert '"' in pieces or '▁"' in pieces or 0 in theirs[2]


def test_lower_case_equals_transformers(spiece_dir):
    from transformers import XLNetTokenizer

    reference = XLNetTokenizer.from_pretrained(spiece_dir, do_lower_case=True)
    ours = XLNetPreprocessor.from_pretrained(spiece_dir, lower_case=True)
    assert ours.tokenize(tf.constant(TEXTS)).to_list() == [
        reference(text, add_special_tokens=False)["input_ids"] for text in TEXTS]


def test_keep_accents(spiece_dir):
    # transformers 5 strips accents whatever keep_accents says; XLNet's own
    # code (and transformers 4) keep them when asked to.
    text = tf.constant(["Café naïve"])
    kept = XLNetPreprocessor.from_pretrained(spiece_dir, keep_accents=True)
    stripped = XLNetPreprocessor.from_pretrained(spiece_dir)
    assert kept.tokenize.normalize(text).numpy()[0].decode() == "Café naïve"
    assert stripped.tokenize.normalize(text).numpy()[0].decode() == "Cafe naive"
    assert kept.tokenize(text).to_list() != stripped.tokenize(text).to_list()


def test_packing_equals_transformers(reference, preprocessor):
    singles = preprocessor(tf.constant(TEXTS))
    expected = reference(TEXTS, padding="max_length", max_length=SEQ_LENGTH, truncation=True,
                         return_token_type_ids=True, return_tensors="np")
    first, second = zip(*PAIRS)
    pairs = preprocessor([tf.constant(first), tf.constant(second)])
    expected_pairs = reference(list(first), list(second), padding="max_length",
                               max_length=SEQ_LENGTH, return_token_type_ids=True,
                               return_tensors="np")
    for ours, theirs in ((singles, expected), (pairs, expected_pairs)):
        np.testing.assert_array_equal(ours["input_word_ids"], theirs["input_ids"])
        np.testing.assert_array_equal(ours["input_mask"], theirs["attention_mask"])
        real = theirs["attention_mask"] == 1
        # A and its <sep> 0, B and its <sep> 1, <cls> 2 ...
        np.testing.assert_array_equal(ours["input_type_ids"].numpy()[real],
                                      theirs["token_type_ids"][real])
        # ... and padding 3 (transformers 5 pads type ids with 0; 4 and 3 pad
        # them with 3: the model only compares segment ids).
        assert (ours["input_type_ids"].numpy()[~real] == 3).all()
    ids = pairs["input_word_ids"].numpy()
    assert (ids[:, -1] == 3).all() and (ids[:, 0] == 5).all()  # <cls> last, padding first


def test_round_robin_trimming(preprocessor):
    a = tf.ragged.constant([list(range(10, 30))])
    b = tf.ragged.constant([list(range(40, 43))])
    packed = preprocessor.bert_pack_inputs([a, b], seq_length=12)
    # 12 = 9 tokens + <sep> <sep> <cls>: B keeps its 3 tokens, A the first 6.
    assert packed["input_word_ids"].numpy().tolist() == [
        [10, 11, 12, 13, 14, 15, 4, 40, 41, 42, 4, 3]]
    assert packed["input_type_ids"].numpy().tolist() == [[0] * 7 + [1] * 4 + [2]]


def test_number_comma_pieces_as_the_released_tokenizers(spiece_dir, tmp_path):
    """transformers' conversion of XLNet's tokenizer (tokenizer.json of the
    released checkpoints) lowers the scores of "digit + comma" pieces."""
    import sentencepiece
    from transformers.convert_slow_tokenizer import XLNetConverter

    model_file = os.path.join(spiece_dir, "spiece.model")
    processor = sentencepiece.SentencePieceProcessor(model_file=model_file)
    slow = types.SimpleNamespace(vocab_file=model_file, keep_accents=False, do_lower_case=False,
                                 convert_tokens_to_ids=processor.piece_to_id,
                                 handle_byte_fallback=False)
    converted = XLNetConverter(slow).converted()
    texts = TEXTS[:2] + ["1,2,3,4 and 9, 10, 11,"]
    theirs = [converted.encode(text, add_special_tokens=False).ids for text in texts]
    ours = XLNetPreprocessor(model_file, split_number_comma=True)
    assert ours.tokenize(tf.constant(texts)).to_list() == theirs
    plain = XLNetPreprocessor(model_file).tokenize(tf.constant(texts)).to_list()
    assert plain != theirs  # the setting matters on this text
    # from_pretrained recognises the lowered scores in tokenizer.json.
    with open(model_file, "rb") as f:
        (tmp_path / "spiece.model").write_bytes(f.read())
    converted.save(str(tmp_path / "tokenizer.json"))
    assert XLNetPreprocessor.from_pretrained(str(tmp_path)).split_number_comma
    assert not XLNetPreprocessor.from_pretrained(spiece_dir).split_number_comma


def test_save_pretrained_round_trip(preprocessor, tmp_path):
    from transformers import XLNetTokenizer

    preprocessor.save_pretrained(str(tmp_path))
    with open(tmp_path / "tokenizer_config.json") as f:
        assert json.load(f)["tokenizer_class"] == "XLNetTokenizer"
    restored = XLNetPreprocessor.from_pretrained(str(tmp_path), seq_length=SEQ_LENGTH)
    reference = XLNetTokenizer.from_pretrained(str(tmp_path))
    ours = restored.tokenize(tf.constant(TEXTS)).to_list()
    assert ours == preprocessor.tokenize(tf.constant(TEXTS)).to_list()
    assert ours == [reference(text, add_special_tokens=False)["input_ids"] for text in TEXTS]


def test_saved_model_export(preprocessor, tmp_path):
    module = tf.Module()
    module.preprocessor = preprocessor
    module.serve = tf.function(lambda texts: preprocessor(texts),
                               input_signature=[tf.TensorSpec([None], tf.string)])
    tf.saved_model.save(module, str(tmp_path))
    loaded = tf.saved_model.load(str(tmp_path))
    texts = tf.constant(TEXTS[:3])
    for key, value in preprocessor(texts).items():
        np.testing.assert_array_equal(loaded.serve(texts)[key], value)


def test_survives_reseeding(preprocessor):
    before = preprocessor.tokenize(tf.constant(TEXTS[:2])).to_list()
    tf.random.set_seed(7)  # deletes TF Text's SentencePiece resource
    assert preprocessor.tokenize(tf.constant(TEXTS[:2])).to_list() == before


def test_shipped_sample_model():
    preprocessor = XLNetPreprocessor.from_pretrained(sample_path("xlnet_spiece.model"))
    assert [preprocessor.special_token_ids[k] for k in
            ("unk", "bos", "eos", "cls", "sep", "pad", "mask", "eod", "eop")] == list(range(9))
    with open(sample_path("pretraining_corpus.txt"), encoding="utf-8") as f:
        lines = [line.strip() for line in f if line.strip()][:200]
    ids = preprocessor.tokenize(tf.constant(lines)).flat_values.numpy()
    assert 0 not in ids  # no <unk> on the text it was trained on


def test_bad_arguments(spiece_dir, tmp_path):
    model_file = os.path.join(spiece_dir, "spiece.model")
    with pytest.raises(ValueError, match="seq_length=2"):
        XLNetPreprocessor(model_file, seq_length=2)
    with pytest.raises(ValueError, match="lower_case='yes'"):
        XLNetPreprocessor(model_file, lower_case="yes")
    with pytest.raises(FileNotFoundError, match="No SentencePiece model"):
        XLNetPreprocessor.from_pretrained(str(tmp_path))
    preprocessor = XLNetPreprocessor(model_file)
    segment = tf.ragged.constant([[10, 11]])
    with pytest.raises(ValueError, match="one or two token tensors.*Received: 3 segments"):
        preprocessor.bert_pack_inputs([segment] * 3)
    with pytest.raises(ValueError, match=r"Received: shape=\(1, 2\)"):
        preprocessor.tokenize(tf.constant([["a", "b"]]))
    import sentencepiece

    plain = io.BytesIO()
    sentencepiece.SentencePieceTrainer.train(
        sentence_iterator=iter(generated_text(count=10)[:300]), model_writer=plain,
        vocab_size=60, minloglevel=2)
    with pytest.raises(ValueError, match=r"has no \['<cls>', '<sep>', '<pad>', '<mask>'\]"):
        XLNetPreprocessor(plain.getvalue())



def test_pairs_of_unequal_batch_sizes_are_an_error(preprocessor):
    check_unequal_pair_batches_fail(preprocessor)


def test_a_tuple_is_one_entry_per_segment(preprocessor):
    check_tuples_are_segments(preprocessor)
