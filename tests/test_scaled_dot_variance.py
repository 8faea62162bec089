"""Exercise 8-2, empirically: Var(qᵀk/√d_k) = 1 and Var(qᵀk) = d_k for Gaussian q, k.

The scores come from ``impl.scores`` (scaled and plain dot product); the
variance formula and the kurtosis that sets the confidence bound come from
``spec.scaled_dot_variance``.

The bound. For n i.i.d. samples of X with variance σ_X² and kurtosis κ = E[(X − μ)⁴]/σ_X⁴,
the unbiased sample variance s² has Var(s²) = σ_X⁴ (κ − (n − 3)/(n − 1)) / n (≈ σ_X⁴
(κ − 1)/n). For X = qᵀk with q_i, k_i ∼ N(0, 1) spec derives κ = 3 + 6/d_k for symbolic d_k
(E[(qᵀk)⁴] by counting index patterns over the set partitions of four positions; proof
``scaled_dot_product_variance``), κ = 9 for d_k = 1: the product of two standard normals. We
accept |s² − σ_X²| ≤ 5·SD(s²). By the central limit theorem s² is close to normal at
n = 40 000, so each check fails by chance with probability ≈ 5.7e-7; fifteen such checks
(five d_k: scaled variance, scaled mean within 5 SD of 0, unscaled variance) give a
family-wise false-alarm rate < 1e-5 (Bonferroni). The seed is fixed, so the outcome is
deterministic anyway.
"""

import math
from functools import cache
from typing import Any

import numpy as np
import pytest
import sympy
from numpy.typing import NDArray

from impl.scores import dot_product_score, scaled_dot_product_score
from spec import scaled_dot_variance as spec

SAMPLES = 40_000
"""Number of (q, k) pairs per dimension."""

CHUNK = 5_000
"""Pairs drawn at a time (keeps d_k = 512 at ~20 MB per array)."""

Z_BOUND = 5.0
"""Accept within 5 standard deviations (two-sided normal tail ≈ 5.7e-7)."""

DIMENSIONS = (1, 2, 16, 64, 512)


@cache
def _kurtosis(d: int) -> float:
    """κ(qᵀk) at d_k = d, from spec's derivation (3 + 6/d_k)."""
    return float(spec.kurtosis_derivation().sum_kurtosis.subs(spec.d_k, d))


@cache
def _book_variance(d: int, scaled: bool) -> float:
    """spec's D(qᵀk) (or D(qᵀk/√d_k)) in the book's case with σ = 1, at d_k = d."""
    moments = spec.sum_moments()
    expr = moments.scaled_variance if scaled else moments.variance
    return float(spec.book_case(expr).subs({spec.sigma: 1, spec.d_k: d}))


def _sample_variance_sd(variance: float, kurtosis: float, n: int) -> float:
    """SD of the unbiased sample variance of n samples (see the module docstring)."""
    return variance * math.sqrt((kurtosis - (n - 3) / (n - 1)) / n)


def _scores(d: int, *, scaled: bool, seed: int) -> NDArray[np.float64]:
    rng = np.random.default_rng(seed)
    score = scaled_dot_product_score if scaled else dot_product_score
    parts = []
    for _ in range(SAMPLES // CHUNK):
        q = rng.standard_normal((CHUNK, 1, d))
        k = rng.standard_normal((CHUNK, 1, d))
        parts.append(score(q, k)[:, 0, 0])
    result: NDArray[np.float64] = np.concatenate(parts)
    return result


@pytest.mark.parametrize("d", DIMENSIONS)
def test_scaled_dot_product_score_has_unit_variance(d: int) -> None:
    """Exercise 8-2: Var(qᵀk/√d_k) = σ⁴ = 1 for q_i, k_i ∼ N(0, 1), within 5 SD (see module)."""
    expected = _book_variance(d, scaled=True)
    assert expected == 1.0
    scores = _scores(d, scaled=True, seed=8_2_000 + d)
    sd = _sample_variance_sd(expected, _kurtosis(d), SAMPLES)
    observed = float(np.var(scores, ddof=1))
    assert abs(observed - expected) <= Z_BOUND * sd, (
        f"d_k={d}: sample variance {observed:.4f}, expected {expected} ± {Z_BOUND * sd:.4f}"
    )
    mean_sd = math.sqrt(expected / SAMPLES)  # SD of the sample mean
    assert abs(float(scores.mean())) <= Z_BOUND * mean_sd


@pytest.mark.parametrize("d", DIMENSIONS)
def test_dot_product_score_variance_grows_as_d_k(d: int) -> None:
    """Exercise 8-2: without the scaling, Var(qᵀk) = d_k σ⁴ = d_k, within 5 SD (see module)."""
    expected = _book_variance(d, scaled=False)
    assert expected == d
    scores = _scores(d, scaled=False, seed=8_2_500 + d)
    sd = _sample_variance_sd(expected, _kurtosis(d), SAMPLES)
    observed = float(np.var(scores, ddof=1))
    assert abs(observed - expected) <= Z_BOUND * sd, (
        f"d_k={d}: sample variance {observed:.3f}, expected {expected} ± {Z_BOUND * sd:.3f}"
    )


def test_kurtosis_of_one_product_is_nine() -> None:
    """Exercise 8-2 (bound of the tests above): spec's κ(q_i k_i) = 9 and κ(qᵀk) → 3."""
    derivation = spec.kurtosis_derivation()
    assert derivation.product_kurtosis == 9
    assert _kurtosis(1) == 9.0
    assert sympy.limit(derivation.sum_kurtosis, spec.d_k, sympy.oo) == 3


def test_sample_kurtosis_matches_spec_for_one_product() -> None:
    """Exercise 8-2: the empirical kurtosis of q·k (d_k = 1) is near spec's 9.

    A loose check of the number the bound rests on: the sample kurtosis of a
    heavy-tailed variable converges slowly, so we accept 9 ± 1 at n = 10⁶
    (its SD there is ≈ √((E[(qk)⁸] − 9²)/n) = √((105² − 81)/10⁶) ≈ 0.1 to leading order,
    so 1 is ~10 SD).
    """
    rng = np.random.default_rng(8_2_999)
    x: NDArray[np.float64] = rng.standard_normal(1_000_000) * rng.standard_normal(1_000_000)
    centred: NDArray[np.floating[Any]] = x - x.mean()
    kurtosis = float(np.mean(centred**4) / np.mean(centred**2) ** 2)
    assert abs(kurtosis - _kurtosis(1)) <= 1.0
