"""`tfzoo <command> [flags]`: the tfzoo command line.

Commands:
  demo      Train a small decoder built from tfzoo.layers on a reversal task,
            then decode with the key/value cache (offline, about a minute).
  pretrain  Masked-LM (+ next-sentence) pretraining from an experiment config:
            tfzoo pretrain --config configs/bert/pretrain_tiny.yaml --model_dir runs/pt

Run `tfzoo <command> --help` for a command's flags.
"""

import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from absl import app  # noqa: E402

from tfzoo.cli import demo, flags, pretrain  # noqa: E402, F401  (flags defines --config ...)

COMMANDS = {"demo": demo.main, "pretrain": pretrain.main}


def main(argv):
    if len(argv) < 2 or argv[1] not in COMMANDS:
        received = argv[1] if len(argv) > 1 else "nothing"
        raise app.UsageError(
            f"Expected a command, one of {sorted(COMMANDS)}; received {received}.\n\n"
            + __doc__
        )
    return COMMANDS[argv[1]](argv[2:])


def run():
    """Console-script entry point."""
    app.run(main, argv=sys.argv)


if __name__ == "__main__":
    run()
