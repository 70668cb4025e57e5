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


def test_default_export_names_are_unique():
    """`tfzoo train` exports to saved_models/<config file name>: two shipped
    experiments with one file name would overwrite each other's versions."""
    names = [os.path.splitext(os.path.basename(p))[0] for p in EXPERIMENTS]
    assert sorted(n for n in set(names) if names.count(n) > 1) == []


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


def classifier(**task):
    """A sentence_classification experiment dict (files are not read at load)."""
    return {"task": {"type": "sentence_classification", "model": {"config": "x"},
                     "data": {"train": "train.tsv"}, **task}}


def test_glue_mrpc_offline_override_loads():
    """The override printed at the top of configs/bert/glue_mrpc.yaml, as one string."""
    experiment = load_experiment(
        os.path.join(ROOT, "configs", "bert", "glue_mrpc.yaml"),
        "task.data.tfds_name=null,task.data.train=MRPC/train.tsv,"
        "task.data.validation=MRPC/dev.tsv,task.data.text_columns=[#1 String,#2 String],"
        "task.data.label_column=Quality")
    data = experiment.task.data
    assert data.tfds_name is None
    assert data.text_columns == ["#1 String", "#2 String"]
    assert data.label_column == "Quality"


@pytest.mark.parametrize(
    "section, key, value",
    [
        ("trainer", "steps_per_epoch", 0),
        ("trainer", "eval_batch_size", 0),
        ("trainer", "eval_batch_size", -8),
        ("trainer", "checkpoint_every_steps", 0),
        ("trainer", "early_stopping_patience", -1),
        ("trainer", "verbose", 3),
        ("trainer.optimizer", "weight_decay", -1.0),
        ("trainer.optimizer", "global_clipnorm", -1.0),
        ("trainer.optimizer", "global_clipnorm", 0.0),
        ("trainer.optimizer", "warmup_steps", -5),
    ],
)
def test_bad_trainer_values_are_named(section, key, value):
    data = classifier()
    node = data
    for part in section.split("."):
        node = node.setdefault(part, {})
    node[key] = value
    with pytest.raises(ValueError) as error:
        experiment_from_dict(data)
    message = str(error.value)
    assert f"{section.split('.')[-1]}.{key}" in message and f"Received: {value!r}" in message


def test_null_means_default_for_trainer_sizes():
    trainer = experiment_from_dict(classifier()).trainer
    assert trainer.steps_per_epoch is None and trainer.eval_batch_size is None
    assert trainer.optimizer.global_clipnorm == 1.0


def test_early_stopping_needs_a_monitor_at_load():
    data = classifier()
    data["trainer"] = {"early_stopping_patience": 2}
    with pytest.raises(ValueError, match=r"early_stopping_patience=2 needs "
                                         r"trainer.checkpoint_monitor"):
        experiment_from_dict(data)
    data["trainer"]["checkpoint_monitor"] = " "
    with pytest.raises(ValueError, match=r"checkpoint_monitor must be a metric name.*' '"):
        experiment_from_dict(data)


@pytest.mark.parametrize(
    "task, message",
    [
        ({"metrics": ["accuracy", "acuracy"]},
         r"task.metrics=\['accuracy', 'acuracy'\]: unknown metric 'acuracy'"),
        ({"metrics": ["pearson"]},
         r"task.metrics=\['pearson'\]: \['pearson'\] do not apply to a classification task"),
        ({"labels": [], "metrics": ["pearson", "f1"]},
         r"task.metrics=\['pearson', 'f1'\]: \['f1'\] do not apply to a regression task"),
    ],
)
def test_metrics_are_checked_at_load(task, message):
    with pytest.raises(ValueError, match=message):
        experiment_from_dict(classifier(**task))


def test_metrics_of_the_right_kind_load():
    assert experiment_from_dict(classifier(metrics=["accuracy", "f1", "mcc"])).task.metrics
    regression = experiment_from_dict(classifier(labels=[], metrics=["pearson", "spearman"]))
    assert regression.task.regression


@pytest.mark.parametrize(
    "runtime, message",
    [
        ({"all_reduce": "bogus"},
         (r"runtime.all_reduce must be one of \['auto', 'hierarchical_copy', 'nccl', "
          r"'reduce_to_one', 'ring'\] or null. Received: 'bogus'")),
        ({"strategy": "default", "all_reduce": "nccl"},
         r"runtime.all_reduce='nccl' has no effect under the default strategy"),
        ({"strategy": "one_device", "all_reduce": "reduce_to_one"},
         r"runtime.all_reduce='reduce_to_one' has no effect under the one_device strategy"),
        ({"strategy": "parameter_server", "all_reduce": "ring"},
         r"runtime.all_reduce='ring' has no effect under the parameter_server strategy"),
        ({"strategy": "mirrored", "all_reduce": "ring"},
         r"runtime.all_reduce='ring' is not an all-reduce of the mirrored strategy"),
        ({"strategy": "multi_worker_mirrored", "all_reduce": "hierarchical_copy"},
         (r"runtime.all_reduce='hierarchical_copy' is not an all-reduce of the "
          r"multi_worker_mirrored strategy")),
        ({"strategy": "one_device", "devices": ["/cpu:0", "/cpu:1"]},
         (r"one_device strategy runs on one device; runtime.devices names 2: "
          r"\['/cpu:0', '/cpu:1'\]")),
        ({"strategy": "default", "devices": ["/gpu:7"]},
         r"runtime.devices=\['/gpu:7'\] has no effect under the default strategy"),
        ({"strategy": "multi_worker_mirrored", "devices": ["/gpu:0"]},
         r"runtime.devices=\['/gpu:0'\] has no effect under the multi_worker_mirrored"),
        ({"strategy": "mirrored", "tpu_address": "grpc://10.0.0.2:8470"},
         r"runtime.tpu_address='grpc://10.0.0.2:8470' has no effect under the mirrored"),
    ],
)
def test_runtime_values_a_strategy_would_ignore_are_refused_at_load(runtime, message):
    with pytest.raises(ValueError, match=message):
        experiment_from_dict({**classifier(), "runtime": runtime})


@pytest.mark.parametrize("strategy, all_reduce", [
    ("mirrored", "nccl"), ("mirrored", "hierarchical_copy"), ("mirrored", "reduce_to_one"),
    ("multi_worker_mirrored", "ring"), ("multi_worker_mirrored", "auto"), ("tpu", None),
])
def test_all_reduce_names_of_the_strategy_load(strategy, all_reduce):
    runtime = experiment_from_dict(
        {**classifier(), "runtime": {"strategy": strategy, "all_reduce": all_reduce}}).runtime
    assert runtime.all_reduce == all_reduce


def test_repository_paths_in_a_config_resolve_from_any_directory(tmp_path, monkeypatch):
    """configs name repository-relative files (configs/models/*.yaml): they
    are found from the config's location when the working directory lacks them;
    command-line overrides stay relative to the working directory."""
    from tfzoo.models.registry import build_backbone

    config = os.path.abspath(os.path.join(ROOT, "configs", "gpt", "causal_lm_tiny.yaml"))
    monkeypatch.chdir(tmp_path)
    experiment = load_experiment(config)
    model_config = experiment.task.model.config
    assert os.path.isabs(model_config) and os.path.isfile(model_config)
    assert build_backbone(model_config).num_layers >= 1
    (tmp_path / "configs" / "models").mkdir(parents=True)
    (tmp_path / "configs" / "models" / "gpt2_tiny.yaml").write_text("mine: true\n")
    assert load_experiment(config).task.model.config == "configs/models/gpt2_tiny.yaml"
    moved = load_experiment(config, ["task.model.config=elsewhere/model.yaml"])
    assert moved.task.model.config == "elsewhere/model.yaml"
