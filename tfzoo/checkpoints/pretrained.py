"""`from_pretrained` / `save_pretrained` for every tfzoo model.

Checkpoint formats are recognised by the files in the directory:

- tfzoo: `tfzoo_config.json` + `model.safetensors` (written by `save_pretrained`);
- Hugging Face: `config.json` + `model.safetensors`;
- original Google BERT: `bert_config.json` + `bert_model.ckpt.index` (+ data);
- original OpenAI GPT-2: `hparams.json` + `model.ckpt.index` (+ data).

A model family (BERT, GPT, ...) supplies a converter object with:
`kwargs_from_config(format, config, model_class)` -> constructor arguments,
`rules(format, config)` -> list of `Rule`, `prefixes(format, config)` ->
source-name prefixes to try, `ignore` -> patterns of checkpoint variables
that are expected to stay unused, and `optional` -> patterns of model
variables a checkpoint may lack.
"""

import glob
import importlib
import json
import os

import keras
from absl import logging

from tfzoo.checkpoints import mapping
from tfzoo.checkpoints.readers import (
    SafetensorsReader,
    TFCheckpointReader,
    read_json_object,
    write_safetensors,
)

TFZOO_CONFIG = "tfzoo_config.json"
WEIGHTS_FILE = "model.safetensors"

FORMATS = ("tfzoo", "huggingface", "google_bert", "openai_gpt2")


class CheckpointConfig(dict):
    """A checkpoint's JSON config that knows its file: reading a key it lacks
    raises ValueError naming the file and the key, not a bare KeyError."""

    def __init__(self, data, path):
        super().__init__(data)
        self.path = path

    def __missing__(self, key):
        raise ValueError(f"{self.path} has no {key!r}, which tfzoo needs to build the "
                         f"model. Its keys: {sorted(self)}")


def _read_json(path):
    return CheckpointConfig(read_json_object(path), path)


def _tf_checkpoint_prefix(directory, preferred):
    prefix = os.path.join(directory, preferred)
    if os.path.isfile(prefix + ".index"):
        return prefix
    indexes = sorted(glob.glob(os.path.join(directory, "*.ckpt*.index")))
    if indexes:
        return indexes[0][: -len(".index")]
    return None


def detect_format(path):
    """Returns (format, config dict, checkpoint reader) for a checkpoint directory."""
    if not os.path.isdir(path):
        raise FileNotFoundError(f"No checkpoint directory at {path}")
    files = set(os.listdir(path))
    if TFZOO_CONFIG in files:
        return "tfzoo", _read_json(os.path.join(path, TFZOO_CONFIG)), SafetensorsReader(
            os.path.join(path, WEIGHTS_FILE)
        )
    if "config.json" in files and WEIGHTS_FILE in files:
        return "huggingface", _read_json(os.path.join(path, "config.json")), SafetensorsReader(
            os.path.join(path, WEIGHTS_FILE)
        )
    if "bert_config.json" in files:
        prefix = _tf_checkpoint_prefix(path, "bert_model.ckpt")
        if prefix is None:
            raise FileNotFoundError(f"{path} has bert_config.json but no *.ckpt.index checkpoint")
        return "google_bert", _read_json(os.path.join(path, "bert_config.json")), (
            TFCheckpointReader(prefix)
        )
    if "hparams.json" in files:
        prefix = _tf_checkpoint_prefix(path, "model.ckpt")
        if prefix is None:
            raise FileNotFoundError(f"{path} has hparams.json but no model.ckpt.index checkpoint")
        return "openai_gpt2", _read_json(os.path.join(path, "hparams.json")), (
            TFCheckpointReader(prefix)
        )
    if "config.json" in files and "pytorch_model.bin" in files:
        raise ValueError(
            f"{path} holds a PyTorch pickle (pytorch_model.bin). tfzoo reads "
            "model.safetensors; convert with transformers: "
            "`AutoModel.from_pretrained(path).save_pretrained(path, safe_serialization=True)`."
        )
    raise FileNotFoundError(
        f"{path} is not a checkpoint tfzoo recognises. Expected one of: "
        f"{TFZOO_CONFIG} + {WEIGHTS_FILE} (tfzoo), config.json + {WEIGHTS_FILE} "
        "(Hugging Face), bert_config.json + bert_model.ckpt.* (Google BERT), "
        f"hparams.json + model.ckpt.* (OpenAI GPT-2). Found: {sorted(files)}"
    )


def save_pretrained(model, path):
    """Writes `model` in tfzoo's format: its config and every variable by path."""
    os.makedirs(path, exist_ok=True)
    config = {
        "class_name": type(model).__name__,
        "module": type(model).__module__,
        "config": keras.saving.serialize_keras_object(model)["config"],
    }
    with open(os.path.join(path, TFZOO_CONFIG), "w") as f:
        json.dump(config, f, indent=2, sort_keys=True)
    write_safetensors(
        mapping.variable_arrays(model.weights),
        os.path.join(path, WEIGHTS_FILE),
        metadata={"format": "tfzoo", "class_name": type(model).__name__},
    )
    logging.info("Saved %s to %s", type(model).__name__, path)


class PretrainedMixin:
    """Adds `from_pretrained` and `save_pretrained` to a model class.

    Subclasses set `checkpoint_converter` (see the module docstring). Task
    models that wrap a backbone override `_build_from_checkpoint_config`.
    """

    checkpoint_converter = None

    def save_pretrained(self, path):
        """Saves config and weights to directory `path` (tfzoo format)."""
        save_pretrained(self, path)

    def load_pretrained_weights(self, path, skip=()):
        """Loads a checkpoint directory (any supported format) into this model.

        Every variable must be found with the right shape (except `skip`
        patterns, e.g. a new task head), or nothing is loaded.
        """
        checkpoint_format, config, reader = detect_format(path)
        if checkpoint_format == "tfzoo":
            mapping.load_weights(self.weights, reader, mapping.native_rules(), skip=skip,
                                 check_layer_count=True)
            return
        converter = self.checkpoint_converter
        if converter is None:
            raise ValueError(f"{type(self).__name__} cannot load {checkpoint_format} checkpoints.")
        load_converted_weights(self, checkpoint_format, config, reader, converter, skip=skip)

    @classmethod
    def _build_from_checkpoint_config(cls, kwargs):
        return cls(**kwargs)

    @classmethod
    def _config_with_overrides(cls, config, overrides):
        """A saved (tfzoo) config with `from_pretrained` overrides applied."""
        return {**config, **overrides}

    @classmethod
    def from_pretrained(cls, path, load_weights=True, **overrides):
        """Builds the model from a checkpoint directory and loads its weights.

        Args:
            path: a checkpoint directory in any format of `detect_format`.
            load_weights: False builds the architecture only.
            **overrides: constructor arguments that replace the checkpoint's
                (e.g. `dropout=0.0`, `dtype="mixed_bfloat16"`); for a task
                model, its own arguments or its backbone's.

        Raises:
            FileNotFoundError: nothing tfzoo recognises at `path`.
            ValueError: unknown model type, an override the model does not
                take, or any variable missing or of the wrong shape (all
                listed, nothing loaded).
        """
        checkpoint_format, config, reader = detect_format(path)
        if checkpoint_format == "tfzoo":
            if config["class_name"] != cls.__name__:
                raise ValueError(
                    f"{path} holds a {config['class_name']}, not a {cls.__name__}."
                )
            try:
                model = cls.from_config(cls._config_with_overrides(config["config"], overrides))
            except TypeError as error:  # a key missing from, or foreign to, the saved config
                raise ValueError(f"The tfzoo config in {path} does not fit "
                                 f"{cls.__name__}: {error}") from error
            if load_weights:
                mapping.load_weights(model.weights, reader, mapping.native_rules(),
                                     check_layer_count=True)
            return model

        converter = cls.checkpoint_converter
        if converter is None:
            raise ValueError(f"{cls.__name__} cannot load {checkpoint_format} checkpoints.")
        kwargs = converter.kwargs_from_config(checkpoint_format, config, cls)
        kwargs.update(overrides)
        model = cls._build_from_checkpoint_config(kwargs)
        if load_weights:
            load_converted_weights(model, checkpoint_format, config, reader, converter)
        return model


def load_converted_weights(model, checkpoint_format, config, reader, converter, skip=()):
    """Loads a foreign checkpoint into `model` through the family's converter."""
    return mapping.load_weights(
        model.weights,
        reader,
        converter.rules(checkpoint_format, config),
        prefixes=converter.prefixes(checkpoint_format, config),
        skip=skip,
        ignore=converter.ignore,
        optional=converter.optional,
        check_layer_count=True,
    )


def checkpoint_model_type(path):
    """The model type a checkpoint directory holds (bert, roberta, gpt2, ...)
    or, for tfzoo checkpoints, its class name."""
    checkpoint_format, config, _ = detect_format(path)
    if checkpoint_format == "tfzoo":
        return config["class_name"]
    if checkpoint_format == "google_bert":
        return "bert"
    if checkpoint_format == "openai_gpt2":
        return "gpt2"
    return config.get("model_type")


def load_pretrained_model(path):
    """Any tfzoo model saved with `save_pretrained`, whatever its class."""
    checkpoint_format, config, _ = detect_format(path)
    if checkpoint_format != "tfzoo":
        raise ValueError(f"{path} is a {checkpoint_format} checkpoint; load it with the model "
                         "class's from_pretrained.")
    if config.get("module", "").startswith("tfzoo."):
        importlib.import_module(config["module"])  # registers the class with Keras
    cls = keras.saving.get_registered_object(f"tfzoo>{config['class_name']}")
    if cls is None:
        raise ValueError(f"{path} holds an unknown class {config['class_name']!r}.")
    return cls.from_pretrained(path)
