"""The one config loader: YAML -> dict -> typed dataclasses, with overrides.

Unknown keys and values of the wrong type raise ValueError naming the dotted
key and the value, so a typo in a YAML file or on the command line fails
loudly instead of being ignored.
"""

import dataclasses
import os
import re
import typing

import yaml


class _Loader(yaml.SafeLoader):
    """SafeLoader that also reads `2e-5` as a float (YAML 1.1 wants `2.0e-5`)."""


_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^[-+]?(?:[0-9][0-9_]*)(?:\.[0-9_]*)?[eE][-+]?[0-9]+$"),
    list("-+0123456789"),
)


def parse_yaml(text):
    """YAML text -> Python value, with `_Loader`'s float rule."""
    return yaml.load(text, Loader=_Loader)


def load_yaml(path):
    """Reads a YAML mapping; errors name the file."""
    if not os.path.isfile(path):
        raise FileNotFoundError(f"No config file at {path}")
    with open(path) as f:
        data = parse_yaml(f)
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ValueError(f"{path} must hold a mapping at the top level; found {type(data).__name__}")
    return data


def _check_type(key, value, annotation):
    """Validates (and lightly coerces) `value` against a type annotation."""
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if annotation is typing.Any:
        return value
    if origin is typing.Union:
        if value is None and type(None) in args:
            return None
        errors = []
        for option in (a for a in args if a is not type(None)):
            try:
                return _check_type(key, value, option)
            except ValueError as error:
                errors.append(str(error))
        raise ValueError(errors[0])
    if origin in (list, tuple):
        if not isinstance(value, (list, tuple)):
            raise ValueError(f"{key} must be a list; received {value!r}")
        item_type = args[0] if args else typing.Any
        items = [_check_type(f"{key}[{i}]", v, item_type) for i, v in enumerate(value)]
        return items if origin is list else tuple(items)
    if origin is dict:
        if not isinstance(value, dict):
            raise ValueError(f"{key} must be a mapping; received {value!r}")
        return dict(value)
    if dataclasses.is_dataclass(annotation):
        return from_dict(annotation, value, prefix=f"{key}.")
    if annotation is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ValueError(f"{key} must be a number; received {value!r}")
        return float(value)
    if annotation is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError(f"{key} must be an integer; received {value!r}")
        return value
    if annotation is bool:
        if not isinstance(value, bool):
            raise ValueError(f"{key} must be true or false; received {value!r}")
        return value
    if annotation is str:
        if not isinstance(value, str):
            raise ValueError(f"{key} must be a string; received {value!r}")
        return value
    return value


def from_dict(cls, data, prefix=""):
    """Builds dataclass `cls` from a mapping; unknown keys and bad types raise ValueError."""
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ValueError(f"{prefix.rstrip('.') or cls.__name__} must be a mapping; received {data!r}")
    fields = {f.name: f for f in dataclasses.fields(cls)}
    unknown = sorted(set(data) - set(fields))
    if unknown:
        raise ValueError(
            f"Unknown config key(s) {', '.join(prefix + k for k in unknown)}; "
            f"{prefix.rstrip('.') or cls.__name__} accepts: {', '.join(sorted(fields))}"
        )
    hints = typing.get_type_hints(cls)
    values = {name: _check_type(prefix + name, value, hints[name]) for name, value in data.items()}
    try:
        return cls(**values)
    except TypeError as error:
        raise ValueError(f"{prefix.rstrip('.') or cls.__name__}: {error}") from error


def split_overrides(text):
    """Splits "a=1,b=[x, y],c='p,q'" at the commas outside brackets, braces and quotes.

    A quote opens only where a YAML scalar can start (after `=`, `[`, `{`, `,`,
    `:` or a space), so an apostrophe inside a word (`don't`) is a letter;
    YAML's escapes inside quotes (`\"` and `''`) keep the quote open.
    Unbalanced brackets or quotes leave the rest in one item, whose parse
    error then names it.
    """
    items, current, depth, quote = [], [], 0, None
    index = 0
    while index < len(text):
        char = text[index]
        previous = current[-1] if current else "="
        if quote == '"' and char == "\\":
            current.append(text[index:index + 2])  # an escape: `\"` or `\\`
            index += 2
            continue
        if quote:
            if char == quote and text[index + 1:index + 2] == "'" == quote:
                current.append("''")  # single-quoted YAML's escaped quote
                index += 2
                continue
            if char == quote:
                quote = None
        elif char in "'\"" and previous[-1] in "=[{,: ":
            quote = char
        elif char in "[{":
            depth += 1
        elif char in "]}":
            depth = max(depth - 1, 0)
        elif char == "," and depth == 0:
            items.append("".join(current))
            current = []
            index += 1
            continue
        current.append(char)
        index += 1
    items.append("".join(current))
    return [item for item in items if item.strip()]


# Stands in for `#` while an override value is parsed: a command line has no
# comments, so `[#1 String,#2 String]` (GLUE's column names) is two strings.
_HASH = "\ue000"


def parse_override_value(text):
    """An override's value as YAML, `#` read as an ordinary character."""
    if "#" not in text or _HASH in text:
        return parse_yaml(text)
    return _restore_hash(parse_yaml(text.replace("#", _HASH)))


def _restore_hash(value):
    if isinstance(value, str):
        return value.replace(_HASH, "#")
    if isinstance(value, list):
        return [_restore_hash(v) for v in value]
    if isinstance(value, dict):
        return {_restore_hash(k): _restore_hash(v) for k, v in value.items()}
    return value


def apply_overrides(data, overrides):
    """Applies "a.b.c=value" overrides (values parsed as YAML) to a nested dict copy.

    `overrides` is a list of strings or one comma-separated string, as in
    `--params_override=trainer.epochs=3,task.data.text_columns=[s1, s2]`;
    commas inside brackets, braces or quotes belong to the value (see
    `split_overrides`), and `#` is an ordinary character, not a comment.
    """
    if isinstance(overrides, str):
        overrides = split_overrides(overrides)
    result = _deep_copy(data)
    for override in overrides or ():
        if "=" not in override:
            raise ValueError(f"Override {override!r} must look like key.path=value (a comma "
                             "inside a value needs brackets or quotes around the value)")
        key, text = override.split("=", 1)
        parts = key.strip().split(".")
        if not all(parts):
            raise ValueError(f"Override {override!r}: key {key.strip()!r} must be a dotted "
                             "path such as trainer.epochs")
        node = result
        for part in parts[:-1]:
            child = node.setdefault(part, {})
            if not isinstance(child, dict):
                raise ValueError(f"Override {override!r}: {part} is not a section")
            node = child
        try:
            value = parse_override_value(text)
        except yaml.YAMLError as error:
            problem = getattr(error, "problem", None) or str(error).splitlines()[0]
            raise ValueError(f"Override {override!r}: the value of {key.strip()} is not valid "
                             f"YAML ({problem}); received {text!r}") from error
        node[parts[-1]] = value
    return result


def _deep_copy(data):
    if isinstance(data, dict):
        return {k: _deep_copy(v) for k, v in data.items()}
    if isinstance(data, list):
        return [_deep_copy(v) for v in data]
    return data
