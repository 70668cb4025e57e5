"""Tokenizers and packers: text -> model inputs, in the TF graph."""

from tfzoo.preprocessing.bert_preprocessor import BertPreprocessor

__all__ = [
    "BertPreprocessor",
]
