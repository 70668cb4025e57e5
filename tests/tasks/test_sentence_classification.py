"""sentence_classification's metrics: defaults by kind, wrong kinds rejected at load."""

import pytest

from tfzoo.tasks.sentence_classification import (SentenceClassificationConfig,
                                                 TextClassificationData)
from tfzoo.training.config import ModelConfig

MODEL = ModelConfig(config="configs/models/bert_tiny.yaml")
DATA = TextClassificationData(train="train.tsv")


def test_metrics_default_to_the_task_kind():
    assert SentenceClassificationConfig(MODEL, DATA).metrics == ["accuracy"]
    regression = SentenceClassificationConfig(MODEL, DATA, labels=[])
    assert regression.metrics == ["pearson", "spearman"]


@pytest.mark.parametrize("labels, metrics, wrong", [
    (["0", "1"], ["accuracy", "pearson"], "pearson"),
    ([], ["f1"], "f1"),
    (["0", "1"], ["acuracy"], "acuracy"),
])
def test_metrics_of_the_wrong_kind_or_unknown_are_errors(labels, metrics, wrong):
    with pytest.raises(ValueError, match=f"task.metrics=.*'{wrong}'"):
        SentenceClassificationConfig(MODEL, DATA, labels=labels, metrics=metrics)
