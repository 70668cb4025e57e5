"""Checkpoint conversion for the BERT family: BERT, RoBERTa, DistilBERT.

One table per family lists each tfzoo variable, its Hugging Face name and (for
BERT) its original Google name, and a kind that says how the array is laid
out. Hugging Face stores torch `Linear` weights as [out, in] (transposed here);
Google's TF checkpoints store kernels as [in, out]; both store attention
projections with the heads merged: query/key/value as [D, H*K] like tfzoo,
the attention output as [H*K, D], which the rule reshapes to tfzoo's [H, K, D].
"""

from tfzoo.checkpoints.mapping import (
    Rule,
    heads_output_shape,
    identity,
    same_shape,
    transpose,
)

# kind -> (Hugging Face transform, Google transform, source shape)
_KINDS = {
    "table": (identity, identity, same_shape),
    "vector": (identity, identity, same_shape),
    "kernel": (transpose, identity, same_shape),
    "output_heads_kernel": (transpose, identity, heads_output_shape),
    # Google stores the NSP weights as [2, D] "output_weights", like torch.
    "nsp_kernel": (transpose, transpose, same_shape),
}

_LAYER = r"transformer_layer_(?P<layer>\d+)"


def _rows(entries):
    """{tfzoo path: (hf name, google name, kind)} -> table rows."""
    return [(path, hf, google, kind) for path, (hf, google, kind) in entries.items()]


def _block_rows(hf_layer, google_layer, names):
    """Rows for every encoder block; `names` maps tfzoo sublayer -> source sublayer."""
    return [
        (f"{_LAYER}/{path}", f"{hf_layer}.{hf}",
         None if google is None else f"{google_layer}/{google}", kind)
        for path, hf, google, kind in _rows(names)
    ]


def _linear(tfzoo, hf, google, output_heads=False):
    """kernel + bias rows of one dense layer."""
    kernel_kind = "output_heads_kernel" if output_heads else "kernel"
    return {
        f"{tfzoo}/kernel": (f"{hf}.weight", None if google is None else f"{google}/kernel",
                            kernel_kind),
        f"{tfzoo}/bias": (f"{hf}.bias", None if google is None else f"{google}/bias", "vector"),
    }


def _norm(tfzoo, hf, google):
    return {
        f"{tfzoo}/gamma": (f"{hf}.weight", None if google is None else f"{google}/gamma", "vector"),
        f"{tfzoo}/beta": (f"{hf}.bias", None if google is None else f"{google}/beta", "vector"),
    }


def _bert_table():
    block = {}
    for projection in ("query", "key", "value"):
        block.update(_linear(f"self_attention/{projection}", f"attention.self.{projection}",
                             f"attention/self/{projection}"))
    block.update(_linear("self_attention/attention_output", "attention.output.dense",
                         "attention/output/dense", output_heads=True))
    block.update(_norm("self_attention_layer_norm", "attention.output.LayerNorm",
                       "attention/output/LayerNorm"))
    block.update(_linear("feed_forward/intermediate_dense", "intermediate.dense",
                         "intermediate/dense"))
    block.update(_linear("feed_forward/output_dense", "output.dense", "output/dense"))
    block.update(_norm("feed_forward_layer_norm", "output.LayerNorm", "output/LayerNorm"))

    rows = [
        ("embeddings/token_embedding/embeddings", "embeddings.word_embeddings.weight",
         "bert/embeddings/word_embeddings", "table"),
        ("embeddings/position_embedding/embeddings", "embeddings.position_embeddings.weight",
         "bert/embeddings/position_embeddings", "table"),
        ("embeddings/type_embedding/embeddings", "embeddings.token_type_embeddings.weight",
         "bert/embeddings/token_type_embeddings", "table"),
    ]
    rows += _rows(_norm("embeddings/layer_norm", "embeddings.LayerNorm",
                        "bert/embeddings/LayerNorm"))
    rows += _block_rows("encoder.layer.{layer}", "bert/encoder/layer_{layer}", block)
    rows += _rows(_linear("pooler", "pooler.dense", "bert/pooler/dense"))
    # Pretraining heads (BertPretrainer). Their Hugging Face names carry no
    # "bert." prefix; the decoder weight is tied to the word embeddings.
    heads = {}
    heads.update(_linear("mlm_head/transform_dense", "cls.predictions.transform.dense",
                         "cls/predictions/transform/dense"))
    heads.update(_norm("mlm_head/transform_layer_norm", "cls.predictions.transform.LayerNorm",
                       "cls/predictions/transform/LayerNorm"))
    heads["mlm_head/output_bias"] = ("cls.predictions.bias", "cls/predictions/output_bias",
                                     "vector")
    heads["nsp_head/kernel"] = ("cls.seq_relationship.weight",
                                "cls/seq_relationship/output_weights", "nsp_kernel")
    heads["nsp_head/bias"] = ("cls.seq_relationship.bias", "cls/seq_relationship/output_bias",
                              "vector")
    return rows + _rows(heads)


def _roberta_table():
    rows = [row for row in _bert_table() if not row[0].startswith(("mlm_head", "nsp_head"))]
    heads = {}
    heads.update(_linear("mlm_head/transform_dense", "lm_head.dense", None))
    heads.update(_norm("mlm_head/transform_layer_norm", "lm_head.layer_norm", None))
    heads["mlm_head/output_bias"] = ("lm_head.bias", None, "vector")
    return rows + _rows(heads)


def _distilbert_table():
    block = {}
    for tfzoo_name, hf_name in (("query", "q_lin"), ("key", "k_lin"), ("value", "v_lin")):
        block.update(_linear(f"self_attention/{tfzoo_name}", f"attention.{hf_name}", None))
    block.update(_linear("self_attention/attention_output", "attention.out_lin", None,
                         output_heads=True))
    block.update(_norm("self_attention_layer_norm", "sa_layer_norm", None))
    block.update(_linear("feed_forward/intermediate_dense", "ffn.lin1", None))
    block.update(_linear("feed_forward/output_dense", "ffn.lin2", None))
    block.update(_norm("feed_forward_layer_norm", "output_layer_norm", None))
    rows = [
        ("embeddings/token_embedding/embeddings", "embeddings.word_embeddings.weight", None,
         "table"),
        ("embeddings/position_embedding/embeddings", "embeddings.position_embeddings.weight",
         None, "table"),
    ]
    rows += _rows(_norm("embeddings/layer_norm", "embeddings.LayerNorm", None))
    rows += _block_rows("transformer.layer.{layer}", None, block)
    heads = {}
    heads.update(_linear("mlm_head/transform_dense", "vocab_transform", None))
    heads.update(_norm("mlm_head/transform_layer_norm", "vocab_layer_norm", None))
    heads["mlm_head/output_bias"] = ("vocab_projector.bias", None, "vector")
    return rows + _rows(heads)


def _rules(table, checkpoint_format):
    column = {"huggingface": 1, "google_bert": 2}[checkpoint_format]
    rules = []
    for row in table:
        source = row[column]
        if source is None:
            continue
        hf_transform, google_transform, source_shape = _KINDS[row[3]]
        transform = hf_transform if checkpoint_format == "huggingface" else google_transform
        rules.append(Rule(row[0], source, transform, source_shape))
    return rules


_HIDDEN_ACTIVATIONS = {
    "gelu": "gelu",
    "gelu_new": "gelu_approximate",
    "gelu_pytorch_tanh": "gelu_approximate",
    "gelu_fast": "gelu_approximate",
    "relu": "relu",
}


def _activation(name):
    if name not in _HIDDEN_ACTIVATIONS:
        raise ValueError(
            f"Unsupported hidden_act={name!r}; tfzoo knows {sorted(_HIDDEN_ACTIVATIONS)}."
        )
    return _HIDDEN_ACTIVATIONS[name]


# Attention dropout is not read from checkpoint configs
# (attention_probs_dropout_prob, attention_dropout): tfzoo's backbones default
# it to 0 so fine-tuning runs the fused attention kernel. Pass
# `attention_dropout=...` to `from_pretrained` (or task.model.overrides) for the
# original recipe.
def _bert_kwargs(config):
    position_type = config.get("position_embedding_type", "absolute")
    if position_type != "absolute":
        raise ValueError(
            f"Unsupported position_embedding_type={position_type!r}; tfzoo's BERT "
            "uses absolute positions."
        )
    return {
        "vocabulary_size": config["vocab_size"],
        "num_layers": config["num_hidden_layers"],
        "num_heads": config["num_attention_heads"],
        "hidden_dim": config["hidden_size"],
        "intermediate_dim": config["intermediate_size"],
        "max_sequence_length": config["max_position_embeddings"],
        "type_vocab_size": config.get("type_vocab_size", 2),
        "dropout": config.get("hidden_dropout_prob", 0.1),
        "activation": _activation(config.get("hidden_act", "gelu")),
        "layer_norm_epsilon": config.get("layer_norm_eps", 1e-12),
        "initializer_range": config.get("initializer_range", 0.02),
    }


def _roberta_kwargs(config):
    kwargs = _bert_kwargs(config)
    source = getattr(config, "path", "config.json")
    # transformers' RobertaConfig defaults to 2 segments; RoBERTa has one.
    if kwargs.pop("type_vocab_size") != 1:
        received = (f"type_vocab_size={config['type_vocab_size']!r}"
                    if "type_vocab_size" in config
                    else "no type_vocab_size (transformers' default: 2)")
        raise ValueError(
            f"RoBERTa checkpoints have type_vocab_size=1; {source} has {received}."
        )
    pad = config.get("pad_token_id", 1)
    if isinstance(pad, bool) or not isinstance(pad, int) or pad < 0:
        raise ValueError(
            f"{source} has pad_token_id={pad!r}; RoBERTa numbers positions from "
            "pad_token_id + 1, so it needs an integer >= 0."
        )
    # Positions start after the padding index (fairseq convention).
    kwargs["pad_token_id"] = pad
    kwargs["max_sequence_length"] = config["max_position_embeddings"] - pad - 1
    if kwargs["max_sequence_length"] < 1:
        raise ValueError(
            f"{source} has max_position_embeddings={config['max_position_embeddings']} and "
            f"pad_token_id={pad}: positions start at pad_token_id + 1, which leaves no "
            "position for a token."
        )
    return kwargs


def _distilbert_kwargs(config):
    if config.get("sinusoidal_pos_embds", False):
        raise ValueError("DistilBERT with sinusoidal_pos_embds=True is not supported.")
    return {
        "vocabulary_size": config["vocab_size"],
        "num_layers": config["n_layers"],
        "num_heads": config["n_heads"],
        "hidden_dim": config["dim"],
        "intermediate_dim": config["hidden_dim"],
        "max_sequence_length": config["max_position_embeddings"],
        "dropout": config.get("dropout", 0.1),
        "activation": _activation(config.get("activation", "gelu")),
        "initializer_range": config.get("initializer_range", 0.02),
    }


class BertFamilyConverter:
    """The checkpoint converter of one BERT-family model type."""

    # Checkpoint variables that are expected to stay unused.
    ignore = (r"position_ids$", r"decoder\.weight$", r"vocab_projector\.weight$",
              r"predictions\.decoder\.bias$", r"adam_[mv]$", r"global_step$")
    # Masked-LM checkpoints (BertForMaskedLM, RobertaForMaskedLM) have no pooler.
    optional = (r"(^|/)pooler/",)

    def __init__(self, model_type, table, kwargs_fn, hf_prefix, formats):
        self.model_type = model_type
        self._table = table
        self._kwargs_fn = kwargs_fn
        self._hf_prefix = hf_prefix
        self._formats = formats

    def _check(self, checkpoint_format, config):
        if checkpoint_format not in self._formats:
            raise ValueError(
                f"A {self.model_type} model cannot load a {checkpoint_format} checkpoint; "
                f"supported: {', '.join(self._formats)}."
            )
        if checkpoint_format == "huggingface":
            model_type = config.get("model_type")
            if model_type != self.model_type:
                source = getattr(config, "path", "config.json")
                found = (f"says model_type={model_type!r}" if "model_type" in config
                         else "has no model_type")
                raise ValueError(
                    f"Unknown model_type {model_type!r} for a {self.model_type} model "
                    f"({source} {found}; expected {self.model_type!r})."
                )

    def kwargs_from_config(self, checkpoint_format, config, model_class):
        self._check(checkpoint_format, config)
        return self._kwargs_fn(config)

    def rules(self, checkpoint_format, config):
        self._check(checkpoint_format, config)
        return _rules(self._table(), checkpoint_format)

    def prefixes(self, checkpoint_format, config):
        if checkpoint_format == "huggingface":
            return ("", self._hf_prefix)
        return ("",)


BERT = BertFamilyConverter("bert", _bert_table, _bert_kwargs, "bert.",
                           ("huggingface", "google_bert"))
ROBERTA = BertFamilyConverter("roberta", _roberta_table, _roberta_kwargs, "roberta.",
                              ("huggingface",))
DISTILBERT = BertFamilyConverter("distilbert", _distilbert_table, _distilbert_kwargs,
                                 "distilbert.", ("huggingface",))
