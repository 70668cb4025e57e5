"""Checks an export the way TensorFlow Serving loads it.

The model server restores a SavedModel with the TF1 session loader and knows
only core TF ops and the TF Text ops it links. `run_with_tf1_loader` runs a
signature in a fresh Python process that imports nothing but tensorflow and
tensorflow_text, with `tf.compat.v1.saved_model.load`; `check_serving_ops`
refuses ops that are neither core TF nor in `TF_TEXT_SERVING_OPS`.
"""

import json
import os
import subprocess
import sys

# The TF Text ops that TensorFlow Serving 2.20's model server links, by TF Text
# library. Source: the server links `@org_tensorflow_text//tensorflow_text:ops_lib`
# (tensorflow/serving, tensorflow_serving/model_servers/BUILD,
# SUPPORTED_TENSORFLOW_OPS) at TF Text 2.20.0 (tensorflow_serving/workspace.bzl,
# `org_tensorflow_text`, strip_prefix text-2.20.0). ops_lib's 24 libraries are
# listed in tensorflow/text's tensorflow_text/BUILD; the op names are those each
# library registers, read from the registry before and after loading each
# `tensorflow_text/python/ops/_<library>.so` of the tensorflow-text 2.21.1 wheel
# installed with tfzoo (the 2.20.0 wheel was not compared op by op), except the
# two libraries the wheel does not ship as a .so, whose names come from their
# REGISTER_OP calls (core/ops/rouge_l_op.cc, core/ops/sentencepiece_mobile_ops.cc).
# Server versions 2.12-2.19 carry TF Text 2.12, which lacks TFText>RoundRobinTrim
# and TFText>RoundRobinGenerateMasks: exports that trim pairs need server >= 2.20.
TF_TEXT_SERVING_OPS = frozenset({
    # boise_offset_converter
    "TFText>BoiseTagsToOffsets", "TFText>OffsetsToBoiseTags",
    # byte_splitter
    "TFText>ByteSplitByOffsets", "TFText>ByteSplitWithOffsets",
    # constrained_sequence_op
    "ConstrainedSequence",
    # fast_bert_normalizer
    "FastBertNormalize",
    # fast_sentencepiece_tokenizer
    "TFText>FastSentencepieceDetokenize", "TFText>FastSentencepieceTokenize",
    # fast_wordpiece_tokenizer
    "FastWordpieceTokenizeWithOffsets", "TFText>FastWordpieceDetokenize",
    # mst_ops
    "MaxSpanningTree",
    # ngrams_op
    "TFText>NgramsStringJoin",
    # normalize_ops
    "CaseFoldUTF8", "FindSourceOffsets", "NormalizeUTF8", "NormalizeUTF8WithOffsetsMap",
    # phrase_tokenizer
    "PhraseTokenize", "TFText>PhraseDetokenize",
    # regex_split_ops
    "RegexSplitWithOffsets",
    # sentence_breaking_ops
    "SentenceFragments",
    # sentencepiece_mobile_tokenizer
    "TFSentencepieceTokenizeOp", "TFSentencepieceDetokenizeOp",
    # sentencepiece_tokenizer
    "SentencepieceOp", "SentencepieceTokenizeOp", "SentencepieceTokenizeWithOffsetsOp",
    "SentencepieceDetokenizeOp", "SentencepieceVocabSizeOp", "SentencepieceIdToStringOp",
    "SentencepieceStringToIdOp",
    # split_merge_from_logits_tokenizer
    "TokenizerFromLogits",
    # split_merge_tokenizer
    "SplitMergeTokenizeWithOffsets",
    # state_based_sentence_breaker_op
    "SentenceFragmentsV2",
    # text_similarity_metric_ops
    "RougeL",
    # trimmer_ops
    "TFText>RoundRobinGenerateMasks", "TFText>RoundRobinTrim",
    # unicode_script_tokenizer
    "UnicodeScriptTokenizeWithOffsets",
    # utf8_binarize_op
    "TFText>Utf8Binarize",
    # whitespace_tokenizer
    "WhitespaceTokenizeWithOffsets",
    # whitespace_tokenizer_v2
    "TFText>WhitespaceTokenizeWithOffsetsV2",
    # wordpiece_tokenizer
    "WordpieceTokenizeWithOffsets",
})

_SCRIPT = r"""
import json, sys
import numpy as np
import tensorflow as tf
import tensorflow_text  # noqa: F401  (registers the TF Text ops, as the server does)

export_dir, signature_name, inputs = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
with tf.compat.v1.Session(graph=tf.Graph()) as session:
    meta_graph = tf.compat.v1.saved_model.load(session, ["serve"], export_dir)
    signature = meta_graph.signature_def[signature_name]
    missing = sorted(set(signature.inputs) - set(inputs))
    if missing:
        raise SystemExit(f"missing inputs {missing}")
    feed = {signature.inputs[name].name: value for name, value in inputs.items()}
    fetch = {name: info.name for name, info in signature.outputs.items()}
    outputs = session.run(fetch, feed)

def plain(value):
    value = np.asarray(value)
    if value.dtype.kind in "SO":
        return [v.decode("utf-8") if isinstance(v, bytes) else v for v in value.tolist()]
    return value.tolist()

print("TF1_OUTPUTS=" + json.dumps({k: plain(v) for k, v in outputs.items()}))
"""


def run_with_tf1_loader(export_dir, inputs, signature_name="serving_default", timeout=300):
    """Runs `signature_name` of the export in a fresh TF1-loader process.

    Args:
        export_dir: the SavedModel directory (a version directory).
        inputs: dict input name -> list of values (strings or numbers).

    Returns:
        dict output name -> nested lists (strings decoded).
    """
    environment = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
    result = subprocess.run(
        [sys.executable, "-c", _SCRIPT, export_dir, signature_name, json.dumps(inputs)],
        capture_output=True, text=True, timeout=timeout, env=environment)
    marker = [line for line in result.stdout.splitlines() if line.startswith("TF1_OUTPUTS=")]
    if result.returncode != 0 or not marker:
        raise RuntimeError(f"The TF1 session loader could not run {export_dir}:\n"
                           f"{result.stderr[-4000:]}")
    return json.loads(marker[0][len("TF1_OUTPUTS="):])


def graph_ops(export_dir):
    """Every op type in the export's graph, its functions included."""
    from tensorflow.core.protobuf import saved_model_pb2

    proto = saved_model_pb2.SavedModel()
    with open(os.path.join(export_dir, "saved_model.pb"), "rb") as f:
        proto.ParseFromString(f.read())
    ops, functions = set(), set()
    for meta_graph in proto.meta_graphs:
        ops.update(node.op for node in meta_graph.graph_def.node)
        for function in meta_graph.graph_def.library.function:
            functions.add(function.signature.name)
            ops.update(node.op for node in function.node_def)
    return ops - functions  # calls of the graph's own functions are not ops


def check_serving_ops(export_dir):
    """Raises ValueError naming every op of the export the model server lacks.

    Allowed: core TF ops (`tf.raw_ops`) and `TF_TEXT_SERVING_OPS`. XLA-only ops
    (e.g. XlaDynamicUpdateSlice, which `keras.ops.slice_update` becomes) are
    not core ops: the server runs them only through XLA's on-demand compiler.

    Returns:
        The sorted op names of the export.
    """
    import tensorflow as tf

    ops = graph_ops(export_dir)
    unknown = sorted(op for op in ops
                     if op not in TF_TEXT_SERVING_OPS and not hasattr(tf.raw_ops, op))
    if unknown:
        raise ValueError(f"{export_dir} uses ops that neither core TensorFlow nor the TF Text "
                         f"ops of TF Serving 2.20 provide: {unknown}")
    return sorted(ops)
