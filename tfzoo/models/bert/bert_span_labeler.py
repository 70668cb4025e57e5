"""BERT for extractive question answering, SQuAD style (Devlin et al. 2018, section 4.2)."""

import keras
from keras import ops

from tfzoo.models.task import Task


@keras.saving.register_keras_serializable(package="tfzoo")
class BertSpanLabeler(Task):
    """Start and end logits for every position: the answer is the best span.

    The paper's start vector S and end vector E are one Dense(2) layer on the
    sequence output.

    Args:
        backbone: a `BertBackbone` (or RoBERTa/DistilBERT backbone).
        **kwargs: standard `keras.Model` arguments.

    Inputs: the backbone's dict. Outputs: `{"start_logits": [B, T],
    "end_logits": [B, T]}`; labels are the start and end token positions.
    """

    def __init__(self, backbone, **kwargs):
        inputs = backbone.input
        sequence = backbone(inputs)["sequence_output"]  # (B, T, D)
        logits = keras.layers.Dense(
            2,
            kernel_initializer=keras.initializers.TruncatedNormal(stddev=0.02),
            name="span_logits",
        )(sequence)  # (B, T, 2)
        start_logits, end_logits = ops.unstack(logits, num=2, axis=-1)
        super().__init__(
            backbone=backbone,
            inputs=inputs,
            outputs={"start_logits": start_logits, "end_logits": end_logits},
            **kwargs,
        )

    def default_loss(self):
        loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
        return {"start_logits": loss, "end_logits": loss}

    def default_metrics(self):
        return {
            "start_logits": [keras.metrics.SparseCategoricalAccuracy(name="accuracy")],
            "end_logits": [keras.metrics.SparseCategoricalAccuracy(name="accuracy")],
        }
