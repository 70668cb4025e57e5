"""Checks an export the way TensorFlow Serving loads it.

The model server restores a SavedModel with the TF1 session loader and knows
only core TF ops and the TF Text ops it links. `run_with_tf1_loader` runs a
signature in a fresh Python process that imports nothing but tensorflow and
tensorflow_text, with `tf.compat.v1.saved_model.load`.
"""

import json
import os
import subprocess
import sys

_SCRIPT = r"""
import json, sys
import numpy as np
import tensorflow as tf
import tensorflow_text  # noqa: F401  (registers the TF Text ops, as the server does)

export_dir, signature_name, inputs = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
with tf.compat.v1.Session(graph=tf.Graph()) as session:
    meta_graph = tf.compat.v1.saved_model.load(session, ["serve"], export_dir)
    signature = meta_graph.signature_def[signature_name]
    missing = sorted(set(signature.inputs) - set(inputs))
    if missing:
        raise SystemExit(f"missing inputs {missing}")
    feed = {signature.inputs[name].name: value for name, value in inputs.items()}
    fetch = {name: info.name for name, info in signature.outputs.items()}
    outputs = session.run(fetch, feed)

def plain(value):
    value = np.asarray(value)
    if value.dtype.kind in "SO":
        return [v.decode("utf-8") if isinstance(v, bytes) else v for v in value.tolist()]
    return value.tolist()

print("TF1_OUTPUTS=" + json.dumps({k: plain(v) for k, v in outputs.items()}))
"""


def run_with_tf1_loader(export_dir, inputs, signature_name="serving_default", timeout=300):
    """Runs `signature_name` of the export in a fresh TF1-loader process.

    Args:
        export_dir: the SavedModel directory (a version directory).
        inputs: dict input name -> list of values (strings or numbers).

    Returns:
        dict output name -> nested lists (strings decoded).
    """
    environment = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
    result = subprocess.run(
        [sys.executable, "-c", _SCRIPT, export_dir, signature_name, json.dumps(inputs)],
        capture_output=True, text=True, timeout=timeout, env=environment)
    marker = [line for line in result.stdout.splitlines() if line.startswith("TF1_OUTPUTS=")]
    if result.returncode != 0 or not marker:
        raise RuntimeError(f"The TF1 session loader could not run {export_dir}:\n"
                           f"{result.stderr[-4000:]}")
    return json.loads(marker[0][len("TF1_OUTPUTS="):])


def graph_ops(export_dir):
    """Every op type in the export's graph, its functions included."""
    from tensorflow.core.protobuf import saved_model_pb2

    proto = saved_model_pb2.SavedModel()
    with open(os.path.join(export_dir, "saved_model.pb"), "rb") as f:
        proto.ParseFromString(f.read())
    ops, functions = set(), set()
    for meta_graph in proto.meta_graphs:
        ops.update(node.op for node in meta_graph.graph_def.node)
        for function in meta_graph.graph_def.library.function:
            functions.add(function.signature.name)
            ops.update(node.op for node in function.node_def)
    return ops - functions  # calls of the graph's own functions are not ops
