"""Base of every task model: a backbone plus one head, with sensible defaults."""

import importlib

import keras

from tfzoo.checkpoints.pretrained import PretrainedMixin
from tfzoo.models.arguments import (
    KERAS_MODEL_ARGUMENTS,
    accepted_arguments,
    check_known,
    constructor_arguments,
)


class Task(PretrainedMixin, keras.Model):
    """A functional model that adds a head (and its loss) to a backbone.

    Subclasses build their graph in `__init__` and call
    `super().__init__(backbone=..., inputs=..., outputs=...)`, keep one
    attribute per constructor argument, list those in `task_config()`, and
    may override `default_loss()` / `default_metrics()`, which `compile()`
    uses for any argument left at "auto".
    """

    def __init__(self, backbone, inputs, outputs, **kwargs):
        # keras.Model would drop unknown keyword arguments (a misspelt
        # `num_clases=3`) without a word.
        check_known(type(self), kwargs, accepted_arguments(type(self)))
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

    @classmethod
    def head_arguments(cls):
        """Names of the task's own arguments: its constructor's but `backbone`,
        and keras.Model's `name` and `trainable` (`dtype` is the backbone's)."""
        names = set(constructor_arguments(cls)) | set(KERAS_MODEL_ARGUMENTS)
        return names - {"backbone", "dtype"}

    @classmethod
    def split_overrides(cls, overrides, backbone_class):
        """`from_pretrained` overrides -> (task arguments, backbone arguments).

        Raises:
            ValueError: naming each override that neither the task nor
                `backbone_class` takes, and its value.
        """
        head = cls.head_arguments()
        check_known(cls, overrides, head | accepted_arguments(backbone_class),
                    what="override(s)",
                    where=f" (its own or its {backbone_class.__name__}'s arguments)")
        return ({k: v for k, v in overrides.items() if k in head},
                {k: v for k, v in overrides.items() if k not in head})

    @classmethod
    def _config_with_overrides(cls, config, overrides):
        if not overrides:
            return config
        backbone_config = config["backbone"]
        if str(backbone_config.get("module", "")).startswith("tfzoo."):
            importlib.import_module(backbone_config["module"])  # registers the class
        backbone_class = keras.saving.get_registered_object(
            backbone_config.get("registered_name") or backbone_config["class_name"])
        if backbone_class is None:
            raise ValueError(f"Unknown backbone class {backbone_config['class_name']!r} in the "
                             f"saved config of {cls.__name__}.")
        head, backbone = cls.split_overrides(overrides, backbone_class)
        config = {**config, **head}
        if backbone:
            config["backbone"] = {
                **backbone_config, "config": {**backbone_config["config"], **backbone}}
        return config

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
