"""BERT for per-token tagging, e.g. named entities (Devlin et al. 2018, section 5.3)."""

import keras

from tfzoo.layers.utils import check_positive_int, check_rate
from tfzoo.models.task import Task


@keras.saving.register_keras_serializable(package="tfzoo")
class BertTokenClassifier(Task):
    """A classification layer on every position of the sequence output.

    Train with sample weights that are 0 on padding, special tokens and
    non-first word pieces (the paper tags the first piece of each word).

    Args:
        backbone: a `BertBackbone` (or RoBERTa/DistilBERT backbone).
        num_classes: int, number of tags.
        dropout: float, dropout on the sequence output. Defaults to 0.1.
        **kwargs: standard `keras.Model` arguments.

    Inputs: the backbone's dict. Outputs: logits [B, T, num_classes].
    """

    def __init__(self, backbone, num_classes, dropout=0.1, **kwargs):
        check_positive_int("num_classes", num_classes)
        check_rate("dropout", dropout)
        inputs = backbone.input
        sequence = backbone(inputs)["sequence_output"]  # (B, T, D)
        sequence = keras.layers.Dropout(dropout, name="tagger_dropout")(sequence)
        logits = keras.layers.Dense(
            num_classes,
            kernel_initializer=keras.initializers.TruncatedNormal(stddev=0.02),
            name="logits",
        )(sequence)  # (B, T, num_classes)
        super().__init__(backbone=backbone, inputs=inputs, outputs=logits, **kwargs)
        self.num_classes = num_classes
        self.dropout = dropout

    def default_loss(self):
        # Averaged over tagged tokens only (weight 0: padding, special tokens,
        # non-first word pieces).
        return keras.losses.SparseCategoricalCrossentropy(
            from_logits=True, reduction="mean_with_sample_weight")

    def task_config(self):
        return {"num_classes": self.num_classes, "dropout": self.dropout}
