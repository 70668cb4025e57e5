"""What does GPT-2's tied output projection + softmax cross-entropy cost on this JAX device?

    KERAS_BACKEND=jax python -m benchmarks.lm_head_probe [--vocabulary_size 50257]

Times forward+backward (gradients for the hidden states and the float32
embedding table, as in a mixed-precision training step) of
`mean(cross_entropy(hidden @ cast(table, bf16).T))` for N = 16 x 1024 tokens,
D = 768, with the vocabulary as it is and with the table padded to a multiple
of 64 / 128 rows (the extra logits sliced off or masked before the loss).
Run it under different `XLA_FLAGS` to compare GEMM back-ends.
"""

import argparse
import os
import time

import jax
import jax.numpy as jnp
import keras
import numpy as np
from keras import ops


def loss_plain(hidden, table, labels):
    logits = hidden @ table.astype("bfloat16").T
    return ops.mean(ops.sparse_categorical_crossentropy(
        labels, logits.astype("float32"), from_logits=True))


def loss_padded(multiple, mode):
    def fn(hidden, table, labels):
        v = table.shape[0]
        rows = -(-v // multiple) * multiple
        padded = jnp.pad(table.astype("bfloat16"), ((0, rows - v), (0, 0)))
        logits = (hidden @ padded.T).astype("float32")
        if mode == "slice":
            logits = logits[:, :v]
        else:
            logits = jnp.where(jnp.arange(rows) < v, logits, -jnp.inf)
        return ops.mean(ops.sparse_categorical_crossentropy(labels, logits, from_logits=True))
    return fn


def timed(fn, args, repeats=20):
    jax.block_until_ready(fn(*args))
    started = time.perf_counter()
    for _ in range(repeats):
        out = fn(*args)
    jax.block_until_ready(out)
    return (time.perf_counter() - started) / repeats * 1000


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--vocabulary_size", type=int, default=50257)
    parser.add_argument("--tokens", type=int, default=16 * 1024)
    parser.add_argument("--hidden_dim", type=int, default=768)
    args = parser.parse_args()
    print(f"devices: {jax.devices()}  keras {keras.__version__}  jax {jax.__version__}  "
          f"XLA_FLAGS={os.environ.get('XLA_FLAGS', '')!r}")
    key = jax.random.PRNGKey(0)
    hidden = jax.random.normal(key, (args.tokens, args.hidden_dim), "bfloat16")
    table = 0.02 * jax.random.normal(jax.random.fold_in(key, 1),
                                     (args.vocabulary_size, args.hidden_dim), "float32")
    labels = jnp.asarray(np.random.default_rng(0).integers(
        0, args.vocabulary_size, args.tokens), "int32")
    flop = 3 * 2 * args.tokens * args.hidden_dim * args.vocabulary_size
    reference = None
    variants = {"as is": loss_plain}
    for multiple in (64, 128):
        for mode in ("slice", "mask"):
            variants[f"padded to {multiple}, {mode}"] = loss_padded(multiple, mode)
    for label, fn in variants.items():
        step = jax.jit(jax.value_and_grad(fn, argnums=(0, 1)))
        loss, grads = step(hidden, table, labels)
        if reference is None:
            reference = (loss, grads)
        error = max(float(jnp.max(jnp.abs(a.astype("float32") - b.astype("float32"))))
                    for a, b in zip(grads, reference[1]))
        ms = timed(step, (hidden, table, labels))
        print(f"{label:24s} fwd+bwd {ms:7.3f} ms  {flop / ms / 1e9:6.1f} TFLOP/s (GEMMs)  "
              f"loss {float(loss):.5f}  max |grad - as is| {error:.2e}")


if __name__ == "__main__":
    main()
