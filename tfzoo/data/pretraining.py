"""Pretraining examples from a local text corpus.

Corpus format (the one BERT's release uses): one sentence per line, a blank
line between documents.

- BERT (Devlin et al. 2018, section 3.1 and appendix A.2): sentence pairs (A,
  B) filling `seq_length`, B the real continuation half the time and text from
  a random other document otherwise (next-sentence prediction), then masked LM.
- RoBERTa (Liu et al. 2019, section 4.2, FULL-SENTENCES): contiguous sentences
  filling `seq_length` as one segment, no NSP, masks drawn anew each epoch.
"""

import dataclasses
import random

import numpy as np
import tensorflow as tf
from absl import logging

from tfzoo.data.epochs import shuffled_batches
from tfzoo.data.masking import MaskingConfig, mask_tokens


def read_documents(path):
    """Reads a corpus file: list of documents, each a list of sentences."""
    documents, current = [], []
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if line:
                current.append(line)
            elif current:
                documents.append(current)
                current = []
    if current:
        documents.append(current)
    if not documents:
        raise ValueError(f"No text in corpus {path}")
    return documents


def sentence_pairs(documents, max_tokens, rng, short_seq_prob=0.1, random_next_prob=0.5):
    """Builds NSP examples from tokenized documents.

    Args:
        documents: list of documents; each a list of sentences; each a list of
            token ids.
        max_tokens: token budget for A + B (seq_length minus the 3 special
            tokens); the packer trims what overflows.
        rng: `random.Random`.
        short_seq_prob: probability of a shorter target length, so the model
            also sees short inputs (the paper's 10%).
        random_next_prob: probability that B comes from another document.

    Returns:
        List of (a_ids, b_ids, is_random_next).
    """
    examples = []
    for index, document in enumerate(documents):
        target = max_tokens
        if rng.random() < short_seq_prob:
            target = rng.randint(2, max_tokens)
        chunk, chunk_length, i = [], 0, 0
        while i < len(document):
            chunk.append(document[i])
            chunk_length += len(document[i])
            if i == len(document) - 1 or chunk_length >= target:
                a_end = rng.randint(1, len(chunk) - 1) if len(chunk) >= 2 else 1
                a = [t for sentence in chunk[:a_end] for t in sentence]
                random_next = len(documents) > 1 and (
                    len(chunk) == 1 or rng.random() < random_next_prob
                )
                if random_next:
                    other = rng.choice([d for j, d in enumerate(documents) if j != index])
                    start = rng.randint(0, len(other) - 1)
                    b = []
                    for sentence in other[start:]:
                        b.extend(sentence)
                        if len(b) >= target - len(a):
                            break
                    # The unused sentences of this chunk start the next one.
                    i -= len(chunk) - a_end
                else:
                    b = [t for sentence in chunk[a_end:] for t in sentence]
                if a and b:
                    examples.append((a, b, int(random_next)))
                chunk, chunk_length = [], 0
                if target != max_tokens:
                    target = max_tokens
            i += 1
    return examples


def full_sentences(documents, max_tokens):
    """RoBERTa's FULL-SENTENCES inputs: contiguous sentences up to `max_tokens`,
    crossing document boundaries."""
    examples, current = [], []
    for document in documents:
        for sentence in document:
            if current and len(current) + len(sentence) > max_tokens:
                examples.append(current)
                current = []
            current = current + sentence
    if current:
        examples.append(current)
    return examples


@dataclasses.dataclass
class PretrainingData:
    """What `pretraining_dataset` builds its examples from."""

    corpus: str
    seq_length: int = 128
    max_predictions: int = 20
    next_sentence_prediction: bool = True
    whole_word_masking: bool = False
    dynamic_masking: bool = False
    mask_rate: float = 0.15
    seed: int = 0


def pretraining_dataset(config, preprocessor, batch_size):
    """Batched pretraining data, one epoch at a time, for `BertPretrainer.fit`.

    Args:
        config: `PretrainingData`.
        preprocessor: a `BertPreprocessor` or `RobertaPreprocessor`
            (`tokenize`, `bert_pack_inputs`, `get_special_tokens_dict`,
            `word_start_ids()`).
        batch_size: int.

    Returns:
        (epoch_dataset, number of examples): `epoch_dataset(epoch)` gives that
        epoch's batches of (features, labels, sample_weights), shuffled with a
        seed derived from `config.seed` and the epoch. Static masks
        (`dynamic_masking=False`) are the same every epoch; dynamic ones are
        drawn anew per epoch (from seeds, so a resumed run repeats them).
    """
    documents = read_documents(config.corpus)
    flat = [s for d in documents for s in d]
    pieces = preprocessor.tokenize(tf.constant(flat))
    if pieces.ragged_rank == 2:  # [sentences, words, pieces] -> [sentences, pieces]
        pieces = pieces.merge_dims(1, 2)
    token_lists = iter(pieces.to_list())
    tokenized = [[next(token_lists) for _ in d] for d in documents]

    rng = random.Random(config.seed)
    if config.next_sentence_prediction:
        examples = sentence_pairs(tokenized, config.seq_length - 3, rng)
        segments = (
            tf.ragged.constant([a for a, _, _ in examples], dtype=tf.int32),
            tf.ragged.constant([b for _, b, _ in examples], dtype=tf.int32),
        )
        nsp_labels = np.array([label for _, _, label in examples], "int32")
    else:
        examples = full_sentences(tokenized, config.seq_length - 2)
        segments = (tf.ragged.constant(examples, dtype=tf.int32),)
        nsp_labels = np.zeros(len(examples), "int32")
    logging.info("%d pretraining examples from %d documents in %s",
                 len(examples), len(documents), config.corpus)

    special = preprocessor.get_special_tokens_dict()
    masking = MaskingConfig(
        mask_token_id=int(special["mask_id"]),
        vocabulary_size=int(special["vocab_size"]),
        special_token_ids=tuple(int(special[k]) for k in
                                ("start_of_sequence_id", "end_of_segment_id", "padding_id")),
        mask_rate=config.mask_rate,
        max_predictions=config.max_predictions,
    )
    word_start_ids = preprocessor.word_start_ids() if config.whole_word_masking else None

    def pack(segments, labels):
        return preprocessor.bert_pack_inputs(list(segments), seq_length=config.seq_length), labels

    def mask(packed, labels, seed):
        word_starts = None
        if word_start_ids is not None:
            word_starts = tf.gather(word_start_ids, packed["input_word_ids"])
        masked = mask_tokens(packed["input_word_ids"], packed["input_mask"], masking,
                             word_starts=word_starts, seed=seed)
        features = dict(packed, input_word_ids=masked["input_word_ids"],
                        masked_lm_positions=masked["masked_lm_positions"])
        targets = {"mlm_logits": masked["masked_lm_ids"]}
        weights = {"mlm_logits": masked["masked_lm_weights"]}
        if config.next_sentence_prediction:
            targets["nsp_logits"] = labels
            weights["nsp_logits"] = tf.ones_like(labels, tf.float32)
        return features, targets, weights

    # Pack every example once, eagerly, in corpus order.
    packed = pack(segments, tf.constant(nsp_labels))
    if config.dynamic_masking:

        def epoch_dataset(epoch):
            # New masks every epoch (RoBERTa), from (seed, epoch, batch) seeds.
            batches = shuffled_batches(packed, batch_size, config.seed, epoch,
                                       drop_remainder=True).enumerate()
            epoch_seed = (tf.cast(config.seed, tf.int64) * 1_000_003
                          + tf.cast(epoch, tf.int64)) * 100_003
            return batches.map(lambda i, batch: mask(*batch, seed=epoch_seed + i))
    else:
        # One mask per example for the whole run (BERT), drawn once.
        static = mask(*packed, seed=config.seed)

        def epoch_dataset(epoch):
            return shuffled_batches(static, batch_size, config.seed, epoch, drop_remainder=True)

    return epoch_dataset, len(examples)
