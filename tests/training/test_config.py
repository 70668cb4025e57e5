"""Experiment configs: every shipped file loads; errors name keys and values."""

import glob
import os

import pytest

from tfzoo.config import load_yaml
from tfzoo.training.config import experiment_from_dict, load_experiment

ROOT = os.path.join(os.path.dirname(__file__), "..", "..")
EXPERIMENTS = [p for p in glob.glob(os.path.join(ROOT, "configs", "**", "*.yaml"), recursive=True)
               if "task" in load_yaml(p)]


@pytest.mark.parametrize("path", EXPERIMENTS, ids=os.path.basename)
def test_shipped_experiments_load(path):
    experiment = load_experiment(path)
    assert experiment.trainer.epochs >= 1


def test_pkg_paths_are_resolved():
    experiment = load_experiment(os.path.join(ROOT, "configs", "bert", "pretrain_tiny.yaml"))
    assert os.path.isfile(experiment.task.data.corpus)
    assert os.path.isfile(os.path.join(experiment.task.vocabulary, "vocab.txt"))


@pytest.mark.parametrize(
    "data, message",
    [
        ({"task": {"type": "glue"}}, "Unknown task type 'glue'"),
        ({"task": {}}, "needs a `type`"),
        ({"task": {"type": "bert_pretraining"}, "optimiser": {}}, r"Unknown config section\(s\)"),
        ({"task": {"type": "bert_pretraining", "model": {}, "data": {"corpus": "x"}}},
         "task.model needs `config`"),
        ({"task": {"type": "bert_pretraining", "model": {"config": "x"}, "data": {"corpus": "x"}},
          "trainer": {"optimizer": {"decay": "cosine"}}}, "decay must be linear"),
        ({"task": {"type": "bert_pretraining", "model": {"config": "x"}, "data": {"corpus": "x"}},
          "runtime": {"mixed_precision": "fp16"}}, "mixed_precision must be"),
        ({"task": {"type": "bert_pretraining", "model": {"config": "x"}, "data": {"corpus": "x"},
                   "vocab": "v"}}, r"Unknown config key\(s\) task.vocab"),
        ({"task": {"type": "bert_pretraining", "model": {"config": "x"},
                   "data": {"corpus": "pkg:no_such_package/x"}}}, "no installed package"),
    ],
)
def test_errors_name_the_key(data, message):
    with pytest.raises((ValueError, FileNotFoundError), match=message):
        experiment_from_dict(data)
