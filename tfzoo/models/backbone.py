"""Base of every backbone: a functional model whose config is its constructor."""

import inspect

import keras

from tfzoo.checkpoints.pretrained import PretrainedMixin


class Backbone(PretrainedMixin, keras.Model):
    """A functional `keras.Model` serialised by its constructor arguments.

    Subclasses build their graph in `__init__`, call
    `super().__init__(inputs=..., outputs=..., dtype=...)`, and keep one
    attribute per constructor argument; `get_config` reads them back using the
    subclass's own `__init__` signature.
    """

    @classmethod
    def _config_keys(cls):
        parameters = inspect.signature(cls.__init__).parameters
        return [name for name, p in parameters.items()
                if name != "self" and p.kind is p.POSITIONAL_OR_KEYWORD]

    def get_config(self):
        config = {
            "name": self.name,
            "trainable": self.trainable,
            "dtype": keras.dtype_policies.serialize(self.dtype_policy),
        }
        config.update({key: getattr(self, key) for key in self._config_keys()})
        return config

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        if isinstance(config.get("dtype"), dict):
            config["dtype"] = keras.dtype_policies.deserialize(config["dtype"])
        return cls(**config)
