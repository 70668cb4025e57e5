"""`tfzoo pretrain`: masked-LM (+ NSP) pretraining from an experiment config."""

from tfzoo.cli.flags import experiment_from_flags, reject_positional, require_model_dir


def main(argv):
    reject_positional("pretrain", argv)
    from tfzoo.training.trainer import train

    experiment = experiment_from_flags()
    if experiment.task.type != "bert_pretraining":
        raise ValueError(f"`tfzoo pretrain` runs bert_pretraining tasks; {experiment.task.type!r} "
                         "goes through `tfzoo train`.")
    model_dir = require_model_dir()
    _, summary, _ = train(experiment, model_dir)
    history = summary["history"]
    print("\n=== tfzoo pretrain ===")
    for key in sorted(k for k in history if k.endswith("loss")):
        values = ", ".join(f"{v:.4f}" for v in history[key])
        print(f"{key:>20}: {values}")
    print(f"model: {model_dir}/final   wall time: {summary['train_seconds']:.0f} s")
    return 0
