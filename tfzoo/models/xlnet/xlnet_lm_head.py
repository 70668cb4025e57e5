"""XLNet pretraining: permutation language modelling (Yang et al. 2019, sections 2.2-2.3)."""

import keras
from keras import ops

from tfzoo.checkpoints.pretrained import detect_format, load_converted_weights
from tfzoo.models.task import Task
from tfzoo.models.xlnet.xlnet_backbone import XLNetBackbone


class _OutputProjection(keras.layers.Layer):
    """Logits from hidden states: XLNetLMHeadModel's `lm_loss`, a projection to
    the vocabulary plus a bias. Its weight is the word embedding (transposed)
    when tied, else a kernel of its own.

    Args:
        token_embedding: the backbone's `tfzoo.layers.ReversibleEmbedding`.
            Not serialised: the task model passes it when it is rebuilt.
        tie_weights: bool, project with the word embedding. Defaults to True.
        kernel_initializer: initializer of the untied kernel [D, V].
        **kwargs: standard `keras.layers.Layer` arguments.

    Call arguments:
        hidden: [B, P, D].

    Returns:
        Logits [B, P, V].
    """

    def __init__(self, token_embedding, tie_weights=True, kernel_initializer="glorot_uniform",
                 **kwargs):
        super().__init__(**kwargs)
        self.token_embedding = token_embedding
        self.tie_weights = tie_weights
        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        self.vocabulary_size = token_embedding.input_dim

    def build(self, hidden_shape):
        if not self.tie_weights:
            self.output_kernel = self.add_weight(
                name="output_kernel", shape=(hidden_shape[-1], self.vocabulary_size),
                initializer=self.kernel_initializer)
        self.output_bias = self.add_weight(
            name="output_bias", shape=(self.vocabulary_size,), initializer="zeros")
        self.built = True

    def call(self, hidden):
        if self.tie_weights:
            logits = self.token_embedding(hidden, reverse=True)  # (B, P, V)
        else:
            logits = ops.matmul(hidden, ops.cast(self.output_kernel, hidden.dtype))  # (B, P, V)
        return logits + ops.cast(self.output_bias, logits.dtype)

    def compute_output_shape(self, hidden_shape):
        return tuple(hidden_shape[:-1]) + (self.vocabulary_size,)


@keras.saving.register_keras_serializable(package="tfzoo")
class XLNetLMHead(Task):
    """Predicts the tokens at the target positions from the query stream.

    For each sequence a factorization order is sampled; `perm_mask` says
    which positions each one may see under it and `target_mapping` picks
    the P positions to predict (partial prediction: the last ones of the
    order, section 2.3). The query stream at a target sees neither its own
    token nor anything after it in the order; its last state goes through
    the output projection (tied to the word embedding unless
    `tie_word_embeddings=False`), plus a bias, as transformers'
    XLNetLMHeadModel.

    `compile()` defaults to sparse cross-entropy averaged over real
    predictions (`sample_weight` 0 marks padded prediction slots;
    `tfzoo.data.xlnet` yields it) and accuracy.

    Args:
        backbone: an `XLNetBackbone`.
        tie_word_embeddings: bool, the output projection is the word
            embedding (transposed); False gives the head its own [D, V]
            kernel (XLNetLMHeadModel saved with tie_word_embeddings=False).
            Defaults to True.
        **kwargs: standard `keras.Model` arguments.

    Inputs: the backbone's dict plus `perm_mask` float [B, T, T]
    (1: i may not attend to j) and `target_mapping` float [B, P, T] (one-hot
    rows). Outputs: logits [B, P, V].

    Example:
    >>> model = XLNetLMHead(XLNetBackbone(vocabulary_size=1000, num_layers=2,
    ...                                   num_heads=2, hidden_dim=64,
    ...                                   intermediate_dim=256))
    >>> model.compile()
    """

    def __init__(self, backbone, tie_word_embeddings=True, **kwargs):
        if not isinstance(backbone, XLNetBackbone):
            raise ValueError(
                f"XLNetLMHead needs an XLNetBackbone. Received: {type(backbone).__name__}")
        if not isinstance(tie_word_embeddings, bool):
            raise ValueError("`tie_word_embeddings` must be a bool. Received: "
                             f"tie_word_embeddings={tie_word_embeddings!r}")
        backbone.query_embedding.trainable = True  # a fine-tuning head may have frozen it
        inputs = dict(backbone.input)
        inputs["perm_mask"] = keras.Input(shape=(None, None), dtype="float32", name="perm_mask")
        inputs["target_mapping"] = keras.Input(
            shape=(None, None), dtype="float32", name="target_mapping")
        query = backbone.encode(inputs)["query_output"]  # (B, P, D)
        logits = _OutputProjection(
            backbone.token_embedding, tie_weights=tie_word_embeddings,
            kernel_initializer=keras.initializers.RandomNormal(
                stddev=backbone.initializer_range),
            name="lm_head")(query)  # (B, P, V)
        super().__init__(backbone=backbone, inputs=inputs, outputs=logits, **kwargs)
        self.tie_word_embeddings = tie_word_embeddings

    def task_config(self):
        return {"tie_word_embeddings": self.tie_word_embeddings}

    def default_loss(self):
        return keras.losses.SparseCategoricalCrossentropy(
            from_logits=True, reduction="mean_with_sample_weight")

    @classmethod
    def from_pretrained(cls, path, load_weights=True, **overrides):
        """Restores the model from a tfzoo directory or a Hugging Face `xlnet`
        one (XLNetLMHeadModel: the encoder and `lm_loss`, its weight too when
        config.json says tie_word_embeddings=false; XLNetModel: the encoder,
        and the head starts untrained, its bias at zero). Overrides are the
        head's arguments or the backbone's."""
        checkpoint_format, config, reader = detect_format(path)
        if checkpoint_format == "tfzoo":
            return super().from_pretrained(path, load_weights=load_weights, **overrides)
        head_overrides, backbone_overrides = cls.split_overrides(overrides, XLNetBackbone)
        backbone = XLNetBackbone.from_pretrained(path, load_weights=False,
                                                 **backbone_overrides)
        head_overrides.setdefault("tie_word_embeddings",
                                  bool(config.get("tie_word_embeddings", True)))
        model = cls(backbone, **head_overrides)
        if load_weights:
            has_head = any(key.endswith("lm_loss.bias") for key in reader.keys())
            load_converted_weights(model, checkpoint_format, config, reader,
                                   XLNetBackbone.checkpoint_converter,
                                   skip=() if has_head else (r"lm_head/",))
        return model
