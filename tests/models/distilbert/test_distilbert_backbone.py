"""DistilBertBackbone against transformers' DistilBertModel; the distillation loss."""

import math

import keras
import numpy as np
import pytest

from tests.reference_models import encoder_inputs, masked, torch_outputs
from tests.testing import assert_allclose, run_model_test, to_numpy
from tfzoo.models.bert import BertBackbone, BertClassifier
from tfzoo.models.distilbert import DistilBertBackbone, Distiller, distillation_loss


def test_matches_transformers(hf_checkpoint):
    path, reference = hf_checkpoint("distilbert")
    backbone = DistilBertBackbone.from_pretrained(path)
    inputs = encoder_inputs()
    outputs = backbone(inputs)
    expected = torch_outputs(reference, inputs).last_hidden_state.numpy()
    mask = inputs["input_mask"]
    np.testing.assert_allclose(masked(outputs["sequence_output"], mask), masked(expected, mask),
                               atol=1e-4)
    # No pooler: the pooled output is the first position's hidden state.
    assert_allclose(outputs["pooled_output"], expected[:, 0])


def test_contract_defaults_and_ignored_type_ids():
    backbone = DistilBertBackbone(vocabulary_size=60, num_layers=1, num_heads=4, hidden_dim=16,
                                  intermediate_dim=32, max_sequence_length=40)
    assert DistilBertBackbone.__init__.__defaults__[0] == 6  # num_layers=6
    inputs = encoder_inputs(pairs=True)
    other = dict(inputs, input_type_ids=np.zeros_like(inputs["input_type_ids"]))
    assert_allclose(backbone(other)["sequence_output"], backbone(inputs)["sequence_output"])
    assert not any("pooler" in w.path or "type_embedding" in w.path for w in backbone.weights)
    run_model_test(DistilBertBackbone, backbone, inputs)


def reference_distillation(labels, student, teacher, temperature, alpha):
    """The formula in plain Python, one example at a time."""
    def softmax(row):
        exps = [math.exp(v - max(row)) for v in row]
        return [e / sum(exps) for e in exps]

    total = 0.0
    for label, s, t in zip(labels, student, teacher):
        p_teacher = softmax([v / temperature for v in t])
        p_student = softmax([v / temperature for v in s])
        kl = sum(pt * math.log(pt / ps) for pt, ps in zip(p_teacher, p_student))
        hard = -math.log(softmax(list(s))[label])
        total += alpha * temperature**2 * kl + (1 - alpha) * hard
    return total / len(labels)


@pytest.mark.parametrize("temperature, alpha", [(1.0, 0.5), (2.0, 0.9), (4.0, 0.0)])
def test_distillation_loss_equals_formula(temperature, alpha):
    rng = np.random.default_rng(0)
    student = rng.normal(size=(6, 4)).astype("float32")
    teacher = rng.normal(size=(6, 4)).astype("float32") * 2
    labels = rng.integers(0, 4, size=6)
    got = float(to_numpy(distillation_loss(labels, student, teacher, temperature, alpha)))
    want = reference_distillation(labels, student.tolist(), teacher.tolist(), temperature, alpha)
    assert got == pytest.approx(want, rel=1e-5)
    with pytest.raises(ValueError, match="temperature=0"):
        distillation_loss(labels, student, teacher, temperature=0)


def presence_task(count, seed):
    """Label = whether token 7 occurs anywhere: learnable, needs attention."""
    rng = np.random.default_rng(seed)
    ids = rng.integers(10, 60, size=(count, 12)).astype("int32")
    labels = rng.integers(0, 2, size=count)
    positions = rng.integers(1, 12, size=count)
    ids[labels == 1, positions[labels == 1]] = 7
    ids[:, 0] = 2
    inputs = {"input_word_ids": ids, "input_mask": np.ones_like(ids),
              "input_type_ids": np.zeros_like(ids)}
    return inputs, labels


def test_student_learns_from_the_teachers_soft_targets_alone():
    """alpha=1 and random hard labels: the task can only come from the teacher."""
    train, labels = presence_task(512, seed=0)
    test, test_labels = presence_task(128, seed=1)
    teacher = BertClassifier(BertBackbone(vocabulary_size=60, num_layers=2, num_heads=4,
                                          hidden_dim=32, intermediate_dim=64,
                                          max_sequence_length=40, dropout=0.0),
                             num_classes=2, dropout=0.0)
    teacher.compile(optimizer=keras.optimizers.Adam(3e-3))
    teacher.fit(train, labels, batch_size=32, epochs=12, verbose=0)
    assert teacher.evaluate(test, test_labels, verbose=0)[1] > 0.9

    student = BertClassifier(DistilBertBackbone(vocabulary_size=60, num_layers=1, num_heads=4,
                                                hidden_dim=32, intermediate_dim=64,
                                                max_sequence_length=40, dropout=0.0),
                             num_classes=2, dropout=0.0)
    teacher_before = [to_numpy(w).copy() for w in teacher.weights]
    distiller = Distiller(student, teacher, temperature=2.0, alpha=1.0)
    distiller.compile(optimizer=keras.optimizers.Adam(3e-3))
    random_labels = np.random.default_rng(2).integers(0, 2, size=512)
    distiller.fit(train, random_labels, batch_size=32, epochs=15, verbose=0)
    accuracy = np.mean(np.argmax(to_numpy(student(test)), axis=-1) == test_labels)
    assert accuracy > 0.85
    for variable, value in zip(teacher.weights, teacher_before):
        np.testing.assert_array_equal(to_numpy(variable), value)
