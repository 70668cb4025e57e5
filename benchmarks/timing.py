"""Backend-agnostic timing of a Keras model's forward and forward+backward passes.

Both sides of a comparison go through the same compiled step, so the ratio
measures the layers, not the harness.
"""

import statistics
import time

import keras
import numpy as np


def _tensorflow_steps(model, jit_compile):
    import tensorflow as tf

    @tf.function(jit_compile=jit_compile)
    def forward(inputs):
        return model(inputs, training=False)

    @tf.function(jit_compile=jit_compile)
    def forward_backward(inputs):
        with tf.GradientTape() as tape:
            loss = tf.reduce_mean(tf.cast(model(inputs, training=True), "float32") ** 2)
        return loss, tape.gradient(loss, model.trainable_variables)

    def block(result):
        return keras.tree.map_structure(lambda x: x.numpy(), result)

    return forward, forward_backward, block


def _jax_steps(model, jit_compile):
    import jax
    import jax.numpy as jnp

    trainable = [v.value for v in model.trainable_variables]
    non_trainable = [v.value for v in model.non_trainable_variables]
    seed = jax.random.PRNGKey(0)

    def loss_fn(trainable_values, inputs):
        outputs, _ = model.stateless_call(
            trainable_values, non_trainable, inputs, training=True
        )
        return jnp.mean(outputs.astype("float32") ** 2)

    def forward_fn(inputs):
        outputs, _ = model.stateless_call(trainable, non_trainable, inputs, training=False)
        return outputs

    grad_fn = jax.value_and_grad(loss_fn)
    maybe_jit = jax.jit if jit_compile else (lambda f: f)
    forward = maybe_jit(forward_fn)
    forward_backward = maybe_jit(lambda inputs: grad_fn(trainable, inputs))
    del seed

    def block(result):
        return jax.block_until_ready(result)

    return forward, forward_backward, block


def compiled_steps(model, jit_compile=True):
    """(forward, forward_backward, block) for the current Keras backend."""
    backend = keras.backend.backend()
    if backend == "tensorflow":
        return _tensorflow_steps(model, jit_compile)
    if backend == "jax":
        return _jax_steps(model, jit_compile)
    raise ValueError(f"Unsupported Keras backend for benchmarks: {backend!r}")


def time_fn(fn, block, inputs, warmup=3, iterations=20):
    """Median and spread of wall-clock milliseconds per call, after warm-up."""
    for _ in range(warmup):
        block(fn(inputs))
    times = []
    for _ in range(iterations):
        start = time.perf_counter()
        block(fn(inputs))
        times.append((time.perf_counter() - start) * 1000.0)
    return {
        "median_ms": statistics.median(times),
        "p10_ms": float(np.percentile(times, 10)),
        "p90_ms": float(np.percentile(times, 90)),
    }
