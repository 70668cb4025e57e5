"""Clients for a TensorFlow Serving model server: REST and gRPC Predict.

Both take named inputs (input name -> one value per example), send them to
`signature_name` of model `model` (a pinned `version`, or the latest) and
return the outputs the same way, as plain Python values: output name -> one
value per example, strings as `str` when they are UTF-8 and `bytes`
otherwise. An error the server answers raises `ServingError` with the
server's message.

REST (`POST /v1/models/NAME[/versions/V]:predict`) uses the row format,
`{"signature_name": ..., "instances": [{name: value, ...}, ...]}`; bytes
that are not UTF-8 travel as `{"b64": ...}`. It needs only the standard
library. gRPC (`PredictionService.Predict`) needs `tensorflow-serving-api`
and sends the same `PredictRequest` as the export's warmup file.

Example:
>>> predict_rest("localhost:8501", "paraphrase_minilm",
...              {"sentence1": ["The cat sat."], "sentence2": ["A cat was sitting."]})
{'class_id': [1], 'label': ['paraphrase'], 'logits': [[...]], ...}
"""

import base64
import json
import urllib.error
import urllib.request


class ServingError(RuntimeError):
    """The model server answered with an error (or could not be reached).

    Attributes:
        status: the HTTP status or gRPC status code name, when there was one.
    """

    def __init__(self, message, status=None):
        super().__init__(message)
        self.status = status


def _json_value(value):
    """Inputs as TF Serving's JSON: non-UTF-8 bytes as {"b64": ...}."""
    if isinstance(value, bytes):
        try:
            return value.decode("utf-8")
        except UnicodeDecodeError:
            return {"b64": base64.b64encode(value).decode("ascii")}
    if isinstance(value, (list, tuple)):
        return [_json_value(v) for v in value]
    if hasattr(value, "tolist"):  # numpy arrays and scalars
        return _json_value(value.tolist())
    return value


def _plain(value):
    """Outputs as Python values: {"b64": ...} and bytes -> str when UTF-8, else bytes."""
    if isinstance(value, dict) and set(value) == {"b64"}:
        value = base64.b64decode(value["b64"])
    if isinstance(value, bytes):
        try:
            return value.decode("utf-8")
        except UnicodeDecodeError:
            return value
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def row_instances(inputs):
    """Row-format instances from named inputs (name -> one value per example)."""
    if not isinstance(inputs, dict) or not inputs:
        raise ValueError(f"inputs must be a non-empty dict name -> values. Received: {inputs!r}")
    for name, values in inputs.items():
        if isinstance(values, (str, bytes)):
            raise ValueError(f"Input {name!r} takes a list of values, one per example; "
                             f"received the single {type(values).__name__} {values!r} "
                             "(wrap it in a list).")
    counts = {name: len(values) for name, values in inputs.items()}
    if len(set(counts.values())) != 1:
        raise ValueError(f"Every input needs one value per example. Received counts {counts}")
    count = next(iter(counts.values()))
    return [{name: _json_value(values[i]) for name, values in inputs.items()}
            for i in range(count)]


def _columns(rows):
    """Row-format predictions -> output name -> values; unnamed ones stay a
    list (a one-output signature's bytes come as {"b64": ...} rows)."""
    if rows and all(isinstance(row, dict) and set(row) != {"b64"} for row in rows):
        return {name: [_plain(row[name]) for row in rows] for name in rows[0]}
    return {"predictions": _plain(rows)}


def predict_rest(host_port, model, inputs, signature_name="serving_default", version=None,
                 timeout=60):
    """Predict over TF Serving's REST API.

    Args:
        host_port: "HOST:PORT" of the REST API (8501 by default).
        model: the model name (its directory under the model base path).
        inputs: dict name -> list of values (one per example); or a list of
            row-format instances, sent as given (full control).
        signature_name: the SignatureDef to run.
        version: int to pin a model version; None for the latest.
        timeout: seconds.

    Returns:
        dict output name -> list of values, one per example (a single-output
        signature's unnamed predictions under "predictions").

    Raises:
        ServingError: with the server's `error` message (bad input, unknown
            model or signature) or why the server could not be reached.
    """
    instances = inputs if isinstance(inputs, list) else row_instances(inputs)
    path = f"/v1/models/{model}" + (f"/versions/{int(version)}" if version is not None else "")
    url = f"http://{host_port}{path}:predict"
    body = json.dumps({"signature_name": signature_name, "instances": instances}).encode()
    request = urllib.request.Request(url, data=body, method="POST",
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            answer = json.loads(response.read().decode("utf-8"))
    except urllib.error.HTTPError as error:
        text = error.read().decode("utf-8", errors="replace")
        try:
            message = json.loads(text)["error"]
        except (ValueError, KeyError, TypeError):
            message = text or error.reason
        raise ServingError(f"{url}: HTTP {error.code}: {message}", status=error.code) from None
    except urllib.error.URLError as error:
        raise ServingError(f"Could not reach TF Serving at {url}: {error.reason}") from None
    if "error" in answer:
        raise ServingError(f"{url}: {answer['error']}")
    if "predictions" not in answer:
        raise ServingError(f"{url}: the answer has no 'predictions': {str(answer)[:500]}")
    return _columns(answer["predictions"])


def _columns_of_rows(instances):
    """Row-format instances (objects, with {"b64"} values) -> name -> values."""
    if not instances or not all(isinstance(row, dict) for row in instances):
        raise ValueError("gRPC needs instances as objects {input name: value}. Received: "
                         f"{str(instances)[:200]}")
    names = list(instances[0])
    return {name: [_decode_b64(row[name]) for row in instances] for name in names}


def _decode_b64(value):
    if isinstance(value, dict) and set(value) == {"b64"}:
        return base64.b64decode(value["b64"])
    if isinstance(value, list):
        return [_decode_b64(v) for v in value]
    return value


def predict_grpc(host_port, model, inputs, signature_name="serving_default", version=None,
                 timeout=60):
    """Predict over TF Serving's gRPC API (`PredictionService.Predict`).

    Args and Returns: as `predict_rest`; host_port is the gRPC port (8500
    by default).

    Raises:
        ServingError: with the server's status message and code name.
    """
    import grpc
    import tensorflow as tf
    from tensorflow_serving.apis import prediction_service_pb2_grpc

    from tfzoo.export.tf_serving import predict_request

    if isinstance(inputs, list):
        inputs = _columns_of_rows(inputs)
    request = predict_request(model, inputs, signature_name, version)
    with grpc.insecure_channel(host_port) as channel:
        stub = prediction_service_pb2_grpc.PredictionServiceStub(channel)
        try:
            response = stub.Predict(request, timeout=timeout)
        except grpc.RpcError as error:
            raise ServingError(f"{host_port} model {model!r}: {error.code().name}: "
                               f"{error.details()}", status=error.code().name) from None
    return {name: _plain(tf.make_ndarray(tensor).tolist())
            for name, tensor in response.outputs.items()}
