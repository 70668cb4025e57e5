"""Causal language modelling (GPT, GPT-2) on local text files."""

import dataclasses
from typing import Optional

import numpy as np
import tensorflow as tf
from absl import logging

from tfzoo.data.epochs import shuffled_batches
from tfzoo.data.pretraining import read_documents
from tfzoo.export.saved_model import ServingSignature
from tfzoo.generation.sampling import SamplingConfig
from tfzoo.models.gpt.gpt_causal_lm import GPTCausalLM
from tfzoo.models.registry import build_backbone
from tfzoo.preprocessing import GPT2Tokenizer
from tfzoo.tasks.base import TrainingTask, full_batches
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
        serving_max_new_tokens: tokens the exported generator adds to each
            prompt (greedy; fewer when it writes <|endoftext|>).
        serving_max_prompt_tokens: prompt tokens the exported generator
            reads; longer prompts keep their last ones. The generation buffer
            is this plus serving_max_new_tokens, at most the model's context;
            null: 96, or less when the context is shorter.
    """

    model: ModelConfig
    data: CausalLMData
    tokenizer: Optional[str] = None
    serving_max_new_tokens: int = 32
    serving_max_prompt_tokens: Optional[int] = None
    type: str = "causal_lm"

    def __post_init__(self):
        for name in ("serving_max_new_tokens", "serving_max_prompt_tokens"):
            value = getattr(self, name)
            if value is None and name == "serving_max_prompt_tokens":
                continue
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"task.{name} must be an integer >= 1. Received: {value!r}")


class CausalLMTask(TrainingTask):
    config_class = CausalLMConfig
    model_classes = ("GPTCausalLM",)

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
        return epoch_dataset, validation_dataset, full_batches(
            len(train), batch_size, f"blocks of {self.config.data.seq_length} tokens")

    def evaluate(self, model, batch_size=64):
        """Perplexity (and mean loss) on the held-out text."""
        _, validation = self.split_blocks()
        if validation is None:
            return {}
        dataset = tf.data.Dataset.from_tensor_slices(self._examples(validation)).batch(batch_size)
        if not getattr(model, "compiled", False):  # a model loaded from disk
            model.compile()
        results = model.evaluate(dataset, verbose=0, return_dict=True)
        return {"perplexity": float(results["perplexity"]), "loss": float(results["loss"]),
                "blocks": int(len(validation))}

    # === Export ===
    def serving_input_names(self):
        return ["prompt"]

    def serving_examples(self, count=3, words=6):
        """A few prompts ({"prompt": texts}) for TF Serving warmup requests:
        the first words of the first lines of the training text."""
        prompts = []
        for document in read_documents(self.config.data.train):
            prompts.extend(" ".join(line.split()[:words]) for line in document)
            if len(prompts) >= count:
                break
        return {"prompt": prompts[:count]}

    def serving_signature(self, model, preprocessor=None):
        """Prompts in; greedy continuations out, generated inside the graph.

        The tokenizer runs in the graph; prompts are right-padded into one
        buffer of `serving_max_prompt_tokens + serving_max_new_tokens`
        positions and decoded by `GPTCausalLM.decode_function`, the loop
        `generate` compiles, so the export answers as `model.generate(prompts,
        max_new_tokens=serving_max_new_tokens)` does.

        Inputs: `prompt`, string [B].
        Outputs:
            text: string [B], the prompt (bytes that are not UTF-8 replaced
                by U+FFFD) followed by its continuation, which stops after
                <|endoftext|> when the model writes it. Always valid UTF-8: a
                continuation cut inside a character ends in U+FFFD, as
                `generate` decodes.
            token_ids: int32 [B, buffer], the prompt tokens read and the
                continuation, -1 after the end.

        An empty prompt starts from <|endoftext|>, as GPT-2 starts documents
        (its text is then the continuation alone); a prompt longer than
        `serving_max_prompt_tokens` keeps its last tokens.
        """
        tokenizer = preprocessor or getattr(model, "tokenizer", None) or self.build_preprocessor()
        max_new = self.config.serving_max_new_tokens
        context = model.backbone.max_sequence_length
        max_prompt = self.config.serving_max_prompt_tokens or min(96, context - max_new)
        length = max_prompt + max_new
        if max_prompt < 1 or length > context:
            raise ValueError(
                f"task.serving_max_prompt_tokens ({max_prompt}) + serving_max_new_tokens "
                f"({max_new}) = {length} exceeds the model's context, "
                f"max_sequence_length={context}.")
        end = tokenizer.end_of_text_id
        stop_ids = () if end is None else (end,)
        # The prompt pass covers the longest prompt the signature accepts.
        decode = model.decode_function(SamplingConfig(greedy=True), stop_token_ids=stop_ids,
                                       prefill_length=max_prompt)

        def serve(inputs):
            prompts = tf.strings.unicode_transcode(
                inputs["prompt"], "UTF-8", "UTF-8", errors="replace",
                replace_control_characters=False)
            ids = tokenizer.tokenize(prompts)[:, -max_prompt:]  # (B, (T)), T <= max_prompt
            empty = tf.equal(ids.row_lengths(), 0)
            if end is not None:
                starts = tf.RaggedTensor.from_row_lengths(
                    tf.fill([tf.reduce_sum(tf.cast(empty, tf.int32))], end),
                    tf.cast(empty, tf.int64))
                ids = tf.concat([ids, starts], axis=1)
            else:
                tf.debugging.assert_equal(
                    tf.reduce_any(empty), False,
                    message="Empty prompts need a tokenizer with <|endoftext|>.")
            lengths = tf.cast(ids.row_lengths(), tf.int32)  # (B,)
            buffer = ids.to_tensor(default_value=0, shape=[None, length])  # (B, L)
            ends = lengths + max_new
            outputs = decode(buffer, lengths, ends, tf.constant(0, tf.int32))  # (B, L)
            # As `generate` trims: through the first stop token after the prompt.
            positions = tf.range(length)[tf.newaxis, :]
            generated = positions >= lengths[:, tf.newaxis]
            stops = tf.zeros_like(generated)
            for token in stop_ids:
                stops |= generated & tf.equal(outputs, token)
            first_stop = tf.where(tf.reduce_any(stops, axis=1),
                                  tf.argmax(tf.cast(stops, tf.int32), axis=1,
                                            output_type=tf.int32) + 1, ends)
            kept = positions < tf.minimum(first_stop, ends)[:, tf.newaxis]
            continuation = tf.ragged.boolean_mask(outputs, generated & kept)
            text = tf.strings.unicode_transcode(
                tokenizer.detokenize(continuation), "UTF-8", "UTF-8", errors="replace",
                replace_control_characters=False)
            return {"text": tf.strings.join([prompts, text]),
                    "token_ids": tf.where(kept, outputs, -1)}

        return ServingSignature(inputs={"prompt": tf.TensorSpec([None], tf.string, name="prompt")},
                                fn=serve, resources=(tokenizer,),
                                examples=self.serving_examples())
