"""TF Hub-format BERT: a preprocessor SavedModel and an encoder SavedModel.

The pair follows TF Hub's API for text encoders ("Common SavedModel APIs for
text tasks", BERT flavour), so code written for TF Hub's BERT models runs on
tfzoo's unchanged:

    preprocessor = hub.load(preprocessor_dir)
    encoder = hub.load(encoder_dir)
    outputs = encoder(preprocessor(tf.constant(["hello world"])))
    outputs["pooled_output"]  # (B, D)

Preprocessor SavedModel (`export_hub_preprocessor`):
- called on strings [B] -> int32 [B, seq_length] `input_word_ids`,
  `input_mask`, `input_type_ids`;
- `.tokenize(strings)` -> int32 ragged [B, (words), (wordpieces)], and
  `.tokenize.get_special_tokens_dict()` -> int32 scalars `vocab_size`,
  `start_of_sequence_id`, `end_of_segment_id`, `padding_id`, `mask_id`;
- `.bert_pack_inputs([segment, ...], seq_length=N)` for 1 to 3 segments,
  each ragged [B, (tokens)] or [B, (words), (wordpieces)], to any length N.

Encoder SavedModel (`export_hub_encoder`):
- called on that dict (optionally with `training=True`) ->
  `sequence_output` [B, T, D], `pooled_output` [B, D], `default` (the same)
  and `encoder_outputs` (a list, one [B, T, D] per block);
- `.mlm(inputs)`, when a `BertPretrainer` is given: the same inputs plus
  `masked_lm_positions` [B, P] -> the same outputs plus `mlm_logits`
  [B, P, V]; it carries its own `variables` and `trainable_variables`;
- `vocab_file` (an asset) and `do_lower_case` (a bool tf.Variable), when a
  preprocessor is given; `variables`, `trainable_variables` as TF Hub's.

Both go through `export_saved_model`, i.e. `keras.export.ExportArchive`, and
carry a `serving_default` signature, so TF Serving's TF1 loader runs them:
the preprocessor's takes `sentences` (string [B]); the encoder's takes the
three token inputs and returns `sequence_output`, `pooled_output` and
`encoder_outputs_0`, `encoder_outputs_1`, ... The callable root and the
sub-objects are traced tf.functions and trackables that `export_saved_model`
sets on the archive's root object beside the signatures (`attributes`): a
signature cannot return a list or a ragged tensor, nor take a `training`
flag, and ExportArchive has no public API for other children.
"""

import os
import tempfile

import tensorflow as tf

from tfzoo.export.saved_model import ServingSignature, export_saved_model, float32_outputs
from tfzoo.models.bert.bert_backbone import INPUT_NAMES

_SPECIAL_TOKEN_KEYS = (
    "vocab_size", "start_of_sequence_id", "end_of_segment_id", "padding_id", "mask_id")


def _token_spec(names=INPUT_NAMES):
    """The encoder inputs: int32 [B, T] each."""
    return {name: tf.TensorSpec([None, None], tf.int32, name=name) for name in names}


class _HubTokenize(tf.Module):
    """The preprocessor's `.tokenize` sub-object: strings [B] -> ids [B, (words), (wordpieces)].

    Its `get_special_tokens_dict()` returns int32 scalar tensors, as a
    SavedModel function must (tfzoo's own returns Python ints).
    """

    def __init__(self, tokenize):
        super().__init__(name="tokenize")
        self._tokenize = tokenize  # tracked, so its vocabulary table is saved
        special = tokenize.get_special_tokens_dict()
        self._special_tokens = tuple((key, special[key]) for key in _SPECIAL_TOKEN_KEYS)

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string)], autograph=False)
    def __call__(self, strings):
        return self._tokenize(strings)

    @tf.function(input_signature=[], autograph=False)
    def get_special_tokens_dict(self):
        return {key: tf.constant(value, tf.int32) for key, value in self._special_tokens}


_MAX_SEGMENTS = 3


def export_hub_preprocessor(preprocessor, export_dir, seq_length=128):
    """Exports a `BertPreprocessor` as a TF Hub BERT preprocessor SavedModel.

    The root call packs one segment to `seq_length`.
    `bert_pack_inputs(segments, seq_length=N)` packs 1 to 3 segments (type
    ids 0, 1, 2) to any length N (a Python int, NumPy int or int32 scalar
    tensor), `seq_length` by default, as TF Hub's preprocessors do.

    Args:
        preprocessor: a `tfzoo.preprocessing.BertPreprocessor`.
        export_dir: target directory (must not hold a SavedModel).
        seq_length: int >= 3, the default length of the packed inputs.
            Defaults to 128, as TF Hub's.

    Returns:
        export_dir.
    """
    if (isinstance(seq_length, bool) or not isinstance(seq_length, int)
            or seq_length < 3):
        raise ValueError("`seq_length` must be an integer >= 3 ([CLS] and a [SEP] per "
                         f"segment, up to two segments). Received: seq_length={seq_length!r}")
    tokenize = _HubTokenize(preprocessor.tokenize)

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string, name="sentences")],
                 autograph=False)
    def preprocess(sentences):
        return preprocessor.bert_pack_inputs([preprocessor.tokenize(sentences)],
                                             seq_length=seq_length)

    @tf.function(autograph=False)
    def bert_pack_inputs(segments, seq_length=seq_length):
        return preprocessor.bert_pack_inputs(list(segments), seq_length=seq_length)

    # One trace per segment count and ragged rank (tokens or words/wordpieces),
    # with the default length and with any length (an int32 scalar).
    for num_segments in range(1, _MAX_SEGMENTS + 1):
        for ragged_rank in (1, 2):
            segments = [tf.RaggedTensorSpec([None] * (ragged_rank + 1), tf.int32)] * num_segments
            bert_pack_inputs.get_concrete_function(segments)
            bert_pack_inputs.get_concrete_function(
                segments, seq_length=tf.TensorSpec([], tf.int32))

    serving = ServingSignature(
        inputs={"sentences": tf.TensorSpec([None], tf.string, name="sentences")},
        fn=lambda inputs: preprocess(inputs["sentences"]),
        resources=(tokenize,),
        examples={"sentences": ["Hello world!", "TF Hub preprocessing."]},
    )
    return export_saved_model(
        preprocessor, export_dir, serving=serving,
        attributes={"__call__": preprocess, "tokenize": tokenize,
                    "bert_pack_inputs": bert_pack_inputs})


def _encode(backbone, inputs, training):
    """The backbone's outputs (float32) plus `default`, TF Hub's alias of
    `pooled_output`."""
    outputs = dict(backbone({name: inputs[name] for name in INPUT_NAMES}, training=training))
    outputs = {name: float32_outputs(value) for name, value in outputs.items()}
    outputs["default"] = outputs["pooled_output"]
    return outputs


def _traced_call(fn, input_spec):
    """`fn(inputs, training=False)` as a tf.function traced for both training values."""

    @tf.function(autograph=False)
    def call(inputs, training=False):
        return fn(inputs, training)

    for training in (False, True):
        call.get_concrete_function(input_spec, training=training)
    return call


def _sub_object(call, layers):
    """A SavedModel sub-object: `__call__` and the variables it reads, as TF Hub's."""

    def unique(variables):
        return list({id(v): v for v in variables}.values())  # shared ones once

    # A tf.Module computes `variables` as properties, which a SavedModel does
    # not keep; a Checkpoint is a plain trackable whose attributes it keeps.
    sub_object = tf.train.Checkpoint()
    sub_object.__call__ = call
    sub_object.variables = unique(v for layer in layers for v in layer.variables)
    sub_object.trainable_variables = unique(
        v for layer in layers for v in layer.trainable_variables)
    sub_object.non_trainable_variables = unique(
        v for layer in layers for v in layer.non_trainable_variables)
    return sub_object


def export_hub_encoder(backbone, export_dir, preprocessor=None, pretrainer=None):
    """Exports a BERT-family backbone as a TF Hub BERT encoder SavedModel.

    Args:
        backbone: a built `BertBackbone` (or subclass) with the inputs
            `input_word_ids`, `input_mask`, `input_type_ids`.
        export_dir: target directory (must not hold a SavedModel).
        preprocessor: optional `BertPreprocessor` whose vocabulary becomes
            the `vocab_file` asset and whose `lower_case` becomes
            `do_lower_case`, as TF Hub's encoders carry. Without it they are
            absent.
        pretrainer: optional `BertPretrainer` built on `backbone`, for the
            `.mlm` sub-object.

    Returns:
        export_dir.
    """
    inputs = getattr(backbone, "input", None)
    if not isinstance(inputs, dict) or set(inputs) != set(INPUT_NAMES):
        raise ValueError(f"A TF Hub encoder takes the inputs {list(INPUT_NAMES)}. Received "
                         f"a {type(backbone).__name__} with inputs {inputs!r}")
    if pretrainer is not None and getattr(pretrainer, "backbone", None) is not backbone:
        raise ValueError("`pretrainer` must be built on `backbone` (pretrainer.backbone is "
                         f"backbone). Received a {type(pretrainer).__name__} on "
                         f"{getattr(pretrainer, 'backbone', None)!r}")
    attributes = {"__call__": _traced_call(
        lambda x, training: _encode(backbone, x, training), _token_spec())}
    if pretrainer is not None:
        mlm_head = pretrainer.get_layer("mlm_head")

        def encode_and_predict(x, training):
            outputs = _encode(backbone, x, training)
            outputs["mlm_logits"] = float32_outputs(mlm_head(  # (B, P, V)
                outputs["sequence_output"], x["masked_lm_positions"], training=training))
            return outputs

        mlm_spec = dict(_token_spec(), masked_lm_positions=tf.TensorSpec(
            [None, None], tf.int32, name="masked_lm_positions"))
        attributes["mlm"] = _sub_object(_traced_call(encode_and_predict, mlm_spec),
                                        [backbone, mlm_head])
    with tempfile.TemporaryDirectory() as directory:
        if preprocessor is not None:
            preprocessor.save_pretrained(directory)  # writes vocab.txt
            # The asset is copied into export_dir/assets when the archive is written.
            attributes["vocab_file"] = tf.saved_model.Asset(os.path.join(directory, "vocab.txt"))
            attributes["do_lower_case"] = tf.Variable(
                preprocessor.lower_case, trainable=False, name="do_lower_case")
        return export_saved_model(backbone, export_dir, attributes=attributes)
