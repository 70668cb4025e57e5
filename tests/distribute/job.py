"""One training job for the distribution tests, run as its own process.

    python -m tests.distribute.job MODEL_DIR DATA_FILE STRATEGY [--kill_at STEP]
        [--logical_cpus N] [--epochs E] [--steps S] [--checkpoint_every K]
        [--batch_size B] [--eval_batch_size B] [--global_clipnorm C]

Saves the final weights to MODEL_DIR/weights_<task>.npz (every worker, so the
test can compare them) besides what the trainer writes.
"""

import argparse
import json
import os
import signal


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("model_dir")
    parser.add_argument("data_file")
    parser.add_argument("strategy")
    parser.add_argument("--logical_cpus", type=int, default=1)
    parser.add_argument("--kill_at", type=int, default=0)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--steps", type=int, default=4)
    parser.add_argument("--checkpoint_every", type=int, default=0)
    parser.add_argument("--loop", default="auto")
    parser.add_argument("--mixed_precision", default=None)
    parser.add_argument("--jit", action="store_true")
    parser.add_argument("--batch_size", type=int, default=8)
    parser.add_argument("--eval_batch_size", type=int, default=None)
    parser.add_argument("--global_clipnorm", type=float, default=None)
    args = parser.parse_args()

    import tensorflow as tf

    if args.logical_cpus > 1:  # before any op initialises TF's devices
        cpu = tf.config.list_physical_devices("CPU")[0]
        tf.config.set_logical_device_configuration(
            cpu, [tf.config.LogicalDeviceConfiguration()] * args.logical_cpus)

    import keras
    import numpy as np

    from tfzoo.training.trainer import train

    class KillAt(keras.callbacks.Callback):
        def __init__(self, step):
            super().__init__()
            self.step, self.seen = step, 0

        def on_train_batch_end(self, batch, logs=None):
            self.seen += 1
            if self.seen == self.step:
                os.kill(os.getpid(), signal.SIGKILL)

    experiment = experiment_for(args.data_file, args.strategy, args.epochs, args.steps,
                                args.checkpoint_every, args.logical_cpus,
                                loop=args.loop, mixed_precision=args.mixed_precision,
                                jit_compile=args.jit, batch_size=args.batch_size,
                                eval_batch_size=args.eval_batch_size,
                                global_clipnorm=args.global_clipnorm)
    callbacks = [KillAt(args.kill_at)] if args.kill_at else []
    model, summary, _ = train(experiment, args.model_dir, callbacks=callbacks)
    task_id = json.loads(os.environ.get("TF_CONFIG", "{}")).get("task", {}).get("index", 0)
    np.savez(os.path.join(args.model_dir, f"weights_{task_id}.npz"),
             *[keras.ops.convert_to_numpy(w.value) for w in model.weights])
    with open(os.path.join(args.model_dir, f"summary_{task_id}.json"), "w") as f:
        json.dump(summary, f)


def experiment_for(data_file, strategy, epochs=2, steps=4, checkpoint_every=0, logical_cpus=1,
                   loop="auto", mixed_precision=None, jit_compile=False, batch_size=8,
                   eval_batch_size=None, global_clipnorm=None):
    """A tiny BERT pair classifier, no dropout (replicas would draw other masks);
    global_clipnorm None keeps the optimizer's default (1.0)."""
    from tests.reference_models import minilm_path
    from tfzoo.training.config import experiment_from_dict

    runtime = {"strategy": strategy, "seed": 5, "loop": loop,
               "mixed_precision": mixed_precision, "jit_compile": jit_compile}
    if strategy == "mirrored":
        runtime["devices"] = [f"/cpu:{i}" for i in range(logical_cpus)]
    return experiment_from_dict({
        "task": {
            "type": "sentence_classification",
            "model": {"config": "configs/models/bert_tiny.yaml",
                      "overrides": {"num_layers": 1, "hidden_dim": 16, "num_heads": 2,
                                    "intermediate_dim": 32, "max_sequence_length": 32,
                                    "dropout": 0.0}},
            "vocabulary": minilm_path(),
            "data": {"train": data_file, "validation": data_file,
                     "text_columns": ["a", "b"], "label_column": "label"},
            "seq_length": 16, "dropout": 0.0,
        },
        "trainer": {"epochs": epochs, "steps_per_epoch": steps, "batch_size": batch_size,
                    "eval_batch_size": eval_batch_size,
                    "tensorboard": False, "verbose": 0,
                    "checkpoint_every_steps": checkpoint_every or None,
                    "optimizer": {"learning_rate": 1e-2, **(
                        {"global_clipnorm": global_clipnorm} if global_clipnorm else {})}},
        "runtime": runtime,
    })


if __name__ == "__main__":
    main()
