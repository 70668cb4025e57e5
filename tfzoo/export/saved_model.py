"""Writes SavedModels that TensorFlow Serving answers from raw text.

Every export goes through `keras.export.ExportArchive` (a Keras 3 model
wrapped in a plain `tf.Module` does not load in TF Serving's TF1 session
loader) and carries two signatures:

- `serving_default`: named string inputs (e.g. `sentence1`, `sentence2`),
  tokenized inside the graph by the tracked preprocessor, and the task's
  outputs (e.g. logits, probabilities, class id and label);
- `serve_tokens`: the model's own int32 token inputs and raw outputs.
"""

import dataclasses
import os
import re
from typing import Callable, Dict

import keras
import tensorflow as tf
from absl import logging


@dataclasses.dataclass
class ServingSignature:
    """A raw-input serving function.

    Attributes:
        inputs: input name -> tf.TensorSpec (usually tf.string [None]).
        fn: maps a dict of those tensors to a dict of output tensors.
        resources: tf.Modules the function uses besides the model
            (preprocessors, lookup tables) so the archive saves them.
    """

    inputs: Dict[str, tf.TensorSpec]
    fn: Callable
    resources: tuple = ()


def _token_signature(model):
    inputs = model.input
    if not isinstance(inputs, dict):
        raise ValueError("serve_tokens needs a model with named dict inputs.")
    return {name: tf.TensorSpec([None, None], tf.int32, name=name) for name in inputs}


def export_saved_model(model, export_dir, serving=None):
    """Exports `model` (and its `serving` signature) to `export_dir`.

    Args:
        model: a built Keras model with dict inputs.
        export_dir: target directory (created; must not hold a SavedModel).
        serving: optional `ServingSignature` for raw inputs. Without it,
            `serving_default` is the token signature.

    Returns:
        export_dir.
    """
    if keras.backend.backend() != "tensorflow":
        raise ValueError("SavedModel export needs the TensorFlow backend "
                         f"(KERAS_BACKEND=tensorflow); running {keras.backend.backend()!r}.")
    if os.path.exists(os.path.join(export_dir, "saved_model.pb")):
        raise ValueError(f"{export_dir} already holds a SavedModel; export to a new version.")
    archive = keras.export.ExportArchive()
    archive.track(model)

    def serve_tokens(inputs):
        outputs = model(inputs, training=False)
        return outputs if isinstance(outputs, dict) else {"outputs": outputs}

    token_spec = _token_signature(model)
    if serving is not None:
        for resource in serving.resources:
            archive.track(resource)
        archive.add_endpoint("serving_default", serving.fn, input_signature=[serving.inputs])
        archive.add_endpoint("serve_tokens", serve_tokens, input_signature=[token_spec])
    else:
        archive.add_endpoint("serving_default", serve_tokens, input_signature=[token_spec])
    archive.write_out(export_dir, verbose=False)
    logging.info("Exported %s to %s", model.name, export_dir)
    return export_dir


def versioned_export_dir(base_dir, model_name, version=None):
    """`base_dir/model_name/<version>`, TF Serving's layout; the next integer by default."""
    if not re.fullmatch(r"[A-Za-z0-9_.-]+", model_name):
        raise ValueError(f"Model names for TF Serving use letters, digits, '_', '.', '-'. "
                         f"Received: {model_name!r}")
    model_dir = os.path.join(base_dir, model_name)
    if version is None:
        existing = [int(v) for v in os.listdir(model_dir) if v.isdigit()] if os.path.isdir(
            model_dir) else []
        version = max(existing, default=0) + 1
    if not isinstance(version, int) or version < 1:
        raise ValueError(f"Versions are positive integers. Received: version={version!r}")
    return os.path.join(model_dir, str(version))
