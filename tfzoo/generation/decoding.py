"""Autoregressive decoding loops over a cached step function, for any model.

A model supplies `step_fn(token_ids [B, 1], cache, index) -> (logits [B, V],
cache)`: the logits for position `index + 1` given the token at `index`,
writing that token's keys and values into the cache. Prompts are right-padded
in a fixed buffer [B, L] and decoded in lockstep: at position i a row whose
prompt is longer than i keeps its prompt token; the others take the chosen
token. Every position before the current one then holds a real token, so the
causal mask alone is correct, and the loop (`keras.ops.while_loop`) has static
shapes and compiles once per buffer size.
"""

import keras
from keras import ops

from tfzoo.generation.sampling import next_tokens
from tfzoo.layers.utils import write_positions

_NEG = -1e9


def _column(buffer, index):
    return ops.slice(buffer, (0, index), (ops.shape(buffer)[0], 1))  # (B, 1)


def _write_column(buffer, index, values):
    return write_positions(buffer, index, ops.expand_dims(values, 1))


def _is_stop(tokens, stop_token_ids):
    stop = ops.zeros_like(tokens, dtype="bool")
    for token_id in stop_token_ids:
        stop = ops.logical_or(stop, ops.equal(tokens, token_id))
    return stop


def _start(prompt_lengths, filled_length):
    """First loop index: the shortest prompt's last token, or the first
    position the cache does not hold yet."""
    start = ops.min(prompt_lengths)
    return start if filled_length is None else ops.minimum(start, filled_length + 1)


def sample(step_fn, buffer, prompt_lengths, end_indices, cache, config, seed,
           stop_token_ids=(), pad_id=0, filled_length=None):
    """Greedy or sampled decoding.

    Args:
        step_fn: the model's cached step (see the module docstring).
        buffer: int32 [B, L], right-padded prompts.
        prompt_lengths: int32 [B], at least 1.
        end_indices: int32 [B], row b stops before position end_indices[b].
        cache: the model's cache (a tensor or a nested structure of tensors
            whose first axis is the batch), filled up to `filled_length`.
        config: `SamplingConfig`.
        seed: int32 scalar, the sampling seed.
        stop_token_ids: a row stops after generating one of these.
        pad_id: written after a row stops.
        filled_length: the cache holds positions [0, filled_length) of the
            buffer (None: all of them); the loop feeds the prompt tokens from
            there on.

    Returns:
        The buffer with every row completed.
    """
    start = _start(prompt_lengths, filled_length)
    last = ops.max(end_indices)
    finished = ops.zeros_like(prompt_lengths, dtype="bool")

    def condition(index, buffer, cache, finished):
        return ops.logical_and(index < last, ops.logical_not(ops.all(finished)))

    def body(index, buffer, cache, finished):
        logits, cache = step_fn(_column(buffer, index - 1), cache, index - 1)
        chosen = next_tokens(logits, config, index, seed)
        in_prompt = index < prompt_lengths
        active = ops.logical_and(index < end_indices, ops.logical_not(finished))
        token = ops.where(in_prompt, ops.squeeze(_column(buffer, index), 1),
                          ops.where(active, chosen, pad_id))
        generated = ops.logical_and(ops.logical_not(in_prompt), active)
        stopped = ops.logical_and(generated, _is_stop(token, stop_token_ids))
        done = ops.logical_or(stopped, ops.logical_and(ops.logical_not(in_prompt),
                                                        index + 1 >= end_indices))
        finished = ops.logical_or(finished, done)
        return index + 1, _write_column(buffer, index, token), cache, finished

    _, buffer, _, _ = ops.while_loop(condition, body, (start, buffer, cache, finished))
    return buffer


def length_penalty(lengths, alpha):
    """GNMT's length normalisation (Wu et al. 2016, section 7): ((5 + |Y|) / 6)^alpha."""
    return ops.power((5.0 + ops.cast(lengths, "float32")) / 6.0, alpha)


def beam_search(step_fn, buffer, prompt_lengths, end_indices, cache, num_beams, alpha=0.6,
                stop_token_ids=(), pad_id=0, filled_length=None):
    """Beam search with GNMT length normalisation.

    Args:
        buffer, prompt_lengths, end_indices, cache, filled_length: as
            `sample`, for B rows; they are expanded to B * num_beams internally.
        num_beams: K.
        alpha: length-penalty exponent (0: none; 0.6 in the Transformer paper).

    Returns:
        (buffers [B, K, L], normalised scores [B, K]), beams best first.
    """
    batch = ops.shape(buffer)[0]
    length = ops.shape(buffer)[1]

    def expand(x):  # (B, ...) -> (B*K, ...), each row repeated K times
        return ops.repeat(x, num_beams, axis=0)

    buffer, cache = expand(buffer), keras.tree.map_structure(expand, cache)
    prompt_lengths, end_indices = expand(prompt_lengths), expand(end_indices)
    # Only the first beam of each row is alive at the start: identical beams
    # would otherwise fill the beam with copies.
    scores = ops.tile(ops.convert_to_tensor([[0.0] + [_NEG] * (num_beams - 1)]), (batch, 1))
    finished = ops.zeros_like(prompt_lengths, dtype="bool")
    start = _start(prompt_lengths, filled_length)
    last = ops.max(end_indices)

    def condition(index, buffer, cache, scores, finished):
        return ops.logical_and(index < last, ops.logical_not(ops.all(finished)))

    def body(index, buffer, cache, scores, finished):
        logits, cache = step_fn(_column(buffer, index - 1), cache, index - 1)
        log_probs = ops.log_softmax(ops.cast(logits, "float32"), axis=-1)  # (B*K, V)
        vocabulary = ops.shape(log_probs)[1]
        in_prompt = index < prompt_lengths
        frozen = ops.logical_or(finished, index >= end_indices)
        # Forced rows (prompt, or finished beams) may only take their token.
        forced_token = ops.where(in_prompt, ops.squeeze(_column(buffer, index), 1), pad_id)
        forced = ops.where(ops.equal(ops.arange(vocabulary)[None, :], forced_token[:, None]),
                           0.0, _NEG)
        log_probs = ops.where(ops.logical_or(in_prompt, frozen)[:, None], forced, log_probs)
        candidates = ops.reshape(scores, (-1, 1)) + log_probs  # (B*K, V)
        candidates = ops.reshape(candidates, (batch, num_beams * vocabulary))
        scores, flat = ops.top_k(candidates, num_beams)  # (B, K)
        beam = flat // vocabulary
        token = ops.reshape(ops.cast(flat % vocabulary, "int32"), (-1,))
        source = ops.reshape(beam + ops.arange(batch)[:, None] * num_beams, (-1,))
        buffer = ops.take(buffer, source, axis=0)
        cache = keras.tree.map_structure(lambda x: ops.take(x, source, axis=0), cache)
        finished = ops.take(finished, source, axis=0)
        frozen = ops.take(frozen, source, axis=0)
        generated = ops.logical_and(ops.logical_not(in_prompt), ops.logical_not(frozen))
        stopped = ops.logical_and(generated, _is_stop(token, stop_token_ids))
        at_end = ops.logical_and(ops.logical_not(in_prompt), index + 1 >= end_indices)
        finished = ops.logical_or(finished, ops.logical_or(stopped, at_end))
        return index + 1, _write_column(buffer, index, token), cache, scores, finished

    _, buffer, _, scores, _ = ops.while_loop(
        condition, body, (start, buffer, cache, scores, finished))

    # Generated length of each beam: up to and including a stop token.
    positions = ops.arange(length)[None, :]
    after_prompt = positions >= prompt_lengths[:, None]
    stop_mask = ops.logical_and(after_prompt, _is_stop(buffer, stop_token_ids))
    first_stop = ops.where(ops.any(stop_mask, axis=1),
                           ops.argmax(ops.cast(stop_mask, "int32"), axis=1) + 1, end_indices)
    generated_lengths = ops.maximum(ops.minimum(first_stop, end_indices) - prompt_lengths, 1)
    normalised = scores / ops.reshape(length_penalty(generated_lengths, alpha), (batch, -1))
    order = ops.argsort(-normalised, axis=1)
    buffer = ops.reshape(buffer, (batch, num_beams, length))
    return (ops.take_along_axis(buffer, order[:, :, None], axis=1),
            ops.take_along_axis(normalised, order, axis=1))


def generate(hidden_fn, logits_fn, cache, buffer, prompt_lengths, end_indices, sampling, seed,
             num_beams=1, alpha=0.6, stop_token_ids=(), pad_id=0, prefill_length=None):
    """Prefills the cache in one pass, then decodes one position per step.

    Args:
        hidden_fn: `(token_ids [B, t], cache, index) -> (hidden [B, t, D], cache)`.
        logits_fn: `hidden [B, 1, D] -> logits [B, 1, V]`; only the last
            position is projected, never the whole prefill.
        cache, buffer, prompt_lengths, end_indices, sampling, seed,
        stop_token_ids, pad_id: as `sample`.
        num_beams, alpha: beam search when num_beams > 1.
        prefill_length: a Python int, how many leading positions the one pass
            computes (None: the whole buffer). Any value is correct; the
            fastest covers all but the last token of the shortest prompt
            (`prefill_positions`): fewer leave prompt tokens to the
            one-position loop, more compute positions that the loop
            rewrites. 0 skips the pass (a decoder fed only a start token).

    Returns:
        [B, L] completed buffers, or [B, K, L] beams (best first) with beam search.
    """
    # The leading positions at once; the loop rewrites every position from
    # where it starts before anything attends to it.
    if prefill_length is None:
        _, cache = hidden_fn(buffer, cache, 0)
    elif prefill_length > 0:
        _, cache = hidden_fn(buffer[:, :prefill_length], cache, 0)

    def step_fn(token_ids, cache, index):
        hidden, cache = hidden_fn(token_ids, cache, index)
        return logits_fn(hidden[:, -1:, :])[:, 0], cache

    if num_beams > 1:
        beams, _ = beam_search(step_fn, buffer, prompt_lengths, end_indices, cache, num_beams,
                               alpha, stop_token_ids, pad_id, prefill_length)
        return beams
    return sample(step_fn, buffer, prompt_lengths, end_indices, cache, sampling, seed,
                  stop_token_ids, pad_id, prefill_length)


def step_rows(buffer, num_beams):
    """Rows each decoding step runs (batch x beams); None when the batch size
    is not fixed at trace time (a serving signature)."""
    batch = buffer.shape[0]
    return None if batch is None else batch * num_beams


def prefill_positions(prompt_lengths, buffer_length, multiple):
    """The `generate` prefill for these prompts: all but the shortest prompt's
    last token, rounded up to a multiple (one compiled function per multiple,
    not per prompt length) and capped at the buffer."""
    shortest = int(min(prompt_lengths))
    return min(-(-(shortest - 1) // multiple) * multiple, buffer_length)
