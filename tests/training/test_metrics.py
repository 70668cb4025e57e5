"""Task metrics against scikit-learn, SciPy and seqeval, and SQuAD's definitions."""

import numpy as np
import pytest
import scipy.stats
from sklearn import metrics as sk

from tfzoo.training.metrics import (
    bio_entities,
    compute_metrics,
    entity_scores,
    normalize_answer,
    squad_exact_match,
    squad_f1,
    squad_metrics,
)

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


def test_labels_outside_the_classes_are_named():
    """-1 (an unlabeled GLUE test split) wrapped to the last class: f1 1.0
    beside accuracy 0.5."""
    with pytest.raises(ValueError, match=r"labels must be class ids in \[0, 2\); received \[-1\]"):
        compute_metrics(["f1"], [-1, -1, 1, 1], [1, 1, 1, 1], 2)
    with pytest.raises(ValueError, match=r"received \[3\]"):
        compute_metrics(["mcc"], [0, 3], [0, 1], 2)


def test_correlations_equal_scipy():
    labels = RNG.integers(0, 6, 300).astype(float)  # many ties, like STS-B's scores
    predictions = labels + RNG.normal(scale=1.5, size=300)
    got = compute_metrics(["pearson", "spearman"], labels, predictions)
    assert got["pearson"] == pytest.approx(scipy.stats.pearsonr(labels, predictions)[0])
    assert got["spearman"] == pytest.approx(scipy.stats.spearmanr(labels, predictions)[0])


def test_unknown_metric_is_named():
    with pytest.raises(ValueError, match="Unknown metric 'bleu'"):
        compute_metrics(["bleu"], [0], [0])


# === SQuAD v1.1: exact match and F1, cases worked by hand from evaluate-v1.1.py ===


@pytest.mark.parametrize("text, expected", [
    ("The  Quick, brown fox!", "quick brown fox"),   # case, punctuation, article, spaces
    ("an apple a day", "apple day"),
    ("Anna and Theo", "anna and theo"),               # articles only as whole words
    ("São Paulo's", "são paulos"),                    # only ASCII punctuation goes
])
def test_normalize_answer(text, expected):
    assert normalize_answer(text) == expected


@pytest.mark.parametrize("prediction, truths, exact, f1", [
    ("the Eiffel Tower", ["Eiffel tower."], 1.0, 1.0),
    # "in year 1895" vs "1895": precision 1/3, recall 1, F1 2 * (1/3) / (4/3) = 1/2.
    ("in the year 1895", ["1895"], 0.0, 0.5),
    # The best of the ground truths counts.
    ("Lisbon, Portugal", ["Portugal", "Lisbon Portugal"], 1.0, 1.0),
    # Bags of words: "x y y z" vs "y y y" share two y's: P 2/4, R 2/3, F1 4/7.
    ("x y y z", ["y y y"], 0.0, 4 / 7),
    ("Oslo", ["Lima"], 0.0, 0.0),
    # Nothing left after normalization: equal strings, but no common token.
    ("!!!", ["the"], 1.0, 0.0),
])
def test_squad_exact_match_and_f1(prediction, truths, exact, f1):
    assert squad_exact_match(prediction, truths) == exact
    assert squad_f1(prediction, truths) == pytest.approx(f1)


def test_squad_metrics_average_over_questions():
    got = squad_metrics(["Lisbon", "in 1895", "Oslo"], [["lisbon"], ["1895", "1894"], ["Lima"]])
    assert got["exact_match"] == pytest.approx(1 / 3)
    # F1s 1, 2/3 ("in 1895" vs "1895": P 1/2, R 1), 0.
    assert got["f1"] == pytest.approx((1 + 2 / 3 + 0) / 3)


def test_squad_metrics_errors_name_the_values():
    with pytest.raises(ValueError, match="2 predictions for 1 questions"):
        squad_metrics(["a", "b"], [["a"]])
    with pytest.raises(ValueError, match="Received: 'Lisbon'"):
        squad_f1("Lisbon", "Lisbon")


# === Entities: conlleval's reading of BIO tags, against seqeval ===
@pytest.mark.parametrize("tags, expected", [
    (["B-PER", "I-PER", "O", "B-LOC"], [("PER", 0, 1), ("LOC", 3, 3)]),
    (["I-PER", "I-PER", "O", "I-LOC"], [("PER", 0, 1), ("LOC", 3, 3)]),   # I- after O starts one
    (["B-PER", "I-LOC", "I-LOC"], [("PER", 0, 0), ("LOC", 1, 2)]),        # type change starts one
    (["B-PER", "B-PER", "I-PER"], [("PER", 0, 0), ("PER", 1, 2)]),
    (["O", "O"], []),
])
def test_bio_entities(tags, expected):
    assert bio_entities(tags) == expected


def test_bad_tag_is_named():
    with pytest.raises(ValueError, match="Received: 'E-PER'"):
        bio_entities(["B-PER", "E-PER"])


TAGS = ["O", "B-PER", "I-PER", "B-LOC", "I-LOC", "B-MISC", "I-MISC"]


def random_tag(rng):
    return str(rng.choice(TAGS, p=[0.4] + [0.1] * 6))


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_entity_scores_equal_seqeval(seed):
    from seqeval import metrics as seqeval

    rng = np.random.default_rng(seed)
    # Random tags (I- after O or after another type too), 300 sentences.
    truth = [[random_tag(rng) for _ in range(rng.integers(1, 15))] for _ in range(300)]
    # Predictions: the truth with about one tag in five drawn anew.
    predicted = [[t if rng.random() < 0.8 else random_tag(rng) for t in sentence]
                 for sentence in truth]
    got = entity_scores(truth, predicted)
    assert got["precision"] == pytest.approx(seqeval.precision_score(truth, predicted))
    assert got["recall"] == pytest.approx(seqeval.recall_score(truth, predicted))
    assert got["f1"] == pytest.approx(seqeval.f1_score(truth, predicted))
    assert 0.2 < got["f1"] < 0.95


def test_entity_scores_on_a_hand_case():
    truth = [["B-PER", "I-PER", "O", "B-LOC"], ["B-ORG", "O"]]
    predicted = [["B-PER", "I-PER", "O", "B-ORG"], ["B-ORG", "B-MISC"]]
    # Found PER and ORG; predicted 4, true 3: P 1/2, R 2/3, F1 4/7.
    assert entity_scores(truth, predicted) == pytest.approx(
        {"precision": 0.5, "recall": 2 / 3, "f1": 4 / 7})


def test_check_metric_names():
    from tfzoo.training.metrics import check_metric_names

    check_metric_names(["accuracy", "pearson"])  # no task kind: any known name
    check_metric_names(["f1", "mcc"], regression=False)
    check_metric_names(["spearman"], regression=True)
    with pytest.raises(ValueError, match=r"task.metrics=\['f1', 'mse'\]: unknown metric 'mse'"):
        check_metric_names(["f1", "mse"])
    with pytest.raises(ValueError, match=r"\['accuracy'\] do not apply to a regression task"):
        check_metric_names(["accuracy", "pearson"], regression=True)
    with pytest.raises(ValueError, match=r"x.metrics=\['spearman'\]: \['spearman'\] do not apply"):
        check_metric_names(["spearman"], regression=False, key="x.metrics")
