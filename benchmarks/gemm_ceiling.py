"""How fast can this CPU multiply BERT-base's matrices? A floor for the CPU targets.

    python -m benchmarks.gemm_ceiling [--tokens 1024] [--iterations 20]

Times TensorFlow float32 matrix products of the shapes in a BERT-base layer
for `--tokens` rows (batch 8 x sequence 128 by default), XLA-compiled and as
a plain graph (oneDNN), and prints GFLOP/s per shape. A forward pass costs
2 N + 4 L T d FLOPs per token (N = 85M weights in the layers' matrices,
attention's two products over T positions), a training step three times
that; divided by the best rate, that is the shortest step any implementation
of the same arithmetic can take on this machine, printed for BERT-base
forward and training at `--tokens`.
"""

import argparse
import time

import numpy as np
import tensorflow as tf

HIDDEN, INTERMEDIATE, LAYERS = 768, 3072, 12


def shapes(tokens):
    """(rows, inner, columns) of the products in a layer's forward pass."""
    return {
        "q/k/v/output projections": (tokens, HIDDEN, HIDDEN),
        "feed-forward in": (tokens, HIDDEN, INTERMEDIATE),
        "feed-forward out": (tokens, INTERMEDIATE, HIDDEN),
    }


def gflops(m, k, n, jit_compile, iterations):
    a, b = tf.random.normal((m, k)), tf.random.normal((k, n))
    matmul = tf.function(tf.matmul, jit_compile=jit_compile)
    for _ in range(3):
        matmul(a, b).numpy()
    times = []
    for _ in range(iterations):
        start = time.perf_counter()
        matmul(a, b).numpy()
        times.append(time.perf_counter() - start)
    return 2 * m * k * n / float(np.median(times)) / 1e9


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tokens", type=int, default=1024)
    parser.add_argument("--sequence_length", type=int, default=128)
    parser.add_argument("--iterations", type=int, default=20)
    args = parser.parse_args(argv)
    print("| product | m x k x n | XLA GFLOP/s | plain graph GFLOP/s |")
    print("|---|---|---:|---:|")
    best = 0.0
    for name, (m, k, n) in shapes(args.tokens).items():
        xla = gflops(m, k, n, True, args.iterations)
        graph = gflops(m, k, n, False, args.iterations)
        best = max(best, xla, graph)
        print(f"| {name} | {m} x {k} x {n} | {xla:.0f} | {graph:.0f} |")
    per_layer = 4 * HIDDEN * HIDDEN + 2 * HIDDEN * INTERMEDIATE
    attention = 2 * args.sequence_length * HIDDEN  # QK^T and PV per token per layer
    forward = 2 * LAYERS * (per_layer + attention) * args.tokens
    print(f"\nbest rate {best:.0f} GFLOP/s; matrix-product floor at {args.tokens} tokens: "
          f"forward {forward / best / 1e6:.0f} ms, training step "
          f"{3 * forward / best / 1e6:.0f} ms")


if __name__ == "__main__":
    main()
