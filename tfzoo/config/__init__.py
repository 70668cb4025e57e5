"""Typed configuration: YAML files loaded into dataclasses, strictly."""

from tfzoo.config.loader import apply_overrides, from_dict, load_yaml, split_overrides

__all__ = ["apply_overrides", "from_dict", "load_yaml", "split_overrides"]
