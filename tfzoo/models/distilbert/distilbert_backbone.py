"""DistilBERT's encoder (Sanh et al. 2019): a 6-layer BERT without segments or pooler."""

import keras

from tfzoo.checkpoints.bert import DISTILBERT
from tfzoo.models.bert.bert_backbone import BertBackbone


@keras.saving.register_keras_serializable(package="tfzoo")
class DistilBertBackbone(BertBackbone):
    """DistilBERT: BERT-base's width with half the layers, no token types, no pooler.

    Same inputs and outputs as `BertBackbone`: `input_type_ids` is accepted and
    ignored, and `pooled_output` is the hidden state of the first ([CLS])
    position without the tanh pooler (DistilBERT has none; its classifiers put
    their own dense layer there).

    Args:
        vocabulary_size: int.
        num_layers: int. Defaults to 6.
        num_heads: int. Defaults to 12.
        hidden_dim: int. Defaults to 768.
        intermediate_dim: int. Defaults to 3072.
        max_sequence_length, dropout, attention_dropout, activation,
        layer_norm_epsilon, initializer_range: as `BertBackbone`.
    """

    checkpoint_converter = DISTILBERT
    use_pooler = False

    def __init__(
        self,
        vocabulary_size,
        num_layers=6,
        num_heads=12,
        hidden_dim=768,
        intermediate_dim=3072,
        max_sequence_length=512,
        dropout=0.1,
        attention_dropout=0.0,
        activation="gelu",
        layer_norm_epsilon=1e-12,
        initializer_range=0.02,
        **kwargs,
    ):
        super().__init__(
            vocabulary_size=vocabulary_size,
            num_layers=num_layers,
            num_heads=num_heads,
            hidden_dim=hidden_dim,
            intermediate_dim=intermediate_dim,
            max_sequence_length=max_sequence_length,
            type_vocab_size=0,
            dropout=dropout,
            attention_dropout=attention_dropout,
            activation=activation,
            layer_norm_epsilon=layer_norm_epsilon,
            initializer_range=initializer_range,
            **kwargs,
        )
