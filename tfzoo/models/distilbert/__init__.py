"""DistilBERT (Sanh et al. 2019): backbone and distillation."""

from tfzoo.models.distilbert.distilbert_backbone import DistilBertBackbone
from tfzoo.models.distilbert.distillation import Distiller, distillation_loss

__all__ = ["DistilBertBackbone", "Distiller", "distillation_loss"]
