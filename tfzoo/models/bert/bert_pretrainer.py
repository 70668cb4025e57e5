"""BERT pretraining: masked LM + next-sentence prediction (Devlin et al. 2018, section 3.1)."""

import keras
from absl import logging

from tfzoo.checkpoints.pretrained import detect_format, load_converted_weights
from tfzoo.layers.masked_lm_head import MaskedLMHead
from tfzoo.models.bert.bert_backbone import BertBackbone
from tfzoo.models.task import Task

_NSP_KEYS = ("cls.seq_relationship.weight", "cls/seq_relationship/output_weights")


@keras.saving.register_keras_serializable(package="tfzoo")
class BertPretrainer(Task):
    """The two pretraining heads on a BERT-family backbone.

    - Masked LM (task 1): predicts the original token at each of
      `masked_lm_positions`, with the output projection tied to the token
      embedding (`MaskedLMHead`).
    - Next-sentence prediction (task 2): a 2-way classifier on the pooled
      output. RoBERTa drops it (`next_sentence_prediction=False`).

    `compile()` defaults to sparse cross-entropy on both outputs and their
    accuracies. Keras wants one sample weight per output: pass
    `sample_weight={"mlm_logits": masked_lm_weights, "nsp_logits": ones}` so
    padded prediction slots do not count (`tfzoo.data` pipelines yield that).

    Args:
        backbone: a `BertBackbone`, `RobertaBackbone` or `DistilBertBackbone`.
        next_sentence_prediction: bool, add the NSP head. Defaults to True.
        **kwargs: standard `keras.Model` arguments.

    Inputs: the backbone's dict plus `masked_lm_positions` int32 [B, P].
    Outputs: `{"mlm_logits": [B, P, V], "nsp_logits": [B, 2]}` (no
    `nsp_logits` without NSP).
    """

    def __init__(self, backbone, next_sentence_prediction=True, **kwargs):
        inputs = dict(backbone.input)
        inputs["masked_lm_positions"] = keras.Input(
            shape=(None,), dtype="int32", name="masked_lm_positions"
        )
        backbone_outputs = backbone({k: inputs[k] for k in backbone.input})
        mlm_head = MaskedLMHead(
            backbone.token_embedding,
            activation=backbone.activation,
            layer_norm_epsilon=backbone.layer_norm_epsilon,
            kernel_initializer=keras.initializers.TruncatedNormal(stddev=0.02),
            name="mlm_head",
        )
        outputs = {
            "mlm_logits": mlm_head(
                backbone_outputs["sequence_output"], inputs["masked_lm_positions"]
            )
        }
        if next_sentence_prediction:
            outputs["nsp_logits"] = keras.layers.Dense(
                2,
                kernel_initializer=keras.initializers.TruncatedNormal(stddev=0.02),
                name="nsp_head",
            )(backbone_outputs["pooled_output"])
        super().__init__(backbone=backbone, inputs=inputs, outputs=outputs, **kwargs)
        self.next_sentence_prediction = next_sentence_prediction

    def task_config(self):
        return {"next_sentence_prediction": self.next_sentence_prediction}

    def default_loss(self):
        # Averaged over real predictions only (weights 0 mark padding slots),
        # as BERT normalises its masked-LM loss.
        loss = {"mlm_logits": keras.losses.SparseCategoricalCrossentropy(
            from_logits=True, reduction="mean_with_sample_weight")}
        if self.next_sentence_prediction:
            loss["nsp_logits"] = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
        return loss

    def default_metrics(self):
        metrics = {"mlm_logits": [keras.metrics.SparseCategoricalAccuracy(name="accuracy")]}
        if self.next_sentence_prediction:
            metrics["nsp_logits"] = [keras.metrics.SparseCategoricalAccuracy(name="accuracy")]
        return metrics

    @classmethod
    def from_pretrained(cls, path, load_weights=True, **overrides):
        """Restores backbone and pretraining heads from a checkpoint directory.

        Reads the formats `BertBackbone.from_pretrained` reads; the backbone
        class follows the checkpoint's model type (bert, roberta, distilbert),
        and the NSP head is added when the checkpoint has one, unless
        `next_sentence_prediction` overrides that (True on a checkpoint
        without it: the head starts untrained). Other overrides go to the
        backbone; ones neither takes raise ValueError naming them.
        """
        checkpoint_format, config, reader = detect_format(path)
        if checkpoint_format == "tfzoo":
            return super().from_pretrained(path, load_weights=load_weights, **overrides)
        from tfzoo.models.registry import backbone_class

        model_type = "bert" if checkpoint_format == "google_bert" else config.get("model_type")
        backbone_cls = backbone_class(model_type)
        if not issubclass(backbone_cls, BertBackbone):
            raise ValueError(
                f"{path} holds a {model_type} model, which has no BERT pretraining heads.")
        if checkpoint_format == "huggingface" and config.get("tie_word_embeddings") is False:
            raise ValueError(
                f"{path}/config.json says tie_word_embeddings=false: its masked-LM decoder "
                "has its own weights, and BertPretrainer's output projection is the token "
                "embedding (as BERT's, RoBERTa's and DistilBERT's releases tie them). Load "
                "the encoder with from_pretrained of the backbone class instead.")
        head_overrides, backbone_overrides = cls.split_overrides(overrides, backbone_cls)
        backbone = backbone_cls.from_pretrained(path, load_weights=False, **backbone_overrides)
        has_nsp = any(key.endswith(_NSP_KEYS) for key in reader.keys())
        head_overrides.setdefault("next_sentence_prediction", has_nsp)
        model = cls(backbone, **head_overrides)
        if load_weights:
            skip = (r"(^|/)nsp_head/",) if model.next_sentence_prediction and not has_nsp else ()
            if skip:
                logging.warning("%s has no next-sentence-prediction head; nsp_head starts "
                                "untrained.", path)
            load_converted_weights(model, checkpoint_format, config, reader,
                                   backbone_cls.checkpoint_converter, skip=skip)
        return model
