"""The symbolic Hopfield derivations (spec.hopfield) against direct numeric evaluation.

Book: §8.6.1 and exercise 8-6. Each derived expression is lambdified
(``modules="numpy"``; the symbolic-M sums become loops) and compared with the
definition evaluated directly, for random sizes and values.
"""

from typing import Any

import numpy as np
import pytest
import sympy
from hypothesis import given
from hypothesis import strategies as st
from numpy.typing import NDArray

from impl.testing import strategies as nst
from impl.testing.tolerances import assert_close
from spec import hopfield as hs

FloatArray = NDArray[np.floating[Any]]

_ENERGY = sympy.lambdify((hs.w, hs.s, hs.b, hs.M), hs.energy_sum(), modules="numpy")
_DERIVED = sympy.lambdify(
    (hs.w, hs.s, hs.b, hs.DELTA, hs.i, hs.M), hs.energy_change_derived(), modules="numpy"
)
_WITH_DIAGONAL = sympy.lambdify(
    (hs.w, hs.s, hs.b, hs.DELTA, hs.i, hs.M), hs.energy_change_with_diagonal(), modules="numpy"
)
_ASYMMETRY = sympy.lambdify(
    (hs.w, hs.s, hs.DELTA, hs.i, hs.M), hs.asymmetry_residual(), modules="numpy"
)
_LYAPUNOV = sympy.lambdify(
    (hs.w, hs.b, hs.S_NOW, hs.S_PREV, hs.M), hs.two_step_lyapunov(hs.S_NOW, hs.S_PREV), "numpy"
)
_LYAPUNOV_CLOSED = sympy.lambdify(
    (hs.w, hs.b, hs.S_NEXT, hs.S_NOW, hs.S_PREV, hs.M),
    hs.lyapunov_difference_closed_form(),
    modules="numpy",
)
_LYAPUNOV_RESIDUAL = sympy.lambdify(
    (hs.w, hs.S_NOW, hs.S_PREV, hs.M), hs.lyapunov_asymmetry_residual(), modules="numpy"
)
_PM1 = sympy.lambdify(
    (hs.OLD, hs.NEW, hs.OFF_DIAGONAL_FIELD, hs.SELF_COUPLING),
    hs.energy_change_split_field(),
    modules="numpy",
)

ATOL = 1e-9
"""Absolute tolerance for float64 sums of at most 36 products of magnitude ≤ 100."""


def _direct_energy(weights: FloatArray, bias: FloatArray, state: FloatArray) -> float:
    return float(-0.5 * state @ weights @ state - bias @ state)


# Any W (not necessarily symmetric), bias, real state, a neuron i and a move Δ.
_ANY_NETWORK_AND_MOVE = st.integers(1, 6).flatmap(
    lambda m: st.tuples(
        nst.float_arrays(np.float64, (m, m)),
        nst.float_arrays(np.float64, (m,)),
        nst.float_arrays(np.float64, (m,)),
        st.integers(0, m - 1),
        st.floats(-10, 10),
    )
)


@given(_ANY_NETWORK_AND_MOVE)
def test_spec_energy_change_derived_matches_definition(
    drawn: tuple[FloatArray, FloatArray, FloatArray, int, float],
) -> None:
    """Exercise 8-6 step 1: derived ΔE = E(s + Δe_i) − E(s) for ANY W and any real s."""
    weights, bias, state, i, delta = drawn
    m = state.shape[0]
    moved = state.copy()
    moved[i] += delta
    definition = _ENERGY(weights, moved, bias, m) - _ENERGY(weights, state, bias, m)
    assert definition == pytest.approx(
        _direct_energy(weights, bias, moved) - _direct_energy(weights, bias, state), abs=ATOL
    )
    assert _DERIVED(weights, state, bias, delta, i, m) == pytest.approx(definition, abs=ATOL)


@given(_ANY_NETWORK_AND_MOVE)
def test_spec_symmetry_is_where_the_residual_goes(
    drawn: tuple[FloatArray, FloatArray, FloatArray, int, float],
) -> None:
    """Exercise 8-6 step 2: derived − (−Δh − ½w_iiΔ²) = ½Δ Σ_j (w_ij − w_ji) s_j; 0 if W = Wᵀ."""
    weights, bias, state, i, delta = drawn
    m = state.shape[0]
    derived = _DERIVED(weights, state, bias, delta, i, m)
    target = _WITH_DIAGONAL(weights, state, bias, delta, i, m)
    assert derived - target == pytest.approx(_ASYMMETRY(weights, state, delta, i, m), abs=ATOL)
    symmetric = (weights + weights.T) / 2
    assert _DERIVED(symmetric, state, bias, delta, i, m) == pytest.approx(
        _WITH_DIAGONAL(symmetric, state, bias, delta, i, m), abs=ATOL
    )


def test_spec_update_cases_are_exhaustive_and_nonincreasing() -> None:
    """Exercise 8-6 step 3: four cases, the rule's branch decided, ΔE ≤ 0 in each."""
    cases = hs.update_cases()
    # is_nonnegative is three-valued: None (sign undecided) must fail here, not count as False.
    assert {(int(c.old_state), c.field.is_nonnegative) for c in cases} == {
        (1, True),
        (1, False),
        (-1, True),
        (-1, False),
    }
    for case in cases:
        assert case.new_state in (1, -1)
        assert case.new_state == (1 if case.field.is_nonnegative is True else -1)
        assert case.energy_change.is_nonpositive is True


@given(
    st.sampled_from([1.0, -1.0]),
    st.sampled_from([1.0, -1.0]),
    st.floats(-10, 10),
    st.floats(-10, 10),
)
def test_spec_self_coupling_cancels_for_plus_minus_one_states(
    old: float, new: float, off_field: float, self_coupling: float
) -> None:
    """For ±1 states ΔE = −(τ − σ) h̃ whatever w_ii (the diagonal acts only via the rule)."""
    assert _PM1(old, new, off_field, self_coupling) == pytest.approx(
        -(new - old) * off_field, abs=ATOL
    )


@given(
    st.integers(1, 6).flatmap(
        lambda m: st.tuples(
            nst.float_arrays(np.float64, (m, m)),
            nst.float_arrays(np.float64, (m,)),
            nst.sign_vectors((m,)),
            nst.sign_vectors((m,)),
        )
    ),
    st.booleans(),
)
def test_spec_lyapunov_difference_matches_definition(
    drawn: tuple[FloatArray, FloatArray, FloatArray, FloatArray], symmetric: bool
) -> None:
    """Synchronous Lyapunov: L(t+1) − L(t) = closed form (+ residual if W ≠ Wᵀ); ≤ 0 if W = Wᵀ."""
    weights, bias, previous, current = drawn
    if symmetric:
        weights = (weights + weights.T) / 2  # any diagonal
    m = current.shape[0]
    following = np.where(weights @ current + bias >= 0, 1.0, -1.0)
    difference = _LYAPUNOV(weights, bias, following, current, m) - _LYAPUNOV(
        weights, bias, current, previous, m
    )
    closed = _LYAPUNOV_CLOSED(weights, bias, following, current, previous, m)
    residual = _LYAPUNOV_RESIDUAL(weights, current, previous, m)
    assert difference == pytest.approx(closed + residual, abs=ATOL)
    if symmetric:
        assert residual == pytest.approx(0.0, abs=ATOL)
        assert closed <= ATOL


@given(
    st.integers(1, 4).flatmap(
        lambda m: st.lists(st.integers(-3, 3), min_size=m * m + 2 * m, max_size=m * m + 2 * m).map(
            lambda v: (m, v)
        )
    )
)
def test_spec_exact_semantics_match_the_symbolic_energy(drawn: tuple[int, list[int]]) -> None:
    """spec's exact rational energy, field and updates agree with energy_sum and the rule."""
    m, values = drawn
    weights = np.array(values[: m * m], dtype=float).reshape(m, m)
    bias = np.array(values[m * m : m * m + m], dtype=float)
    state = np.where(np.array(values[m * m + m :]) >= 0, 1.0, -1.0)
    W = hs.exact_matrix([[int(v) for v in row] for row in weights])
    b = hs.exact_matrix([[int(v)] for v in bias])
    s = hs.exact_matrix([[int(v)] for v in state])
    assert float(hs.exact_energy(W, b, s)) == pytest.approx(_ENERGY(weights, state, bias, m))
    field = weights @ state + bias
    assert [float(v) for v in hs.exact_field(W, b, s)] == pytest.approx(field.tolist())
    synchronous = np.where(field >= 0, 1.0, -1.0)
    assert [float(v) for v in hs.exact_synchronous_update(W, b, s)] == synchronous.tolist()
    for neuron in range(m):
        expected = state.copy()
        expected[neuron] = synchronous[neuron]
        updated = hs.exact_update_neuron(W, b, s, neuron)
        assert [float(v) for v in updated] == expected.tolist()


def test_spec_exact_matrix_rejects_floats() -> None:
    """Exact semantics take ints and Rationals only (a float would make 'exact' a lie)."""
    with pytest.raises(TypeError, match="exact entries must be int or Rational"):
        hs.exact_matrix([[0.5]])  # type: ignore[list-item]  # bad on purpose


@given(st.integers(1, 5).flatmap(lambda n: nst.sign_vectors((n, 4))))
def test_spec_hebbian_weight_is_the_average_outer_product(patterns: FloatArray) -> None:
    """§8.6.1: spec's w_ij = (1/N) Σ_n x_i x_j equals the mean of the outer products."""
    lam = sympy.lambdify((hs.x, hs.N, hs.i, hs.j), hs.hebbian_weight(), modules="numpy")
    mean_outer = np.einsum("ni,nj->ij", patterns, patterns) / patterns.shape[0]
    got = np.array([[lam(patterns, patterns.shape[0], r, c) for c in range(4)] for r in range(4)])
    assert_close(got, mean_outer)


def test_spec_hebbian_field_at_orthogonal_pattern() -> None:
    """§8.6.1: for orthogonal stored patterns the derived field is ((M − N)/N) x_i^(m)."""
    derived = hs.hebbian_field_orthogonal_derived()
    assert sympy.simplify(derived - hs.hebbian_field_orthogonal_closed_form()) == 0
    # fixed point iff the factor is positive, i.e. N < M
    factor = sympy.simplify(derived / hs.x[hs.PATTERN, hs.i])
    assert sympy.solve(factor > 0, hs.N) is not None
    assert factor.subs({hs.M: 8, hs.N: 7}) > 0
    assert factor.subs({hs.M: 8, hs.N: 8}) == 0


def test_spec_sum_out_rejects_unresolvable_deltas() -> None:
    """sum_out_kronecker_deltas refuses to leave a Piecewise/KroneckerDelta behind."""
    outside = sympy.Symbol("z", integer=True)
    with pytest.raises(ValueError, match="could not sum out"):
        hs.sum_out_kronecker_deltas(
            sympy.Sum(hs.s[hs.j] * sympy.KroneckerDelta(outside, hs.j), hs.j)
        )


@given(nst.hopfield_networks())
def test_strategy_hopfield_networks_are_valid(net: nst.HopfieldNetworks) -> None:
    """Meta-test: drawn W is symmetric with zero diagonal, the state is ±1, shapes agree."""
    assert np.array_equal(net.weights, net.weights.T)
    assert np.all(np.diagonal(net.weights) == 0)
    assert np.all(np.abs(net.state) == 1)
    assert net.state.shape == (net.size,)
    assert net.bias is None or net.bias.shape == (net.size,)
