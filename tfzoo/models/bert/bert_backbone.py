"""BERT's encoder stack (Devlin et al. 2018) with the TF Hub text-encoder interface."""

import keras

from tfzoo.checkpoints.bert import BERT
from tfzoo.layers import TokenAndPositionEmbedding, TransformerEncoderBlock
from tfzoo.layers.utils import check_positive_int
from tfzoo.models.backbone import Backbone

INPUT_NAMES = ("input_word_ids", "input_mask", "input_type_ids")


def encoder_inputs():
    """The three int32 [B, T] inputs of the TF Hub text-encoder interface."""
    return {name: keras.Input(shape=(None,), dtype="int32", name=name) for name in INPUT_NAMES}


@keras.saving.register_keras_serializable(package="tfzoo")
class BertBackbone(Backbone):
    """BERT: token + position + segment embeddings, then post-LN encoder blocks.

    A functional `keras.Model` taking the TF Hub text-encoder inputs and
    returning its outputs (see the paper, section 3, and figure 2):

    - inputs: `input_word_ids`, `input_mask` (1 for real tokens, 0 for
      padding), `input_type_ids` (segment ids), each int32 [B, T];
    - outputs: `sequence_output` [B, T, D]; `pooled_output` [B, D], a tanh
      dense layer on the first ([CLS]) position; `encoder_outputs`, the list
      of every block's output [B, T, D].

    Weights load from Hugging Face, original Google BERT and tfzoo checkpoints
    with `BertBackbone.from_pretrained(path)`.

    Args:
        vocabulary_size: int, WordPiece vocabulary size.
        num_layers: int, number of encoder blocks (L).
        num_heads: int, attention heads per block (A).
        hidden_dim: int, model width (H in the paper, D here).
        intermediate_dim: int, feed-forward inner width (4H in the paper).
        max_sequence_length: int, number of learned positions. Defaults to 512.
        type_vocab_size: int, number of segment ids. Defaults to 2.
        dropout: float, dropout on embeddings and every sublayer's output.
            Defaults to 0.1.
        attention_dropout: float, dropout on attention probabilities.
            Defaults to 0, so training runs the fused attention kernel (cuDNN
            flash attention on GPUs); the paper's recipe used `dropout`'s
            rate here (pass 0.1 for it, at the cost of the explicit path).
        activation: feed-forward activation. Defaults to "gelu" (exact).
        layer_norm_epsilon: float. Defaults to 1e-12.
        initializer_range: float, stddev of the truncated-normal initializer.
            Defaults to 0.02.
        **kwargs: `name`, `dtype` (e.g. "mixed_bfloat16"), `trainable`.

    Example:
    >>> backbone = BertBackbone(vocabulary_size=30522, num_layers=2, num_heads=2,
    ...                         hidden_dim=128, intermediate_dim=512)
    >>> ids = keras.ops.ones((1, 12), "int32")
    >>> outputs = backbone({"input_word_ids": ids, "input_mask": ids,
    ...                     "input_type_ids": keras.ops.zeros_like(ids)})
    >>> outputs["pooled_output"].shape
    (1, 128)
    """

    checkpoint_converter = BERT
    # What the RoBERTa and DistilBERT subclasses change.
    position_offset = 0  # first position id (RoBERTa: pad_token_id + 1)
    use_pooler = True

    def __init__(
        self,
        vocabulary_size,
        num_layers,
        num_heads,
        hidden_dim,
        intermediate_dim,
        max_sequence_length=512,
        type_vocab_size=2,
        dropout=0.1,
        attention_dropout=0.0,
        activation="gelu",
        layer_norm_epsilon=1e-12,
        initializer_range=0.02,
        **kwargs,
    ):
        check_positive_int("num_layers", num_layers)
        check_positive_int("hidden_dim", hidden_dim)
        check_positive_int("num_heads", num_heads)
        if hidden_dim % num_heads:
            raise ValueError(
                f"hidden_dim ({hidden_dim}) must be divisible by num_heads ({num_heads})."
            )
        dtype = kwargs.pop("dtype", None)

        def initializer():
            return keras.initializers.TruncatedNormal(stddev=initializer_range)

        # === Layers ===
        embeddings = TokenAndPositionEmbedding(
            vocabulary_size=vocabulary_size,
            sequence_length=max_sequence_length + self.position_offset,
            embedding_dim=hidden_dim,
            type_vocabulary_size=type_vocab_size,
            use_layer_norm=True,
            layer_norm_epsilon=layer_norm_epsilon,
            dropout=dropout,
            embeddings_initializer=initializer(),
            dtype=dtype,
            name="embeddings",
        )
        blocks = [
            TransformerEncoderBlock(
                num_heads=num_heads,
                intermediate_dim=intermediate_dim,
                dropout=dropout,
                attention_dropout=attention_dropout,
                activation=activation,
                normalize_first=False,
                layer_norm_epsilon=layer_norm_epsilon,
                kernel_initializer=initializer(),
                dtype=dtype,
                name=f"transformer_layer_{i}",
            )
            for i in range(num_layers)
        ]
        pooler = None
        if self.use_pooler:
            pooler = keras.layers.Dense(
                hidden_dim,
                activation="tanh",
                kernel_initializer=initializer(),
                dtype=dtype,
                name="pooler",
            )

        # === Functional graph ===
        inputs = encoder_inputs()
        token_type_ids = inputs["input_type_ids"] if type_vocab_size > 1 else None
        if type_vocab_size == 1:
            # RoBERTa keeps a single segment embedding, added to every token.
            token_type_ids = keras.ops.zeros_like(inputs["input_word_ids"])
        x = embeddings(
            inputs["input_word_ids"],
            token_type_ids=token_type_ids,
            start_index=self.position_offset,
        )  # (B, T, D)
        encoder_outputs = []
        for block in blocks:
            x = block(x, padding_mask=inputs["input_mask"])
            encoder_outputs.append(x)
        first_token = x[:, 0, :]  # (B, D), the [CLS] position
        pooled_output = pooler(first_token) if pooler is not None else first_token
        super().__init__(
            inputs=inputs,
            outputs={
                "sequence_output": x,
                "pooled_output": pooled_output,
                "encoder_outputs": encoder_outputs,
            },
            dtype=dtype,
            **kwargs,
        )

        # === Config ===
        self.vocabulary_size = vocabulary_size
        self.num_layers = num_layers
        self.num_heads = num_heads
        self.hidden_dim = hidden_dim
        self.intermediate_dim = intermediate_dim
        self.max_sequence_length = max_sequence_length
        self.type_vocab_size = type_vocab_size
        self.dropout = dropout
        self.attention_dropout = attention_dropout
        self.activation = activation
        self.layer_norm_epsilon = layer_norm_epsilon
        self.initializer_range = initializer_range
        self.token_embedding = embeddings.token_embedding
