"""A TF Hub BERT encoder SavedModel as a trainable Keras 3 layer."""

import os

import keras

from tfzoo.hub.handles import check_tensorflow_backend, load_saved_model


def _in_safe_mode():
    # Keras 3.15 has no public accessor for the safe mode of `load_model`.
    from keras.src.saving import serialization_lib

    return serialization_lib.in_safe_mode()


@keras.saving.register_keras_serializable(package="tfzoo")
class HubEncoder(keras.layers.Layer):
    """A TF Hub text encoder (BERT and friends) that fine-tunes in Keras 3.

    `hub.KerasLayer` is a Keras 2 (tf_keras) layer and cannot be used in a
    Keras 3 model (tensorflow/hub#903); `keras.layers.TFSMLayer` calls a
    signature, which cannot return `encoder_outputs` (a list) nor switch
    dropout. This layer calls the SavedModel's TF Hub interface,
    `encoder(inputs, training=...)`, and hands the variables that call reads
    to Keras: each becomes a `keras.Variable` around the same `tf.Variable`
    (no copy), so `model.fit` takes gradients for them and the optimizer
    updates the SavedModel's own variables.

    Works with TF Hub's BERT encoders and with `tfzoo.export.hub` exports.
    TensorFlow backend only. Under a `tf.distribute` strategy, create it
    inside `strategy.scope()`, like the rest of the model.

    Args:
        handle: str, a SavedModel directory or a TF Hub handle (resolved and
            cached by `tensorflow_hub`).
        trainable: bool, fine-tune the encoder's variables. Defaults to True.
        endpoint: str or None, a callable sub-object to call instead of the
            root, e.g. "mlm" (its inputs add `masked_lm_positions`, its
            outputs `mlm_logits`). Defaults to None.
        **kwargs: `name`, `dtype` (the SavedModel computes in the dtype it
            was exported with).

    Call arguments:
        inputs: dict of int32 [B, T] tensors `input_word_ids`, `input_mask`,
            `input_type_ids` (plus `masked_lm_positions` [B, P] for "mlm").
        training: bool, run the SavedModel's training trace (dropout on).

    Returns:
        The SavedModel's dict: `sequence_output` [B, T, D], `pooled_output`
        [B, D], `default` (= `pooled_output`) and `encoder_outputs` (a list,
        one [B, T, D] per layer).

    Saving: `get_config` keeps the handle and `from_config` loads it again;
    a `.keras` file stores the fine-tuned values. Loading one runs the
    SavedModel's graph, so `keras.saving.load_model` refuses it in safe mode,
    as it refuses `TFSMLayer`: pass `safe_mode=False` for files you trust.

    Example:
    >>> inputs = {name: keras.Input((None,), dtype="int32", name=name)
    ...           for name in ("input_word_ids", "input_mask", "input_type_ids")}
    >>> encoder = HubEncoder("exports/bert_encoder")
    >>> logits = keras.layers.Dense(2)(encoder(inputs)["pooled_output"])
    >>> model = keras.Model(inputs, logits)  # model.fit fine-tunes the encoder
    """

    def __init__(self, handle, trainable=True, endpoint=None, **kwargs):
        check_tensorflow_backend(type(self).__name__)
        super().__init__(trainable=trainable, **kwargs)
        self.handle = os.fspath(handle)
        self.endpoint = endpoint
        self._saved_model = load_saved_model(self.handle)
        function = self._saved_model
        if endpoint is not None:
            function = getattr(self._saved_model, endpoint, None)
            if function is None:
                raise ValueError(f"The SavedModel at {self.handle!r} has no sub-object "
                                 f"{endpoint!r}. Received: endpoint={endpoint!r}")
        concrete_functions = getattr(function.__call__, "concrete_functions", None) if callable(
            function) else None
        if not concrete_functions:
            raise ValueError(f"{self.handle!r}{'' if endpoint is None else '.' + endpoint} "
                             "is not callable; TF Hub encoders are (`encoder(inputs)`).")
        self._function = function
        self._input_specs = _encoder_input_specs(concrete_functions)
        if self._input_specs is None:
            signatures = [str(c.structured_input_signature[0]) for c in concrete_functions][:2]
            raise ValueError(
                f"{self.handle!r}{'' if endpoint is None else '.' + endpoint} is no TF Hub "
                "BERT encoder: its call does not take a dict with input_word_ids (it takes "
                f"{'; '.join(signatures)}). A preprocessor? Wrap it with HubPreprocessor.")
        # Every variable some trace reads, once; wrapped, not copied.
        used = {}
        for concrete in concrete_functions:
            for variable in concrete.variables:
                used.setdefault(id(variable), variable)
        self.saved_model_variables = [
            keras.Variable(
                initializer=variable,
                trainable=variable.trainable,
                dtype=variable.dtype,
                shape=variable.shape,
                # Keras variable names cannot hold "/".
                name=variable.name.split(":")[0].replace("/", "_"),
            )
            for variable in used.values()
        ]
        if any(wrapper.value is not variable
               for wrapper, variable in zip(self.saved_model_variables, used.values())):
            raise RuntimeError("This Keras version copies a tf.Variable given as initializer; "
                               "the optimizer would train copies the SavedModel never reads.")
        # Layer.__init__ set `trainable` before these variables existed, and
        # assigning an unchanged value skips the setter (TF's __setattr__), so
        # the setter flags them here; else a frozen layer's variables would
        # still be in the model's trainable_weights.
        keras.layers.Layer.trainable.fset(self, trainable)
        self.built = True

    def call(self, inputs, training=False):
        import tensorflow as tf

        if not isinstance(inputs, dict):
            raise ValueError("HubEncoder takes a dict of token tensors with keys "
                             f"{sorted(self._input_specs)}. Received: {type(inputs).__name__}")
        missing = sorted(set(self._input_specs) - set(inputs))
        if missing:
            raise ValueError(f"HubEncoder inputs lack {missing}; the encoder takes "
                             f"{sorted(self._input_specs)}. Received keys: {sorted(inputs)}")
        converted = {}
        for name, spec in self._input_specs.items():
            value = tf.convert_to_tensor(inputs[name])
            if not value.dtype.is_integer:
                raise ValueError(f"HubEncoder input {name!r} must hold integer token ids / "
                                 f"masks. Received dtype {value.dtype.name}")
            converted[name] = tf.cast(value, spec.dtype)  # e.g. numpy's int64 -> int32
        return self._function(converted, training=bool(training))

    def get_config(self):
        config = super().get_config()
        config.update({"handle": self.handle, "endpoint": self.endpoint})
        return config

    @classmethod
    def from_config(cls, config):
        if _in_safe_mode():
            raise ValueError(
                f"Loading a {cls.__name__} runs the graph of the SavedModel at "
                f"{config.get('handle')!r}, which safe mode forbids. If you trust it, pass "
                "safe_mode=False to keras.saving.load_model.")
        return cls(**config)


def _encoder_input_specs(concrete_functions):
    """name -> TensorSpec of the dict a TF Hub BERT encoder takes, or None."""
    for concrete in concrete_functions:
        args = concrete.structured_input_signature[0]
        if args and isinstance(args[0], dict) and "input_word_ids" in args[0]:
            return dict(args[0])
    return None
