"""XLNet for extractive question answering, as fine-tuned on SQuAD (Yang et al. 2019)."""

import keras

from tfzoo.models.bert.bert_span_labeler import BertSpanLabeler


@keras.saving.register_keras_serializable(package="tfzoo")
class XLNetSpanLabeler(BertSpanLabeler):
    """Start and end logits for every position, on an `XLNetBackbone`.

    The head of transformers' XLNetForQuestionAnsweringSimple: one Dense(2)
    on the sequence output, as `BertSpanLabeler` (whose code it is). Labels
    are positions in the packed input; XLNet's inputs are padded on the
    left, so a token's position depends on the padding.

    Args:
        backbone: an `XLNetBackbone`.
        **kwargs: standard `keras.Model` arguments.

    Inputs: the backbone's dict. Outputs: `{"start_logits": [B, T],
    "end_logits": [B, T]}`.
    """

    def __init__(self, backbone, **kwargs):
        # Fine-tuning runs no query stream: its vector w sits out of training.
        backbone.query_embedding.trainable = False
        super().__init__(backbone, **kwargs)
