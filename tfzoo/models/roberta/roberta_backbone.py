"""RoBERTa's encoder (Liu et al. 2019): BERT's architecture, trained differently."""

import keras

from tfzoo.checkpoints.bert import ROBERTA
from tfzoo.models.bert.bert_backbone import BertBackbone


@keras.saving.register_keras_serializable(package="tfzoo")
class RobertaBackbone(BertBackbone):
    """RoBERTa: BERT's encoder with RoBERTa's embedding conventions.

    Differences from `BertBackbone`: no segment information (`input_type_ids`
    is accepted and ignored; the single segment embedding is added to every
    token), positions start at `pad_token_id + 1` = 2 (fairseq's convention,
    so the position table has `max_sequence_length + pad_token_id + 1` rows),
    LayerNorm epsilon 1e-5, and a byte-level BPE vocabulary (see
    `tfzoo.preprocessing`). RoBERTa pretrains with masked LM only, with masks
    drawn anew every epoch.

    Args:
        vocabulary_size, num_layers, num_heads, hidden_dim, intermediate_dim,
        max_sequence_length, dropout, attention_dropout, activation,
        layer_norm_epsilon, initializer_range: as `BertBackbone`
        (layer_norm_epsilon defaults to 1e-5).
        pad_token_id: int >= 0, the vocabulary's padding id. Only the
            positions depend on it: the first token's is `pad_token_id + 1`,
            as transformers' RobertaEmbeddings numbers them. Defaults to 1
            (RoBERTa's <pad>).
    """

    checkpoint_converter = ROBERTA

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
        pad_token_id=1,
        **kwargs,
    ):
        if isinstance(pad_token_id, bool) or not isinstance(pad_token_id, int) or pad_token_id < 0:
            raise ValueError("`pad_token_id` must be an integer >= 0. Received: "
                             f"pad_token_id={pad_token_id!r}")
        self.pad_token_id = pad_token_id  # read by position_offset while building
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

    @property
    def position_offset(self):
        """The first token's position id (fairseq: the padding index + 1)."""
        return self.pad_token_id + 1
