"""Base of every backbone: a functional model whose config is its constructor."""

import keras

from tfzoo.checkpoints.pretrained import PretrainedMixin
from tfzoo.models.arguments import (
    accepted_arguments,
    check_known,
    constructor_arguments,
)


class Backbone(PretrainedMixin, keras.Model):
    """A functional `keras.Model` serialised by its constructor arguments.

    Subclasses build their graph in `__init__`, call
    `super().__init__(inputs=..., outputs=..., dtype=...)`, and keep one
    attribute per constructor argument; `get_config` reads them back using the
    subclass's own `__init__` signature. Keyword arguments that reach this
    constructor must be keras.Model's (`name`, `dtype`, `trainable`): any
    other, e.g. a misspelt `dropuot=0.5`, raises ValueError naming it.
    """

    def __init__(self, inputs, outputs, **kwargs):
        check_known(type(self), kwargs, accepted_arguments(type(self)))
        dtype = kwargs.get("dtype")
        super().__init__(inputs=inputs, outputs=outputs, **kwargs)
        # Keras' functional Model keeps no dtype of its own (its policy reads
        # the global one); the layers were built with `dtype`, so the config
        # records that one, and a saved mixed_bfloat16 model reloads as one.
        self._layers_dtype = None if dtype is None else keras.dtype_policies.get(dtype)

    @property
    def layers_compute_dtype(self):
        """The compute dtype the layers were built with (`dtype=...`), which
        the functional model's own `compute_dtype` (the global policy's) need
        not be: what tensors a backbone makes for its layers (a key/value
        cache) should use."""
        return (getattr(self, "_layers_dtype", None) or self.dtype_policy).compute_dtype

    def get_config(self):
        policy = getattr(self, "_layers_dtype", None) or self.dtype_policy
        config = {
            "name": self.name,
            "trainable": self.trainable,
            "dtype": keras.dtype_policies.serialize(policy),
        }
        config.update({key: getattr(self, key) for key in constructor_arguments(type(self))})
        return config

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        if isinstance(config.get("dtype"), dict):
            config["dtype"] = keras.dtype_policies.deserialize(config["dtype"])
        return cls(**config)
