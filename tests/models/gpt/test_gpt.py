"""GPT and GPT-2 against transformers: logits, checkpoint formats, generation."""

import collections
import json
import os

import numpy as np
import pytest
import tensorflow as tf
from keras import ops

from tests.testing import assert_allclose, run_model_test, to_numpy
from tfzoo.generation import decoding
from tfzoo.generation.compile import compile_with_model
from tfzoo.generation.sampling import SamplingConfig
from tfzoo.models.gpt import GPTBackbone, GPTCausalLM

TINY = dict(vocab_size=100, n_positions=64, n_embd=32, n_layer=2, n_head=4)


def reference(kind, seed=0, scale=0.2, **config):
    import torch
    import transformers

    if kind == "gpt2":
        model = transformers.GPT2LMHeadModel(transformers.GPT2Config(**TINY, **config))
    else:
        model = transformers.OpenAIGPTLMHeadModel(transformers.OpenAIGPTConfig(**TINY, **config))
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():  # every parameter random, LayerNorms included
        for parameter in model.parameters():
            parameter.copy_(torch.randn(parameter.shape, generator=generator) * scale)
    return model.eval()


@pytest.fixture(scope="module")
def checkpoints(tmp_path_factory):
    made = {}
    for kind in ("gpt2", "openai-gpt"):
        model = reference(kind)
        path = str(tmp_path_factory.mktemp(kind))
        model.save_pretrained(path)
        made[kind] = (path, model)
    return made


def torch_logits(model, ids):
    import torch

    with torch.no_grad():
        return model(torch.tensor(ids).long()).logits.numpy()


IDS = np.random.default_rng(0).integers(0, 100, size=(2, 12)).astype("int32")
INPUTS = {"input_word_ids": IDS, "input_mask": np.ones_like(IDS)}


@pytest.mark.parametrize("kind", ["gpt2", "openai-gpt"])
def test_logits_match_transformers(checkpoints, kind):
    path, model = checkpoints[kind]
    ours = GPTCausalLM.from_pretrained(path)
    assert ours.backbone.normalize_first == (kind == "gpt2")
    assert_allclose(ours(INPUTS), torch_logits(model, IDS), atol=1e-4)


@pytest.mark.parametrize("kind", ["gpt2", "openai-gpt"])
def test_activation_matches_transformers_at_large_pre_activations(kind, tmp_path):
    """Weights three times larger make GELU's exact and tanh forms differ by
    ~1e-3 in the logits: openai-gpt's "gelu" is the tanh form, GPT-2's the
    exact one."""
    config = {"activation_function": "gelu"} if kind == "gpt2" else {}
    model = reference(kind, seed=1, scale=0.6, **config)
    model.save_pretrained(str(tmp_path))
    ours = GPTCausalLM.from_pretrained(str(tmp_path))
    assert ours.backbone.activation == ("gelu" if kind == "gpt2" else "gelu_approximate")
    assert_allclose(ours(INPUTS), torch_logits(model, IDS), atol=1e-4)


def write_openai_checkpoint(model, directory):
    """OpenAI's GPT-2 release layout, written from a transformers model with the
    original names: hparams.json + model.ckpt.* ([1, in, out] kernels)."""
    os.makedirs(directory, exist_ok=True)
    names, tensors = [], []
    for name, tensor in model.transformer.state_dict().items():
        if name.endswith((".attn.bias", ".attn.masked_bias")):  # causal-mask buffers
            continue
        array = tensor.numpy()
        parts = name.split(".")
        if parts[0] in ("wte", "wpe"):
            tf_name = f"model/{parts[0]}"
        elif parts[0] == "ln_f":
            tf_name = f"model/ln_f/{'g' if parts[1] == 'weight' else 'b'}"
        else:  # h.{i}.<module path>.{weight|bias}
            module = "/".join(parts[2:-1])
            if parts[-2].startswith("ln_"):
                leaf = "g" if parts[-1] == "weight" else "b"
            else:
                leaf = "w" if parts[-1] == "weight" else "b"
                if leaf == "w":
                    array = array[None]  # [1, in, out]
            tf_name = f"model/h{parts[1]}/{module}/{leaf}"
        names.append(tf_name)
        tensors.append(tf.constant(array))
    tf.raw_ops.SaveV2(prefix=os.path.join(directory, "model.ckpt"), tensor_names=names,
                      shape_and_slices=[""] * len(names), tensors=tensors)
    config = model.config
    with open(os.path.join(directory, "hparams.json"), "w") as f:
        json.dump({"n_vocab": config.vocab_size, "n_ctx": config.n_positions,
                   "n_embd": config.n_embd, "n_head": config.n_head,
                   "n_layer": config.n_layer}, f)
    return names


def test_openai_release_format_loads_like_its_hugging_face_twin(checkpoints, tmp_path):
    path, model = checkpoints["gpt2"]
    names = write_openai_checkpoint(model, str(tmp_path))
    assert "model/h1/attn/c_attn/w" in names
    ours = GPTCausalLM.from_pretrained(str(tmp_path))
    assert_allclose(ours(INPUTS), torch_logits(model, IDS), atol=1e-4)


def test_contract_and_tfzoo_round_trip(tmp_path):
    backbone = GPTBackbone(vocabulary_size=100, num_layers=2, num_heads=4, hidden_dim=32,
                           intermediate_dim=64, max_sequence_length=64)
    model = GPTCausalLM(backbone)
    run_model_test(GPTCausalLM, model, INPUTS)
    run_model_test(GPTBackbone, backbone, INPUTS)
    model.save_pretrained(str(tmp_path))
    assert_allclose(GPTCausalLM.from_pretrained(str(tmp_path))(INPUTS), model(INPUTS))


@pytest.mark.parametrize("setting", [{"tie_word_embeddings": False},
                                     {"scale_attn_by_inverse_layer_idx": True},
                                     {"scale_attn_weights": False}])
def test_gpt2_settings_tfzoo_does_not_compute_are_errors(setting, tmp_path):
    """A checkpoint that would load but compute something else (its own
    lm_head.weight, other score scaling) names the setting instead."""
    reference("gpt2", **setting).save_pretrained(str(tmp_path))
    (key, value), = setting.items()
    with pytest.raises(ValueError, match=f"config.json sets {key}={value}"):
        GPTCausalLM.from_pretrained(str(tmp_path))


@pytest.mark.parametrize("name, width", [("weight", 97), ("bias", 98), ("weight", 99)])
def test_a_fused_attention_array_of_the_wrong_width_is_named(checkpoints, tmp_path, name,
                                                            width):
    import shutil

    from safetensors.numpy import load_file, save_file

    path = tmp_path / "copy"
    shutil.copytree(checkpoints["gpt2"][0], path)
    weights = load_file(str(path / "model.safetensors"))
    key = f"transformer.h.0.attn.c_attn.{name}"
    array = weights[key]
    pad = np.zeros(array.shape[:-1] + (width - array.shape[-1],), array.dtype)
    weights[key] = np.concatenate([array, pad], axis=-1)
    save_file(weights, str(path / "model.safetensors"), metadata={"format": "pt"})
    with pytest.raises(ValueError, match=rf"h\.0\.attn\.c_attn\.{name}"):
        GPTCausalLM.from_pretrained(str(path))


def hf_generate(model, prompt, **kwargs):
    import torch

    with torch.no_grad():
        return model.generate(torch.tensor([prompt]), pad_token_id=0, **kwargs).numpy().tolist()


PROMPTS = [[5, 6, 7], [8, 9, 10, 11, 12, 13], [40]]


def test_bfloat16_weights_for_inference(checkpoints):
    """`dtype="bfloat16"` (also `tfzoo generate --dtype`) stores and computes in bf16."""
    import keras

    path, model = checkpoints["gpt2"]
    ours = GPTCausalLM.from_pretrained(path, dtype="bfloat16")
    assert {keras.backend.standardize_dtype(w.dtype) for w in ours.weights} == {"bfloat16"}
    logits = np.asarray(keras.ops.convert_to_numpy(
        keras.ops.cast(ours(INPUTS), "float32")))
    expected = torch_logits(model, IDS)
    # bf16 keeps 8 bits of mantissa: errors of a few percent of the logits' range.
    assert np.abs(logits - expected).max() < 0.05 * np.abs(expected).max()
    assert np.corrcoef(logits.ravel(), expected.ravel())[0, 1] > 0.999
    generated = ours.generate(PROMPTS[:2], max_new_tokens=5, stop_token_ids=[])
    assert [len(g) - len(p) for g, p in zip(generated, PROMPTS[:2])] == [5, 5]


def test_bfloat16_one_row_decoding_chooses_the_layers_tokens(checkpoints):
    """At batch 1 under XLA a bfloat16 model multiplies by one-row matrices
    kept as bits (`layers.row_products`, TensorFlow) and the tied table as
    stored; the plain graph runs the layers' own bf16 products. Same greedy
    tokens, prompt by prompt, and the same next-token logits up to bf16
    rounding."""
    import keras

    path, _ = checkpoints["gpt2"]
    model = GPTCausalLM.from_pretrained(path, dtype="bfloat16")
    for prompt in PROMPTS:
        assert (model.generate([prompt], max_new_tokens=8, stop_token_ids=[])
                == model.generate([prompt], max_new_tokens=8, stop_token_ids=[],
                                  jit_compile=False))
    # The step function itself: one-row logits against the layers' own.
    from tfzoo.layers.row_products import one_row_products, row_product

    backbone = model.backbone
    ids = keras.ops.convert_to_tensor([[5]], "int32")
    cache = backbone.initial_cache(1, 4)
    hidden, _ = backbone.call_with_cache(ids, cache, 0)
    expected = keras.ops.cast(backbone.token_embedding(hidden, reverse=True), "float32")
    with one_row_products(backbone, rows=1):
        hidden_rows, _ = backbone.call_with_cache(ids, cache, 0)
        actual = keras.ops.cast(
            backbone.token_embedding.reverse_projection()(hidden_rows), "float32")
        # TensorFlow takes the one-row path (the other backends the layers' own).
        taken = row_product(backbone.token_embedding, hidden_rows) is not None
        assert taken == (keras.backend.backend() == "tensorflow")
    expected, actual = (np.asarray(keras.ops.convert_to_numpy(t)) for t in (expected, actual))
    assert actual.shape == expected.shape == (1, 1, backbone.vocabulary_size)
    assert np.abs(actual - expected).max() < 0.02 * np.abs(expected).max()


@pytest.mark.parametrize("dtype", ["bfloat16", "mixed_bfloat16"])
def test_reduced_precision_tfzoo_checkpoints_decode(dtype, tmp_path):
    """A tfzoo checkpoint loaded with a dtype (or trained in mixed precision):
    the key/value cache takes the layers' compute dtype, not the functional
    model's (the global policy's), for one-token prompts too."""
    import keras

    GPTCausalLM(GPTBackbone(vocabulary_size=100, num_layers=2, num_heads=4, hidden_dim=32,
                            intermediate_dim=64, max_sequence_length=64)).save_pretrained(
        str(tmp_path))
    model = GPTCausalLM.from_pretrained(str(tmp_path), dtype=dtype)
    assert keras.config.dtype_policy().name == "float32"
    assert model.backbone.layers_compute_dtype == "bfloat16"
    for jit_compile in (True, False):
        generated = model.generate([[5], [6, 7, 8]], max_new_tokens=4, stop_token_ids=[],
                                   jit_compile=jit_compile)
        assert [len(g) for g in generated] == [5, 7]
        sampled = model.generate([[5]], max_new_tokens=3, greedy=False, seed=1,
                                 jit_compile=jit_compile)
        assert len(sampled[0]) == 4


@pytest.mark.parametrize("kind", ["gpt2", "openai-gpt"])
def test_greedy_generation_is_token_identical_to_transformers(checkpoints, kind):
    path, model = checkpoints[kind]
    ours = GPTCausalLM.from_pretrained(path).generate(PROMPTS, max_new_tokens=10)
    for prompt, tokens in zip(PROMPTS, ours):
        assert tokens == hf_generate(model, prompt, max_new_tokens=10, do_sample=False)[0]


def test_plain_graph_decoding_equals_xla(checkpoints):
    """jit_compile=False (TensorFlow: no XLA) picks the same greedy and beam tokens."""
    path, _ = checkpoints["gpt2"]
    model = GPTCausalLM.from_pretrained(path)
    for kwargs in ({}, {"num_beams": 3}):
        assert (model.generate(PROMPTS, max_new_tokens=8, jit_compile=False, **kwargs)
                == model.generate(PROMPTS, max_new_tokens=8, **kwargs))


def test_beam_search_matches_transformers(checkpoints):
    path, model = checkpoints["gpt2"]
    ours = GPTCausalLM.from_pretrained(path).generate(
        PROMPTS[:2], max_new_tokens=6, num_beams=4, num_return_sequences=2, length_penalty=0.0)
    for index, prompt in enumerate(PROMPTS[:2]):
        # Equal lengths (no stop token): GNMT alpha=0 and HF length_penalty=0 agree.
        expected = hf_generate(model, prompt, max_new_tokens=6, num_beams=4,
                               num_return_sequences=2, do_sample=False, length_penalty=0.0,
                               early_stopping=False)
        assert ours[2 * index: 2 * index + 2] == expected


def hf_beams(model, prompt, **kwargs):
    """transformers' returned beams, each cut after its first stop token."""
    stop = kwargs.get("eos_token_id")
    beams = []
    for row in hf_generate(model, prompt, do_sample=False, **kwargs):
        generated = row[len(prompt):]
        if stop in generated:
            generated = generated[:generated.index(stop) + 1]
        beams.append(row[:len(prompt)] + generated)
    return beams


def test_beams_that_stop_are_set_aside_as_in_transformers(checkpoints):
    """A beam that ends in a stop token joins the finished hypotheses and the
    next-best continuation lives on: every returned beam (not only the best)
    equals transformers' (length_penalty 0, ragged prompts)."""
    path, model = checkpoints["gpt2"]
    ours = GPTCausalLM.from_pretrained(path)
    prompts = PROMPTS + [[70, 71]]
    greedy = ours.generate(prompts, max_new_tokens=8, stop_token_ids=[])
    counts = collections.Counter(t for row, p in zip(greedy, prompts) for t in row[len(p):])
    stop = counts.most_common(1)[0][0]  # a token the beams will reach
    beams = ours.generate(prompts, max_new_tokens=8, num_beams=3, num_return_sequences=3,
                          length_penalty=0.0, stop_token_ids=[stop])
    repeated = [p for p in prompts for _ in range(3)]
    assert any(stop in row[len(p):] for row, p in zip(beams, repeated))
    for index, prompt in enumerate(prompts):
        for early_stopping in (False, "never"):
            expected = hf_beams(model, prompt, max_new_tokens=8, num_beams=3,
                                num_return_sequences=3, length_penalty=0.0,
                                early_stopping=early_stopping, eos_token_id=stop)
            assert beams[3 * index: 3 * index + 3] == expected, (index, early_stopping)


def uncached_greedy(model, prompt, steps):
    tokens = list(prompt)
    for _ in range(steps):
        ids = np.array([tokens], "int32")
        logits = to_numpy(model({"input_word_ids": ids, "input_mask": np.ones_like(ids)}))
        tokens.append(int(np.argmax(logits[0, -1])))
    return tokens


def test_cached_equals_uncached_and_batch_composition_does_not_matter(checkpoints):
    model = GPTCausalLM.from_pretrained(checkpoints["gpt2"][0])
    together = model.generate(PROMPTS, max_new_tokens=8)
    for prompt, tokens in zip(PROMPTS, together):
        assert tokens == uncached_greedy(model, prompt, 8)
        assert model.generate([prompt], max_new_tokens=8)[0] == tokens


@pytest.mark.parametrize("prefill", [None, 0, 2, 4, 9, 32], ids=lambda p: f"prefill_{p}")
def test_any_prefill_length_decodes_alike(checkpoints, prefill):
    """The prompt pass may stop short of the shortest prompt (the loop feeds the
    rest) or run past it (the loop rewrites those positions): same tokens,
    greedy, sampled and beams, for ragged prompts (shortest: 5)."""
    model = GPTCausalLM.from_pretrained(checkpoints["gpt2"][0])
    prompts = [[5, 17, 42, 8, 9, 30, 2], [9, 3, 77, 21, 60]]
    buffer = np.zeros((2, 32), "int32")
    for row, ids in enumerate(prompts):
        buffer[row, :len(ids)] = ids
    lengths = np.array([7, 5], "int32")
    ends = np.array([20, 16], "int32")
    for sampling, beams in ((SamplingConfig(), 1),
                            (SamplingConfig(greedy=False, top_k=5, temperature=1.5), 1),
                            (SamplingConfig(), 3)):
        outputs = {
            length: to_numpy(compile_with_model(model, model.decode_function(
                sampling, num_beams=beams, prefill_length=length))(
                    buffer, lengths, ends, np.int32(3)))
            for length in (None, prefill)}
        np.testing.assert_array_equal(outputs[prefill], outputs[None])
        first = outputs[None][:, 0] if beams > 1 else outputs[None]
        for row, ids in enumerate(prompts):
            assert first[row, :len(ids)].tolist() == ids


def test_prefill_positions_round_up_the_shortest_prompt():
    assert decoding.prefill_positions([7, 5], 64, 32) == 32
    assert decoding.prefill_positions([33, 40], 64, 32) == 32
    assert decoding.prefill_positions([34], 64, 32) == 64
    assert decoding.prefill_positions([1, 9], 64, 32) == 0
    assert decoding.prefill_positions([60], 40, 32) == 40


def test_per_layer_cache_equals_stacked_cache(checkpoints):
    """`initial_cache`'s per-layer pairs and the stacked `cache_shape` tensor decode alike."""
    backbone = GPTCausalLM.from_pretrained(checkpoints["gpt2"][0]).backbone
    ids = np.array([[5, 17, 42, 8], [9, 3, 77, 21]], "int32")
    stacked = ops.zeros(backbone.cache_shape(2, 6), backbone.compute_dtype)
    pairs = backbone.initial_cache(2, 6)
    assert len(pairs) == backbone.num_layers
    expected, stacked = backbone.call_with_cache(ids, stacked, 0)
    got, pairs = backbone.call_with_cache(ids, pairs, 0)
    assert_allclose(got, expected, atol=1e-5)
    step = ids[:, -1:]
    expected, stacked = backbone.call_with_cache(step, stacked, 4)
    got, pairs = backbone.call_with_cache(step, pairs, 4)
    assert_allclose(got, expected, atol=1e-5)
    for layer, (keys, values) in enumerate(pairs):
        assert_allclose(keys, to_numpy(stacked)[:, layer, 0], atol=1e-6)
        assert_allclose(values, to_numpy(stacked)[:, layer, 1], atol=1e-6)


def test_sampling_is_seeded_and_respects_top_k(checkpoints):
    model = GPTCausalLM.from_pretrained(checkpoints["gpt2"][0])
    kwargs = dict(max_new_tokens=12, greedy=False, top_k=3, temperature=1.5, seed=11)
    first = model.generate(PROMPTS, **kwargs)
    assert first == model.generate(PROMPTS, **kwargs)
    assert first != model.generate(PROMPTS, **dict(kwargs, seed=12))
    for prompt, tokens in zip(PROMPTS, first):
        ids = np.array([tokens[:-1]], "int32")
        logits = to_numpy(model({"input_word_ids": ids, "input_mask": np.ones_like(ids)}))[0]
        for position in range(len(prompt) - 1, len(tokens) - 1):
            top3 = np.argsort(logits[position])[-3:]
            assert tokens[position + 1] in top3


def test_top_p_keeps_the_nucleus():
    from tfzoo.generation.sampling import SamplingConfig, filter_logits

    logits = np.log(np.array([[0.5, 0.3, 0.15, 0.05]], "float32"))
    kept = to_numpy(filter_logits(logits, SamplingConfig(greedy=False, top_p=0.7))) > -1e8
    assert kept.tolist() == [[True, True, False, False]]
    kept = to_numpy(filter_logits(logits, SamplingConfig(greedy=False, top_p=0.81))) > -1e8
    assert kept.tolist() == [[True, True, True, False]]


def test_stop_tokens_and_num_return_sequences(checkpoints):
    model = GPTCausalLM.from_pretrained(checkpoints["gpt2"][0])
    greedy = model.generate([PROMPTS[0]], max_new_tokens=10)[0]
    stop = greedy[len(PROMPTS[0]) + 2]
    stopped = model.generate([PROMPTS[0]], max_new_tokens=10, stop_token_ids=[stop])[0]
    assert stopped == greedy[:greedy.index(stop, len(PROMPTS[0])) + 1]
    samples = model.generate(PROMPTS[:2], max_new_tokens=5, greedy=False, seed=1,
                             num_return_sequences=3)
    assert len(samples) == 6 and all(s[:3] == PROMPTS[0] for s in samples[:3])


def test_bad_generation_arguments(checkpoints):
    model = GPTCausalLM.from_pretrained(checkpoints["gpt2"][0])
    with pytest.raises(ValueError, match="context is max_sequence_length=64"):
        model.generate([PROMPTS[0]], max_new_tokens=100)
    with pytest.raises(ValueError, match="Prompt 0 is empty"):
        model.generate([[]], max_new_tokens=3)
    with pytest.raises(ValueError, match=r"outside the vocabulary \(size 100\): \[100\]"):
        model.generate([[1, 100]], max_new_tokens=3)
    with pytest.raises(ValueError, match="String prompts need a tokenizer"):
        model.generate("hello", max_new_tokens=3)
    with pytest.raises(ValueError, match="temperature=0"):
        model.generate([[1]], max_new_tokens=3, greedy=False, temperature=0)


def test_generation_from_text_round_trips_through_the_tokenizer(tmp_path):
    """The seed's GPT-2 example in tfzoo: tokenize, run, generate, detokenize."""
    from tests.preprocessing.bpe_fixtures import train_byte_level_bpe

    vocab_dir = train_byte_level_bpe(tmp_path / "vocab", ["<|endoftext|>"])
    from tfzoo.preprocessing import GPT2Tokenizer

    tokenizer = GPT2Tokenizer.from_pretrained(vocab_dir)
    backbone = GPTBackbone(vocabulary_size=tokenizer.vocabulary_size, num_layers=1,
                           num_heads=2, hidden_dim=16, intermediate_dim=32,
                           max_sequence_length=128)
    model = GPTCausalLM(backbone, tokenizer=tokenizer)
    model.save_pretrained(str(tmp_path / "model"))
    restored = GPTCausalLM.from_pretrained(str(tmp_path / "model"))
    texts = restored.generate(["The weather today", "def main():"], max_new_tokens=5)
    assert texts[0].startswith("The weather today") and texts[1].startswith("def main():")
    assert texts == model.generate(["The weather today", "def main():"], max_new_tokens=5)


def test_incomplete_utf8_decodes_to_replacement_characters(tmp_path):
    """A continuation may end inside a multi-byte character: no crash, U+FFFD."""
    from tests.preprocessing.bpe_fixtures import train_byte_level_bpe
    from tfzoo.preprocessing import GPT2Tokenizer

    tokenizer = GPT2Tokenizer.from_pretrained(
        train_byte_level_bpe(tmp_path / "vocab", ["<|endoftext|>"]))
    lead_byte = tokenizer.token_to_id("Ã")  # byte 0xC3: starts a 2-byte character
    assert tokenizer.detokenize([[lead_byte]]).numpy()[0] == b"\xc3"
    backbone = GPTBackbone(vocabulary_size=tokenizer.vocabulary_size, num_layers=1,
                           num_heads=2, hidden_dim=16, intermediate_dim=32,
                           max_sequence_length=64)
    model = GPTCausalLM(backbone, tokenizer=tokenizer)
    # Final LayerNorm with gamma 0 and beta u makes every hidden state u; the
    # lead byte's embedding 100 u then wins every argmax.
    unit = np.eye(16, dtype="float32")[0]
    backbone.final_layer_norm.gamma.assign(np.zeros(16, "float32"))
    backbone.final_layer_norm.beta.assign(unit)
    table = to_numpy(backbone.token_embedding.embeddings).copy()
    table[lead_byte] = 100 * unit
    backbone.token_embedding.embeddings.assign(table)
    assert model.generate("caf", max_new_tokens=1, stop_token_ids=[]) == ["caf\ufffd"]


@pytest.mark.parametrize("kwargs, message", [
    ({"prompts": [], "max_new_tokens": 3}, "prompts is empty"),
    ({"prompts": [[5, 6, 7, 8]], "max_new_tokens": -2}, "max_new_tokens=-2"),
    ({"prompts": [[5, 6, 7, 8]], "max_new_tokens": 0}, "max_new_tokens=0"),
    ({"prompts": [[5, 6, 7, 8]], "max_length": 3}, "Prompt 0 has 4 tokens, so max_length=3"),
    ({"prompts": [[5, 6, 7, 8]], "max_length": 0}, "max_length=0"),
    ({"prompts": [[5.7, 17.2]], "max_new_tokens": 3}, r"Prompt 0 is not a list of int"),
    ({"prompts": [[5, 6]], "max_new_tokens": 3, "greedy": False, "top_k": 1.5}, "top_k=1.5"),
    ({"prompts": [[5, 6]], "max_new_tokens": 3, "num_return_sequences": 3},
     "Greedy decoding gives one sequence"),
    ({"prompts": [[5, 6]], "max_new_tokens": 3, "stop_token_ids": ["x"]}, "stop_token_ids"),
])
def test_generation_arguments_are_checked_before_decoding(checkpoints, kwargs, message):
    model = GPTCausalLM.from_pretrained(checkpoints["gpt2"][0])
    with pytest.raises(ValueError, match=message):
        model.generate(**kwargs)


def test_one_flat_prompt_and_an_int_stop_token(checkpoints):
    model = GPTCausalLM.from_pretrained(checkpoints["gpt2"][0])
    expected = model.generate([PROMPTS[0]], max_new_tokens=6, stop_token_ids=[])
    assert model.generate(PROMPTS[0], max_new_tokens=6, stop_token_ids=[]) == expected
    stop = expected[0][len(PROMPTS[0]) + 1]
    assert (model.generate([PROMPTS[0]], max_new_tokens=6, stop_token_ids=stop)
            == model.generate([PROMPTS[0]], max_new_tokens=6, stop_token_ids=[stop]))


def test_uniform_noise_never_reaches_one():
    """Gumbel noise -log(-log u) must stay finite, or a token that top-k / top-p
    removed (logit -1e9) can still win: u = 1.0 exactly gave +inf."""
    from tfzoo.generation.random import hashed_uniform, unit_interval

    extremes = to_numpy(unit_interval(ops.convert_to_tensor(
        np.array([0, 1, 2**31, 2**32 - 2, 2**32 - 1], "uint32"))))
    assert (extremes > 0).all() and (extremes < 1).all()
    assert np.isfinite(-np.log(-np.log(extremes))).all()
    uniform = to_numpy(hashed_uniform(3, 7, (64, 1000)))
    assert 0 < uniform.min() and uniform.max() < 1 and abs(uniform.mean() - 0.5) < 0.01


@pytest.mark.parametrize("kwargs, message", [
    ({"temperature": float("nan")}, "temperature=nan"),
    ({"temperature": float("inf")}, "temperature=inf"),
    ({"temperature": "1"}, "temperature='1'"),
    ({"top_p": "0.5"}, "top_p='0.5'"),
    ({"top_p": float("nan")}, "top_p=nan"),
    ({"seed": 1.7}, "seed=1.7"),
    ({"seed": "a"}, "seed='a'"),
    ({"num_beams": 2}, r"Beam search \(num_beams=2\) does not sample"),
])
def test_bad_sampling_arguments_name_the_value(checkpoints, kwargs, message):
    model = GPTCausalLM.from_pretrained(checkpoints["gpt2"][0])
    with pytest.raises(ValueError, match=message):
        model.generate([[5, 6]], max_new_tokens=2, greedy=False, **kwargs)


def test_any_int_seed_works_modulo_two_to_the_32(checkpoints):
    model = GPTCausalLM.from_pretrained(checkpoints["gpt2"][0])
    kwargs = dict(max_new_tokens=6, greedy=False, num_return_sequences=2)
    assert (model.generate([[5, 6]], seed=2**32 + 5, **kwargs)
            == model.generate([[5, 6]], seed=5, **kwargs)
            == model.generate([[5, 6]], seed=np.int64(5), **kwargs))
    assert (model.generate([[5, 6]], seed=-1, **kwargs)
            == model.generate([[5, 6]], seed=2**32 - 1, **kwargs))


def test_sampling_settings_without_sampling_warn(checkpoints):
    model = GPTCausalLM.from_pretrained(checkpoints["gpt2"][0])
    greedy = model.generate([[5, 6]], max_new_tokens=4)
    with pytest.warns(UserWarning, match=r"top_p=0.5, temperature|temperature=3.0, top_p=0.5"):
        assert model.generate([[5, 6]], max_new_tokens=4, temperature=3.0, top_p=0.5) == greedy
    with pytest.warns(UserWarning, match=r"top_k=5 only apply when sampling; beam search"):
        model.generate([[5, 6]], max_new_tokens=4, num_beams=2, top_k=5)


def test_prompts_as_tensors_and_mixed_prompts(checkpoints):
    model = GPTCausalLM.from_pretrained(checkpoints["gpt2"][0])
    expected = model.generate(PROMPTS, max_new_tokens=3)
    assert model.generate(tf.ragged.constant(PROMPTS), max_new_tokens=3) == expected
    assert model.generate(tf.constant(PROMPTS[0]), max_new_tokens=3) == expected[:1]
    assert model.generate(np.array(PROMPTS[1]), max_new_tokens=3) == expected[1:2]
    with pytest.raises(ValueError, match="prompts mixes strings and token ids"):
        model.generate(["abc", [1, 2]], max_new_tokens=3)


def test_string_results_are_the_prompt_then_its_continuation(tmp_path):
    """An empty prompt starts from <|endoftext|> but its text is the
    continuation alone, as the serving signature answers."""
    from tests.preprocessing.bpe_fixtures import train_byte_level_bpe
    from tfzoo.preprocessing import GPT2Tokenizer

    tokenizer = GPT2Tokenizer.from_pretrained(
        train_byte_level_bpe(tmp_path / "vocab", ["<|endoftext|>"]))
    backbone = GPTBackbone(vocabulary_size=tokenizer.vocabulary_size, num_layers=1,
                           num_heads=2, hidden_dim=16, intermediate_dim=32,
                           max_sequence_length=64)
    model = GPTCausalLM(backbone, tokenizer=tokenizer)
    end = tokenizer.end_of_text_id
    ids = model.generate([[end]], max_new_tokens=4, stop_token_ids=[])[0]
    continuation = tokenizer.detokenize([ids[1:]]).numpy()[0].decode("utf-8", "replace")
    assert model.generate("", max_new_tokens=4, stop_token_ids=[]) == [continuation]
    texts = model.generate(tf.constant(["Hello", ""]), max_new_tokens=4, stop_token_ids=[])
    assert texts[0].startswith("Hello") and texts[1] == continuation
