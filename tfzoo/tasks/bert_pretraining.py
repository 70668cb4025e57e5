"""Pretraining BERT (MLM + NSP) or RoBERTa (MLM, dynamic masking) on a local corpus."""

import dataclasses
from typing import Optional

from tfzoo.data.pretraining import PretrainingData, pretraining_dataset
from tfzoo.models.bert.bert_pretrainer import BertPretrainer
from tfzoo.models.registry import build_backbone
from tfzoo.preprocessing import BertPreprocessor
from tfzoo.tasks.base import TrainingTask, full_batches
from tfzoo.training.config import ModelConfig


@dataclasses.dataclass
class BertPretrainingConfig:
    """task section of a pretraining experiment.

    Attributes:
        model: architecture and/or starting checkpoint.
        data: corpus and masking settings (`PretrainingData`).
        vocabulary: directory or vocab.txt of the WordPiece vocabulary;
            defaults to the model's init_checkpoint directory.
        type: "bert_pretraining".
    """

    model: ModelConfig
    data: PretrainingData
    vocabulary: Optional[str] = None
    type: str = "bert_pretraining"


class BertPretrainingTask(TrainingTask):
    """Masked LM (+ next-sentence prediction when `data.next_sentence_prediction`)."""

    config_class = BertPretrainingConfig
    model_classes = ("BertPretrainer",)

    def build_preprocessor(self):
        vocabulary = self.config.vocabulary or self.config.model.init_checkpoint
        if vocabulary is None:
            raise ValueError("task.vocabulary is required when task.model has no init_checkpoint.")
        return BertPreprocessor.from_pretrained(vocabulary, seq_length=self.config.data.seq_length)

    def build_model(self):
        model = self.config.model
        backbone = build_backbone(model.config, model.init_checkpoint, model.overrides)
        return BertPretrainer(
            backbone, next_sentence_prediction=self.config.data.next_sentence_prediction)

    def datasets(self, batch_size, eval_batch_size, seed=0):
        epoch_dataset, count = pretraining_dataset(self.config.data, self.build_preprocessor(),
                                                   batch_size)
        return epoch_dataset, None, full_batches(count, batch_size, "pretraining sequences")
