"""Choosing the next token: greedy, temperature, top-k, top-p (nucleus)."""

import dataclasses
import math
import warnings
from typing import Optional

import numpy as np
from keras import ops

from tfzoo.generation.random import hashed_uniform

_NEG_INF = -1e9


@dataclasses.dataclass(frozen=True)
class SamplingConfig:
    """How `generate` picks tokens.

    Attributes:
        greedy: take the most likely token (ignores the rest).
        temperature: divide logits by this before sampling (> 0).
        top_k: sample among the k most likely tokens; 0 for all.
        top_p: sample among the smallest set of tokens whose probability sums
            to at least p (Holtzman et al. 2019); 1.0 for all.
        seed: makes sampling reproducible.
    """

    greedy: bool = True
    temperature: float = 1.0
    top_k: int = 0
    top_p: float = 1.0
    seed: Optional[int] = None

    def __post_init__(self):
        if not _is_real(self.temperature) or not 0 < self.temperature < math.inf:
            raise ValueError("temperature must be a finite number > 0. Received: "
                             f"temperature={self.temperature!r}")
        if isinstance(self.top_k, bool) or not isinstance(self.top_k, (int, np.integer)) \
                or self.top_k < 0:
            raise ValueError(f"top_k must be an int >= 0. Received: top_k={self.top_k!r}")
        if not _is_real(self.top_p) or not 0.0 < self.top_p <= 1.0:
            raise ValueError(f"top_p must be a number in (0, 1]. Received: top_p={self.top_p!r}")
        if self.seed is not None:
            seed_value(self.seed)

    def check_used(self, num_beams=1):
        """Sampling settings that the decoding would not use: beam search with
        greedy=False is an error (tfzoo's beams do not sample); temperature,
        top_k or top_p with greedy decoding or beams warn, as transformers does."""
        if num_beams > 1 and not self.greedy:
            raise ValueError(f"Beam search (num_beams={num_beams}) does not sample: drop "
                             "greedy=False, or sample with num_beams=1.")
        if self.greedy:
            unused = [f"{name}={value!r}" for name, value, default in (
                ("temperature", self.temperature, 1.0), ("top_k", self.top_k, 0),
                ("top_p", self.top_p, 1.0)) if value != default]
            if unused:
                mode = f"beam search (num_beams={num_beams})" if num_beams > 1 else "greedy=True"
                warnings.warn(f"{', '.join(unused)} only apply when sampling; {mode} ignores "
                              "them. Pass greedy=False (and num_beams=1) to sample.",
                              UserWarning, stacklevel=3)


def _is_real(value):
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(
        value, bool) and not math.isnan(value)


def seed_value(seed):
    """`generate`'s seed as an int32 scalar: None draws one; any int is used
    modulo 2**32 (so negative seeds and seeds above 2**31 work)."""
    if seed is None:
        return np.int32(np.random.randint(2**31 - 1))
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise ValueError(f"seed must be an int or None. Received: seed={seed!r}")
    return np.array(int(seed) % 2**32, np.uint32).view(np.int32)[()]


def filter_logits(logits, config):
    """Temperature, then top-k and top-p: excluded tokens get a very low logit."""
    logits = ops.cast(logits, "float32") / config.temperature
    if config.top_k:
        kth = ops.top_k(logits, min(config.top_k, logits.shape[-1]))[0][:, -1:]
        logits = ops.where(logits < kth, _NEG_INF, logits)
    if config.top_p < 1.0:
        sorted_logits = ops.sort(logits, axis=-1)[:, ::-1]  # descending
        probabilities = ops.softmax(sorted_logits, axis=-1)
        # Keep a token while the mass before it is below p (the first always).
        mass_before = ops.cumsum(probabilities, axis=-1) - probabilities
        kept = ops.where(mass_before < config.top_p, sorted_logits, 1e9)
        threshold = ops.min(kept, axis=-1, keepdims=True)
        logits = ops.where(logits < threshold, _NEG_INF, logits)
    return logits


def next_tokens(logits, config, step, seed=None):
    """int32 [B] tokens from logits [B, V].

    Sampling uses the Gumbel-max trick with `hashed_uniform`, so draws depend
    only on (seed, step) and compile into a loop without random state.
    """
    if config.greedy:
        return ops.cast(ops.argmax(logits, axis=-1), "int32")
    logits = filter_logits(logits, config)
    shape = ops.shape(logits)
    uniform = hashed_uniform(config.seed if seed is None else seed, step, (shape[0], shape[1]))
    gumbel = -ops.log(-ops.log(uniform))
    return ops.cast(ops.argmax(logits + gumbel, axis=-1), "int32")
