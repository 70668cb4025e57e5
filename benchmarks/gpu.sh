#!/usr/bin/env bash
# GPU benchmarks on a machine with JAX and PyTorch but no TensorFlow (the lent
# H100/H200). Carries Keras and keras-hub as wheels in .whl/ (see docs/benchmarks.md):
#   keras-3.15.1, keras_hub-0.32.0, namex-0.1.0, optree-0.20.0 (cp312),
#   kagglehub-1.0.3, kagglesdk-0.1.38
# Usage: benchmarks/gpu.sh ARGS...   (ARGS go to `python -m benchmarks.run`)
#        MODULE=benchmarks.lm_head_probe benchmarks/gpu.sh ARGS...   (another module)
set -euo pipefail
SITE=$PWD/.whl/site  # installed beside the carried wheels (git-ignored)
if [ ! -d "$SITE/keras" ]; then
  python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
    --target "$SITE" .whl/*.whl
fi
export PYTHONPATH=$SITE:$PWD KERAS_BACKEND=jax PYTHONUNBUFFERED=1
# JAX takes this share of GPU memory up front; the rest is left to PyTorch (transformers).
export XLA_PYTHON_CLIENT_MEM_FRACTION=${XLA_PYTHON_CLIENT_MEM_FRACTION:-0.45}
exec python3 -m "${MODULE:-benchmarks.run}" "$@"
