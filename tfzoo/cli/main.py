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

# The tfzoo flags each command reads. A flag of another command is an error:
# absl's flags are global, so `tfzoo train --prompt hi` would otherwise pass
# silently. absl's own flags (--verbosity, ...) go with every command.
_EXPERIMENT = ("config", "model_dir", "params_override", "init_checkpoint", "strategy")
_EXPORT = ("export_dir", "export_name")
_SERVER = ("server", "model", "protocol", "signature_name", "model_version",
           "instances_json", "input_names")
COMMAND_FLAGS = {
    "demo": ("config", "model_dir", "params_override", "demo_model_dir", "export_dir"),
    "train": _EXPERIMENT + _EXPORT,
    "evaluate": _EXPERIMENT,
    "export": _EXPERIMENT + _EXPORT,
    "predict": _EXPERIMENT + ("input",) + _SERVER,
    "pretrain": _EXPERIMENT,
    "generate": ("model_path", "prompt", "length", "temperature", "k", "p",
                 "num_return_sequences", "num_beams", "greedy", "seed", "xla", "dtype"),
    "build-vocab": ("vocab_input", "vocab_output", "vocab_size", "lower_case"),
}
_CLI_MODULES = (build_vocab, demo, flags, generate, serving_client, train)


def tfzoo_flags():
    """Name -> absl Flag for every flag tfzoo's commands define."""
    by_module = absl_flags.FLAGS.flags_by_module_dict()
    return {flag.name: flag for module in _CLI_MODULES
            for flag in by_module.get(module.__name__, ())}


def check_command_flags(command):
    """Raises ValueError naming any flag given on the command line that
    `command` does not read (it belongs to another command)."""
    foreign = sorted(name for name, flag in tfzoo_flags().items()
                     if flag.present and name not in COMMAND_FLAGS[command])
    if foreign:
        owners = {name: [c for c, names in COMMAND_FLAGS.items() if name in names]
                  for name in foreign}
        given = ", ".join(f"--{name} (a flag of {' / '.join(owners[name])})"
                          for name in foreign)
        raise ValueError(f"`tfzoo {command}` does not take {given}.")


from tfzoo.export.client import ServingError  # noqa: E402  (standard library only)

# What a wrong flag, config value, file or server raises: reported in one line,
# exit status 2. Other exceptions (bugs) keep their traceback.
USER_ERRORS = (ValueError, FileNotFoundError, NotADirectoryError, IsADirectoryError,
               FileExistsError, ServingError)
_HELP = ("--help", "-help", "-h", "--helpshort", "-?")


def command_help(command):
    """The usage line and flags of one command."""
    defined = tfzoo_flags()
    lines = [f"USAGE: tfzoo {command} [flags]", ""]
    for name in COMMAND_FLAGS[command]:
        flag = defined[name]
        repeatable = flag.help.replace(
            ";\n    repeat this option to specify a list of values", " (repeatable)")
        lines.append(f"  --{name}: {repeatable}")
        if flag.default not in (None, [], ""):
            lines.append(f"    (default: {flag.default})")
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
        check_command_flags(command)
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
