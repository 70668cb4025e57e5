"""What do LayerNorm's forward + backward passes cost in a BERT-base training step on this JAX device?

    KERAS_BACKEND=jax python -m benchmarks.norm_probe [--tokens 32768] [--hidden_dim 768]

Times, for N tokens x D (bf16 activations, float32 gamma / beta, as under
mixed precision), the forward pass and the gradients for every input given
an upstream gradient (`jax.vjp`):
  - a memory-copy reference (y = 2 x, and the same with its gradient);
  - LayerNorm alone: `keras.ops.layer_normalization` differentiated
    automatically vs `tfzoo.layers.layer_norm` (recomputing gradient);
  - post-LN residual, LN(dropout(h) + x), with both LayerNorms;
  - one BERT-base encoder block (mixed_bfloat16, batch 256 x 128 by default)
    with Keras' LayerNormalization vs tfzoo's.
The minimum traffic of a LayerNorm forward + backward is 5 passes over
[N, D] (read x, write y; read x and dy, write dx); the table gives the
bandwidth that the time implies at that count.
"""

import argparse
import statistics
import time

import jax
import jax.numpy as jnp
import keras
import numpy as np
from keras import ops

from tfzoo.layers.dropout import hash_bits
from tfzoo.layers.layer_norm import LayerNormalization, layer_norm


def timed(fn, args, repeats=30):
    """Median milliseconds of `fn(*args)` over `repeats` synchronised calls."""
    jax.block_until_ready(fn(*args))
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        jax.block_until_ready(fn(*args))
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000


def with_gradients(f):
    """jit(forward outputs and the vjp of every argument for upstream `dy`)."""
    def run(dy, *args):
        y, vjp = jax.vjp(f, *args)
        return y, vjp(dy)
    return jax.jit(run)


def keras_ln(x, gamma, beta):
    return ops.layer_normalization(x, gamma, beta, epsilon=1e-12).astype(x.dtype)


def tfzoo_ln(x, gamma, beta):
    return layer_norm(x, gamma, beta, 1e-12)


def residual(norm):
    def f(h, x, gamma, beta):
        keep = hash_bits(h.shape, jnp.array([1, 2], "uint32")) >= np.uint32(0.1 * 2**32)
        dropped = jnp.where(keep, h / jnp.asarray(0.9, h.dtype), jnp.zeros_like(h))
        return norm(dropped + x, gamma, beta)
    return f


def block_step(layer_norm_class, batch, seq, hidden):
    from tfzoo.layers import transformer_block_base
    from tfzoo.layers.transformer_encoder_block import TransformerEncoderBlock

    original = transformer_block_base.TransformerBlockBase._layer_norm

    def make(self, name):
        return layer_norm_class(epsilon=self.layer_norm_epsilon, dtype=self.dtype_policy,
                                name=name)

    transformer_block_base.TransformerBlockBase._layer_norm = make
    try:
        block = TransformerEncoderBlock(num_heads=hidden // 64, intermediate_dim=4 * hidden,
                                        activation="gelu", dropout=0.1, attention_dropout=0.0,
                                        layer_norm_epsilon=1e-12, dtype="mixed_bfloat16")
        block.build((batch, seq, hidden))
    finally:
        transformer_block_base.TransformerBlockBase._layer_norm = original
    trainable = [v.value for v in block.trainable_variables]
    non_trainable = [v.value for v in block.non_trainable_variables]

    def f(weights, x):
        y, _ = block.stateless_call(weights, non_trainable, x, training=True)
        return y

    return with_gradients(f), trainable


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch_size", type=int, default=256)
    parser.add_argument("--seq_length", type=int, default=128)
    parser.add_argument("--hidden_dim", type=int, default=768)
    args = parser.parse_args()
    n, d = args.batch_size * args.seq_length, args.hidden_dim
    print(f"devices: {jax.devices()}  keras {keras.__version__}  jax {jax.__version__}  "
          f"[{n}, {d}] bf16")
    key = jax.random.split(jax.random.PRNGKey(0), 5)
    x = jax.random.normal(key[0], (n, d), "float32").astype("bfloat16") * 2 + 1
    h = jax.random.normal(key[1], (n, d), "float32").astype("bfloat16")
    dy = jax.random.normal(key[2], (n, d), "float32").astype("bfloat16")
    gamma = 1 + 0.1 * jax.random.normal(key[3], (d,), "float32")
    beta = 0.1 * jax.random.normal(key[4], (d,), "float32")
    tensor_mb = n * d * 2 / 1e6

    rows = []

    def row(name, fn, call_args, passes):
        ms = timed(fn, call_args)
        gbps = passes * tensor_mb / ms if passes else float("nan")
        rows.append((name, ms, passes, gbps))

    row("copy y = 2x (fwd)", jax.jit(lambda x: x * 2), (x,), 2)
    row("copy y = 2x (fwd + bwd)", with_gradients(lambda x: x * 2), (dy, x), 4)
    for name, norm in (("keras", keras_ln), ("tfzoo", tfzoo_ln)):
        fwd = jax.jit(norm)
        row(f"LN {name} (fwd)", fwd, (x, gamma, beta), 2)
        row(f"LN {name} (fwd + bwd)", with_gradients(norm), (dy, x, gamma, beta), 5)
    for name, norm in (("keras", keras_ln), ("tfzoo", tfzoo_ln)):
        row(f"LN(dropout(h) + x) {name} (fwd + bwd)", with_gradients(residual(norm)),
            (dy, h, x, gamma, beta), 7)
    seq_dy = dy.reshape(args.batch_size, args.seq_length, d)
    seq_x = x.reshape(args.batch_size, args.seq_length, d)
    for name, cls in (("keras", keras.layers.LayerNormalization), ("tfzoo", LayerNormalization)):
        step, weights = block_step(cls, args.batch_size, args.seq_length, d)
        row(f"encoder block, {name} LN (fwd + bwd)", step, (seq_dy, weights, seq_x), 0)

    # Same values either way (bf16 outputs, float32 parameter gradients).
    a = with_gradients(keras_ln)(dy, x, gamma, beta)
    b = with_gradients(tfzoo_ln)(dy, x, gamma, beta)
    for label, u, v in zip(("y", "dx", "dgamma", "dbeta"), [a[0], *a[1]], [b[0], *b[1]]):
        u, v = np.asarray(u, "float32"), np.asarray(v, "float32")
        print(f"  {label}: relative difference {np.linalg.norm(u - v) / np.linalg.norm(u):.2e}")

    print(f"\n| case | ms | passes over [N, D] | GB/s at that count |\n|---|---:|---:|---:|")
    for name, ms, passes, gbps in rows:
        print(f"| {name} | {ms:.3f} | {passes or '-'} | {gbps:,.0f} |")


if __name__ == "__main__":
    main()
