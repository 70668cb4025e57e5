"""Flags shared by the experiment commands (train, pretrain, evaluate, ...)."""

from absl import flags

flags.DEFINE_string("config", None, "Experiment YAML file (see configs/).")
flags.DEFINE_string("model_dir", None, "Directory for checkpoints, logs and the final model.")
flags.DEFINE_multi_string(
    "params_override", [],
    "Config overrides, `section.key=value`, comma-separated or repeated, e.g. "
    "--params_override=trainer.epochs=1,task.data.text_columns=[s1,s2]; commas inside "
    "brackets, braces or quotes belong to the value.")
flags.DEFINE_string("init_checkpoint", None,
                    "Pretrained checkpoint directory; replaces task.model.init_checkpoint.")
flags.DEFINE_string("strategy", None, "Distribution strategy; replaces runtime.strategy.")

FLAGS = flags.FLAGS


def params_overrides():
    """The `key=value` items of every --params_override (see `split_overrides`)."""
    from tfzoo.config import split_overrides

    return [o for item in FLAGS.params_override for o in split_overrides(item)]


def experiment_from_flags():
    """Loads --config with --params_override, --init_checkpoint and --strategy applied."""
    from tfzoo.training.config import load_experiment

    if not FLAGS.config:
        raise ValueError("--config is required (an experiment YAML file, see configs/).")
    overrides = params_overrides()
    if FLAGS.init_checkpoint:
        overrides.append(f"task.model.init_checkpoint={FLAGS.init_checkpoint}")
    if FLAGS.strategy:
        overrides.append(f"runtime.strategy={FLAGS.strategy}")
    return load_experiment(FLAGS.config, overrides)


def reject_positional(command, argv):
    """Every experiment command takes flags only: a stray word is a mistake
    (a flag without its `--`, or a value split off by the shell)."""
    if argv:
        raise ValueError(f"`tfzoo {command}` takes no positional arguments; received {argv}")


def require_model_dir():
    if not FLAGS.model_dir:
        raise ValueError("--model_dir is required.")
    return FLAGS.model_dir
