"""Which model family a task's `model` section builds, and XLNet's backbone.

The fine-tuning tasks run BERT-style encoders (BERT, RoBERTa, DistilBERT) and
XLNet through the same flow; XLNet differs in its preprocessor (SentencePiece,
`A <sep> B <sep> <cls>`, left padding) and its heads.
"""

from tfzoo.checkpoints.pretrained import checkpoint_model_type
from tfzoo.config import load_yaml
from tfzoo.models.registry import build_backbone
from tfzoo.preprocessing import BertPreprocessor
from tfzoo.preprocessing.xlnet_preprocessor import XLNetPreprocessor


def model_type(model_config):
    """The `model_type` of a `ModelConfig`: from its architecture file (or
    dict) when it has one, else from its init_checkpoint (a tfzoo checkpoint
    gives its class name, e.g. "XLNetClassifier")."""
    if model_config.config is not None:
        data = model_config.config
        data = load_yaml(data) if isinstance(data, str) else dict(data)
        return data.get("model_type")
    return checkpoint_model_type(model_config.init_checkpoint)


def is_xlnet(model_config):
    name = model_type(model_config) or ""
    return name == "xlnet" or name.startswith("XLNet")


def xlnet_backbone(model_config, preprocessor):
    """The XLNet backbone of `model_config`; one built from an architecture
    file alone takes the SentencePiece model's vocabulary size."""
    overrides = dict(model_config.overrides)
    vocabulary_size = preprocessor.get_special_tokens_dict()["vocab_size"]
    if model_config.init_checkpoint is None:
        overrides.setdefault("vocabulary_size", vocabulary_size)
    backbone = build_backbone(model_config.config, model_config.init_checkpoint, overrides)
    if backbone.vocabulary_size < vocabulary_size:
        raise ValueError(f"The SentencePiece model has {vocabulary_size} pieces; the model "
                         f"only {backbone.vocabulary_size}.")
    return backbone


def task_preprocessor(task_config):
    """The preprocessor of a fine-tuning task: XLNet's SentencePiece one for an
    XLNet model, else the WordPiece `BertPreprocessor`, from `task.vocabulary`
    or else the init_checkpoint directory, packing `task.seq_length`."""
    vocabulary = task_config.vocabulary or task_config.model.init_checkpoint
    if vocabulary is None:
        raise ValueError("task.vocabulary is required when task.model has no init_checkpoint.")
    if is_xlnet(task_config.model):
        return XLNetPreprocessor.from_pretrained(vocabulary, seq_length=task_config.seq_length)
    return BertPreprocessor.from_pretrained(vocabulary, seq_length=task_config.seq_length)


def wordpiece_preprocessor(task_config, task_type):
    """The BERT-family preprocessor of a task whose examples are built from
    WordPiece tokens (token_tagging's word alignment); an XLNet model is an
    error naming the task."""
    if is_xlnet(task_config.model):
        raise ValueError(f"task.type {task_type!r} builds its examples from WordPiece tokens "
                         "and runs BERT, RoBERTa and DistilBERT models; task.model is XLNet. "
                         "Fine-tune XLNet with task.type 'sentence_classification' or "
                         "'span_extraction'.")
    return task_preprocessor(task_config)
