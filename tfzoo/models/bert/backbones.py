"""Which BERT-family backbone class reads a given checkpoint."""

from tfzoo.models.bert.bert_backbone import BertBackbone
from tfzoo.models.distilbert.distilbert_backbone import DistilBertBackbone
from tfzoo.models.roberta.roberta_backbone import RobertaBackbone

BACKBONES = {"bert": BertBackbone, "roberta": RobertaBackbone, "distilbert": DistilBertBackbone}


def backbone_class(checkpoint_format, config):
    """The backbone class for a checkpoint's model type; ValueError names unknown types."""
    if checkpoint_format == "google_bert":
        return BertBackbone
    model_type = config.get("model_type")
    if model_type not in BACKBONES:
        raise ValueError(
            f"Unknown model_type {model_type!r}; BERT-family models are {sorted(BACKBONES)}."
        )
    return BACKBONES[model_type]
