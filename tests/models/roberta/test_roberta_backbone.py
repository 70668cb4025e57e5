"""RobertaBackbone against transformers' RobertaModel / RobertaForMaskedLM."""

import numpy as np
import pytest

from tests.reference_models import encoder_inputs, masked, torch_outputs
from tests.testing import assert_allclose, run_model_test
from tfzoo.models.bert import BertPretrainer
from tfzoo.models.roberta import RobertaBackbone


def roberta_inputs():
    # <s>=0 first, </s>=2 last, <pad>=1 after it, as RoBERTa's tokenizer packs.
    inputs = encoder_inputs(lengths=(6, 8), seed=3)
    ids = inputs["input_word_ids"]
    ids[:, 0] = 0
    ids[0, 5], ids[1, 7] = 2, 2
    ids[inputs["input_mask"] == 0] = 1
    return inputs


def test_matches_transformers(hf_checkpoint):
    path, reference = hf_checkpoint("roberta")
    backbone = RobertaBackbone.from_pretrained(path)
    assert backbone.max_sequence_length == 40 - 2
    inputs = roberta_inputs()
    outputs = backbone(inputs)
    expected = torch_outputs(reference, inputs)
    mask = inputs["input_mask"]
    np.testing.assert_allclose(masked(outputs["sequence_output"], mask),
                               masked(expected.last_hidden_state.numpy(), mask), atol=1e-4)
    np.testing.assert_allclose(np.asarray(outputs["pooled_output"]),
                               expected.pooler_output.numpy(), atol=1e-4)


def test_masked_lm_head_matches_transformers(hf_checkpoint):
    path, reference = hf_checkpoint("roberta_mlm")
    pretrainer = BertPretrainer.from_pretrained(path)
    assert isinstance(pretrainer.backbone, RobertaBackbone)
    assert not pretrainer.next_sentence_prediction
    inputs = roberta_inputs()
    positions = np.array([[1, 2], [3, 6]], "int32")
    outputs = pretrainer(dict(inputs, masked_lm_positions=positions))
    expected = np.take_along_axis(torch_outputs(reference, inputs).logits.numpy(),
                                  positions[..., None], axis=1)
    assert_allclose(outputs["mlm_logits"], expected, atol=1e-4)


def test_type_ids_are_ignored_and_contract():
    backbone = RobertaBackbone(vocabulary_size=60, num_layers=1, num_heads=4, hidden_dim=16,
                               intermediate_dim=32, max_sequence_length=38)
    inputs = roberta_inputs()
    other = dict(inputs, input_type_ids=np.ones_like(inputs["input_type_ids"]))
    assert_allclose(backbone(other)["sequence_output"], backbone(inputs)["sequence_output"])
    assert "type_vocab_size" not in backbone.get_config()
    run_model_test(RobertaBackbone, backbone, inputs)


def test_pad_token_id_0_matches_transformers(tmp_path):
    """transformers numbers positions from pad_token_id + 1, whatever the id."""
    import transformers

    from tests.reference_models import TINY, randomize

    reference = randomize(transformers.RobertaModel(transformers.RobertaConfig(
        **TINY, type_vocab_size=1, pad_token_id=0)), seed=5)
    reference.save_pretrained(str(tmp_path))
    backbone = RobertaBackbone.from_pretrained(str(tmp_path))
    assert (backbone.pad_token_id, backbone.max_sequence_length) == (0, 40 - 1)
    inputs = roberta_inputs()
    ids = inputs["input_word_ids"]
    ids[ids == 0] = 3  # 0 is the padding id here: <s> becomes another token
    ids[inputs["input_mask"] == 0] = 0
    outputs = backbone(inputs)
    expected = torch_outputs(reference, inputs)
    mask = inputs["input_mask"]
    np.testing.assert_allclose(masked(outputs["sequence_output"], mask),
                               masked(expected.last_hidden_state.numpy(), mask), atol=1e-4)
    # The argument survives save/load.
    backbone.save_pretrained(str(tmp_path / "tfzoo"))
    assert RobertaBackbone.from_pretrained(str(tmp_path / "tfzoo")).pad_token_id == 0


def test_bad_pad_token_id():
    with pytest.raises(ValueError, match="pad_token_id=-1"):
        RobertaBackbone(vocabulary_size=60, num_layers=1, num_heads=4, hidden_dim=16,
                        intermediate_dim=32, pad_token_id=-1)
