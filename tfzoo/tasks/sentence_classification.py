"""Sentence and sentence-pair classification (GLUE, MRPC-style files): BERT fine-tuning.

The official flow: tokenize and pack in tf.data with the BERT preprocessor,
restore a pretrained encoder, add one classification layer, fit with AdamW,
evaluate with the task's metrics, export a SavedModel that takes raw sentences.
An XLNet model (model_type xlnet) runs the same flow with XLNet's
SentencePiece preprocessor and `XLNetClassifier`.
"""

import dataclasses
from typing import List, Optional

import keras
import numpy as np
import tensorflow as tf

from tfzoo.data.epochs import shuffled_batches
from tfzoo.data.text_files import read_columns
from tfzoo.export.saved_model import ServingSignature
from tfzoo.models.bert.bert_classifier import BertClassifier
from tfzoo.models.registry import build_backbone
from tfzoo.models.xlnet.xlnet_classifier import XLNetClassifier
from tfzoo.tasks.base import TrainingTask
from tfzoo.tasks.families import is_xlnet, task_preprocessor, xlnet_backbone
from tfzoo.training.config import ModelConfig
from tfzoo.training.metrics import check_metric_names, compute_metrics


@dataclasses.dataclass
class TextClassificationData:
    """Where the examples come from: local files, or TFDS.

    Attributes:
        train, validation: TSV/CSV/JSONL files (format from the extension).
        format: force "tsv", "csv" or "jsonl".
        text_columns: one column (single sentences) or two (pairs), in order.
        label_column: the column holding the label.
        tfds_name: a TFDS dataset (e.g. glue/mrpc) used instead of the files
            when given; needs tensorflow-datasets and network access.
        tfds_validation_split: the TFDS split evaluated on.
    """

    train: Optional[str] = None
    validation: Optional[str] = None
    format: Optional[str] = None
    text_columns: List[str] = dataclasses.field(default_factory=lambda: ["sentence"])
    label_column: str = "label"
    tfds_name: Optional[str] = None
    tfds_validation_split: str = "validation"

    def __post_init__(self):
        if not 1 <= len(self.text_columns) <= 3:
            raise ValueError("data.text_columns names one to three columns. Received: "
                             f"{self.text_columns!r}")
        if self.tfds_name is None and self.train is None:
            raise ValueError("data needs `train` (a file) or `tfds_name`.")


@dataclasses.dataclass
class SentenceClassificationConfig:
    """task section of a fine-tuning experiment.

    Attributes:
        model: encoder architecture and/or pretrained checkpoint.
        data: the examples.
        labels: label values as they appear in the data, in class-id order
            (e.g. ["0", "1"] for MRPC). Empty for regression (STS-B).
        label_names: names the export returns; defaults to `labels`.
        seq_length: packed input length.
        vocabulary: WordPiece vocabulary (directory or vocab.txt), or for
            XLNet a SentencePiece model (directory or spiece.model); defaults
            to the init_checkpoint directory.
        metrics: any of accuracy, f1, mcc (classification), pearson, spearman
            (regression); defaults to accuracy, or both correlations for
            regression. Names of the wrong kind are errors at load.
        serving_inputs: names of the exported signature's string inputs, one
            per text column (defaults: sentence, or sentence1 and sentence2).
        dropout: dropout before the classification layer.
    """

    model: ModelConfig
    data: TextClassificationData
    labels: List[str] = dataclasses.field(default_factory=lambda: ["0", "1"])
    label_names: Optional[List[str]] = None
    seq_length: int = 128
    vocabulary: Optional[str] = None
    metrics: Optional[List[str]] = None
    serving_inputs: Optional[List[str]] = None
    dropout: float = 0.1
    type: str = "sentence_classification"

    def __post_init__(self):
        if self.metrics is None:
            self.metrics = ["pearson", "spearman"] if self.regression else ["accuracy"]
        check_metric_names(self.metrics, self.regression)
        if self.label_names is not None and len(self.label_names) != len(self.labels):
            raise ValueError(f"task.label_names has {len(self.label_names)} entries but "
                             f"task.labels has {len(self.labels)}.")
        if self.serving_inputs is not None and len(self.serving_inputs) != len(
                self.data.text_columns):
            raise ValueError("task.serving_inputs needs one name per data.text_columns entry.")

    @property
    def regression(self):
        return not self.labels

    @property
    def input_names(self):
        if self.serving_inputs:
            return list(self.serving_inputs)
        count = len(self.data.text_columns)
        return ["sentence"] if count == 1 else [f"sentence{i + 1}" for i in range(count)]


class SentenceClassificationTask(TrainingTask):
    config_class = SentenceClassificationConfig
    model_classes = ("BertClassifier", "XLNetClassifier")

    def build_preprocessor(self):
        return task_preprocessor(self.config)

    def build_model(self):
        model = self.config.model
        num_classes = 1 if self.config.regression else len(self.config.labels)
        if is_xlnet(model):
            backbone = xlnet_backbone(model, self.build_preprocessor())
            return XLNetClassifier(backbone, num_classes=num_classes, dropout=self.config.dropout)
        backbone = build_backbone(model.config, model.init_checkpoint, model.overrides)
        return BertClassifier(backbone, num_classes=num_classes, dropout=self.config.dropout)

    def compile_kwargs(self):
        if self.config.regression:
            return {"loss": keras.losses.MeanSquaredError(), "weighted_metrics": []}
        return {}

    # === Data ===
    def _label_ids(self, values, source):
        if self.config.regression:
            return np.asarray([float(v) for v in values], "float32")
        index = {label: i for i, label in enumerate(self.config.labels)}
        ids = []
        for row, value in enumerate(values):
            key = str(value)
            if key not in index:
                raise ValueError(f"{source}, example {row}: label {value!r} is not one of "
                                 f"task.labels {self.config.labels}")
            ids.append(index[key])
        return np.asarray(ids, "int32")

    def examples(self, split):
        """(tuple of string arrays, label array) for 'train' or 'validation', or None."""
        data = self.config.data
        if data.tfds_name:
            return self._tfds_examples(split)
        path = data.train if split == "train" else data.validation
        if path is None:
            return None
        columns = read_columns(path, list(data.text_columns) + [data.label_column], data.format)
        texts = tuple(np.asarray(columns[c], dtype=object) for c in data.text_columns)
        return texts, self._label_ids(columns[data.label_column], path)

    def _tfds_examples(self, split):
        try:
            import tensorflow_datasets as tfds
        except ImportError as error:
            raise ValueError(f"data.tfds_name={self.config.data.tfds_name!r} needs "
                             "`pip install tensorflow-datasets` (and network access); "
                             "or point data.train/validation at local files.") from error
        name = "train" if split == "train" else self.config.data.tfds_validation_split
        dataset = tfds.as_numpy(tfds.load(self.config.data.tfds_name, split=name))
        rows = list(dataset)
        texts = tuple(np.asarray([r[c].decode("utf-8") for r in rows], dtype=object)
                      for c in self.config.data.text_columns)
        labels = [r[self.config.data.label_column] for r in rows]
        if not self.config.regression:
            outside = sorted({int(v) for v in labels} - set(range(len(self.config.labels))))
            if outside:  # GLUE's test splits label every example -1
                raise ValueError(
                    f"{self.config.data.tfds_name} split {name!r} has labels {outside[:5]} "
                    f"outside task.labels (indices 0..{len(self.config.labels) - 1}); unlabeled "
                    "splits cannot be trained or evaluated on.")
            labels = [self.config.labels[int(v)] for v in labels]
        return texts, self._label_ids(labels, self.config.data.tfds_name)

    @staticmethod
    def _tensors(examples):
        texts, labels = examples
        return tuple(tf.constant(t.tolist(), tf.string) for t in texts), tf.constant(labels)

    def _dataset(self, examples, batch_size, preprocessor):
        """Validation batches, in file order."""
        dataset = tf.data.Dataset.from_tensor_slices(self._tensors(examples)).batch(batch_size)
        return dataset.map(lambda t, y: (preprocessor(list(t)), y),
                           num_parallel_calls=tf.data.AUTOTUNE)

    def datasets(self, batch_size, eval_batch_size, seed=0):
        preprocessor = self.build_preprocessor()
        train = self.examples("train")
        validation = self.examples("validation")

        # Tokenized and packed once: epochs only gather, and the data graph holds
        # no tokenizer resources (parameter-server workers cannot reach them).
        texts, labels = self._tensors(train)
        train_tensors = (preprocessor(list(texts)), labels)

        def epoch_dataset(epoch):
            return shuffled_batches(train_tensors, batch_size, seed, epoch)

        validation_dataset = None
        if validation is not None:
            validation_dataset = self._dataset(validation, eval_batch_size, preprocessor)
        steps = int(np.ceil(len(train[1]) / batch_size))
        return epoch_dataset, validation_dataset, steps

    # === Evaluation and export ===
    def evaluate(self, model, batch_size=64):
        """Task metrics on the validation split, or {} when there is none."""
        validation = self.examples("validation")
        if validation is None:
            return {}
        dataset = self._dataset(validation, batch_size, self.build_preprocessor())
        logits = model.predict(dataset.map(lambda x, y: x), verbose=0)
        labels = validation[1]
        predictions = logits[:, 0] if self.config.regression else np.argmax(logits, axis=-1)
        names = self.config.metrics  # of the task's kind (checked at load)
        results = compute_metrics(names, labels, predictions, max(len(self.config.labels), 2))
        results["examples"] = int(len(labels))
        return results

    def serving_input_names(self):
        return self.config.input_names

    def serving_examples(self, count=3):
        """A few raw inputs (input name -> texts) for TF Serving warmup
        requests: the first rows of the local validation (or training) file,
        or fixed sentences when the data comes from TFDS."""
        data = self.config.data
        names = self.config.input_names
        path = data.validation or data.train
        if data.tfds_name is None and path is not None:
            columns = read_columns(path, list(data.text_columns), data.format)
            return {name: [str(v) for v in columns[column][:count]]
                    for name, column in zip(names, data.text_columns)}
        texts = ["The committee approved the plan on Monday.", "Is it going to rain?",
                 "Shares rose 3 percent in May."]
        return {name: texts[:count] for name in names}

    def serving_signature(self, model, preprocessor=None):
        """Raw sentences in; logits, probabilities, class id and label out.

        Over-long texts are trimmed round-robin to `seq_length` (not an
        error); bytes that are not UTF-8 are replaced (see BertPreprocessor);
        an empty string is a valid, empty segment."""
        preprocessor = preprocessor or self.build_preprocessor()
        names = self.config.input_names
        label_names = tf.constant(self.config.label_names or self.config.labels or ["score"])
        regression = self.config.regression

        def serve(inputs):
            logits = model(preprocessor([inputs[n] for n in names]), training=False)
            if regression:
                return {"score": logits[:, 0]}
            class_id = tf.argmax(logits, axis=-1, output_type=tf.int32)
            return {
                "logits": logits,
                "probabilities": tf.nn.softmax(logits, axis=-1),
                "class_id": class_id,
                "label": tf.gather(label_names, class_id),
            }

        return ServingSignature(
            inputs={n: tf.TensorSpec([None], tf.string, name=n) for n in names},
            fn=serve,
            resources=(preprocessor,),
            examples=self.serving_examples(),
        )
