"""Does a decoding loop read bfloat16 weights as bfloat16? (GPT-2 decoding, item 7.)

    python -m benchmarks.row_bits_probe [--rows 1] [--steps 32] [--calls 10]

Times one step of a compiled `while` loop that multiplies `--rows` rows by
GPT-2 124M's twelve feed-forward networks (24 matrices, [out, in]) and, as a
second workload, by its 50,257 x 768 output table followed by an argmax, in
three forms:

- float32 matrices;
- bfloat16 matrices: XLA converts them to float32 for the product and, the
  matrices being loop-invariant, hoists that conversion out of the loop, so
  every step reads float32 copies;
- bfloat16 matrices kept as uint16 bits and reinterpreted in the step after an
  XOR with `row[0] != row[0]` (a zero XLA cannot prove), through
  `tfzoo.layers.row_products.store_matrix` / `load_matrix`, the functions
  decoding uses: the conversion stays fused into each step's product, which
  reads the bfloat16 bytes.

Prints milliseconds per step and the bytes a step would read at the matrices'
stored size; `--dump DIR` writes the optimized HLO, whose loop state shows
which form the matrices take inside the loop.
"""

import argparse
import pathlib
import time

import numpy as np
import tensorflow as tf

from tfzoo.layers.row_products import load_matrix, store_matrix

HIDDEN, INTERMEDIATE, LAYERS, VOCABULARY = 768, 3072, 12, 50257


def _matrices(workload, form, rng):
    if workload == "feed-forward":
        shapes = [(INTERMEDIATE, HIDDEN), (HIDDEN, INTERMEDIATE)] * LAYERS  # [out, in]
    else:
        shapes = [(VOCABULARY, HIDDEN)]
    matrices = [tf.constant(rng.standard_normal(s, dtype=np.float32) * 0.02) for s in shapes]
    if form == "float32":
        return matrices
    matrices = [tf.cast(m, tf.bfloat16) for m in matrices]
    return matrices if form == "bfloat16" else [store_matrix(m) for m in matrices]


def _product(rows, matrix):
    """rows [R, in] x matrix [out, in]^T, in the matrix's form."""
    matrix = load_matrix(matrix, rows)  # bits -> bfloat16 in the step; others as they are
    return tf.cast(tf.matmul(tf.cast(rows, matrix.dtype), matrix, transpose_b=True),
                   tf.float32)


def _step(workload, rows, matrices):
    if workload == "feed-forward":
        for first, second in zip(matrices[::2], matrices[1::2]):
            rows = rows + _product(tf.nn.relu(_product(rows, first)), second)
        return rows
    tokens = tf.argmax(_product(rows, matrices[0]), axis=-1, output_type=tf.int32)
    return rows + 1e-9 * tf.cast(tokens, tf.float32)[:, None]


def time_step(workload, form, rows, steps, calls, dump=None):
    rng = np.random.default_rng(0)
    matrices = _matrices(workload, form, rng)

    @tf.function(jit_compile=True)
    def loop(x, *matrices):
        body = lambda i, x: (i + 1, _step(workload, x, matrices))  # noqa: E731
        return tf.while_loop(lambda i, x: i < steps, body, (0, x))[1]

    x = tf.constant(rng.standard_normal((rows, HIDDEN), dtype=np.float32) * 0.01)
    loop(x, *matrices).numpy()
    if dump:
        name = f"{workload}_{form}_{rows}".replace(" ", "_")
        path = pathlib.Path(dump) / f"{name}.hlo.txt"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(loop.experimental_get_compiler_ir(x, *matrices)(stage="optimized_hlo"))
    times = []
    for _ in range(calls):
        start = time.perf_counter()
        loop(x, *matrices).numpy()
        times.append(time.perf_counter() - start)
    stored = sum(int(np.prod(m.shape)) * m.dtype.size for m in matrices)
    return float(np.median(times)) / steps * 1e3, stored


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1)
    parser.add_argument("--steps", type=int, default=32)
    parser.add_argument("--calls", type=int, default=10)
    parser.add_argument("--dump", default=None, help="directory for the optimized HLO")
    args = parser.parse_args(argv)
    print("| workload | form | rows | ms / step | MB stored | GB/s at stored size |")
    print("|---|---|---:|---:|---:|---:|")
    for workload in ("feed-forward", "output table"):
        for form in ("float32", "bfloat16", "bfloat16 bits"):
            ms, stored = time_step(workload, form, args.rows, args.steps, args.calls,
                                   args.dump)
            print(f"| {workload} | {form} | {args.rows} | {ms:.2f} | {stored / 1e6:.0f} "
                  f"| {stored / ms / 1e6:.1f} |", flush=True)


if __name__ == "__main__":
    main()
