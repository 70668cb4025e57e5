"""Strips the notebooks in colab/ of their outputs, except the pictures a reader should see.

    python colab/strip_outputs.py                 # every colab/*.ipynb, in place
    python colab/strip_outputs.py NOTEBOOK ...    # those notebooks
    python colab/strip_outputs.py --check         # exit 1 naming any notebook it would change

What stays: the image outputs (display_data with an image/* type, e.g. a
matplotlib figure) of code cells tagged "keep-output", so GitHub shows them.
Everything else goes: text, errors, other outputs, execution counts, timing
metadata, and notebook metadata beyond the kernel and Colab's own. Execute a
notebook first (e.g. with nbclient, see colab/README.md), then strip it.

Standard library only: the notebook is JSON.
"""

import argparse
import copy
import json
import pathlib
import sys

KEEP_TAG = "keep-output"
# Notebook metadata worth committing; the rest (language_info with the Python
# version, widget state, papermill's records) changes from run to run.
NOTEBOOK_METADATA = ("colab", "kernelspec", "accelerator")
COLAB = pathlib.Path(__file__).resolve().parent


def kept_output(output):
    """The image part of a display_data output, or None when nothing is kept."""
    if output.get("output_type") != "display_data":
        return None
    images = {kind: data for kind, data in output.get("data", {}).items()
              if kind.startswith("image/")}
    if not images:
        return None
    metadata = {kind: value for kind, value in output.get("metadata", {}).items()
                if kind in images}
    return {"output_type": "display_data", "data": images, "metadata": metadata}


def strip_notebook(notebook):
    """A copy of `notebook` (a dict as in the .ipynb file) without the stripped parts."""
    notebook = copy.deepcopy(notebook)
    notebook["metadata"] = {key: value for key, value in notebook.get("metadata", {}).items()
                            if key in NOTEBOOK_METADATA}
    for cell in notebook.get("cells", []):
        metadata = cell.get("metadata", {})
        for key in ("execution", "collapsed", "scrolled", "ExecuteTime"):
            metadata.pop(key, None)
        if cell.get("cell_type") != "code":
            continue
        cell["execution_count"] = None
        keep = KEEP_TAG in metadata.get("tags", [])
        outputs = [kept_output(output) for output in cell.get("outputs", [])] if keep else []
        cell["outputs"] = [output for output in outputs if output is not None]
    return notebook


def read(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def dumps(notebook):
    """The file text, formatted as nbformat writes it (so diffs stay small)."""
    return json.dumps(notebook, indent=1, sort_keys=True, ensure_ascii=False) + "\n"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("notebooks", nargs="*", type=pathlib.Path,
                        help="notebooks to strip (default: every colab/*.ipynb)")
    parser.add_argument("--check", action="store_true",
                        help="change nothing; exit 1 if any notebook would change")
    args = parser.parse_args(argv)
    paths = args.notebooks or sorted(COLAB.glob("*.ipynb"))
    changed = []
    for path in paths:
        text = path.read_text(encoding="utf-8")
        stripped = dumps(strip_notebook(json.loads(text)))
        if stripped == text:
            continue
        changed.append(path)
        if not args.check:
            path.write_text(stripped, encoding="utf-8")
    verb = "would strip" if args.check else "stripped"
    for path in changed:
        print(f"{verb} {path}")
    return 1 if args.check and changed else 0


if __name__ == "__main__":
    sys.exit(main())
