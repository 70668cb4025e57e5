"""Uniform read access to checkpoint files: safetensors and TensorFlow
checkpoints, and the JSON files beside them."""

import json
import os

import numpy as np


def read_json_object(path):
    """A JSON file holding an object (config.json, tokenizer.json, ...) as a
    dict; ValueError names the file when it is not valid JSON or not an object."""
    with open(path, encoding="utf-8") as file:
        try:
            data = json.load(file)
        except json.JSONDecodeError as error:
            raise ValueError(f"{path} is not valid JSON: {error}") from error
    if not isinstance(data, dict):
        raise ValueError(f"{path} must hold a JSON object; it holds a "
                         f"{type(data).__name__}: {str(data)[:80]}")
    return data


class CheckpointReader:
    """A read-only mapping of variable names to NumPy arrays."""

    description = "checkpoint"

    def keys(self):
        raise NotImplementedError

    def shape(self, key):
        raise NotImplementedError

    def read(self, key):
        raise NotImplementedError

    def __contains__(self, key):
        return key in self.keys()


class SafetensorsReader(CheckpointReader):
    """Reads a `.safetensors` file (Hugging Face, and tfzoo's own format)."""

    def __init__(self, path):
        from safetensors import safe_open

        if not os.path.isfile(path):
            raise FileNotFoundError(f"No safetensors file at {path}")
        self.description = path
        self._file = safe_open(path, framework="numpy")
        self._keys = set(self._file.keys())

    def keys(self):
        return self._keys

    def shape(self, key):
        return tuple(self._file.get_slice(key).get_shape())

    def read(self, key):
        return np.asarray(self._file.get_tensor(key))


class TFCheckpointReader(CheckpointReader):
    """Reads a TensorFlow checkpoint (`prefix.index` + `prefix.data-*`)."""

    def __init__(self, prefix):
        import tensorflow as tf

        if not os.path.isfile(prefix + ".index"):
            raise FileNotFoundError(f"No TensorFlow checkpoint at {prefix} (no {prefix}.index)")
        self.description = prefix
        self._reader = tf.train.load_checkpoint(prefix)
        self._shapes = {
            key: tuple(shape)
            for key, shape in self._reader.get_variable_to_shape_map().items()
        }

    def keys(self):
        return set(self._shapes)

    def shape(self, key):
        return self._shapes[key]

    def read(self, key):
        return np.asarray(self._reader.get_tensor(key))


def write_safetensors(arrays, path, metadata=None):
    """Writes a dict of NumPy arrays to a safetensors file."""
    from safetensors.numpy import save_file

    save_file({k: np.ascontiguousarray(v) for k, v in arrays.items()}, path, metadata=metadata)
