"""The Transformer (Vaswani et al. 2017)."""

from tfzoo.models.transformer.transformer import Transformer

__all__ = ["Transformer"]
