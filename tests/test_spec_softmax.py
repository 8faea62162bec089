"""impl.softmax against spec.softmax (lambdified) and against finite differences.

Book: §8.2 (attention distribution) and exercise 8-2 (Jacobian diag(α) − ααᵀ,
saturation). The spec expressions are derived by sympy (the Jacobian by
``sympy.diff``), lambdified with ``modules="numpy"`` and evaluated in float64
on the same (upcast) inputs impl receives.
"""

from collections.abc import Callable
from functools import cache
from typing import Any

import numpy as np
import sympy
from hypothesis import given
from hypothesis import strategies as st
from numpy.typing import NDArray

from impl.softmax import log_softmax, softmax, softmax_jacobian
from impl.testing.strategies import logits_arrays, unique_max_logits
from impl.testing.tolerances import assert_close, default_rtol, eps
from spec import softmax as spec

FloatArray = NDArray[np.floating[Any]]

LOG_SOFTMAX_ATOL_ULPS = 8.0
"""log α = s − logsumexp(s) subtracts two numbers of size up to max|s| + log N;
the cancellation leaves an *absolute* error of a few ulps of that size (a
relative tolerance fails when log α_max ≈ 0)."""

JACOBIAN_ATOL_ULPS = 4.0
"""Entries α_i(1 − α_i) with α_i ≈ 1 are a cancellation α_i − α_i²: absolute
error a few ulps of 1 (entries are at most ¼ in size)."""

FD_STEP = 1e-5
"""Central-difference step for float64: truncation error h²/6·max|∂³α| ≲ 1e-10
(third derivatives of softmax are bounded by 1), rounding error eps/h ≈ 2e-11."""

FD_ATOL = 1e-8
"""Finite-difference tolerance: ~100× the error budget of ``FD_STEP`` above."""


@cache
def _lambdified(kind: str, size: int) -> Callable[..., Any]:
    if kind == "softmax":
        symbols, matrix = spec.softmax_expr(size)
        return sympy.lambdify(symbols, list(matrix), modules="numpy")
    if kind == "log_softmax":
        symbols, matrix = spec.log_softmax_expr(size)
        return sympy.lambdify(symbols, list(matrix), modules="numpy")
    symbols, jacobian = spec.softmax_jacobian_matrix(size)
    return sympy.lambdify(symbols, jacobian.tolist(), modules="numpy")


def _spec_vector(kind: str, logits: FloatArray) -> NDArray[np.float64]:
    """Evaluate the spec column at every batch row; returns (..., N) float64."""
    columns = np.moveaxis(logits.astype(np.float64), -1, 0)
    values = _lambdified(kind, logits.shape[-1])(*columns)
    stacked: NDArray[np.float64] = np.stack(
        [np.broadcast_to(v, logits.shape[:-1]) for v in values], axis=-1
    )
    return stacked


def _spec_jacobian(logits: FloatArray) -> NDArray[np.float64]:
    """Evaluate the spec Jacobian; returns (..., N, N) float64."""
    columns = np.moveaxis(logits.astype(np.float64), -1, 0)
    rows = _lambdified("jacobian", logits.shape[-1])(*columns)
    batch = logits.shape[:-1]
    stacked: NDArray[np.float64] = np.stack(
        [np.stack([np.broadcast_to(v, batch) for v in row], axis=-1) for row in rows], axis=-2
    )
    return stacked


@given(logits_arrays())
def test_softmax_matches_spec(logits: FloatArray) -> None:
    """§8.2: impl softmax = spec exp(s_n)/Σ_j exp(s_j) (float32 and float64)."""
    expected = _spec_vector("softmax", logits).astype(logits.dtype)
    assert_close(softmax(logits), expected)


@given(logits_arrays())
def test_log_softmax_matches_spec(logits: FloatArray) -> None:
    """§8.2: impl log-softmax = spec s_n − log Σ_j exp(s_j)."""
    expected = _spec_vector("log_softmax", logits).astype(logits.dtype)
    scale = 1.0 + float(np.abs(logits).max()) + np.log(logits.shape[-1])
    assert_close(
        log_softmax(logits), expected, atol=LOG_SOFTMAX_ATOL_ULPS * eps(logits.dtype) * scale
    )


@given(logits_arrays())
def test_softmax_jacobian_matches_spec(logits: FloatArray) -> None:
    """Exercise 8-2: impl diag(α) − ααᵀ = spec ∂α_i/∂s_j derived by sympy.diff."""
    expected = _spec_jacobian(logits).astype(logits.dtype)
    assert_close(softmax_jacobian(logits), expected, atol=JACOBIAN_ATOL_ULPS * eps(logits.dtype))


@given(logits_arrays(dtype=np.dtype(np.float64)))
def test_softmax_jacobian_matches_finite_differences(logits: FloatArray) -> None:
    """Exercise 8-2: column j of impl's Jacobian = (α(s + h e_j) − α(s − h e_j)) / 2h.

    float64 only: in float32 the best step (eps^⅓ ≈ 5e-3) leaves an error of
    ~1e-5, which would test little beyond the float32 comparison with spec.
    """
    size = logits.shape[-1]
    columns = []
    for j in range(size):
        step = np.zeros(size)
        step[j] = FD_STEP
        columns.append((softmax(logits + step) - softmax(logits - step)) / (2 * FD_STEP))
    numeric = np.stack(columns, axis=-1)  # [..., i, j] = ∂α_i/∂s_j
    assert_close(softmax_jacobian(logits), numeric, rtol=0.0, atol=FD_ATOL)


@given(logits_arrays())
def test_softmax_jacobian_batch_consistency(logits: FloatArray) -> None:
    """Exercise 8-2: the batched Jacobian equals the per-row Jacobians."""
    batched = softmax_jacobian(logits)
    flat = logits.reshape(-1, logits.shape[-1])
    per_row = np.stack([softmax_jacobian(row) for row in flat]).reshape(batched.shape)
    assert_close(batched, per_row, rtol=0.0, atol=0.0)


@given(unique_max_logits(), st.floats(min_value=1.0, max_value=200.0))
def test_softmax_jacobian_saturation_bound(logits: NDArray[np.float64], scale: float) -> None:
    """Exercise 8-2 (proofs.softmax_saturation): |J_ij(t·s)| ≤ (N − 1)e^{−tΔ}, Δ = gap to runner-up.

    The bound is spec's ``saturation_tail_bound`` lambdified; impl's Jacobian
    must respect it (up to float64 rounding) for every scale t.
    """
    size_symbol, gap_symbol, bound, _ = spec.saturation_tail_bound()
    bound_at = sympy.lambdify(
        (size_symbol, gap_symbol, spec.temperature_scale), bound, modules="numpy"
    )
    ordered = np.sort(logits)
    gap = float(ordered[-1] - ordered[-2])
    limit = float(bound_at(logits.shape[-1], gap, scale))
    jacobian = softmax_jacobian(scale * logits)
    assert float(np.abs(jacobian).max()) <= limit * (1 + default_rtol(np.float64)) + 4 * eps(
        np.float64
    )


def test_softmax_jacobian_tied_maximum_does_not_vanish() -> None:
    """Exercise 8-2: with a tied maximum the Jacobian tends to spec's non-zero limit."""
    logits = [sympy.Integer(1), sympy.Integer(1), sympy.Integer(0)]
    limit = np.array(spec.saturation_limit(logits).tolist(), dtype=np.float64)
    at_large_scale = softmax_jacobian(np.array([1.0, 1.0, 0.0]) * 200.0)
    # At scale 200 the non-tied weight is e^-200 ≈ 1e-87: the Jacobian equals its
    # limit up to rounding of entries ≤ 1/4.
    assert_close(at_large_scale, limit, atol=4 * eps(np.float64))
    assert np.abs(limit).max() > 0


def test_spec_in_range_keeps_the_first_branch_that_holds_for_indices_below_n() -> None:
    """in_range resolves a Piecewise by the first condition true for every 0 ≤ k ≤ N − 1:
    k ≥ N is false there (skipped), k ≤ N − 1 true (kept); with no such branch (i = k
    involves two indices, k ≥ N is false) the Piecewise is left as it is."""
    sm = spec.symbolic_softmax()
    a, b = sympy.symbols("a b")
    n, k = sm.size, sm.k
    assert sm.in_range(sympy.Piecewise((a, k >= n), (b, True))) == b
    assert sm.in_range(sympy.Piecewise((a, k <= n - 1), (b, True))) == a
    undecided = sympy.Piecewise((a, sympy.Eq(sm.i, k)), (b, k >= n))
    assert sm.in_range(undecided) == undecided
