"""Unknown keyword arguments and from_pretrained overrides are errors naming them,
for every backbone and task; keras.Model's own arguments still pass."""

import numpy as np
import pytest

from tests.reference_models import encoder_inputs
from tests.testing import assert_allclose, to_numpy
from tfzoo.models.bert import (
    BertBackbone,
    BertClassifier,
    BertPretrainer,
    BertSpanLabeler,
    BertTokenClassifier,
)
from tfzoo.models.distilbert import DistilBertBackbone
from tfzoo.models.gpt import GPTBackbone, GPTCausalLM
from tfzoo.models.registry import build_backbone
from tfzoo.models.roberta import RobertaBackbone
from tfzoo.models.transformer import Transformer
from tfzoo.models.xlnet import (
    XLNetBackbone,
    XLNetClassifier,
    XLNetLMHead,
    XLNetSpanLabeler,
)

SIZES = dict(vocabulary_size=60, num_layers=1, num_heads=2, hidden_dim=8, intermediate_dim=16)
BACKBONES = {
    BertBackbone: dict(SIZES, max_sequence_length=20),
    RobertaBackbone: dict(SIZES, max_sequence_length=20),
    DistilBertBackbone: dict(SIZES, max_sequence_length=20),
    GPTBackbone: dict(SIZES, max_sequence_length=20),
    Transformer: dict(SIZES, max_sequence_length=20),
    XLNetBackbone: dict(SIZES),
}
# Each task with the backbone class it takes and its own arguments.
TASKS = [
    (BertClassifier, BertBackbone, {"num_classes": 3}),
    (BertTokenClassifier, BertBackbone, {"num_classes": 3}),
    (BertSpanLabeler, BertBackbone, {}),
    (BertPretrainer, BertBackbone, {}),
    (GPTCausalLM, GPTBackbone, {}),
    (XLNetLMHead, XLNetBackbone, {}),
    (XLNetClassifier, XLNetBackbone, {"num_classes": 3}),
    (XLNetSpanLabeler, XLNetBackbone, {}),
]


def names(classes):
    return [c.__name__ if isinstance(c, type) else c[0].__name__ for c in classes]


@pytest.mark.parametrize("cls", list(BACKBONES), ids=names(BACKBONES))
def test_backbones_reject_unknown_keyword_arguments(cls):
    with pytest.raises(ValueError, match=r"Unknown keyword argument\(s\) \['dropuot'\] for "
                       + cls.__name__ + r": dropuot=0\.5 \(did you mean 'dropout'"):
        cls(**BACKBONES[cls], dropuot=0.5)
    # keras.Model's own arguments are accepted.
    backbone = cls(**BACKBONES[cls], name="named", trainable=False, dtype="float32")
    assert backbone.name == "named" and not backbone.trainable


@pytest.mark.parametrize("task", TASKS, ids=names(TASKS))
def test_tasks_reject_unknown_keyword_arguments(task):
    cls, backbone_cls, head = task
    backbone = backbone_cls(**BACKBONES[backbone_cls])
    with pytest.raises(ValueError, match=r"Unknown keyword argument\(s\) \['num_clases'\] for "
                       + cls.__name__ + r": num_clases=4"):
        cls(backbone, **head, num_clases=4)
    model = cls(backbone, **head, name="named")
    # The keras deserialization path passes what get_config wrote.
    clone = cls.from_config(model.get_config())
    assert clone.name == "named"


def test_from_pretrained_overrides_are_checked_in_tfzoo_format(tmp_path):
    backbone = BertBackbone(**BACKBONES[BertBackbone])
    backbone.save_pretrained(str(tmp_path / "backbone"))
    with pytest.raises(ValueError, match=r"\['dropuot'\] for BertBackbone: dropuot=0\.0"):
        BertBackbone.from_pretrained(str(tmp_path / "backbone"), dropuot=0.0)
    assert BertBackbone.from_pretrained(str(tmp_path / "backbone"), dropout=0.0).dropout == 0.0

    classifier = BertClassifier(backbone, num_classes=3)
    classifier.save_pretrained(str(tmp_path / "classifier"))
    with pytest.raises(ValueError, match=r"Unknown override\(s\) \['hidden_dropuot'\] for "
                       r"BertClassifier \(its own or its BertBackbone's arguments\): "
                       r"hidden_dropuot=0\.0"):
        BertClassifier.from_pretrained(str(tmp_path / "classifier"), hidden_dropuot=0.0)
    # Head arguments go to the task, the others to its backbone.
    restored = BertClassifier.from_pretrained(str(tmp_path / "classifier"), dropout=0.2,
                                              attention_dropout=0.3)
    assert (restored.dropout, restored.backbone.attention_dropout) == (0.2, 0.3)
    assert restored.backbone.dropout == backbone.dropout
    inputs = encoder_inputs(vocabulary=60)
    assert_allclose(restored(inputs), classifier(inputs))


def test_from_pretrained_overrides_are_checked_in_hugging_face_format(hf_checkpoint):
    path, _ = hf_checkpoint("bert")
    with pytest.raises(ValueError, match=r"\['hidden_dimm'\] for BertBackbone: hidden_dimm=3"):
        BertBackbone.from_pretrained(path, hidden_dimm=3)
    with pytest.raises(ValueError, match=r"Unknown override\(s\) \['attention_dropuot'\] for "
                       r"BertBackbone \(init_checkpoint .*\): attention_dropuot=0\.1"):
        build_backbone(None, path, {"attention_dropuot": 0.1})
    assert build_backbone(None, path, {"attention_dropout": 0.1}).attention_dropout == 0.1
    xlnet_path, _ = hf_checkpoint("xlnet_lm")
    with pytest.raises(ValueError, match=r"\['memory_lenght'\] for XLNetLMHead"):
        XLNetLMHead.from_pretrained(xlnet_path, memory_lenght=4)


def test_pretrainer_next_sentence_prediction_override(hf_checkpoint):
    path, _ = hf_checkpoint("bert_pretraining")
    with_nsp = BertPretrainer.from_pretrained(path)
    assert with_nsp.next_sentence_prediction
    without = BertPretrainer.from_pretrained(path, next_sentence_prediction=False)
    assert not without.next_sentence_prediction
    assert set(without.output) == {"mlm_logits"}
    inputs = dict(encoder_inputs(pairs=True), masked_lm_positions=np.array([[1, 2], [3, 4]]))
    assert_allclose(without(inputs)["mlm_logits"], with_nsp(inputs)["mlm_logits"])
    with pytest.raises(ValueError, match=r"\['next_sentence_predicton'\] for BertPretrainer"):
        BertPretrainer.from_pretrained(path, next_sentence_predicton=False)

    # A masked-LM-only checkpoint: the NSP head asked for starts untrained.
    mlm_path, _ = hf_checkpoint("roberta_mlm")
    model = BertPretrainer.from_pretrained(mlm_path, next_sentence_prediction=True)
    assert model.next_sentence_prediction
    assert to_numpy(model.get_layer("nsp_head").kernel).shape == (16, 2)
