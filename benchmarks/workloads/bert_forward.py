"""BERT-base inference latency: tfzoo, keras-hub and transformers (torch).

    python -m benchmarks.run --workload bert_forward --compare keras_hub,transformers
    python -m benchmarks.run --workload bert_forward --batch_sizes 1 --precision mixed_bfloat16

Same architecture (BERT-base: 12 layers, D=768, 12 heads, FFN 3072, exact
GELU), random weights (latency does not depend on them), random token ids of
length `--seq_length` with a full input mask; `training=False`. tfzoo and
keras-hub run through the same compiled forward step (`--no-jit` for plain
graphs); transformers runs `BertModel` in `torch.inference_mode` with SDPA
attention (bf16 autocast under `--precision mixed_bfloat16`, bf16 weights under
`--precision bfloat16`).
"""

import numpy as np

from benchmarks.timing import compiled_steps, time_fn

BERT_BASE = dict(vocabulary_size=30522, num_layers=12, num_heads=12, hidden_dim=768,
                 intermediate_dim=3072, max_sequence_length=512)


def add_arguments(parser):
    parser.add_argument("--batch_sizes", default="1,8", help="comma-separated batch sizes")
    parser.add_argument("--seq_length", type=int, default=128)


def _inputs(implementation, ids):
    ones, zeros = np.ones_like(ids), np.zeros_like(ids)
    if implementation == "tfzoo":
        return {"input_word_ids": ids, "input_mask": ones, "input_type_ids": zeros}
    return {"token_ids": ids, "padding_mask": ones, "segment_ids": zeros}


def _keras_forward(implementation, args):
    if implementation == "tfzoo":
        from tfzoo.models.bert import BertBackbone

        model = BertBackbone(**BERT_BASE)
    else:
        import keras_hub

        model = keras_hub.models.BertBackbone(**BERT_BASE)
    forward, _, block = compiled_steps(model, args.jit)
    return forward, block


def _torch_forward(args):
    import torch
    import transformers

    config = transformers.BertConfig(attn_implementation="sdpa")  # BERT-base defaults
    model = transformers.BertModel(config).eval()
    if args.precision == "bfloat16":  # bf16 weights and activations, as the Keras rows
        model = model.to(torch.bfloat16)
    bf16 = args.precision == "mixed_bfloat16"

    def forward(inputs):
        ids = torch.from_numpy(inputs["token_ids"].astype("int64"))
        with torch.inference_mode(), torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            return model(input_ids=ids, attention_mask=torch.ones_like(ids)).last_hidden_state

    return forward, lambda result: result.float().numpy()


def run(args, compare):
    batch_sizes = [int(b) for b in str(args.batch_sizes).split(",") if b]
    rows = []
    for implementation in ["tfzoo"] + list(compare):
        if implementation == "transformers":
            forward, block = _torch_forward(args)
        elif implementation in ("tfzoo", "keras_hub"):
            forward, block = _keras_forward(implementation, args)
        else:
            raise ValueError(f"bert_forward cannot compare against {implementation!r}")
        for batch in batch_sizes:
            ids = np.random.default_rng(batch).integers(
                1000, 30522, size=(batch, args.seq_length)).astype("int32")
            timing = time_fn(forward, block, _inputs(implementation, ids), args.warmup,
                             args.iterations)
            rows.append({"implementation": implementation, "mode": f"batch {batch}", **timing})
    return rows
