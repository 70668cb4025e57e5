"""The files TensorFlow Serving reads besides a SavedModel, and its request protos.

- `assets.extra/tf_serving_warmup_requests` in a version directory: a
  TFRecord file of `PredictionLog` protos that the model server replays
  before it marks the version available, so the first real request does not
  pay for graph initialisation (TF Serving's "SavedModel Warmup" guide).
- `models.config` in the export base directory: a text-format
  `ModelServerConfig` naming every model under it, for
  `tensorflow_model_server --model_config_file=...`.

The protos come from the pure-Python `tensorflow-serving-api` package; the
gRPC client (`tfzoo.export.client`) sends the same `PredictRequest`s that
the warmup file holds.
"""

import os

import numpy as np
import tensorflow as tf
from absl import logging

WARMUP_PATH = os.path.join("assets.extra", "tf_serving_warmup_requests")
MODELS_CONFIG = "models.config"


def _serving_apis():
    try:
        from tensorflow_serving.apis import predict_pb2, prediction_log_pb2
    except ImportError as error:
        raise ImportError("TF Serving warmup files and clients need the pure-Python "
                          "protos: pip install tensorflow-serving-api") from error
    return predict_pb2, prediction_log_pb2


def _tensor(values, name, dtype=None):
    """A TensorProto from a list (or array) of examples; text becomes UTF-8
    bytes. Numbers take `dtype` (the signature's); without it Python ints
    are int32 and floats float32, the dtypes of tfzoo's signatures."""
    if isinstance(values, (str, bytes)):
        raise ValueError(f"Input {name!r} takes a list of values, one per example; received "
                         f"the single {type(values).__name__} {values!r} (wrap it in a list).")
    array = np.asarray(values, dtype=object)
    if array.size and all(isinstance(v, (str, bytes)) for v in array.flat):
        array = np.vectorize(lambda v: v.encode("utf-8") if isinstance(v, str) else v,
                             otypes=[object])(array)
        return tf.make_tensor_proto(array, dtype=tf.string)
    try:
        array = np.asarray(values)
        if dtype is None and not isinstance(values, np.ndarray):
            if array.dtype == np.int64 and (not array.size or (
                    array.min() >= -2**31 and array.max() < 2**31)):
                dtype = tf.int32
            elif array.dtype == np.float64:
                dtype = tf.float32
        if dtype is not None:
            dtype = tf.as_dtype(dtype)
            if dtype.is_integer and array.size and not np.issubdtype(array.dtype, np.integer):
                raise ValueError(f"expected integers for {dtype.name}")
            if dtype.is_integer and array.size and (
                    array.min() < dtype.min or array.max() > dtype.max):
                raise ValueError(f"values outside {dtype.name}")
            array = array.astype(dtype.as_numpy_dtype)
        return tf.make_tensor_proto(array)
    except (TypeError, ValueError) as error:
        raise ValueError(f"Input {name!r}: cannot make a tensor of {values!r}: "
                         f"{error}") from error


def predict_request(model_name, inputs, signature_name="serving_default", version=None,
                    dtypes=None):
    """A `tensorflow.serving.PredictRequest` for named inputs.

    Args:
        model_name: the model's name on the server (its directory name).
        inputs: dict input name -> list of values, one per example (str or
            bytes for string inputs; numbers or nested lists otherwise).
        signature_name: the SignatureDef to run.
        version: an int to pin a version; None for the server's latest.
        dtypes: optional dict input name -> dtype of the signature's input
            (a gRPC request must match it exactly). Without it, Python ints
            are sent as int32 (int64 when they do not fit) and floats as
            float32, as tfzoo's signatures take them; NumPy arrays keep theirs.
    """
    predict_pb2, _ = _serving_apis()
    if not isinstance(inputs, dict) or not inputs:
        raise ValueError(f"inputs must be a non-empty dict name -> values. Received: {inputs!r}")
    dtypes = dtypes or {}
    request = predict_pb2.PredictRequest()
    request.model_spec.name = model_name
    request.model_spec.signature_name = signature_name
    if version is not None:
        request.model_spec.version.value = int(version)
    for name, values in inputs.items():
        dtype = dtypes.get(name)
        if dtype is not None and tf.as_dtype(dtype) == tf.string:
            dtype = None
        request.inputs[name].CopyFrom(_tensor(values, name, dtype))
    return request


def write_warmup_requests(export_dir, requests):
    """Writes `requests` (PredictRequests) as TF Serving's warmup file; returns its path."""
    _, prediction_log_pb2 = _serving_apis()
    path = os.path.join(export_dir, WARMUP_PATH)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with tf.io.TFRecordWriter(path) as writer:
        for request in requests:
            log = prediction_log_pb2.PredictionLog(
                predict_log=prediction_log_pb2.PredictLog(request=request))
            writer.write(log.SerializeToString())
    return path


def read_warmup_requests(export_dir):
    """The PredictRequests of an export's warmup file, in file order."""
    _, prediction_log_pb2 = _serving_apis()
    path = os.path.join(export_dir, WARMUP_PATH)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"No warmup file at {path}.")
    requests = []
    for record in tf.data.TFRecordDataset(path).as_numpy_iterator():
        log = prediction_log_pb2.PredictionLog.FromString(record)
        if log.WhichOneof("log_type") != "predict_log":
            raise ValueError(f"{path}: expected predict_log records, found "
                             f"{log.WhichOneof('log_type')}.")
        requests.append(log.predict_log.request)
    return requests


def example_requests(model_name, examples, signature_name="serving_default", dtypes=None):
    """Warmup requests from example inputs: the first example alone, then all of them.

    Both batch sizes are replayed because a server with batching, or a graph
    whose shapes depend on the batch, initialises per shape. `dtypes` (input
    name -> dtype) types the numbers as the signature's inputs: the server
    refuses a version whose warmup request does not match its signature.
    """
    for name, values in examples.items():
        if isinstance(values, (str, bytes)):
            raise ValueError(f"Example input {name!r} takes a list of values, one per "
                             f"example; received the single {type(values).__name__} "
                             f"{values!r}.")
    count = len(next(iter(examples.values())))
    if any(len(values) != count for values in examples.values()):
        raise ValueError(f"Every example input needs the same number of values. Received: "
                         f"{ {name: len(values) for name, values in examples.items()} }")
    batches = [{name: list(values[:1]) for name, values in examples.items()}]
    if count > 1:
        batches.append({name: list(values) for name, values in examples.items()})
    return [predict_request(model_name, batch, signature_name, dtypes=dtypes)
            for batch in batches]


def _model_names(base_dir):
    """Directories of `base_dir` holding at least one integer version with a SavedModel."""
    names = []
    for name in sorted(os.listdir(base_dir)):
        model_dir = os.path.join(base_dir, name)
        if not os.path.isdir(model_dir):
            continue
        if any(v.isdigit() and os.path.isfile(os.path.join(model_dir, v, "saved_model.pb"))
               for v in os.listdir(model_dir)):
            names.append(name)
    return names


def write_models_config(base_dir, serving_root="/models"):
    """Writes `base_dir/models.config` listing every model under `base_dir`.

    Args:
        base_dir: the export base directory (`saved_models/`).
        serving_root: where the model server sees `base_dir`. The default
            fits `docker run -v $PWD/saved_models:/models tensorflow/serving`;
            pass the absolute path of base_dir for a server run on the host.

    Returns:
        The path of the written file.
    """
    from google.protobuf import text_format
    from tensorflow_serving.config import model_server_config_pb2

    config = model_server_config_pb2.ModelServerConfig()
    for name in _model_names(base_dir):
        entry = config.model_config_list.config.add()
        entry.name = name
        entry.base_path = f"{serving_root.rstrip('/')}/{name}"
        entry.model_platform = "tensorflow"
    path = os.path.join(base_dir, MODELS_CONFIG)
    with open(path, "w", encoding="utf-8") as f:
        f.write(text_format.MessageToString(config))
    logging.info("Wrote %s (%d models)", path, len(config.model_config_list.config))
    return path


def read_models_config(path):
    """{name: base_path} from a text-format ModelServerConfig file."""
    from google.protobuf import text_format
    from tensorflow_serving.config import model_server_config_pb2

    with open(path, encoding="utf-8") as f:
        config = text_format.Parse(f.read(), model_server_config_pb2.ModelServerConfig())
    return {entry.name: entry.base_path for entry in config.model_config_list.config}
