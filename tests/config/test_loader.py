"""The config loader: strict keys, typed values, command-line overrides."""

import dataclasses
from typing import List, Optional

import pytest

from tfzoo.config import apply_overrides, from_dict, load_yaml


@dataclasses.dataclass
class Optimizer:
    learning_rate: float = 1e-3
    warmup_steps: int = 0


@dataclasses.dataclass
class Experiment:
    name: str = "x"
    epochs: int = 1
    mixed_precision: Optional[str] = None
    tags: List[str] = dataclasses.field(default_factory=list)
    optimizer: Optimizer = dataclasses.field(default_factory=Optimizer)


def test_nested_dataclasses_and_coercion():
    experiment = from_dict(Experiment, {"epochs": 3, "optimizer": {"learning_rate": 2}})
    assert experiment.epochs == 3
    assert experiment.optimizer == Optimizer(learning_rate=2.0)
    assert isinstance(experiment.optimizer.learning_rate, float)


@pytest.mark.parametrize(
    "data, message",
    [
        ({"epoch": 3}, r"Unknown config key\(s\) epoch"),
        ({"optimizer": {"lr": 1}}, r"Unknown config key\(s\) optimizer.lr"),
        ({"epochs": "three"}, r"epochs must be an integer; received 'three'"),
        ({"epochs": 2.5}, r"epochs must be an integer; received 2.5"),
        ({"optimizer": {"learning_rate": "fast"}}, "optimizer.learning_rate must be a number"),
        ({"tags": "a"}, "tags must be a list"),
        ({"mixed_precision": 16}, "mixed_precision must be a string; received 16"),
    ],
)
def test_bad_values_are_named(data, message):
    with pytest.raises(ValueError, match=message):
        from_dict(Experiment, data)


def test_overrides():
    data = {"epochs": 1, "optimizer": {"learning_rate": 0.1}}
    updated = apply_overrides(data, "epochs=3,optimizer.learning_rate=2e-5,name=run 1")
    assert updated == {"epochs": 3, "optimizer": {"learning_rate": 2e-5}, "name": "run 1"}
    assert data["epochs"] == 1  # the input is not modified
    with pytest.raises(ValueError, match="must look like key.path=value"):
        apply_overrides(data, ["epochs"])


def test_scientific_notation_is_a_float(tmp_path):
    path = tmp_path / "lr.yaml"
    path.write_text("learning_rate: 2e-5\nwarmup_steps: 10\n")
    assert from_dict(Optimizer, load_yaml(str(path))) == Optimizer(2e-5, 10)


def test_load_yaml_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="No config file"):
        load_yaml(str(tmp_path / "nope.yaml"))
    path = tmp_path / "list.yaml"
    path.write_text("- 1\n- 2\n")
    with pytest.raises(ValueError, match="must hold a mapping"):
        load_yaml(str(path))
