"""JAX adapters: jax.nn.softmax, jax.nn.log_softmax, jax.nn.dot_product_attention (BTNH).

``jax.nn.dot_product_attention`` takes (B, T, N, H) arrays, i.e. our ``BLHE``
layout, so its target presents that layout and the SDPA checks hand it arrays
in it. The adapter maps PyTorch's SDPA keywords onto JAX's: a boolean
``attn_mask`` (True = may attend) is JAX's ``mask``, a float one its additive
``bias``; ``is_causal`` and ``scale`` keep their names; grouped-query attention
needs no flag (JAX infers it from the head counts). float64 needs
``jax_enable_x64``, which the adapter turns on.

jax is imported lazily. The declared differences are in ``impl.testing.expected_jax``.
"""

import importlib
from collections.abc import Callable
from typing import Any

import numpy as np
from numpy.typing import NDArray

from impl.testing.expected_jax import JAX_ATTENTION_EXPECTED
from impl.testing.registry import RunConfig, Target, register_target

__all__ = ["jax_log_softmax", "jax_sdpa", "jax_softmax"]


def _jax() -> Any:
    # Imported by name: jax is optional, and mypy must pass on machines without it.
    jax = importlib.import_module("jax")
    jax.config.update("jax_enable_x64", True)
    return jax


def _host(x: Any, like: NDArray[Any]) -> NDArray[Any]:
    result: NDArray[Any] = np.asarray(x).astype(like.dtype)
    return result


def jax_softmax(config: RunConfig) -> Callable[..., Any]:
    """``jax.nn.softmax(x, axis=-1)`` as a ``softmax`` candidate."""
    jax = _jax()
    return lambda x: _host(jax.nn.softmax(jax.numpy.asarray(x), axis=-1), x)


def jax_log_softmax(config: RunConfig) -> Callable[..., Any]:
    """``jax.nn.log_softmax(x, axis=-1)`` as a ``log_softmax`` candidate."""
    jax = _jax()
    return lambda x: _host(jax.nn.log_softmax(jax.numpy.asarray(x), axis=-1), x)


def jax_sdpa(config: RunConfig) -> Callable[..., Any]:
    """``jax.nn.dot_product_attention`` as an ``sdpa`` candidate in ``config.layout``."""
    jax = _jax()
    jnp = jax.numpy
    transpose = config.layout == "BHLE"  # JAX wants BTNH = BLHE

    def candidate(
        query: NDArray[Any],
        key: NDArray[Any],
        value: NDArray[Any],
        attn_mask: NDArray[Any] | None = None,
        dropout_p: float = 0.0,
        is_causal: bool = False,
        scale: float | None = None,
        enable_gqa: bool = False,
    ) -> NDArray[Any]:
        if dropout_p:
            raise ValueError("jax.nn.dot_product_attention has no dropout")
        q, k, v = (np.swapaxes(x, -2, -3) if transpose else x for x in (query, key, value))
        b, length, heads, _ = q.shape
        mask = bias = None
        if attn_mask is not None:
            full = np.broadcast_to(attn_mask, (b, heads, length, k.shape[1]))
            if attn_mask.dtype == np.bool_:
                mask = jnp.asarray(full)
            else:
                bias = jnp.asarray(full)
        out = jax.nn.dot_product_attention(
            jnp.asarray(q),
            jnp.asarray(k),
            jnp.asarray(v),
            bias=bias,
            mask=mask,
            scale=scale,
            is_causal=is_causal,
        )
        result = _host(out, query)
        return np.swapaxes(result, -2, -3) if transpose else result

    return candidate


for _kind, _label, _make in (
    ("softmax", "jax.nn.softmax", jax_softmax),
    ("log_softmax", "jax.nn.log_softmax", jax_log_softmax),
    ("sdpa", "jax.nn.dot_product_attention", jax_sdpa),
):
    register_target(
        Target(
            "jax",
            _kind,
            _label,
            _make,
            expected=JAX_ATTENTION_EXPECTED,
            layout="BLHE" if _kind == "sdpa" else "BHLE",
            # jax.nn.dot_product_attention requires values as wide as queries (H_v = H).
            restrictions=("value_dim=key_dim",),
            max_examples=12,  # XLA compiles each new shape (~0.1 s): keeps the run in minutes
        )
    )
