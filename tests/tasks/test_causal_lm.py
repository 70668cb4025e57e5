"""Causal-LM training through the shared trainer, then `tfzoo generate`."""

import os
import subprocess
import sys

import numpy as np
import pytest

from tfzoo.training.config import load_experiment
from tfzoo.training.trainer import train

CONFIG = os.path.join(os.path.dirname(__file__), "..", "..", "configs", "gpt", "causal_lm_tiny.yaml")


def test_perplexity_falls_and_the_model_generates(tmp_path):
    experiment = load_experiment(CONFIG, ["trainer.epochs=3", "trainer.steps_per_epoch=8",
                                          "trainer.verbose=0", "trainer.tensorboard=false"])
    model, summary, task = train(experiment, str(tmp_path))
    perplexity = summary["history"]["val_perplexity"]
    assert all(later < earlier for earlier, later in zip(perplexity, perplexity[1:])), perplexity
    vocabulary = model.tokenizer.vocabulary_size
    assert perplexity[-1] < 0.2 * vocabulary  # far from the uniform guess
    # evaluate() agrees with fit's last validation pass.
    assert task.evaluate(model)["perplexity"] == pytest.approx(perplexity[-1], rel=1e-3)

    result = subprocess.run(
        [sys.executable, "-m", "tfzoo.cli.main", "generate", "--model_path",
         str(tmp_path / "final"), "--prompt", "The weather in", "--length", "8", "--seed", "3",
         "--num_return_sequences", "2", "--dtype", "bfloat16", "--noxla"],
        capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.count("=== generated sequence") == 2
    assert result.stdout.count("The weather in") >= 2

    # The command line loads final/ (not compiled) and evaluates it like train.
    from tfzoo.checkpoints.pretrained import load_pretrained_model

    loaded = load_pretrained_model(str(tmp_path / "final"))
    assert task.evaluate(loaded)["perplexity"] == pytest.approx(perplexity[-1], rel=1e-3)
    # A config of another task with this model directory names both.
    translation = os.path.join(os.path.dirname(CONFIG), "..", "transformer", "numbers_tiny.yaml")
    result = subprocess.run(
        [sys.executable, "-m", "tfzoo.cli.main", "predict", "--config", translation,
         "--model_dir", str(tmp_path), "--input", "4 7 2"],
        capture_output=True, text=True, timeout=300)
    assert result.returncode == 2, result.stderr[-3000:]
    assert "holds a GPTCausalLM, but a translation config trains a Transformer" in result.stderr


def test_blocks_are_shifted_windows(tmp_path):
    experiment = load_experiment(CONFIG, ["task.data.seq_length=16"])
    from tfzoo.tasks.causal_lm import CausalLMTask

    task = CausalLMTask(experiment.task)
    train_blocks, validation_blocks = task.split_blocks()
    assert train_blocks.shape[1] == validation_blocks.shape[1] == 17
    features, labels, weights = task._examples(train_blocks[:2])
    np.testing.assert_array_equal(features["input_word_ids"][:, 1:], labels[:, :-1])
    assert float(np.asarray(weights).min()) == 1.0
