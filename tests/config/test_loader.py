"""The config loader: strict keys, typed values, command-line overrides."""

import dataclasses
from typing import List, Optional

import pytest

from tfzoo.config import apply_overrides, from_dict, load_yaml, split_overrides


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


@pytest.mark.parametrize(
    "text, items",
    [
        ("a=1,b=2", ["a=1", "b=2"]),
        ("a=[x, y],b=2", ["a=[x, y]", "b=2"]),
        ("a=[#1 String,#2 String],b=Quality", ["a=[#1 String,#2 String]", "b=Quality"]),
        ("a={p: 1, q: [2,3]},b=2", ["a={p: 1, q: [2,3]}", "b=2"]),
        ("a='p,q',b=\"r,s\"", ["a='p,q'", "b=\"r,s\""]),
        ("a='it''s, ok',b=\"x\\\",y\",c=1", ["a='it''s, ok'", "b=\"x\\\",y\"", "c=1"]),
        ("a=don't,b=2", ["a=don't", "b=2"]),  # an apostrophe inside a word opens no quote
        ("a=1,,b=2,", ["a=1", "b=2"]),
        ("a=[1,2", ["a=[1,2"]),  # unbalanced: one item, whose parse error names it
    ],
)
def test_split_overrides_keeps_commas_inside_values(text, items):
    assert split_overrides(text) == items


def test_list_override_from_one_string():
    """The offline override printed at the top of configs/bert/glue_mrpc.yaml."""
    updated = apply_overrides(
        {"data": {"tfds_name": "glue/mrpc"}},
        "data.tfds_name=null,data.train=MRPC/train.tsv,"
        "data.text_columns=[#1 String,#2 String],data.label_column=Quality")
    assert updated == {"data": {"tfds_name": None, "train": "MRPC/train.tsv",
                                "text_columns": ["#1 String", "#2 String"],
                                "label_column": "Quality"}}


def test_hash_is_a_character_not_a_comment():
    updated = apply_overrides({}, ["name=run #2", "tags=[#a, 'b #c']", "epochs=3"])
    assert updated == {"name": "run #2", "tags": ["#a", "b #c"], "epochs": 3}


@pytest.mark.parametrize(
    "override, key",
    [
        ("tags=[1,2", "tags"),
        ("optimizer.learning_rate={0.1", "optimizer.learning_rate"),
        ("name=a: b: c", "name"),
    ],
)
def test_override_parse_errors_name_the_item(override, key):
    with pytest.raises(ValueError) as error:
        apply_overrides({}, override)
    message = str(error.value)
    assert f"Override {override!r}" in message
    assert f"the value of {key} is not valid YAML" in message


def test_override_without_a_key_is_named():
    with pytest.raises(ValueError, match=r"Override '=3': key '' must be a dotted path"):
        apply_overrides({}, ["=3"])
    # A bare comma in a value splits it; the message says how to keep it.
    with pytest.raises(ValueError, match=r"Override 'b' must look like key.path=value .*brackets"):
        apply_overrides({}, "a=x,b")
