"""XLNet (Yang et al. 2019): a Transformer-XL encoder with two-stream attention,
pretrained by permutation language modelling, with the TF Hub encoder interface."""

import keras
from keras import ops

from tfzoo.checkpoints.xlnet import XLNET
from tfzoo.layers import Dropout, ReversibleEmbedding
from tfzoo.layers.relative_position_encoding import RelativePositionEncoding
from tfzoo.layers.utils import check_positive_int, check_rate, get_activation
from tfzoo.models.backbone import Backbone
from tfzoo.models.bert.bert_backbone import encoder_inputs
from tfzoo.models.xlnet.xlnet_block import XLNetBlock
from tfzoo.models.xlnet.xlnet_masks import XLNetMasks
from tfzoo.models.xlnet.xlnet_query_embedding import XLNetQueryEmbedding

# The inputs permutation language modelling adds (sections 2.2-2.3): the
# factorization order and the predicted positions.
PRETRAINING_INPUTS = ("perm_mask", "target_mapping")


@keras.saving.register_keras_serializable(package="tfzoo")
class XLNetBackbone(Backbone):
    """XLNet's encoder: token embeddings, then Transformer-XL blocks with
    relative positions, relative segments and two-stream self-attention.

    A functional `keras.Model` with the TF Hub text-encoder interface:

    - inputs: `input_word_ids`, `input_mask` (1 for real tokens, 0 for
      padding), `input_type_ids` (segment ids: XLNet's preprocessor gives 0
      for A, 1 for B, 2 for <cls>, 3 for padding; only "same segment or not"
      matters, section 2.5), each int32 [B, T]; with `memory_length > 0`
      also `memory` [B, L, M, D], every layer's input on the previous segment
      (M may be 0: `initial_memory(batch)`).
    - outputs: `sequence_output` [B, T, D], the content stream of the last
      layer; `pooled_output` [B, D], its LAST position: XLNet's summary token
      <cls> ends the input, which is padded on the left; with
      `memory_length > 0` also `memory` [B, L, min(M + T, memory_length), D]
      for the next segment (section 2.4, Transformer-XL's segment
      recurrence: the last `memory_length` states, without gradient).

    Permutation language modelling (sections 2.2-2.3) runs the query stream too:
    `encode(inputs)` accepts the same dict plus `perm_mask` [B, T, T]
    (`perm_mask[b, i, j] = 1`: i may not attend to j, transformers'
    convention) and `target_mapping` [B, P, T] (one-hot rows: prediction p
    is at position t), and then also returns `query_output` [B, P, D]. It
    runs the backbone's own layers, so `XLNetLMHead` builds its functional
    graph with it; called eagerly it is the backbone with those inputs.

    No absolute positions and no length limit. Weights load from Hugging Face
    `xlnet` checkpoints with `XLNetBackbone.from_pretrained(path)`.

    Args:
        vocabulary_size: int, SentencePiece vocabulary size (32000).
        num_layers: int, number of blocks (L).
        num_heads: int, attention heads per block.
        hidden_dim: int, model width (D).
        intermediate_dim: int, feed-forward inner width.
        dropout: float, dropout on the embeddings, the position encodings,
            attention probabilities, every sublayer's output and the final
            output, as XLNet. Defaults to 0.1.
        activation: feed-forward activation. Defaults to "gelu" (exact).
        layer_norm_epsilon: float. Defaults to 1e-12.
        memory_length: int, how many states of the previous segment each layer
            keeps (XLNet's `mem_len`); 0: no memory input or output.
            Defaults to 0.
        bi_data: bool, the second half of each batch holds reversed
            sequences (XLNet's bidirectional pretraining input): they get
            negated relative distances. Defaults to False.
        clamp_length: int, relative distances beyond it share one encoding;
            -1: none. Defaults to -1.
        initializer_range: float, stddev of the normal initializers (XLNet
            initializes the attention biases and segment embeddings the same
            way). Defaults to 0.02.
        **kwargs: `name`, `dtype` (e.g. "mixed_bfloat16"), `trainable`.

    Example:
    >>> backbone = XLNetBackbone(vocabulary_size=32000, num_layers=2, num_heads=2,
    ...                          hidden_dim=64, intermediate_dim=256)
    >>> ids = keras.ops.ones((1, 12), "int32")
    >>> outputs = backbone({"input_word_ids": ids, "input_mask": ids,
    ...                     "input_type_ids": keras.ops.zeros_like(ids)})
    >>> outputs["pooled_output"].shape
    (1, 64)
    """

    checkpoint_converter = XLNET

    def __init__(
        self,
        vocabulary_size,
        num_layers,
        num_heads,
        hidden_dim,
        intermediate_dim,
        dropout=0.1,
        activation="gelu",
        layer_norm_epsilon=1e-12,
        memory_length=0,
        bi_data=False,
        clamp_length=-1,
        initializer_range=0.02,
        **kwargs,
    ):
        check_positive_int("num_layers", num_layers)
        check_positive_int("hidden_dim", hidden_dim)
        check_positive_int("num_heads", num_heads)
        check_rate("dropout", dropout)
        get_activation(activation)
        if hidden_dim % num_heads:
            raise ValueError(
                f"hidden_dim ({hidden_dim}) must be divisible by num_heads ({num_heads}).")
        if hidden_dim % 2:
            raise ValueError(
                f"hidden_dim must be even (sine and cosine halves). Received: "
                f"hidden_dim={hidden_dim}")
        if isinstance(memory_length, bool) or not isinstance(memory_length, int) or (
                memory_length < 0):
            raise ValueError("`memory_length` must be an integer >= 0. Received: "
                             f"memory_length={memory_length!r}")
        if not isinstance(bi_data, bool):
            raise ValueError(f"`bi_data` must be a bool. Received: bi_data={bi_data!r}")
        dtype = kwargs.pop("dtype", None)

        def initializer():
            return keras.initializers.RandomNormal(stddev=initializer_range)

        # === Layers ===
        # One instance per role; the content and query streams call the same
        # blocks, so they share every weight.
        layers = {
            "token_embedding": ReversibleEmbedding(
                vocabulary_size, hidden_dim, embeddings_initializer=initializer(),
                dtype=dtype, name="token_embedding"),
            "query_embedding": XLNetQueryEmbedding(
                hidden_dim, initializer=initializer(), dtype=dtype, name="query_embedding"),
            "embedding_dropout": Dropout(
                dropout, dtype=dtype, name="embedding_dropout"),
            "masks": XLNetMasks(dtype=dtype, name="masks"),
            "position_encoding": RelativePositionEncoding(
                clamp_length=clamp_length, bidirectional=bi_data, dtype=dtype,
                name="position_encoding"),
            "position_dropout": Dropout(
                dropout, dtype=dtype, name="position_dropout"),
            "blocks": [
                XLNetBlock(
                    num_heads=num_heads,
                    intermediate_dim=intermediate_dim,
                    dropout=dropout,
                    activation=activation,
                    layer_norm_epsilon=layer_norm_epsilon,
                    kernel_initializer=initializer(),
                    bias_initializer=initializer(),
                    dtype=dtype,
                    name=f"transformer_layer_{i}",
                )
                for i in range(num_layers)
            ],
            "output_dropout": Dropout(dropout, dtype=dtype, name="output_dropout"),
        }

        # === Functional graph ===
        inputs = encoder_inputs()
        if memory_length:
            inputs["memory"] = keras.Input(
                shape=(num_layers, None, hidden_dim), dtype="float32", name="memory")
        outputs = _xlnet_outputs(layers, inputs, memory_length)
        # The query stream is not in this graph (only `encode` with a
        # target_mapping runs it), but its vector w is the backbone's weight.
        layers["query_embedding"].build((None, None, None))
        super().__init__(inputs=inputs, outputs=outputs, dtype=dtype, **kwargs)

        # === Config ===
        self.vocabulary_size = vocabulary_size
        self.num_layers = num_layers
        self.num_heads = num_heads
        self.hidden_dim = hidden_dim
        self.intermediate_dim = intermediate_dim
        self.dropout = dropout
        self.activation = activation
        self.layer_norm_epsilon = layer_norm_epsilon
        self.memory_length = memory_length
        self.bi_data = bi_data
        self.clamp_length = clamp_length
        self.initializer_range = initializer_range
        self.token_embedding = layers["token_embedding"]
        self.query_embedding = layers["query_embedding"]

    def encode(self, inputs):
        """The backbone's computation on a dict that may also hold `perm_mask`
        and `target_mapping` (then the outputs include `query_output`).

        Works on symbolic inputs (to build a functional task model on the
        backbone's layers, as `XLNetLMHead` does) and eagerly (inference:
        dropout is off).
        """
        missing = [name for name in self.input if name not in inputs]
        if missing:
            raise ValueError(f"XLNetBackbone.encode needs the inputs {missing}; received "
                             f"{sorted(inputs)}.")
        unknown = sorted(set(inputs) - set(self.input) - set(PRETRAINING_INPUTS))
        if unknown:
            raise ValueError(f"Unknown XLNet input(s) {unknown}; expected {sorted(self.input)} "
                             f"and optionally {list(PRETRAINING_INPUTS)}.")
        names = ("token_embedding", "embedding_dropout", "masks", "position_encoding",
                 "position_dropout", "output_dropout")
        layers = {name: self.get_layer(name) for name in names}
        layers["query_embedding"] = self.query_embedding
        layers["blocks"] = [self.get_layer(f"transformer_layer_{i}")
                            for i in range(self.num_layers)]
        return _xlnet_outputs(layers, inputs, self.memory_length)

    def initial_memory(self, batch_size):
        """Empty memory, [B, L, 0, D], for the first segment."""
        return ops.zeros((batch_size, self.num_layers, 0, self.hidden_dim))


def _xlnet_outputs(layers, inputs, memory_length):
    """Embeddings -> blocks (per stream) -> output dict, on symbolic or eager tensors."""
    dropout = layers["embedding_dropout"]
    content = dropout(layers["token_embedding"](inputs["input_word_ids"]))  # (B, T, D)
    target_mapping = inputs.get("target_mapping")
    query = None
    if target_mapping is not None:
        query = dropout(layers["query_embedding"](target_mapping))  # (B, P, D)
    blocks = layers["blocks"]
    memory = inputs.get("memory")  # (B, L, M, D)
    layer_memory = [None] * len(blocks) if memory is None else [
        memory[:, i] for i in range(len(blocks))]  # L x (B, M, D)
    masks = layers["masks"](inputs["input_mask"], inputs["input_type_ids"],
                            perm_mask=inputs.get("perm_mask"), memory=layer_memory[0])
    position_encoding = layers["position_dropout"](
        layers["position_encoding"](content, memory=layer_memory[0]))  # (B, M + 2T, D)

    next_memory = []
    for block, previous in zip(blocks, layer_memory):
        if memory_length:
            # Transformer-XL caches each layer's input: the last memory_length
            # states of [previous memory, this segment], without gradient.
            states = ops.concatenate([ops.cast(previous, content.dtype), content], axis=1)
            next_memory.append(ops.stop_gradient(states[:, -memory_length:]))
        shared = {"position_encoding": position_encoding,
                  "segment_matrix": masks["segment_matrix"], "memory": previous}
        if query is not None:  # reads this layer's content input, so it goes first
            query = block(query, content, attention_mask=masks["query_mask"],
                          target_mapping=target_mapping, **shared)
        content = block(content, content, attention_mask=masks["content_mask"], **shared)

    sequence_output = layers["output_dropout"](content)  # (B, T, D)
    results = {
        "sequence_output": sequence_output,
        # <cls> is the last token (left padding): XLNet's summary position.
        "pooled_output": sequence_output[:, -1, :],  # (B, D)
    }
    if query is not None:
        results["query_output"] = layers["output_dropout"](query)  # (B, P, D)
    if memory_length:
        results["memory"] = ops.stack(next_memory, axis=1)  # (B, L, M', D)
    return results
