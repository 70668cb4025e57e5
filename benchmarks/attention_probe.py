"""Which attention kernel does Keras pick on this JAX device, and what does it cost?

    KERAS_BACKEND=jax python -m benchmarks.attention_probe

For BERT-base (B=256, T=128) and GPT-2 (B=16, T=1024) shapes in bfloat16:
time `keras.ops.dot_product_attention` with no mask, a key padding mask, an
additive bias and `is_causal`, and the explicit einsum + softmax path, forward
and forward+backward; report whether the compiled program calls cuDNN's fused
attention (a `__cudnn$fmha` custom call in the HLO).
"""

import time

import jax
import jax.numpy as jnp
import keras
import numpy as np
from keras import ops


def explicit(q, k, v, mask=None, causal=False):
    logits = jnp.einsum("bthk,bshk->bhts", q, k).astype("float32") / np.sqrt(q.shape[-1])
    if causal:
        t = q.shape[1]
        logits = jnp.where(jnp.tril(jnp.ones((t, t), bool)), logits, -1e9)
    if mask is not None:
        logits = jnp.where(mask, logits, -1e9)
    return jnp.einsum("bhts,bshk->bthk", jax.nn.softmax(logits, -1).astype(q.dtype), v)


def variants(b, t):
    key = jax.random.PRNGKey(0)
    q, k, v = (jax.random.normal(jax.random.fold_in(key, i), (b, t, 12, 64), "bfloat16")
               for i in range(3))
    mask = jnp.ones((b, 1, 1, t), bool)
    full_mask = jnp.ones((b, 1, t, t), bool)
    bias = jnp.zeros((b, 1, 1, t), "bfloat16")
    full_bias = jnp.zeros((b, 1, t, t), "bfloat16")
    return (q, k, v), {
        "fused, no mask": lambda q, k, v: ops.dot_product_attention(q, k, v),
        "fused, padding mask": lambda q, k, v: ops.dot_product_attention(q, k, v, mask=mask),
        "fused, additive bias": lambda q, k, v: ops.dot_product_attention(q, k, v, bias=bias),
        "fused, full [B,1,T,S] mask": lambda q, k, v: ops.dot_product_attention(
            q, k, v, mask=full_mask),
        "fused, full [B,1,T,S] bias": lambda q, k, v: ops.dot_product_attention(
            q, k, v, bias=full_bias),
        "fused, causal + full mask": lambda q, k, v: ops.dot_product_attention(
            q, k, v, mask=full_mask, is_causal=True),
        "fused, is_causal": lambda q, k, v: ops.dot_product_attention(q, k, v, is_causal=True),
        "explicit einsum+softmax": lambda q, k, v: explicit(q, k, v, mask=mask),
        "explicit causal": lambda q, k, v: explicit(q, k, v, causal=True),
    }


def timed(fn, args, repeats=20):
    fn(*args)
    jax.block_until_ready(fn(*args))
    started = time.perf_counter()
    for _ in range(repeats):
        out = fn(*args)
    jax.block_until_ready(out)
    return (time.perf_counter() - started) / repeats * 1000


def main():
    print(f"devices: {jax.devices()}  keras {keras.__version__}  jax {jax.__version__}")
    for name, (b, t) in {"bert": (256, 128), "gpt2": (16, 1024)}.items():
        args, fns = variants(b, t)
        for label, fn in fns.items():
            forward = jax.jit(fn)
            backward = jax.jit(jax.grad(lambda q, k, v, fn=fn: fn(q, k, v).astype("float32").sum(),
                                        argnums=(0, 1, 2)))
            try:
                hlo = forward.lower(*args).compile().as_text()
                cudnn = "__cudnn$fmha" in hlo
                print(f"{name:5s} {label:26s} fwd {timed(forward, args):8.3f} ms  "
                      f"fwd+bwd {timed(backward, args):8.3f} ms  cudnn={cudnn}")
            except Exception as error:  # report and go on: this is a probe
                message = str(error).splitlines()[0] if str(error) else ""
                print(f"{name:5s} {label:26s} failed: {type(error).__name__}: {message}"[:200])


if __name__ == "__main__":
    main()
