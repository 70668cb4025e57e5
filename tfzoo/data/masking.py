"""Masked-LM masking in the graph (Devlin et al. 2018, section 3.1, task 1).

Works on packed batches (`input_word_ids` [B, T] with `input_mask`), so the
masked positions are positions of the model's input, as `BertPretrainer`
expects. Applied inside `tf.data` after `repeat()`, every epoch draws new
masks: RoBERTa's dynamic masking (Liu et al. 2019, section 4.1). Applied
before `cache()`, masks stay fixed: BERT's static masking.
"""

import dataclasses

import tensorflow as tf


@dataclasses.dataclass(frozen=True)
class MaskingConfig:
    """How tokens are chosen and replaced.

    Attributes:
        mask_token_id: id of [MASK] (or RoBERTa's <mask>).
        vocabulary_size: size of the vocabulary, for random replacements.
        special_token_ids: ids never selected ([CLS], [SEP], [PAD], ...).
        mask_rate: fraction of real tokens to predict. Defaults to 0.15.
        max_predictions: predictions per sequence (P). Defaults to 20 (the
            paper's setting for 128-token sequences).
        mask_token_rate: share of chosen tokens replaced by [MASK]. 0.8.
        random_token_rate: share replaced by a random token. 0.1 (the rest,
            0.1, stay unchanged).
    """

    mask_token_id: int
    vocabulary_size: int
    special_token_ids: tuple
    mask_rate: float = 0.15
    max_predictions: int = 20
    mask_token_rate: float = 0.8
    random_token_rate: float = 0.1

    def __post_init__(self):
        if not 0.0 < self.mask_rate < 1.0:
            raise ValueError(f"mask_rate must be in (0, 1). Received: mask_rate={self.mask_rate!r}")
        if self.max_predictions < 1:
            raise ValueError(
                f"max_predictions must be >= 1. Received: max_predictions={self.max_predictions!r}"
            )
        if not (0.0 <= self.mask_token_rate and 0.0 <= self.random_token_rate
                and self.mask_token_rate + self.random_token_rate <= 1.0):
            raise ValueError(
                "mask_token_rate and random_token_rate must be >= 0 and sum to <= 1. Received: "
                f"{self.mask_token_rate!r} and {self.random_token_rate!r}"
            )


def mask_tokens(input_word_ids, input_mask, config, word_starts=None, seed=None):
    """Chooses tokens to predict and corrupts them, for a packed batch.

    Args:
        input_word_ids: int32 [B, T].
        input_mask: int32 [B, T], 1 for real tokens.
        config: `MaskingConfig`.
        word_starts: optional bool [B, T], true where a word begins. When given,
            whole words are masked (every piece of a chosen word, Google's
            whole-word masking); words are taken in random order, skipping
            any that would overflow the budget.
        seed: optional int (or scalar int tensor) for reproducible masks
            (stateless random ops).

    Returns:
        dict: `input_word_ids` (corrupted), `masked_lm_positions`,
        `masked_lm_ids` (the original tokens) and `masked_lm_weights` (1.0 for
        real predictions, 0.0 for padding slots), each [B, P].
    """
    ids = tf.convert_to_tensor(input_word_ids, tf.int32)
    length = tf.shape(ids)[1]
    seeds = stateless_seeds(seed, 4)

    candidates = tf.cast(input_mask, tf.bool)
    for special in config.special_token_ids:
        candidates &= tf.not_equal(ids, special)
    candidate_count = tf.reduce_sum(tf.cast(candidates, tf.int32), axis=1)  # (B,)
    budget = tf.cast(tf.round(tf.cast(candidate_count, tf.float32) * config.mask_rate), tf.int32)
    budget = tf.minimum(tf.maximum(budget, tf.minimum(candidate_count, 1)),
                        config.max_predictions)  # (B,)

    if word_starts is None:
        word_starts = tf.ones_like(candidates)
    selected = select_whole_words(candidates, tf.cast(word_starts, tf.bool), budget, seeds[0])  # (B, T)

    # The selected positions, in order, padded to P slots.
    positions = tf.ragged.boolean_mask(tf.broadcast_to(tf.range(length), tf.shape(ids)), selected)
    positions = positions.to_tensor(default_value=0, shape=[None, config.max_predictions])
    weights = tf.sequence_mask(tf.minimum(tf.reduce_sum(tf.cast(selected, tf.int32), 1),
                                          config.max_predictions),
                               config.max_predictions, dtype=tf.float32)
    labels = tf.gather(ids, positions, batch_dims=1) * tf.cast(weights, tf.int32)

    # 80% [MASK], 10% random token, 10% unchanged.
    draw = random_uniform(tf.shape(ids), seeds[1])
    replace_with_mask = selected & (draw < config.mask_token_rate)
    replace_with_random = selected & (draw >= config.mask_token_rate) & (
        draw < config.mask_token_rate + config.random_token_rate)
    random_tokens = _random_ids(tf.shape(ids), config, seeds[2])
    corrupted = tf.where(replace_with_mask, config.mask_token_id, ids)
    corrupted = tf.where(replace_with_random, random_tokens, corrupted)
    return {
        "input_word_ids": corrupted,
        "masked_lm_positions": positions,
        "masked_lm_ids": labels,
        "masked_lm_weights": weights,
    }


def select_whole_words(candidates, word_starts, budget, seed):
    """bool [B, T]: whole words in random order, each taken when it still fits
    the row's `budget` of tokens and skipped when it does not (Google's
    create_pretraining_data), so the budget fills unless no word left fits."""
    shape = tf.shape(candidates)
    # Word index of every position (a new word at each start or non-candidate).
    starts = word_starts | ~candidates
    word_index = tf.cumsum(tf.cast(starts, tf.int32), axis=1) - 1  # (B, T)
    segments = word_index + tf.expand_dims(tf.range(shape[0]) * shape[1], 1)  # unique per row
    word_lengths = tf.reshape(tf.math.unsorted_segment_sum(
        tf.cast(candidates, tf.int32), segments, shape[0] * shape[1]), shape)  # by word
    # One random score per word; non-candidates get -1 so they sort last.
    word_scores = random_uniform(shape, seed)
    scores = tf.gather(word_scores, word_index, batch_dims=1)
    scores = tf.where(candidates, scores, -1.0)
    # Visit tokens by descending word score; a word's pieces share the score,
    # so the stable sort keeps them together, in position order.
    order = tf.argsort(scores, axis=1, direction="DESCENDING", stable=True)
    ordered_words = tf.gather(word_index, order, batch_dims=1)
    ordered_candidates = tf.gather(candidates, order, batch_dims=1)
    ordered_lengths = tf.gather(word_lengths, ordered_words, batch_dims=1)
    first_piece = tf.concat([tf.ones_like(ordered_words[:, :1], tf.bool),
                             ordered_words[:, 1:] != ordered_words[:, :-1]], axis=1)

    def visit(state, position):  # one position of every row's order
        taken, take = state
        candidate, length, first = position
        take = tf.where(first, candidate & (taken + length <= budget), take)
        taken += tf.where(first & take, length, 0)
        return taken, take

    steps = tuple(tf.transpose(x) for x in (ordered_candidates, ordered_lengths,
                                             first_piece))  # (T, B)
    zeros = tf.zeros_like(budget)
    _, chosen = tf.scan(visit, steps, initializer=(zeros, tf.zeros_like(budget, tf.bool)))
    chosen_ordered = tf.transpose(chosen) & ordered_candidates
    # Back to position order.
    inverse = tf.argsort(order, axis=1)
    return tf.gather(chosen_ordered, inverse, batch_dims=1)


def stateless_seeds(seed, count):
    """`count` independent stateless seeds from an int (or int tensor) seed."""
    if seed is None:
        return [None] * count
    seed = tf.cast(seed, tf.int64)
    return [tf.stack([seed, tf.constant(i, tf.int64)]) for i in range(count)]


def random_uniform(shape, seed):
    if seed is None:
        return tf.random.uniform(shape)
    return tf.random.stateless_uniform(shape, seed)


def _random_ids(shape, config, seed):
    if seed is None:
        return tf.random.uniform(shape, 0, config.vocabulary_size, dtype=tf.int32)
    return tf.random.stateless_uniform(shape, seed, 0, config.vocabulary_size, dtype=tf.int32)
