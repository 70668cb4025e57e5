"""Task metrics against scikit-learn and SciPy."""

import numpy as np
import pytest
import scipy.stats
from sklearn import metrics as sk

from tfzoo.training.metrics import compute_metrics

RNG = np.random.default_rng(0)


@pytest.mark.parametrize("num_classes", [2, 3])
def test_classification_metrics_equal_scikit_learn(num_classes):
    labels = RNG.integers(0, num_classes, 500)
    predictions = np.where(RNG.random(500) < 0.7, labels, RNG.integers(0, num_classes, 500))
    got = compute_metrics(["accuracy", "f1", "mcc"], labels, predictions, num_classes)
    average = "binary" if num_classes == 2 else "macro"
    assert got["accuracy"] == pytest.approx(sk.accuracy_score(labels, predictions))
    assert got["f1"] == pytest.approx(sk.f1_score(labels, predictions, average=average))
    assert got["mcc"] == pytest.approx(sk.matthews_corrcoef(labels, predictions))


def test_correlations_equal_scipy():
    labels = RNG.integers(0, 6, 300).astype(float)  # many ties, like STS-B's scores
    predictions = labels + RNG.normal(scale=1.5, size=300)
    got = compute_metrics(["pearson", "spearman"], labels, predictions)
    assert got["pearson"] == pytest.approx(scipy.stats.pearsonr(labels, predictions)[0])
    assert got["spearman"] == pytest.approx(scipy.stats.spearmanr(labels, predictions)[0])


def test_unknown_metric_is_named():
    with pytest.raises(ValueError, match="Unknown metric 'bleu'"):
        compute_metrics(["bleu"], [0], [0])
