"""Shared test helpers: every tfzoo layer goes through `run_layer_test`."""

import os
import tempfile

import keras
import numpy as np
from keras import ops


def to_numpy(x):
    return np.asarray(ops.convert_to_numpy(x))


def as_tuple(outputs):
    return tuple(outputs) if isinstance(outputs, (tuple, list)) else (outputs,)


def assert_allclose(actual, expected, atol=1e-6, rtol=1e-6):
    np.testing.assert_allclose(to_numpy(actual), to_numpy(expected), atol=atol, rtol=rtol)


def _call(layer, inputs, call_kwargs):
    """Calls `layer` with the first input positional and the rest by name."""
    names = list(inputs)
    return layer(inputs[names[0]], **{n: inputs[n] for n in names[1:]}, **call_kwargs)


def run_layer_test(
    layer_cls,
    init_kwargs,
    inputs,
    call_kwargs=None,
    expected_output_shapes=None,
    run_fit=True,
    atol=1e-5,
):
    """Checks the contract every layer keeps.

    - eager call with the expected output shapes, finite values;
    - `get_config` / `from_config` round trip with equal config and outputs;
    - symbolic call inside a functional model, equal to the eager call;
    - `.keras` save and load, equal outputs;
    - one `fit` step that changes the trainable weights;
    - `mixed_bfloat16`: float32 variables, bfloat16 outputs close to float32.

    Args:
        layer_cls: the layer class.
        init_kwargs: constructor arguments.
        inputs: dict name -> numpy array, in call order; the first is passed
            positionally, the others by name.
        call_kwargs: non-tensor call arguments (e.g. use_causal_mask=True).
        expected_output_shapes: list of shapes, one per output.
        run_fit: whether to run the fit step (layers without weights skip it).
    """
    call_kwargs = dict(call_kwargs or {})

    # Eager.
    layer = layer_cls(**init_kwargs)
    outputs = as_tuple(_call(layer, inputs, call_kwargs))
    if expected_output_shapes is not None:
        assert [tuple(o.shape) for o in outputs] == [tuple(s) for s in expected_output_shapes]
    for output in outputs:
        assert np.all(np.isfinite(to_numpy(output)))
    weights = layer.get_weights()  # before the fit step changes them

    # Config round trip.
    config = layer.get_config()
    clone = layer_cls.from_config(config)
    assert clone.get_config() == config
    _call(clone, inputs, call_kwargs)
    clone.set_weights(weights)
    for got, want in zip(as_tuple(_call(clone, inputs, call_kwargs)), outputs):
        assert_allclose(got, want, atol=atol)

    # Symbolic call in a functional model.
    symbolic_inputs = {
        name: keras.Input(shape=value.shape[1:], batch_size=value.shape[0],
                          dtype=str(value.dtype), name=name)
        for name, value in inputs.items()
    }
    symbolic_outputs = as_tuple(_call(layer, symbolic_inputs, call_kwargs))
    for symbolic, eager in zip(symbolic_outputs, outputs):
        assert tuple(symbolic.shape) == tuple(eager.shape)
    model = keras.Model(symbolic_inputs, list(symbolic_outputs))
    for got, want in zip(as_tuple(model(inputs)), outputs):
        assert_allclose(got, want, atol=atol)

    # .keras save/load.
    with tempfile.TemporaryDirectory() as directory:
        path = os.path.join(directory, "model.keras")
        model.save(path)
        restored = keras.models.load_model(path)
    for got, want in zip(as_tuple(restored(inputs)), outputs):
        assert_allclose(got, want, atol=atol)

    # One fit step on the first output.
    if run_fit and layer.trainable_weights:
        fit_model = keras.Model(symbolic_inputs, symbolic_outputs[0])
        fit_model.compile(optimizer=keras.optimizers.SGD(0.1), loss="mse")
        before = [to_numpy(w).copy() for w in fit_model.trainable_weights]
        target = np.random.default_rng(0).normal(size=outputs[0].shape).astype("float32")
        history = fit_model.fit(inputs, target, batch_size=outputs[0].shape[0],
                                epochs=1, verbose=0)
        assert np.isfinite(history.history["loss"][0])
        after = [to_numpy(w) for w in fit_model.trainable_weights]
        assert any(not np.allclose(b, a) for b, a in zip(before, after))

    # Mixed precision.
    mixed = layer_cls(**init_kwargs, dtype="mixed_bfloat16")
    _call(mixed, inputs, call_kwargs)
    mixed.set_weights(weights)
    for variable in mixed.weights:
        assert variable.dtype == "float32", variable.path
    for got, want in zip(as_tuple(_call(mixed, inputs, call_kwargs)), outputs):
        if "float" in str(want.dtype):
            assert keras.backend.standardize_dtype(got.dtype) == "bfloat16"
            scale = max(1.0, float(np.max(np.abs(to_numpy(want)))))
            assert_allclose(ops.cast(got, "float32"), want, atol=0.03 * scale, rtol=0.03)
    return layer, outputs


def merge_heads(value, shape):
    """`value` reshaped to `shape` when only its trailing head axes are merged there."""
    value = np.asarray(value)
    shape = tuple(shape)
    if value.shape != shape:
        merged = value.shape[:len(shape) - 1] + (int(np.prod(value.shape[len(shape) - 1:])),)
        if merged != shape:
            raise ValueError(f"Cannot copy a {value.shape} weight into a {shape} one.")
        value = value.reshape(shape)
    return value


def set_weights_merging_heads(target, weights):
    """`target.set_weights(weights)` with Keras' split-head shapes merged (`merge_heads`)."""
    target.set_weights([merge_heads(w, v.shape) for w, v in zip(weights, target.weights)])


def copy_weights_by_path(source, target, renames=()):
    """Copies weights between layers of the same structure but different names.

    Weight paths are taken relative to each layer; `renames` is a list of
    (source_fragment, target_fragment) substitutions applied to source paths.
    Every target weight must be matched exactly once. Keras keeps attention
    heads on their own axes ([D, H, K] kernels, [H, K] biases) where tfzoo's
    query/key/value merge them ([D, H*K], [H*K]): see `merge_heads`.
    """
    def relative(layer, variable):
        return variable.path[len(layer.name) + 1:]

    targets = {relative(target, w): w for w in target.weights}
    assigned = set()
    for weight in source.weights:
        path = relative(source, weight)
        for old, new in renames:
            path = path.replace(old, new)
        if path not in targets:
            raise KeyError(f"No target weight for {path}; targets: {sorted(targets)}")
        targets[path].assign(merge_heads(weight.value, targets[path].shape))
        assigned.add(path)
    missing = set(targets) - assigned
    if missing:
        raise KeyError(f"Target weights not assigned: {sorted(missing)}")


def random_inputs(*shape, seed=0):
    return np.random.default_rng(seed).normal(size=shape).astype("float32")


def run_model_test(model_cls, model, inputs, atol=1e-5):
    """The contract every model keeps: config round trip, `.keras` save/load,
    symbolic shapes equal to eager ones, and a `mixed_bfloat16` build with
    float32 variables.

    Args:
        model_cls: the class under test.
        model: an instance (built).
        inputs: dict of numpy arrays for the model.
    """
    outputs = keras.tree.flatten(model(inputs, training=False))
    weights = model.get_weights()

    config = model.get_config()
    clone = model_cls.from_config(config)
    clone.set_weights(weights)
    for got, want in zip(keras.tree.flatten(clone(inputs, training=False)), outputs):
        assert_allclose(got, want, atol=atol)

    with tempfile.TemporaryDirectory() as directory:
        path = os.path.join(directory, "model.keras")
        model.save(path)
        restored = keras.models.load_model(path)
    assert type(restored) is model_cls
    for got, want in zip(keras.tree.flatten(restored(inputs, training=False)), outputs):
        assert_allclose(got, want, atol=atol)

    mixed_config = dict(config, dtype="mixed_bfloat16") if "dtype" in config else None
    if mixed_config is not None:
        mixed = model_cls.from_config(mixed_config)
        for variable in mixed.weights:
            assert variable.dtype == "float32", variable.path
        mixed.set_weights(weights)
        for got in keras.tree.flatten(mixed(inputs, training=False)):
            assert keras.backend.standardize_dtype(got.dtype) == "bfloat16"
    return outputs
