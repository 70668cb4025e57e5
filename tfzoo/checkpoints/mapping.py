"""The one mechanism that maps checkpoint variables onto tfzoo models.

A model family declares, per checkpoint format, a list of `Rule`s. Each rule
matches tfzoo variable paths with a regular expression and names the source
variable (a template filled with the regex's named groups), a transform, and
the shape the source must have. `load_weights` resolves every variable of the
model first and assigns only when all of them resolved: a missing variable,
a wrong shape or an unmapped variable raises one error listing every problem,
and nothing is half loaded.
"""

import dataclasses
import re
from typing import Callable

import keras
import numpy as np
from absl import logging


def identity(array):
    return array


def transpose(array):
    """torch `Linear.weight` [out, in] -> Keras kernel [in, out]."""
    return np.transpose(array)


def same_shape(target_shape):
    return tuple(target_shape)


def heads_output_shape(target_shape):
    """Attention output kernel [H, K, D] is stored as [H*K, D]."""
    return (target_shape[0] * target_shape[1], target_shape[2])


@dataclasses.dataclass(frozen=True)
class Rule:
    """Maps tfzoo variables matching `target` to a checkpoint variable.

    Attributes:
        target: regular expression matched against the end of the variable's
            path (e.g. r"transformer_layer_(?P<layer>\\d+)/self_attention/query/kernel").
        source: name of the checkpoint variable; `{group}` fields are filled
            from the target's named groups.
        transform: applied to the source array (e.g. `transpose`).
        source_shape: maps the target shape to the shape the transformed source
            must have before it is reshaped to the target (e.g. heads merged).
    """

    target: str
    source: str
    transform: Callable = identity
    source_shape: Callable = same_shape

    def match(self, path):
        return re.search(f"(?:^|/)(?:{self.target})$", path)


@dataclasses.dataclass
class Assignment:
    variable: object
    source: str
    value: np.ndarray


def _variable_path(variable):
    return getattr(variable, "path", None) or variable.name


def _resolve_key(key, reader, prefixes):
    for prefix in prefixes:
        if prefix + key in reader:
            return prefix + key
    return None


def plan_assignments(variables, reader, rules, prefixes=("",), skip=(), optional=()):
    """Resolves every variable to its source array; raises ValueError on any problem.

    Args:
        variables: the model's variables.
        reader: a `CheckpointReader`.
        rules: list of `Rule`; the first matching rule wins.
        prefixes: prefixes tried in front of each source name (e.g. "bert."
            for Hugging Face checkpoints saved from a task model).
        skip: regular expressions of variable paths to leave untouched (e.g. a
            freshly initialised task head).
        optional: regular expressions of variable paths that a checkpoint may
            lack (e.g. BERT's pooler in masked-LM checkpoints); those keep their
            initial values and a warning names them.

    Returns:
        A list of `Assignment`s, one per variable not skipped.
    """
    problems, assignments = [], []
    for variable in variables:
        path = _variable_path(variable)
        if any(re.search(pattern, path) for pattern in skip):
            continue
        rule, match = next(
            ((r, m) for r in rules for m in [r.match(path)] if m), (None, None)
        )
        if rule is None:
            problems.append(f"no rule maps the model variable {path}")
            continue
        wanted = rule.source.format(**match.groupdict())
        key = _resolve_key(wanted, reader, prefixes)
        if key is None:
            tried = ", ".join(p + wanted for p in prefixes)
            if any(re.search(pattern, path) for pattern in optional):
                logging.warning(
                    "%s is not in %s (tried %s); it keeps its initial values and "
                    "needs training.", path, reader.description, tried,
                )
                continue
            problems.append(f"{path}: the checkpoint has no variable {tried}")
            continue
        try:
            value = rule.transform(reader.read(key))
        except ValueError as error:  # a transform that cannot use this array
            problems.append(f"{path}: checkpoint variable {key} of shape "
                            f"{tuple(reader.shape(key))}: {error}")
            continue
        target_shape = tuple(variable.shape)
        expected = tuple(rule.source_shape(target_shape))
        if tuple(value.shape) != expected:
            problems.append(
                f"{path} has shape {target_shape} (expects {expected} from the "
                f"checkpoint), but checkpoint variable {key} has shape "
                f"{tuple(reader.shape(key))}"
            )
            continue
        assignments.append(Assignment(variable, key, value.reshape(target_shape)))
    if problems:
        raise ValueError(
            f"Cannot load {reader.description}: {len(problems)} problem(s):\n  "
            + "\n  ".join(problems)
        )
    return assignments


def load_weights(variables, reader, rules, prefixes=("",), skip=(), ignore=(), optional=(),
                 check_layer_count=False):
    """Assigns checkpoint values to `variables`, all or nothing.

    Source variables that no model variable used are logged as a warning
    (matching `ignore` patterns silently, e.g. optimizer slots or a head the
    model does not have). With `check_layer_count`, unused variables that
    differ from used ones only in their numbers (`h.11.mlp.c_fc.weight` when
    `h.0.mlp.c_fc.weight` was loaded) mean the checkpoint has more layers than
    the model: an error, before anything is assigned.

    Returns:
        The set of checkpoint keys that were loaded.
    """
    assignments = plan_assignments(variables, reader, rules, prefixes, skip, optional)
    used = {a.source for a in assignments}
    unused = sorted(
        k for k in reader.keys() - used if not any(re.search(p, k) for p in ignore)
    )
    if check_layer_count:
        loaded_kinds = {_numbers_masked(k) for k in used}
        extra = [k for k in unused if _numbers_masked(k) in loaded_kinds]
        if extra:
            raise ValueError(
                f"Cannot load {reader.description}: it has {len(extra)} variable(s) of "
                f"kinds the model loaded but more of them (e.g. {extra[0]}): the checkpoint "
                "has more layers (or heads, positions) than the model's config says. "
                f"Extra: {', '.join(extra[:10])}" + (" ..." if len(extra) > 10 else "")
            )
    for assignment in assignments:
        variable = assignment.variable
        variable.assign(assignment.value.astype(variable.dtype))
    if unused:
        logging.warning(
            "%d checkpoint variable(s) in %s were not used: %s",
            len(unused),
            reader.description,
            ", ".join(unused[:20]) + (" ..." if len(unused) > 20 else ""),
        )
    logging.info("Loaded %d variables from %s", len(assignments), reader.description)
    return used


def _numbers_masked(key):
    return re.sub(r"\d+", "#", key)


def native_rules():
    """tfzoo's own format: each variable is stored under its path."""
    return [Rule(r"(?P<path>.+)", "{path}")]


def variable_arrays(variables):
    """{path: array} for tfzoo's own format."""
    arrays = {}
    for variable in variables:
        path = _variable_path(variable)
        if path in arrays:
            raise ValueError(f"Two variables share the path {path}; cannot save by path.")
        arrays[path] = np.asarray(keras.ops.convert_to_numpy(variable.value))
    return arrays

