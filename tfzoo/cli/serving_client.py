"""`tfzoo predict --server HOST:PORT --model NAME`: query a running TF Serving model server.

    tfzoo predict --server localhost:8501 --model paraphrase_minilm \
        --input "The cat sat." --input "A cat was sitting."
    tfzoo predict --server localhost:8500 --protocol grpc --model numbers_tiny --input "4 7 2"
    tfzoo predict --server localhost:8501 --model gpt_tiny \
        --instances_json '[{"prompt": "The weather in"}]'

`--input` is repeated once per input of the signature, in the order the task
names them (sentence1, sentence2 / source / prompt), taken from --config when
given, else from --input_names. The client functions live in
`tfzoo.export.client`.
"""

import json

from absl import flags

from tfzoo.cli.flags import FLAGS

flags.DEFINE_string("server", None, "predict: HOST:PORT of a TF Serving model server "
                    "(8501 REST, 8500 gRPC); the model is then queried there.")
flags.DEFINE_string("model", None, "predict --server: the model name on the server.")
flags.DEFINE_enum("protocol", "rest", ["rest", "grpc"], "predict --server: REST or gRPC.")
flags.DEFINE_string("signature_name", "serving_default", "predict --server: the signature.")
flags.DEFINE_integer("model_version", None, "predict --server: pin a version (default latest).")
flags.DEFINE_string("instances_json", None,
                    "predict --server: row-format instances as JSON (or @file), e.g. "
                    "'[{\"sentence1\": \"a\", \"sentence2\": {\"b64\": \"...\"}}]'.")
flags.DEFINE_list("input_names", None,
                  "predict --server: the signature's input names, in --input order; "
                  "default: the task of --config.")


def _input_names():
    if FLAGS.input_names:
        return list(FLAGS.input_names)
    if FLAGS.config:
        from tfzoo.cli.flags import experiment_from_flags
        from tfzoo.tasks import task_class

        config = experiment_from_flags().task
        names = task_class(config.type)(config).serving_input_names()
        if names:
            return names
    raise ValueError("predict --server needs the signature's input names for --input: "
                     "pass --input_names (e.g. --input_names=sentence1,sentence2) or --config, "
                     "or send --instances_json.")


def _instances():
    text = FLAGS.instances_json
    if text.startswith("@"):
        with open(text[1:], encoding="utf-8") as f:
            text = f.read()
    instances = json.loads(text)
    if not isinstance(instances, list) or not instances:
        raise ValueError("--instances_json must be a non-empty JSON list of instances. "
                         f"Received: {text[:200]}")
    return instances


def _printable(value):
    if isinstance(value, bytes):
        import base64

        return {"b64": base64.b64encode(value).decode("ascii")}
    if isinstance(value, list):
        return [_printable(v) for v in value]
    return value


def predict_with_server():
    """Sends --input (or --instances_json) to --server and prints the outputs as JSON."""
    from tfzoo.export.client import predict_grpc, predict_rest

    if not FLAGS.model:
        raise ValueError("predict --server needs --model, the model's name on the server.")
    if FLAGS.instances_json:
        inputs = _instances()
    else:
        names = _input_names()
        if len(FLAGS.input) != len(names):
            raise ValueError(f"predict --server needs one --input per signature input {names}; "
                             f"received {len(FLAGS.input)}.")
        inputs = {name: [text] for name, text in zip(names, FLAGS.input)}
    predict = predict_grpc if FLAGS.protocol == "grpc" else predict_rest
    outputs = predict(FLAGS.server, FLAGS.model, inputs, FLAGS.signature_name,
                      FLAGS.model_version)
    print(json.dumps(_printable(outputs), indent=2, ensure_ascii=False))
    return 0
