"""Named-entity tagging on CoNLL-2003-format files: BERT fine-tuning.

Devlin et al. 2018, section 5.3: each word is cut into word pieces and the
tag classifier reads the first piece of each word; the other pieces, [CLS],
[SEP] and padding carry no label (sample weight 0). Scored at the entity
level with conlleval's rules (`tfzoo.training.metrics.entity_scores`).
"""

import dataclasses
import os
from typing import List, Optional

import numpy as np
import tensorflow as tf
from absl import logging

from tfzoo.data.epochs import in_memory_datasets
from tfzoo.models.bert.bert_token_classifier import BertTokenClassifier
from tfzoo.models.registry import build_backbone
from tfzoo.tasks.base import TrainingTask
from tfzoo.tasks.families import wordpiece_preprocessor
from tfzoo.training.config import ModelConfig
from tfzoo.training.metrics import entity_scores

CONLL2003_LABELS = ["O", "B-PER", "I-PER", "B-ORG", "I-ORG", "B-LOC", "I-LOC", "B-MISC",
                    "I-MISC"]


@dataclasses.dataclass
class ConllData:
    """Files in CoNLL-2003's column format.

    One word per line, columns separated by spaces, the word first; a blank
    line ends a sentence; -DOCSTART- lines are skipped.

    Attributes:
        train: the training file.
        validation: the evaluation file, or None.
        tag_column: the column of the tag, counted from 0 (negative: from the
            end). Defaults to the last (CoNLL-2003: word, POS, chunk, entity).
    """

    train: Optional[str] = None
    validation: Optional[str] = None
    tag_column: int = -1

    def __post_init__(self):
        if self.train is None:
            raise ValueError("task.data.train is required: a CoNLL-format file. "
                             f"Received: train={self.train!r}")
        if self.tag_column == 0:
            raise ValueError("task.data.tag_column cannot be 0: column 0 is the word. "
                             f"Received: tag_column={self.tag_column!r}")


@dataclasses.dataclass
class TokenTaggingConfig:
    """task section of a named-entity fine-tuning experiment.

    Attributes:
        model: encoder architecture and/or pretrained checkpoint.
        data: the CoNLL files.
        labels: the BIO tags ("O", "B-TYPE", "I-TYPE") in class-id order.
            Defaults to CoNLL-2003's.
        seq_length: packed input length T; longer sentences are cut into
            several inputs (see `tag_windows`).
        vocabulary: WordPiece vocabulary (directory or vocab.txt); defaults to
            the init_checkpoint directory.
        dropout: dropout before the tag classifier.
        type: "token_tagging".
    """

    model: ModelConfig
    data: ConllData
    labels: List[str] = dataclasses.field(default_factory=lambda: list(CONLL2003_LABELS))
    seq_length: int = 128
    vocabulary: Optional[str] = None
    dropout: float = 0.1
    type: str = "token_tagging"

    def __post_init__(self):
        if not self.labels or len(set(self.labels)) != len(self.labels):
            raise ValueError(f"task.labels must list distinct tags. Received: {self.labels!r}")
        for label in self.labels:
            if label != "O" and not (label[:2] in ("B-", "I-") and len(label) > 2):
                raise ValueError("task.labels must be BIO tags: O, B-TYPE or I-TYPE. "
                                 f"Received: {label!r}")
        if self.seq_length < 3:
            raise ValueError("task.seq_length must be >= 3 ([CLS], a word, [SEP]). "
                             f"Received: {self.seq_length!r}")


# === Reading CoNLL files ===
@dataclasses.dataclass
class Sentence:
    """Words, their tags and the file lines they came from."""

    words: List[str]
    tags: List[str]
    lines: List[int]


def read_conll(path, tag_column=-1):
    """The sentences of a CoNLL-format file (see `ConllData`).

    Raises:
        ValueError: naming the file and line of a word line without the tag
            column.
    """
    if not os.path.isfile(path):
        raise FileNotFoundError(f"No CoNLL file at {path}")
    sentences, current = [], Sentence([], [], [])
    with open(path, encoding="utf-8") as f:
        for number, line in enumerate(f, 1):
            columns = line.split()
            if not columns or columns[0] == "-DOCSTART-":
                if current.words:
                    sentences.append(current)
                    current = Sentence([], [], [])
                continue
            if not -len(columns) <= tag_column < len(columns) or len(columns) < 2:
                raise ValueError(f"{path}, line {number}: no tag in column {tag_column} of "
                                 f"{line.rstrip()!r}")
            current.words.append(columns[0])
            current.tags.append(columns[tag_column])
            current.lines.append(number)
    if current.words:
        sentences.append(current)
    if not sentences:
        raise ValueError(f"No sentences in {path}")
    return sentences


# === Packed inputs ===
@dataclasses.dataclass
class TagWindows:
    """A file's sentences as packed, labelled inputs.

    N inputs of T = seq_length positions; W words in all.

    Attributes:
        features: dict of int32 [N, T] model inputs.
        labels: int32 [N, T], the tag id on each word's first piece, 0 elsewhere.
        weights: float32 [N, T], 1 on each word's first piece, 0 elsewhere.
        word_window, word_position: int32 [W], where each word's first piece
            is, sentence after sentence.
        sentences: the `Sentence`s read.
    """

    features: dict
    labels: np.ndarray
    weights: np.ndarray
    word_window: np.ndarray
    word_position: np.ndarray
    sentences: List[Sentence]


def tag_windows(sentences, label_ids, preprocessor, seq_length, source):
    """Packs sentences as [CLS] word pieces [SEP], one tag per word.

    A sentence with more than `seq_length - 2` pieces is cut between words
    into consecutive inputs, each filled as far as it goes: every word is in
    exactly one input, so it is trained on and predicted once (words near a
    cut see only the context on their side of it). A single word with more
    pieces than an input holds keeps its first `seq_length - 2`; a word that
    tokenizes to nothing (e.g. only format characters) gets [UNK], so that it
    is still tagged.

    Args:
        sentences: `Sentence`s.
        label_ids: dict tag -> class id.
        preprocessor: a `BertPreprocessor`.
        seq_length: int, T.
        source: the file, for error messages.

    Returns:
        `TagWindows`.

    Raises:
        ValueError: naming the file, line and tag of a tag not in `label_ids`.
    """
    tag_ids = []
    for sentence in sentences:
        for tag, line in zip(sentence.tags, sentence.lines):
            if tag not in label_ids:
                raise ValueError(f"{source}, line {line}: tag {tag!r} is not one of "
                                 f"task.labels {list(label_ids)}")
            tag_ids.append(label_ids[tag])
    # All words of the file in one tokenizer call.
    words = [word for sentence in sentences for word in sentence.words]
    pieces = preprocessor.tokenize(tf.constant(words, tf.string)).merge_dims(1, 2)  # (W, (pieces))
    unknown = preprocessor.vocabulary.index("[UNK]")
    pieces = [p or [unknown] for p in pieces.to_list()]
    budget = seq_length - 2

    windows, word_window, word_position = [], [], []
    labels = []
    word = 0
    for sentence in sentences:
        current, current_labels = None, None
        for _ in sentence.words:
            word_pieces = pieces[word][:budget]
            if current is None or len(current) + len(word_pieces) > budget:
                current, current_labels = [], []
                windows.append(current)
                labels.append(current_labels)
            word_window.append(len(windows) - 1)
            word_position.append(1 + len(current))  # after [CLS]
            current_labels.append((1 + len(current), tag_ids[word]))
            current.extend(word_pieces)
            word += 1
    features = preprocessor.bert_pack_inputs(
        [tf.ragged.constant(windows, dtype=tf.int32)], seq_length=seq_length)
    label_array = np.zeros([len(windows), seq_length], np.int32)
    weight_array = np.zeros([len(windows), seq_length], np.float32)
    for row, tagged in enumerate(labels):
        positions, ids = zip(*tagged)
        label_array[row, list(positions)] = ids
        weight_array[row, list(positions)] = 1.0
    logging.info("%d sentences (%d words) in %d inputs of %d pieces from %s", len(sentences),
                 len(words), len(windows), seq_length, source)
    return TagWindows(
        features={name: value.numpy() for name, value in features.items()},
        labels=label_array,
        weights=weight_array,
        word_window=np.asarray(word_window, np.int32),
        word_position=np.asarray(word_position, np.int32),
        sentences=sentences,
    )


class TokenTaggingTask(TrainingTask):
    """CoNLL-2003-style tagging: a `BertTokenClassifier` on first word pieces."""

    config_class = TokenTaggingConfig
    model_classes = ("BertTokenClassifier",)
    exports_tokens = True

    def __init__(self, config):
        super().__init__(config)
        self._windows = {}

    def build_preprocessor(self):
        return wordpiece_preprocessor(self.config, "token_tagging")

    def build_model(self):
        model = self.config.model
        backbone = build_backbone(model.config, model.init_checkpoint, model.overrides)
        return BertTokenClassifier(backbone, num_classes=len(self.config.labels),
                                   dropout=self.config.dropout)

    # === Data ===
    def windows(self, split):
        """`TagWindows` of 'train' or 'validation' (None without a file), built once."""
        if split not in self._windows:
            path = self.config.data.train if split == "train" else self.config.data.validation
            if path is None:
                return None
            label_ids = {label: index for index, label in enumerate(self.config.labels)}
            self._windows[split] = tag_windows(
                read_conll(path, self.config.data.tag_column), label_ids,
                self.build_preprocessor(), self.config.seq_length, path)
        return self._windows[split]

    @staticmethod
    def _tensors(windows):
        features = {name: tf.constant(value) for name, value in windows.features.items()}
        return features, tf.constant(windows.labels), tf.constant(windows.weights)

    def datasets(self, batch_size, eval_batch_size, seed=0):
        # Tokenized and packed once: an epoch only shuffles and gathers.
        validation = self.windows("validation")
        return in_memory_datasets(
            self._tensors(self.windows("train")),
            None if validation is None else self._tensors(validation),
            batch_size, eval_batch_size, seed)

    # === Evaluation and export ===
    def evaluate(self, model, batch_size=64):
        """Entity precision, recall and F1 (conlleval) on the validation file, or {}."""
        windows = self.windows("validation")
        if windows is None:
            return {}
        dataset = tf.data.Dataset.from_tensor_slices(windows.features).batch(batch_size)
        logits = np.asarray(model.predict(dataset, verbose=0))  # (N, T, classes)
        word_tags = logits[windows.word_window, windows.word_position].argmax(-1)  # (W,)
        predicted, start = [], 0
        for sentence in windows.sentences:
            ids = word_tags[start:start + len(sentence.words)]
            predicted.append([self.config.labels[i] for i in ids])
            start += len(sentence.words)
        results = entity_scores([s.tags for s in windows.sentences], predicted)
        results["sentences"] = len(windows.sentences)
        return results

    def serving_signature(self, model, preprocessor=None):
        """None: tags are per word, and words are split and mapped back here in
        Python, so the export serves the model's token signature
        (`serve_tokens`, per-piece logits) only."""
        return None
