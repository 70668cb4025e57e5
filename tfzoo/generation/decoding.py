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
    """Beam search with GNMT length normalisation, finished beams set aside.

    Each step ranks the 2K best continuations of the K live beams. Those
    among the top K that end in a stop token become finished hypotheses
    (scored by their normalised log-probability); the K best of the others
    live on, so a beam that stops does not take a live beam's place. A row
    ends at its end index, where its live beams join the finished ones, or
    earlier, once K finished hypotheses all beat the best score a live beam
    could still reach (its log-probability only falls; normalised at the
    length that favours it most). The K best finished hypotheses are
    returned: transformers' beam search with `early_stopping="never"`, which
    equals its default when alpha is 0.

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
    width = 2 * num_beams

    def expand(x):  # (B, ...) -> (B*K, ...), each row repeated K times
        return ops.repeat(x, num_beams, axis=0)

    row_prompt, row_end = prompt_lengths, end_indices
    finished_buffer = ops.tile(ops.expand_dims(buffer, 1), (1, num_beams, 1))  # (B, K, L)
    finished_scores = ops.full((batch, num_beams), _NEG, "float32")
    buffer, cache = expand(buffer), keras.tree.map_structure(expand, cache)
    prompt_lengths, end_indices = expand(prompt_lengths), expand(end_indices)
    # Only the first beam of each row is alive at the start: identical beams
    # would otherwise fill the beam with copies.
    scores = ops.tile(ops.convert_to_tensor([[0.0] + [_NEG] * (num_beams - 1)]), (batch, 1))
    done = ops.zeros_like(row_prompt, dtype="bool")
    start = _start(row_prompt, filled_length)
    last = ops.max(row_end)

    def keep_best(finished_buffer, finished_scores, sequences, candidate_scores):
        """The K best of the finished hypotheses and new candidates [B, M]."""
        all_scores = ops.concatenate([finished_scores, candidate_scores], axis=1)
        all_buffers = ops.concatenate([finished_buffer, sequences], axis=1)
        best_scores, best = ops.top_k(all_scores, num_beams)
        return ops.take_along_axis(all_buffers, best[:, :, None], axis=1), best_scores

    def condition(index, buffer, cache, scores, finished_buffer, finished_scores, done):
        return ops.logical_and(index < last, ops.logical_not(ops.all(done)))

    def body(index, buffer, cache, scores, finished_buffer, finished_scores, done):
        logits, cache = step_fn(_column(buffer, index - 1), cache, index - 1)
        log_probs = ops.log_softmax(ops.cast(logits, "float32"), axis=-1)  # (B*K, V)
        vocabulary = ops.shape(log_probs)[1]
        in_prompt = index < prompt_lengths
        # Rows in their prompt may only take the prompt's token.
        forced = ops.where(
            ops.equal(ops.arange(vocabulary)[None, :],
                      ops.squeeze(_column(buffer, index), 1)[:, None]), 0.0, _NEG)
        log_probs = ops.where(in_prompt[:, None], forced, log_probs)
        candidates = ops.reshape(ops.reshape(scores, (-1, 1)) + log_probs,
                                 (batch, num_beams * vocabulary))
        top_scores, flat = ops.top_k(candidates, width)  # (B, 2K)
        source = flat // vocabulary + ops.arange(batch)[:, None] * num_beams  # (B, 2K)
        token = ops.cast(flat % vocabulary, "int32")
        sequences = ops.take(buffer, ops.reshape(source, (-1,)), axis=0)
        sequences = ops.reshape(_write_column(sequences, index, ops.reshape(token, (-1,))),
                                (batch, width, length))
        row_in_prompt = index < row_prompt
        row_active = ops.logical_and(ops.logical_not(done), ops.logical_not(row_in_prompt))
        generated = index + 1 - row_prompt  # tokens after the prompt, this one included
        penalty = length_penalty(generated, alpha)[:, None]

        # Stop tokens ranked in the top K finish; the others may live on.
        stopped = ops.logical_and(_is_stop(token, stop_token_ids), row_active[:, None])
        top_ranks = ops.arange(width)[None, :] < num_beams
        new_finished = ops.where(ops.logical_and(stopped, top_ranks), top_scores / penalty, _NEG)

        live_scores, live = ops.top_k(ops.where(stopped, _NEG, top_scores), num_beams)
        flat_live = ops.reshape(live + ops.arange(batch)[:, None] * width, (-1,))
        chosen = ops.take(ops.reshape(source, (-1,)), flat_live, axis=0)
        buffer = ops.take(ops.reshape(sequences, (batch * width, length)), flat_live, axis=0)
        cache = keras.tree.map_structure(lambda x: ops.take(x, chosen, axis=0), cache)

        # At its end index a row's live beams join the finished ones too.
        at_end = ops.logical_and(row_active, index + 1 >= row_end)
        ending = ops.where(at_end[:, None], live_scores / penalty, _NEG)
        finished_buffer, finished_scores = keep_best(
            finished_buffer, finished_scores,
            ops.concatenate([sequences, ops.reshape(buffer, (batch, num_beams, length))], 1),
            ops.concatenate([new_finished, ending], axis=1))

        # Or earlier: when no live beam can beat the K-th finished hypothesis.
        reachable = ops.maximum(
            live_scores[:, 0] / penalty[:, 0],
            live_scores[:, 0] / length_penalty(row_end - row_prompt, alpha))
        settled = ops.logical_and(finished_scores[:, -1] > _NEG / 2,
                                  finished_scores[:, -1] >= reachable)
        done = ops.logical_or(done, ops.logical_and(row_active,
                                                    ops.logical_or(at_end, settled)))
        return index + 1, buffer, cache, live_scores, finished_buffer, finished_scores, done

    _, _, _, _, finished_buffer, finished_scores, _ = ops.while_loop(
        condition, body,
        (start, buffer, cache, scores, finished_buffer, finished_scores, done))
    return finished_buffer, finished_scores


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
