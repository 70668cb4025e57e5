"""Causal language modelling (GPT, GPT-2) on local text files."""

import dataclasses
from typing import Optional

import numpy as np
import tensorflow as tf
from absl import logging

from tfzoo.data.epochs import shuffled_batches
from tfzoo.data.pretraining import read_documents
from tfzoo.models.gpt.gpt_causal_lm import GPTCausalLM
from tfzoo.models.registry import build_backbone
from tfzoo.preprocessing import GPT2Tokenizer
from tfzoo.tasks.base import TrainingTask
from tfzoo.training.config import ModelConfig


@dataclasses.dataclass
class CausalLMData:
    """Text for next-token prediction.

    Attributes:
        train: text file; blank lines separate documents, which are joined
            with <|endoftext|> as GPT-2 was trained.
        validation: held-out text file; without one, the last
            `validation_fraction` of the training blocks is held out.
        validation_fraction: share held out when `validation` is not given.
        seq_length: tokens per training block (the model sees seq_length
            inputs and predicts the next token at each).
    """

    train: str
    validation: Optional[str] = None
    validation_fraction: float = 0.1
    seq_length: int = 128

    def __post_init__(self):
        if not 0.0 <= self.validation_fraction < 1.0:
            raise ValueError("data.validation_fraction must be in [0, 1). Received: "
                             f"{self.validation_fraction!r}")
        if self.seq_length < 2:
            raise ValueError(f"data.seq_length must be >= 2. Received: {self.seq_length!r}")


@dataclasses.dataclass
class CausalLMConfig:
    """task section of a causal-LM experiment.

    Attributes:
        model: a GPT architecture and/or checkpoint.
        data: the text.
        tokenizer: directory with vocab.json + merges.txt (or encoder.json +
            vocab.bpe); defaults to model.init_checkpoint. A model built from
            a config takes the tokenizer's vocabulary size.
    """

    model: ModelConfig
    data: CausalLMData
    tokenizer: Optional[str] = None
    type: str = "causal_lm"


class CausalLMTask(TrainingTask):
    config_class = CausalLMConfig

    def build_preprocessor(self):
        path = self.config.tokenizer or self.config.model.init_checkpoint
        if path is None:
            raise ValueError("task.tokenizer is required when task.model has no init_checkpoint.")
        return GPT2Tokenizer.from_pretrained(path)

    def build_model(self):
        model = self.config.model
        tokenizer = self.build_preprocessor()
        overrides = dict(model.overrides)
        if model.init_checkpoint is None:
            overrides.setdefault("vocabulary_size", tokenizer.vocabulary_size)
        backbone = build_backbone(model.config, model.init_checkpoint, overrides)
        if backbone.vocabulary_size < tokenizer.vocabulary_size:
            raise ValueError(f"The tokenizer has {tokenizer.vocabulary_size} tokens; the model "
                             f"only {backbone.vocabulary_size}.")
        return GPTCausalLM(backbone, tokenizer=tokenizer)

    def _blocks(self, path, tokenizer):
        """[N, seq_length + 1] int32 windows of the token stream of `path`."""
        documents = ["\n".join(document) for document in read_documents(path)]
        token_lists = tokenizer.tokenize(tf.constant(documents)).to_list()
        end = tokenizer.end_of_text_id
        stream = []
        for tokens in token_lists:
            stream.extend(tokens + ([end] if end is not None else []))
        width = self.config.data.seq_length + 1
        count = len(stream) // width
        if count == 0:
            raise ValueError(f"{path} has {len(stream)} tokens: fewer than one block of "
                             f"{width}. Lower data.seq_length.")
        return np.asarray(stream[:count * width], "int32").reshape(count, width)

    @staticmethod
    def _examples(blocks):
        """(features, next tokens, weights) from windows: inputs predict their successors."""
        inputs, labels = blocks[:, :-1], blocks[:, 1:]
        features = {"input_word_ids": tf.constant(inputs),
                    "input_mask": tf.ones_like(inputs)}
        return features, tf.constant(labels), tf.ones(labels.shape, tf.float32)

    def split_blocks(self):
        tokenizer = self.build_preprocessor()
        data = self.config.data
        train = self._blocks(data.train, tokenizer)
        if data.validation:
            return train, self._blocks(data.validation, tokenizer)
        held_out = int(len(train) * data.validation_fraction)
        if held_out == 0:
            return train, None
        return train[:-held_out], train[-held_out:]

    def datasets(self, batch_size, eval_batch_size, seed=0):
        train, validation = self.split_blocks()
        logging.info("Causal LM: %d training blocks of %d tokens", len(train),
                     self.config.data.seq_length)
        train_examples = self._examples(train)

        def epoch_dataset(epoch):
            return shuffled_batches(train_examples, batch_size, seed, epoch, drop_remainder=True)

        validation_dataset = None
        if validation is not None:
            validation_dataset = tf.data.Dataset.from_tensor_slices(
                self._examples(validation)).batch(eval_batch_size)
        return epoch_dataset, validation_dataset, max(len(train) // batch_size, 1)

    def evaluate(self, model, batch_size=64):
        """Perplexity (and mean loss) on the held-out text."""
        _, validation = self.split_blocks()
        if validation is None:
            return {}
        dataset = tf.data.Dataset.from_tensor_slices(self._examples(validation)).batch(batch_size)
        results = model.evaluate(dataset, verbose=0, return_dict=True)
        return {"perplexity": float(results["perplexity"]), "loss": float(results["loss"]),
                "blocks": int(len(validation))}
