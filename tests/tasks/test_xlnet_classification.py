"""XLNet through the fine-tuning flow that BERT takes: a sentence_classification
experiment on an XLNet model builds XLNet's SentencePiece preprocessor and
`XLNetClassifier`, trains with the shared trainer, evaluates, reloads from its
final directory and exports a SavedModel that TF Serving's loader answers from
raw text like the Keras model."""

import os

import numpy as np
import tensorflow as tf

from tfzoo.export import export_saved_model
from tfzoo.export.verify import check_serving_ops, run_with_tf1_loader
from tfzoo.models.xlnet import XLNetClassifier
from tfzoo.preprocessing.xlnet_preprocessor import XLNetPreprocessor
from tfzoo.tasks import task_class
from tfzoo.training.config import experiment_from_dict, load_experiment
from tfzoo.training.trainer import train

ROOT = os.path.join(os.path.dirname(__file__), "..", "..")
SPIECE = "pkg:tfzoo/data/samples/xlnet_spiece.model"


def _reviews(path, count, seed):
    """Sentences whose label is whether they say "good" or "bad"."""
    rng = np.random.default_rng(seed)
    subjects = ["the model", "this text", "the corpus", "a sentence", "the data"]
    lines = ["sentence\tlabel"]
    for _ in range(count):
        label = int(rng.integers(2))
        subject = subjects[rng.integers(len(subjects))]
        lines.append(f"{subject} is {'good' if label else 'bad'} today\t{label}")
    path.write_text("\n".join(lines) + "\n")
    return str(path)


def test_xlnet_fine_tunes_evaluates_reloads_and_exports(tmp_path):
    experiment = experiment_from_dict({
        "task": {
            "type": "sentence_classification",
            "model": {"config": os.path.join(ROOT, "configs/models/xlnet_tiny.yaml")},
            "vocabulary": SPIECE,
            "data": {"train": _reviews(tmp_path / "train.tsv", 256, 0),
                     "validation": _reviews(tmp_path / "dev.tsv", 64, 1)},
            "labels": ["0", "1"], "label_names": ["bad", "good"],
            "seq_length": 16,
        },
        "trainer": {"epochs": 4, "batch_size": 16, "verbose": 0, "tensorboard": False,
                    "optimizer": {"learning_rate": 1e-3, "warmup_fraction": 0.1}},
    })
    model, summary, task = train(experiment, str(tmp_path / "run"))
    assert isinstance(model, XLNetClassifier)
    assert model.backbone.vocabulary_size == 250  # from the sample spiece.model
    history = summary["history"]
    assert history["loss"][-1] < 0.5 * history["loss"][0], history["loss"]
    assert task.evaluate(model)["accuracy"] >= 0.95

    # The final directory reloads as the same classifier and preprocessor.
    final = str(tmp_path / "run" / "final")
    restored = XLNetClassifier.from_pretrained(final)
    preprocessor = XLNetPreprocessor.from_pretrained(final, seq_length=16)
    texts = tf.constant(["the data is good today", "this text is bad today", ""])
    np.testing.assert_allclose(restored.predict(preprocessor(texts), verbose=0),
                               model.predict(task.build_preprocessor()(texts), verbose=0),
                               atol=1e-5)

    # Export: raw sentences in, TF Serving's loader answers like Keras.
    signature = task.serving_signature(model)
    export_dir = export_saved_model(model, str(tmp_path / "export" / "1"), serving=signature)
    check_serving_ops(export_dir)
    served = run_with_tf1_loader(export_dir, {"sentence": [t.decode() for t in texts.numpy()]})
    expected = signature.fn({"sentence": texts})
    np.testing.assert_allclose(served["probabilities"], expected["probabilities"], atol=1e-5)
    assert served["label"] == ["good", "bad", served["label"][2]]


def test_shipped_pair_config_builds_xlnet_pieces():
    experiment = load_experiment(os.path.join(ROOT, "configs/xlnet/paraphrase_tiny.yaml"))
    task = task_class(experiment.task.type)(experiment.task)
    preprocessor = task.build_preprocessor()
    assert isinstance(preprocessor, XLNetPreprocessor)
    model = task.build_model()
    assert isinstance(model, XLNetClassifier)
    inputs = preprocessor([tf.constant(["Who is it?"]), tf.constant(["It is me."])])
    ids = inputs["input_word_ids"].numpy()[0]
    special = preprocessor.get_special_tokens_dict()
    assert ids[-1] == special["cls_id"]  # A <sep> B <sep> <cls>, padded on the left
    assert model(inputs).shape == (1, 2)


def test_wordpiece_tasks_name_the_task_for_xlnet():
    """token_tagging builds WordPiece examples: an XLNet model is a clear
    error, not a failure to read spiece.model as vocab.txt."""
    import pytest

    for task_type, extra in (
            ("token_tagging", {"data": {"train": "pkg:tfzoo/data/samples/conll_train.txt"},
                               "labels": ["O", "B-PER", "I-PER"]}),):
        experiment = experiment_from_dict({"task": {
            "type": task_type, "vocabulary": SPIECE,
            "model": {"config": os.path.join(ROOT, "configs/models/xlnet_tiny.yaml")}, **extra}})
        task = task_class(task_type)(experiment.task)
        with pytest.raises(ValueError, match=f"'{task_type}'.*XLNet"):
            task.build_preprocessor()
