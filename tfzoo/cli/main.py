"""`tfzoo <command> [flags]`: the tfzoo command line.

Commands:
  demo      The main job, offline: fine-tune all-MiniLM-L6-v2 on the shipped
            paraphrase sample, evaluate, export for TF Serving, query the export.
  train     Train from an experiment config, evaluate, export:
            tfzoo train --config configs/bert/glue_mrpc.yaml --model_dir runs/mrpc
  evaluate  The task's metrics for the model in --model_dir.
  export    A versioned SavedModel (<export_dir>/<name>/<version>) from --model_dir.
  predict   Raw text through the model in --model_dir: --input=... per text column;
            or through a TF Serving model server: --server=HOST:PORT --model=NAME
            [--protocol=grpc] (docs/serving.md).
  pretrain  Masked-LM (+ next-sentence) pretraining:
            tfzoo pretrain --config configs/bert/pretrain_tiny.yaml --model_dir runs/pt
  generate  Text from a GPT / GPT-2 checkpoint:
            tfzoo generate --model_path runs/gpt_tiny/final --prompt "The" --length 20
  build-vocab  A WordPiece vocabulary from text files (for the Transformer):
            tfzoo build-vocab --vocab_input train.tsv --vocab_output vocab.txt

Run `tfzoo <command> --help` for a command's flags. A bad flag, config value
or input file ends the command with one line naming it (exit status 2); set
TFZOO_TRACEBACK=1 to see the Python traceback instead.
"""

import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from absl import app  # noqa: E402

from absl import flags as absl_flags  # noqa: E402

from tfzoo.cli import (build_vocab, demo, flags, generate, pretrain,  # noqa: E402
                       serving_client, train)

COMMANDS = {
    "demo": demo.main,
    "train": train.train_main,
    "evaluate": train.evaluate_main,
    "export": train.export_main,
    "predict": train.predict_main,
    "pretrain": pretrain.main,
    "generate": generate.main,
    "build-vocab": build_vocab.main,
}

# The modules whose flags each command reads, for `tfzoo <command> --help`
# (absl's own --help lists only the flags of the program's main module).
COMMAND_FLAGS = {
    "demo": (demo,),
    "train": (flags, train),
    "evaluate": (flags, train),
    "export": (flags, train),
    "predict": (flags, train, serving_client),
    "pretrain": (flags,),
    "generate": (generate,),
    "build-vocab": (build_vocab,),
}
from tfzoo.export.client import ServingError  # noqa: E402  (standard library only)

# What a wrong flag, config value, file or server raises: reported in one line,
# exit status 2. Other exceptions (bugs) keep their traceback.
USER_ERRORS = (ValueError, FileNotFoundError, NotADirectoryError, IsADirectoryError,
               FileExistsError, ServingError)
_HELP = ("--help", "-help", "-h", "--helpshort", "-?")


def command_help(command):
    """The usage line and flags of one command."""
    lines = [f"USAGE: tfzoo {command} [flags]", ""]
    for module in COMMAND_FLAGS[command]:
        lines.append(absl_flags.FLAGS.module_help(module))
    return "\n".join(lines)


def main(argv):
    if len(argv) < 2 or argv[1] not in COMMANDS:
        received = argv[1] if len(argv) > 1 else "nothing"
        raise app.UsageError(
            f"Expected a command, one of {sorted(COMMANDS)}; received {received}.\n\n"
            + __doc__
        )
    command = argv[1]
    try:
        return COMMANDS[command](argv[2:])
    except USER_ERRORS as error:
        if os.environ.get("TFZOO_TRACEBACK", "") not in ("", "0"):
            raise
        print(f"tfzoo {command}: error: {type(error).__name__}: {error}\n"
              f"(`tfzoo {command} --help` lists the flags; TFZOO_TRACEBACK=1 shows where "
              "the error was raised.)", file=sys.stderr)
        return 2


def run(argv=None):
    """Console-script entry point."""
    argv = list(sys.argv if argv is None else argv)
    if any(arg in _HELP for arg in argv[1:]):
        command = argv[1] if len(argv) > 1 else None
        print(command_help(command) if command in COMMANDS else __doc__)
        return 0
    app.run(main, argv=argv, flags_parser=_parse_flags)


def _parse_flags(argv):
    """absl's flag parsing, with an unknown or malformed flag reported as the
    other user errors are (absl's own parser prints "FATAL ..." and exits 1)."""
    try:
        return absl_flags.FLAGS(argv)
    except absl_flags.Error as error:
        command = argv[1] if len(argv) > 1 and argv[1] in COMMANDS else None
        name = f"tfzoo {command}" if command else "tfzoo"
        print(f"{name}: error: {error}\n(`{name} --help` lists the flags.)", file=sys.stderr)
        sys.exit(2)


if __name__ == "__main__":
    run()
