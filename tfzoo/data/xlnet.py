"""Permutation language modelling examples for XLNet (Yang et al. 2019, sections 2.2-2.3).

XLNet maximises the likelihood of a sequence under a random factorization
order z, predicting each token from the ones before it in z (section 2.2).
With partial prediction it predicts only the last 1/K of z (section 2.3;
K = 6 in the pretraining hyperparameters, appendix A), in spans of 1 to 5
consecutive tokens (section 3.1, "span-based prediction").
The order is drawn here, in the data pipeline, and reaches the model as:

- `perm_mask` [B, T, T]: 1 where position i may NOT attend to position j
  (transformers' convention). Context tokens (the first part of z) see each
  other and no target; a target sees the context and the targets before
  it in z, but not itself.
- `target_mapping` [B, P, T]: one-hot rows, the predicted positions in
  position order, padded to P slots with zero rows.
- labels [B, P]: the tokens at those positions; weights [B, P]: 1 for real
  predictions, 0 for padding slots.

The inputs are not corrupted (no [MASK] tokens): the query stream hides the
target from itself.

Examples are XLNet's `A <sep> B <sep> <cls>` pairs from a local corpus (one
sentence per line, a blank line between documents; B continues A half of
the time, as XLNet's data builder does, with no loss on it), packed once;
every epoch draws new orders.
"""

import dataclasses
import math
import random

import tensorflow as tf
from absl import logging

from tfzoo.data.epochs import shuffled_batches
from tfzoo.data.masking import stateless_seeds, select_whole_words, random_uniform
from tfzoo.data.pretraining import read_documents, sentence_pairs


@dataclasses.dataclass
class XLNetPretrainingData:
    """What the permutation-LM examples are built from.

    Attributes:
        corpus: text file, one sentence per line, blank lines between documents.
        seq_length: packed length T.
        max_predictions: P, prediction slots per sequence. About T / K of them
            are used.
        prediction_ratio: K of partial prediction: about 1/K of the real
            tokens, the last 1/K of the factorization order, are predicted.
            XLNet: 6 (Yang et al. 2019, section 2.3).
        max_span_length: targets come in spans of 1..max_span_length
            consecutive tokens, lengths drawn with probability ~ 1/length
            (XLNet's span-based prediction: 5). 1: single tokens, a uniformly
            random subset.
        validation_fraction: share of the examples held out, with orders
            fixed once, for a validation loss.
        seed: seed of the pairs, the orders and the shuffling.
    """

    corpus: str
    seq_length: int = 128
    max_predictions: int = 24
    prediction_ratio: float = 6.0
    max_span_length: int = 5
    validation_fraction: float = 0.1
    seed: int = 0

    def __post_init__(self):
        for name, minimum in (("seq_length", 8), ("max_predictions", 1), ("max_span_length", 1)):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
                raise ValueError(
                    f"data.{name} must be an integer >= {minimum}. Received: {name}={value!r}")
        if isinstance(self.prediction_ratio, bool) or not isinstance(
                self.prediction_ratio, (int, float)) or self.prediction_ratio <= 1:
            raise ValueError("data.prediction_ratio (K) must be a number > 1. Received: "
                             f"prediction_ratio={self.prediction_ratio!r}")
        if not 0.0 <= self.validation_fraction < 1.0:
            raise ValueError("data.validation_fraction must be in [0, 1). Received: "
                             f"validation_fraction={self.validation_fraction!r}")


def _span_starts(shape, max_span_length, seed):
    """bool [B, T]: where random spans of 1..max_span_length tokens begin.

    Span lengths n are drawn with probability proportional to 1/n, as
    XLNet's `_sample_mask`.
    """
    if max_span_length == 1:
        return tf.ones(shape, tf.bool)
    batch, length = shape[0], shape[1]
    log_weights = tf.math.log(1.0 / tf.range(1, max_span_length + 1, dtype=tf.float32))
    logits = tf.tile(log_weights[tf.newaxis], [batch, 1])  # (B, max_span_length)
    if seed is None:
        lengths = tf.random.categorical(logits, length, dtype=tf.int32) + 1
    else:
        lengths = tf.random.stateless_categorical(logits, length, seed, dtype=tf.int32) + 1
    ends = tf.cumsum(lengths, axis=1)  # (B, T), span k covers [ends[k-1], ends[k])
    positions = tf.broadcast_to(tf.range(length), shape)
    span = tf.searchsorted(ends, positions, side="right")  # (B, T), the span of each position
    return tf.concat([tf.ones([batch, 1], tf.bool), span[:, 1:] != span[:, :-1]], axis=1)


def permutation_targets(input_word_ids, input_mask, special_token_ids, config, seed=None):
    """Draws a factorization order per sequence and what to predict under it.

    Args:
        input_word_ids: int32 [B, T].
        input_mask: int32 [B, T], 1 for real tokens.
        special_token_ids: ids never predicted (<sep>, <cls>, <pad>).
        config: `XLNetPretrainingData` (max_predictions, prediction_ratio,
            max_span_length).
        seed: optional int or scalar int tensor (stateless random ops).

    Returns:
        dict: `perm_mask` float32 [B, T, T], `target_mapping` float32
        [B, P, T], `target_positions` int32 [B, P], `target_ids` int32
        [B, P] and `target_weights` float32 [B, P].
    """
    ids = tf.convert_to_tensor(input_word_ids, tf.int32)
    shape = tf.shape(ids)
    length = shape[1]
    seeds = stateless_seeds(seed, 4)
    slots = config.max_predictions

    candidates = tf.cast(input_mask, tf.bool)
    for special in special_token_ids:
        candidates &= tf.not_equal(ids, special)
    count = tf.reduce_sum(tf.cast(candidates, tf.int32), axis=1)  # (B,)
    # Partial prediction: the last 1/K of the order, at least one token.
    budget = tf.cast(tf.round(tf.cast(count, tf.float32) / config.prediction_ratio), tf.int32)
    budget = tf.minimum(tf.maximum(budget, tf.minimum(count, 1)), slots)  # (B,)
    targets = select_whole_words(candidates, _span_starts(shape, config.max_span_length, seeds[0]),
                      budget, seeds[1])  # (B, T)
    # Spans stop short of the budget when the next one would overflow it;
    # single tokens make up the rest, as XLNet's `_sample_mask` does.
    shortfall = budget - tf.reduce_sum(tf.cast(targets, tf.int32), axis=1)
    targets |= select_whole_words(candidates & ~targets, tf.ones_like(targets), shortfall, seeds[3])

    # The order: all context first (mutually visible), then the targets in
    # a random order (rank: earlier is smaller).
    rank = random_uniform(shape, seeds[2])
    is_target_i, is_target_j = targets[:, :, tf.newaxis], targets[:, tf.newaxis, :]
    j_not_before_i = rank[:, tf.newaxis, :] >= rank[:, :, tf.newaxis]  # includes j == i
    perm_mask = is_target_j & (~is_target_i | j_not_before_i)  # (B, T, T)

    positions = tf.ragged.boolean_mask(tf.broadcast_to(tf.range(length), shape), targets)
    positions = positions.to_tensor(default_value=0, shape=[None, slots])  # (B, P)
    weights = tf.sequence_mask(tf.reduce_sum(tf.cast(targets, tf.int32), 1), slots,
                               dtype=tf.float32)  # (B, P)
    target_mapping = tf.one_hot(positions, length, dtype=tf.float32) * weights[..., tf.newaxis]
    return {
        "perm_mask": tf.cast(perm_mask, tf.float32),
        "target_mapping": target_mapping,
        "target_positions": positions,
        "target_ids": tf.gather(ids, positions, batch_dims=1) * tf.cast(weights, tf.int32),
        "target_weights": weights,
    }


def xlnet_pretraining_dataset(config, preprocessor, batch_size):
    """Batched permutation-LM data for `XLNetLMHead.fit`, one epoch at a time.

    Args:
        config: `XLNetPretrainingData`.
        preprocessor: an `XLNetPreprocessor`.
        batch_size: int.

    Returns:
        (epoch_dataset, number of training examples, validation dataset or
        None). `epoch_dataset(epoch)` gives that epoch's batches of
        (features, labels, sample weights), shuffled and with orders drawn
        from seeds derived from (config.seed, epoch, batch), so a resumed run
        repeats them. Validation batches keep one order per example.
    """
    documents = read_documents(config.corpus)
    flat = [sentence for document in documents for sentence in document]
    token_lists = iter(preprocessor.tokenize(tf.constant(flat)).to_list())
    tokenized = [[next(token_lists) for _ in document] for document in documents]
    # XLNet's pairs: <sep> after A and B, <cls> last: 3 special tokens.
    pairs = sentence_pairs(tokenized, config.seq_length - 3, random.Random(config.seed))
    packed = preprocessor.bert_pack_inputs(
        [tf.ragged.constant([a for a, _, _ in pairs], dtype=tf.int32),
         tf.ragged.constant([b for _, b, _ in pairs], dtype=tf.int32)],
        seq_length=config.seq_length)
    held_out = math.floor(len(pairs) * config.validation_fraction)
    train_count = len(pairs) - held_out
    if train_count < batch_size:
        raise ValueError(f"{config.corpus} gives {train_count} training examples, fewer than "
                         f"one batch of {batch_size}.")
    logging.info("XLNet pretraining: %d examples (%d held out) from %d documents in %s",
                 len(pairs), held_out, len(documents), config.corpus)
    special = preprocessor.get_special_tokens_dict()
    never_predicted = (special["end_of_segment_id"], special["cls_id"], special["padding_id"])

    def with_targets(features, seed):
        drawn = permutation_targets(features["input_word_ids"], features["input_mask"],
                                    never_predicted, config, seed=seed)
        features = dict(features, perm_mask=drawn["perm_mask"],
                        target_mapping=drawn["target_mapping"])
        return features, drawn["target_ids"], drawn["target_weights"]

    train = {name: value[:train_count] for name, value in packed.items()}

    def epoch_dataset(epoch):
        batches = shuffled_batches(train, batch_size, config.seed, epoch,
                                   drop_remainder=True).enumerate()
        epoch_seed = (tf.cast(config.seed, tf.int64) * 1_000_003
                      + tf.cast(epoch, tf.int64)) * 100_003
        return batches.map(lambda index, batch: with_targets(batch, epoch_seed + index))

    validation = None
    if held_out:
        # A negative seed: never one of the training batches' (>= 0).
        held = with_targets({name: value[train_count:] for name, value in packed.items()},
                            seed=-1 - config.seed)
        validation = tf.data.Dataset.from_tensor_slices(held).batch(batch_size)
    return epoch_dataset, train_count, validation
