"""The VJPs against ``jax.vjp`` (issue 10), when JAX is installed (CI installs it at the end).

JAX differentiates its own float64 transcription of each forward formula (x64 enabled), so
this compares our hand-derived backward passes with an independent automatic differentiation.
Tolerance: both sides are float64 evaluations of the same derivatives in different orders;
every test case has |inputs| ≤ 2 and at most 6 keys, so each gradient entry is a sum of at
most a few dozen products of magnitude ≤ e^{|scores|}·2; 1e-12 leaves about 50× room over
γ_n·(sum of |terms|) ≈ 40·2⁻⁵³·(≤ 500).
"""

from typing import Any

import numpy as np
import pytest

from impl.attention_backward import (
    log_softmax_vjp,
    logsumexp_vjp,
    scaled_dot_product_attention_vjp,
    softmax_vjp,
)
from impl.recurrent import LSTMParameters, lstm_cell
from impl.recurrent_backward import lstm_cell_vjp
from impl.testing.tolerances import assert_close

jax: Any = pytest.importorskip("jax")
jax.config.update("jax_enable_x64", True)
jnp: Any = jax.numpy

JAX_TOLERANCE = 1e-12
"""See the module docstring: float64 on both sides, small sums, ≈ 50× room."""


def _vjp(function: Any, primals: tuple[np.ndarray, ...], cotangent: np.ndarray) -> list[Any]:
    _, pullback = jax.vjp(function, *(jnp.asarray(p) for p in primals))
    return [np.asarray(g) for g in pullback(jnp.asarray(cotangent))]


@pytest.mark.parametrize("seed", range(5))
def test_softmax_family_vjps_match_jax(seed: int) -> None:
    """softmax, log-softmax and log-sum-exp VJPs equal jax.vjp of their definitions."""
    rng = np.random.default_rng(seed)
    logits, upstream = rng.uniform(-2, 2, (3, 6)), rng.uniform(-2, 2, (3, 6))
    (jax_softmax,) = _vjp(lambda s: jax.nn.softmax(s, axis=-1), (logits,), upstream)
    assert_close(softmax_vjp(logits, upstream), jax_softmax, atol=JAX_TOLERANCE)
    (jax_log,) = _vjp(lambda s: jax.nn.log_softmax(s, axis=-1), (logits,), upstream)
    assert_close(log_softmax_vjp(logits, upstream), jax_log, atol=JAX_TOLERANCE)
    (jax_lse,) = _vjp(lambda s: jax.nn.logsumexp(s, axis=-1), (logits,), upstream[:, 0])
    assert_close(logsumexp_vjp(logits, upstream[:, 0]), jax_lse, atol=JAX_TOLERANCE)


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("masking", ["none", "bool", "float", "causal"])
def test_sdpa_vjp_matches_jax(seed: int, masking: str) -> None:
    """dQ, dK, dV (and dM for a float mask) equal jax.vjp of softmax(s·QKᵀ + M)V, L ≠ S, E ≠ E_v."""
    rng = np.random.default_rng(seed)
    q, k, v = (
        rng.uniform(-2, 2, (2, 4, 3)),
        rng.uniform(-2, 2, (2, 5, 3)),
        rng.uniform(-2, 2, (2, 5, 2)),
    )
    upstream, scale = rng.uniform(-2, 2, (2, 4, 2)), 0.7
    allowed = rng.random((4, 5)) < 0.6
    allowed[:, 0] = True  # every query keeps a key (jax's softmax of an all −inf row is NaN)
    additive = rng.uniform(-1, 1, (4, 5))
    causal = np.tril(np.ones((4, 5), dtype=bool))

    def forward(qq: Any, kk: Any, vv: Any, mm: Any) -> Any:
        scores = scale * qq @ jnp.swapaxes(kk, -1, -2)
        if masking == "float":
            scores = scores + mm
        elif masking in ("bool", "causal"):
            scores = jnp.where(allowed if masking == "bool" else causal, scores, -jnp.inf)
        return jax.nn.softmax(scores, axis=-1) @ vv

    mask: np.ndarray | None = {"bool": allowed, "float": additive}.get(masking)
    ours = scaled_dot_product_attention_vjp(
        q, k, v, upstream, mask, scale=scale, is_causal=masking == "causal"
    )
    dq, dk, dv, dm = _vjp(forward, (q, k, v, additive), upstream)
    assert_close(ours.query, dq, atol=JAX_TOLERANCE)
    assert_close(ours.key, dk, atol=JAX_TOLERANCE)
    assert_close(ours.value, dv, atol=JAX_TOLERANCE)
    if masking == "float":
        assert ours.mask is not None
        assert_close(ours.mask, dm, atol=JAX_TOLERANCE)


@pytest.mark.parametrize("seed", range(3))
def test_lstm_cell_vjp_matches_jax(seed: int) -> None:
    """x̄, h̄, c̄ and every W, U, b gradient of one LSTM step equal jax.vjp of the book's cell."""
    rng = np.random.default_rng(seed)
    params = LSTMParameters.initialize(rng, input_size=3, hidden_size=4)
    x, h, c = rng.uniform(-2, 2, (2, 3)), rng.uniform(-1, 1, (2, 4)), rng.uniform(-1, 1, (2, 4))
    grad_h, grad_c = rng.uniform(-1, 1, (2, 4)), rng.uniform(-1, 1, (2, 4))
    gates = (params.input_gate, params.forget_gate, params.output_gate, params.candidate)
    flat = tuple(np.asarray(a) for g in gates for a in (g.W, g.U, g.b))

    def cell(xx: Any, hh: Any, cc: Any, *weights: Any) -> Any:
        pre = [
            xx @ weights[3 * j].T + hh @ weights[3 * j + 1].T + weights[3 * j + 2] for j in range(4)
        ]
        i, f, o = (jax.nn.sigmoid(a) for a in pre[:3])
        c_new = f * cc + i * jnp.tanh(pre[3])
        return jnp.concatenate([o * jnp.tanh(c_new), c_new], axis=-1)

    h_new, c_new = lstm_cell(x, (h, c), params)
    forward = np.asarray(cell(*(jnp.asarray(a) for a in (x, h, c, *flat))))
    assert_close(np.concatenate([h_new, c_new], axis=-1), forward, atol=JAX_TOLERANCE)
    theirs = _vjp(cell, (x, h, c, *flat), np.concatenate([grad_h, grad_c], axis=-1))
    ours = lstm_cell_vjp(x, (h, c), params, grad_h, grad_c)
    ours_gates = (ours.params.input_gate, ours.params.forget_gate, ours.params.output_gate)
    ours_flat = [a for g in (*ours_gates, ours.params.candidate) for a in (g.W, g.U, g.b)]
    for mine, jaxs in zip([ours.x, ours.h, ours.c, *ours_flat], theirs, strict=True):
        assert_close(np.asarray(mine), jaxs, atol=JAX_TOLERANCE)
