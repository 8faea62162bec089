"""Properties of the modern Hopfield network and dense associative memory (§8.6.2 note).

impl: ``impl.modern_hopfield``; spec: ``spec.modern_hopfield``.
"""

import math
import warnings
from collections.abc import Callable
from functools import cache
from typing import Any

import numpy as np
import pytest
import sympy
from hypothesis import given
from hypothesis import strategies as st
from numpy.typing import NDArray

from impl.attention import key_value_attention
from impl.modern_hopfield import (
    dense_associative_energy,
    dense_associative_sweep,
    dense_associative_update_neuron,
    log_sum_exp,
    modern_hopfield_energy,
    modern_hopfield_retrieve,
    modern_hopfield_update,
    one_step_retrieval_error_bound,
    paper_separation_threshold,
    pattern_separation,
)
from impl.scores import scaled_dot_product_score
from impl.softmax import softmax
from impl.testing.strategies import (
    ModernHopfieldInputs,
    float_arrays,
    float_dtypes,
    modern_hopfield_inputs,
    permutations_of,
    sign_vectors,
    sizes,
)
from impl.testing.tolerances import assert_close, eps
from spec import modern_hopfield as spec

Array = NDArray[np.floating[Any]]

ENERGY_ROUNDING_ULPS = 64.0
"""Slack for comparisons of energies: lse, ½ξᵀξ and ½M² are each rounded sums
of up to a few dozen terms, so equal true energies may differ by a few dozen
ulps of the energy's scale ½‖ξ‖² + ½M² + M‖ξ‖ + β⁻¹ log N."""


def _scale(inputs: ModernHopfieldInputs) -> float:
    M = float(np.linalg.norm(inputs.patterns, axis=-1).max())
    xi = float(np.linalg.norm(inputs.states, axis=-1).max())
    N = inputs.patterns.shape[-2]
    return 0.5 * xi**2 + 0.5 * M**2 + M * xi + math.log(N) / inputs.beta + 1.0


def _slack(inputs: ModernHopfieldInputs) -> float:
    return ENERGY_ROUNDING_ULPS * eps(inputs.patterns.dtype) * _scale(inputs)


SPEC_SIZES = st.sampled_from([(1, 1), (1, 3), (3, 2), (2, 3)])
"""(N, D) for spec comparisons (each size is derived once by sympy and cached)."""


@cache
def _spec_functions(N: int, D: int) -> tuple[Callable[..., Any], Callable[..., Any]]:
    s = spec.hopfield_symbols(N, D)
    arguments = [*s.patterns, *s.state, s.beta]
    update = sympy.lambdify(arguments, list(spec.cccp_update(N, D)), modules="numpy")
    energy = sympy.lambdify(arguments, spec.energy(N, D), modules="numpy")
    return update, energy


@st.composite
def spec_inputs(draw: st.DrawFn) -> ModernHopfieldInputs:
    """float64 inputs with (N, D) from SPEC_SIZES, unbatched state."""
    N, D = draw(SPEC_SIZES)
    patterns = draw(float_arrays(np.float64, (N, D), magnitude=3.0))
    state = draw(float_arrays(np.float64, (D,), magnitude=3.0))
    return ModernHopfieldInputs(patterns, state, draw(st.floats(0.01, 10.0)))


@given(modern_hopfield_inputs())
def test_modern_hopfield_update_is_softmax_weighted_patterns(inputs: ModernHopfieldInputs) -> None:
    """ξ_new = X softmax(β Xᵀξ): the attention weights are softmax of β·overlaps (§8.6.2 note)."""
    X, xi, beta = inputs.patterns, inputs.states, inputs.beta
    overlaps: Array = np.einsum("nd,...d->...n", X, xi)
    weights = softmax((np.asarray(beta, dtype=X.dtype) * overlaps).astype(X.dtype))
    expected: Array = weights @ X
    assert_close(modern_hopfield_update(xi, X, beta=beta), expected, atol=_slack(inputs))


@given(modern_hopfield_inputs())
def test_modern_hopfield_update_with_inverse_sqrt_dim_is_scaled_dot_product_attention(
    inputs: ModernHopfieldInputs,
) -> None:
    """With β = 1/√D the update is scaled dot-product key-value attention, keys = values = X."""
    X, xi = inputs.patterns, inputs.states
    D = X.shape[-1]
    attention = key_value_attention(xi[..., None, :], X, X, score=scaled_dot_product_score)
    actual = modern_hopfield_update(xi, X, beta=1 / math.sqrt(D))
    assert_close(actual, attention[..., 0, :], atol=_slack(inputs))


@given(spec_inputs())
def test_modern_hopfield_update_matches_spec(inputs: ModernHopfieldInputs) -> None:
    """impl's update equals ξ' solved by sympy from the CCCP step ∇E_convex(ξ') = −∇E_concave(ξ)."""
    N, D = inputs.patterns.shape
    update, _ = _spec_functions(N, D)
    desired = np.asarray(
        update(*inputs.patterns.ravel(), *inputs.states, inputs.beta), dtype=np.float64
    )
    actual = modern_hopfield_update(inputs.states, inputs.patterns, beta=inputs.beta)
    assert_close(actual, desired, atol=_slack(inputs))


@given(spec_inputs())
def test_modern_hopfield_energy_matches_spec(inputs: ModernHopfieldInputs) -> None:
    """E(ξ) = −lse(β, Xᵀξ) + ½ξᵀξ + β⁻¹ log N + ½M² equals the sympy energy (naive lse there)."""
    N, D = inputs.patterns.shape
    _, energy = _spec_functions(N, D)
    desired = np.asarray(
        energy(*inputs.patterns.ravel(), *inputs.states, inputs.beta), dtype=np.float64
    )
    actual = modern_hopfield_energy(inputs.states, inputs.patterns, beta=inputs.beta)
    assert_close(actual, desired, atol=_slack(inputs))


@given(modern_hopfield_inputs(dtype=np.dtype(np.float64), max_beta=5.0))
def test_modern_hopfield_energy_stable_equals_naive(inputs: ModernHopfieldInputs) -> None:
    """The max-shifted lse equals the naive β⁻¹ log Σ exp(β z) where that does not overflow."""
    X, xi, beta = inputs.patterns, inputs.states, inputs.beta
    z = np.einsum("nd,...d->...n", X, xi)
    naive_lse = np.log(np.exp(beta * z).sum(axis=-1)) / beta  # |βz| ≤ 5·75: no overflow
    M = np.linalg.norm(X, axis=-1).max()
    naive = -naive_lse + 0.5 * (xi * xi).sum(-1) + math.log(X.shape[0]) / beta + 0.5 * M * M
    actual = modern_hopfield_energy(xi, X, beta=beta)
    assert_close(actual, np.asarray(naive), atol=_slack(inputs))


@given(modern_hopfield_inputs())
def test_modern_hopfield_energy_non_increasing(inputs: ModernHopfieldInputs) -> None:
    """E(ξ_{t+1}) ≤ E(ξ_t) along retrieval (CCCP descent; Ramsauer et al. 2020, theorem 1)."""
    result = modern_hopfield_retrieve(
        inputs.states, inputs.patterns, beta=inputs.beta, max_iterations=8
    )
    rises = np.diff(result.energies, axis=0)
    assert np.all(rises <= _slack(inputs)), rises.max()


@given(modern_hopfield_inputs())
def test_modern_hopfield_energy_non_negative(inputs: ModernHopfieldInputs) -> None:
    """E(ξ) ≥ ½(‖ξ‖ − M)² ≥ 0, since lse(β, Xᵀξ) ≤ M‖ξ‖ + β⁻¹ log N (Ramsauer et al. 2020)."""
    energy = modern_hopfield_energy(inputs.states, inputs.patterns, beta=inputs.beta)
    M = np.linalg.norm(inputs.patterns, axis=-1).max()
    lower = 0.5 * (np.linalg.norm(inputs.states, axis=-1) - M) ** 2
    assert np.all(energy >= lower - _slack(inputs))


@given(modern_hopfield_inputs(), st.data())
def test_modern_hopfield_one_step_error_bound_holds(
    inputs: ModernHopfieldInputs, data: st.DataObject
) -> None:
    """‖ξ_new − x_i‖ ≤ 2M(N−1)exp(−β(ξᵀx_i − max_{j≠i} ξᵀx_j)) for every ξ, i, β (derived bound)."""
    X, xi, beta = inputs.patterns, inputs.states, inputs.beta
    i = data.draw(st.integers(0, X.shape[0] - 1))
    error = np.linalg.norm(modern_hopfield_update(xi, X, beta=beta) - X[i], axis=-1)
    bound = one_step_retrieval_error_bound(xi, X, i, beta=beta)
    M = float(np.linalg.norm(X, axis=-1).max())
    assert np.all(error <= bound * (1 + 4 * math.sqrt(eps(X.dtype))) + 8 * eps(X.dtype) * M)


@st.composite
def separated_cases(draw: st.DrawFn) -> tuple[Array, Array, int, float, float]:
    """(patterns, cue, i, β, ε): distinct ±1 patterns (so Δ_i ≥ 2), a cue within
    Δ_i/(4M) of x_i, and β = 2 log(2M(N−1)/ε)/Δ_i, raised until Ramsauer et al.'s
    Δ_i ≥ 2/(βN) + β⁻¹ log(2(N−1)NβM²) also holds."""
    dtype = draw(float_dtypes)
    D = draw(sizes(10, min_size=2))
    N = draw(sizes(min(6, 2**D), min_size=2))
    rows = draw(
        st.lists(sign_vectors((D,)), min_size=N, max_size=N, unique_by=lambda r: r.tobytes())
    )
    X = np.stack(rows).astype(dtype)
    i = draw(st.integers(0, N - 1))
    M = math.sqrt(D)
    delta = float(pattern_separation(X)[i])
    direction = draw(float_arrays(np.float64, (D,), magnitude=1.0))
    norm = float(np.linalg.norm(direction))
    radius = draw(st.floats(0.0, 1.0)) * delta / (4 * M)
    noise = direction / norm * radius if norm > 0 else np.zeros(D)
    cue = (X[i] + noise).astype(dtype)
    epsilon = math.sqrt(eps(dtype)) * M
    beta = 2 * math.log(2 * M * (N - 1) / epsilon) / delta  # Δ̃ ≥ Δ/2 ⇒ bound ≤ ε
    while delta < paper_separation_threshold(N, beta, M):
        beta *= 2
    return X, cue, i, beta, epsilon


@given(separated_cases())
def test_modern_hopfield_retrieves_in_one_step_when_separated(
    case: tuple[Array, Array, int, float, float],
) -> None:
    """Well-separated patterns and large β: one update lands within ε of x_i (§8.6.2 note).

    Condition used (derived in ``one_step_retrieval_error_bound``): with
    ‖ξ − x_i‖ ≤ Δ_i/(4M), Δ̃_i(ξ) ≥ Δ_i/2, so β ≥ 2 log(2M(N−1)/ε)/Δ_i gives
    error ≤ ε; the generated β also satisfies Ramsauer et al.'s theorem 3
    condition Δ_i ≥ 2/(βN) + β⁻¹ log(2(N−1)NβM²).
    """
    X, cue, i, beta, epsilon = case
    error = float(np.linalg.norm(modern_hopfield_update(cue, X, beta=beta) - X[i]))
    assert error <= epsilon + 8 * eps(X.dtype) * math.sqrt(X.shape[1])
    assert pattern_separation(X)[i] >= paper_separation_threshold(
        X.shape[0], beta, math.sqrt(X.shape[1])
    )


@given(st.data())
def test_modern_hopfield_batch_consistency(data: st.DataObject) -> None:
    """Batched patterns (B, N, D) and states (B, D) equal per-item updates and energies."""
    dtype = data.draw(float_dtypes)
    B, N, D = data.draw(sizes(3)), data.draw(sizes(4)), data.draw(sizes(4))
    X = data.draw(float_arrays(dtype, (B, N, D), magnitude=3.0))
    xi = data.draw(float_arrays(dtype, (B, D), magnitude=3.0))
    beta = data.draw(st.floats(0.01, 10.0))
    updates = modern_hopfield_update(xi, X, beta=beta)
    energies = modern_hopfield_energy(xi, X, beta=beta)
    for b in range(B):
        assert_close(updates[b], modern_hopfield_update(xi[b], X[b], beta=beta))
        assert_close(np.asarray(energies[b]), modern_hopfield_energy(xi[b], X[b], beta=beta))


@given(
    float_dtypes.flatmap(lambda d: float_arrays(d, (3, 5), magnitude=10.0)),
    st.floats(0.01, 10.0),
    st.floats(-1e3, 1e3),
)
def test_log_sum_exp_bounds_and_translation(values: Array, beta: float, shift: float) -> None:
    """max z ≤ lse(β, z) ≤ max z + β⁻¹ log N, and lse(β, z + c) = lse(β, z) + c."""
    lse = log_sum_exp(values, beta=beta)
    top = values.max(axis=-1)
    tolerance = 8 * eps(values.dtype) * (np.abs(top) + math.log(values.shape[-1]) / beta + 1)
    assert np.all(lse >= top - tolerance)
    assert np.all(lse <= top + math.log(values.shape[-1]) / beta + tolerance)
    shifted = (values.astype(np.float64) + shift).astype(values.dtype)
    actual_shift = (shifted.astype(np.float64) - values.astype(np.float64)).mean(axis=-1)
    expected = (lse.astype(np.float64) + actual_shift).astype(values.dtype)
    # Note: atol of a few ulps of |c|: adding c to float32 values rounds each entry.
    assert_close(
        log_sum_exp(shifted, beta=beta), expected, atol=16 * eps(values.dtype) * (abs(shift) + 10)
    )


def test_modern_hopfield_extremes() -> None:
    """N = 1 retrieves x_1 from anywhere; huge β is argmax retrieval; huge overlaps stay finite."""
    X = np.array([[1.0, -2.0, 0.5]])
    assert_close(modern_hopfield_update(np.array([100.0, 3.0, -7.0]), X, beta=1.0), X[0])
    assert_close(pattern_separation(X), np.array([np.inf]))
    assert one_step_retrieval_error_bound(np.zeros(3), X, 0, beta=1.0) == 0
    zero32 = one_step_retrieval_error_bound(
        np.zeros((2, 3), np.float32), X.astype(np.float32), 0, beta=1.0
    )
    assert zero32.dtype == np.float32  # the states' dtype, as for N ≥ 2
    assert zero32.shape == (2,)
    assert np.all(zero32 == 0)
    assert paper_separation_threshold(1, 1.0, 1.0) == -math.inf
    patterns = np.array([[1.0, 0.0], [0.0, 1.0]])
    assert_close(modern_hopfield_update(np.array([1.0, 0.9]), patterns, beta=1e6), patterns[0])
    big = np.array([[1e30, 0.0], [0.0, 1e30]], dtype=np.float32) / np.float32(1e15)
    result = modern_hopfield_update(np.array([1e15, 0.0], dtype=np.float32), big, beta=1.0)
    assert np.all(np.isfinite(result))
    assert np.isfinite(
        modern_hopfield_energy(np.array([1e15, 0.0]), big.astype(np.float64), beta=1.0)
    )
    assert_close(log_sum_exp(np.array([1e30, -1e30]), beta=1.0), np.asarray(1e30))


def test_modern_hopfield_bad_input() -> None:
    """Bad input raises errors naming the argument."""
    X = np.ones((3, 2))
    with pytest.raises(ValueError, match="states has 3 features, patterns has 2"):
        modern_hopfield_update(np.ones(3), X, beta=1.0)
    with pytest.raises(ValueError, match="beta must be finite and positive"):
        modern_hopfield_update(np.ones(2), X, beta=0.0)
    with pytest.raises(TypeError, match="share one float dtype"):
        modern_hopfield_energy(np.ones(2, dtype=np.float32), X, beta=1.0)
    with pytest.raises(ValueError, match="NaN"):
        modern_hopfield_energy(np.array([np.nan, 0.0]), X, beta=1.0)
    with pytest.raises(ValueError, match="at least one pattern"):
        modern_hopfield_update(np.ones(2), np.ones((0, 2)), beta=1.0)
    with pytest.raises(ValueError, match="batch axes do not broadcast"):
        modern_hopfield_update(np.ones((4, 2)), np.ones((3, 3, 2)), beta=1.0)
    with pytest.raises(ValueError, match="index must be in"):
        one_step_retrieval_error_bound(np.ones(2), X, 3, beta=1.0)
    with pytest.raises(ValueError, match="max_iterations must be at least 1"):
        modern_hopfield_retrieve(np.ones(2), X, beta=1.0, max_iterations=0)


# --- Dense associative memory (Krotov & Hopfield 2016) ---


@st.composite
def dense_inputs(
    draw: st.DrawFn, *, max_patterns: int = 4, max_size: int = 8
) -> tuple[Array, Array]:
    """±1 patterns (P, M) and ±1 states (*batch, M)."""
    dtype = draw(float_dtypes)
    P, M = draw(sizes(max_patterns)), draw(sizes(max_size))
    patterns = draw(sign_vectors((P, M), dtype=dtype))
    states = draw(sign_vectors((draw(sizes(3)), M), dtype=dtype))
    return patterns, states


INTERACTIONS = st.sampled_from(
    [("polynomial", 2), ("polynomial", 3), ("polynomial", 4), ("exponential", 1)]
)


@given(dense_inputs(), INTERACTIONS, st.data())
def test_dense_associative_energy_non_increasing(
    inputs: tuple[Array, Array], interaction: tuple[str, int], data: st.DataObject
) -> None:
    """Every asynchronous update keeps or lowers E(σ) = −Σ_μ F(x^μ·σ) (Krotov & Hopfield 2016)."""
    patterns, states = inputs
    kind, n = interaction
    kind_literal: Any = kind
    energy = dense_associative_energy(states, patterns, interaction=kind_literal, degree=n)
    for i in data.draw(permutations_of(patterns.shape[1])):
        states = dense_associative_update_neuron(
            states, int(i), patterns, interaction=kind_literal, degree=n
        )
        new = dense_associative_energy(states, patterns, interaction=kind_literal, degree=n)
        # Polynomial energies are exact integers; exp(integers) are rounded once each.
        assert np.all(new <= energy + 8 * eps(patterns.dtype) * np.abs(energy)), (
            new - energy
        ).max()
        energy = new


@given(dense_inputs(max_patterns=3, max_size=4).filter(lambda pair: pair[0].shape[1] >= 2))
def test_dense_associative_quadratic_is_classical_hopfield(inputs: tuple[Array, Array]) -> None:
    """F(z) = z²: E_dense = a·(−½σᵀWσ) + c with Hebbian W, (a, c) solved by sympy (= (2P, −PM))."""
    patterns, states = inputs
    P, M = patterns.shape
    W = patterns.T @ patterns / P
    np.fill_diagonal(W, 0)
    hopfield = -0.5 * np.einsum("...i,ij,...j->...", states, W, states)
    a, c = spec.quadratic_dense_energy_offset(P, M)
    expected = (float(a) * hopfield + float(c)).astype(patterns.dtype)
    actual = dense_associative_energy(states, patterns, interaction="polynomial", degree=2)
    # Both sides sum P·M² products of ±1 entries: a few ulps of that magnitude.
    assert_close(actual, expected, atol=8 * eps(patterns.dtype) * P * M * M)


@given(dense_inputs(max_patterns=3, max_size=4), st.sampled_from([2, 3]))
def test_dense_associative_energy_matches_spec(inputs: tuple[Array, Array], degree: int) -> None:
    """Polynomial and exponential energies equal sympy's −Σ_μ F(x^μ·σ)."""
    patterns, states = inputs
    P, M = patterns.shape
    s = spec.dense_symbols(P, M)
    arguments = [*s.patterns, *s.state]
    X = patterns.astype(np.float64).ravel()
    for kind, expression in (
        ("polynomial", spec.dense_polynomial_energy(P, M, degree)),
        ("exponential", spec.dense_exponential_energy(P, M)),
    ):
        function = sympy.lambdify(arguments, expression, modules="numpy")
        desired = np.asarray(function(*X, *np.moveaxis(states.astype(np.float64), -1, 0)))
        kind_literal: Any = kind
        actual = dense_associative_energy(states, patterns, interaction=kind_literal, degree=degree)
        assert_close(actual, desired.astype(patterns.dtype))


@given(dense_inputs(), st.data())
def test_dense_associative_quadratic_update_is_hopfield_sign_rule(
    inputs: tuple[Array, Array], data: st.DataObject
) -> None:
    """n = 2: σ_i ← sign(Σ_{j≠i} w_ij σ_j) with Hebbian W (kept on a zero field)."""
    patterns, states = inputs
    M = patterns.shape[1]
    # Note: P·W (integer entries) instead of W = (1/P)Σxxᵀ: same signs, no rounding of 1/P,
    # so a zero field is exactly zero.
    W = patterns.T @ patterns
    np.fill_diagonal(W, 0)
    i = data.draw(st.integers(0, M - 1))
    field = states @ W[i]
    expected = np.where(field > 0, 1, np.where(field < 0, -1, states[..., i]))
    updated = dense_associative_update_neuron(
        states, i, patterns, interaction="polynomial", degree=2
    )
    assert_close(updated[..., i], expected.astype(patterns.dtype))


def test_dense_associative_exponential_stable_for_large_overlaps() -> None:
    """Overlaps of ±2000 (exp overflows past 709): the update compares log-sum-exps, raises
    no overflow and retrieves a stored pattern from a 25 %-corrupted cue (seeded example)."""
    rng = np.random.default_rng(8)
    patterns = np.where(rng.random((40, 2000)) < 0.5, -1.0, 1.0)
    cue = patterns[3].copy()
    cue[rng.permutation(2000)[:500]] *= -1
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        retrieved = dense_associative_sweep(cue, patterns, interaction="exponential")
    assert_close(retrieved, patterns[3])
    assert dense_associative_energy(retrieved, patterns, interaction="exponential") == -np.inf
    moderate = dense_associative_energy(
        patterns[:, :50], patterns[:2, :50], interaction="exponential"
    )
    assert np.all(np.isfinite(moderate))


def test_dense_associative_bad_input() -> None:
    """Bad input raises errors naming the argument."""
    X = np.ones((2, 3))
    with pytest.raises(ValueError, match=r"states must contain only \+1 and -1"):
        dense_associative_energy(np.array([1.0, 0.5, 1.0]), X)
    with pytest.raises(ValueError, match="degree must be ≥ 2"):
        dense_associative_energy(np.ones(3), X, degree=1)
    with pytest.raises(ValueError, match="interaction must be"):
        dense_associative_energy(np.ones(3), X, interaction="cubic")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="states has 2 neurons, patterns has 3"):
        dense_associative_sweep(np.ones(2), X)
    with pytest.raises(ValueError, match="index must be in"):
        dense_associative_update_neuron(np.ones(3), 3, X)
    with pytest.raises(ValueError, match="permutation"):
        dense_associative_sweep(np.ones(3), X, order=np.array([0, 1, 1]))


@given(dense_inputs(), INTERACTIONS)
def test_dense_associative_sweep_batch_consistency(
    inputs: tuple[Array, Array], interaction: tuple[str, int]
) -> None:
    """A batched sweep equals per-item sweeps; a sweep is the composition of neuron updates."""
    patterns, states = inputs
    kind: Any = interaction[0]
    n = interaction[1]
    batched = dense_associative_sweep(states, patterns, interaction=kind, degree=n)
    for b in range(states.shape[0]):
        single = dense_associative_sweep(states[b], patterns, interaction=kind, degree=n)
        assert_close(batched[b], single)
        stepwise = states[b]
        for i in range(patterns.shape[1]):
            stepwise = dense_associative_update_neuron(
                stepwise, i, patterns, interaction=kind, degree=n
            )
        assert_close(single, stepwise)


@given(separated_cases())
def test_modern_hopfield_retrieve_converges_to_stored_pattern(
    case: tuple[Array, Array, int, float, float],
) -> None:
    """Retrieval from a cue near a well-separated x_i stops (converged) next to x_i."""
    X, cue, i, beta, epsilon = case
    result = modern_hopfield_retrieve(cue, X, beta=beta, max_iterations=10)
    assert result.converged
    assert result.iterations <= 3
    assert result.states.shape == (result.iterations + 1, X.shape[1])
    error = float(np.linalg.norm(result.states[-1] - X[i]))
    assert error <= epsilon + 8 * eps(X.dtype) * math.sqrt(X.shape[1])


def test_modern_hopfield_retrieve_converged_is_per_state() -> None:
    """``converged`` has the batch shape and says, per state, whether its last step was small.

    Two cues, one iteration: the cue at x_1 moves by ≤ 2·e^{−50} (below the tolerance),
    the cue (0.6, 0.4) moves by about 0.4 towards x_1, so it has not converged yet.
    """
    X = np.array([[1.0, 0.0], [0.0, 1.0]])
    cues = np.array([[1.0, 0.0], [0.6, 0.4]])
    result = modern_hopfield_retrieve(cues, X, beta=50.0, max_iterations=1)
    assert result.iterations == 1
    assert result.converged.shape == (2,)
    assert result.converged.tolist() == [True, False]
    finished = modern_hopfield_retrieve(cues, X, beta=50.0, max_iterations=10)
    assert finished.converged.tolist() == [True, True]


def _exact_dense_update(states: Array, i: int, patterns: Array, degree: int) -> float:
    """σ_i by the energy difference Σ_μ (z⁺)^n − (z⁻)^n in Python integers (exact)."""
    sigma = [int(v) for v in states]
    rows = [[int(v) for v in row] for row in patterns]
    without = [sum(r[j] * sigma[j] for j in range(len(sigma)) if j != i) for r in rows]
    difference = sum(
        (w + r[i]) ** degree - (w - r[i]) ** degree for w, r in zip(without, rows, strict=True)
    )
    return 1.0 if difference > 0 else -1.0 if difference < 0 else float(sigma[i])


def test_dense_associative_degree_1000_is_exact() -> None:
    """Issue 7, class 3: degree 1000 (z^1000 overflows float64 for |z| ≥ 3) still updates exactly.

    The update compares exact integer powers; the energy, whose true value exceeds
    float64, is −inf (documented) instead of NaN.
    """
    rng = np.random.default_rng(1000)
    patterns = rng.choice([-1.0, 1.0], size=(4, 9))
    states = rng.choice([-1.0, 1.0], size=(6, 9))
    for state in states:
        for i in range(9):
            new = dense_associative_update_neuron(state, i, patterns, degree=1000)
            assert new[i] == _exact_dense_update(state, i, patterns, 1000)
    energy = dense_associative_energy(patterns[0], patterns, degree=1000)  # overlap 9: 9^1000
    assert float(energy) == -np.inf


def test_dense_associative_exponential_exact_tie_keeps_state() -> None:
    """An exact tie Σe^{z⁺} = Σe^{z⁻} (equal multisets of overlaps) keeps σ_i, both signs.

    Patterns come in pairs that differ only in bit 0 (rows t and t + 3), so z⁺ is a
    permutation of z⁻: an exact tie. Summed in another order, the float log-sum-exps
    differ by an ulp in about 1 case in 10; the exact multiset test keeps σ_0 in all
    400 seeded cases (without it, those cases flipped).
    """
    rng = np.random.default_rng(5)
    for _ in range(400):
        rows = rng.choice([-1.0, 1.0], size=(3, 40))
        rows[:, 0] = 1.0
        patterns = np.concatenate([rows, rows * np.r_[-1.0, np.ones(39)]])
        for start in (1.0, -1.0):
            state = np.ones(40)
            state[0] = start
            updated = dense_associative_update_neuron(state, 0, patterns, interaction="exponential")
            assert updated[0] == start


def test_modern_hopfield_scalars_checked_in_dtype() -> None:
    """Issue 7, class 2: β = 1e-320 (1/β overflows) and a float32 β of 1e-50 or 1e39 are named."""
    X = np.array([[1.0, 0.0], [0.0, 1.0]])
    with pytest.raises(ValueError, match="beta = 1e-320 is below the smallest normal float64"):
        modern_hopfield_update(np.array([1.0, 0.5]), X, beta=1e-320)
    with pytest.raises(ValueError, match="beta = 1e-50 is below the smallest normal float32"):
        modern_hopfield_update(
            np.array([1.0, 0.5], dtype=np.float32), X.astype(np.float32), beta=1e-50
        )
    with pytest.raises(ValueError, match="beta = 1e\\+39 overflows float32"):
        modern_hopfield_energy(
            np.array([1.0, 0.5], dtype=np.float32), X.astype(np.float32), beta=1e39
        )
    # A huge float64 β is fine: the softmax runs on β(z − max z) ≤ 0 (argmax retrieval).
    assert_close(modern_hopfield_update(np.array([1.0, 0.5]), X, beta=1e300), X[0])
