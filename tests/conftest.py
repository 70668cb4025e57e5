"""Test-wide setup: quiet logs, fixed seeds."""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import pytest  # noqa: E402

from tests import reference_models  # noqa: E402


@pytest.fixture(autouse=True)
def fixed_seed():
    keras.utils.set_random_seed(1234)
    yield
    keras.config.set_dtype_policy("float32")


@pytest.fixture(scope="session")
def hf_checkpoint(tmp_path_factory):
    """Factory: kind -> (directory, randomized transformers model)."""
    made = {}

    def make(kind):
        if kind not in made:
            model = reference_models.randomize(
                reference_models.reference_model(kind), seed=len(made))
            path = str(tmp_path_factory.mktemp(kind))
            model.save_pretrained(path)
            made[kind] = (path, model)
        return made[kind]

    return make


@pytest.fixture(scope="session")
def minilm_path():
    """all-MiniLM-L6-v2 (BERT, 6 layers, hidden 384) as shipped by its PyPI package."""
    return reference_models.minilm_path()
