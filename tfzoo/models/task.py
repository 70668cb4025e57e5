"""Base of every task model: a backbone plus one head, with sensible defaults."""

import keras

from tfzoo.checkpoints.pretrained import PretrainedMixin


class Task(PretrainedMixin, keras.Model):
    """A functional model that adds a head (and its loss) to a backbone.

    Subclasses build their graph in `__init__` and call
    `super().__init__(backbone=..., inputs=..., outputs=...)`, keep one
    attribute per constructor argument, list those in `task_config()`, and
    may override `default_loss()` / `default_metrics()`, which `compile()`
    uses for any argument left at "auto".
    """

    def __init__(self, backbone, inputs, outputs, **kwargs):
        super().__init__(inputs=inputs, outputs=outputs, **kwargs)
        self.backbone = backbone

    def default_loss(self):
        return keras.losses.SparseCategoricalCrossentropy(from_logits=True)

    def default_metrics(self):
        return [keras.metrics.SparseCategoricalAccuracy(name="accuracy")]

    def compile(self, optimizer="auto", loss="auto", *, weighted_metrics="auto", **kwargs):
        """`keras.Model.compile` with the task's loss and metrics as defaults.

        `optimizer="auto"` is AdamW (learning rate 5e-5, weight decay 0.01), a
        fine-tuning default; the training stack configures its own.
        """
        if optimizer == "auto":
            optimizer = keras.optimizers.AdamW(5e-5, weight_decay=0.01)
        if loss == "auto":
            loss = self.default_loss()
        if weighted_metrics == "auto":
            weighted_metrics = self.default_metrics()
        super().compile(optimizer=optimizer, loss=loss, weighted_metrics=weighted_metrics,
                        **kwargs)

    def task_config(self):
        """The subclass's own constructor arguments (besides the backbone)."""
        return {}

    def get_config(self):
        return {
            "name": self.name,
            "trainable": self.trainable,
            "backbone": keras.saving.serialize_keras_object(self.backbone),
            **self.task_config(),
        }

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        if isinstance(config.get("backbone"), dict):
            config["backbone"] = keras.saving.deserialize_keras_object(config["backbone"])
        return cls(**config)
