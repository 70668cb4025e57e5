"""Pretraining examples: NSP pairs, FULL-SENTENCES, and the tf.data pipeline
on the shipped corpus with the real MiniLM vocabulary."""

import random

import numpy as np
import pytest

from tests.reference_models import minilm_path
from tfzoo.data.pretraining import (
    PretrainingData,
    full_sentences,
    pretraining_dataset,
    read_documents,
    sentence_pairs,
)
from tfzoo.data.samples import sample_path
from tfzoo.preprocessing import BertPreprocessor


def numbered_documents(count=20, sentences=6, length=5):
    """Token i*1000 + j*10 + k: document, sentence and position are readable."""
    return [[[d * 1000 + s * 10 + k for k in range(length)] for s in range(sentences)]
            for d in range(count)]


def test_sentence_pairs_follow_the_nsp_recipe():
    documents = numbered_documents()
    examples = sentence_pairs(documents, max_tokens=20, rng=random.Random(0))
    random_next = [label for _, _, label in examples]
    assert 0.35 < np.mean(random_next) < 0.65
    for a, b, label in examples:
        a_doc, b_doc = a[0] // 1000, b[0] // 1000
        assert all(t // 1000 == a_doc for t in a)
        if label == 0:
            # B continues A: same document, the sentence right after A's last.
            assert b_doc == a_doc and (b[0] % 1000) // 10 == (a[-1] % 1000) // 10 + 1
        else:
            assert b_doc != a_doc


def test_full_sentences_pack_contiguous_text():
    documents = numbered_documents(count=3)
    examples = full_sentences(documents, max_tokens=12)
    assert all(len(e) <= 12 for e in examples)
    flat = [t for e in examples for t in e]
    assert flat == [t for d in documents for s in d for t in s]


def test_read_documents(tmp_path):
    path = tmp_path / "corpus.txt"
    path.write_text("a b.\nc d.\n\n\ne f.\n")
    assert read_documents(str(path)) == [["a b.", "c d."], ["e f."]]
    (tmp_path / "empty.txt").write_text("\n\n")
    with pytest.raises(ValueError, match="No text in corpus"):
        read_documents(str(tmp_path / "empty.txt"))


@pytest.mark.parametrize("dynamic", [False, True], ids=["static", "dynamic"])
def test_pipeline_on_the_shipped_corpus(dynamic):
    preprocessor = BertPreprocessor.from_pretrained(minilm_path())
    config = PretrainingData(corpus=sample_path("pretraining_corpus.txt"), seq_length=64,
                             max_predictions=10, whole_word_masking=True,
                             dynamic_masking=dynamic)
    epoch_dataset, count = pretraining_dataset(config, preprocessor, batch_size=8)
    assert count > 100
    features, labels, weights = next(iter(epoch_dataset(0)))
    assert features["input_word_ids"].shape == (8, 64)
    assert features["masked_lm_positions"].shape == (8, 10)
    assert set(labels) == {"mlm_logits", "nsp_logits"} == set(weights)
    ids = features["input_word_ids"].numpy()
    assert (ids[:, 0] == 101).all()  # [CLS]
    assert set(np.unique(features["input_type_ids"].numpy())) == {0, 1}
    positions = features["masked_lm_positions"].numpy()
    chosen = weights["mlm_logits"].numpy() == 1
    masked_ids = ids[np.nonzero(chosen)[0], positions[chosen]]
    assert np.mean(masked_ids == 103) > 0.5  # mostly [MASK]

    # Static masking gives each example the same mask every epoch; dynamic does not.
    epochs = [masks_by_example(epoch_dataset(0)), masks_by_example(epoch_dataset(1))]
    common = epochs[0].keys() & epochs[1].keys()
    assert len(common) > 0.5 * count
    same = np.mean([epochs[0][k] == epochs[1][k] for k in common])
    if dynamic:
        assert same < 0.2
    else:
        assert same == 1.0
    # Either way an epoch is a deterministic function of its index: a resumed
    # run reads the same batches.
    first, again = next(iter(epoch_dataset(3))), next(iter(epoch_dataset(3)))
    np.testing.assert_array_equal(first[0]["input_word_ids"], again[0]["input_word_ids"])
    np.testing.assert_array_equal(first[0]["masked_lm_positions"],
                                  again[0]["masked_lm_positions"])


def masks_by_example(batches):
    """{original token ids: masked positions} for examples seen exactly once
    (the templated corpus repeats some), original ids restored from the labels."""
    masks, seen = {}, {}
    for features, labels, weights in batches:
        ids = features["input_word_ids"].numpy().copy()
        positions = features["masked_lm_positions"].numpy()
        chosen = weights["mlm_logits"].numpy() == 1
        rows = np.nonzero(chosen)[0]
        ids[rows, positions[chosen]] = labels["mlm_logits"].numpy()[chosen]
        for row in range(len(ids)):
            key = tuple(ids[row])
            seen[key] = seen.get(key, 0) + 1
            masks[key] = tuple(positions[row][chosen[row]])
    return {k: v for k, v in masks.items() if seen[k] == 1}
