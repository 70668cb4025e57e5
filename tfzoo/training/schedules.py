"""Learning-rate schedules: BERT's warmup + decay, the Transformer's inverse square root."""

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="tfzoo")
class WarmupPolynomialDecay(keras.optimizers.schedules.LearningRateSchedule):
    """Linear warmup to `peak_learning_rate`, then polynomial decay.

    BERT's warmup and linear decay (Devlin et al. 2018, appendix A.2): the
    rate rises linearly from 0 over `warmup_steps`, then decays as
    `(peak - end) * (1 - t / decay_steps) ** power + end` over the following
    `decay_steps` steps (power 1: linear decay), and stays at `end` after.
    This is transformers' and keras-hub's form (the peak is reached). Google's
    BERT code and Model Garden decay over the whole run from step 0, so after
    warmup their rate is lower by peak * warmup / total (at 10% warmup: 0.9x
    at the end of warmup, the same at both ends of the run).

    Args:
        peak_learning_rate: float.
        warmup_steps: int >= 0.
        decay_steps: int >= 1, steps of decay after the warmup.
        end_learning_rate: float. Defaults to 0.
        power: float. Defaults to 1.0 (linear).
    """

    def __init__(self, peak_learning_rate, warmup_steps, decay_steps, end_learning_rate=0.0,
                 power=1.0):
        if warmup_steps < 0 or decay_steps < 1:
            raise ValueError(
                "warmup_steps must be >= 0 and decay_steps >= 1. Received: "
                f"warmup_steps={warmup_steps!r}, decay_steps={decay_steps!r}"
            )
        self.peak_learning_rate = float(peak_learning_rate)
        self.warmup_steps = int(warmup_steps)
        self.decay_steps = int(decay_steps)
        self.end_learning_rate = float(end_learning_rate)
        self.power = float(power)

    def __call__(self, step):
        step = ops.cast(step, "float32")
        warmup = self.peak_learning_rate * step / max(self.warmup_steps, 1)
        progress = ops.clip((step - self.warmup_steps) / self.decay_steps, 0.0, 1.0)
        decayed = (self.peak_learning_rate - self.end_learning_rate) * (
            1.0 - progress) ** self.power + self.end_learning_rate
        return ops.where(step < self.warmup_steps, warmup, decayed)

    def get_config(self):
        return {
            "peak_learning_rate": self.peak_learning_rate,
            "warmup_steps": self.warmup_steps,
            "decay_steps": self.decay_steps,
            "end_learning_rate": self.end_learning_rate,
            "power": self.power,
        }


@keras.saving.register_keras_serializable(package="tfzoo")
class InverseSquareRootSchedule(keras.optimizers.schedules.LearningRateSchedule):
    """The Transformer's schedule (Vaswani et al. 2017, section 5.3, equation 3):

        lrate = scale * d_model^-0.5 * min(step^-0.5, step * warmup_steps^-1.5)

    with `step` counted from 1. It rises linearly for `warmup_steps` steps, then
    decays with the inverse square root of the step.

    Args:
        d_model: int, the model width.
        warmup_steps: int > 0. The paper uses 4000.
        scale: float, a multiplier (1.0 in the paper).
    """

    def __init__(self, d_model, warmup_steps=4000, scale=1.0):
        if d_model <= 0 or warmup_steps <= 0:
            raise ValueError(
                "d_model and warmup_steps must be > 0. Received: "
                f"d_model={d_model!r}, warmup_steps={warmup_steps!r}"
            )
        self.d_model = int(d_model)
        self.warmup_steps = int(warmup_steps)
        self.scale = float(scale)

    def __call__(self, step):
        step = ops.cast(step, "float32") + 1.0
        return self.scale * self.d_model**-0.5 * ops.minimum(
            ops.rsqrt(step), step * self.warmup_steps**-1.5)

    def get_config(self):
        return {"d_model": self.d_model, "warmup_steps": self.warmup_steps, "scale": self.scale}


@keras.saving.register_keras_serializable(package="tfzoo")
class PerUpdate(keras.optimizers.schedules.LearningRateSchedule):
    """`schedule` counted in optimizer updates under gradient accumulation.

    With `gradient_accumulation_steps=N` Keras calls the schedule with the
    number of batches seen (`optimizer.iterations`), while the schedule is
    sized in updates (one per N batches): evaluated at `step // N` the warmup
    and decay span the whole run instead of its first 1/N.

    Args:
        schedule: a `LearningRateSchedule` over updates.
        accumulation_steps: N, batches per update.
    """

    def __init__(self, schedule, accumulation_steps):
        if isinstance(schedule, dict):
            schedule = keras.saving.deserialize_keras_object(schedule)
        self.schedule = schedule
        self.accumulation_steps = int(accumulation_steps)

    def __call__(self, step):
        return self.schedule(ops.floor_divide(step, self.accumulation_steps))

    def get_config(self):
        return {"schedule": keras.saving.serialize_keras_object(self.schedule),
                "accumulation_steps": self.accumulation_steps}
