"""tfzoo's TransformerEncoderBlock against keras-hub's TransformerEncoder.

Same width, heads, FFN width, activation, dropout and LayerNorm placement;
each wrapped in a one-layer functional model and timed through the same
compiled forward and forward+backward steps.
"""

import keras
import numpy as np

from benchmarks.timing import compiled_steps, time_fn


def add_arguments(parser):
    parser.add_argument("--batch_size", type=int, default=8)
    parser.add_argument("--seq_length", type=int, default=128)
    parser.add_argument("--hidden_dim", type=int, default=768)
    parser.add_argument("--num_heads", type=int, default=12)
    parser.add_argument("--intermediate_dim", type=int, default=3072)
    parser.add_argument("--dropout", type=float, default=0.1)


def _build(implementation, args):
    common = dict(
        num_heads=args.num_heads,
        intermediate_dim=args.intermediate_dim,
        activation="gelu",
        dropout=args.dropout,
        layer_norm_epsilon=1e-12,
    )
    if implementation == "tfzoo":
        from tfzoo.layers import TransformerEncoderBlock

        block = TransformerEncoderBlock(**common)
    elif implementation == "keras_hub":
        import keras_hub

        block = keras_hub.layers.TransformerEncoder(**common)
    else:
        raise ValueError(f"encoder_block cannot compare against {implementation!r}")
    inputs = keras.Input((args.seq_length, args.hidden_dim), batch_size=args.batch_size)
    return keras.Model(inputs, block(inputs))


def run(args, compare):
    data = np.random.default_rng(0).normal(
        size=(args.batch_size, args.seq_length, args.hidden_dim)
    ).astype("float32")
    rows = []
    for implementation in ["tfzoo"] + list(compare):
        model = _build(implementation, args)
        forward, forward_backward, block = compiled_steps(model, args.jit)
        for mode, fn in (("forward", forward), ("forward+backward", forward_backward)):
            timing = time_fn(fn, block, data, args.warmup, args.iterations)
            rows.append({"implementation": implementation, "mode": mode, **timing})
    return rows
