"""XLNet pretraining: permutation language modelling (Yang et al. 2019, sections 2.2-2.3)."""

import keras
from keras import ops

from tfzoo.checkpoints.pretrained import detect_format, load_converted_weights
from tfzoo.models.task import Task
from tfzoo.models.xlnet.xlnet_backbone import XLNetBackbone


class _TiedOutputProjection(keras.layers.Layer):
    """Logits from hidden states: the transposed token embedding plus a bias
    (XLNetLMHeadModel's `lm_loss`, its weight tied to the word embedding).

    Args:
        token_embedding: the backbone's `tfzoo.layers.ReversibleEmbedding`.
            Not serialised: the task model passes it when it is rebuilt.
        **kwargs: standard `keras.layers.Layer` arguments.

    Call arguments:
        hidden: [B, P, D].

    Returns:
        Logits [B, P, V].
    """

    def __init__(self, token_embedding, **kwargs):
        super().__init__(**kwargs)
        self.token_embedding = token_embedding
        self.vocabulary_size = token_embedding.input_dim

    def build(self, hidden_shape):
        self.output_bias = self.add_weight(
            name="output_bias", shape=(self.vocabulary_size,), initializer="zeros")
        self.built = True

    def call(self, hidden):
        logits = self.token_embedding(hidden, reverse=True)  # (B, P, V)
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
    the output projection tied to the word embedding, plus a bias (as
    transformers' XLNetLMHeadModel).

    `compile()` defaults to sparse cross-entropy averaged over real
    predictions (`sample_weight` 0 marks padded prediction slots;
    `tfzoo.data.xlnet` yields it) and accuracy.

    Args:
        backbone: an `XLNetBackbone`.
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

    def __init__(self, backbone, **kwargs):
        if not isinstance(backbone, XLNetBackbone):
            raise ValueError(
                f"XLNetLMHead needs an XLNetBackbone. Received: {type(backbone).__name__}")
        inputs = dict(backbone.input)
        inputs["perm_mask"] = keras.Input(shape=(None, None), dtype="float32", name="perm_mask")
        inputs["target_mapping"] = keras.Input(
            shape=(None, None), dtype="float32", name="target_mapping")
        query = backbone.encode(inputs)["query_output"]  # (B, P, D)
        logits = _TiedOutputProjection(backbone.token_embedding, name="lm_head")(query)
        super().__init__(backbone=backbone, inputs=inputs, outputs=logits, **kwargs)

    def default_loss(self):
        return keras.losses.SparseCategoricalCrossentropy(
            from_logits=True, reduction="mean_with_sample_weight")

    @classmethod
    def from_pretrained(cls, path, load_weights=True, **overrides):
        """Restores the model from a tfzoo directory or a Hugging Face `xlnet`
        one (XLNetLMHeadModel: the encoder and `lm_loss.bias`; XLNetModel:
        the encoder, and the output bias starts at zero)."""
        checkpoint_format, config, reader = detect_format(path)
        if checkpoint_format == "tfzoo":
            return super().from_pretrained(path, load_weights=load_weights, **overrides)
        backbone = XLNetBackbone.from_pretrained(path, load_weights=False, **overrides)
        model = cls(backbone)
        if load_weights:
            has_head = any(key.endswith("lm_loss.bias") for key in reader.keys())
            load_converted_weights(model, checkpoint_format, config, reader,
                                   XLNetBackbone.checkpoint_converter,
                                   skip=() if has_head else (r"lm_head/",))
        return model
