"""BertPretrainer: heads restored from checkpoints equal transformers', and
pretraining reduces the loss."""

import numpy as np
import pytest

from tests.reference_models import encoder_inputs, torch_outputs
from tests.testing import assert_allclose, run_model_test
from tfzoo.models.bert import BertBackbone, BertPretrainer
from tfzoo.models.bert.bert_pretrainer import BertPretrainer as Pretrainer


def with_positions(inputs, positions):
    return dict(inputs, masked_lm_positions=np.asarray(positions, "int32"))


def test_heads_match_transformers_bert_for_pretraining(hf_checkpoint):
    path, reference = hf_checkpoint("bert_pretraining")
    pretrainer = BertPretrainer.from_pretrained(path)
    assert pretrainer.next_sentence_prediction
    inputs = encoder_inputs(pairs=True)
    positions = [[1, 3, 4], [2, 5, 7]]
    outputs = pretrainer(with_positions(inputs, positions))
    expected = torch_outputs(reference, inputs)
    expected_mlm = np.take_along_axis(expected.prediction_logits.numpy(),
                                      np.array(positions)[..., None], axis=1)
    assert_allclose(outputs["mlm_logits"], expected_mlm, atol=1e-4)
    assert_allclose(outputs["nsp_logits"], expected.seq_relationship_logits.numpy(), atol=1e-4)


def test_untied_decoder_is_an_error_not_dropped(hf_checkpoint, tmp_path):
    """A checkpoint whose MLM decoder has its own weights would load with the
    embedding in its place (logits off by 0.38): an error naming the setting."""
    import json
    import shutil

    path, _ = hf_checkpoint("bert_pretraining")
    untied = tmp_path / "untied"
    shutil.copytree(path, untied)
    config = json.loads((untied / "config.json").read_text())
    config["tie_word_embeddings"] = False
    (untied / "config.json").write_text(json.dumps(config))
    with pytest.raises(ValueError, match="tie_word_embeddings=false"):
        BertPretrainer.from_pretrained(str(untied))
    BertBackbone.from_pretrained(str(untied))  # the encoder alone still loads


def test_google_checkpoint_restores_heads(hf_checkpoint, tmp_path):
    from tests.models.bert.test_bert_backbone import write_google_checkpoint

    hf_path, reference = hf_checkpoint("bert_pretraining")
    write_google_checkpoint(reference, str(tmp_path))
    from_google = BertPretrainer.from_pretrained(str(tmp_path))
    from_hf = BertPretrainer.from_pretrained(hf_path)
    inputs = with_positions(encoder_inputs(pairs=True), [[1, 2], [3, 4]])
    for key in ("mlm_logits", "nsp_logits"):
        assert_allclose(from_google(inputs)[key], from_hf(inputs)[key], atol=1e-5)


def test_contract_and_tfzoo_round_trip(tmp_path):
    backbone = BertBackbone(vocabulary_size=60, num_layers=1, num_heads=4, hidden_dim=16,
                            intermediate_dim=32, max_sequence_length=40)
    pretrainer = Pretrainer(backbone)
    inputs = with_positions(encoder_inputs(), [[1, 2], [3, 4]])
    run_model_test(BertPretrainer, pretrainer, inputs)
    pretrainer.save_pretrained(str(tmp_path))
    restored = BertPretrainer.from_pretrained(str(tmp_path))
    assert_allclose(restored(inputs)["mlm_logits"], pretrainer(inputs)["mlm_logits"])


def test_training_reduces_both_losses():
    # No dropout: the test memorises 16 examples to check the losses' wiring,
    # and its margin should not hang on the dropout masks drawn.
    backbone = BertBackbone(vocabulary_size=60, num_layers=1, num_heads=4, hidden_dim=16,
                            intermediate_dim=32, max_sequence_length=40, dropout=0.0)
    pretrainer = BertPretrainer(backbone)
    import keras

    pretrainer.compile(optimizer=keras.optimizers.Adam(1e-2))
    rng = np.random.default_rng(0)
    inputs = with_positions(encoder_inputs(lengths=(8,) * 16, seed=1),
                            rng.integers(1, 8, size=(16, 3)))
    labels = {"mlm_logits": rng.integers(3, 60, size=(16, 3)),
              "nsp_logits": rng.integers(0, 2, size=16)}
    mlm_weights = np.ones((16, 3), "float32")
    mlm_weights[:, 2] = 0.0  # an unused prediction slot
    weights = {"mlm_logits": mlm_weights, "nsp_logits": np.ones(16, "float32")}
    history = pretrainer.fit(inputs, labels, sample_weight=weights, epochs=30, verbose=0)
    losses = history.history
    assert losses["loss"][-1] < 0.5 * losses["loss"][0]
    assert "mlm_logits_accuracy" in losses and "nsp_logits_accuracy" in losses


def test_mlm_loss_averages_over_real_predictions_only():
    """Padding slots (weight 0) must not dilute the loss: compare with NumPy."""
    backbone = BertBackbone(vocabulary_size=60, num_layers=1, num_heads=4, hidden_dim=16,
                            intermediate_dim=32, max_sequence_length=40)
    pretrainer = BertPretrainer(backbone, next_sentence_prediction=False)
    pretrainer.compile(optimizer="sgd")
    inputs = with_positions(encoder_inputs(), [[1, 2, 0, 0], [3, 4, 5, 0]])
    labels = np.array([[5, 6, 0, 0], [7, 8, 9, 0]])
    weights = np.array([[1, 1, 0, 0], [1, 1, 1, 0]], "float32")
    logits = np.asarray(pretrainer(inputs)["mlm_logits"], "float64")
    log_probs = logits - np.log(np.exp(logits).sum(-1, keepdims=True))
    per_slot = -np.take_along_axis(log_probs, labels[..., None], -1)[..., 0]
    expected = (per_slot * weights).sum() / weights.sum()
    result = pretrainer.evaluate(inputs, {"mlm_logits": labels},
                                 sample_weight={"mlm_logits": weights}, verbose=0,
                                 return_dict=True)
    assert result["loss"] == pytest.approx(expected, rel=1e-4)
