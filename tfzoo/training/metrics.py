"""Evaluation metrics of the fine-tuning tasks, computed on whole prediction sets.

GLUE: accuracy, F1 (of the positive class for binary tasks, macro otherwise),
Matthews correlation (CoLA), Pearson and Spearman correlation (STS-B).
SQuAD v1.1: exact match and token F1 of answer strings. CoNLL-2003:
entity-level precision, recall and F1 of BIO tag sequences (conlleval).
"""

import collections
import re
import string

import numpy as np


def accuracy(labels, predictions):
    return float(np.mean(np.asarray(labels) == np.asarray(predictions)))


def _confusion(labels, predictions, num_classes):
    labels, predictions = np.asarray(labels), np.asarray(predictions)
    for name, values in (("labels", labels), ("predictions", predictions)):
        outside = values[(values < 0) | (values >= num_classes)]
        if outside.size:  # np.add.at would wrap -1 to the last class silently
            raise ValueError(f"{name} must be class ids in [0, {num_classes}); received "
                             f"{sorted(set(outside.tolist()))[:5]}.")
    matrix = np.zeros((num_classes, num_classes), np.int64)
    np.add.at(matrix, (labels, predictions), 1)
    return matrix  # rows: truth, columns: prediction


def f1(labels, predictions, num_classes=2):
    """F1 of class 1 for binary tasks (MRPC, QQP); macro-average otherwise."""
    matrix = _confusion(labels, predictions, num_classes)
    true_positive = np.diag(matrix).astype(float)
    predicted = matrix.sum(0)
    actual = matrix.sum(1)
    scores = np.divide(2 * true_positive, predicted + actual,
                       out=np.zeros(num_classes), where=(predicted + actual) > 0)
    return float(scores[1] if num_classes == 2 else scores.mean())


def matthews_correlation(labels, predictions, num_classes=2):
    """Matthews correlation coefficient (multi-class form, Gorodkin 2004)."""
    matrix = _confusion(labels, predictions, num_classes).astype(float)
    total = matrix.sum()
    correct = np.trace(matrix)
    predicted = matrix.sum(0)
    actual = matrix.sum(1)
    numerator = correct * total - predicted @ actual
    denominator = np.sqrt((total**2 - predicted @ predicted) * (total**2 - actual @ actual))
    return float(numerator / denominator) if denominator > 0 else 0.0


def pearson(labels, predictions):
    labels, predictions = np.asarray(labels, float), np.asarray(predictions, float)
    return float(np.corrcoef(labels, predictions)[0, 1])


def _ranks(values):
    """Ranks from 1, ties sharing their average rank."""
    values = np.asarray(values, float)
    order = np.argsort(values, kind="stable")
    ranks = np.empty(len(values))
    ranks[order] = np.arange(1, len(values) + 1)
    for value in np.unique(values):
        tied = values == value
        ranks[tied] = ranks[tied].mean()
    return ranks


def spearman(labels, predictions):
    return pearson(_ranks(labels), _ranks(predictions))


CLASSIFICATION_METRICS = {"accuracy": accuracy, "f1": f1, "mcc": matthews_correlation}
REGRESSION_METRICS = {"pearson": pearson, "spearman": spearman}


def check_metric_names(names, regression=None, key="task.metrics"):
    """Raises ValueError, naming `key` and the value, for a metric name
    `compute_metrics` does not know or one of the wrong kind.

    Args:
        names: the configured metric names.
        regression: True for a regression task (correlations only), False
            for classification (accuracy, f1, mcc), None when either fits.
        key: the config key, for the message.
    """
    known = sorted(CLASSIFICATION_METRICS) + sorted(REGRESSION_METRICS)
    for name in names:
        if name not in known:
            raise ValueError(f"{key}={list(names)!r}: unknown metric {name!r}; tfzoo has "
                             f"{known}")
    if regression is None:
        return
    allowed, kind = ((REGRESSION_METRICS, "a regression task (empty task.labels)") if regression
                     else (CLASSIFICATION_METRICS, "a classification task"))
    wrong = [name for name in names if name not in allowed]
    if wrong:
        raise ValueError(f"{key}={list(names)!r}: {wrong} do not apply to {kind}, which "
                         f"takes {sorted(allowed)}")


def compute_metrics(names, labels, predictions, num_classes=2):
    """{name: value} for the requested metric names."""
    results = {}
    for name in names:
        if name in ("f1", "mcc"):
            results[name] = CLASSIFICATION_METRICS[name](labels, predictions, num_classes)
        elif name in CLASSIFICATION_METRICS:
            results[name] = CLASSIFICATION_METRICS[name](labels, predictions)
        elif name in REGRESSION_METRICS:
            results[name] = REGRESSION_METRICS[name](labels, predictions)
        else:
            raise ValueError(f"Unknown metric {name!r}; tfzoo has "
                             f"{sorted(CLASSIFICATION_METRICS) + sorted(REGRESSION_METRICS)}")
    return results


# === SQuAD v1.1 (Rajpurkar et al. 2016; the official evaluate-v1.1.py) ===
_ARTICLES = re.compile(r"\b(a|an|the)\b")
_PUNCTUATION = set(string.punctuation)


def normalize_answer(text):
    """SQuAD's normalization: lower-case, drop ASCII punctuation, drop the
    articles a/an/the, collapse whitespace."""
    text = "".join(char for char in text.lower() if char not in _PUNCTUATION)
    return " ".join(_ARTICLES.sub(" ", text).split())


def _answer_f1(prediction, truth):
    predicted = normalize_answer(prediction).split()
    expected = normalize_answer(truth).split()
    common = sum((collections.Counter(predicted) & collections.Counter(expected)).values())
    if common == 0:
        return 0.0
    precision, recall = common / len(predicted), common / len(expected)
    return 2 * precision * recall / (precision + recall)


def _check_answers(ground_truths):
    if isinstance(ground_truths, str) or not ground_truths:
        raise ValueError("ground_truths must be a non-empty list of answer strings. "
                         f"Received: {ground_truths!r}")


def squad_exact_match(prediction, ground_truths):
    """1.0 when the normalized prediction equals a normalized ground truth, else 0.0."""
    _check_answers(ground_truths)
    return float(max(normalize_answer(prediction) == normalize_answer(truth)
                     for truth in ground_truths))


def squad_f1(prediction, ground_truths):
    """Best F1, over the ground truths, of the normalized tokens as bags of words."""
    _check_answers(ground_truths)
    return max(_answer_f1(prediction, truth) for truth in ground_truths)


def squad_metrics(predictions, references):
    """Mean exact match and F1 over questions, as fractions (x100 for SQuAD's tables).

    Args:
        predictions: list of predicted answer strings, one per question.
        references: list of lists of ground-truth answers, in the same order.

    Returns:
        {"exact_match": float, "f1": float}.
    """
    if len(predictions) != len(references) or not predictions:
        raise ValueError("squad_metrics needs one prediction per question. Received "
                         f"{len(predictions)} predictions for {len(references)} questions.")
    return {
        "exact_match": float(np.mean([squad_exact_match(p, r)
                                      for p, r in zip(predictions, references)])),
        "f1": float(np.mean([squad_f1(p, r) for p, r in zip(predictions, references)])),
    }


# === Named entities (CoNLL-2003's conlleval) ===
def bio_entities(tags):
    """(type, first, last) of every entity in one sentence's tags, as conlleval reads them.

    Tags are "O", "B-TYPE" or "I-TYPE". An entity starts at a B- tag, or at
    an I- tag that does not continue an entity of its type (after O or after
    another type), and ends before any tag that does not continue it. IOB1
    files (I- first, B- only between two adjacent entities) read the same.
    """
    entities, current, first = [], None, 0
    for index, tag in enumerate(list(tags) + ["O"]):
        if tag == "O":
            prefix, kind = "O", None
        elif tag[:2] in ("B-", "I-") and len(tag) > 2:
            prefix, kind = tag[0], tag[2:]
        else:
            raise ValueError(f"Tags must be O, B-TYPE or I-TYPE. Received: {tag!r}")
        if current is not None and (prefix != "I" or kind != current):
            entities.append((current, first, index - 1))
            current = None
        if prefix == "B" or (prefix == "I" and current is None):
            current, first = kind, index
    return entities


def entity_scores(true_tags, predicted_tags):
    """Micro-averaged entity precision, recall and F1 (conlleval, seqeval's default).

    An entity counts as found when a predicted entity has its type and exactly
    its span.

    Args:
        true_tags: list of sentences, each a list of BIO tags.
        predicted_tags: the predicted tags, the same shape.

    Returns:
        {"precision", "recall", "f1"} as fractions (0 where undefined).
    """
    if len(true_tags) != len(predicted_tags):
        raise ValueError(f"Received {len(predicted_tags)} predicted sentences for "
                         f"{len(true_tags)} true ones.")
    truth, predicted = set(), set()
    for index, (expected, guessed) in enumerate(zip(true_tags, predicted_tags)):
        if len(expected) != len(guessed):
            raise ValueError(f"Sentence {index}: {len(guessed)} predicted tags for "
                             f"{len(expected)} words.")
        truth.update((index,) + entity for entity in bio_entities(expected))
        predicted.update((index,) + entity for entity in bio_entities(guessed))
    found = len(truth & predicted)
    precision = found / len(predicted) if predicted else 0.0
    recall = found / len(truth) if truth else 0.0
    f1 = 2 * precision * recall / (precision + recall) if found else 0.0
    return {"precision": precision, "recall": recall, "f1": f1}
