"""The optimizer of a tfzoo experiment: AdamW with warmup and decay."""

import dataclasses
import re
from typing import List, Optional

import keras
from absl import logging

from tfzoo.training.schedules import InverseSquareRootSchedule, PerUpdate, WarmupPolynomialDecay


@dataclasses.dataclass
class OptimizerConfig:
    """AdamW as BERT uses it; every field can be set from YAML or the command line.

    Attributes:
        learning_rate: peak learning rate (2e-5 to 5e-5 for BERT fine-tuning).
        warmup_fraction: share of the total steps spent warming up.
        warmup_steps: absolute warmup steps; overrides `warmup_fraction`.
        decay: "linear", "polynomial" (with `power`), "constant", or
            "inverse_sqrt": the Transformer's schedule (Vaswani et al. 2017,
            equation 3) for a model of width `d_model`, warming up over
            `warmup_steps`, with `learning_rate` as a multiplier (1.0: the paper).
        power: exponent of polynomial decay.
        end_learning_rate: rate at the end of the decay.
        weight_decay: decoupled weight decay (AdamW).
        exclude_from_weight_decay: regular expressions; variables whose path
            or name matches one are kept free of weight decay (LayerNorm's
            gamma/beta and every bias, as BERT does). A pattern that matches
            no variable is an error.
        beta_1, beta_2, epsilon: Adam's constants (BERT: 0.9, 0.999, 1e-6).
        global_clipnorm: clip gradients to this global norm (BERT: 1.0); None
            for no clipping.
        gradient_accumulation_steps: apply the update every N batches.
        d_model: model width, for the inverse_sqrt schedule.
    """

    learning_rate: float = 2e-5
    warmup_fraction: float = 0.1
    warmup_steps: Optional[int] = None
    decay: str = "linear"
    power: float = 1.0
    end_learning_rate: float = 0.0
    weight_decay: float = 0.01
    exclude_from_weight_decay: List[str] = dataclasses.field(
        default_factory=lambda: ["gamma", "beta", "bias"])
    beta_1: float = 0.9
    beta_2: float = 0.999
    epsilon: float = 1e-6
    global_clipnorm: Optional[float] = 1.0
    gradient_accumulation_steps: int = 1
    d_model: Optional[int] = None

    def __post_init__(self):
        if self.decay not in ("linear", "polynomial", "constant", "inverse_sqrt"):
            raise ValueError("optimizer.decay must be linear, polynomial, constant or "
                             f"inverse_sqrt. Received: {self.decay!r}")
        if self.decay == "inverse_sqrt" and (self.d_model is None or self.warmup_steps is None):
            raise ValueError("optimizer.decay=inverse_sqrt needs optimizer.d_model and "
                             "optimizer.warmup_steps.")
        if not 0.0 <= self.warmup_fraction < 1.0:
            raise ValueError(
                f"optimizer.warmup_fraction must be in [0, 1). Received: {self.warmup_fraction!r}")
        if self.learning_rate <= 0:
            raise ValueError(
                f"optimizer.learning_rate must be > 0. Received: {self.learning_rate!r}")
        if self.weight_decay < 0:
            raise ValueError(
                f"optimizer.weight_decay must be >= 0. Received: {self.weight_decay!r}")
        if self.global_clipnorm is not None and self.global_clipnorm <= 0:
            raise ValueError("optimizer.global_clipnorm must be > 0, or null for no clipping. "
                             f"Received: {self.global_clipnorm!r}")
        if self.warmup_steps is not None and self.warmup_steps < 0:
            raise ValueError(
                f"optimizer.warmup_steps must be >= 0. Received: {self.warmup_steps!r}")
        if self.gradient_accumulation_steps < 1:
            raise ValueError("optimizer.gradient_accumulation_steps must be >= 1. Received: "
                             f"{self.gradient_accumulation_steps!r}")


def learning_rate_schedule(config, total_steps):
    """The schedule for `total_steps` optimizer updates."""
    if config.decay == "inverse_sqrt":
        return InverseSquareRootSchedule(config.d_model, config.warmup_steps,
                                         scale=config.learning_rate)
    if config.decay == "constant" and not (config.warmup_steps or config.warmup_fraction):
        return config.learning_rate
    warmup = (config.warmup_steps if config.warmup_steps is not None
              else int(round(total_steps * config.warmup_fraction)))
    if warmup > total_steps:
        logging.warning("optimizer.warmup_steps=%d exceeds the run's %d optimizer updates: the "
                        "learning rate never reaches optimizer.learning_rate=%g.",
                        warmup, total_steps, config.learning_rate)
    decay_steps = max(total_steps - warmup, 1)
    if config.decay == "constant":
        return WarmupPolynomialDecay(config.learning_rate, warmup, decay_steps,
                                     end_learning_rate=config.learning_rate)
    power = 1.0 if config.decay == "linear" else config.power
    return WarmupPolynomialDecay(config.learning_rate, warmup, decay_steps,
                                 end_learning_rate=config.end_learning_rate, power=power)


@keras.saving.register_keras_serializable(package="tfzoo")
class AdamW(keras.optimizers.AdamW):
    """Keras' AdamW, with two differences:

    - Clipping (`global_clipnorm`, `clipnorm`, `clipvalue`) applies to the
      gradient of the global batch under a synchronous tf.distribute strategy.
      Keras clips each replica's gradient before summing them, so with N
      replicas a run clipped differently from one device. Here the replicas'
      gradients are summed first, clipped, and each replica hands on 1/N of
      the clipped sum to Keras' own sum: one extra all-reduce per step, only
      when clipping is on.
    - `exclude_from_weight_decay(var_names=...)` patterns are searched in the
      variable's path ("transformer_layer_0/attention_layer_norm/gamma") as
      well as its name ("gamma"), so Model Garden's ["LayerNorm", "layer_norm",
      "bias"] and whole-layer names work.
    """

    def _clip_gradients(self, grads):
        context = _synchronous_replica_context()
        if context is None or not (self.clipnorm or self.global_clipnorm or self.clipvalue):
            return super()._clip_gradients(grads)
        import tensorflow as tf

        present = [i for i, g in enumerate(grads) if g is not None]
        summed = context.all_reduce(tf.distribute.ReduceOp.SUM, [grads[i] for i in present])
        clipped = super()._clip_gradients(summed)
        shares = list(grads)
        for i, gradient in zip(present, clipped):
            shares[i] = gradient / context.num_replicas_in_sync
        return shares

    def _use_weight_decay(self, variable):
        if not super()._use_weight_decay(variable):
            return False
        pattern = getattr(self, "_exclude_from_weight_decay_pattern", None)
        return pattern is None or pattern.search(getattr(variable, "path", "") or "") is None


def _synchronous_replica_context():
    """The replica context of a synchronous multi-replica tf.distribute step
    (TensorFlow backend), else None."""
    if keras.backend.backend() != "tensorflow":
        return None
    import tensorflow as tf

    if not tf.distribute.has_strategy() or tf.distribute.in_cross_replica_context():
        return None
    if isinstance(tf.distribute.get_strategy(),
                  tf.distribute.experimental.ParameterServerStrategy):
        return None  # asynchronous: each worker applies its own gradients
    context = tf.distribute.get_replica_context()
    return context if context is not None and context.num_replicas_in_sync > 1 else None


def check_weight_decay_exclusions(config, model):
    """Raises ValueError naming any `optimizer.exclude_from_weight_decay`
    pattern that matches no trainable variable's path or name (a typo would
    otherwise leave every variable decayed)."""
    names = [(v.path, v.name) for v in model.trainable_variables]
    unmatched = [pattern for pattern in config.exclude_from_weight_decay
                 if not any(re.search(pattern, path) or re.search(pattern, name)
                            for path, name in names)]
    if unmatched:
        example = names[-1][0] if names else "(none)"
        raise ValueError(f"optimizer.exclude_from_weight_decay: {unmatched} match no variable "
                         f"of the {type(model).__name__} (paths look like {example!r}).")


def build_optimizer(config, total_steps):
    """AdamW configured by `config` for a run of `total_steps` batches.

    With gradient accumulation the schedule counts optimizer updates, i.e.
    `total_steps / gradient_accumulation_steps`.
    """
    accumulation = config.gradient_accumulation_steps
    updates = max(total_steps // accumulation, 1)
    schedule = learning_rate_schedule(config, updates)
    if accumulation > 1 and not isinstance(schedule, (int, float)):
        schedule = PerUpdate(schedule, accumulation)  # Keras steps it once per batch
    optimizer = AdamW(
        learning_rate=schedule,
        weight_decay=config.weight_decay,
        beta_1=config.beta_1,
        beta_2=config.beta_2,
        epsilon=config.epsilon,
        global_clipnorm=config.global_clipnorm,
        gradient_accumulation_steps=accumulation if accumulation > 1 else None,
    )
    if config.exclude_from_weight_decay:
        optimizer.exclude_from_weight_decay(var_names=list(config.exclude_from_weight_decay))
    return optimizer
