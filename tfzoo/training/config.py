"""Experiment configuration: model + task/data + trainer + runtime, as YAML.

An experiment file (see configs/) has three sections:

    task:     what to train: `type` picks the task (e.g. bert_pretraining,
              sentence_classification), the rest are that task's fields,
              including its `model` section;
    trainer:  epochs, batch size, optimizer, checkpoints, early stopping;
    runtime:  distribution strategy, mixed precision, XLA, seed.

Unknown keys and bad values raise ValueError naming the dotted key.
"""

import dataclasses
import os
from typing import Any, Dict, List, Optional

from tfzoo.config import apply_overrides, from_dict, load_yaml
from tfzoo.config.paths import resolve_paths
from tfzoo.training.metrics import check_metric_names
from tfzoo.training.optimizers import OptimizerConfig


@dataclasses.dataclass
class ModelConfig:
    """Which model to build and which weights to start from.

    Attributes:
        config: architecture file (configs/models/*.yaml). Optional when
            `init_checkpoint` is given: the checkpoint then says.
        init_checkpoint: pretrained weights, any format tfzoo reads (Hugging
            Face, original Google BERT, tfzoo's own).
        overrides: constructor arguments that replace the architecture's,
            e.g. {dropout: 0.1}.
    """

    config: Optional[str] = None
    init_checkpoint: Optional[str] = None
    overrides: Dict[str, Any] = dataclasses.field(default_factory=dict)

    def __post_init__(self):
        if self.config is None and self.init_checkpoint is None:
            raise ValueError("task.model needs `config` (an architecture file), "
                             "`init_checkpoint`, or both.")


@dataclasses.dataclass
class TrainerConfig:
    """How long and how to train.

    Attributes:
        epochs: passes over the training data.
        steps_per_epoch: batches per epoch; None for one pass over the data.
        batch_size: global batch size (split across replicas).
        eval_batch_size: batch size for evaluation; defaults to batch_size.
        optimizer: AdamW, warmup and decay settings.
        checkpoint_monitor: metric for the best checkpoint (e.g. val_accuracy);
            None keeps only the last one. A name Keras logs: `loss` or a
            compiled metric's name, `val_` + either with validation data;
            a name the model does not log stops training after its first
            step (`tfzoo.training.callbacks.MonitorCheck`).
        checkpoint_mode: "max" or "min" for checkpoint_monitor.
        early_stopping_patience: epochs without improvement of
            checkpoint_monitor before stopping; None never stops early.
        tensorboard: write TensorBoard logs under model_dir/logs.
        verbose: Keras progress output: 1 progress bar, 2 one line per epoch.
        checkpoint_every_steps: with the custom loop (multi-worker and
            parameter-server strategies), save a checkpoint every N steps as
            well as at each epoch end.
    """

    epochs: int = 3
    steps_per_epoch: Optional[int] = None
    batch_size: int = 32
    eval_batch_size: Optional[int] = None
    optimizer: OptimizerConfig = dataclasses.field(default_factory=OptimizerConfig)
    checkpoint_monitor: Optional[str] = None
    checkpoint_mode: str = "max"
    early_stopping_patience: Optional[int] = None
    tensorboard: bool = True
    verbose: int = 1
    checkpoint_every_steps: Optional[int] = None

    def __post_init__(self):
        for name in ("epochs", "batch_size"):
            if getattr(self, name) < 1:
                raise ValueError(f"trainer.{name} must be >= 1. Received: {getattr(self, name)!r}")
        # None means "the default"; 0 is not a quiet way to ask for it.
        for name in ("steps_per_epoch", "eval_batch_size", "checkpoint_every_steps"):
            value = getattr(self, name)
            if value is not None and value < 1:
                raise ValueError(f"trainer.{name} must be >= 1, or null for the default. "
                                 f"Received: {value!r}")
        if self.early_stopping_patience is not None and self.early_stopping_patience < 0:
            raise ValueError("trainer.early_stopping_patience must be >= 0. Received: "
                             f"{self.early_stopping_patience!r}")
        if self.early_stopping_patience is not None and not self.checkpoint_monitor:
            raise ValueError("trainer.early_stopping_patience="
                             f"{self.early_stopping_patience!r} needs trainer.checkpoint_monitor.")
        if self.verbose not in (0, 1, 2):
            raise ValueError(f"trainer.verbose must be 0, 1 or 2. Received: {self.verbose!r}")
        # Which names exist depends on the model's metrics: `MonitorCheck`
        # checks the name against the logs of the first training step.
        if self.checkpoint_monitor is not None and not self.checkpoint_monitor.strip():
            raise ValueError("trainer.checkpoint_monitor must be a metric name such as "
                             f"val_loss, or null. Received: {self.checkpoint_monitor!r}")
        if self.checkpoint_mode not in ("max", "min"):
            raise ValueError(
                f"trainer.checkpoint_mode must be max or min. Received: {self.checkpoint_mode!r}")


@dataclasses.dataclass
class RuntimeConfig:
    """Where and with what numerics to train.

    Attributes:
        strategy: tf.distribute strategy name (default, one_device, mirrored,
            multi_worker_mirrored, parameter_server, tpu); the multi-worker
            ones read the cluster from TF_CONFIG.
        devices: devices for one_device (a list of one) / mirrored (e.g.
            ["/gpu:0", "/gpu:1"]); all local GPUs when null.
        all_reduce: mirrored: nccl, hierarchical_copy, reduce_to_one;
            multi_worker_mirrored: auto, ring, nccl; null (TF's default) for
            the other strategies, which have none to choose.
        tpu_address: the TPU to use with strategy tpu ("local" on a TPU VM).
        loop: "auto" (Keras' model.fit where it works: default, one_device,
            mirrored; tfzoo's custom loop otherwise), "fit" or "custom".
        mixed_precision: None, "mixed_bfloat16" or "mixed_float16" (the
            latter with dynamic loss scaling).
        jit_compile: XLA-compile the train step.
        data_autotune: tf.data autotuning of the input pipelines; null: on
            where a GPU or TPU runs the model, off on CPU-only hosts (its
            thread competes with the model's there; see
            `tfzoo.training.trainer.input_autotune`).
        seed: random seed for weights, dropout and data order.
    """

    strategy: str = "default"
    devices: Optional[List[str]] = None
    all_reduce: Optional[str] = None
    tpu_address: Optional[str] = None
    loop: str = "auto"
    mixed_precision: Optional[str] = None
    jit_compile: bool = False
    data_autotune: Optional[bool] = None
    seed: int = 0

    def __post_init__(self):
        from tfzoo.distribute.strategies import STRATEGIES, check_all_reduce, one_device

        if self.loop not in ("auto", "fit", "custom"):
            raise ValueError(f"runtime.loop must be auto, fit or custom. Received: {self.loop!r}")
        if self.loop == "fit" and self.strategy not in ("default", "one_device", "mirrored"):
            raise ValueError(f"Keras' model.fit cannot train under the {self.strategy} strategy "
                             "(keras#20585); use runtime.loop auto or custom.")
        if self.strategy not in STRATEGIES:
            raise ValueError(f"runtime.strategy must be one of {list(STRATEGIES)}. Received: "
                             f"{self.strategy!r}")
        check_all_reduce(self.strategy, self.all_reduce, key="runtime.all_reduce")
        if self.strategy == "one_device":
            one_device(self.devices, key="runtime.devices")
        # Settings a strategy would ignore are refused, as all_reduce is.
        if self.devices and self.strategy not in ("one_device", "mirrored"):
            raise ValueError(f"runtime.devices={self.devices!r} has no effect under the "
                             f"{self.strategy} strategy: only one_device and mirrored take "
                             "devices. Leave it null.")
        if self.tpu_address is not None and self.strategy != "tpu":
            raise ValueError(f"runtime.tpu_address={self.tpu_address!r} has no effect under the "
                             f"{self.strategy} strategy: only tpu takes it. Leave it null.")
        if self.mixed_precision not in (None, "mixed_bfloat16", "mixed_float16"):
            raise ValueError(
                "runtime.mixed_precision must be mixed_bfloat16, mixed_float16 or null. "
                f"Received: {self.mixed_precision!r}")


@dataclasses.dataclass
class ExperimentConfig:
    """A whole experiment. `task` is the task's own config dataclass."""

    task: Any
    trainer: TrainerConfig = dataclasses.field(default_factory=TrainerConfig)
    runtime: RuntimeConfig = dataclasses.field(default_factory=RuntimeConfig)


def experiment_from_dict(data):
    """Builds an ExperimentConfig; the task section is typed by `task.type`.

    `pkg:module/path` strings anywhere are resolved to installed files.
    """
    from tfzoo.tasks import task_class

    data = resolve_paths(data)
    unknown = sorted(set(data) - {"task", "trainer", "runtime"})
    if unknown:
        raise ValueError(f"Unknown config section(s) {unknown}; an experiment has "
                         "task, trainer and runtime.")
    task_data = dict(data.get("task") or {})
    if "type" not in task_data:
        raise ValueError("The task section needs a `type` (e.g. bert_pretraining).")
    task_type = task_data["type"]
    task_config = from_dict(task_class(task_type).config_class, task_data, prefix="task.")
    if getattr(task_config, "metrics", None) is not None:
        # Named by the config, computed only after training: checked now.
        check_metric_names(task_config.metrics, getattr(task_config, "regression", None))
    return ExperimentConfig(
        task=task_config,
        trainer=from_dict(TrainerConfig, data.get("trainer"), prefix="trainer."),
        runtime=from_dict(RuntimeConfig, data.get("runtime"), prefix="runtime."),
    )


def load_experiment(path, overrides=None):
    """Reads an experiment YAML file and applies `section.key=value` overrides.

    Relative paths in the file (`configs/models/gpt2_tiny.yaml`, data files)
    are read from the working directory when they exist there, else from the
    nearest directory above the config file that has them (the repository's
    configs name repository-relative paths), so a config runs from anywhere.
    Paths in `overrides` are the user's own: the working directory's.
    """
    return experiment_from_dict(apply_overrides(anchor_paths(load_yaml(path), path),
                                                overrides or []))


def anchor_paths(data, config_path):
    """`data` with each relative path string that does not exist from the
    working directory replaced by the one found from the config file's
    directory or a directory above it (unchanged when none has it)."""
    if isinstance(data, dict):
        return {k: anchor_paths(v, config_path) for k, v in data.items()}
    if isinstance(data, list):
        return [anchor_paths(v, config_path) for v in data]
    if (not isinstance(data, str) or "/" not in data or os.path.isabs(data)
            or ":" in data or os.path.exists(data)):
        return data
    directory = os.path.dirname(os.path.abspath(config_path))
    while True:
        candidate = os.path.join(directory, data)
        if os.path.exists(candidate):
            return candidate
        parent = os.path.dirname(directory)
        if parent == directory:
            return data
        directory = parent
