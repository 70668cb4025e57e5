"""Text generation: sampling, beam search, compiled decoding loops."""

from tfzoo.generation.sampling import SamplingConfig

__all__ = ["SamplingConfig"]
