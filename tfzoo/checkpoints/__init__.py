"""Checkpoint formats in and out: one mapping mechanism for every model family."""

from tfzoo.checkpoints.mapping import Rule, load_weights, plan_assignments
from tfzoo.checkpoints.pretrained import PretrainedMixin, detect_format, save_pretrained
from tfzoo.checkpoints.readers import SafetensorsReader, TFCheckpointReader

__all__ = [
    "PretrainedMixin",
    "Rule",
    "SafetensorsReader",
    "TFCheckpointReader",
    "detect_format",
    "load_weights",
    "plan_assignments",
    "save_pretrained",
]
