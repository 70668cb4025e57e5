"""Causal language modelling and text generation with GPT / GPT-2."""

import os

import keras
import numpy as np
from keras import ops

from tfzoo.checkpoints.pretrained import detect_format
from tfzoo.generation import decoding
from tfzoo.generation.compile import FunctionCache, compile_with_model
from tfzoo.generation.sampling import SamplingConfig, seed_value
from tfzoo.layers.row_products import one_row_products
from tfzoo.layers.utils import check_positive_int
from tfzoo.models.gpt.gpt_backbone import GPTBackbone
from tfzoo.models.metrics import Perplexity
from tfzoo.models.task import Task

_BUCKET = 64  # buffer lengths are rounded up to a multiple: few recompilations
# The prompt pass covers the shortest prompt rounded up to a multiple of this:
# one compiled function per multiple, at most 31 positions computed in vain.
_PREFILL_MULTIPLE = 32


@keras.saving.register_keras_serializable(package="tfzoo")
class GPTCausalLM(Task):
    """Next-token logits over the vocabulary, and `generate`.

    The output projection is the transposed token embedding (weights tied, as
    in GPT and GPT-2). Train with labels = the inputs shifted left by one and
    sample weights 0 on padding: `compile()` then averages the cross-entropy
    over real tokens and reports perplexity.

    Args:
        backbone: a `GPTBackbone`.
        tokenizer: optional `GPT2Tokenizer`, for `generate` on strings.
            `save_pretrained` writes it beside the weights and
            `from_pretrained` attaches it again; Keras' own `.keras` files
            (`model.save`, `keras.saving.load_model`) hold the model only:
            set `model.tokenizer` after loading one.
        **kwargs: standard `keras.Model` arguments.

    Inputs: `{"input_word_ids", "input_mask"}` int32 [B, T].
    Outputs: logits [B, T, V].
    """

    def __init__(self, backbone, tokenizer=None, **kwargs):
        inputs = backbone.input
        hidden = backbone(inputs)
        logits = backbone.token_embedding(hidden, reverse=True)  # (B, T, V)
        super().__init__(backbone=backbone, inputs=inputs, outputs=logits, **kwargs)
        self.tokenizer = tokenizer
        self._generate_functions = FunctionCache()

    def default_loss(self):
        return keras.losses.SparseCategoricalCrossentropy(
            from_logits=True, reduction="mean_with_sample_weight")

    def default_metrics(self):
        return [Perplexity()]

    # === Checkpoints ===
    @classmethod
    def from_pretrained(cls, path, load_weights=True, **overrides):
        """Hugging Face gpt2 / openai-gpt directories, OpenAI's GPT-2 release,
        or tfzoo's own; the tokenizer files beside the weights come along."""
        checkpoint_format = detect_format(path)[0]
        if checkpoint_format == "tfzoo":
            model = super().from_pretrained(path, load_weights=load_weights, **overrides)
        else:
            head_overrides, backbone_overrides = cls.split_overrides(overrides, GPTBackbone)
            model = cls(GPTBackbone.from_pretrained(path, load_weights=load_weights,
                                                    **backbone_overrides), **head_overrides)
        if "tokenizer" not in overrides:
            model.tokenizer = _tokenizer_if_present(path)
        return model

    def save_pretrained(self, path):
        super().save_pretrained(path)
        if self.tokenizer is not None:
            self.tokenizer.save_pretrained(path)

    # === Generation ===
    def generate(self, prompts, max_length=None, max_new_tokens=None, greedy=True,
                 temperature=1.0, top_k=0, top_p=1.0, num_beams=1, length_penalty=0.6,
                 num_return_sequences=1, stop_token_ids=None, seed=None, jit_compile=True):
        """Continues `prompts`.

        Args:
            prompts: a string, a list of strings (needs `tokenizer`), or token
                ids (a list of int lists, ragged allowed); tensors, ragged
                tensors and arrays of either too.
            max_length: total length limit (prompt + continuation) per sequence.
            max_new_tokens: continuation length limit. At least one of the two.
            greedy: take the most likely token; False samples (with
                temperature, top_k, top_p).
            num_beams: > 1 for beam search (length_penalty is GNMT's alpha).
            num_return_sequences: samples per prompt, or best beams per prompt.
            stop_token_ids: generation of a row ends after one of these;
                defaults to `<|endoftext|>` when the tokenizer has it.
            seed: makes sampling reproducible.
            jit_compile: TensorFlow only: False runs the decoding loop as a
                plain graph instead of XLA (the graph a SavedModel export
                serves). On CPUs XLA is the faster (GPT-2 124M, 2 cores: 73
                vs 51 tokens/s at batch 1, 326 vs 223 at batch 8; in
                bfloat16, batch 1 reads the weights as bfloat16 only under
                XLA). Either way it is compiled once.

        Returns:
            Strings (prompt + continuation, through the stop token when one
            is written) for string prompts, else lists of token ids,
            `num_return_sequences` per prompt in prompt order. An empty string
            prompt starts from <|endoftext|>, as GPT-2 starts documents; its
            text is the continuation alone.
            Bytes that do not form valid UTF-8 (a continuation cut inside a
            character) decode to U+FFFD.
        """
        prompts = _python_prompts(prompts)
        if isinstance(prompts, (list, tuple)) and not prompts:
            raise ValueError("prompts is empty: pass a string, a list of strings or a list of "
                             "token-id lists.")
        strings = isinstance(prompts, str) or (
            isinstance(prompts, (list, tuple)) and isinstance(prompts[0], str))
        if strings and not isinstance(prompts, str) and not all(
                isinstance(p, str) for p in prompts):
            raise ValueError("prompts mixes strings and token ids: pass all strings or all "
                             f"token-id lists. Received: {prompts!r}"[:300])
        if isinstance(prompts, (list, tuple)) and _is_int(prompts[0]):
            prompts = [prompts]  # one prompt's token ids
        token_lists = self._prompt_ids(prompts, strings)
        if max_length is None and max_new_tokens is None:
            raise ValueError("generate needs max_length or max_new_tokens.")
        for name, value in (("max_length", max_length), ("max_new_tokens", max_new_tokens),
                            ("num_beams", num_beams),
                            ("num_return_sequences", num_return_sequences)):
            if value is not None:
                check_positive_int(name, value)
        if num_beams > 1 and num_return_sequences > num_beams:
            raise ValueError(f"num_return_sequences ({num_return_sequences}) cannot exceed "
                             f"num_beams ({num_beams}).")
        if num_beams == 1 and greedy and num_return_sequences > 1:
            raise ValueError(f"Greedy decoding gives one sequence per prompt; for "
                             f"num_return_sequences={num_return_sequences} sample "
                             "(greedy=False) or use num_beams >= num_return_sequences.")
        if stop_token_ids is None:
            end = getattr(self.tokenizer, "end_of_text_id", None)
            stop_token_ids = () if end is None else (end,)
        elif _is_int(stop_token_ids):
            stop_token_ids = (stop_token_ids,)
        if not all(_is_int(t) for t in stop_token_ids):
            raise ValueError("stop_token_ids are token ids (ints). Received: "
                             f"stop_token_ids={stop_token_ids!r}")
        stop_token_ids = tuple(int(t) for t in stop_token_ids)
        sampling = SamplingConfig(greedy=greedy, temperature=temperature, top_k=top_k,
                                  top_p=top_p, seed=seed)
        sampling.check_used(num_beams)
        if num_beams == 1 and num_return_sequences > 1:
            token_lists = [ids for ids in token_lists for _ in range(num_return_sequences)]

        lengths = np.array([len(ids) for ids in token_lists], "int32")
        context = self.backbone.max_sequence_length
        ends = np.full_like(lengths, np.iinfo("int32").max)
        if max_new_tokens is not None:
            ends = np.minimum(ends, lengths + max_new_tokens)
        if max_length is not None:
            ends = np.minimum(ends, max_length)
        short = np.flatnonzero(ends <= lengths)
        if short.size:
            row = int(short[0])
            raise ValueError(f"Prompt {row} has {int(lengths[row])} tokens, so max_length="
                             f"{max_length} leaves no room to generate: raise max_length or "
                             "use max_new_tokens.")
        if ends.max() > context:
            raise ValueError(f"Prompt plus continuation needs {int(ends.max())} positions; "
                             f"the model's context is max_sequence_length={context}. Lower "
                             "max_length / max_new_tokens or shorten the prompt.")
        buffer_length = min(int(np.ceil(ends.max() / _BUCKET)) * _BUCKET, context)
        buffer = np.zeros((len(token_lists), buffer_length), "int32")
        for row, ids in enumerate(token_lists):
            buffer[row, :len(ids)] = ids
        prefill = decoding.prefill_positions(lengths, buffer_length, _PREFILL_MULTIPLE)
        key = (sampling.greedy, sampling.temperature, sampling.top_k, sampling.top_p,
               num_beams, length_penalty, stop_token_ids, bool(jit_compile), prefill)
        function = self._generate_functions.get(key, lambda: compile_with_model(
            self, self.decode_function(sampling, num_beams, length_penalty, stop_token_ids,
                                       prefill, one_row_matrices=bool(jit_compile)),
            jit_compile))
        outputs = function(buffer, lengths, ends.astype("int32"), seed_value(seed))
        outputs = np.asarray(ops.convert_to_numpy(outputs))
        if num_beams > 1:
            outputs = outputs[:, :num_return_sequences].reshape(-1, buffer_length)
            lengths = np.repeat(lengths, num_return_sequences)
            ends = np.repeat(ends, num_return_sequences)
        results = [self._trim(row, length, end, stop_token_ids)
                   for row, length, end in zip(outputs, lengths, ends)]
        if strings:
            # The prompt as given, then its continuation decoded (an empty
            # prompt's <|endoftext|> start is not part of it), as the serving
            # signature answers. Byte-level tokens can stop inside a multi-byte
            # character: incomplete sequences become U+FFFD, as transformers decodes.
            texts = [prompts] if isinstance(prompts, str) else list(prompts)
            texts = [text for text in texts for _ in range(len(results) // len(texts))]
            continuations = self.tokenizer.detokenize(
                [row[length:] for row, length in zip(results, lengths)]).numpy().tolist()
            return [text + (c.decode("utf-8", errors="replace") if isinstance(c, bytes) else c)
                    for text, c in zip(texts, continuations)]
        return results

    def _prompt_ids(self, prompts, strings):
        if strings:
            if self.tokenizer is None:
                raise ValueError("String prompts need a tokenizer: pass token ids, or load "
                                 "the model with from_pretrained from a directory holding "
                                 "vocab.json + merges.txt (or encoder.json + vocab.bpe).")
            texts = [prompts] if isinstance(prompts, str) else list(prompts)
            token_lists = self.tokenizer.tokenize(texts).to_list()
            end = self.tokenizer.end_of_text_id
            # GPT-2 starts documents after <|endoftext|>; an empty prompt needs it.
            token_lists = [ids if ids else ([end] if end is not None else ids)
                           for ids in token_lists]
        else:
            token_lists = []
            for index, ids in enumerate(prompts):
                if isinstance(ids, np.ndarray):
                    ids = ids.tolist()
                if not isinstance(ids, (list, tuple)) or not all(_is_int(t) for t in ids):
                    raise ValueError(f"Prompt {index} is not a list of int token ids: {ids!r}")
                token_lists.append([int(t) for t in ids])
        for index, ids in enumerate(token_lists):
            if not ids:
                raise ValueError(f"Prompt {index} is empty; generation needs at least one token.")
            bad = [t for t in ids if not 0 <= t < self.backbone.vocabulary_size]
            if bad:
                raise ValueError(f"Prompt {index} has token ids outside the vocabulary "
                                 f"(size {self.backbone.vocabulary_size}): {bad[:5]}")
        return token_lists

    @staticmethod
    def _trim(row, length, end, stop_token_ids):
        row = row[:end].tolist()
        for position in range(length, len(row)):
            if row[position] in stop_token_ids:
                return row[:position + 1]
        return row

    def decode_function(self, sampling, num_beams=1, length_penalty=0.6, stop_token_ids=(),
                        prefill_length=None, one_row_matrices=True):
        """`decode(buffer [B, L], prompt_lengths [B], end_indices [B], seed)`:
        completed buffers ([B, L], or [B, K, L] beams best first when
        num_beams > 1) from right-padded prompt ids. Plain keras.ops:
        `generate` compiles it, the SavedModel export (`CausalLMTask
        .serving_signature`) traces it. `prefill_length`: positions the
        first pass computes (`decoding.generate`; None: all L).
        `one_row_matrices`: steps of one row (B = 1, no beams) multiply by
        weights laid out for it (`layers.row_products`): faster under XLA on
        CPUs, slower in a plain TensorFlow graph."""
        backbone = self.backbone

        def decode(buffer, prompt_lengths, end_indices, seed):
            batch, length = ops.shape(buffer)[0], ops.shape(buffer)[1]
            cache = backbone.initial_cache(batch, length)
            rows = decoding.step_rows(buffer, num_beams) if one_row_matrices else None
            with one_row_products(backbone, rows):
                return decoding.generate(
                    backbone.call_with_cache, backbone.token_embedding.reverse_projection(),
                    cache, buffer, prompt_lengths, end_indices, sampling, seed,
                    num_beams, length_penalty, stop_token_ids, prefill_length=prefill_length)

        return decode


def _python_prompts(prompts):
    """Tensors, ragged tensors and arrays of prompts as Python lists (bytes as str)."""
    if hasattr(prompts, "to_list"):  # tf.RaggedTensor
        prompts = prompts.to_list()
    elif isinstance(prompts, np.ndarray) or hasattr(prompts, "numpy"):
        prompts = np.asarray(ops.convert_to_numpy(prompts)).tolist()
    if isinstance(prompts, bytes):
        return prompts.decode("utf-8")
    if isinstance(prompts, (list, tuple)):
        return [p.decode("utf-8") if isinstance(p, bytes) else p for p in prompts]
    return prompts


def _tokenizer_if_present(path):
    from tfzoo.preprocessing import GPT2Tokenizer

    names = set(os.listdir(path))
    if {"vocab.json", "merges.txt"} <= names or {"encoder.json", "vocab.bpe"} <= names:
        return GPT2Tokenizer.from_pretrained(path)
    return None


def _is_int(value):
    """An int (Python or NumPy), not a bool."""
    return isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))
