"""Small datasets written for tfzoo, shipped with the package so jobs run offline.

`python -m tfzoo.data.samples.generate` rewrites them (deterministically).
"""

import os

SAMPLES_DIR = os.path.dirname(__file__)


def sample_path(name):
    """Path of a shipped sample file, e.g. sample_path("pretraining_corpus.txt")."""
    path = os.path.join(SAMPLES_DIR, name)
    if not os.path.isfile(path):
        available = sorted(f for f in os.listdir(SAMPLES_DIR) if not f.endswith(".py"))
        raise FileNotFoundError(f"No sample named {name!r}; available: {available}")
    return path
