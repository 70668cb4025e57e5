"""configs/models/*.yaml: each builds, and has exactly the parameter count of the
same architecture in transformers (built on torch's meta device: no memory)."""

import glob
import os

import pytest

from tfzoo.config import load_yaml
from tfzoo.models.registry import backbone_from_config

CONFIG_DIR = os.path.join(os.path.dirname(__file__), "..", "..", "configs", "models")
CONFIGS = sorted(glob.glob(os.path.join(CONFIG_DIR, "*.yaml")))
BERT_FAMILY = [p for p in CONFIGS if load_yaml(p)["model_type"] in ("bert", "roberta", "distilbert")]
GPT_FAMILY = [p for p in CONFIGS if load_yaml(p)["model_type"] == "gpt"]


def transformers_parameter_count(config):
    import torch
    import transformers

    c = config
    if c["model_type"] == "gpt":
        common = dict(vocab_size=c["vocabulary_size"], n_positions=c["max_sequence_length"],
                      n_embd=c["hidden_dim"], n_layer=c["num_layers"], n_head=c["num_heads"])
        if c["normalize_first"]:
            hf = transformers.GPT2Config(**common, n_inner=c["intermediate_dim"])
            model_class = transformers.GPT2Model
        else:
            hf = transformers.OpenAIGPTConfig(**common)
            model_class = transformers.OpenAIGPTModel
    elif c["model_type"] == "distilbert":
        hf = transformers.DistilBertConfig(
            vocab_size=c["vocabulary_size"], dim=c["hidden_dim"], n_layers=c["num_layers"],
            n_heads=c["num_heads"], hidden_dim=c["intermediate_dim"],
            max_position_embeddings=c["max_sequence_length"])
        model_class = transformers.DistilBertModel
    else:
        common = dict(vocab_size=c["vocabulary_size"], hidden_size=c["hidden_dim"],
                      num_hidden_layers=c["num_layers"], num_attention_heads=c["num_heads"],
                      intermediate_size=c["intermediate_dim"])
        if c["model_type"] == "roberta":
            hf = transformers.RobertaConfig(**common, type_vocab_size=1,
                                            max_position_embeddings=c["max_sequence_length"] + 2)
            model_class = transformers.RobertaModel
        else:
            hf = transformers.BertConfig(**common, type_vocab_size=c["type_vocab_size"],
                                         max_position_embeddings=c["max_sequence_length"])
            model_class = transformers.BertModel
    with torch.device("meta"):
        model = model_class(hf)
    return sum(p.numel() for p in model.parameters())


def test_every_config_states_its_source():
    assert len(CONFIGS) >= 10
    for path in CONFIGS:
        with open(path) as f:
            assert "Source:" in f.read(), path


@pytest.mark.parametrize("path", BERT_FAMILY + GPT_FAMILY, ids=os.path.basename)
def test_config_matches_reference_parameter_count(path):
    config = load_yaml(path)
    if config["num_layers"] * config["hidden_dim"] > 12 * 768:
        # Large models: count tfzoo's parameters on a 1-layer twin and scale
        # the per-layer part, rather than allocate 1.3 GB in a unit test.
        one = backbone_from_config(path, num_layers=1).count_params()
        two = backbone_from_config(path, num_layers=2).count_params()
        ours = one + (two - one) * (config["num_layers"] - 1)
    else:
        ours = backbone_from_config(path).count_params()
    assert ours == transformers_parameter_count(config)


def test_unknown_keys_and_types_are_named(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("model_type: bert\nvocabulary_size: 100\nnum_layers: 1\nnum_heads: 2\n"
                    "hidden_dim: 8\nintermediate_dim: 16\nhiden_dropout: 0.1\n")
    with pytest.raises(ValueError, match=r"Unknown key\(s\) \['hiden_dropout'\]"):
        backbone_from_config(str(path))
    with pytest.raises(ValueError, match="Unknown model_type 'bart'"):
        backbone_from_config({"model_type": "bart"})
