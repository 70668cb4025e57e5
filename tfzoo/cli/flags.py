"""Flags shared by the experiment commands (train, pretrain, evaluate, ...)."""

from absl import flags

flags.DEFINE_string("config", None, "Experiment YAML file (see configs/).")
flags.DEFINE_string("model_dir", None, "Directory for checkpoints, logs and the final model.")
flags.DEFINE_multi_string(
    "params_override", [],
    "Config overrides, `section.key=value`, comma-separated or repeated, e.g. "
    "--params_override=trainer.epochs=1,trainer.batch_size=8")
flags.DEFINE_string("init_checkpoint", None,
                    "Pretrained checkpoint directory; replaces task.model.init_checkpoint.")
flags.DEFINE_string("strategy", None, "Distribution strategy; replaces runtime.strategy.")

FLAGS = flags.FLAGS


def experiment_from_flags():
    """Loads --config with --params_override, --init_checkpoint and --strategy applied."""
    from tfzoo.training.config import load_experiment

    if not FLAGS.config:
        raise ValueError("--config is required (an experiment YAML file, see configs/).")
    overrides = [o for item in FLAGS.params_override for o in item.split(",") if o.strip()]
    if FLAGS.init_checkpoint:
        overrides.append(f"task.model.init_checkpoint={FLAGS.init_checkpoint}")
    if FLAGS.strategy:
        overrides.append(f"runtime.strategy={FLAGS.strategy}")
    return load_experiment(FLAGS.config, overrides)


def require_model_dir():
    if not FLAGS.model_dir:
        raise ValueError("--model_dir is required.")
    return FLAGS.model_dir
