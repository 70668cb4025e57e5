"""Checkpoint conversion for XLNet: Hugging Face `xlnet` directories.

transformers' XLNetModel keeps the attention projections q, k, v, r as
einsum weights [D, H, K] (tfzoo's layout: no reshape) and the output
projection o as [D, H, K] too, used as "ibnd,hnd->ibh" (tfzoo: [H, K, D]).
The biases r_w_bias, r_r_bias, r_s_bias are [H, K], seg_embed [2, H, K], the
feed-forward layers torch `Linear`s [out, in]. XLNetLMHeadModel adds
`lm_loss` (its weight tied to the word embedding, or with
tie_word_embeddings=false in config.json a [V, D] matrix of its own) and puts
the encoder under a "transformer." prefix.
"""

import numpy as np
from absl import logging

from tfzoo.checkpoints.mapping import Rule, identity, same_shape, transpose

_LAYER = r"transformer_layer_(?P<layer>\d+)"
_HF_LAYER = "layer.{layer}"


def _output_kernel(array):
    """o [D, H, K] -> attention_output kernel [H, K, D]."""
    return np.transpose(array, (1, 2, 0))


def _mask_embedding_shape(target_shape):
    """mask_emb is stored as [1, 1, D]."""
    return (1, 1) + tuple(target_shape)


def _rules():
    attention = f"{_LAYER}/attention"
    rows = [
        ("token_embedding/embeddings", "word_embedding.weight", identity, same_shape),
        ("query_embedding/embedding", "mask_emb", identity, _mask_embedding_shape),
    ]
    for tfzoo_name, hf_name in (("query", "q"), ("key", "k"), ("value", "v"),
                                ("position", "r")):
        rows.append((f"{attention}/{tfzoo_name}/kernel", f"{_HF_LAYER}.rel_attn.{hf_name}",
                     identity, same_shape))
    rows.append((f"{attention}/attention_output/kernel", f"{_HF_LAYER}.rel_attn.o",
                 _output_kernel, same_shape))
    for tfzoo_name, hf_name in (("content_bias", "r_w_bias"), ("position_bias", "r_r_bias"),
                                ("segment_bias", "r_s_bias"),
                                ("segment_embedding", "seg_embed")):
        rows.append((f"{attention}/{tfzoo_name}", f"{_HF_LAYER}.rel_attn.{hf_name}",
                     identity, same_shape))
    for tfzoo_name, hf_name in (("attention_layer_norm", "rel_attn.layer_norm"),
                                ("feed_forward_layer_norm", "ff.layer_norm")):
        rows += [
            (f"{_LAYER}/{tfzoo_name}/gamma", f"{_HF_LAYER}.{hf_name}.weight", identity,
             same_shape),
            (f"{_LAYER}/{tfzoo_name}/beta", f"{_HF_LAYER}.{hf_name}.bias", identity, same_shape),
        ]
    for tfzoo_name, hf_name in (("intermediate_dense", "layer_1"), ("output_dense", "layer_2")):
        rows += [
            (f"{_LAYER}/feed_forward/{tfzoo_name}/kernel", f"{_HF_LAYER}.ff.{hf_name}.weight",
             transpose, same_shape),
            (f"{_LAYER}/feed_forward/{tfzoo_name}/bias", f"{_HF_LAYER}.ff.{hf_name}.bias",
             identity, same_shape),
        ]
    # XLNetLMHead: the output bias, and the projection when it is not tied to
    # the word embedding (torch Linear [V, D] -> kernel [D, V]).
    rows.append(("lm_head/output_bias", "lm_loss.bias", identity, same_shape))
    rows.append(("lm_head/output_kernel", "lm_loss.weight", transpose, same_shape))
    return [Rule(target, source, transform, shape) for target, source, transform, shape in rows]


_ACTIVATIONS = {"gelu": "gelu", "gelu_new": "gelu_approximate",
                "gelu_pytorch_tanh": "gelu_approximate", "relu": "relu",
                "swish": "silu", "silu": "silu"}


class XLNetConverter:
    """Converter for `XLNetBackbone` and `XLNetLMHead` (Hugging Face format)."""

    # XLNetLMHeadModel's output projection, unused when tied to the embedding.
    ignore = (r"lm_loss\.weight$",)
    optional = ()

    @staticmethod
    def _check(checkpoint_format, config):
        if checkpoint_format != "huggingface":
            raise ValueError(
                f"An XLNet model cannot load a {checkpoint_format} checkpoint; supported: "
                "huggingface.")
        model_type = config.get("model_type")
        if model_type != "xlnet":
            raise ValueError(
                f"Unknown model_type {model_type!r} for an XLNet model (config.json says "
                f"{model_type!r}; expected 'xlnet').")

    def kwargs_from_config(self, checkpoint_format, config, model_class):
        """XLNetBackbone arguments from config.json.

        `mem_len` is not taken over: in transformers, memory is used only when
        a call passes `mems`; here it changes the model's inputs, so pass
        `memory_length=...` to `from_pretrained` to get it.
        """
        self._check(checkpoint_format, config)
        if config.get("attn_type", "bi") != "bi":
            raise ValueError(
                f"Unsupported attn_type={config['attn_type']!r}: tfzoo's XLNet is "
                "bidirectional ('bi'); 'uni' is Transformer-XL's causal attention.")
        if config.get("same_length", False):
            raise ValueError("Unsupported same_length=True (every token the same attention "
                             "length); XLNet checkpoints use False.")
        activation = config.get("ff_activation", "gelu")
        if activation not in _ACTIVATIONS:
            raise ValueError(f"Unsupported ff_activation={activation!r}; tfzoo knows "
                             f"{sorted(_ACTIVATIONS)}.")
        d_model, n_head = config["d_model"], config["n_head"]
        d_head = config.get("d_head") or d_model // n_head
        if d_head * n_head != d_model:
            raise ValueError(f"Unsupported d_head={d_head}: tfzoo's XLNet has d_model / n_head "
                             f"= {d_model // n_head}.")
        if config.get("reuse_len"):
            logging.info("Ignoring reuse_len=%s (it only limits what transformers caches as "
                         "memory during pretraining).", config["reuse_len"])
        return {
            "vocabulary_size": config["vocab_size"],
            "num_layers": config["n_layer"],
            "num_heads": n_head,
            "hidden_dim": d_model,
            "intermediate_dim": config["d_inner"],
            "dropout": config.get("dropout", 0.1),
            "activation": _ACTIVATIONS[activation],
            "layer_norm_epsilon": config.get("layer_norm_eps", 1e-12),
            "bi_data": bool(config.get("bi_data", False)),
            "clamp_length": int(config.get("clamp_len", -1)),
            "initializer_range": config.get("initializer_range", 0.02),
        }

    def rules(self, checkpoint_format, config):
        self._check(checkpoint_format, config)
        return _rules()

    def prefixes(self, checkpoint_format, config):
        return ("", "transformer.")


XLNET = XLNetConverter()
