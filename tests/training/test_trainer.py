"""Training pieces: schedules, weight-decay exclusions, and exact resumption."""

import json
import os
import signal
import subprocess
import sys

import keras
import numpy as np
import pytest

from tests.testing import to_numpy
from tfzoo.training.optimizers import OptimizerConfig, build_optimizer
from tfzoo.training.schedules import InverseSquareRootSchedule, WarmupPolynomialDecay
from tfzoo.training.trainer import resumed_epoch


@pytest.mark.parametrize("step, expected", [
    (0, 0.0), (5, 5e-4), (10, 1e-3), (55, 5e-4), (100, 0.0), (250, 0.0)])
def test_warmup_then_linear_decay(step, expected):
    schedule = WarmupPolynomialDecay(1e-3, warmup_steps=10, decay_steps=90)
    assert float(schedule(step)) == pytest.approx(expected, abs=1e-9)


def test_polynomial_decay_and_serialization():
    schedule = WarmupPolynomialDecay(1.0, warmup_steps=0, decay_steps=100, end_learning_rate=0.1,
                                     power=2.0)
    assert float(schedule(30)) == pytest.approx(0.9 * 0.7**2 + 0.1)
    clone = keras.optimizers.schedules.deserialize(keras.optimizers.schedules.serialize(schedule))
    assert float(clone(30)) == pytest.approx(float(schedule(30)))


def test_transformer_schedule_is_equation_3():
    d_model, warmup = 512, 4000
    schedule = InverseSquareRootSchedule(d_model, warmup)
    for step in (0, 99, 3999, 4000, 20000):
        n = step + 1
        expected = d_model**-0.5 * min(n**-0.5, n * warmup**-1.5)
        assert float(schedule(step)) == pytest.approx(expected, rel=1e-5)


def test_weight_decay_skips_layer_norm_and_biases():
    from tfzoo.models.bert import BertBackbone, BertClassifier

    model = BertClassifier(BertBackbone(vocabulary_size=30, num_layers=1, num_heads=2,
                                        hidden_dim=8, intermediate_dim=16,
                                        max_sequence_length=8), num_classes=2)
    optimizer = build_optimizer(OptimizerConfig(learning_rate=0.1, weight_decay=0.5,
                                                warmup_fraction=0.0, decay="constant"),
                                total_steps=10)
    before = {v.path: to_numpy(v).copy() for v in model.trainable_variables}
    # Zero gradients: Adam's step is 0, so only the decoupled decay moves weights.
    optimizer.apply_gradients([(keras.ops.zeros_like(v), v) for v in model.trainable_variables])
    decayed = kept = 0
    for variable in model.trainable_variables:
        old, new = before[variable.path], to_numpy(variable)
        if variable.name in ("gamma", "beta", "bias"):
            np.testing.assert_array_equal(new, old, err_msg=variable.path)
            kept += 1
        else:
            np.testing.assert_allclose(new, old * (1 - 0.1 * 0.5), rtol=1e-6,
                                       err_msg=variable.path)
            decayed += 1
    assert decayed > 5 and kept > 5


def test_weight_decay_exclusions_match_paths_and_typos_are_named():
    """Model Garden's ["LayerNorm", "layer_norm", "bias"] and layer names
    match variable paths; Keras alone searched the short names ("gamma")."""
    from tfzoo.models.bert import BertBackbone, BertClassifier
    from tfzoo.training.optimizers import check_weight_decay_exclusions

    model = BertClassifier(BertBackbone(vocabulary_size=30, num_layers=1, num_heads=2,
                                        hidden_dim=8, intermediate_dim=16,
                                        max_sequence_length=8), num_classes=2)
    config = OptimizerConfig(learning_rate=0.1, weight_decay=0.5, warmup_fraction=0.0,
                             decay="constant",
                             exclude_from_weight_decay=["layer_norm", "bias", "position_embedding"])
    check_weight_decay_exclusions(config, model)
    optimizer = build_optimizer(config, total_steps=10)
    before = {v.path: to_numpy(v).copy() for v in model.trainable_variables}
    optimizer.apply_gradients([(keras.ops.zeros_like(v), v) for v in model.trainable_variables])
    kept = [v.path for v in model.trainable_variables
            if np.array_equal(to_numpy(v), before[v.path])]
    norms = [v.path for v in model.trainable_variables if "layer_norm" in v.path]
    assert norms and set(norms) <= set(kept)
    assert any("position_embedding" in path for path in kept)
    assert all("layer_norm" in p or "bias" in p or "position_embedding" in p for p in kept)
    with pytest.raises(ValueError, match=r"\['LayerNorm'\] match no variable of the "
                                         "BertClassifier"):
        check_weight_decay_exclusions(
            OptimizerConfig(exclude_from_weight_decay=["LayerNorm", "bias"]), model)


def test_gradient_accumulation_and_clipping_are_configured():
    optimizer = build_optimizer(OptimizerConfig(gradient_accumulation_steps=4,
                                                global_clipnorm=1.0), total_steps=100)
    assert optimizer.gradient_accumulation_steps == 4
    assert optimizer.global_clipnorm == 1.0
    # The schedule counts optimizer updates: 100 batches / 4 = 25 updates.
    schedule = optimizer._learning_rate.schedule
    assert schedule.decay_steps + schedule.warmup_steps == 25


def test_accumulated_updates_equal_one_big_batch_under_warmup_and_decay():
    """N micro-batches then one update equal one batch of N under the same
    schedule: Keras steps the schedule per batch, tfzoo's counts updates.
    (Before, warmup and decay ran N times too fast; the rate was 0 for the
    last (N-1)/N of a run.)"""
    import keras

    rng = np.random.default_rng(0)
    updates, accumulation = 6, 3
    gradients = rng.normal(size=(updates, accumulation, 4)).astype("float32")
    config = {"learning_rate": 0.1, "warmup_fraction": 0.34, "decay": "linear",
              "weight_decay": 0.0}
    big = build_optimizer(OptimizerConfig(**config), total_steps=updates)
    small = build_optimizer(OptimizerConfig(**config, gradient_accumulation_steps=accumulation),
                            total_steps=updates * accumulation)
    one, many = keras.Variable(np.ones(4, "float32")), keras.Variable(np.ones(4, "float32"))
    for step in range(updates):
        big.apply_gradients([(gradients[step].mean(axis=0), one)])
        for micro in range(accumulation):
            small.apply_gradients([(gradients[step, micro], many)])
    np.testing.assert_allclose(np.asarray(many), np.asarray(one), atol=1e-6)
    assert not np.allclose(np.asarray(one), 1.0)


def write_pairs(path, count=64, seed=0):
    rng = np.random.default_rng(seed)
    words = ["red", "blue", "green", "cat", "dog", "tree", "house", "river"]
    with open(path, "w") as f:
        f.write("a\tb\tlabel\n")
        for _ in range(count):
            a = " ".join(rng.choice(words, 4))
            same = rng.random() < 0.5
            b = a if same else " ".join(rng.choice(words, 4))
            f.write(f"{a}\t{b}\t{int(same)}\n")


def run_job(model_dir, data_file, kill_at=0, loop="auto"):
    return subprocess.run(
        [sys.executable, "-m", "tests.training.resume_job", str(model_dir), str(data_file),
         str(kill_at), loop],
        capture_output=True, text=True, timeout=600)


def final_weights(model_dir):
    from tfzoo.checkpoints.pretrained import load_pretrained_model

    return [to_numpy(w) for w in load_pretrained_model(os.path.join(model_dir, "final")).weights]


@pytest.mark.parametrize("loop", ["auto", "custom"])
def test_killed_run_resumes_to_the_same_weights(tmp_path, loop):
    """With dropout on: the dropout masks resume too (model.fit's
    RandomStateBackup, the custom loop's checkpoint)."""
    data = tmp_path / "pairs.tsv"
    write_pairs(data)
    # 64 examples / batch 8 = 8 steps per epoch; kill in the middle of epoch 2.
    killed = run_job(tmp_path / "resumed", data, kill_at=13, loop=loop)
    assert killed.returncode == -signal.SIGKILL, killed.stderr[-2000:]
    assert not (tmp_path / "resumed" / "final").exists()
    if loop == "auto":
        # The backup holds epoch 1 complete; the restart runs epochs 2 and 3 only.
        assert resumed_epoch(str(tmp_path / "resumed")) == 1
    else:
        # The last checkpoint is step 12, mid-epoch 2: the restart runs steps 13-24.
        assert (tmp_path / "resumed" / "checkpoints" / "ckpt-12.index").is_file()
    resumed = run_job(tmp_path / "resumed", data, loop=loop)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    summary = json.loads((tmp_path / "resumed" / "train_summary.json").read_text())
    assert len(summary["history"]["loss"]) == 2
    straight = run_job(tmp_path / "straight", data, loop=loop)
    assert straight.returncode == 0, straight.stderr[-3000:]
    for got, want in zip(final_weights(tmp_path / "resumed"), final_weights(tmp_path / "straight")):
        np.testing.assert_allclose(got, want, atol=1e-6)


@pytest.mark.parametrize("epsilon", [0.0, 0.1, 0.3])
def test_label_smoothing_equals_keras_categorical_cross_entropy(epsilon):
    from tfzoo.training.losses import LabelSmoothedCrossEntropy

    rng = np.random.default_rng(0)
    logits = rng.normal(size=(3, 5, 7)).astype("float32")
    labels = rng.integers(0, 7, size=(3, 5))
    weights = (rng.random((3, 5)) < 0.7).astype("float32")
    ours = LabelSmoothedCrossEntropy(epsilon)(labels, logits, sample_weight=weights)
    reference = keras.losses.CategoricalCrossentropy(
        from_logits=True, label_smoothing=epsilon, reduction=None)(np.eye(7)[labels], logits)
    expected = (to_numpy(reference) * weights).sum() / weights.sum()
    assert float(ours) == pytest.approx(expected, rel=1e-5)


def test_inverse_sqrt_optimizer_option():
    optimizer = build_optimizer(OptimizerConfig(decay="inverse_sqrt", d_model=512,
                                                warmup_steps=4000, learning_rate=1.0,
                                                beta_2=0.98, epsilon=1e-9, weight_decay=0.0),
                                total_steps=100000)
    schedule = optimizer._learning_rate
    assert float(schedule(3999)) == pytest.approx(512**-0.5 * 4000**-0.5, rel=1e-5)
    with pytest.raises(ValueError, match="needs optimizer.d_model"):
        OptimizerConfig(decay="inverse_sqrt")


def test_input_autotune_is_off_on_cpu_only_hosts_unless_configured():
    import tensorflow as tf

    from tfzoo.training.config import RuntimeConfig
    from tfzoo.training.trainer import input_autotune

    has_gpu = bool(tf.config.list_logical_devices("GPU"))
    assert input_autotune(RuntimeConfig()) is has_gpu
    assert input_autotune(RuntimeConfig(strategy="tpu")) is True
    assert input_autotune(RuntimeConfig(data_autotune=True)) is True
    assert input_autotune(RuntimeConfig(data_autotune=False)) is False


def test_training_stream_without_autotune_reads_the_same_batches():
    import tensorflow as tf

    from tfzoo.training.trainer import training_stream, with_autotune

    def epoch_dataset(epoch):
        return tf.data.Dataset.range(6).map(lambda i: i + 10 * epoch).batch(2)

    tuned = training_stream(epoch_dataset, 3, start_batch=2)
    untuned = training_stream(epoch_dataset, 3, start_batch=2, autotune=False)
    assert tuned.options().autotune.enabled is not False
    assert untuned.options().autotune.enabled is False
    first = [b.numpy().tolist() for b in tuned.take(4)]
    assert first == [b.numpy().tolist() for b in untuned.take(4)]
    assert first == [[4, 5], [10, 11], [12, 13], [14, 15]]
    assert with_autotune(None, False) is None
    validation = with_autotune(tf.data.Dataset.range(3), False)
    assert validation.options().autotune.enabled is False


def tiny_classifier(data_file, **trainer):
    """resume_job's tiny BERT run (max_sequence_length 32), one short epoch."""
    from tests.training.resume_job import experiment

    run = experiment(data_file)
    run.trainer.epochs, run.trainer.steps_per_epoch = 1, 2
    for key, value in trainer.items():
        setattr(run.trainer, key, value)
    return run


def test_seq_length_above_the_model_max_is_named_before_training(tmp_path):
    from tfzoo.training.trainer import train

    data = tmp_path / "pairs.tsv"
    write_pairs(data, count=16)
    run = tiny_classifier(str(data))
    run.task.seq_length = 48
    with pytest.raises(ValueError, match=r"task.seq_length=48 exceeds the model's "
                                         r"max_sequence_length=32"):
        train(run, str(tmp_path / "run"))
    assert not (tmp_path / "run" / "checkpoints").exists()  # failed before fit


def test_train_leaves_the_global_dtype_policy_as_it_was(tmp_path):
    """runtime.mixed_precision is the run's; models built afterwards in the
    same process keep the caller's policy (also when the run fails)."""
    import keras

    from tfzoo.training.trainer import train

    data = tmp_path / "pairs.tsv"
    write_pairs(data, count=16)
    run = tiny_classifier(str(data))
    run.runtime.mixed_precision = "mixed_bfloat16"
    run.task.seq_length = 48  # fails after the runtime is set up
    before = keras.config.dtype_policy().name
    with pytest.raises(ValueError, match="task.seq_length=48"):
        train(run, str(tmp_path / "run"))
    assert keras.config.dtype_policy().name == before


def test_checkpoint_monitor_typo_stops_the_first_step(tmp_path):
    from tfzoo.training.trainer import train

    data = tmp_path / "pairs.tsv"
    write_pairs(data, count=16)
    run = tiny_classifier(str(data), checkpoint_monitor="val_acc")
    with pytest.raises(ValueError, match=r"trainer.checkpoint_monitor='val_acc' is not a metric "
                                         r"this model logs; it logs: .*val_accuracy"):
        train(run, str(tmp_path / "run"))
    assert not (tmp_path / "run" / "checkpoints").exists()
    run = tiny_classifier(str(data), checkpoint_monitor="val_accuracy")
    train(run, str(tmp_path / "good"))
    assert (tmp_path / "good" / "checkpoints" / "best.weights.h5").is_file()


def test_warmup_longer_than_the_run_warns(caplog):
    from tfzoo.training.optimizers import learning_rate_schedule

    with caplog.at_level("WARNING"):
        learning_rate_schedule(OptimizerConfig(warmup_steps=100), total_steps=100)
    assert "exceeds" not in caplog.text
    with caplog.at_level("WARNING"):
        learning_rate_schedule(OptimizerConfig(warmup_steps=500), total_steps=100)
    assert "optimizer.warmup_steps=500 exceeds the run's 100 optimizer updates" in caplog.text

