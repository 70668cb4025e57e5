"""RoBERTa's encoder (Liu et al. 2019): BERT's architecture, trained differently."""

import keras

from tfzoo.checkpoints.bert import ROBERTA
from tfzoo.models.bert.bert_backbone import BertBackbone


@keras.saving.register_keras_serializable(package="tfzoo")
class RobertaBackbone(BertBackbone):
    """RoBERTa: BERT's encoder with RoBERTa's embedding conventions.

    Differences from `BertBackbone`: no segment information (`input_type_ids`
    is accepted and ignored; the single segment embedding is added to every
    token), positions start at 2 (fairseq's padding index + 1, so the position
    table has `max_sequence_length + 2` rows), LayerNorm epsilon 1e-5, and a
    byte-level BPE vocabulary (see `tfzoo.preprocessing`). RoBERTa pretrains
    with masked LM only, with masks drawn anew every epoch.

    Args:
        vocabulary_size, num_layers, num_heads, hidden_dim, intermediate_dim,
        max_sequence_length, dropout, attention_dropout, activation,
        layer_norm_epsilon, initializer_range: as `BertBackbone`
        (layer_norm_epsilon defaults to 1e-5).
    """

    checkpoint_converter = ROBERTA
    position_offset = 2

    def __init__(
        self,
        vocabulary_size,
        num_layers,
        num_heads,
        hidden_dim,
        intermediate_dim,
        max_sequence_length=512,
        dropout=0.1,
        attention_dropout=0.0,
        activation="gelu",
        layer_norm_epsilon=1e-5,
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
            type_vocab_size=1,
            dropout=dropout,
            attention_dropout=attention_dropout,
            activation=activation,
            layer_norm_epsilon=layer_norm_epsilon,
            initializer_range=initializer_range,
            **kwargs,
        )
