"""Building WordPiece vocabularies from a corpus with tensorflow-text's learner."""

import os

import tensorflow as tf
from absl import logging

# BertPreprocessor's special tokens, in BERT's order of ids: translation uses
# [CLS] as the start and [SEP] as the end of a sequence.
RESERVED_TOKENS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]


def build_wordpiece_vocabulary(texts, vocab_size=8000, lower_case=True,
                               reserved_tokens=RESERVED_TOKENS):
    """Learns a WordPiece vocabulary (tensorflow_text's bert_vocab_from_dataset).

    Args:
        texts: iterable of strings.
        vocab_size: target size (the learner may return a little less).
        lower_case: lower-case (and strip accents) before learning, as the
            preprocessor will when it uses the vocabulary.
        reserved_tokens: tokens placed first, in order.

    Returns:
        list of tokens; reserved tokens first.
    """
    from tensorflow_text.tools.wordpiece_vocab import bert_vocab_from_dataset

    texts = [t for t in texts if t.strip()]
    if not texts:
        raise ValueError("No text to build a vocabulary from.")
    if vocab_size <= len(reserved_tokens):
        raise ValueError(f"vocab_size must exceed the {len(reserved_tokens)} reserved tokens. "
                         f"Received: vocab_size={vocab_size}")
    dataset = tf.data.Dataset.from_tensor_slices(texts).batch(1000)
    vocabulary = bert_vocab_from_dataset.bert_vocab_from_dataset(
        dataset, vocab_size=vocab_size, reserved_tokens=list(reserved_tokens),
        bert_tokenizer_params={"lower_case": lower_case}, learn_params={})
    logging.info("Learned a vocabulary of %d tokens from %d texts", len(vocabulary), len(texts))
    return vocabulary


def write_vocabulary(vocabulary, path):
    """One token per line, as vocab.txt."""
    directory = os.path.dirname(path)
    if directory:
        os.makedirs(directory, exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        f.write("\n".join(vocabulary) + "\n")
