"""In-graph text preprocessing: tokenizers and packers that export with the model."""

from tfzoo.preprocessing.bert_preprocessor import BertPreprocessor
from tfzoo.preprocessing.gpt2_tokenizer import GPT2Tokenizer
from tfzoo.preprocessing.roberta_preprocessor import RobertaPreprocessor
from tfzoo.preprocessing.xlnet_preprocessor import XLNetPreprocessor

__all__ = ["BertPreprocessor", "GPT2Tokenizer", "RobertaPreprocessor", "XLNetPreprocessor"]
