"""REINFORCE for hard attention (§8.2.1): impl's exact gradient and Monte-Carlo estimator.

The exact gradient ``impl.attention.expected_loss_gradient`` is compared with
spec's closed form α ⊙ (L − αᵀL), with spec's gradient derived by
``sympy.diff`` of E_{z∼α}[L_z] (computed by sympy.stats), and with central
finite differences of E[L] = Σ_n softmax(s)_n L_n. The estimator
``reinforce_gradient_estimate`` is checked to be unbiased.
"""

from collections.abc import Callable
from functools import cache
from typing import Any

import numpy as np
import pytest
import sympy
from hypothesis import given
from numpy.typing import NDArray

from impl.attention import expected_loss_gradient, reinforce_gradient_estimate
from impl.softmax import softmax
from impl.testing.strategies import ScoresAndLosses, scores_and_losses
from impl.testing.tolerances import assert_close, eps
from spec import attention as spec
from spec.softmax import logit_symbols

FloatArray = NDArray[np.floating[Any]]

GRADIENT_ATOL_ULPS = 64.0
"""α_j (L_j − Σ α_n L_n) subtracts numbers of size ≤ max|L| = 10: absolute
error a few ulps of max|L|; 64 ulps of (1 + max|L|) leaves room for float32."""

FD_STEP = 1e-5
"""Central differences in float64: truncation h²/6·max|∂³E[L]| ≲ 1e-9 (third
derivatives of softmax ≤ 1, times |L| ≤ 10), rounding eps·max|L|/h ≈ 2e-10."""

FD_ATOL = 1e-7
"""~100× the finite-difference error budget above."""

Z_BOUND = 5.0
"""Monte-Carlo acceptance: 5 standard errors (two-sided normal tail ≈ 5.7e-7)."""


@cache
def _lambdified(kind: str, size: int) -> Callable[..., Any]:
    if kind == "closed":
        s = logit_symbols(size)
        losses = spec.loss_symbols(size)
        expr = spec.expected_loss_gradient(s, losses)
    else:
        identity = spec.reinforce_identity(size)
        s, losses, expr = identity.scores, identity.losses, identity.exact_gradient
    return sympy.lambdify([*s, *losses], list(expr), modules="numpy")


def _spec_gradient(kind: str, case: ScoresAndLosses) -> FloatArray:
    size = case.scores.shape[-1]
    args = [*np.moveaxis(case.scores.astype(np.float64), -1, 0)]
    args += [*np.moveaxis(case.losses.astype(np.float64), -1, 0)]
    values = _lambdified(kind, size)(*args)
    batch = case.scores.shape[:-1]
    result: FloatArray = np.stack([np.broadcast_to(v, batch) for v in values], axis=-1).astype(
        case.scores.dtype
    )
    return result


def _atol(case: ScoresAndLosses) -> float:
    return GRADIENT_ATOL_ULPS * eps(case.scores.dtype) * (1.0 + float(np.abs(case.losses).max()))


@given(scores_and_losses())
def test_expected_loss_gradient_matches_spec_closed_form(case: ScoresAndLosses) -> None:
    """§8.2.1: impl ∇_s E[L] = spec α ⊙ (L − αᵀL) (float32 and float64)."""
    assert_close(
        expected_loss_gradient(case.scores, case.losses),
        _spec_gradient("closed", case),
        atol=_atol(case),
    )


@given(scores_and_losses(max_len=4))
def test_expected_loss_gradient_matches_spec_derivative(case: ScoresAndLosses) -> None:
    """§8.2.1: impl ∇_s E[L] = spec ∂/∂s E_{z∼α}[L_z] (sympy.stats E, then sympy.diff; N ≤ 4)."""
    assert_close(
        expected_loss_gradient(case.scores, case.losses),
        _spec_gradient("derived", case),
        atol=_atol(case),
    )


@given(scores_and_losses(dtype=np.dtype(np.float64)))
def test_expected_loss_gradient_matches_finite_differences(case: ScoresAndLosses) -> None:
    """§8.2.1: impl ∇_s E[L] = central differences of Σ_n softmax(s)_n L_n (float64)."""
    size = case.scores.shape[-1]

    def expected_loss(scores: FloatArray) -> FloatArray:
        value: FloatArray = (softmax(scores) * case.losses).sum(axis=-1)
        return value

    columns = []
    for j in range(size):
        step = np.zeros(size)
        step[j] = FD_STEP
        difference = expected_loss(case.scores + step) - expected_loss(case.scores - step)
        columns.append(difference / (2 * FD_STEP))
    numeric = np.stack(columns, axis=-1)
    assert_close(expected_loss_gradient(case.scores, case.losses), numeric, rtol=0.0, atol=FD_ATOL)


UNBIASED_CASES = [
    (np.array([0.5, -1.0, 2.0]), np.array([1.0, 3.0, -2.0])),
    (np.array([0.0, 0.0, 0.0, 0.0]), np.array([4.0, -1.0, 0.5, 2.0])),
    (np.array([1.0, -0.5, 0.3, 2.0, -1.5]), np.array([-3.0, 1.0, 2.0, 0.0, 5.0])),
]
"""Fixed (scores, losses) with clearly non-zero gradients (N = 3, 4, 5: 12 components)."""

REPLICATES = 4_000
"""Independent estimates per case (batch rows), each the mean of ``SAMPLES_EACH`` draws."""

SAMPLES_EACH = 25


@pytest.mark.parametrize(("scores", "losses"), UNBIASED_CASES)
def test_reinforce_gradient_estimate_is_unbiased(
    scores: NDArray[np.float64], losses: NDArray[np.float64]
) -> None:
    """§8.2.1: E[L_z ∇_s log α_z] = ∇_s E[L]; the Monte-Carlo mean is within 5 standard errors.

    The estimator is called on REPLICATES identical batch rows, giving that
    many independent estimates (each of SAMPLES_EACH draws); their mean has
    per-component standard error SD/√REPLICATES, SD being the sample SD of the
    replicates (the estimator's own spread). By the central limit theorem each
    component fails by chance with probability ≈ 5.7e-7; over the 12
    components of the three cases the family-wise false-alarm rate is < 7e-6
    (Bonferroni). Fixed seed.
    """
    rng = np.random.default_rng(8_2_1)
    batch_scores = np.broadcast_to(scores, (REPLICATES, scores.size)).copy()
    batch_losses = np.broadcast_to(losses, (REPLICATES, losses.size)).copy()
    estimates = reinforce_gradient_estimate(
        batch_scores, batch_losses, rng, num_samples=SAMPLES_EACH
    )
    assert estimates.shape == (REPLICATES, scores.size)
    exact = expected_loss_gradient(scores, losses)
    spec_exact = _spec_gradient("closed", ScoresAndLosses(scores, losses))
    assert_close(exact, spec_exact)
    standard_error = estimates.std(axis=0, ddof=1) / np.sqrt(REPLICATES)
    assert np.all(standard_error > 0), "the estimator should be random"
    deviation = np.abs(estimates.mean(axis=0) - exact)
    assert np.all(deviation <= Z_BOUND * standard_error), (
        f"MC mean {estimates.mean(axis=0)}, exact {exact}, standard error {standard_error}"
    )


def test_reinforce_gradient_estimate_dtype_and_shape() -> None:
    """§8.2.1: the estimator keeps the dtype and the (..., N) shape of its inputs."""
    rng = np.random.default_rng(0)
    scores = np.zeros((2, 3, 4), dtype=np.float32)
    losses = np.ones((2, 3, 4), dtype=np.float32)
    estimate = reinforce_gradient_estimate(scores, losses, rng, num_samples=5)
    assert estimate.shape == (2, 3, 4)
    assert estimate.dtype == np.float32
    # A constant loss has zero gradient; each sample contributes L·(e_z − α), whose
    # components sum to 0 exactly in real arithmetic.
    assert_close(estimate.sum(axis=-1), np.zeros((2, 3), dtype=np.float32), atol=1e-6)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_reinforce_single_input_and_saturated_scores_have_zero_gradient(
    dtype: type[np.floating[Any]],
) -> None:
    """§8.2.1 and exercise 8-2: with N = 1, or saturated scores (±1e30), ∇_s E[L] = 0.

    N = 1: z is always 0, E[L] = L_0 does not depend on s; e_z − α = 0 for every
    sample, so the estimate is exactly 0. Saturated: α is one-hot, so every
    α_j (L_j − αᵀL) is 0 (proofs.softmax_saturation).
    """
    rng = np.random.default_rng(1)
    one_score: FloatArray = np.array([[0.7], [-3.0]], dtype=dtype)
    one_loss: FloatArray = np.array([[5.0], [-2.0]], dtype=dtype)
    zeros: FloatArray = np.zeros((2, 1), dtype=dtype)
    assert_close(expected_loss_gradient(one_score, one_loss), zeros, atol=0.0)
    estimate = reinforce_gradient_estimate(one_score, one_loss, rng, num_samples=10)
    assert_close(estimate, zeros, atol=0.0)
    saturated: FloatArray = np.array([1e30, 0.0, -1e30], dtype=dtype)
    losses: FloatArray = np.array([1.0, 2.0, 3.0], dtype=dtype)
    assert_close(expected_loss_gradient(saturated, losses), np.zeros(3, dtype=dtype), atol=0.0)
