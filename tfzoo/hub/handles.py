"""Loading TF Hub models: a SavedModel directory, or a handle tensorflow_hub resolves."""

import os

import keras
import tensorflow as tf
import tensorflow_text  # noqa: F401  (registers the TF Text ops preprocessors use)


def check_tensorflow_backend(class_name):
    """TF Hub SavedModels run TensorFlow graphs: Keras must use its TensorFlow backend."""
    if keras.backend.backend() != "tensorflow":
        raise ValueError(f"{class_name} runs a TensorFlow SavedModel, so it needs the TensorFlow "
                         "backend (KERAS_BACKEND=tensorflow). Running the "
                         f"{keras.backend.backend()!r} backend.")


def _resolve(handle):
    """A local directory for `handle` (downloaded and cached by tensorflow_hub)."""
    try:
        import tensorflow_hub
    except ImportError as error:
        raise ImportError(
            f"{handle!r} is no local directory, and resolving TF Hub handles needs "
            f"tensorflow_hub, whose import failed: {error}. tensorflow-hub 0.16.1 imports "
            "pkg_resources, which setuptools 82 and later no longer ship (tensorflow/hub#934): "
            "pip install 'setuptools<82', or download the model and pass its directory."
        ) from error
    return tensorflow_hub.resolve(handle)


def load_saved_model(handle):
    """`tf.saved_model.load` of a SavedModel directory or a TF Hub handle (URL).

    The same as `tensorflow_hub.load(handle)`; tensorflow_hub is imported
    only to resolve (download and cache) handles that are no local directory.

    Raises:
        FileNotFoundError: a local path that is no SavedModel directory.
    """
    path = os.path.expanduser(os.fspath(handle))
    if os.path.isdir(path):
        if not tf.saved_model.contains_saved_model(path):
            raise FileNotFoundError(f"No SavedModel (saved_model.pb) in {path!r}.")
        return tf.saved_model.load(path)
    if os.path.exists(path) or path.startswith(("/", ".", "~")):
        raise FileNotFoundError(f"No SavedModel directory at {path!r}.")
    return tf.saved_model.load(_resolve(path))
