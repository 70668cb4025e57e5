"""`tfzoo demo`: the main job, offline, on an embedded default.

Fine-tunes real pretrained BERT weights (all-MiniLM-L6-v2, shipped on the
package registry) on the MRPC-style paraphrase sample that ships with tfzoo,
reports dev accuracy and F1, exports a SavedModel for TF Serving under
saved_models/, reloads it the way the model server does (TF1 session loader, in
a fresh process) and answers raw-text queries with it.
"""

import os
import time

from absl import flags

from tfzoo.cli.flags import FLAGS, params_overrides, reject_positional

DEFAULT_CONFIG = os.path.join("configs", "bert", "paraphrase_minilm.yaml")
flags.DEFINE_string("demo_model_dir", os.path.join("runs", "demo"),
                    "demo: where checkpoints and logs go.")

QUERIES = [
    ("Northwind will deliver 300 electric buses to Oslo next year.",
     "Next year, Northwind is set to supply Oslo with 300 electric buses."),
    ("Northwind will deliver 300 electric buses to Oslo next year.",
     "Next year, Northwind is set to supply Lima with 300 electric buses."),
]


def main(argv):
    reject_positional("demo", argv)
    from tfzoo.cli.train import export_and_verify
    from tfzoo.training.config import load_experiment
    from tfzoo.training.trainer import train

    config = FLAGS.config or DEFAULT_CONFIG
    if not os.path.isfile(config):
        raise FileNotFoundError(f"No demo config at {config}: run from the repository root "
                                "(make demo) or pass --config.")
    started = time.time()
    experiment = load_experiment(config, params_overrides())
    model_dir = FLAGS.model_dir or FLAGS.demo_model_dir
    print(f"tfzoo demo: fine-tuning all-MiniLM-L6-v2 on the paraphrase sample ({config})")
    model, summary, task = train(experiment, model_dir)
    metrics = task.evaluate(model)

    queries = [[a for a, _ in QUERIES], [b for _, b in QUERIES]]
    export_dir, _, served = export_and_verify(task, model, FLAGS.export_dir,
                                              "paraphrase_minilm", queries)

    print("\n=== tfzoo demo: BERT fine-tuning, export, serve ===")
    print(f"model:            all-MiniLM-L6-v2 ({model.count_params():,} parameters)")
    print(f"training:         {summary['epochs']} epochs x {summary['steps_per_epoch']} steps, "
          f"{summary['train_seconds']:.0f} s")
    print(f"dev accuracy:     {metrics['accuracy']:.4f}  ({metrics['examples']} pairs)")
    print(f"dev F1:           {metrics['f1']:.4f}")
    print(f"export:           {export_dir}  (reloaded with TF Serving's TF1 loader)")
    for (a, b), label, probabilities in zip(QUERIES, served["label"], served["probabilities"]):
        print(f"query:            {a!r}\n                  {b!r}\n"
              f"  -> {label} (p={max(probabilities):.3f})")
    print(f"wall time:        {time.time() - started:.0f} s")
    return 0
