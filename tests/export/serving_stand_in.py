"""A loopback stand-in for TensorFlow Serving's Predict APIs, for tests only.

No model server binary can run on these machines, so the clients and the
exports are tested against this: the models a `models.config` lists, every
integer version loaded with `tf.saved_model.load`, their warmup requests
replayed at load (a failing one fails the load, as in the server), and

- REST: `POST /v1/models/NAME[/versions/V]:predict`, row (`instances`) and
  columnar (`inputs`) formats, `{"b64": ...}` strings, answers
  `{"predictions": ...}` / `{"outputs": ...}`, and `{"error": ...}` with HTTP
  400 for bad input (404 for an unknown model), as the model server answers;
- gRPC: `PredictionService.Predict`, tensors through `tf.make_ndarray` /
  `tf.make_tensor_proto`, errors as INVALID_ARGUMENT / NOT_FOUND.

It checks what the server checks before running a signature (the model,
version and signature exist; the inputs are exactly the signature's; each
value has the input's dtype) and runs the signature with TF's own errors
passed on. It is not the server: no batching, no TF1 session (the TF1 loader
is tested separately), and output strings that are not UTF-8 are an error
here (outputs named *_bytes go as {"b64"}).
"""

import base64
import json
import os
import re
import threading
from concurrent import futures
from http.server import BaseHTTPRequestHandler, HTTPServer

import grpc
import numpy as np
import tensorflow as tf
from tensorflow_serving.apis import predict_pb2, prediction_service_pb2_grpc

from tfzoo.export.tf_serving import read_models_config, read_warmup_requests

_PREDICT_PATH = re.compile(r"^/v1/models/([^/:]+)(?:/versions/(\d+))?:predict$")


class StandInError(Exception):
    """A request the server refuses: message and HTTP status."""

    def __init__(self, message, status=400):
        super().__init__(message)
        self.status = status


def _input_specs(function):
    return function.structured_input_signature[1]  # name -> TensorSpec


def _check_proto_dtypes(specs, tensors):
    """A TensorProto input must have its signature input's dtype exactly."""
    for key, tensor in tensors.items():
        if key in specs and tensor.dtype != specs[key].dtype.as_datatype_enum:
            raise StandInError(f"Expects arg {key!r} to be {specs[key].dtype.name} but "
                               f"{tf.dtypes.as_dtype(tensor.dtype).name} is provided")


def _from_json(value, dtype, where):
    """JSON values -> numpy, checking the dtype as the server's JSON decoder does."""
    if isinstance(value, list):
        return [_from_json(v, dtype, where) for v in value]
    if dtype == tf.string:
        if isinstance(value, dict) and set(value) == {"b64"}:
            return base64.b64decode(value["b64"])
        if isinstance(value, str):
            return value.encode("utf-8")
        raise StandInError(f"{where}: JSON Value: {json.dumps(value)} is not of expected "
                           "type: string")
    if isinstance(value, (bool, dict, str)) or value is None:
        raise StandInError(f"{where}: JSON Value: {json.dumps(value)} is not of expected "
                           f"type: {dtype.name}")
    return value


def _to_json(name, value):
    if isinstance(value, bytes):
        if name.endswith("_bytes"):
            return {"b64": base64.b64encode(value).decode("ascii")}
        try:
            return value.decode("utf-8")
        except UnicodeDecodeError:
            raise StandInError(f"Output {name!r} holds bytes that are not UTF-8: "
                               f"{value[:40]!r}", status=500) from None
    if isinstance(value, list):
        return [_to_json(name, v) for v in value]
    return value


class StandInModelServer:
    """Serves the models of a models.config over REST and gRPC on 127.0.0.1.

    Args:
        model_config_file: text-format ModelServerConfig (tfzoo writes one
            beside the exports).
        serving_root: the prefix of its base paths that stands for the
            file's directory ("/models", as in the docker command).
    """

    def __init__(self, model_config_file, serving_root="/models"):
        base_dir = os.path.dirname(os.path.abspath(model_config_file))
        self.models = {}  # name -> {version: loaded SavedModel}
        self.warmup_requests_run = 0
        for name, base_path in read_models_config(model_config_file).items():
            path = base_path.replace(serving_root, base_dir, 1)
            versions = sorted(int(v) for v in os.listdir(path) if v.isdigit())
            self.models[name] = {v: tf.saved_model.load(os.path.join(path, str(v)))
                                 for v in versions}
            for version in versions:
                self._warm_up(name, version, os.path.join(path, str(version)))
        self._http = self._grpc = None

    def _warm_up(self, name, version, export_dir):
        if not os.path.isfile(os.path.join(export_dir, "assets.extra",
                                           "tf_serving_warmup_requests")):
            return
        for request in read_warmup_requests(export_dir):
            # The real server fails the version's load on a warmup error.
            signature_name = request.model_spec.signature_name or "serving_default"
            _, function = self._signature(name, version, signature_name)
            _check_proto_dtypes(_input_specs(function), request.inputs)
            inputs = {key: tf.make_ndarray(tensor) for key, tensor in request.inputs.items()}
            self.predict(name, version, signature_name, inputs)
            self.warmup_requests_run += 1

    # === The shared Predict ===
    def _signature(self, name, version, signature_name):
        if name not in self.models:
            raise StandInError(f"Servable not found for request: Latest({name})", status=404)
        versions = self.models[name]
        version = max(versions) if version is None else int(version)
        if version not in versions:
            raise StandInError(f"Servable not found for request: Specific({name}, {version})",
                               status=404)
        signatures = versions[version].signatures
        if signature_name not in signatures:
            raise StandInError(f"Serving signature name: \"{signature_name}\" not found in "
                               f"signature def (available: {sorted(signatures)})")
        return version, signatures[signature_name]

    def predict(self, name, version, signature_name, inputs):
        """inputs: name -> numpy array (or nested lists). Returns name -> numpy array."""
        _, function = self._signature(name, version, signature_name)
        specs = _input_specs(function)
        missing, extra = sorted(set(specs) - set(inputs)), sorted(set(inputs) - set(specs))
        if missing or extra:
            raise StandInError(f"input size does not match signature: {len(inputs)}!="
                               f"{len(specs)} len({sorted(inputs)}) != len({sorted(specs)}). "
                               f"Sent extra: {extra}. Missing but required: {missing}.")
        tensors = {}
        for key, spec in specs.items():
            value = np.asarray(inputs[key], dtype=object if spec.dtype == tf.string else None)
            if spec.dtype == tf.string and value.size and not all(
                    isinstance(v, bytes) for v in value.flat):
                raise StandInError(f"Expects arg {key!r} to be string but "
                                   f"{type(next(iter(value.flat))).__name__} is provided")
            if spec.dtype != tf.string and value.dtype.kind not in "iuf":
                raise StandInError(f"Expects arg {key!r} to be {spec.dtype.name} but "
                                   f"{value.dtype} is provided")
            tensors[key] = tf.constant(value, dtype=spec.dtype)
        try:
            outputs = function(**tensors)
        except (tf.errors.InvalidArgumentError, ValueError, TypeError) as error:
            raise StandInError(str(error).split("\n")[0][:2000]) from None
        return {key: value.numpy() for key, value in outputs.items()}

    # === REST ===
    def _rest(self, path, body):
        match = _PREDICT_PATH.match(path)
        if not match:
            raise StandInError(f"Malformed request: POST {path}", status=404)
        name, version = match.group(1), match.group(2)
        try:
            request = json.loads(body)
        except ValueError as error:
            raise StandInError(f"JSON Parse error: {error}") from None
        if not isinstance(request, dict):
            raise StandInError("JSON Value: request is not an object")
        signature_name = request.get("signature_name", "serving_default")
        _, function = self._signature(name, version, signature_name)
        specs = _input_specs(function)
        if ("instances" in request) == ("inputs" in request):
            raise StandInError("Missing 'inputs' or 'instances' key" if "instances" not in request
                               else "Both 'inputs' and 'instances' keys are present")
        if "instances" in request:
            rows = request["instances"]
            if not isinstance(rows, list) or not rows:
                raise StandInError("'instances' must be a non-empty list")
            if not all(isinstance(row, dict) for row in rows):
                if len(specs) != 1:
                    raise StandInError("instances without input names need a signature with "
                                       f"one input; it has {sorted(specs)}")
                rows = [{next(iter(specs)): row} for row in rows]
            names = set(rows[0])
            for index, row in enumerate(rows):
                if set(row) != names:
                    raise StandInError(f"Failed to process element: {index} of 'instances' "
                                       "list. Error: the named inputs differ from element 0.")
            inputs = {key: [_from_json(row[key], specs[key].dtype if key in specs
                                       else tf.string, f"element {i} key {key}")
                            for i, row in enumerate(rows)] for key in names}
        else:
            columns = request["inputs"]
            if not isinstance(columns, dict):
                columns = {next(iter(specs)): columns}
            inputs = {key: _from_json(value, specs[key].dtype if key in specs else tf.string,
                                      f"input {key}")
                      for key, value in columns.items()}
        outputs = self.predict(name, version, signature_name, inputs)
        outputs = {key: _to_json(key, value.tolist()) for key, value in outputs.items()}
        if "instances" in request:
            count = len(request["instances"])
            rows = [{key: value[i] for key, value in outputs.items()} for i in range(count)]
            if len(outputs) == 1:
                rows = [next(iter(row.values())) for row in rows]
            return {"predictions": rows}
        return {"outputs": outputs if len(outputs) > 1 else next(iter(outputs.values()))}

    def _handler(self):
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                try:
                    status, answer = 200, server._rest(self.path, body)
                except StandInError as error:
                    status, answer = error.status, {"error": str(error)}
                data = json.dumps(answer).encode("utf-8")
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):  # quiet
                pass

        return Handler

    # === gRPC ===
    def _servicer(self):
        server = self

        class Servicer(prediction_service_pb2_grpc.PredictionServiceServicer):
            def Predict(self, request, context):
                spec = request.model_spec
                version = spec.version.value if spec.HasField("version") else None
                signature_name = spec.signature_name or "serving_default"
                try:
                    _, function = server._signature(spec.name, version, signature_name)
                    specs = _input_specs(function)
                    _check_proto_dtypes(specs, request.inputs)
                    inputs = {key: tf.make_ndarray(tensor)
                              for key, tensor in request.inputs.items()}
                    outputs = server.predict(spec.name, version, signature_name, inputs)
                except StandInError as error:
                    code = (grpc.StatusCode.NOT_FOUND if error.status == 404
                            else grpc.StatusCode.INVALID_ARGUMENT)
                    context.abort(code, str(error))
                response = predict_pb2.PredictResponse()
                response.model_spec.CopyFrom(spec)
                for key, value in outputs.items():
                    response.outputs[key].CopyFrom(tf.make_tensor_proto(value))
                return response

        return Servicer()

    # === Lifetime ===
    def start(self):
        """Starts both APIs on free loopback ports (`rest_address`, `grpc_address`)."""
        self._http = HTTPServer(("127.0.0.1", 0), self._handler())
        threading.Thread(target=self._http.serve_forever, daemon=True).start()
        self.rest_address = f"127.0.0.1:{self._http.server_address[1]}"
        self._grpc = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
        prediction_service_pb2_grpc.add_PredictionServiceServicer_to_server(
            self._servicer(), self._grpc)
        port = self._grpc.add_insecure_port("127.0.0.1:0")
        self._grpc.start()
        self.grpc_address = f"127.0.0.1:{port}"
        return self

    def stop(self):
        if self._http is not None:
            self._http.shutdown()
            self._http.server_close()
        if self._grpc is not None:
            self._grpc.stop(grace=None)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
