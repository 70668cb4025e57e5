"""The checkpoint mechanism's error rules: every problem named, nothing half loaded."""

import json
import os
import shutil

import numpy as np
import pytest
from safetensors.numpy import load_file, save_file

from tests.testing import to_numpy
from tfzoo.checkpoints import SafetensorsReader, load_weights
from tfzoo.checkpoints.bert import BERT
from tfzoo.models.bert import BertBackbone, BertClassifier
from tfzoo.models.roberta import RobertaBackbone


@pytest.fixture
def bert_copy(hf_checkpoint, tmp_path):
    """A writable copy of the tiny Hugging Face BERT checkpoint."""
    source, _ = hf_checkpoint("bert")
    target = tmp_path / "bert"
    shutil.copytree(source, target)
    return target


def edit_config(path, **changes):
    config = json.loads((path / "config.json").read_text())
    config.update(changes)
    (path / "config.json").write_text(json.dumps(config))


def test_missing_variable_is_named(bert_copy):
    weights = load_file(str(bert_copy / "model.safetensors"))
    del weights["encoder.layer.1.attention.self.query.weight"]
    save_file(weights, str(bert_copy / "model.safetensors"))
    with pytest.raises(ValueError) as error:
        BertBackbone.from_pretrained(str(bert_copy))
    message = str(error.value)
    assert "transformer_layer_1/self_attention/query/kernel" in message
    assert "encoder.layer.1.attention.self.query.weight" in message


def test_wrong_shape_names_variable_and_both_shapes(bert_copy):
    edit_config(bert_copy, intermediate_size=48)
    with pytest.raises(ValueError) as error:
        BertBackbone.from_pretrained(str(bert_copy))
    message = str(error.value)
    assert "transformer_layer_0/feed_forward/intermediate_dense/kernel has shape (16, 48)" in message
    assert "encoder.layer.0.intermediate.dense.weight has shape (32, 16)" in message
    # Every problem is listed, not just the first.
    assert "transformer_layer_1/feed_forward/output_dense/kernel" in message


def test_unknown_model_type_is_named(bert_copy):
    edit_config(bert_copy, model_type="gpt_neox")
    with pytest.raises(ValueError, match="Unknown model_type 'gpt_neox'"):
        BertBackbone.from_pretrained(str(bert_copy))
    with pytest.raises(ValueError, match="Unknown model_type 'gpt_neox'"):
        RobertaBackbone.from_pretrained(str(bert_copy))


def test_failed_load_changes_nothing(bert_copy):
    backbone = BertBackbone(vocabulary_size=60, num_layers=2, num_heads=4, hidden_dim=16,
                            intermediate_dim=32, max_sequence_length=40)
    before = [to_numpy(w).copy() for w in backbone.weights]
    weights = load_file(str(bert_copy / "model.safetensors"))
    del weights["pooler.dense.bias"]
    save_file(weights, str(bert_copy / "model.safetensors"))
    reader = SafetensorsReader(str(bert_copy / "model.safetensors"))
    with pytest.raises(ValueError, match="pooler/bias"):
        load_weights(backbone.weights, reader, BERT.rules("huggingface", {"model_type": "bert"}),
                     prefixes=("", "bert."))
    for variable, value in zip(backbone.weights, before):
        np.testing.assert_array_equal(to_numpy(variable), value)


def test_task_head_without_a_source_is_an_error_unless_skipped(hf_checkpoint):
    path, _ = hf_checkpoint("bert")
    classifier = BertClassifier(BertBackbone.from_pretrained(path), num_classes=3)
    reader = SafetensorsReader(os.path.join(path, "model.safetensors"))
    rules = BERT.rules("huggingface", {"model_type": "bert"})
    with pytest.raises(ValueError, match="no rule maps the model variable logits/kernel"):
        load_weights(classifier.weights, reader, rules, prefixes=("", "bert."))
    loaded = load_weights(classifier.weights, reader, rules, prefixes=("", "bert."),
                          skip=(r"^logits/",))
    assert "embeddings.word_embeddings.weight" in loaded


def test_unrecognised_directories(tmp_path):
    with pytest.raises(FileNotFoundError, match="No checkpoint directory"):
        BertBackbone.from_pretrained(str(tmp_path / "missing"))
    (tmp_path / "config.json").write_text("{}")
    (tmp_path / "pytorch_model.bin").write_bytes(b"")
    with pytest.raises(ValueError, match="pytorch_model.bin"):
        BertBackbone.from_pretrained(str(tmp_path))
    os.remove(tmp_path / "pytorch_model.bin")
    with pytest.raises(FileNotFoundError, match="not a checkpoint tfzoo recognises"):
        BertBackbone.from_pretrained(str(tmp_path))


def test_tfzoo_checkpoint_of_another_class(tmp_path):
    backbone = BertBackbone(vocabulary_size=60, num_layers=1, num_heads=4, hidden_dim=16,
                            intermediate_dim=32, max_sequence_length=40)
    backbone.save_pretrained(str(tmp_path))
    with pytest.raises(ValueError, match="holds a BertBackbone, not a RobertaBackbone"):
        RobertaBackbone.from_pretrained(str(tmp_path))


def test_checkpoint_without_pooler_warns_and_loads_the_rest(bert_copy, caplog):
    weights = load_file(str(bert_copy / "model.safetensors"))
    for key in ("pooler.dense.weight", "pooler.dense.bias"):
        del weights[key]
    save_file(weights, str(bert_copy / "model.safetensors"))
    with caplog.at_level("WARNING"):
        backbone = BertBackbone.from_pretrained(str(bert_copy))
    assert "pooler/kernel is not in" in caplog.text
    np.testing.assert_array_equal(
        to_numpy(backbone.get_layer("embeddings").token_embedding.embeddings),
        weights["embeddings.word_embeddings.weight"])


def test_malformed_config_json_names_the_file(bert_copy):
    (bert_copy / "config.json").write_text("{not json")
    with pytest.raises(ValueError, match=r"bert/config.json is not valid JSON"):
        BertBackbone.from_pretrained(str(bert_copy))
    (bert_copy / "config.json").write_text("[1, 2]")
    with pytest.raises(ValueError, match=r"bert/config.json must hold a JSON object; it holds "
                                         r"a list"):
        BertBackbone.from_pretrained(str(bert_copy))


def test_missing_config_key_names_the_file_and_key(bert_copy):
    config = json.loads((bert_copy / "config.json").read_text())
    del config["hidden_size"]
    (bert_copy / "config.json").write_text(json.dumps(config))
    with pytest.raises(ValueError, match=r"bert/config.json has no 'hidden_size'"):
        BertBackbone.from_pretrained(str(bert_copy))
    del config["model_type"]
    (bert_copy / "config.json").write_text(json.dumps(config))
    with pytest.raises(ValueError, match=r"bert/config.json has no model_type; expected 'bert'"):
        BertBackbone.from_pretrained(str(bert_copy))


def test_roberta_config_errors_name_the_key(hf_checkpoint, tmp_path):
    source, _ = hf_checkpoint("roberta")
    roberta = tmp_path / "roberta"
    shutil.copytree(source, roberta)
    edit_config(roberta, type_vocab_size=2)
    with pytest.raises(ValueError, match=r"config.json has type_vocab_size=2"):
        RobertaBackbone.from_pretrained(str(roberta))
    config = json.loads((roberta / "config.json").read_text())
    del config["type_vocab_size"]
    (roberta / "config.json").write_text(json.dumps(config))
    with pytest.raises(ValueError, match=r"config.json has no type_vocab_size \(transformers' "
                                         r"default: 2\)"):
        RobertaBackbone.from_pretrained(str(roberta))
    edit_config(roberta, type_vocab_size=1, pad_token_id=None)
    with pytest.raises(ValueError, match=r"config.json has pad_token_id=None"):
        RobertaBackbone.from_pretrained(str(roberta))
    # A padding id that leaves the position table no room for a token.
    edit_config(roberta, pad_token_id=39)
    with pytest.raises(ValueError, match=r"max_position_embeddings=40 and pad_token_id=39"):
        RobertaBackbone.from_pretrained(str(roberta))


def test_more_layers_in_the_checkpoint_than_the_config_is_an_error(bert_copy):
    """A config.json saying fewer layers than the weights hold must not load
    the first layers and drop the rest."""
    config = json.loads((bert_copy / "config.json").read_text())
    edit_config(bert_copy, num_hidden_layers=config["num_hidden_layers"] - 1)
    last = config["num_hidden_layers"] - 1
    with pytest.raises(ValueError, match=f"more layers.*encoder.layer.{last}."):
        BertBackbone.from_pretrained(str(bert_copy))


def test_tfzoo_format_with_more_layers_than_the_model_is_an_error(tmp_path):
    """tfzoo's own format follows the same rule as the converted ones."""
    backbone = BertBackbone(vocabulary_size=60, num_layers=2, num_heads=4, hidden_dim=16,
                            intermediate_dim=32, max_sequence_length=40)
    backbone.save_pretrained(str(tmp_path))
    with pytest.raises(ValueError, match="more layers.*transformer_layer_1"):
        BertBackbone.from_pretrained(str(tmp_path), num_layers=1)
    shallow = BertBackbone(vocabulary_size=60, num_layers=1, num_heads=4, hidden_dim=16,
                           intermediate_dim=32, max_sequence_length=40)
    with pytest.raises(ValueError, match="more layers"):
        shallow.load_pretrained_weights(str(tmp_path))
    classifier = BertClassifier(BertBackbone.from_pretrained(str(tmp_path)), num_classes=3)
    classifier.save_pretrained(str(tmp_path / "classifier"))
    backbone.load_pretrained_weights(str(tmp_path / "classifier"))  # head variables: unused


def test_unused_head_weights_are_a_warning(bert_copy, caplog):
    """Weights of a head the model does not have (a classifier checkpoint into
    a backbone) load the rest and are named in a warning."""
    weights = load_file(str(bert_copy / "model.safetensors"))
    weights["classifier.weight"] = np.zeros((2, 32), "float32")
    save_file(weights, str(bert_copy / "model.safetensors"))
    with caplog.at_level("WARNING"):
        BertBackbone.from_pretrained(str(bert_copy))
    assert "were not used: classifier.weight" in caplog.text


def test_a_tfzoo_config_missing_an_argument_names_the_directory(tmp_path):
    backbone = BertBackbone(vocabulary_size=60, num_layers=1, num_heads=4, hidden_dim=16,
                            intermediate_dim=32, max_sequence_length=40)
    backbone.save_pretrained(str(tmp_path))
    saved = json.loads((tmp_path / "tfzoo_config.json").read_text())
    del saved["config"]["num_layers"]
    (tmp_path / "tfzoo_config.json").write_text(json.dumps(saved))
    with pytest.raises(ValueError, match=rf"{tmp_path} does not fit BertBackbone.*num_layers"):
        BertBackbone.from_pretrained(str(tmp_path))
