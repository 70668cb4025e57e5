"""The optimizer of a tfzoo experiment: AdamW with warmup and decay."""

import dataclasses
from typing import List, Optional

import keras

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
        exclude_from_weight_decay: variable names kept free of weight decay
            (LayerNorm's gamma/beta and every bias, as BERT does).
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
    decay_steps = max(total_steps - warmup, 1)
    if config.decay == "constant":
        return WarmupPolynomialDecay(config.learning_rate, warmup, decay_steps,
                                     end_learning_rate=config.learning_rate)
    power = 1.0 if config.decay == "linear" else config.power
    return WarmupPolynomialDecay(config.learning_rate, warmup, decay_steps,
                                 end_learning_rate=config.end_learning_rate, power=power)


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
    optimizer = keras.optimizers.AdamW(
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
