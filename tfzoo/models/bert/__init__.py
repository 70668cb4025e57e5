"""BERT (Devlin et al. 2018): backbone, pretraining and fine-tuning heads."""

from tfzoo.models.bert.bert_backbone import BertBackbone
from tfzoo.models.bert.bert_classifier import BertClassifier
from tfzoo.models.bert.bert_pretrainer import BertPretrainer
from tfzoo.models.bert.bert_span_labeler import BertSpanLabeler
from tfzoo.models.bert.bert_token_classifier import BertTokenClassifier

__all__ = [
    "BertBackbone",
    "BertClassifier",
    "BertPretrainer",
    "BertSpanLabeler",
    "BertTokenClassifier",
]
