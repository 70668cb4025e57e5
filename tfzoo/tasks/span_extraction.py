"""Extractive question answering on SQuAD v1.1-format files: BERT and XLNet fine-tuning.

Devlin et al. 2018, section 4.2, with the data prepared as Google's
run_squad.py prepares it: the question and a window of the context packed as
[CLS] question [SEP] context [SEP]; contexts longer than a window read as
several windows `doc_stride` pieces apart; the answer's first and last word
pieces are the labels, or [CLS] (position 0) in windows that do not hold the
answer. At evaluation the best span over all of a question's windows is mapped
back to the context's characters and scored with SQuAD's exact match and F1.

An XLNet model (Yang et al. 2019) reads SentencePiece pieces packed as XLNet's
SQuAD code packs them: context <sep> question <sep> <cls>, padded on the left,
with <cls> (the last position) as the label of windows without the answer.
Each piece maps back to its own characters (SentencePiece's offsets), so
answers align to piece boundaries.
"""

import dataclasses
import json
import os
import unicodedata
from typing import Dict, List, Optional, Tuple

import numpy as np
import tensorflow as tf
from absl import logging

from tfzoo.data.epochs import in_memory_datasets
from tfzoo.models.bert.bert_span_labeler import BertSpanLabeler
from tfzoo.models.registry import build_backbone
from tfzoo.models.xlnet.xlnet_span_labeler import XLNetSpanLabeler
from tfzoo.preprocessing.xlnet_preprocessor import XLNetPreprocessor
from tfzoo.tasks.base import TrainingTask
from tfzoo.tasks.families import is_xlnet, task_preprocessor, xlnet_backbone
from tfzoo.training.config import ModelConfig
from tfzoo.training.metrics import squad_metrics


@dataclasses.dataclass
class SquadData:
    """SQuAD v1.1 JSON files: {"data": [{"paragraphs": [{"context", "qas"}]}]}.

    Attributes:
        train: the training file (each question's first answer is its label).
        validation: the evaluation file (every listed answer counts), or None.
    """

    train: Optional[str] = None
    validation: Optional[str] = None

    def __post_init__(self):
        if self.train is None:
            raise ValueError("task.data.train is required: a SQuAD v1.1 JSON file. "
                             f"Received: train={self.train!r}")


@dataclasses.dataclass
class SpanExtractionConfig:
    """task section of a SQuAD fine-tuning experiment.

    Attributes:
        model: encoder architecture and/or pretrained checkpoint.
        data: the SQuAD files.
        seq_length: packed window length T (run_squad's max_seq_length).
        doc_stride: word pieces between the starts of consecutive windows of
            a long context.
        max_query_length: question pieces kept (the rest are cut).
        max_answer_length: longest predicted answer, in word pieces.
        vocabulary: WordPiece vocabulary (directory or vocab.txt), or for
            XLNet a SentencePiece model (directory or spiece.model); defaults
            to the init_checkpoint directory.
        type: "span_extraction".
    """

    model: ModelConfig
    data: SquadData
    seq_length: int = 384
    doc_stride: int = 128
    max_query_length: int = 64
    max_answer_length: int = 30
    vocabulary: Optional[str] = None
    type: str = "span_extraction"

    def __post_init__(self):
        for name in ("seq_length", "doc_stride", "max_query_length", "max_answer_length"):
            if getattr(self, name) < 1:
                raise ValueError(f"task.{name} must be >= 1. Received: {getattr(self, name)!r}")
        if self.seq_length - self.max_query_length - 3 < 1:
            raise ValueError(
                f"task.seq_length={self.seq_length} leaves no room for the context after "
                f"max_query_length={self.max_query_length} question pieces and three special "
                "tokens ([CLS] and two [SEP]; XLNet: two <sep> and <cls>).")


# === Reading SQuAD files ===
@dataclasses.dataclass
class Question:
    """A SQuAD question: its id and text, its paragraph (an index into the
    file's contexts) and its answers as (text, character start)."""

    id: str
    text: str
    paragraph: int
    answers: List[Tuple[str, int]]


def read_squad(path):
    """(contexts, questions) of a SQuAD v1.1 file.

    Raises:
        ValueError: naming the file and question when a question has no
            answer (SQuAD v2's unanswerable questions are not supported) or an
            answer's text is not at its answer_start.
    """
    if not os.path.isfile(path):
        raise FileNotFoundError(f"No SQuAD file at {path}")
    with open(path, encoding="utf-8") as f:
        data = json.load(f)
    if not isinstance(data, dict) or not isinstance(data.get("data"), list):
        raise ValueError(f"{path} is not a SQuAD file: expected {{\"data\": [...]}} at the top.")
    contexts, questions = [], []
    for article in data["data"]:
        for paragraph in article["paragraphs"]:
            context = paragraph["context"]
            for qa in paragraph["qas"]:
                if not qa["answers"]:
                    raise ValueError(f"{path}, question {qa['id']!r} has no answer; "
                                     "span_extraction reads SQuAD v1.1, where every question "
                                     "is answered.")
                answers = []
                for answer in qa["answers"]:
                    text, start = answer["text"], answer["answer_start"]
                    found = context[start:start + len(text)]
                    if found != text:
                        raise ValueError(f"{path}, question {qa['id']!r}: answer {text!r} is "
                                         f"not at answer_start={start} (found {found!r}).")
                    answers.append((text, start))
                questions.append(Question(qa["id"], qa["question"], len(contexts), answers))
            contexts.append(context)
    if not questions:
        raise ValueError(f"No questions in {path}")
    return contexts, questions


def _is_whitespace(char):
    return char in "\t\n\r" or unicodedata.category(char).startswith("Z")


def _is_punctuation(char):
    code = ord(char)
    return (33 <= code <= 47 or 58 <= code <= 64 or 91 <= code <= 96 or 123 <= code <= 126
            or unicodedata.category(char).startswith("P"))


def split_words(text):
    """Character spans [(start, end)] of the words of `text`.

    Words end at whitespace, and each punctuation character is a word of its
    own: the split BertPreprocessor makes before WordPiece (same character
    classes). So a word tokenized alone gets the pieces it gets inside the
    whole text, and every piece maps back to exact characters: "Lisbon." is
    two words, and an answer "Lisbon" maps back to "Lisbon", not "Lisbon."
    (run_squad splits at whitespace only and trims its answers heuristically).
    """
    spans, start = [], None
    for index, char in enumerate(text):
        if _is_whitespace(char) or _is_punctuation(char):
            if start is not None:
                spans.append((start, index))
                start = None
            if not _is_whitespace(char):
                spans.append((index, index + 1))
        elif start is None:
            start = index
    if start is not None:
        spans.append((start, len(text)))
    return spans


def _word_pieces(preprocessor, strings):
    """Piece ids of each string, flattened: (ids [P], row splits [len(strings) + 1])."""
    if not strings:
        return np.zeros([0], np.int32), np.zeros([1], np.int64)
    pieces = preprocessor.tokenize(tf.constant(strings, tf.string))
    if pieces.ragged_rank == 2:  # WordPiece: (N, (words), (pieces))
        pieces = pieces.merge_dims(1, 2)  # (N, (pieces))
    return pieces.flat_values.numpy(), pieces.row_splits.numpy()


def whitespace_chunks(text):
    """Character spans [(start, end)] of the runs of `text` between whitespace."""
    spans, start = [], None
    for index, char in enumerate(text):
        if _is_whitespace(char):
            if start is not None:
                spans.append((start, index))
                start = None
        elif start is None:
            start = index
    if start is not None:
        spans.append((start, len(text)))
    return spans


def _char_starts(string):
    """{byte offset: character index} of the character boundaries of `string`."""
    offsets, position = {}, 0
    for index, char in enumerate(string):
        offsets[position] = index
        position += len(char.encode("utf-8"))
    offsets[position] = len(string)
    return offsets


def sentencepiece_units(preprocessor, texts):
    """SentencePiece pieces of each text, and the characters of each piece.

    Every run between whitespace is tokenized alone (SentencePiece's pieces
    never cross whitespace, and XLNet's tokenizer collapses it, so this gives
    the whole text's pieces; tested). Where normalisation keeps a run's
    length in characters (case, accents of precomposed letters), piece i of
    the run covers the characters its byte offsets name, and is a unit of its
    own; a lone "▁" covers no characters. Where it does not ("``", NFKC
    expansions), the whole run is one unit holding all its pieces.

    Args:
        preprocessor: an `XLNetPreprocessor`.
        texts: list of str.

    Returns:
        one (units, pieces, unit_pieces) per text: units [(start, end)]
        character spans; pieces int32 [P]; unit_pieces int64 [U + 1], the
        first piece of each unit (and the end).
    """
    chunks = [(index, start, end) for index, text in enumerate(texts)
              for start, end in whitespace_chunks(text)]
    results = [([], [], [0]) for _ in texts]
    if not chunks:
        return [(u, np.zeros([0], np.int32), np.asarray(s, np.int64)) for u, _, s in results]
    normalized, ids, starts, ends = preprocessor.tokenize.with_offsets(
        tf.constant([texts[i][s:e] for i, s, e in chunks], tf.string))
    normalized = [value.decode("utf-8") for value in normalized.numpy()]
    for (index, start, end), string, chunk_ids, chunk_starts, chunk_ends in zip(
            chunks, normalized, ids.to_list(), starts.to_list(), ends.to_list()):
        units, pieces, unit_pieces = results[index]
        boundaries = _char_starts(string)
        mapped = len(string) == end - start and all(
            b in boundaries for b in chunk_starts + chunk_ends)
        if mapped:
            for piece, first, last in zip(chunk_ids, chunk_starts, chunk_ends):
                units.append((start + boundaries[first], start + boundaries[last]))
                pieces.append(piece)
                unit_pieces.append(len(pieces))
        elif chunk_ids:
            units.append((start, end))
            pieces.extend(chunk_ids)
            unit_pieces.append(len(pieces))
    return [(units, np.asarray(pieces, np.int32), np.asarray(unit_pieces, np.int64))
            for units, pieces, unit_pieces in results]


# === Windows ===
@dataclasses.dataclass
class Paragraph:
    """A context split into words, and its word pieces.

    Attributes:
        text: the context.
        words: character spans of its words (`split_words`); for XLNet, of
            its pieces (`sentencepiece_units`).
        pieces: int32 [P], the piece ids of the whole context.
        piece_word: int32 [P], the word of each piece.
        word_pieces: int64 [W + 1], the first piece of each word (and the end);
            a word that tokenizes to nothing has no pieces.
    """

    text: str
    words: List[Tuple[int, int]]
    pieces: np.ndarray
    piece_word: np.ndarray
    word_pieces: np.ndarray

    def answer_pieces(self, text, start):
        """(first, last) piece of an answer, or None when it does not start and
        end at word boundaries (run_squad skips those as well)."""
        end = start + len(text.rstrip())
        start += len(text) - len(text.lstrip())
        first = [i for i, (word_start, _) in enumerate(self.words) if word_start == start]
        last = [i for i, (_, word_end) in enumerate(self.words) if word_end == end]
        if not first or not last:
            return None
        first_piece, last_piece = self.word_pieces[first[0]], self.word_pieces[last[0] + 1] - 1
        return (int(first_piece), int(last_piece)) if first_piece <= last_piece else None


@dataclasses.dataclass
class SpanWindows:
    """The packed windows of a SQuAD file, and what maps positions back to text.

    N windows of T = seq_length positions.

    Attributes:
        features: dict of int32 [N, T] model inputs.
        start_positions, end_positions: int32 [N], the answer's first and last
            piece in each window; the [CLS] position (0; XLNet's <cls>: T - 1)
            when the window does not hold it.
        question: int32 [N], the question of each window (index into `questions`).
        context_start: int32 [N], the window's first piece in its paragraph.
        context_offset: int32 [N], that piece's position in the window
            (question length + 2; XLNet: the left padding).
        context_length: int32 [N], the number of context pieces in the window.
        paragraphs: the file's `Paragraph`s.
        questions: the file's `Question`s (training: only those with a
            usable answer).
    """

    features: Dict[str, np.ndarray]
    start_positions: np.ndarray
    end_positions: np.ndarray
    question: np.ndarray
    context_start: np.ndarray
    context_offset: np.ndarray
    context_length: np.ndarray
    paragraphs: List[Paragraph]
    questions: List[Question]

    def text(self, window, start, end):
        """The context text of positions start..end (inclusive) of a window."""
        paragraph = self.paragraphs[self.questions[self.question[window]].paragraph]
        shift = self.context_start[window] - self.context_offset[window]
        first_word = paragraph.piece_word[start + shift]
        last_word = paragraph.piece_word[end + shift]
        return paragraph.text[paragraph.words[first_word][0]:paragraph.words[last_word][1]]

    def context_mask(self):
        """bool [N, T]: true on the positions of context pieces."""
        positions = np.arange(self.features["input_word_ids"].shape[1])[None, :]
        offset = self.context_offset[:, None]
        return (positions >= offset) & (positions < offset + self.context_length[:, None])

    def max_context_mask(self):
        """bool [N, T]: true where the window gives the piece its most context.

        run_squad's `_check_is_max_context`: a piece seen by several windows
        belongs to the one where min(pieces left of it, pieces right of it)
        + 0.01 * window length is largest (the first on ties). Predicted
        answers may start only there.
        """
        mask = np.zeros(self.features["input_word_ids"].shape, bool)
        for question in np.unique(self.question):
            windows = np.flatnonzero(self.question == question)
            size = max(self.context_start[w] + self.context_length[w] for w in windows)
            best, owner = np.full(size, -np.inf), np.full(size, -1)
            for window in windows:
                start, length = self.context_start[window], self.context_length[window]
                pieces = np.arange(start, start + length)
                score = np.minimum(pieces - start, start + length - 1 - pieces) + 0.01 * length
                better = score > best[pieces]
                best[pieces[better]], owner[pieces[better]] = score[better], window
            for window in windows:
                start, length = self.context_start[window], self.context_length[window]
                offset = self.context_offset[window]
                mask[window, offset:offset + length] = owner[start:start + length] == window
        return mask


def _wordpiece_words(preprocessor, contexts):
    """(words, pieces, word_pieces) of each context: `split_words`, then
    WordPiece on every word (see `Paragraph`)."""
    words = [split_words(context) for context in contexts]
    pieces, splits = _word_pieces(
        preprocessor, [c[s:e] for c, spans in zip(contexts, words) for s, e in spans])
    results, first_word = [], 0
    for spans in words:
        word_pieces = splits[first_word:first_word + len(spans) + 1]
        results.append((spans, pieces[word_pieces[0]:word_pieces[-1]],
                        word_pieces - word_pieces[0]))
        first_word += len(spans)
    return results


def squad_windows(contexts, questions, preprocessor, config, training):
    """Packs every question with each window of its context.

    Args:
        contexts, questions: from `read_squad`.
        preprocessor: a `BertPreprocessor`, or an `XLNetPreprocessor` for
            XLNet's layout (context <sep> question <sep> <cls>, padded left).
        config: `SpanExtractionConfig` (seq_length, doc_stride, max_query_length).
        training: drop the questions whose first answer does not start and
            end at word boundaries (logged); otherwise keep them, with [CLS]
            labels.

    Returns:
        `SpanWindows`.
    """
    xlnet = isinstance(preprocessor, XLNetPreprocessor)
    # All words of all contexts, then all questions: one tokenizer call each.
    paragraphs = [Paragraph(context, words, pieces,
                            np.repeat(np.arange(len(words), dtype=np.int32),
                                      np.diff(word_pieces)), word_pieces)
                  for context, (words, pieces, word_pieces) in zip(
                      contexts, (sentencepiece_units if xlnet else _wordpiece_words)(
                          preprocessor, contexts))]
    query_ids, query_splits = _word_pieces(preprocessor, [q.text for q in questions])

    kept, skipped = [], 0
    query_segments, context_segments, rows = [], [], []
    for index, question in enumerate(questions):
        paragraph = paragraphs[question.paragraph]
        answer = paragraph.answer_pieces(*question.answers[0])
        if answer is None and training:
            skipped += 1
            continue
        query = query_ids[query_splits[index]:query_splits[index + 1]][:config.max_query_length]
        budget = config.seq_length - len(query) - 3
        start = 0
        while True:
            length = min(len(paragraph.pieces) - start, budget)
            if xlnet:  # padding, context <sep> question <sep> <cls>
                offset, cls = config.seq_length - length - len(query) - 3, config.seq_length - 1
            else:  # [CLS] question [SEP] context [SEP] padding
                offset, cls = len(query) + 2, 0
            label = (cls, cls)
            if answer is not None and start <= answer[0] and answer[1] < start + length:
                label = (answer[0] - start + offset, answer[1] - start + offset)
            query_segments.append(query)
            context_segments.append(paragraph.pieces[start:start + length])
            rows.append((len(kept), start, offset, length) + label)
            if start + length >= len(paragraph.pieces):
                break
            start += min(length, config.doc_stride)
        kept.append(question)
    if skipped:
        logging.info("Skipped %d of %d training questions whose answer does not start and end "
                     "at word boundaries.", skipped, len(questions))

    def ragged(segments):
        return tf.RaggedTensor.from_row_lengths(
            np.concatenate(segments).astype(np.int32), [len(s) for s in segments])

    segments = [ragged(query_segments), ragged(context_segments)]
    features = preprocessor.bert_pack_inputs(segments[::-1] if xlnet else segments,
                                             seq_length=config.seq_length)
    rows = np.asarray(rows, np.int32).reshape(-1, 6)
    logging.info("%d questions in %d windows of %d pieces.", len(kept), len(rows),
                 config.seq_length)
    return SpanWindows(
        features={name: value.numpy() for name, value in features.items()},
        start_positions=rows[:, 4],
        end_positions=rows[:, 5],
        question=rows[:, 0],
        context_start=rows[:, 1],
        context_offset=rows[:, 2],
        context_length=rows[:, 3],
        paragraphs=paragraphs,
        questions=kept,
    )


def best_answers(windows, start_logits, end_logits, max_answer_length):
    """The predicted answer text of each question.

    The best span over all of a question's windows by start + end logit,
    among spans inside the context part that end at or after their start,
    are at most `max_answer_length` pieces long, and start where their
    window gives the start piece its most context (run_squad's rules).

    Args:
        windows: `SpanWindows`.
        start_logits, end_logits: float [N, T].
        max_answer_length: int.

    Returns:
        list of strings, one per question of `windows`.
    """
    count, length = start_logits.shape
    in_context = windows.context_mask()
    can_start = in_context & windows.max_context_mask()
    best_score = np.full(count, -np.inf)
    best_start = np.zeros(count, np.int64)
    best_end = np.zeros(count, np.int64)
    rows = np.arange(count)
    for span in range(min(max_answer_length, length)):  # end = start + span
        scores = start_logits[:, :length - span] + end_logits[:, span:]  # (N, T - span)
        scores = np.where(can_start[:, :length - span] & in_context[:, span:], scores, -np.inf)
        start = scores.argmax(axis=1)
        better = scores[rows, start] > best_score
        best_score[better] = scores[rows, start][better]
        best_start[better], best_end[better] = start[better], start[better] + span
    answers = []
    for question in range(len(windows.questions)):
        candidates = np.flatnonzero(windows.question == question)
        window = candidates[np.argmax(best_score[candidates])]
        answers.append(windows.text(window, best_start[window], best_end[window]))
    return answers


class SpanExtractionTask(TrainingTask):
    """SQuAD v1.1: a `BertSpanLabeler` (XLNet: `XLNetSpanLabeler`) on packed
    question-context windows."""

    config_class = SpanExtractionConfig
    model_classes = ("BertSpanLabeler", "XLNetSpanLabeler")
    exports_tokens = True

    def __init__(self, config):
        super().__init__(config)
        self._windows = {}

    def build_preprocessor(self):
        return task_preprocessor(self.config)

    def build_model(self):
        model = self.config.model
        if is_xlnet(model):
            return XLNetSpanLabeler(xlnet_backbone(model, self.build_preprocessor()))
        return BertSpanLabeler(build_backbone(model.config, model.init_checkpoint,
                                              model.overrides))

    # === Data ===
    def windows(self, split):
        """`SpanWindows` of 'train' or 'validation' (None without a file), built once."""
        if split not in self._windows:
            path = self.config.data.train if split == "train" else self.config.data.validation
            if path is None:
                return None
            contexts, questions = read_squad(path)
            self._windows[split] = squad_windows(contexts, questions, self.build_preprocessor(),
                                                 self.config, training=split == "train")
        return self._windows[split]

    @staticmethod
    def _tensors(windows):
        features = {name: tf.constant(value) for name, value in windows.features.items()}
        labels = {"start_logits": tf.constant(windows.start_positions),
                  "end_logits": tf.constant(windows.end_positions)}
        return features, labels

    def datasets(self, batch_size, eval_batch_size, seed=0):
        # Tokenized and packed once: an epoch only shuffles and gathers.
        validation = self.windows("validation")
        return in_memory_datasets(
            self._tensors(self.windows("train")),
            None if validation is None else self._tensors(validation),
            batch_size, eval_batch_size, seed)

    # === Evaluation and export ===
    def evaluate(self, model, batch_size=64):
        """SQuAD v1.1 exact match and F1 (fractions) on the validation file, or {}."""
        windows = self.windows("validation")
        if windows is None:
            return {}
        dataset = tf.data.Dataset.from_tensor_slices(windows.features).batch(batch_size)
        logits = model.predict(dataset, verbose=0)
        predictions = best_answers(windows, np.asarray(logits["start_logits"]),
                                   np.asarray(logits["end_logits"]),
                                   self.config.max_answer_length)
        references = [[text for text, _ in q.answers] for q in windows.questions]
        results = squad_metrics(predictions, references)
        results["questions"] = len(references)
        return results

    def serving_signature(self, model, preprocessor=None):
        """None: answering raw text needs the windowing and the mapping back to
        characters done here in Python, so the export serves the model's token
        signature (`serve_tokens`, start and end logits) only."""
        return None
