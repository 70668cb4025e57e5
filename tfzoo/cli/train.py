"""`tfzoo train`, `evaluate`, `export`, `predict`: the fine-tuning flow from a config.

train:    fit (progress bar, checkpoints, resume), then evaluate on the
          validation data and export a SavedModel for TF Serving.
evaluate: the task's metrics for the model in --model_dir.
export:   a versioned SavedModel (saved_models/<name>/<version>) from --model_dir.
predict:  raw text through the model in --model_dir (--input, repeated per column),
          or through a running TF Serving model server (--server, --model).
"""

import json
import os
import sys

from absl import flags

from tfzoo.cli import serving_client
from tfzoo.cli.flags import (
    FLAGS,
    experiment_from_flags,
    reject_positional,
    require_model_dir,
)

flags.DEFINE_string("export_dir", "saved_models",
                    "Base directory of exports: <export_dir>/<export_name>/<version>.")
flags.DEFINE_string("export_name", None, "Model name for TF Serving; default: the config's name.")
flags.DEFINE_multi_string("input", [], "predict: one raw text per text column, in order.")


def _export_name():
    if FLAGS.export_name:
        return FLAGS.export_name
    return os.path.splitext(os.path.basename(FLAGS.config))[0]


def _task_and_model(experiment):
    from tfzoo.checkpoints.pretrained import load_pretrained_model
    from tfzoo.tasks import task_class

    task = task_class(experiment.task.type)(experiment.task)
    final_dir = os.path.join(require_model_dir(), "final")
    model = load_pretrained_model(final_dir)
    task.check_model_class(model, final_dir)
    task.check_model(model)
    return task, model


def _no_signature_error(task, command):
    """The error for a command that needs a raw-input signature the task has not."""
    if task.exports_tokens:
        return ValueError(f"tfzoo {command} answers raw text, and a {task.config.type} model "
                          "answers it in Python only (its windows and words are mapped back "
                          "outside the model); its export serves token ids (serving_default "
                          "and serve_tokens).")
    return ValueError(f"tfzoo {command} serves raw inputs, and a {task.config.type} model "
                      "has no serving signature (it is a pretraining model: fine-tune it, "
                      "or use it through from_pretrained).")


def _serving_signature(task, model, command):
    signature = task.serving_signature(model)
    if signature is None:
        raise _no_signature_error(task, command)
    return signature


def _exports(task):
    """Whether `tfzoo train` exports the task's model: a raw-input signature,
    or the token signature of span and tag models (known from the config)."""
    return task.serving_input_names() is not None or task.exports_tokens


def export_and_verify(task, model, export_base, export_name, examples=None):
    """Exports `model`, reloads it with TF Serving's loader and compares predictions.

    Returns (export_dir, raw inputs, outputs of the reloaded export).
    """
    import numpy as np

    from tfzoo.export import export_saved_model, versioned_export_dir
    from tfzoo.export.verify import run_with_tf1_loader

    signature = task.serving_signature(model)
    if signature is None and not task.exports_tokens:
        raise _no_signature_error(task, "export")
    # Without a signature (span and tag models) the export serves token ids.
    export_dir = export_saved_model(model, versioned_export_dir(export_base, export_name),
                                    signature)
    if signature is None or examples is None:
        return export_dir, None, None
    inputs = {name: list(values) for name, values in zip(signature.inputs, examples)}
    served = run_with_tf1_loader(export_dir, inputs)
    import tensorflow as tf

    expected = signature.fn({k: tf.constant(v) for k, v in inputs.items()})
    for key, value in expected.items():
        if value.dtype != tf.string:
            np.testing.assert_allclose(np.asarray(served[key]), value.numpy(), atol=1e-4,
                                       err_msg=f"export output {key} differs from the model's")
    return export_dir, inputs, served


def train_main(argv):
    reject_positional("train", argv)
    from tfzoo.training.trainer import train

    experiment = experiment_from_flags()
    model_dir = require_model_dir()
    if os.path.isdir(os.path.join(model_dir, "final")):
        print(f"tfzoo train: {model_dir} holds a finished run (final/); this run trains from "
              "the start and replaces it (only an interrupted run resumes).", file=sys.stderr)
    model, summary, task = train(experiment, model_dir)
    metrics = task.evaluate(model)
    summary["validation"] = metrics
    export_dir = None
    if _exports(task):
        validation = task.examples("validation") if hasattr(task, "examples") else None
        sample = None if validation is None else [t[:4].tolist() for t in validation[0]]
        export_dir, _, _ = export_and_verify(task, model, FLAGS.export_dir, _export_name(),
                                             sample)
        summary["export"] = export_dir
    with open(os.path.join(model_dir, "train_summary.json"), "w") as f:
        json.dump(summary, f, indent=2)
    print(f"\n=== tfzoo train: {experiment.task.type} ===")
    for name, value in metrics.items():
        print(f"validation {name}: {value:.4f}" if isinstance(value, float)
              else f"validation {name}: {value}")
    print(f"model: {model_dir}/final   export: {export_dir}   "
          f"train time: {summary['train_seconds']:.0f} s")
    return 0


def evaluate_main(argv):
    reject_positional("evaluate", argv)
    experiment = experiment_from_flags()
    task, model = _task_and_model(experiment)
    metrics = task.evaluate(model)
    if not metrics:
        raise ValueError(f"Nothing to evaluate: this {experiment.task.type} config has no "
                         "held-out data (set the task's validation / dev data).")
    print(json.dumps(metrics, indent=2))
    return 0


def export_main(argv):
    reject_positional("export", argv)
    experiment = experiment_from_flags()
    task, model = _task_and_model(experiment)
    export_dir, _, _ = export_and_verify(task, model, FLAGS.export_dir, _export_name())
    print(f"exported: {export_dir}")
    return 0


def predict_main(argv):
    import tensorflow as tf

    reject_positional("predict", argv)
    if FLAGS.server:
        return serving_client.predict_with_server()
    experiment = experiment_from_flags()
    task, model = _task_and_model(experiment)
    signature = _serving_signature(task, model, "predict")
    names = list(signature.inputs)
    if len(FLAGS.input) != len(names):
        raise ValueError(f"predict needs one --input per text column ({names}); received "
                         f"{len(FLAGS.input)}.")
    for name, text in zip(names, FLAGS.input):
        if not text.strip():
            # Often an unset shell variable; the model answers it like any text.
            print(f"tfzoo predict: note: the input for {name!r} is empty.", file=sys.stderr)
    outputs = signature.fn({n: tf.constant([text]) for n, text in zip(names, FLAGS.input)})
    printable = {k: (v.numpy()[0].decode() if v.dtype == tf.string else v.numpy()[0].tolist())
                 for k, v in outputs.items()}
    # One line per output (a list of ids too), not one per number.
    print("{\n" + ",\n".join(f"  {json.dumps(k)}: {json.dumps(v)}" for k, v in printable.items())
          + "\n}")
    return 0
