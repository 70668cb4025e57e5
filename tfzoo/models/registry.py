"""Backbones by model type, and building one from a model config file."""

from tfzoo.checkpoints.pretrained import checkpoint_model_type
from tfzoo.config import load_yaml
from tfzoo.models.arguments import accepted_arguments, check_known
from tfzoo.models.bert.bert_backbone import BertBackbone
from tfzoo.models.distilbert.distilbert_backbone import DistilBertBackbone
from tfzoo.models.gpt.gpt_backbone import GPTBackbone
from tfzoo.models.roberta.roberta_backbone import RobertaBackbone
from tfzoo.models.transformer.transformer import Transformer
from tfzoo.models.xlnet.xlnet_backbone import XLNetBackbone

BACKBONES = {
    "bert": BertBackbone,
    "roberta": RobertaBackbone,
    "distilbert": DistilBertBackbone,
    "gpt": GPTBackbone,
    # Hugging Face's model types for the same architecture.
    "gpt2": GPTBackbone,
    "openai-gpt": GPTBackbone,
    "transformer": Transformer,
    "xlnet": XLNetBackbone,
}


def backbone_class(model_type):
    """The backbone class of a model type; ValueError names unknown types."""
    if model_type not in BACKBONES:
        raise ValueError(
            f"Unknown model_type {model_type!r}; tfzoo knows {sorted(BACKBONES)}."
        )
    return BACKBONES[model_type]


def backbone_from_config(config, **overrides):
    """Builds a backbone from a model config (YAML path or dict).

    The config holds `model_type` and the backbone's constructor arguments
    (see configs/models/). Unknown keys raise ValueError naming them.

    Example:
    >>> backbone = backbone_from_config("configs/models/bert_tiny.yaml")
    """
    data = load_yaml(config) if isinstance(config, str) else dict(config)
    data.update(overrides)
    if "model_type" not in data:
        raise ValueError(f"Model config {config!r} has no model_type")
    cls = backbone_class(data.pop("model_type"))
    check_known(cls, data, accepted_arguments(cls), what="key(s)",
                where=f" in model config {config!r}")
    return cls(**data)


def build_backbone(config=None, init_checkpoint=None, overrides=None):
    """The backbone an experiment asks for.

    Args:
        config: architecture file or dict (configs/models/*.yaml), or None to
            take the architecture from `init_checkpoint`.
        init_checkpoint: checkpoint directory to load (any supported format).
        overrides: constructor arguments replacing the architecture's.

    With both, the architecture comes from `config` and every checkpoint
    variable must fit it (shape errors name the variable).
    """
    overrides = dict(overrides or {})
    if config is not None:
        backbone = backbone_from_config(config, **overrides)
        if init_checkpoint is not None:
            backbone.load_pretrained_weights(init_checkpoint)
        return backbone
    if init_checkpoint is None:
        raise ValueError("build_backbone needs a config, an init_checkpoint, or both.")
    model_type = checkpoint_model_type(init_checkpoint)
    by_class_name = {cls.__name__: cls for cls in BACKBONES.values()}
    cls = by_class_name.get(model_type) or backbone_class(model_type)
    check_known(cls, overrides, accepted_arguments(cls), what="override(s)",
                where=f" (init_checkpoint {init_checkpoint!r})")
    return cls.from_pretrained(init_checkpoint, **overrides)
