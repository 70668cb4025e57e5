"""Evaluation metrics of the GLUE tasks, computed on whole prediction sets.

accuracy, F1 (of the positive class for binary tasks, macro otherwise),
Matthews correlation (CoLA), Pearson and Spearman correlation (STS-B).
"""

import numpy as np


def accuracy(labels, predictions):
    return float(np.mean(np.asarray(labels) == np.asarray(predictions)))


def _confusion(labels, predictions, num_classes):
    matrix = np.zeros((num_classes, num_classes), np.int64)
    np.add.at(matrix, (np.asarray(labels), np.asarray(predictions)), 1)
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
