"""XLNet task heads: the permutation-LM head against transformers'
XLNetLMHeadModel, the classifier and span labeler (contract, one training
step), and argument checks."""

import keras
import numpy as np
import pytest

from tests.models.xlnet.test_xlnet_backbone import TINY_KWARGS, permutation, xlnet_inputs
from tests.reference_models import torch_outputs
from tests.testing import run_model_test, to_numpy
from tfzoo.models.bert import BertBackbone
from tfzoo.models.xlnet import XLNetBackbone, XLNetClassifier, XLNetLMHead, XLNetSpanLabeler


def lm_inputs(seed=0):
    perm_mask, target_mapping = permutation(seed=seed)
    return dict(xlnet_inputs(), perm_mask=perm_mask, target_mapping=target_mapping)


def test_lm_head_matches_transformers(hf_checkpoint):
    import torch

    path, reference = hf_checkpoint("xlnet_lm")
    model = XLNetLMHead.from_pretrained(path)
    inputs = lm_inputs()
    expected = torch_outputs(
        reference, inputs, perm_mask=torch.tensor(inputs["perm_mask"]),
        target_mapping=torch.tensor(inputs["target_mapping"])).logits.numpy()
    logits = to_numpy(model(inputs))
    assert logits.shape == (2, 3, 60)
    np.testing.assert_allclose(logits, expected, atol=1e-4)
    # The output projection is the word embedding: one variable, not a copy.
    assert sum("embeddings" in w.path for w in model.weights) == 1


def test_untied_lm_head_matches_transformers(tmp_path):
    """tie_word_embeddings=False: lm_loss.weight is a matrix of its own."""
    import torch
    import transformers

    from tests.reference_models import XLNET_TINY, randomize

    reference = randomize(transformers.XLNetLMHeadModel(
        transformers.XLNetConfig(**XLNET_TINY, tie_word_embeddings=False)), seed=3)
    assert not torch.equal(reference.lm_loss.weight, reference.transformer.word_embedding.weight)
    reference.save_pretrained(str(tmp_path / "hf"))
    model = XLNetLMHead.from_pretrained(str(tmp_path / "hf"))
    assert not model.tie_word_embeddings
    inputs = lm_inputs()
    expected = torch_outputs(
        reference, inputs, perm_mask=torch.tensor(inputs["perm_mask"]),
        target_mapping=torch.tensor(inputs["target_mapping"])).logits.numpy()
    np.testing.assert_allclose(to_numpy(model(inputs)), expected, atol=1e-4)
    # Contract and tfzoo round trip with the head's own kernel.
    run_model_test(XLNetLMHead, model, inputs)
    model.save_pretrained(str(tmp_path / "tfzoo"))
    restored = XLNetLMHead.from_pretrained(str(tmp_path / "tfzoo"))
    assert not restored.tie_word_embeddings
    np.testing.assert_allclose(to_numpy(restored(inputs)), expected, atol=1e-4)


def test_lm_head_from_an_encoder_checkpoint(hf_checkpoint):
    path, _ = hf_checkpoint("xlnet")
    model = XLNetLMHead.from_pretrained(path)  # XLNetModel: no lm_loss.bias
    assert not np.any(to_numpy(model.get_layer("lm_head").output_bias))
    backbone = XLNetBackbone.from_pretrained(path)
    inputs = lm_inputs()
    query = to_numpy(backbone.encode(inputs)["query_output"])
    embedding = to_numpy(backbone.token_embedding.embeddings)
    np.testing.assert_allclose(to_numpy(model(inputs)), query @ embedding.T, atol=1e-5)


def test_lm_head_contract_and_training(tmp_path):
    model = XLNetLMHead(XLNetBackbone(**TINY_KWARGS))
    inputs = lm_inputs()
    run_model_test(XLNetLMHead, model, inputs)
    model.save_pretrained(str(tmp_path))
    restored = XLNetLMHead.from_pretrained(str(tmp_path))
    np.testing.assert_allclose(to_numpy(restored(inputs)), to_numpy(model(inputs)), atol=1e-6)

    labels = np.take_along_axis(inputs["input_word_ids"],
                                inputs["target_mapping"].argmax(-1), axis=1)
    weights = np.array([[1.0, 1.0, 0.0], [1.0, 1.0, 1.0]], "float32")  # one padding slot
    model.compile(optimizer=keras.optimizers.Adam(1e-2))
    history = model.fit(inputs, labels, sample_weight=weights, epochs=5, verbose=0)
    losses = history.history["loss"]
    assert losses[-1] < losses[0]


@pytest.mark.parametrize("head", ["classifier", "span_labeler"])
def test_fine_tuning_heads_train_one_step(head):
    backbone = XLNetBackbone(**TINY_KWARGS)
    inputs = xlnet_inputs()
    if head == "classifier":
        model, labels = XLNetClassifier(backbone, num_classes=3), np.array([0, 2])
        assert model(inputs).shape == (2, 3)
    else:
        model = XLNetSpanLabeler(backbone)
        labels = {"start_logits": np.array([4, 3]), "end_logits": np.array([5, 6])}
        outputs = model(inputs)
        assert outputs["start_logits"].shape == outputs["end_logits"].shape == (2, 8)
    run_model_test(type(model), model, inputs)
    before = [to_numpy(w).copy() for w in model.trainable_weights]
    model.compile(optimizer=keras.optimizers.Adam(1e-3))
    history = model.fit(inputs, labels, epochs=1, verbose=0)
    assert np.isfinite(history.history["loss"][0])
    unchanged = [w.path for b, w in zip(before, model.trainable_weights)
                 if np.allclose(b, to_numpy(w))]
    assert unchanged == []
    # The query stream's vector w sits out (fine-tuning runs no query stream)
    # but stays a weight of the model, saved and restored with it.
    assert "query_embedding/embedding" not in [w.path for w in model.trainable_weights]
    assert "query_embedding/embedding" in [w.path for w in model.non_trainable_weights]
    # Pretraining on the same backbone trains it again.
    lm_head = XLNetLMHead(backbone)
    assert "query_embedding/embedding" in [w.path for w in lm_head.trainable_weights]


def test_classifier_reads_the_last_position():
    classifier = XLNetClassifier(XLNetBackbone(**TINY_KWARGS), num_classes=2, dropout=0.0)
    inputs = xlnet_inputs()
    summary = keras.Model(classifier.input, classifier.get_layer("summary").output)
    last = to_numpy(classifier.backbone(inputs)["sequence_output"])[:, -1]
    dense = classifier.get_layer("summary")
    expected = np.tanh(last @ to_numpy(dense.kernel) + to_numpy(dense.bias))
    np.testing.assert_allclose(to_numpy(summary(inputs)), expected, atol=1e-5)


def test_bad_arguments():
    with pytest.raises(ValueError, match="num_classes=0"):
        XLNetClassifier(XLNetBackbone(**TINY_KWARGS), num_classes=0)
    with pytest.raises(ValueError, match="dropout=1.5"):
        XLNetClassifier(XLNetBackbone(**TINY_KWARGS), num_classes=2, dropout=1.5)
    bert = BertBackbone(vocabulary_size=60, num_layers=1, num_heads=2, hidden_dim=8,
                        intermediate_dim=16)
    with pytest.raises(ValueError, match="needs an XLNetBackbone. Received: BertBackbone"):
        XLNetLMHead(bert)
    with pytest.raises(ValueError, match="tie_word_embeddings='no'"):
        XLNetLMHead(XLNetBackbone(**TINY_KWARGS), tie_word_embeddings="no")
