"""Checkpoint conversion for GPT and GPT-2.

Formats: Hugging Face `gpt2` and `openai-gpt` directories, and OpenAI's
original GPT-2 release (`hparams.json` + `model.ckpt.*`). All three store the
attention input projection as one fused `c_attn` matrix [D, 3D] (query, key,
value side by side) in [in, out] layout (a "Conv1D"), so no transposes, only
splits; OpenAI's TF checkpoint adds a leading axis of 1 to every kernel.
"""

import functools

from tfzoo.checkpoints.mapping import (
    Rule,
    heads_output_shape,
    identity,
    same_shape,
)

_LAYER = r"transformer_layer_(?P<layer>\d+)"


def _third(array, part):
    """Query (0), key (1) or value (2) columns of a fused [.., 3D] c_attn array."""
    if array.shape[-1] % 3:
        raise ValueError(f"a fused query/key/value array needs a last axis of 3 x the "
                         f"width; {array.shape[-1]} is not a multiple of 3")
    width = array.shape[-1] // 3
    return array[..., part * width:(part + 1) * width]


def _squeezed(transform):
    """OpenAI's TF kernels are [1, in, out]."""
    return lambda array: transform(array[0] if array.ndim == 3 else array)


def _table(naming):
    """(tfzoo path, source name, transform, source shape) rows for one naming scheme."""
    n = naming
    rows = [
        ("embeddings/token_embedding/embeddings", n["wte"], identity, same_shape),
        ("embeddings/position_embedding/embeddings", n["wpe"], identity, same_shape),
    ]
    for part, name in enumerate(("query", "key", "value")):
        split = functools.partial(_third, part=part)
        rows.append((f"{_LAYER}/self_attention/{name}/kernel", n["c_attn_w"], split,
                     same_shape))
        rows.append((f"{_LAYER}/self_attention/{name}/bias", n["c_attn_b"], split,
                     same_shape))
    rows += [
        (f"{_LAYER}/self_attention/attention_output/kernel", n["c_proj_w"], identity,
         heads_output_shape),
        (f"{_LAYER}/self_attention/attention_output/bias", n["c_proj_b"], identity, same_shape),
        (f"{_LAYER}/self_attention_layer_norm/gamma", n["ln_1_g"], identity, same_shape),
        (f"{_LAYER}/self_attention_layer_norm/beta", n["ln_1_b"], identity, same_shape),
        (f"{_LAYER}/feed_forward/intermediate_dense/kernel", n["c_fc_w"], identity, same_shape),
        (f"{_LAYER}/feed_forward/intermediate_dense/bias", n["c_fc_b"], identity, same_shape),
        (f"{_LAYER}/feed_forward/output_dense/kernel", n["mlp_proj_w"], identity, same_shape),
        (f"{_LAYER}/feed_forward/output_dense/bias", n["mlp_proj_b"], identity, same_shape),
        (f"{_LAYER}/feed_forward_layer_norm/gamma", n["ln_2_g"], identity, same_shape),
        (f"{_LAYER}/feed_forward_layer_norm/beta", n["ln_2_b"], identity, same_shape),
    ]
    if "ln_f_g" in n:
        rows += [("final_layer_norm/gamma", n["ln_f_g"], identity, same_shape),
                 ("final_layer_norm/beta", n["ln_f_b"], identity, same_shape)]
    return rows


def _hf_naming(block_prefix, wte, wpe, final_norm):
    b = block_prefix + ".{layer}."
    naming = {
        "wte": wte, "wpe": wpe,
        "c_attn_w": b + "attn.c_attn.weight", "c_attn_b": b + "attn.c_attn.bias",
        "c_proj_w": b + "attn.c_proj.weight", "c_proj_b": b + "attn.c_proj.bias",
        "ln_1_g": b + "ln_1.weight", "ln_1_b": b + "ln_1.bias",
        "c_fc_w": b + "mlp.c_fc.weight", "c_fc_b": b + "mlp.c_fc.bias",
        "mlp_proj_w": b + "mlp.c_proj.weight", "mlp_proj_b": b + "mlp.c_proj.bias",
        "ln_2_g": b + "ln_2.weight", "ln_2_b": b + "ln_2.bias",
    }
    if final_norm:
        naming.update(ln_f_g="ln_f.weight", ln_f_b="ln_f.bias")
    return naming


_OPENAI_TF = {
    "wte": "model/wte", "wpe": "model/wpe",
    "c_attn_w": "model/h{layer}/attn/c_attn/w", "c_attn_b": "model/h{layer}/attn/c_attn/b",
    "c_proj_w": "model/h{layer}/attn/c_proj/w", "c_proj_b": "model/h{layer}/attn/c_proj/b",
    "ln_1_g": "model/h{layer}/ln_1/g", "ln_1_b": "model/h{layer}/ln_1/b",
    "c_fc_w": "model/h{layer}/mlp/c_fc/w", "c_fc_b": "model/h{layer}/mlp/c_fc/b",
    "mlp_proj_w": "model/h{layer}/mlp/c_proj/w", "mlp_proj_b": "model/h{layer}/mlp/c_proj/b",
    "ln_2_g": "model/h{layer}/ln_2/g", "ln_2_b": "model/h{layer}/ln_2/b",
    "ln_f_g": "model/ln_f/g", "ln_f_b": "model/ln_f/b",
}

# transformers' names -> tfzoo's. GPT-2 reads them through ACT2FN ("gelu" is the
# exact GELU); openai-gpt through its own table, where "gelu" is the tanh form.
_ACTIVATIONS = {"gelu_new": "gelu_approximate", "gelu_pytorch_tanh": "gelu_approximate",
                "gelu_fast": "gelu_approximate", "gelu": "gelu", "relu": "relu"}
_OPENAI_ACTIVATIONS = {"gelu": "gelu_approximate", "relu": "relu", "silu": "silu",
                       "swish": "silu"}


def _activation(name, gpt2=True):
    table = _ACTIVATIONS if gpt2 else _OPENAI_ACTIVATIONS
    key = "activation_function" if gpt2 else "afn"
    if name not in table:
        raise ValueError(f"Unsupported {key} {name!r}; tfzoo knows {sorted(table)}.")
    return table[name]


# transformers' GPT-2 / GPT settings that tfzoo's models fix: a checkpoint that
# changes one would load but compute something else.
_FIXED_SETTINGS = (
    ("tie_word_embeddings", True, "the output projection is the token embedding; an "
     "lm_head.weight of its own would be ignored"),
    ("scale_attn_weights", True, "attention scores are divided by sqrt(head width)"),
    ("scale_attn_by_inverse_layer_idx", False, "no extra 1 / (layer + 1) score scaling"),
    ("add_cross_attention", False, "decoder-only blocks, no cross-attention"),
)


class GPTConverter:
    """Converter for GPTBackbone: gpt2 / openai-gpt (Hugging Face), OpenAI GPT-2 TF."""

    # Causal-mask buffers of older transformers versions, and the tied output layer.
    ignore = (r"\.attn\.bias$", r"\.attn\.masked_bias$", r"lm_head\.weight$", r"position_ids$")
    optional = ()
    model_types = ("gpt2", "openai-gpt")

    def _model_type(self, checkpoint_format, config):
        if checkpoint_format == "openai_gpt2":
            return "gpt2"
        if checkpoint_format != "huggingface":
            raise ValueError(f"GPT models cannot load {checkpoint_format} checkpoints.")
        model_type = config.get("model_type")
        if model_type not in self.model_types:
            raise ValueError(f"Unknown model_type {model_type!r} for a GPT model; "
                             f"expected one of {self.model_types}.")
        return model_type

    def kwargs_from_config(self, checkpoint_format, config, model_class):
        model_type = self._model_type(checkpoint_format, config)
        if checkpoint_format == "openai_gpt2":
            d = config["n_embd"]
            return {"vocabulary_size": config["n_vocab"], "num_layers": config["n_layer"],
                    "num_heads": config["n_head"], "hidden_dim": d, "intermediate_dim": 4 * d,
                    "max_sequence_length": config["n_ctx"], "normalize_first": True,
                    "activation": "gelu_approximate", "layer_norm_epsilon": 1e-5}
        for key, supported, meaning in _FIXED_SETTINGS:
            if key in config and config[key] != supported:
                raise ValueError(f"config.json sets {key}={config[key]!r}; tfzoo's GPT models "
                                 f"support only {key}={supported!r} ({meaning}).")
        d = config["n_embd"]
        gpt2 = model_type == "gpt2"
        return {
            "vocabulary_size": config["vocab_size"],
            "num_layers": config["n_layer"],
            "num_heads": config["n_head"],
            "hidden_dim": d,
            "intermediate_dim": config.get("n_inner") or 4 * d,
            "max_sequence_length": config["n_positions"],
            "dropout": config.get("resid_pdrop", 0.1),
            "normalize_first": gpt2,
            "activation": _activation(config.get("activation_function" if gpt2 else "afn",
                                                 "gelu_new" if gpt2 else "gelu"), gpt2),
            "layer_norm_epsilon": config.get("layer_norm_epsilon", 1e-5),
            "initializer_range": config.get("initializer_range", 0.02),
        }

    def rules(self, checkpoint_format, config):
        model_type = self._model_type(checkpoint_format, config)
        if checkpoint_format == "openai_gpt2":
            rows = [(t, s, _squeezed(f), shape) for t, s, f, shape in _table(_OPENAI_TF)]
        elif model_type == "gpt2":
            rows = _table(_hf_naming("h", "wte.weight", "wpe.weight", final_norm=True))
        else:
            rows = _table(_hf_naming("h", "tokens_embed.weight", "positions_embed.weight",
                                     final_norm=False))
        return [Rule(target, source, transform, shape) for target, source, transform, shape
                in rows]

    def prefixes(self, checkpoint_format, config):
        return ("", "transformer.") if checkpoint_format == "huggingface" else ("",)


GPT = GPTConverter()
