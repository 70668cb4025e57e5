"""Sequence-to-sequence training of the Transformer: translation and other transductions."""

import dataclasses
from typing import List, Optional

import keras
import numpy as np
import tensorflow as tf
from absl import logging

from tfzoo.export.saved_model import ServingSignature
from tfzoo.generation.sampling import SamplingConfig
from tfzoo.models.registry import build_backbone
from tfzoo.preprocessing import BertPreprocessor
from tfzoo.tasks.base import TrainingTask
from tfzoo.training.config import ModelConfig
from tfzoo.training.losses import LabelSmoothedCrossEntropy


@dataclasses.dataclass
class ParallelData:
    """Aligned source/target text.

    Attributes:
        train, validation: TSV files, source<TAB>target per line; or
        train_source/train_target and validation_source/validation_target:
            aligned plain-text files, one sentence per line.
    """

    train: Optional[str] = None
    validation: Optional[str] = None
    train_source: Optional[str] = None
    train_target: Optional[str] = None
    validation_source: Optional[str] = None
    validation_target: Optional[str] = None

    def __post_init__(self):
        if self.train is None and (self.train_source is None or self.train_target is None):
            raise ValueError("data needs `train` (a TSV file) or `train_source` and "
                             "`train_target` (aligned files).")


@dataclasses.dataclass
class TranslationConfig:
    """task section of a sequence-to-sequence experiment.

    Attributes:
        model: a Transformer architecture (configs/models/transformer_*.yaml)
            and/or checkpoint; its vocabulary size comes from the vocabulary.
        data: parallel text.
        vocabulary: shared source/target WordPiece vocab.txt (`tfzoo build-vocab`
            makes one), with [PAD], [UNK], [CLS] (start), [SEP] (end), [MASK].
        lower_case: lower-case text before WordPiece (must match the vocab).
        max_length: longest source / target in tokens; longer ones are cut.
        label_smoothing: epsilon of the label-smoothed loss (paper: 0.1).
        num_beams: beam width for evaluation and export (paper: 4).
        length_penalty: GNMT alpha for beam search (paper: 0.6).
        bucket_boundaries: token lengths at which batches are split, so each
            batch pads to a similar length.
    """

    model: ModelConfig
    data: ParallelData
    vocabulary: str
    lower_case: bool = True
    max_length: int = 64
    label_smoothing: float = 0.1
    num_beams: int = 4
    length_penalty: float = 0.6
    bucket_boundaries: List[int] = dataclasses.field(default_factory=lambda: [8, 16, 32, 64])
    type: str = "translation"


def read_parallel(tsv=None, source=None, target=None):
    """(sources, targets) lists from a TSV file or two aligned files."""
    if tsv is not None:
        sources, targets = [], []
        with open(tsv, encoding="utf-8") as f:
            for number, line in enumerate(f, 1):
                if not line.strip():
                    continue
                parts = line.rstrip("\n").split("\t")
                if len(parts) != 2:
                    raise ValueError(f"{tsv}, line {number}: expected source<TAB>target, found "
                                     f"{len(parts)} column(s)")
                sources.append(parts[0])
                targets.append(parts[1])
        return sources, targets
    with open(source, encoding="utf-8") as f:
        sources = [line.rstrip("\n") for line in f]
    with open(target, encoding="utf-8") as f:
        targets = [line.rstrip("\n") for line in f]
    if len(sources) != len(targets):
        raise ValueError(f"{source} has {len(sources)} lines but {target} has {len(targets)}; "
                         "aligned files need one line per sentence pair.")
    return sources, targets


class TranslationTask(TrainingTask):
    config_class = TranslationConfig
    model_classes = ("Transformer",)

    def build_preprocessor(self):
        return BertPreprocessor(self.config.vocabulary, lower_case=self.config.lower_case,
                                seq_length=self.config.max_length)

    def build_model(self):
        model = self.config.model
        preprocessor = self.build_preprocessor()
        overrides = dict(model.overrides)
        if model.init_checkpoint is None:
            overrides.setdefault("vocabulary_size", len(preprocessor.vocabulary))
        transformer = build_backbone(model.config, model.init_checkpoint, overrides)
        transformer.preprocessor = preprocessor
        return transformer

    def compile_kwargs(self):
        return {
            "loss": LabelSmoothedCrossEntropy(self.config.label_smoothing),
            "weighted_metrics": [keras.metrics.SparseCategoricalAccuracy(name="token_accuracy")],
        }

    # === Data ===
    def _split(self, split):
        data = self.config.data
        if split == "train":
            return read_parallel(data.train, data.train_source, data.train_target)
        if data.validation or data.validation_source:
            return read_parallel(data.validation, data.validation_source, data.validation_target)
        return None

    def encode_pairs(self, sources, targets, preprocessor):
        """Ragged int32 tensors: encoder inputs (source [SEP]), decoder inputs
        ([CLS] target) and labels (target [SEP]), each at most max_length."""
        special = preprocessor.get_special_tokens_dict()
        start, end = special["start_of_sequence_id"], special["end_of_segment_id"]
        limit = self.config.max_length - 1

        def pieces(texts):
            return preprocessor.tokenize(tf.constant(texts)).merge_dims(1, 2)[:, :limit]

        source, target = pieces(sources), pieces(targets)
        rows = source.nrows()
        column = tf.fill([rows, 1], end)
        encoder = tf.concat([source, tf.RaggedTensor.from_tensor(column)], axis=1)
        decoder = tf.concat([tf.RaggedTensor.from_tensor(tf.fill([rows, 1], start)), target], 1)
        labels = tf.concat([target, tf.RaggedTensor.from_tensor(column)], axis=1)
        return encoder, decoder, labels

    def _batches(self, examples, indices, batch_size):
        """Bucketed, padded batches of the examples at `indices` (in order)."""
        encoder, decoder, labels = examples

        def example(index):
            return (tf.gather(encoder, index), tf.gather(decoder, index),
                    tf.gather(labels, index))

        dataset = tf.data.Dataset.from_tensor_slices(indices).map(example)
        boundaries = [b for b in self.config.bucket_boundaries if b < self.config.max_length]
        dataset = dataset.bucket_by_sequence_length(
            lambda e, d, y: tf.maximum(tf.shape(e)[0], tf.shape(d)[0]),
            bucket_boundaries=[b + 1 for b in boundaries],
            bucket_batch_sizes=[batch_size] * (len(boundaries) + 1),
            pad_to_bucket_boundary=False)

        def features(e, d, y):
            return ({"encoder_input_word_ids": e,
                     "encoder_input_mask": tf.cast(tf.not_equal(e, 0), tf.int32),
                     "decoder_input_word_ids": d,
                     "decoder_input_mask": tf.cast(tf.not_equal(d, 0), tf.int32)},
                    y, tf.cast(tf.not_equal(y, 0), tf.float32))

        return dataset.map(features)

    def datasets(self, batch_size, eval_batch_size, seed=0):
        preprocessor = self.build_preprocessor()
        sources, targets = self._split("train")
        examples = self.encode_pairs(sources, targets, preprocessor)
        count = len(sources)
        logging.info("Translation: %d training pairs", count)

        def epoch_dataset(epoch):
            # Order fixed by (seed, epoch): a resumed run reads the same batches.
            key = tf.stack([tf.cast(seed, tf.int64), tf.cast(epoch, tf.int64)])
            order = tf.random.experimental.stateless_shuffle(tf.range(count, dtype=tf.int64), key)
            return self._batches(examples, order, batch_size)

        validation = self._split("validation")
        validation_dataset = None
        if validation is not None:
            validation_examples = self.encode_pairs(*validation, preprocessor)
            validation_dataset = self._batches(
                validation_examples, tf.range(len(validation[0]), dtype=tf.int64),
                eval_batch_size)
            # Bucketing hides the number of batches from Keras, which then warns
            # that validation "ran out of data"; count them once.
            batches = int(validation_dataset.reduce(0, lambda count, _: count + 1))
            validation_dataset = validation_dataset.apply(
                tf.data.experimental.assert_cardinality(batches))
        return epoch_dataset, validation_dataset, int(np.ceil(count / batch_size))

    # === Evaluation ===
    def evaluate(self, model, batch_size=64, num_beams=None):
        """BLEU (keras-hub's metric) and exact match of decoded validation targets."""
        import keras_hub

        validation = self._split("validation")
        if validation is None:
            return {}
        sources, references = validation
        hypotheses = translate(model, sources, self.build_preprocessor(),
                               num_beams=num_beams or self.config.num_beams,
                               length_penalty=self.config.length_penalty, batch_size=batch_size)
        normalise = (lambda t: " ".join(t.lower().split())) if self.config.lower_case else (
            lambda t: " ".join(t.split()))
        references = [normalise(r) for r in references]
        bleu = keras_hub.metrics.Bleu()
        bleu.update_state([[r] for r in references], hypotheses)
        exact = float(np.mean([h == r for h, r in zip(hypotheses, references)]))
        return {"bleu": float(bleu.result()), "exact_match": exact, "examples": len(sources)}

    def serving_input_names(self):
        return ["source"]

    def serving_examples(self, count=3):
        """A few raw sources ({"source": texts}) for TF Serving warmup
        requests: the first validation (or training) sources."""
        pairs = self._split("validation") or self._split("train")
        return {"source": list(pairs[0][:count])}

    def serving_signature(self, model, preprocessor=None):
        """Raw source text in; its translation (beam search) and target ids out.

        Sources longer than `max_sequence_length - 1` tokens are cut (not an
        error); bytes that are not UTF-8 are replaced (see BertPreprocessor).
        `token_ids` [B, max_sequence_length] holds the start token, the
        target and padding 0."""
        preprocessor = preprocessor or self.build_preprocessor()
        special = preprocessor.get_special_tokens_dict()
        start, end = special["start_of_sequence_id"], special["end_of_segment_id"]
        length = model.max_sequence_length
        decode = model.decode_function(SamplingConfig(), self.config.num_beams,
                                       self.config.length_penalty, end)

        def serve(inputs):
            pieces = preprocessor.tokenize(inputs["source"]).merge_dims(1, 2)[:, :length - 1]
            rows = pieces.nrows()
            source = tf.concat([pieces, tf.RaggedTensor.from_tensor(tf.fill([rows, 1], end))], 1)
            source = source.to_tensor(default_value=0, shape=[None, length])
            buffer = tf.pad(tf.fill([rows, 1], start), [[0, 0], [0, length - 1]])
            ones = tf.ones([rows], tf.int32)
            targets = decode(source, buffer, ones, ones * length, tf.constant(0))
            return {"translation": preprocessor.detokenize(targets[:, 1:]),
                    "token_ids": targets}

        return ServingSignature(inputs={"source": tf.TensorSpec([None], tf.string, name="source")},
                                fn=serve, resources=(preprocessor,),
                                examples=self.serving_examples())


def translate(model, texts, preprocessor, num_beams=4, length_penalty=0.6, batch_size=64,
              max_length=None):
    """Raw strings -> translated strings through `preprocessor` and `model.generate`."""
    special = preprocessor.get_special_tokens_dict()
    start, end = special["start_of_sequence_id"], special["end_of_segment_id"]
    outputs = []
    for offset in range(0, len(texts), batch_size):
        chunk = list(texts[offset:offset + batch_size])
        pieces = preprocessor.tokenize(tf.constant(chunk)).merge_dims(1, 2)
        limit = model.max_sequence_length - 1
        source = [ids[:limit] + [end] for ids in pieces.to_list()]
        targets = model.generate(source, start_token_id=start, end_token_id=end,
                                 max_length=max_length, num_beams=num_beams,
                                 length_penalty=length_penalty)
        decoded = preprocessor.detokenize(tf.ragged.constant(targets, dtype=tf.int32)
                                          if any(targets) else [[0]] * len(targets))
        outputs.extend(s.decode("utf-8", errors="replace") for s in decoded.numpy().tolist())
    return [" ".join(o.split()) for o in outputs]

