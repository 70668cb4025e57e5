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


def test_tfds_labels_outside_task_labels_are_named(monkeypatch):
    """GLUE's test splits label every example -1, which became the last class."""
    import sys
    import types

    import numpy as np

    from tfzoo.tasks.sentence_classification import SentenceClassificationTask
    from tfzoo.training.config import load_experiment

    rows = [{"sentence1": b"a b", "sentence2": b"c d", "label": np.int64(-1)},
            {"sentence1": b"e", "sentence2": b"f", "label": np.int64(0)}]
    fake = types.ModuleType("tensorflow_datasets")
    fake.load = lambda name, split: rows
    fake.as_numpy = lambda dataset: dataset
    monkeypatch.setitem(sys.modules, "tensorflow_datasets", fake)
    experiment = load_experiment("configs/bert/glue_mrpc.yaml", [
        "task.model.init_checkpoint=null", "task.data.tfds_validation_split=test"])
    task = SentenceClassificationTask(experiment.task)
    with pytest.raises(ValueError, match=r"split 'test' has labels \[-1\] outside task.labels"):
        task.examples("validation")
    rows[0]["label"] = np.int64(1)
    assert list(task.examples("validation")[1]) == [1, 0]
