"""XLNet for sequence (and sequence-pair) classification, as fine-tuned on GLUE
(Yang et al. 2019)."""

import keras

from tfzoo.layers import Dropout
from tfzoo.layers.utils import check_positive_int, check_rate
from tfzoo.models.task import Task


@keras.saving.register_keras_serializable(package="tfzoo")
class XLNetClassifier(Task):
    """XLNet's sequence summary and a classification layer.

    The summary is the last position, where XLNet's preprocessor puts
    <cls> (inputs are padded on the left), through a tanh dense layer and
    dropout: transformers' XLNetForSequenceClassification with
    summary_type "last", summary_use_proj and summary_activation "tanh".

    Args:
        backbone: an `XLNetBackbone`.
        num_classes: int, number of labels.
        dropout: float, dropout after the summary. Defaults to 0.1.
        **kwargs: standard `keras.Model` arguments.

    Inputs: the backbone's dict. Outputs: logits [B, num_classes].

    Example:
    >>> classifier = XLNetClassifier(XLNetBackbone.from_pretrained(path), num_classes=2)
    >>> classifier.compile()  # sparse categorical cross-entropy, accuracy, AdamW
    """

    def __init__(self, backbone, num_classes, dropout=0.1, **kwargs):
        check_positive_int("num_classes", num_classes)
        check_rate("dropout", dropout)
        # Fine-tuning runs no query stream: its vector w sits out of training
        # (otherwise the optimizer warns every step that it has no gradient).
        backbone.query_embedding.trainable = False
        inputs = backbone.input
        last = backbone(inputs)["pooled_output"]  # (B, D), the <cls> position

        def initializer():
            return keras.initializers.RandomNormal(stddev=backbone.initializer_range)

        summary = keras.layers.Dense(backbone.hidden_dim, activation="tanh",
                                     kernel_initializer=initializer(), name="summary")(last)
        summary = Dropout(dropout, name="summary_dropout")(summary)
        logits = keras.layers.Dense(num_classes, kernel_initializer=initializer(),
                                    name="logits")(summary)  # (B, num_classes)
        super().__init__(backbone=backbone, inputs=inputs, outputs=logits, **kwargs)
        self.num_classes = num_classes
        self.dropout = dropout

    def task_config(self):
        return {"num_classes": self.num_classes, "dropout": self.dropout}
