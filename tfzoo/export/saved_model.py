"""Writes SavedModels that TensorFlow Serving answers from raw text.

Every export goes through `keras.export.ExportArchive` (a Keras 3 model
wrapped in a plain `tf.Module` does not load in TF Serving's TF1 session
loader) and carries two signatures:

- `serving_default`: named string inputs (e.g. `sentence1`, `sentence2`),
  tokenized inside the graph by the tracked preprocessor, and the task's
  outputs (e.g. logits, probabilities, class id and label);
- `serve_tokens`: the model's own inputs (int32 token ids and masks) and raw outputs.

Beside the SavedModel it writes what TF Serving reads (`tfzoo.export.tf_serving`):
warmup requests built from the signature's example inputs in
`assets.extra/tf_serving_warmup_requests`, and, for the versioned layout
`<base>/<model_name>/<version>`, `<base>/models.config` listing every model.
"""

import dataclasses
import os
import re
from typing import Callable, Dict, Optional

import keras
import numpy as np
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
        examples: input name -> a few raw example values (the same count
            for every input), replayed as TF Serving warmup requests.
    """

    inputs: Dict[str, tf.TensorSpec]
    fn: Callable
    resources: tuple = ()
    examples: Optional[Dict[str, list]] = None


def _token_signature(model):
    """The model's own inputs, with their dtypes and shapes (a batch of any size)."""
    inputs = model.input
    if not isinstance(inputs, dict):
        raise ValueError("serve_tokens needs a model with named dict inputs.")
    return {name: tf.TensorSpec(tensor.shape, tensor.dtype, name=name)
            for name, tensor in inputs.items()}


def _token_examples(token_spec, length=8):
    """One example for the token signature: ids 0 and masks 1 (all real
    tokens); other inputs (float masks, memories) zeros, unknown sizes
    `length`."""
    examples = {}
    for name, spec in token_spec.items():
        shape = [length if size is None else size for size in spec.shape[1:]]
        value = 1 if spec.dtype.is_integer and "mask" in name else 0
        examples[name] = np.full([1] + shape, value, spec.dtype.as_numpy_dtype).tolist()
    return examples


def _write_serving_files(export_dir, examples, specs):
    """Warmup requests from `examples` (if any), typed as `specs`, and
    models.config for the versioned layout."""
    from tfzoo.export import tf_serving

    version_dir = os.path.abspath(export_dir)
    model_name = os.path.basename(os.path.dirname(version_dir))
    if examples:
        dtypes = {name: spec.dtype for name, spec in specs.items()}
        tf_serving.write_warmup_requests(
            export_dir, tf_serving.example_requests(model_name, examples, dtypes=dtypes))
    else:
        logging.warning("%s: the serving signature has no examples, so no warmup "
                        "requests were written.", export_dir)
    if os.path.basename(version_dir).isdigit():  # <base>/<model_name>/<version>
        tf_serving.write_models_config(os.path.dirname(os.path.dirname(version_dir)))


def float32_outputs(value):
    """Floating outputs as float32 (lists item by item), also when the model
    computes in float16 or bfloat16 under a mixed-precision policy: what TF
    Hub's encoders and clients of the model server expect."""
    if isinstance(value, (list, tuple)):
        return [float32_outputs(item) for item in value]
    return tf.cast(value, tf.float32) if value.dtype.is_floating else value


def _flat_outputs(outputs):
    """Signature outputs are flat (a list output `name` becomes `name_0`,
    `name_1`, ...) and float32."""
    if not isinstance(outputs, dict):
        return {"outputs": float32_outputs(outputs)}
    flat = {}
    for name, value in outputs.items():
        if isinstance(value, (list, tuple)):
            flat.update({f"{name}_{i}": item for i, item in enumerate(float32_outputs(value))})
        else:
            flat[name] = float32_outputs(value)
    return flat


def _set_root_attributes(archive, attributes):
    """Saves `attributes` on the SavedModel's root object, beside the signatures.

    `ExportArchive` has no public API for children that are not signatures
    (TF Hub's callable root, `.tokenize`); its root object is the trackable
    `_tf_trackable` (Keras 3.15), which `write_out` saves.
    """
    root = getattr(archive, "_tf_trackable", None)
    if root is None:
        raise RuntimeError("This Keras version's ExportArchive has no `_tf_trackable` root, "
                           "so attributes cannot be saved beside the signatures.")
    for name, value in attributes.items():
        if hasattr(root, name):
            raise ValueError(f"The SavedModel root already has {name!r} (a signature or its "
                             f"variable lists). Received attributes: {sorted(attributes)}")
        setattr(root, name, value)


def preprocessor_signature(model, preprocessor, input_names=("text",), examples=None):
    """A `ServingSignature` of raw strings through `preprocessor` into `model`.

    Args:
        model: a Keras model whose inputs are what `preprocessor` returns.
        preprocessor: a packing preprocessor (`BertPreprocessor`,
            `RobertaPreprocessor`, `XLNetPreprocessor`, ...): a tf.Module that
            maps a list of string batches (one per segment) to the model's
            input dict.
        input_names: the signature's string inputs, one per segment, in
            order (e.g. ("sentence1", "sentence2") for pairs).
        examples: input name -> a few strings for the warmup requests;
            defaults to two fixed sentences per input.

    The outputs are the model's, flattened as in `serve_tokens`.
    """
    if isinstance(input_names, str):
        input_names = (input_names,)
    input_names = list(input_names)
    if not input_names or len(set(input_names)) != len(input_names) or not all(
            isinstance(n, str) and re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", n)
            for n in input_names):
        raise ValueError("input_names are distinct identifiers, one per segment. "
                         f"Received: input_names={input_names!r}")
    if not callable(preprocessor):
        raise TypeError("preprocessor must be a callable tf.Module mapping strings to the "
                        f"model's inputs. Received: {type(preprocessor).__name__}")

    def serve(inputs):
        return _flat_outputs(
            model(preprocessor([inputs[n] for n in input_names]), training=False))

    if examples is None:
        examples = {n: ["The committee approved the plan.", "Is it going to rain?"]
                    for n in input_names}
    return ServingSignature(
        inputs={n: tf.TensorSpec([None], tf.string, name=n) for n in input_names},
        fn=serve,
        resources=(preprocessor,),
        examples=examples,
    )


def export_saved_model(model, export_dir, preprocessor=None, serving=None, attributes=None,
                       input_names=("text",)):
    """Exports `model` (and its raw-input serving signature) to `export_dir`.

    Writes the SavedModel, its warmup requests (the serving signature's
    `examples`, or one token example for the token signature) and, when
    `export_dir` is `<base>/<model_name>/<version>`, regenerates
    `<base>/models.config`.

    Args:
        model: a built Keras model with dict inputs, or a `tf.Module` (e.g. a
            preprocessor) exported with its `serving` signature alone.
        export_dir: target directory (created; must not hold a SavedModel).
        preprocessor: optional packing preprocessor (see
            `preprocessor_signature`): `serving_default` then takes raw
            strings named `input_names` and returns the model's outputs.
            Tasks make richer signatures (probabilities, labels, generated
            text): pass theirs as `serving` instead.
        serving: optional `ServingSignature` for raw inputs (e.g.
            `task.serving_signature(model)`). Without it or a preprocessor,
            `serving_default` is the token signature (as is `serve_tokens`),
            whose list outputs (e.g. `encoder_outputs`) become `name_0`,
            `name_1`, ...
        attributes: optional dict name -> tf.function, tf.Module, tf.Variable
            or `tf.saved_model.Asset`, saved on the SavedModel's root beside
            the signatures (APIs that are no signature, as in
            `tfzoo.export.hub`).
        input_names: with `preprocessor`, the string inputs, one per segment.

    Returns:
        export_dir.

    Example:
    >>> export_saved_model(classifier, "saved_models/mrpc/1", preprocessor,
    ...                    input_names=("sentence1", "sentence2"))
    """
    if keras.backend.backend() != "tensorflow":
        raise ValueError("SavedModel export needs the TensorFlow backend "
                         f"(KERAS_BACKEND=tensorflow); running {keras.backend.backend()!r}.")
    if not isinstance(export_dir, (str, os.PathLike)) or not os.fspath(export_dir):
        raise ValueError(f"export_dir must be a non-empty path. Received: {export_dir!r}")
    export_dir = os.fspath(export_dir)
    if isinstance(preprocessor, ServingSignature):
        if serving is not None:
            raise ValueError("Pass one ServingSignature, as `serving`.")
        preprocessor, serving = None, preprocessor  # a signature given positionally
    if preprocessor is not None:
        if serving is not None:
            raise ValueError("Pass either `preprocessor` (a plain raw-string signature) or "
                             "`serving` (a ServingSignature), not both.")
        serving = preprocessor_signature(model, preprocessor, input_names)
    if serving is not None and not isinstance(serving, ServingSignature):
        raise TypeError("serving must be a tfzoo.export.ServingSignature (e.g. "
                        f"task.serving_signature(model)). Received: {type(serving).__name__}")
    if os.path.exists(os.path.join(export_dir, "saved_model.pb")):
        raise ValueError(f"{export_dir} already holds a SavedModel; export to a new version.")
    is_keras = isinstance(model, keras.Model)
    if not is_keras and serving is None:
        raise ValueError(f"A {type(model).__name__} that is not a Keras model needs a "
                         "`serving` signature to export; received serving=None.")
    archive = keras.export.ExportArchive()
    archive.track(model)

    def serve_tokens(inputs):
        return _flat_outputs(model(inputs, training=False))

    token_spec = _token_signature(model) if is_keras else None
    if serving is not None:
        for resource in serving.resources:
            archive.track(resource)

        def serve_raw(inputs):
            return {name: float32_outputs(value) for name, value in serving.fn(inputs).items()}

        archive.add_endpoint("serving_default", serve_raw, input_signature=[serving.inputs])
        if is_keras:
            archive.add_endpoint("serve_tokens", serve_tokens, input_signature=[token_spec])
    else:
        archive.add_endpoint("serving_default", serve_tokens, input_signature=[token_spec])
        archive.add_endpoint("serve_tokens", serve_tokens, input_signature=[token_spec])
    _set_root_attributes(archive, attributes or {})
    archive.write_out(export_dir, verbose=False)
    if serving is None:
        _write_serving_files(export_dir, _token_examples(token_spec), token_spec)
    else:
        _write_serving_files(export_dir, serving.examples, serving.inputs)
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
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise ValueError(f"Versions are positive integers. Received: version={version!r}")
    return os.path.join(model_dir, str(version))
