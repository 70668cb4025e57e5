"""Uniform read access to checkpoint files: safetensors and TensorFlow checkpoints."""

import os

import numpy as np


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
