"""Compiling a function that reads a model's variables, for each backend."""

import keras


def compile_with_model(model, fn, jit_compile=True):
    """`fn(*args)` compiled for the backend, reading `model`'s current weights.

    TensorFlow: a `tf.function`, XLA-compiled unless `jit_compile` is False
    (a plain graph, as a SavedModel export runs it); variables are captured
    by reference. JAX: `jax.jit` whatever `jit_compile` says, the variables passed
    in on every call through a `keras.StatelessScope`, so later weight updates
    are seen. Other backends run eagerly.
    """
    backend = keras.backend.backend()
    if backend == "tensorflow":
        import tensorflow as tf

        return tf.function(fn, jit_compile=bool(jit_compile))
    if backend == "jax":
        import jax

        variables = model.variables

        def stateless(values, *args):
            with keras.StatelessScope(state_mapping=list(zip(variables, values))):
                return fn(*args)

        compiled = jax.jit(stateless)
        return lambda *args: compiled([v.value for v in variables], *args)
    return fn


class FunctionCache:
    """Compiled functions by key, kept out of TensorFlow's object tracking.

    A dict assigned to a model attribute is tracked as model state, and a
    SavedModel export then tries (and fails) to save functions keyed by tuples.
    """

    def __init__(self):
        self._functions = {}

    def get(self, key, build):
        """The function for `key`, built with `build()` the first time."""
        if key not in self._functions:
            self._functions[key] = build()
        return self._functions[key]
