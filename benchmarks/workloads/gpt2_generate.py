"""Greedy generation with GPT-2 124M: tfzoo, keras-hub and transformers.

All three load the same weights: a seeded random GPT-2 made with transformers
and written with `save_pretrained`, read by `GPTCausalLM.from_pretrained` and
copied into a keras-hub `GPT2Backbone` by `load_keras_hub_weights`. Before any
timing, each implementation continues the first prompt and the run stops
unless all three chose the same tokens: that checks the weights and the
decoding, not only the shapes.

Every call decodes exactly `new_tokens` tokens per row (no stop tokens),
greedily, from the same random prompt ids, with a key/value cache; the clock
runs from the call to numpy results in hand. Throughput is
batch * new_tokens / median seconds per call.
"""

import re
import statistics
import tempfile
import time

import numpy as np

IMPLEMENTATIONS = ("tfzoo", "tfzoo_graph", "keras_hub", "keras_hub_default", "transformers")

TABLE_COLUMNS = (
    ("implementation", "{implementation}", "left"),
    ("batch", "{batch_size}", "right"),
    ("median s / call", "{median_s:.2f}", "right"),
    ("p10-p90 s", "{p10_s:.2f}-{p90_s:.2f}", "right"),
    ("tokens/s", "{tokens_per_s:.1f}", "right"),
    ("tfzoo / this", "{tfzoo_speedup:.2f}", "right"),
    ("rows equal to tfzoo's", "{rows_equal_to_tfzoo}", "right"),
)


def add_arguments(parser):
    parser.add_argument("--batch_sizes", default="1,8",
                        help="comma-separated batch sizes")
    parser.add_argument("--prompt_length", type=int, default=32)
    parser.add_argument("--new_tokens", type=int, default=128)
    parser.add_argument("--num_layers", type=int, default=12,
                        help="GPT-2 124M has 12; fewer for a quick check of the harness")
    parser.add_argument("--seed", type=int, default=0)
    # A call takes seconds, not milliseconds: fewer repetitions than the default.
    parser.set_defaults(warmup=1, iterations=5)


# === Weights shared by all three ===

def _reference_checkpoint(directory, num_layers, seed):
    """A random GPT-2 (124M with GPT2Config's defaults) saved with transformers."""
    import torch
    import transformers

    torch.manual_seed(seed)
    config = transformers.GPT2Config(n_layer=num_layers)
    model = transformers.GPT2LMHeadModel(config).eval()
    model.save_pretrained(directory)
    state = {name: tensor.detach().numpy() for name, tensor in model.state_dict().items()}
    return config, state


def load_keras_hub_weights(backbone, state):
    """Copies a Hugging Face GPT-2 state dict into a keras-hub `GPT2Backbone`.

    HF stores kernels as [in, out] ("Conv1D") and fuses query, key and value in
    `c_attn` [D, 3D]; keras-hub keeps them as separate [D, H, K] kernels and
    the output projection as [H, K, D].
    """
    heads = backbone.num_heads
    width = backbone.hidden_dim
    head_width = width // heads
    used = set()

    def take(name):
        used.add(name)
        return state[name]

    def attention(layer, part, kind):
        fused = take(f"transformer.h.{layer}.attn.c_attn.{kind}")
        third = fused[..., part * width:(part + 1) * width]
        return third.reshape(third.shape[:-1] + (heads, head_width))

    layer_names = {
        "self_attention_layer_norm/gamma": "ln_1.weight",
        "self_attention_layer_norm/beta": "ln_1.bias",
        "self_attention/attention_output/bias": "attn.c_proj.bias",
        "feedforward_layer_norm/gamma": "ln_2.weight",
        "feedforward_layer_norm/beta": "ln_2.bias",
        "feedforward_intermediate_dense/kernel": "mlp.c_fc.weight",
        "feedforward_intermediate_dense/bias": "mlp.c_fc.bias",
        "feedforward_output_dense/kernel": "mlp.c_proj.weight",
        "feedforward_output_dense/bias": "mlp.c_proj.bias",
    }
    top_names = {
        "token_embedding/embeddings": "transformer.wte.weight",
        "position_embedding/embeddings": "transformer.wpe.weight",
        "layer_norm/gamma": "transformer.ln_f.weight",
        "layer_norm/beta": "transformer.ln_f.bias",
    }
    for weight in backbone.weights:
        path = weight.path
        match = re.fullmatch(r"transformer_layer_(\d+)/(.+)", path)
        if match is None:
            if path not in top_names:
                raise ValueError(f"No GPT-2 source for keras-hub weight {path!r}")
            value = take(top_names[path])
        else:
            layer, rest = int(match.group(1)), match.group(2)
            qkv = re.fullmatch(r"self_attention/(query|key|value)/(kernel|bias)", rest)
            if qkv:
                part = ("query", "key", "value").index(qkv.group(1))
                value = attention(layer, part, "weight" if qkv.group(2) == "kernel" else "bias")
            elif rest == "self_attention/attention_output/kernel":
                value = take(f"transformer.h.{layer}.attn.c_proj.weight").reshape(
                    heads, head_width, width)
            elif rest in layer_names:
                value = take(f"transformer.h.{layer}.{layer_names[rest]}")
            else:
                raise ValueError(f"No GPT-2 source for keras-hub weight {path!r}")
        if tuple(weight.shape) != value.shape:
            raise ValueError(f"Shape mismatch for {path!r}: keras-hub {tuple(weight.shape)}, "
                             f"from the checkpoint {value.shape}")
        weight.assign(value)
    unused = set(state) - used - {"lm_head.weight"}  # lm_head is tied to wte
    if unused:
        raise ValueError(f"GPT-2 tensors not copied into keras-hub: {sorted(unused)[:5]}")


# === One generate function per implementation: int [B, P] -> int [B, N] numpy ===

def _tfzoo(directory, args, jit_compile=True):
    from tfzoo.models.gpt import GPTCausalLM

    model = GPTCausalLM.from_pretrained(directory)

    def generate(prompts):
        rows = model.generate(prompts.tolist(), max_new_tokens=args.new_tokens,
                              stop_token_ids=[], jit_compile=jit_compile)
        return np.array([row[prompts.shape[1]:] for row in rows])

    return generate


def _keras_hub(directory, args, config, state, jit_compile):
    import keras_hub

    backbone = keras_hub.models.GPT2Backbone(
        vocabulary_size=config.vocab_size, num_layers=config.n_layer,
        num_heads=config.n_head, hidden_dim=config.n_embd,
        intermediate_dim=4 * config.n_embd, max_sequence_length=config.n_positions)
    load_keras_hub_weights(backbone, state)
    model = keras_hub.models.GPT2CausalLM(backbone=backbone, preprocessor=None)
    # "keras_hub" compiles with XLA, as tfzoo's generate always does;
    # "keras_hub_default" keeps compile()'s jit_compile="auto", which leaves
    # XLA off on a CPU-only machine: what a keras-hub user gets there.
    model.compile(sampler="greedy", jit_compile=jit_compile)

    def generate(prompts):
        batch, prompt_length = prompts.shape
        total = prompt_length + args.new_tokens
        token_ids = np.zeros((batch, total), "int32")
        token_ids[:, :prompt_length] = prompts
        padding_mask = np.zeros((batch, total), bool)
        padding_mask[:, :prompt_length] = True
        outputs = model.generate({"token_ids": token_ids, "padding_mask": padding_mask},
                                 stop_token_ids=None)
        return np.asarray(outputs["token_ids"])[:, prompt_length:]

    return generate


def _transformers(directory, args):
    import torch
    import transformers

    model = transformers.GPT2LMHeadModel.from_pretrained(directory).eval()
    if args.precision == "bfloat16":
        model = model.to(torch.bfloat16)
    # No end-of-text stop: every row decodes exactly new_tokens tokens, as the others do.
    # (min_new_tokens would instead forbid token 50256 and change greedy choices.)
    model.generation_config.eos_token_id = None
    model.generation_config.pad_token_id = 0

    def generate(prompts):
        ids = torch.from_numpy(prompts.astype("int64"))
        with torch.inference_mode():
            outputs = model.generate(ids, attention_mask=torch.ones_like(ids),
                                     do_sample=False, max_new_tokens=args.new_tokens,
                                     use_cache=True)
        return outputs[:, prompts.shape[1]:].numpy()

    return generate


def _build(implementation, directory, args, config, state):
    if implementation == "tfzoo":
        return _tfzoo(directory, args)
    if implementation == "tfzoo_graph":  # TensorFlow: a plain graph instead of XLA
        return _tfzoo(directory, args, jit_compile=False)
    if implementation == "keras_hub":
        return _keras_hub(directory, args, config, state, args.jit)
    if implementation == "keras_hub_default":
        return _keras_hub(directory, args, config, state, "auto")
    if implementation == "transformers":
        return _transformers(directory, args)
    raise ValueError(f"gpt2_generate cannot compare against {implementation!r}; "
                     f"choose from {IMPLEMENTATIONS[1:]}")


def _check_same_tokens(first_prompt_tokens, new_tokens):
    reference = first_prompt_tokens["tfzoo"]
    for implementation, tokens in first_prompt_tokens.items():
        if tokens.shape != (1, new_tokens):
            raise RuntimeError(f"{implementation} returned {tokens.shape[1]} new tokens for "
                               f"the first prompt, expected {new_tokens}.")
        differ = np.flatnonzero(tokens[0] != reference[0])
        if differ.size:
            at = int(differ[0])
            raise RuntimeError(
                f"{implementation} and tfzoo chose different greedy tokens for the first "
                f"prompt from new token {at} on ({tokens[0, at:at + 5].tolist()} vs "
                f"{reference[0, at:at + 5].tolist()}): the weights or the decoding differ.")


def _time(generators, prompts, warmup, iterations):
    """Median and spread of wall-clock seconds per call, for each implementation.

    The timed calls take turns (one call of each implementation per round), so
    a change in machine load during the run falls on all of them alike.
    """
    outputs = {}
    for name, generate in generators.items():
        for _ in range(warmup):
            outputs[name] = generate(prompts)
    times = {name: [] for name in generators}
    for _ in range(iterations):
        for name, generate in generators.items():
            start = time.perf_counter()
            outputs[name] = generate(prompts)  # numpy: the work has finished
            times[name].append(time.perf_counter() - start)
    timings = {
        name: {
            "median_s": statistics.median(seconds),
            "p10_s": float(np.percentile(seconds, 10)),
            "p90_s": float(np.percentile(seconds, 90)),
        }
        for name, seconds in times.items()
    }
    return outputs, timings


def run(args, compare):
    batch_sizes = [int(b) for b in str(args.batch_sizes).split(",") if b]
    implementations = ["tfzoo"] + [c for c in compare if c != "tfzoo"]
    with tempfile.TemporaryDirectory() as directory:
        config, state = _reference_checkpoint(directory, args.num_layers, args.seed)
        prompts = np.random.default_rng(args.seed).integers(
            0, config.vocab_size, size=(max(batch_sizes), args.prompt_length)).astype("int32")
        generators = {name: _build(name, directory, args, config, state)
                      for name in implementations}
    del state

    # Also compiles each implementation for batch 1.
    first = {name: generate(prompts[:1]) for name, generate in generators.items()}
    if args.precision == "float32":
        _check_same_tokens(first, args.new_tokens)
    # In bfloat16 each implementation rounds differently and greedy choices
    # between near-tied logits may part: the last column reports it.

    rows = []
    for batch in batch_sizes:
        outputs, timings = _time(generators, prompts[:batch], args.warmup, args.iterations)
        tfzoo_seconds = timings["tfzoo"]["median_s"]
        for name, timing in timings.items():
            same = np.all(outputs[name] == outputs["tfzoo"], axis=1)
            rows.append({
                "implementation": name, "batch_size": batch,
                "prompt_length": args.prompt_length, "new_tokens": args.new_tokens,
                **timing,
                "tokens_per_s": batch * args.new_tokens / timing["median_s"],
                "tfzoo_speedup": timing["median_s"] / tfzoo_seconds,
                "rows_equal_to_tfzoo": f"{int(same.sum())}/{batch}",
            })
    return rows
