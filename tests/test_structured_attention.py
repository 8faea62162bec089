"""Properties of structured (linear-chain CRF) attention, §8.2.1 (b) (Kim et al. 2017).

References: a NumPy brute-force enumeration over all 2^N assignments (written
here, independently of impl's forward–backward, stable by subtracting the
largest score), and the sympy enumeration of ``spec.structured_attention``
lambdified for N = 3.
"""

import functools
import itertools
import math
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
import sympy
from hypothesis import given
from hypothesis import strategies as st
from numpy.typing import NDArray

from impl.scores import dot_product_score
from impl.structured_attention import (
    crf_log_partition,
    crf_marginals,
    structured_attention,
    unary_potentials,
    unary_potentials_from_scores,
)
from impl.testing import strategies as hst
from impl.testing.tolerances import assert_close, default_rtol
from spec import structured_attention as spec

Array = NDArray[np.floating[Any]]

HUGE = 1e3
"""The "huge potential" scale of the issue: exp(±1e3) overflows every float dtype."""

FINITE_DIFFERENCE_STEP = 1e-5
"""Central-difference step for ∂ log Z/∂θ in float64 (≈ eps^(1/3), balancing the two errors)."""

FINITE_DIFFERENCE_ATOL = 1e-7
"""Bound on |central difference − derivative| for |θ| ≤ 5, N ≤ 6 in float64.

Truncation: h²/6 · |∂³ log Z/∂θ³| ≤ h²/6 · 0.1 (the third cumulant of a
Bernoulli is at most 1/(6√3) < 0.1) ≈ 2e-12. Rounding: eps · |log Z| / h with
|log Z| ≤ N·(2·5) + N log 2 < 70, i.e. ≈ 2e-16 · 70 / 1e-5 ≈ 1.6e-9. 1e-7 leaves
a margin of 50 over the sum while a wrong derivative (an error ≥ 1e-3, see the
breaks in the report) is far outside it.
"""

UNDERFLOW_ATOL = 1e-300
"""Marginals below ~1e-300 are 0 in one computation and subnormal in the other;
that is underflow, not error, so they are compared absolutely at this scale."""


# --- NumPy brute-force reference ----------------------------------------------------------


def enumerate_chain(unary: Array, pairwise: Array) -> tuple[Array, Array]:
    """(log Z, p(z_n = 1)) of one chain, float64, by summing over all 2^N assignments.

    Stable for any finite potentials: the largest assignment score is subtracted
    before exponentiating (so the reference is shift-invariant).
    """
    u = unary.astype(np.float64)
    pw = pairwise.astype(np.float64)
    n = u.shape[0]
    z = np.array(list(itertools.product((0, 1), repeat=n)), dtype=np.intp)  # (2^N, N)
    scores = u[np.arange(n), z].sum(axis=-1)
    if n > 1:
        scores = scores + pw[np.arange(n - 1), z[:, :-1], z[:, 1:]].sum(axis=-1)
    top = scores.max()
    weights = np.exp(scores - top)
    total = weights.sum()
    log_z = np.asarray(top + math.log(total))
    marginals = (weights[:, None] * z).sum(axis=0) / total
    return log_z, marginals


def enumerate_batch(unary: Array, pairwise: Array) -> tuple[Array, Array]:
    """``enumerate_chain`` over every batch index (float64 results)."""
    batch = unary.shape[:-2]
    log_z = np.empty(batch, dtype=np.float64)
    marginals = np.empty(unary.shape[:-1], dtype=np.float64)
    for index in np.ndindex(*batch):
        log_z[index], marginals[index] = enumerate_chain(unary[index], pairwise[index])
    return log_z, marginals


def sigmoid(x: Array) -> Array:
    """σ(x) in float64 (reference)."""
    out: Array = 1.0 / (1.0 + np.exp(-x.astype(np.float64)))
    return out


@functools.cache
def spec_functions() -> tuple[Callable[..., Any], Callable[..., Any]]:
    """The spec's enumerated marginals and log Z for N = 3, lambdified to NumPy."""
    chain = spec.chain_potentials(3)
    marginals = [spec.enumerated_marginal(chain, k) for k in range(3)]
    symbols = chain.flat_symbols()
    return (
        sympy.lambdify(symbols, marginals, modules="numpy"),
        sympy.lambdify(symbols, spec.enumerated_log_partition(chain), modules="numpy"),
    )


# --- agreement with the references ---------------------------------------------------------


@given(hst.chain_potential_arrays(dtype=np.float64, max_len=10))
def test_crf_marginals_match_enumeration(chain: hst.ChainPotentialArrays) -> None:
    """§8.2.1 (b): forward–backward marginals and log Z = brute force over 2^N (N ≤ 10).

    float64, default tolerance 4·√eps ≈ 6e-8: both sides are sums of at most
    2^10 positive terms in log space, far inside it.
    """
    log_z, marginals = enumerate_batch(chain.unary, chain.pairwise)
    assert_close(crf_marginals(chain.unary, chain.pairwise), marginals, atol=UNDERFLOW_ATOL)
    assert_close(crf_log_partition(chain.unary, chain.pairwise), log_z)


@given(hst.chain_potential_arrays(dtype=np.float64, min_len=3, max_len=3, batched=False))
def test_crf_marginals_match_spec_n3(chain: hst.ChainPotentialArrays) -> None:
    """§8.2.1 (b): impl = the sympy enumeration of ``spec.structured_attention`` (N = 3)."""
    marginal_fn, log_z_fn = spec_functions()
    arguments = [*chain.unary.ravel(), *chain.pairwise.ravel()]
    desired = np.asarray(marginal_fn(*arguments), dtype=np.float64)
    assert_close(crf_marginals(chain.unary, chain.pairwise), desired, atol=UNDERFLOW_ATOL)
    assert_close(crf_log_partition(chain.unary, chain.pairwise), np.asarray(log_z_fn(*arguments)))


# --- extreme potentials --------------------------------------------------------------------


@given(hst.chain_potential_arrays(dtype=np.float64, max_len=8, magnitude=HUGE))
def test_crf_marginals_stable_for_huge_potentials(chain: hst.ChainPotentialArrays) -> None:
    """Potentials of ±1e3 (exp overflows) give finite results equal to the shift-invariant
    enumeration (which subtracts its largest score)."""
    marginals = crf_marginals(chain.unary, chain.pairwise)
    log_z = crf_log_partition(chain.unary, chain.pairwise)
    assert np.isfinite(marginals).all()
    assert np.isfinite(log_z).all()
    reference_log_z, reference_marginals = enumerate_batch(chain.unary, chain.pairwise)
    # Note: |log-odds| error ≤ eps · N · 4e3 ≈ 1e-11, so marginals agree to ~1e-11 absolutely.
    assert_close(marginals, reference_marginals, atol=1e-9)
    assert_close(log_z, reference_log_z)


@given(
    st.sampled_from([np.float32, np.float64]),
    st.integers(min_value=1, max_value=12),
    st.data(),
)
def test_crf_marginals_one_hot_limit(dtype: type[np.floating[Any]], n: int, data: Any) -> None:
    """Unary log-odds of ±2e3 force each z_n (any O(1) pairwise potentials): the marginals
    are exactly the forced 0/1 pattern and log Z is finite, in float32 and float64."""
    pattern = data.draw(hst.bool_arrays((n,)))
    pairwise = data.draw(hst.float_arrays(dtype, (n - 1, 2, 2), magnitude=1.0))
    unary = np.stack([np.full(n, HUGE), np.where(pattern, 3 * HUGE, -HUGE)], axis=-1).astype(dtype)
    marginals = crf_marginals(unary, pairwise)
    assert_close(marginals, pattern.astype(dtype), rtol=0.0)
    assert np.isfinite(crf_log_partition(unary, pairwise)).all()


def test_crf_potentials_of_1e30_float64_stay_finite() -> None:
    """Finite potentials of any size whose chain sums stay representable work (float64)."""
    unary = np.array([[0.0, 1e30], [1e30, -1e30], [1e30, 1e30]])
    pairwise = np.zeros((2, 2, 2))
    assert_close(crf_marginals(unary, pairwise), np.array([1.0, 0.0, 0.5]))
    assert_close(crf_log_partition(unary, pairwise), np.asarray(3e30))


def test_crf_overflowing_potentials_raise() -> None:
    """A log partition beyond the dtype's range is a ValueError, never inf/NaN (nor a NumPy
    overflow or invalid-value warning: ``errstate(..., "raise")`` turns one into an error)."""
    edges = np.zeros((2, 2), dtype=np.float32)
    for unary in (
        np.full((4, 2), 3e38, dtype=np.float32),
        np.array([[0, 2e38], [0, 0], [0, 2e38]], dtype=np.float32),
    ):
        with (
            np.errstate(over="raise", invalid="raise", divide="raise"),
            pytest.raises(ValueError, match="overflowed float32"),
        ):
            crf_log_partition(unary, edges)
        with (
            np.errstate(over="raise", invalid="raise", divide="raise"),
            pytest.raises(ValueError, match="overflowed float32"),
        ):
            crf_marginals(unary, edges)
    # One huge potential alone is fine: its chain sums stay representable.
    lone = np.array([[0, 2e38], [0, 0], [0, 0]], dtype=np.float32)
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        assert_close(crf_marginals(lone, edges), np.array([1, 0.5, 0.5], dtype=np.float32))


def test_structured_attention_overflowing_context_raises_with_n() -> None:
    """A context Σ_n p(z_n = 1) x_n beyond the dtype's range is a ValueError that states
    the bound's N (the number of positions, not a batch size), batched or not."""
    edges = np.zeros((2, 2))
    for batch in ((), (2,)):
        # Zero potentials: every p(z_n = 1) = 1/2, so three inputs of 1.5e308 sum to 2.25e308.
        x = np.full((*batch, 3, 2), 1.5e308)
        unary = np.zeros((*batch, 3, 2))
        with (
            np.errstate(over="raise", invalid="raise"),
            pytest.raises(ValueError, match=r"overflowed float64; .* divided by N = 3$"),
        ):
            structured_attention(x, unary, edges)


# --- the independent limit, range, normalisation ------------------------------------------


@given(hst.chain_potential_arrays(max_len=8, zero_pairwise=True))
def test_crf_marginals_zero_pairwise_are_sigmoids(chain: hst.ChainPotentialArrays) -> None:
    """Lemma crf_attention_independent_limit: θ_{n,n+1} ≡ 0 ⇒ p(z_n = 1) = σ(θ_n(1) − θ_n(0))."""
    expected = sigmoid(chain.unary[..., 1] - chain.unary[..., 0]).astype(chain.unary.dtype)
    assert_close(crf_marginals(chain.unary, chain.pairwise), expected, atol=UNDERFLOW_ATOL)
    shared = np.zeros((2, 2), dtype=chain.unary.dtype)
    assert_close(crf_marginals(chain.unary, shared), expected, atol=UNDERFLOW_ATOL)


@given(hst.chain_potential_arrays(max_len=8, magnitude=HUGE))
def test_crf_marginals_in_unit_interval(chain: hst.ChainPotentialArrays) -> None:
    """§8.2.1 (b): each marginal is a probability, 0 ≤ p(z_n = 1) ≤ 1 (even for ±1e3)."""
    marginals = crf_marginals(chain.unary, chain.pairwise)
    assert marginals.dtype == chain.unary.dtype
    assert ((marginals >= 0) & (marginals <= 1)).all()


def test_crf_marginals_need_not_sum_to_one() -> None:
    """§8.2.1 (b): unlike softmax attention the marginals are not normalised over n."""
    uniform = crf_marginals(np.zeros((3, 2)), np.zeros((2, 2, 2)))
    assert_close(uniform, np.array([0.5, 0.5, 0.5]))
    assert_close(np.asarray(uniform.sum()), 1.5)
    # One strongly discouraged input: nothing is selected, the weights sum to ≈ 0.
    alone = crf_marginals(np.array([[0.0, -50.0]]), np.zeros((0, 2, 2)))
    assert alone.sum() < 1e-20
    # A coupling that rewards selecting neighbours together pushes the sum towards N.
    together = crf_marginals(np.zeros((4, 2)), np.array([[[0.0, 0.0], [0.0, 5.0]]] * 3))
    assert together.sum() > 3.0


# --- log Z is the generating function of the marginals -------------------------------------


@given(hst.chain_potential_arrays(dtype=np.float64, max_len=6, magnitude=5.0, batched=False))
def test_crf_log_partition_gradient_is_marginals(chain: hst.ChainPotentialArrays) -> None:
    """Lemma crf_attention_marginals: ∂ log Z/∂θ_n(1) = p(z_n = 1), ∂ log Z/∂θ_n(0) = p(z_n = 0)
    (central differences; tolerance ``FINITE_DIFFERENCE_ATOL``, reasoned there)."""
    marginals = crf_marginals(chain.unary, chain.pairwise)
    n = chain.unary.shape[0]
    h = FINITE_DIFFERENCE_STEP
    gradient = np.empty((n, 2))
    for position, state in itertools.product(range(n), (0, 1)):
        step = np.zeros_like(chain.unary)
        step[position, state] = h
        up = crf_log_partition(chain.unary + step, chain.pairwise)
        down = crf_log_partition(chain.unary - step, chain.pairwise)
        gradient[position, state] = float(up - down) / (2 * h)
    assert_close(gradient[:, 1], marginals, rtol=0.0, atol=FINITE_DIFFERENCE_ATOL)
    assert_close(gradient[:, 0], 1.0 - marginals, rtol=0.0, atol=FINITE_DIFFERENCE_ATOL)


# --- shapes, batches, dtypes ---------------------------------------------------------------


@given(hst.chain_potential_arrays(max_len=6))
def test_crf_batch_consistency(chain: hst.ChainPotentialArrays) -> None:
    """A batched call equals the per-chain calls (array-api-tests' _test_stacks)."""
    marginals = crf_marginals(chain.unary, chain.pairwise)
    log_z = crf_log_partition(chain.unary, chain.pairwise)
    assert marginals.shape == chain.unary.shape[:-1]
    assert log_z.shape == chain.unary.shape[:-2]
    for index in np.ndindex(*chain.unary.shape[:-2]):
        single = crf_marginals(chain.unary[index], chain.pairwise[index])
        assert_close(marginals[index], single, rtol=0.0, atol=4 * hst_eps(single))
        assert_close(
            log_z[(*index, ...)],
            crf_log_partition(chain.unary[index], chain.pairwise[index]),
            rtol=4 * hst_eps(single),
        )


def hst_eps(x: Array) -> float:
    """Machine epsilon of x's dtype (batched and single calls may differ by rounding only)."""
    return float(np.finfo(x.dtype).eps)


@given(hst.chain_potential_arrays(dtype=np.float32, max_len=8))
def test_crf_float32_matches_float64(chain: hst.ChainPotentialArrays) -> None:
    """float32 in → float32 out, equal to the float64 computation within float32's 4·√eps
    (|θ| ≤ 10, N ≤ 8: accumulated rounding ≈ N · eps32 · |log Z| ≈ 1e-4 absolute in log-odds)."""
    marginals = crf_marginals(chain.unary, chain.pairwise)
    log_z = crf_log_partition(chain.unary, chain.pairwise)
    assert marginals.dtype == np.float32
    assert log_z.dtype == np.float32
    wide = crf_marginals(chain.unary.astype(np.float64), chain.pairwise.astype(np.float64))
    wide_log_z = crf_log_partition(
        chain.unary.astype(np.float64), chain.pairwise.astype(np.float64)
    )
    rtol = default_rtol(np.float32)
    assert_close(marginals, wide.astype(np.float32), atol=rtol)
    assert_close(log_z, wide_log_z.astype(np.float32), atol=rtol)


@given(hst.chain_potential_arrays(max_len=6, batched=False), st.data())
def test_crf_shared_pairwise_table_equals_repeated_edges(
    chain: hst.ChainPotentialArrays, data: Any
) -> None:
    """A (2, 2) pairwise table is shared by every edge: same as repeating it N − 1 times."""
    table = data.draw(hst.float_arrays(chain.unary.dtype, (2, 2)))
    repeated = np.broadcast_to(table, (chain.unary.shape[0] - 1, 2, 2)).copy()
    assert_close(crf_marginals(chain.unary, table), crf_marginals(chain.unary, repeated))
    assert_close(crf_log_partition(chain.unary, table), crf_log_partition(chain.unary, repeated))


@given(hst.chain_potential_arrays(min_len=1, max_len=1))
def test_crf_single_position(chain: hst.ChainPotentialArrays) -> None:
    """N = 1: p(z_1 = 1) = σ(θ(1) − θ(0)) and log Z = log(e^θ(0) + e^θ(1))."""
    u = chain.unary
    expected = sigmoid(u[..., 1] - u[..., 0]).astype(u.dtype)
    assert_close(crf_marginals(u, chain.pairwise), expected, atol=UNDERFLOW_ATOL)
    assert_close(crf_log_partition(u, chain.pairwise), np.logaddexp(u[..., 0, 0], u[..., 0, 1]))


@given(hst.chain_potential_arrays(max_len=6), st.floats(-20.0, 20.0))
def test_crf_unary_shift_invariance(chain: hst.ChainPotentialArrays, shift: float) -> None:
    """Adding c to both θ_n(0) and θ_n(1) leaves the marginals and adds c to log Z."""
    c = np.asarray(shift, dtype=chain.unary.dtype)
    shifted = chain.unary.copy()
    shifted[..., 0, :] += c
    base = crf_marginals(chain.unary, chain.pairwise)
    rtol = default_rtol(chain.unary.dtype)
    assert_close(crf_marginals(shifted, chain.pairwise), base, atol=rtol)
    assert_close(
        crf_log_partition(shifted, chain.pairwise),
        crf_log_partition(chain.unary, chain.pairwise) + c,
        atol=rtol,
    )


# --- the attention context -----------------------------------------------------------------


@given(hst.chain_potential_arrays(dtype=np.float64, max_len=7), st.data())
def test_structured_attention_context_is_expected_selection(
    chain: hst.ChainPotentialArrays, data: Any
) -> None:
    """§8.2.1 (b): c = Σ_n p(z_n = 1) x_n = E_z[Σ_n z_n x_n] (expectation by enumeration)."""
    d = data.draw(hst.sizes(4))
    n = chain.unary.shape[-2]
    x = data.draw(hst.float_arrays(np.float64, (n, d)))
    result = structured_attention(x, chain.unary, chain.pairwise)
    _, marginals = enumerate_batch(chain.unary, chain.pairwise)
    expected = np.einsum("...n,nd->...d", marginals, x)
    # float64 marginals agree to ~1e-15 with enumeration; times |x| and summed over
    # N ≤ 10 rows this stays well below 1e-12·(1 + max|x|).
    assert_close(result.context, expected, atol=1e-12 * (1 + np.abs(x).max()))
    assert_close(result.marginals, crf_marginals(chain.unary, chain.pairwise))
    assert_close(result.log_partition, crf_log_partition(chain.unary, chain.pairwise))


@given(hst.attention_inputs(max_len=1))
def test_unary_potentials_are_zero_and_score(inputs: hst.AttentionInputs) -> None:
    """θ_n(0) = 0 and θ_n(1) = s(x_n, q) (scaled dot product by default, or any score)."""
    query = inputs.query[..., 0, :]
    potentials = unary_potentials(inputs.key, query)
    scaled = (inputs.key @ query[..., None])[..., 0] / np.asarray(
        math.sqrt(query.shape[-1]), dtype=query.dtype
    )
    assert_close(potentials[..., 0], np.zeros_like(scaled), rtol=0.0)
    assert_close(potentials[..., 1], scaled)
    dotted = unary_potentials(inputs.key, query, dot_product_score)
    assert_close(dotted[..., 1], (inputs.key @ query[..., None])[..., 0])
    from_scores = unary_potentials_from_scores(dotted[..., 1])
    assert_close(from_scores, dotted, rtol=0.0)


# --- bad input -----------------------------------------------------------------------------

F64 = np.float64


@pytest.mark.parametrize(
    ("unary", "pairwise", "error", "match"),
    [
        (
            np.zeros((3, 3)),
            np.zeros((2, 2, 2)),
            ValueError,
            r"unary must have shape \(\.\.\., N, 2\)",
        ),
        (np.zeros((0, 2)), np.zeros((2, 2)), ValueError, "unary must not have a zero-size axis"),
        (np.zeros(2), np.zeros((2, 2)), ValueError, "unary must have at least 2 axes"),
        (np.zeros((3, 2)), np.zeros((3, 2, 2)), ValueError, "3 edge tables, unary has N = 3"),
        (np.zeros((3, 2)), np.zeros((2, 2, 3)), ValueError, "pairwise must end in a 2×2"),
        (np.zeros((2, 3, 2)), np.zeros((3, 2, 2, 2)), ValueError, "batch axes do not broadcast"),
        (np.zeros((3, 2)), np.zeros((2, 2, 2), dtype=np.float32), TypeError, "share one float"),
        (np.zeros((3, 2), dtype=np.int64), np.zeros((2, 2)), TypeError, "unary must have dtype"),
        ([[0.0, 0.0]], np.zeros((2, 2)), TypeError, "unary must be a numpy"),
        (np.array([[0.0, np.nan]]), np.zeros((2, 2)), ValueError, "unary contains NaN"),
        (np.array([[0.0, -np.inf]]), np.zeros((2, 2)), ValueError, "unary contains an infinite"),
        (np.zeros((2, 2)), np.full((1, 2, 2), np.inf), ValueError, "pairwise contains an inf"),
    ],
)
def test_crf_bad_input_errors(
    unary: Any, pairwise: Any, error: type[Exception], match: str
) -> None:
    """Bad potentials raise an error naming the argument and what was expected."""
    with pytest.raises(error, match=match):
        crf_marginals(unary, pairwise)
    with pytest.raises(error, match=match):
        crf_log_partition(unary, pairwise)


def test_structured_attention_bad_input_errors() -> None:
    """inputs must match the chain length, the dtype and the batch axes."""
    unary, pairwise = np.zeros((3, 2)), np.zeros((2, 2))
    with pytest.raises(ValueError, match="inputs has N = 4 positions, unary has 3"):
        structured_attention(np.zeros((4, 5)), unary, pairwise)
    with pytest.raises(TypeError, match="share one float dtype"):
        structured_attention(np.zeros((3, 5), dtype=np.float32), unary, pairwise)
    with pytest.raises(ValueError, match="batch axes do not broadcast"):
        structured_attention(np.zeros((2, 3, 5)), np.zeros((4, 3, 2)), pairwise)
    with pytest.raises(ValueError, match="inputs must have at least 2 axes"):
        structured_attention(np.zeros(3), unary, pairwise)
    with pytest.raises(TypeError, match="share one float dtype"):
        unary_potentials(np.zeros((3, 2)), np.zeros(2, dtype=np.float32))
    with pytest.raises(ValueError, match="scores must have at least 1 axes"):
        unary_potentials_from_scores(np.asarray(1.0))
