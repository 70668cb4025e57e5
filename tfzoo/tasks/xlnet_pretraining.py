"""Pretraining XLNet by permutation language modelling on a local corpus."""

import dataclasses
from typing import Optional

from tfzoo.data.xlnet import XLNetPretrainingData, xlnet_pretraining_dataset
from tfzoo.models.xlnet.xlnet_lm_head import XLNetLMHead
from tfzoo.preprocessing.xlnet_preprocessor import XLNetPreprocessor
from tfzoo.tasks.base import TrainingTask, full_batches
from tfzoo.tasks.families import xlnet_backbone
from tfzoo.training.config import ModelConfig


@dataclasses.dataclass
class XLNetPretrainingConfig:
    """task section of an XLNet pretraining experiment.

    Attributes:
        model: architecture and/or starting checkpoint. A model built from an
            architecture file takes the SentencePiece model's vocabulary size.
        data: corpus and permutation settings (`XLNetPretrainingData`).
        spiece_model: spiece.model, or a directory holding one; defaults to
            the model's init_checkpoint directory.
        type: "xlnet_pretraining".
    """

    model: ModelConfig
    data: XLNetPretrainingData
    spiece_model: Optional[str] = None
    type: str = "xlnet_pretraining"


class XLNetPretrainingTask(TrainingTask):
    """Permutation LM: `XLNetLMHead` on orders drawn anew every epoch."""

    config_class = XLNetPretrainingConfig
    model_classes = ("XLNetLMHead",)

    def build_preprocessor(self):
        path = self.config.spiece_model or self.config.model.init_checkpoint
        if path is None:
            raise ValueError("task.spiece_model is required when task.model has no "
                             "init_checkpoint.")
        return XLNetPreprocessor.from_pretrained(path, seq_length=self.config.data.seq_length)

    def build_model(self):
        return XLNetLMHead(xlnet_backbone(self.config.model, self.build_preprocessor()))

    def datasets(self, batch_size, eval_batch_size, seed=0):
        epoch_dataset, count, validation = xlnet_pretraining_dataset(
            self.config.data, self.build_preprocessor(), batch_size)
        if validation is not None and eval_batch_size != batch_size:
            validation = validation.unbatch().batch(eval_batch_size)
        return epoch_dataset, validation, full_batches(count, batch_size, "pretraining sequences")

    def evaluate(self, model, batch_size=64):
        """Permutation-LM loss and accuracy on the held-out examples (their
        orders fixed), or {} without held-out examples."""
        _, validation, _ = self.datasets(batch_size, batch_size)
        if validation is None:
            return {}
        if not getattr(model, "compiled", False):
            model.compile()
        results = model.evaluate(validation, verbose=0, return_dict=True)
        return {"loss": float(results["loss"]), "accuracy": float(results["accuracy"])}
