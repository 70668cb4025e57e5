"""BERT for sequence (and sentence-pair) classification (Devlin et al. 2018, section 4.1)."""

import keras

from tfzoo.layers import Dropout
from tfzoo.layers.utils import check_positive_int, check_rate
from tfzoo.models.task import Task


@keras.saving.register_keras_serializable(package="tfzoo")
class BertClassifier(Task):
    """One classification layer on the pooled ([CLS]) output, as the paper fine-tunes.

    Works for single sentences and sentence pairs alike: the pair is packed
    into one input with segment ids 0 and 1 by the preprocessor.

    Args:
        backbone: a `BertBackbone` (or RoBERTa/DistilBERT backbone).
        num_classes: int, number of labels.
        dropout: float, dropout on the pooled output. Defaults to 0.1.
        **kwargs: standard `keras.Model` arguments.

    Inputs: the backbone's dict. Outputs: logits [B, num_classes].

    Example:
    >>> classifier = BertClassifier(BertBackbone.from_pretrained(path), num_classes=2)
    >>> classifier.compile()  # sparse categorical cross-entropy, accuracy, AdamW
    """

    def __init__(self, backbone, num_classes, dropout=0.1, **kwargs):
        check_positive_int("num_classes", num_classes)
        check_rate("dropout", dropout)
        inputs = backbone.input
        pooled = backbone(inputs)["pooled_output"]  # (B, D)
        pooled = Dropout(dropout, name="classifier_dropout")(pooled)
        logits = keras.layers.Dense(
            num_classes,
            kernel_initializer=keras.initializers.TruncatedNormal(stddev=0.02),
            name="logits",
        )(pooled)  # (B, num_classes)
        super().__init__(backbone=backbone, inputs=inputs, outputs=logits, **kwargs)
        self.num_classes = num_classes
        self.dropout = dropout

    def task_config(self):
        return {"num_classes": self.num_classes, "dropout": self.dropout}
