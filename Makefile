# tfzoo: `make demo` runs the main job, `make test` runs the test suite.
# Both create (or reuse) a virtual environment in .venv and install what they need.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV ?= .venv
BIN := $(VENV)/bin
# Re-install whenever the package metadata changes.
STAMP := $(VENV)/.installed

.PHONY: help venv demo test test-tf test-jax bench clean

help:
	@echo "make demo   - set up and run the main job (offline)"
	@echo "make test   - set up and run the whole test suite (TensorFlow and JAX backends)"
	@echo "make bench  - run the layer benchmark (keras-hub side by side)"

$(STAMP): setup.cfg pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e ".[test]"
	touch $(STAMP)

venv: $(STAMP)

demo: venv
	$(BIN)/tfzoo demo

test: test-tf test-jax

# The whole suite on the first backend.
test-tf: venv
	KERAS_BACKEND=tensorflow $(BIN)/python -m pytest -n 2 --dist loadfile tests

# Layers again on JAX, so they stay backend-agnostic (GPU benchmarks use JAX).
test-jax: venv
	KERAS_BACKEND=jax $(BIN)/python -m pytest tests/layers

bench: venv
	$(BIN)/python -m benchmarks.run --workload encoder_block --compare keras_hub

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache
