"""Training throughput: BERT-base (classifier) and GPT-2 (causal LM), one step at a time.

    KERAS_BACKEND=jax python -m benchmarks.run --workload train_step --model bert \
        --precision mixed_bfloat16 --batch_size 256 --seq_length 128 --compare keras_hub,transformers
    KERAS_BACKEND=jax python -m benchmarks.run --workload train_step --model gpt2 \
        --precision mixed_bfloat16 --batch_size 16 --seq_length 1024 --compare keras_hub,transformers

tfzoo and keras-hub run through the same Keras `model.fit` (XLA-compiled
train step, AdamW, the same loss, no callbacks), as users train: the step
time is the wall time of a `fit` over `--steps` batches divided by the steps,
after a first `fit` that compiles (batches from a tf.data pipeline without
autotuning under TensorFlow: see `_fit_arguments`). transformers runs its own PyTorch loop with
SDPA attention (bf16 autocast under `--precision mixed_bfloat16`), timed
the same way (one host sync at the end). Inputs are random token ids without padding; the input mask is passed
all ones, so the masked attention path is the one measured.
`--profile DIR` (JAX) writes a profiler trace of the timed steps.

MFU = achieved FLOP/s / peak (989 TFLOP/s: H100 dense bf16), with training
FLOPs per token = 6 N + 12 L T d for BERT (bidirectional attention) and
6 N + 6 L T d for GPT-2 (causal, as llm.c counts), N = the parameters that
take part in matrix products: everything but the embedding tables, plus the
tied token embedding for GPT-2 because it is also the output projection.
"""

import time

import keras
import numpy as np

PEAK_FLOPS = 989e12
TABLE_COLUMNS = (
    ("implementation", "{implementation}", "left"),
    ("step ms", "{step_ms:.1f}", "right"),
    ("sequences/s", "{sequences_per_s:,.0f}", "right"),
    ("tokens/s", "{tokens_per_s:,.0f}", "right"),
    ("MFU %", "{mfu:.1f}", "right"),
    ("tfzoo / row", "{tfzoo_ratio:.2f}", "right"),
)
SIZES = {  # BERT-base / GPT-2 124M
    "bert": dict(vocabulary_size=30522, num_layers=12, num_heads=12, hidden_dim=768,
                 intermediate_dim=3072, max_sequence_length=512),
    "gpt2": dict(vocabulary_size=50257, num_layers=12, num_heads=12, hidden_dim=768,
                 intermediate_dim=3072, max_sequence_length=1024),
}


def add_arguments(parser):
    parser.add_argument("--model", choices=sorted(SIZES), default="bert")
    parser.add_argument("--batch_size", type=int, default=256)
    parser.add_argument("--seq_length", type=int, default=128)
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--dropout", type=float, default=0.1,
                        help="hidden dropout of tfzoo and keras-hub (diagnostics)")
    parser.add_argument("--attention_dropout", type=float, default=0.0,
                        help="tfzoo's attention dropout (0: the fused attention kernel)")
    parser.add_argument("--num_layers", type=int, default=None, help="override (smoke tests)")
    parser.add_argument("--hidden_dim", type=int, default=None, help="override (smoke tests)")
    parser.add_argument("--profile", default=None,
                        help="directory for a JAX profiler trace of tfzoo's timed steps")


def _sizes(args):
    sizes = dict(SIZES[args.model])
    if args.num_layers:
        sizes["num_layers"] = args.num_layers
    if args.hidden_dim:
        sizes.update(hidden_dim=args.hidden_dim, intermediate_dim=4 * args.hidden_dim,
                     num_heads=max(args.hidden_dim // 64, 1))
    return sizes


def flops_per_token(args):
    s = _sizes(args)
    d, layers, t = s["hidden_dim"], s["num_layers"], args.seq_length
    per_layer = 4 * d * d + 2 * d * s["intermediate_dim"]  # attention + feed-forward matmuls
    n = layers * per_layer
    if args.model == "gpt2":
        n += s["vocabulary_size"] * d  # the tied output projection
        return 6 * n + 6 * layers * t * d
    return 6 * n + 12 * layers * t * d


def _batch(args):
    rng = np.random.default_rng(0)
    vocabulary = _sizes(args)["vocabulary_size"]
    ids = rng.integers(1000, vocabulary, size=(args.batch_size, args.seq_length)).astype("int32")
    return ids


def _time_steps(run_steps, args, profile_dir=None):
    """Seconds per step: `run_steps(n)` runs n steps and returns once they finished."""
    run_steps(3)  # compile and warm up
    if profile_dir:
        import jax

        with jax.profiler.trace(profile_dir, create_perfetto_trace=True):
            run_steps(min(args.steps, 5))
    started = time.perf_counter()
    run_steps(args.steps)
    return (time.perf_counter() - started) / args.steps


def _keras_model(implementation, args):
    s = _sizes(args)
    if args.model == "bert":
        if implementation == "tfzoo":
            from tfzoo.models.bert import BertBackbone, BertClassifier

            backbone = BertBackbone(**s, dropout=args.dropout,
                                    attention_dropout=args.attention_dropout)
            return BertClassifier(backbone, num_classes=2)
        import keras_hub

        backbone = keras_hub.models.BertBackbone(
            vocabulary_size=s["vocabulary_size"], num_layers=s["num_layers"],
            num_heads=s["num_heads"], hidden_dim=s["hidden_dim"],
            intermediate_dim=s["intermediate_dim"], max_sequence_length=s["max_sequence_length"],
            dropout=args.dropout)
        return keras_hub.models.BertTextClassifier(backbone, num_classes=2, preprocessor=None,
                                                   dropout=args.dropout)
    if implementation == "tfzoo":
        from tfzoo.models.gpt import GPTBackbone, GPTCausalLM

        backbone = GPTBackbone(**s, dropout=args.dropout,
                               attention_dropout=args.attention_dropout)
        return GPTCausalLM(backbone)
    import keras_hub

    backbone = keras_hub.models.GPT2Backbone(
        vocabulary_size=s["vocabulary_size"], num_layers=s["num_layers"],
        num_heads=s["num_heads"], hidden_dim=s["hidden_dim"],
        intermediate_dim=s["intermediate_dim"], max_sequence_length=s["max_sequence_length"],
        dropout=args.dropout)
    return keras_hub.models.GPT2CausalLM(backbone, preprocessor=None)


def _fit_arguments(x, y, steps, batch_size):
    """`fit` arguments for `steps` copies of the batch.

    Under TensorFlow, a tf.data pipeline with autotuning off: with it on, on
    a 2-core host, some `fit` calls run every step at ~1.65x the time (BERT-base
    batch 8: 2,560 vs 1,540 ms, from one call to the next in one process)
    while the tuner's thread shares the cores with XLA's; which calls do is
    random. Under JAX, numpy arrays (the GPU machine has no TensorFlow).
    """
    if keras.backend.backend() != "tensorflow":
        tile = lambda a: np.concatenate([a] * steps)  # noqa: E731
        return dict(x={k: tile(v) for k, v in x.items()}, y=tile(y), batch_size=batch_size)
    import tensorflow as tf

    from tfzoo.training.trainer import with_autotune

    return dict(x=with_autotune(tf.data.Dataset.from_tensors((x, y)).repeat(steps), False))


def _keras_step(implementation, args):
    model = _keras_model(implementation, args)
    ids = _batch(args)
    loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    model.compile(optimizer=keras.optimizers.AdamW(1e-4), loss=loss, jit_compile=args.jit)
    if args.model == "bert":
        if implementation == "tfzoo":
            x = {"input_word_ids": ids, "input_mask": np.ones_like(ids),
                 "input_type_ids": np.zeros_like(ids)}
        else:
            x = {"token_ids": ids, "padding_mask": np.ones_like(ids),
                 "segment_ids": np.zeros_like(ids)}
        y = np.random.default_rng(1).integers(0, 2, size=len(ids))
    else:
        key = "input_word_ids" if implementation == "tfzoo" else "token_ids"
        mask = "input_mask" if implementation == "tfzoo" else "padding_mask"
        x = {key: ids, mask: np.ones_like(ids)}
        y = np.roll(ids, -1, axis=1)

    def run_steps(steps):
        # keras.Model.fit itself: keras-hub's Task.fit would route numpy inputs
        # through its preprocessing pipeline (grain or tf.data), even with no
        # preprocessor, and neither is on the GPU machine.
        keras.Model.fit(model, **_fit_arguments(x, y, steps, args.batch_size), epochs=1,
                        shuffle=False, verbose=0)  # syncs the weights at the end

    return run_steps


def _torch_step(args):
    import torch
    import transformers

    s = _sizes(args)
    device = "cuda" if torch.cuda.is_available() else "cpu"
    if args.model == "bert":
        config = transformers.BertConfig(
            vocab_size=s["vocabulary_size"], hidden_size=s["hidden_dim"],
            num_hidden_layers=s["num_layers"], num_attention_heads=s["num_heads"],
            intermediate_size=s["intermediate_dim"], num_labels=2, attn_implementation="sdpa")
        model = transformers.BertForSequenceClassification(config)
    else:
        config = transformers.GPT2Config(
            vocab_size=s["vocabulary_size"], n_positions=s["max_sequence_length"],
            n_embd=s["hidden_dim"], n_layer=s["num_layers"], n_head=s["num_heads"],
            attn_implementation="sdpa")
        model = transformers.GPT2LMHeadModel(config)
    model.to(device).train()
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-4)
    ids = torch.tensor(_batch(args), dtype=torch.long, device=device)
    labels = (torch.randint(0, 2, (len(ids),), device=device) if args.model == "bert"
              else ids)

    bf16 = args.precision == "mixed_bfloat16"

    def run_steps(steps):
        for _ in range(steps):
            with torch.autocast(device, dtype=torch.bfloat16, enabled=bf16):
                loss = model(input_ids=ids, labels=labels).loss
            loss.backward()
            optimizer.step()
            optimizer.zero_grad(set_to_none=True)
        loss.item()  # waits for the last step

    return run_steps


def run(args, compare):
    tokens = args.batch_size * args.seq_length
    flops = flops_per_token(args) * tokens
    rows = []
    for implementation in ["tfzoo"] + list(compare):
        run_steps = _torch_step(args) if implementation == "transformers" else _keras_step(
            implementation, args)
        profile = args.profile if implementation == "tfzoo" else None
        seconds = _time_steps(run_steps, args, profile)
        rows.append({
            "implementation": implementation,
            "step_ms": seconds * 1000.0,
            "sequences_per_s": args.batch_size / seconds,
            "tokens_per_s": tokens / seconds,
            "mfu": 100.0 * flops / seconds / PEAK_FLOPS,
        })
    for row in rows:  # tfzoo's throughput over this row's: above 1, tfzoo is faster
        row["tfzoo_ratio"] = rows[0]["tokens_per_s"] / row["tokens_per_s"]
    return rows
