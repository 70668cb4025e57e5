"""RoBERTa (Liu et al. 2019)."""

from tfzoo.models.roberta.roberta_backbone import RobertaBackbone

__all__ = ["RobertaBackbone"]
