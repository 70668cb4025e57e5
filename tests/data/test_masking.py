"""MLM masking: rates, exclusions, labels, whole words, static vs dynamic."""

import numpy as np
import pytest
import tensorflow as tf

from tfzoo.data import MaskingConfig, mask_tokens

CLS, SEP, PAD, MASK, VOCAB = 101, 102, 0, 103, 1000
CONFIG = MaskingConfig(mask_token_id=MASK, vocabulary_size=VOCAB,
                       special_token_ids=(CLS, SEP, PAD), max_predictions=20)


def packed_batch(batch=64, length=128, seed=0):
    rng = np.random.default_rng(seed)
    ids = rng.integers(1000 // 2, VOCAB, size=(batch, length)).astype("int32")
    lengths = rng.integers(length // 2, length + 1, size=batch)
    mask = (np.arange(length)[None] < lengths[:, None]).astype("int32")
    ids[:, 0] = CLS
    ids[np.arange(batch), lengths - 1] = SEP
    ids[mask == 0] = PAD
    return ids, mask


def test_selection_and_replacement_statistics():
    ids, mask = packed_batch(batch=512)
    out = {k: v.numpy() for k, v in mask_tokens(ids, mask, CONFIG, seed=1).items()}
    positions, weights, labels = out["masked_lm_positions"], out["masked_lm_weights"], out["masked_lm_ids"]
    assert positions.shape == weights.shape == labels.shape == (512, 20)

    real = ((mask == 1) & (ids != CLS) & (ids != SEP)).sum(1)
    expected = np.minimum(np.maximum(np.round(real * 0.15), 1), 20)
    np.testing.assert_array_equal(weights.sum(1), expected)

    chosen = weights == 1
    rows = np.nonzero(chosen)[0]
    cols = positions[chosen]
    # Labels are the original tokens; specials and padding are never chosen.
    np.testing.assert_array_equal(labels[chosen], ids[rows, cols])
    assert not np.isin(ids[rows, cols], [CLS, SEP, PAD]).any()
    assert (mask[rows, cols] == 1).all()
    # Unchosen positions are untouched.
    untouched = np.ones_like(ids, bool)
    untouched[rows, cols] = False
    np.testing.assert_array_equal(out["input_word_ids"][untouched], ids[untouched])
    # 80 / 10 / 10.
    new = out["input_word_ids"][rows, cols]
    as_mask = np.mean(new == MASK)
    unchanged = np.mean(new == ids[rows, cols])
    assert as_mask == pytest.approx(0.8, abs=0.02)
    assert unchanged == pytest.approx(0.1 + 0.1 / VOCAB * 2, abs=0.02)
    assert 1 - as_mask - unchanged == pytest.approx(0.1, abs=0.02)
    # Padding slots carry weight 0 and label 0.
    assert (labels[~chosen] == 0).all()


def test_whole_word_masking_takes_every_piece():
    ids, mask = packed_batch(batch=128, length=64, seed=3)
    rng = np.random.default_rng(4)
    starts = rng.random(ids.shape) < 0.5  # words of 1-4 pieces
    starts[:, 0] = True
    out = mask_tokens(ids, mask, CONFIG, word_starts=starts, seed=2)
    positions = out["masked_lm_positions"].numpy()
    weights = out["masked_lm_weights"].numpy()
    candidates = (mask == 1) & ~np.isin(ids, [CLS, SEP, PAD])
    for row in range(ids.shape[0]):
        chosen = set(positions[row][weights[row] == 1].tolist())
        word = np.cumsum(starts[row] | ~candidates[row])
        for position in chosen:
            pieces = {p for p in np.nonzero(word == word[position])[0] if candidates[row, p]}
            assert pieces <= chosen
        budget = min(max(round(candidates[row].sum() * 0.15), 1), 20)
        assert len(chosen) <= budget
        # Words are skipped, not the search stopped, when one does not fit:
        # no word left out would still fit (Google's create_pretraining_data).
        for index in np.unique(word[candidates[row]]):
            pieces = set(np.nonzero((word == index) & candidates[row])[0].tolist())
            if not pieces & chosen:
                assert len(chosen) + len(pieces) > budget, (row, sorted(pieces))
    rate = weights.sum() / candidates.sum()
    assert rate > 0.14  # words of 1-4 pieces fill the 15% budget (stopping gave ~12%)


def test_seeded_masks_repeat_and_unseeded_masks_change_every_epoch():
    ids, mask = packed_batch(batch=8)
    first = mask_tokens(ids, mask, CONFIG, seed=5)["masked_lm_positions"].numpy()
    again = mask_tokens(ids, mask, CONFIG, seed=5)["masked_lm_positions"].numpy()
    np.testing.assert_array_equal(first, again)

    dataset = tf.data.Dataset.from_tensors((ids, mask)).repeat(2).map(
        lambda i, m: mask_tokens(i, m, CONFIG)["masked_lm_positions"])
    epoch_1, epoch_2 = [p.numpy() for p in dataset]
    assert not np.array_equal(epoch_1, epoch_2)  # dynamic masking


def test_bad_config_values_are_named():
    with pytest.raises(ValueError, match="mask_rate=1.5"):
        MaskingConfig(MASK, VOCAB, (CLS,), mask_rate=1.5)
    with pytest.raises(ValueError, match="max_predictions=0"):
        MaskingConfig(MASK, VOCAB, (CLS,), max_predictions=0)
    with pytest.raises(ValueError, match="0.9 and 0.2"):
        MaskingConfig(MASK, VOCAB, (CLS,), mask_token_rate=0.9, random_token_rate=0.2)
