"""A tiny fine-tuning run for the resume test, killable at a given step.

    python -m tests.training.resume_job MODEL_DIR DATA_FILE [KILL_AT_STEP [LOOP]]

LOOP is runtime.loop: auto (model.fit) or custom (tfzoo's Trainer, which
checkpoints every 4 steps).
"""

import os
import signal
import sys

import keras

from tests.reference_models import minilm_path
from tfzoo.training.config import experiment_from_dict
from tfzoo.training.trainer import train


class KillAt(keras.callbacks.Callback):
    """SIGKILLs the process after `step` training batches: no cleanup at all."""

    def __init__(self, step):
        super().__init__()
        self.step, self.seen = step, 0

    def on_train_batch_end(self, batch, logs=None):
        self.seen += 1
        if self.seen == self.step:
            os.kill(os.getpid(), signal.SIGKILL)


def experiment(data_file, loop="auto"):
    return experiment_from_dict({
        "task": {
            "type": "sentence_classification",
            "model": {"config": "configs/models/bert_tiny.yaml",
                      "overrides": {"num_layers": 1, "hidden_dim": 16, "num_heads": 2,
                                    "intermediate_dim": 32, "max_sequence_length": 32,
                                    "dropout": 0.1}},  # dropout on: its RNG must resume too
            "vocabulary": minilm_path(),
            "data": {"train": data_file, "validation": data_file,
                     "text_columns": ["a", "b"], "label_column": "label"},
            "seq_length": 16,
            "dropout": 0.1,
        },
        "trainer": {"epochs": 3, "batch_size": 8, "tensorboard": False, "verbose": 0,
                    "checkpoint_every_steps": 4, "optimizer": {"learning_rate": 1e-2}},
        "runtime": {"seed": 3, "loop": loop},
    })


if __name__ == "__main__":
    model_dir, data_file = sys.argv[1], sys.argv[2]
    kill_at = int(sys.argv[3]) if len(sys.argv) > 3 else 0
    loop = sys.argv[4] if len(sys.argv) > 4 else "auto"
    train(experiment(data_file, loop), model_dir,
          callbacks=[KillAt(kill_at)] if kill_at else [])
