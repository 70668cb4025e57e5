"""The notebooks in colab/: each runs top to bottom, and is committed stripped.

Execution uses the notebooks' quick parameters: every parameter cell (tagged
"parameters") reads TFZOO_NOTEBOOK_QUICK=1 and shrinks steps and data, so the
five together run in a few minutes on 2 CPU cores. Each runs in its own
kernel (the python3 kernel, i.e. this interpreter) from a temporary working
directory, with TFZOO_REPO pointing at this checkout's configs/.
"""

import importlib.util
import json
import pathlib
import time

import nbformat
import pytest
from nbclient import NotebookClient

ROOT = pathlib.Path(__file__).resolve().parents[2]
COLAB = ROOT / "colab"
NOTEBOOKS = [
    "attention_and_positional_encoding.ipynb",
    "bert_finetuning.ipynb",
    "gpt2_text_generation.ipynb",
    "transformer_translation.ipynb",
    "distribute_and_serve.ipynb",
]
CELL_TIMEOUT = 600  # seconds, per cell
BADGE = "https://colab.research.google.com/github/tfzoo/tfzoo/blob/main/colab/{}"
INSTALL = '!pip install -q "tfzoo[test] @ git+https://github.com/tfzoo/tfzoo"'


def _strip_outputs_module():
    spec = importlib.util.spec_from_file_location("strip_outputs", COLAB / "strip_outputs.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _code(notebook):
    return [cell for cell in notebook["cells"] if cell["cell_type"] == "code"]


def _source(cell):
    source = cell["source"]
    return source if isinstance(source, str) else "".join(source)


def test_the_notebooks_are_the_ones_listed():
    assert sorted(path.name for path in COLAB.glob("*.ipynb")) == sorted(NOTEBOOKS)


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_notebook_layout(name):
    """Badge first, then the guarded install, then the parameter cell."""
    notebook = json.loads((COLAB / name).read_text(encoding="utf-8"))
    nbformat.validate(nbformat.reads(json.dumps(notebook), as_version=4))
    first = notebook["cells"][0]
    assert first["cell_type"] == "markdown"
    assert BADGE.format(name) in _source(first)
    setup, parameters = _code(notebook)[:2]
    assert "import tfzoo\nexcept ImportError:" in _source(setup)
    assert INSTALL in _source(setup)
    assert "parameters" in parameters["metadata"].get("tags", [])
    assert 'os.environ.get("TFZOO_NOTEBOOK_QUICK") == "1"' in _source(parameters)


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_committed_notebook_is_stripped(name):
    """No outputs but the images of cells tagged keep-output; no execution counts."""
    path = COLAB / name
    notebook = json.loads(path.read_text(encoding="utf-8"))
    strip = _strip_outputs_module()
    assert strip.dumps(strip.strip_notebook(notebook)) == path.read_text(encoding="utf-8"), (
        f"{name} carries outputs: run `python colab/strip_outputs.py`")
    for cell in _code(notebook):
        assert cell["execution_count"] is None
        tags = cell["metadata"].get("tags", [])
        for output in cell["outputs"]:
            assert "keep-output" in tags
            assert output["output_type"] == "display_data"
            assert all(kind.startswith("image/") for kind in output["data"])


def test_strip_keeps_only_tagged_images():
    strip = _strip_outputs_module()
    image = {"output_type": "display_data", "metadata": {},
             "data": {"image/png": "iVBORw0KGgo=", "text/plain": "<Figure>"}}
    text = {"output_type": "stream", "name": "stdout", "text": "loss 0.1\n"}
    notebook = {"metadata": {"kernelspec": {"name": "python3"}, "language_info": {"version": "3"}},
                "nbformat": 4, "nbformat_minor": 5, "cells": [
                    {"cell_type": "code", "execution_count": 3, "source": "plot()",
                     "metadata": {"tags": ["keep-output"], "execution": {"a": 1}},
                     "outputs": [text, image]},
                    {"cell_type": "code", "execution_count": 4, "source": "plot()",
                     "metadata": {}, "outputs": [text, image]}]}
    stripped = strip.strip_notebook(notebook)
    assert stripped["metadata"] == {"kernelspec": {"name": "python3"}}
    kept, dropped = stripped["cells"]
    assert kept["outputs"] == [{"output_type": "display_data", "metadata": {},
                                "data": {"image/png": "iVBORw0KGgo="}}]
    assert kept["metadata"] == {"tags": ["keep-output"]}
    assert dropped["outputs"] == [] and dropped["execution_count"] is None
    assert notebook["cells"][1]["outputs"], "the input must not change"


@pytest.mark.slow
@pytest.mark.parametrize("name", NOTEBOOKS)
def test_notebook_runs_top_to_bottom(name, tmp_path, monkeypatch):
    """Executes the notebook with its quick parameters; any cell error fails."""
    monkeypatch.setenv("TFZOO_NOTEBOOK_QUICK", "1")
    monkeypatch.setenv("TFZOO_REPO", str(ROOT))
    monkeypatch.setenv("KERAS_BACKEND", "tensorflow")  # exports need it
    # The notebooks' default output directories (tempfile.mkdtemp) go under
    # pytest's tmp_path, which pytest prunes, not into /tmp for good.
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    notebook = nbformat.read(COLAB / name, as_version=4)
    client = NotebookClient(notebook, timeout=CELL_TIMEOUT, kernel_name="python3",
                            resources={"metadata": {"path": str(tmp_path)}})
    started = time.monotonic()
    client.execute()  # raises CellExecutionError, with the cell and traceback
    print(f"{name}: executed in {time.monotonic() - started:.0f} s")
