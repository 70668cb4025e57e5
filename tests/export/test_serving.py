"""TF Serving exports: the classifier, the GPT-2 generator and the translator.

Each is exported once through `export_saved_model` into one base directory
(`<base>/<name>/1`, with warmup requests and `<base>/models.config`), then:

- loaded and run by TF Serving's TF1 session loader in a fresh process that
  imports only tensorflow and tensorflow_text, on its warmup requests, with
  the answers equal to the Keras model's on the same strings;
- checked to hold only core TF ops and the TF Text ops the 2.20 server links;
- served by a loopback stand-in for the model server (tests/export/
  serving_stand_in.py; no model server can run here) and queried with the
  REST and gRPC clients and `tfzoo predict --server`;
- fed bad input: empty, over-long and non-UTF-8 text are answered, a wrong
  dtype or a missing input is a clear error.

The models are tiny and untrained: the checks compare the export with the
Keras model, not with good answers.
"""

import base64
import os
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf

from tests.export.serving_stand_in import StandInModelServer
from tests.reference_models import minilm_path
from tfzoo.export import export_saved_model, versioned_export_dir
from tfzoo.export.client import ServingError, predict_grpc, predict_rest
from tfzoo.export.tf_serving import (MODELS_CONFIG, WARMUP_PATH, read_models_config,
                                     read_warmup_requests)
from tfzoo.export.verify import check_serving_ops, graph_ops, run_with_tf1_loader
from tfzoo.tasks import task_class
from tfzoo.tasks.translation import translate
from tfzoo.training.config import experiment_from_dict

MAX_NEW_TOKENS = 6
LONG_TEXT = " ".join(["tokenization"] * 3000)  # far past every model's length
NOT_UTF8 = b"caf\xc3 au lait \xff"

TASKS = {
    "classifier": {
        "type": "sentence_classification",
        # BERT-tiny sizes with the MiniLM vocabulary (30,522 tokens, uncased).
        "model": {"config": "configs/models/bert_tiny.yaml"},
        "vocabulary": None,  # minilm_path(), filled in below
        "data": {"train": "pkg:tfzoo/data/samples/paraphrase_train.tsv",
                 "validation": "pkg:tfzoo/data/samples/paraphrase_dev.tsv",
                 "text_columns": ["#1 String", "#2 String"], "label_column": "Quality"},
        "labels": ["0", "1"], "label_names": ["not_paraphrase", "paraphrase"],
        "seq_length": 32,
    },
    "generator": {
        "type": "causal_lm",
        "model": {"config": "configs/models/gpt2_tiny.yaml",
                  "overrides": {"max_sequence_length": 32}},
        "tokenizer": "pkg:tfzoo/data/samples/gpt_bpe",
        "data": {"train": "pkg:tfzoo/data/samples/pretraining_corpus.txt"},
        "serving_max_new_tokens": MAX_NEW_TOKENS,
        "serving_max_prompt_tokens": 16,
    },
    "translator": {
        "type": "translation",
        "model": {"config": "configs/models/transformer_tiny.yaml",
                  "overrides": {"max_sequence_length": 16}},
        "vocabulary": "pkg:tfzoo/data/samples/numbers_vocab.txt",
        "data": {"train": "pkg:tfzoo/data/samples/numbers_train.tsv",
                 "validation": "pkg:tfzoo/data/samples/numbers_dev.tsv"},
        "max_length": 16,
        "num_beams": 2,
    },
}


def _build(name):
    task_config = dict(TASKS[name])
    if name == "classifier":
        task_config["vocabulary"] = minilm_path()
    experiment = experiment_from_dict({"task": task_config})
    task = task_class(experiment.task.type)(experiment.task)
    return task, task.build_model()


@pytest.fixture(scope="module")
def exports(tmp_path_factory):
    """name -> (task, model, signature, export dir); the base directory; the
    models.config text after each export."""
    base = str(tmp_path_factory.mktemp("saved_models"))
    built, configs = {}, []
    for name in TASKS:
        task, model = _build(name)
        signature = task.serving_signature(model)
        export_dir = export_saved_model(model, versioned_export_dir(base, name), signature)
        built[name] = (task, model, signature, export_dir)
        configs.append(read_models_config(os.path.join(base, MODELS_CONFIG)))
    return built, base, configs


@pytest.fixture(scope="module")
def server(exports):
    _, base, _ = exports
    with StandInModelServer(os.path.join(base, MODELS_CONFIG)) as stand_in:
        yield stand_in


def _warmup_inputs(export_dir):
    """The inputs of the largest warmup request, as lists of str."""
    requests = read_warmup_requests(export_dir)
    request = max(requests, key=lambda r: len(tf.make_ndarray(next(iter(r.inputs.values())))))
    return {name: [v.decode("utf-8") for v in tf.make_ndarray(tensor).tolist()]
            for name, tensor in request.inputs.items()}


# === Keras references: the model itself, not the export's serving function ===
def keras_outputs(name, task, model, inputs):
    if name == "classifier":
        preprocessor = task.build_preprocessor()
        logits = model(preprocessor([tf.constant(inputs["sentence1"]),
                                     tf.constant(inputs["sentence2"])]), training=False)
        return {"logits": np.asarray(logits)}
    if name == "generator":
        texts = model.generate(list(inputs["prompt"]), max_new_tokens=MAX_NEW_TOKENS)
        return {"text": texts}
    sources = list(inputs["source"])
    translations = translate(model, sources, task.build_preprocessor(), num_beams=2,
                             max_length=model.max_sequence_length)
    return {"translation": translations}


def assert_same_answers(name, served, expected):
    if name == "classifier":
        np.testing.assert_allclose(np.asarray(served["logits"]), expected["logits"], atol=1e-4)
        probabilities = np.asarray(served["probabilities"])
        np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, atol=1e-5)
        assert served["label"] == [["not_paraphrase", "paraphrase"][i]
                                   for i in np.argmax(expected["logits"], axis=1)]
    elif name == "generator":
        assert served["text"] == expected["text"]
    else:
        assert [" ".join(t.split()) for t in served["translation"]] == expected["translation"]


# === Layout ===
def test_versioned_layout_warmup_file_and_models_config(exports):
    built, base, configs = exports
    # Regenerated on each export: one model after the first, all three at the end.
    assert [sorted(c) for c in configs] == [["classifier"], ["classifier", "generator"],
                                            sorted(TASKS)]
    assert configs[-1] == {name: f"/models/{name}" for name in TASKS}
    text = open(os.path.join(base, MODELS_CONFIG)).read()
    assert text.count('model_platform: "tensorflow"') == 3
    for name, (_, _, signature, export_dir) in built.items():
        assert export_dir == os.path.join(base, name, "1")
        assert os.path.isfile(os.path.join(export_dir, "saved_model.pb"))
        assert os.path.isfile(os.path.join(export_dir, WARMUP_PATH))
        requests = read_warmup_requests(export_dir)
        # The first example alone, then all of them; for serving_default.
        sizes = [len(tf.make_ndarray(next(iter(r.inputs.values())))) for r in requests]
        assert sizes == [1, 3]
        assert {r.model_spec.signature_name for r in requests} == {"serving_default"}
        assert all(set(r.inputs) == set(signature.inputs) for r in requests)
    assert versioned_export_dir(base, "classifier") == os.path.join(base, "classifier", "2")


# === TF Serving's loader and op set ===
@pytest.mark.parametrize("name", list(TASKS))
def test_tf1_loader_runs_the_warmup_requests_like_keras(exports, name):
    built, _, _ = exports
    task, model, _, export_dir = built[name]
    inputs = _warmup_inputs(export_dir)
    served = run_with_tf1_loader(export_dir, inputs)
    assert_same_answers(name, served, keras_outputs(name, task, model, inputs))


@pytest.mark.parametrize("name", list(TASKS))
def test_every_op_is_served_by_tf_serving_2_20(exports, name):
    built, _, _ = exports
    ops = set(check_serving_ops(built[name][3]))
    if name in ("classifier", "translator"):  # WordPiece preprocessing in the graph
        assert {"RegexSplitWithOffsets", "WordpieceTokenizeWithOffsets",
                "NormalizeUTF8"} <= ops
    if name == "classifier":
        assert "TFText>RoundRobinTrim" in ops
    if name == "generator":  # GPT-2's BPE is core TF only
        assert not any(op.startswith("TFText>") or "Wordpiece" in op for op in ops)


def test_check_serving_ops_names_xla_only_ops(tmp_path):
    """`keras.ops.slice_update` is XlaDynamicUpdateSlice on TF: not servable."""
    from keras import ops

    module = tf.Module()
    module.f = tf.function(
        lambda x: ops.slice_update(x, (0, 1), tf.ones([2, 1])),
        input_signature=[tf.TensorSpec([2, 4], tf.float32)])
    tf.saved_model.save(module, str(tmp_path), signatures=module.f)
    assert "XlaDynamicUpdateSlice" in graph_ops(str(tmp_path))
    with pytest.raises(ValueError, match="XlaDynamicUpdateSlice"):
        check_serving_ops(str(tmp_path))


# === Clients against the stand-in ===
QUERIES = {
    "classifier": {"sentence1": ["The cat sat on the mat.", "Stocks fell."],
                   "sentence2": ["A cat was sitting on the mat.", "It rained in Oslo."]},
    "generator": {"prompt": ["The weather in", "Visitors often"]},
    "translator": {"source": ["4 7 2", "1 0 0 3"]},
}


def test_stand_in_replayed_every_warmup_request(server):
    assert server.warmup_requests_run == 2 * len(TASKS)


@pytest.mark.parametrize("name", list(TASKS))
def test_rest_and_grpc_answer_like_keras(exports, server, name):
    built, _, _ = exports
    task, model, _, _ = built[name]
    expected = keras_outputs(name, task, model, QUERIES[name])
    rest = predict_rest(server.rest_address, name, QUERIES[name])
    grpc_answer = predict_grpc(server.grpc_address, name, QUERIES[name], version=1)
    assert_same_answers(name, rest, expected)
    assert_same_answers(name, grpc_answer, expected)
    assert set(rest) == set(grpc_answer)
    if name == "generator":
        # token_ids: the prompt's and the continuation's ids, -1 after the end.
        tokens = model.tokenizer.tokenize(QUERIES[name]["prompt"]).to_list()
        generated = model.generate(tokens, max_new_tokens=MAX_NEW_TOKENS)
        for row, ids in zip(rest["token_ids"], generated):
            assert [t for t in row if t >= 0] == ids


def test_rest_columnar_format_and_pinned_version(server):
    import json
    import urllib.request

    body = json.dumps({"signature_name": "serving_default",
                       "inputs": {"source": ["4 7 2"]}}).encode()
    request = urllib.request.Request(
        f"http://{server.rest_address}/v1/models/translator/versions/1:predict", data=body)
    with urllib.request.urlopen(request) as response:
        answer = json.loads(response.read())
    assert set(answer["outputs"]) == {"translation", "token_ids"}
    row = predict_rest(server.rest_address, "translator", {"source": ["4 7 2"]}, version=1)
    assert answer["outputs"]["translation"] == row["translation"]


def tfzoo(*args):
    return subprocess.run([sys.executable, "-m", "tfzoo.cli.main", *args],
                          capture_output=True, text=True, timeout=300)


def test_tfzoo_predict_with_server(server):
    import json

    # --input with names from the task of --config, over gRPC.
    result = tfzoo("predict", f"--server={server.grpc_address}", "--protocol=grpc",
                   "--model=translator", "--config=configs/transformer/numbers_tiny.yaml",
                   "--input", "4 7 2")
    assert result.returncode == 0, result.stderr[-3000:]
    answer = json.loads(result.stdout[result.stdout.index("{"):])
    assert set(answer) == {"translation", "token_ids"}
    # --instances_json over REST, with a {"b64"} string.
    b64 = base64.b64encode(NOT_UTF8).decode()
    result = tfzoo("predict", f"--server={server.rest_address}", "--model=classifier",
                   f'--instances_json=[{{"sentence1": {{"b64": "{b64}"}}, "sentence2": "x"}}]')
    assert result.returncode == 0, result.stderr[-3000:]
    answer = json.loads(result.stdout[result.stdout.index("{"):])
    assert answer["label"][0] in ("paraphrase", "not_paraphrase")


# === Bad input ===
def _signature(server, name):
    return server.models[name][1].signatures["serving_default"]


def test_empty_and_overlong_text_are_answered(exports, server):
    built, _, _ = exports
    classifier = predict_rest(server.rest_address, "classifier",
                              {"sentence1": ["", LONG_TEXT], "sentence2": ["", LONG_TEXT]})
    np.testing.assert_allclose(np.sum(classifier["probabilities"], axis=1), 1.0, atol=1e-5)
    # Over-long pairs are trimmed round-robin to seq_length, as in training.
    task, model, _, _ = built["classifier"]
    expected = keras_outputs("classifier", task, model,
                             {"sentence1": ["", LONG_TEXT], "sentence2": ["", LONG_TEXT]})
    np.testing.assert_allclose(classifier["logits"], expected["logits"], atol=1e-4)

    # The generator: an empty prompt starts after <|endoftext|>; a long one
    # keeps its last tokens and is echoed whole.
    generator = predict_grpc(server.grpc_address, "generator",
                             {"prompt": ["", LONG_TEXT]})
    end = built["generator"][1].tokenizer.end_of_text_id
    assert generator["token_ids"][0][0] == end
    assert generator["text"][1].startswith(LONG_TEXT)
    assert sum(t >= 0 for t in generator["token_ids"][1]) <= 16 + MAX_NEW_TOKENS

    translator = predict_rest(server.rest_address, "translator", {"source": ["", LONG_TEXT]})
    assert all(isinstance(t, str) for t in translator["translation"])


def test_invalid_utf8_is_replaced_not_an_error(server):
    """Bytes that are not UTF-8 (sent as {"b64": ...}) become U+FFFD, which the
    BERT cleaning drops: the classifier answers as for the valid rest of the text."""
    as_text = NOT_UTF8.decode("utf-8", errors="replace")  # "caf\ufffd au lait \ufffd"
    classifier = predict_rest(server.rest_address, "classifier",
                              {"sentence1": [NOT_UTF8, "caf au lait "],
                               "sentence2": ["x", "x"]})
    np.testing.assert_allclose(classifier["logits"][0], classifier["logits"][1], atol=1e-5)

    instances = [{"prompt": {"b64": base64.b64encode(NOT_UTF8).decode()}}]
    generator = predict_rest(server.rest_address, "generator", instances)
    assert generator["text"][0].startswith(as_text)  # valid UTF-8 out, always

    translator = predict_grpc(server.grpc_address, "translator", {"source": [NOT_UTF8]})
    assert isinstance(translator["translation"][0], str)

    # The export itself, without the stand-in's JSON layer.
    outputs = _signature(server, "generator")(prompt=tf.constant([NOT_UTF8]))
    assert outputs["text"].numpy()[0].decode("utf-8").startswith(as_text)


def test_wrong_dtype_is_a_clear_error(server):
    with pytest.raises(ServingError, match="is not of expected type: string") as error:
        predict_rest(server.rest_address, "classifier", [{"sentence1": 7, "sentence2": "x"}])
    assert error.value.status == 400
    with pytest.raises(ServingError, match="INVALID_ARGUMENT.*to be string but int"):
        predict_grpc(server.grpc_address, "translator", {"source": [[1, 2]]})
    # The loaded export refuses it too, naming the dtype.
    with pytest.raises((TypeError, ValueError, tf.errors.InvalidArgumentError),
                       match="string|int32"):
        _signature(server, "translator")(source=tf.constant([1, 2]))


def test_missing_input_is_a_clear_error(server):
    with pytest.raises(ServingError, match="Missing but required: \\['sentence2'\\]") as error:
        predict_rest(server.rest_address, "classifier", {"sentence1": ["Only one."]})
    assert error.value.status == 400
    with pytest.raises(ServingError, match="INVALID_ARGUMENT.*sentence2"):
        predict_grpc(server.grpc_address, "classifier", {"sentence1": ["Only one."]})
    with pytest.raises(TypeError, match="sentence2"):
        _signature(server, "classifier")(sentence1=tf.constant(["Only one."]))
    with pytest.raises(ServingError, match="HTTP 404.*Servable not found"):
        predict_rest(server.rest_address, "no_such_model", {"x": ["y"]})


# === export_saved_model(model, export_dir, preprocessor=...) ===
def test_export_with_a_preprocessor_serves_raw_pairs(exports, tmp_path):
    """The contract's plain form: a model and its preprocessor; the signature
    takes one string input per segment and returns the model's outputs."""
    built, _, _ = exports
    task, model, _, _ = built["classifier"]
    preprocessor = task.build_preprocessor()
    export_dir = export_saved_model(model, str(tmp_path / "pairs" / "1"), preprocessor,
                                    input_names=("sentence1", "sentence2"))
    inputs = {"sentence1": ["The cat sat.", "", "Shares rose 3 percent."],
              "sentence2": ["A cat was sitting.", "Nothing here.", LONG_TEXT]}
    served = run_with_tf1_loader(export_dir, inputs)
    expected = model(preprocessor([tf.constant(inputs["sentence1"]),
                                   tf.constant(inputs["sentence2"])]), training=False)
    assert set(served) == {"outputs"}
    np.testing.assert_allclose(np.array(served["outputs"]), np.asarray(expected), atol=1e-5)
    assert read_warmup_requests(export_dir)  # default examples were written
    check_serving_ops(export_dir)


def test_export_argument_errors_name_the_value(exports, tmp_path):
    built, _, _ = exports
    task, model, signature, _ = built["classifier"]
    with pytest.raises(ValueError, match="non-empty path.*''"):
        export_saved_model(model, "", signature)
    with pytest.raises(ValueError, match="not both"):
        export_saved_model(model, str(tmp_path / "a"), task.build_preprocessor(),
                           serving=signature)
    with pytest.raises(TypeError, match="ServingSignature.*dict"):
        export_saved_model(model, str(tmp_path / "b"), serving={"fn": None})
    with pytest.raises(ValueError, match="input_names.*'sentence one'"):
        export_saved_model(model, str(tmp_path / "c"), task.build_preprocessor(),
                           input_names=["sentence one"])
    with pytest.raises(ValueError, match="version=True"):
        versioned_export_dir(str(tmp_path), "m", version=True)
    assert not os.path.exists(os.path.join(os.getcwd(), "saved_model.pb"))


# === Token signatures: typed warmup requests, any input dtype, relative paths ===
def test_token_only_exports_load_in_the_server_and_answer_grpc(exports, tmp_path, monkeypatch):
    """A model exported without a raw-input signature serves its own inputs:
    the warmup requests carry the signature's dtypes (int32 ids, float32
    masks; the server refuses a version whose warmup fails), Python ints
    reach gRPC as int32, and a relative <name>/<version> directory works."""
    from tfzoo.models.xlnet import XLNetBackbone, XLNetLMHead

    built, _, _ = exports
    _, classifier, _, _ = built["classifier"]
    lm_head = XLNetLMHead(XLNetBackbone(vocabulary_size=40, num_layers=1, num_heads=2,
                                        hidden_dim=8, intermediate_dim=16, dropout=0.0))
    monkeypatch.chdir(tmp_path)
    for name, model in (("tokens", classifier), ("xlnet_lm", lm_head)):
        export_dir = export_saved_model(model, os.path.join(name, "1"))
        specs = {key: tensor.dtype for key, tensor in model.input.items()}
        for request in read_warmup_requests(export_dir):
            assert {key: tf.as_dtype(tensor.dtype).name
                    for key, tensor in request.inputs.items()} == specs
    assert os.path.isfile(MODELS_CONFIG)
    assert set(read_models_config(MODELS_CONFIG)) == {"tokens", "xlnet_lm"}

    tokens = {"input_word_ids": [[101, 7592, 102, 0]], "input_mask": [[1, 1, 1, 0]],
              "input_type_ids": [[0, 0, 0, 0]]}
    lm_inputs = {"input_word_ids": [[5, 9, 12]], "input_mask": [[1, 1, 1]],
                 "input_type_ids": [[0, 0, 2]], "perm_mask": [[[0.0, 1, 1]] * 3],
                 "target_mapping": [[[0.0, 0, 1]]]}
    with StandInModelServer(MODELS_CONFIG) as stand_in:
        assert stand_in.warmup_requests_run == 2
        answer = predict_grpc(stand_in.grpc_address, "tokens", tokens)
        lm_answer = predict_grpc(stand_in.grpc_address, "xlnet_lm", lm_inputs)
    expected = classifier({k: np.array(v, "int32") for k, v in tokens.items()})
    np.testing.assert_allclose(answer["outputs"], np.asarray(expected), atol=1e-5)
    lm_expected = lm_head({k: np.array(v, "float32" if k in ("perm_mask", "target_mapping")
                                       else "int32") for k, v in lm_inputs.items()})
    np.testing.assert_allclose(lm_answer["outputs"], np.asarray(lm_expected), atol=1e-5)


def test_clients_refuse_a_bare_string_and_read_b64_rows():
    from tfzoo.export.client import _columns, row_instances
    from tfzoo.export.tf_serving import predict_request

    with pytest.raises(ValueError, match="'text'.*single str 'hello'"):
        row_instances({"text": "hello"})
    with pytest.raises(ValueError, match="'text'.*single str 'hello'"):
        predict_request("m", {"text": "hello"})
    # A one-output signature's rows are its values, {"b64": ...} for bytes.
    rows = [{"b64": base64.b64encode(b"\xff\x00").decode()}, {"b64": "aGk="}]
    assert _columns(rows) == {"predictions": [b"\xff\x00", "hi"]}
    assert _columns([{"label": "a", "score": 1.0}]) == {"label": ["a"], "score": [1.0]}
