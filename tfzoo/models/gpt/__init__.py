"""GPT (Radford et al. 2018) and GPT-2 (Radford et al. 2019)."""

from tfzoo.models.gpt.gpt_backbone import GPTBackbone
from tfzoo.models.gpt.gpt_causal_lm import GPTCausalLM

__all__ = ["GPTBackbone", "GPTCausalLM"]
