"""The `tfzoo` command line, run as a user runs it (a subprocess)."""

import os
import subprocess
import sys


def tfzoo(*args):
    return subprocess.run(
        [sys.executable, "-m", "tfzoo.cli.main", *args],
        capture_output=True, text=True, timeout=600,
    )


def test_unknown_command_names_it():
    result = tfzoo("frobnicate")
    assert result.returncode != 0
    assert "received frobnicate" in result.stderr


def test_demo_runs_the_whole_flow(tmp_path):
    """The main job, shortened: fine-tune, evaluate, export, reload with TF
    Serving's loader, answer queries."""
    result = tfzoo("demo", f"--demo_model_dir={tmp_path / 'run'}",
                   f"--export_dir={tmp_path / 'saved_models'}",
                   "--params_override=trainer.epochs=1,trainer.steps_per_epoch=8,trainer.verbose=2")
    assert result.returncode == 0, result.stderr[-3000:]
    assert "dev accuracy:" in result.stdout and "dev F1:" in result.stdout
    assert "reloaded with TF Serving's TF1 loader" in result.stdout
    assert (tmp_path / "saved_models" / "paraphrase_minilm" / "1" / "saved_model.pb").is_file()
    assert result.stdout.count("  -> ") == 2


def test_pretrain_lowers_the_masked_lm_loss(tmp_path):
    import json

    from tfzoo.models.bert import BertPretrainer

    model_dir = tmp_path / "pretrain"
    result = tfzoo(
        "pretrain", "--config", "configs/bert/pretrain_tiny.yaml", "--model_dir", str(model_dir),
        "--params_override=trainer.epochs=4,trainer.steps_per_epoch=6,trainer.batch_size=16",
        "--params_override=task.data.seq_length=64,trainer.verbose=2",
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "mlm_logits_loss" in result.stdout
    history = json.loads((model_dir / "train_summary.json").read_text())["history"]
    mlm = history["mlm_logits_loss"]
    # From about ln(30522) = 10.3 nats; falling every epoch, by over a nat in all.
    assert all(later < earlier for earlier, later in zip(mlm, mlm[1:])), mlm
    assert mlm[0] - mlm[-1] > 1.0, mlm
    restored = BertPretrainer.from_pretrained(str(model_dir / "final"))
    assert restored.next_sentence_prediction


def test_pretrain_names_a_bad_config_key(tmp_path):
    result = tfzoo("pretrain", "--config", "configs/bert/pretrain_tiny.yaml",
                   "--model_dir", str(tmp_path), "--params_override=trainer.epoch=1")
    assert result.returncode != 0
    assert "Unknown config key(s) trainer.epoch" in result.stderr


def test_build_vocab(tmp_path):
    data = tmp_path / "pairs.tsv"
    data.write_text("the cat sat\tle chat assis\nthe dog ran\tle chien courait\n" * 20)
    output = tmp_path / "vocab.txt"
    result = tfzoo("build-vocab", f"--vocab_input={data}", f"--vocab_output={output}",
                   "--vocab_size=200")
    assert result.returncode == 0, result.stderr[-3000:]
    tokens = output.read_text().split("\n")
    assert tokens[:5] == ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    assert {"cat", "chat", "chien"} <= set(tokens)


def test_translation_train_then_predict_raw_text(tmp_path):
    import json

    common = ["--config", "configs/transformer/numbers_tiny.yaml",
              "--model_dir", str(tmp_path / "run")]
    result = tfzoo("train", *common, f"--export_dir={tmp_path / 'exports'}",
                   "--params_override=trainer.epochs=1,trainer.steps_per_epoch=10,"
                   "trainer.verbose=2,task.num_beams=2")
    assert result.returncode == 0, result.stderr[-3000:]
    assert "validation bleu:" in result.stdout
    assert (tmp_path / "exports" / "numbers_tiny" / "1" / "saved_model.pb").is_file()
    predicted = tfzoo("predict", *common, "--input", "4 7 2")
    assert predicted.returncode == 0, predicted.stderr[-3000:]
    output = json.loads(predicted.stdout[predicted.stdout.index("{"):])
    assert isinstance(output["translation"], str)
    assert "is empty" not in predicted.stderr
    empty = tfzoo("predict", *common, "--input", " ")
    assert empty.returncode == 0, empty.stderr[-3000:]
    assert "tfzoo predict: note: the input for 'source' is empty." in empty.stderr


def test_every_command_rejects_positional_arguments():
    """A stray word (a flag missing its `--`) fails before any work, naming the command."""
    import pytest

    from tfzoo.cli.main import COMMANDS

    for command, main in COMMANDS.items():
        with pytest.raises(ValueError) as error:
            main(["stray"])
        assert str(error.value) == (f"`tfzoo {command}` takes no positional arguments; "
                                    "received ['stray']")


def test_evaluate_rejects_a_positional_argument_from_the_shell(tmp_path):
    result = tfzoo("evaluate", "--config", "configs/transformer/numbers_tiny.yaml",
                   "--model_dir", str(tmp_path), "model_dir")
    assert result.returncode != 0
    assert "`tfzoo evaluate` takes no positional arguments; received ['model_dir']" in result.stderr


def test_params_override_with_a_list_value_names_a_bad_item(tmp_path):
    """Commas inside brackets stay in the value; a value YAML cannot read is named."""
    result = tfzoo("train", "--config", "configs/bert/glue_mrpc.yaml", "--model_dir",
                   str(tmp_path), "--params_override=task.data.text_columns=[#1 String,#2 String,"
                   "task.data.label_column=Quality")
    assert result.returncode != 0
    assert ("Override 'task.data.text_columns=[#1 String,#2 String,task.data.label_column="
            "Quality': the value of task.data.text_columns is not valid YAML") in result.stderr


def test_command_help_lists_its_flags():
    """`tfzoo <command> --help` shows the command's flags (absl's own --help
    lists only the main module's, which holds none)."""
    result = tfzoo("generate", "--help")
    assert result.returncode == 0
    for flag in ("--model_path", "--prompt", "--length", "--temperature", "--k", "--p",
                 "--num_return_sequences", "--seed"):
        assert flag + ":" in result.stdout, flag
    predict = tfzoo("predict", "-h").stdout
    assert "--input:" in predict and "--server:" in predict and "--model_dir:" in predict
    assert "Commands:" in tfzoo("--help").stdout
    demo = tfzoo("demo", "--help").stdout  # demo reads the experiment flags it needs too
    for flag in ("--config:", "--params_override:", "--model_dir:", "--export_dir:"):
        assert flag in demo, flag
    assert "--init_checkpoint:" not in demo and "--prompt:" not in demo


def test_another_commands_flag_is_an_error():
    """absl's flags are global: without the check `train` ignored --prompt."""
    result = tfzoo("train", "--config", "configs/gpt/causal_lm_tiny.yaml", "--model_dir", "unused",
                   "--prompt", "hi", "--length=3")
    assert result.returncode == 2, result.stderr[-2000:]
    assert ("`tfzoo train` does not take --length (a flag of generate), --prompt (a flag of "
            "generate).") in result.stderr
    assert not os.path.exists("unused")


def test_a_bad_value_is_one_line_not_a_traceback(tmp_path):
    """A user's mistake ends with one line naming it and exit status 2; with
    TFZOO_TRACEBACK=1 the traceback is there."""
    args = ("generate", "--model_path", str(tmp_path / "missing"), "--prompt", "Hi")
    result = tfzoo(*args)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    error = [line for line in result.stderr.splitlines() if line.startswith("tfzoo generate:")]
    assert len(error) == 1 and str(tmp_path / "missing") in error[0], result.stderr[-2000:]
    traced = subprocess.run([sys.executable, "-m", "tfzoo.cli.main", *args],
                            capture_output=True, text=True, timeout=600,
                            env=dict(os.environ, TFZOO_TRACEBACK="1"))
    assert traced.returncode != 0 and "Traceback" in traced.stderr


def test_sampling_flags_with_greedy_or_beams_are_an_error(tmp_path):
    result = tfzoo("generate", "--model_path", str(tmp_path), "--prompt", "Hi", "--greedy",
                   "--temperature", "0.5", "--p", "0.8")
    assert result.returncode == 2, result.stderr[-2000:]
    assert "--temperature, --p only apply when sampling, and --greedy does not sample" \
        in result.stderr
    result = tfzoo("generate", "--model_path", str(tmp_path), "--prompt", "Hi",
                   "--num_beams", "3", "--k", "4")
    assert result.returncode == 2 and "--num_beams=3 does not sample" in result.stderr
    result = tfzoo("generate", "--model_path", str(tmp_path), "--prompt", "Hi", "--p", "1.5")
    assert result.returncode == 2 and "--p must be a number in (0, 1] (1: off). Received: --p=1.5" \
        in result.stderr


def test_an_unreachable_server_is_one_line():
    result = tfzoo("predict", "--server", "localhost:1", "--model", "numbers_tiny",
                   "--input_names", "source", "--input", "4 7 2")
    assert result.returncode == 2 and "Traceback" not in result.stderr, result.stderr[-2000:]
    assert "tfzoo predict: error: ServingError" in result.stderr


def test_an_unknown_flag_is_one_line():
    result = tfzoo("train", "--epochs=1")
    assert result.returncode == 2, result.stderr[-2000:]
    assert "tfzoo train: error: Unknown command line flag 'epochs'" in result.stderr
    assert "FATAL" not in result.stderr


def test_span_and_tag_models_export_their_token_signature(tmp_path):
    """Answers per word or per window need Python around the model, so train
    and export write the token signature, and predict says why it cannot
    answer raw text (it called them pretraining models)."""
    import pytest
    import tensorflow as tf

    from tfzoo.cli.train import _serving_signature, export_and_verify
    from tfzoo.tasks import task_class
    from tfzoo.training.config import load_experiment

    experiment = load_experiment("configs/xlnet/squad_tiny.yaml")
    task = task_class(experiment.task.type)(experiment.task)
    model = task.build_model()
    export_dir, _, _ = export_and_verify(task, model, str(tmp_path), "squad")
    assert export_dir == str(tmp_path / "squad" / "1")
    loaded = tf.saved_model.load(export_dir)
    assert set(loaded.signatures) == {"serving_default", "serve_tokens"}
    assert (tmp_path / "squad" / "1" / "assets.extra" / "tf_serving_warmup_requests").is_file()
    with pytest.raises(ValueError, match="span_extraction model answers it in Python only"):
        _serving_signature(task, model, "predict")
