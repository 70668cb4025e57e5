"""DistilBERT (Sanh et al. 2019): backbone and distillation."""

from tfzoo.models.distilbert.distilbert_backbone import DistilBertBackbone

__all__ = ["DistilBertBackbone"]
