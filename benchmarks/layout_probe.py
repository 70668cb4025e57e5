"""Which parts of BERT's training step make XLA keep activations transposed.

    XLA_FLAGS="--xla_dump_to=DUMP --xla_dump_hlo_as_text" \
        MODULE=benchmarks.layout_probe benchmarks/gpu.sh --variant base [--dump DUMP]

Builds tfzoo's BERT-base classifier as the train_step workload does, changes one
thing (`--variant`), times `fit` steps and, with `--dump`, counts the transposes
and transposing fusions in the optimized training step.
"""

import argparse
import pathlib
import re

import keras
from keras import ops

from benchmarks.workloads import train_step

VARIANTS = ("base", "nodrop", "ln_manual", "ln_reciprocal", "flat", "flat_ln_manual")


class ManualLayerNorm(keras.layers.LayerNormalization):
    """LayerNorm over the last axis, (x - mean) * rsqrt(var + eps) * gamma + beta in float32."""

    def call(self, x):
        x32 = ops.cast(x, "float32")
        mean = ops.mean(x32, axis=-1, keepdims=True)
        centred = x32 - mean
        variance = ops.mean(ops.square(centred), axis=-1, keepdims=True)
        y = centred * ops.rsqrt(variance + self.epsilon)
        y = y * ops.cast(self.gamma, "float32") + ops.cast(self.beta, "float32")
        return ops.cast(y, self.compute_dtype)


class ReciprocalLayerNorm(keras.layers.LayerNormalization):
    """The same, with means as sums times 1/n (the form XLA's cuDNN norm rewriter matches)."""

    def call(self, x):
        x32 = ops.cast(x, "float32")
        inverse_n = 1.0 / x.shape[-1]
        mean = ops.sum(x32, axis=-1, keepdims=True) * inverse_n
        centred = x32 - mean
        variance = ops.sum(centred * centred, axis=-1, keepdims=True) * inverse_n
        y = centred * ops.rsqrt(variance + self.epsilon) * ops.cast(self.gamma, "float32")
        return ops.cast(y + ops.cast(self.beta, "float32"), self.compute_dtype)


def apply(variant, args):
    if variant == "nodrop":
        args.dropout = 0.0
    if variant in ("ln_manual", "flat_ln_manual", "ln_reciprocal"):
        from tfzoo.layers import transformer_block_base

        norm = ReciprocalLayerNorm if variant == "ln_reciprocal" else ManualLayerNorm

        def layer_norm(self, name):
            return norm(epsilon=self.layer_norm_epsilon,
                                   dtype=self.dtype_policy, name=name)

        transformer_block_base.TransformerBlockBase._layer_norm = layer_norm
    if variant in ("flat", "flat_ln_manual"):
        from tfzoo.layers import row_products

        def flat(layer, inputs):
            axes = row_products._projection_axes(layer)
            return axes is not None and len(inputs.shape) >= axes[0] + 2

        row_products._flat = flat


def count(dump):
    modules = sorted(pathlib.Path(dump).glob("*after_optimizations.txt"),
                     key=lambda p: p.stat().st_size)
    text = modules[-1].read_text()
    return {"transpose ops": len(re.findall(r"= \S+ transpose\(", text)),
            "transpose fusions": len(re.findall(r"^\s+%\S*transpose\S* = ", text, re.M)),
            "cuDNN norms": len(re.findall(r"custom_call_target=\"__cudnn\$norm", text))}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--variant", choices=VARIANTS, default="base")
    parser.add_argument("--dump", default=None)
    train_step.add_arguments(parser)
    args = parser.parse_args()
    args.model, args.jit, args.precision = "bert", True, "mixed_bfloat16"
    keras.config.set_dtype_policy("mixed_bfloat16")
    apply(args.variant, args)
    run_steps = train_step._keras_step("tfzoo", args)
    seconds = train_step._time_steps(run_steps, args)
    line = f"{args.variant}: {seconds * 1e3:.1f} ms/step, {args.batch_size / seconds:,.0f} seq/s"
    if args.dump:
        line += f", {count(args.dump)}"
    print(line, flush=True)


if __name__ == "__main__":
    main()
