"""Properties of the discrete Hopfield network (impl.hopfield), joined to spec.hopfield.

Book: §8.6.1 (energy, update rule, Hebbian storage) and exercise 8-6.
"""

import inspect
import math
from fractions import Fraction
from typing import Any

import numpy as np
import pytest
import sympy
from hypothesis import assume, given
from hypothesis import strategies as st
from numpy.typing import NDArray

from impl import hopfield as hop
from impl.testing import strategies as nst
from impl.testing.tolerances import assert_close, eps
from spec import hopfield as hs
from tests._introspection import is_mutation_artifact

FloatArray = NDArray[np.floating[Any]]

ENERGY_ULPS_PER_NEURON = 20.0
"""Rounding slack for energy comparisons, in ulps per neuron of the energy scale
Σ|w_ij| + Σ|b_i| + 1: 8 for E itself (a float sum of M² products), plus 12 for a
field inside impl.hopfield's tie band, |h_i| ≤ δ_i = γ_{10M+4}·A_i ≈ 5·M·eps·A_i,
which is decided as a tie (+1): E may then rise by 2|h_i| ≤ 10·M·eps·A_i."""


def _slack(weights: FloatArray, bias: FloatArray | None) -> float:
    scale = float(np.abs(weights).sum()) + (0.0 if bias is None else float(np.abs(bias).sum()))
    return float(ENERGY_ULPS_PER_NEURON * weights.shape[-1] * eps(weights.dtype) * (scale + 1.0))


def _zeros_if_none(bias: FloatArray | None, like: FloatArray) -> FloatArray:
    return np.zeros(like.shape[-1], dtype=like.dtype) if bias is None else bias


_DELTA_E_DERIVED = sympy.lambdify(
    (hs.w, hs.s, hs.b, hs.DELTA, hs.i, hs.M), hs.energy_change_derived(), modules="numpy"
)
"""spec's ΔE for any W (no hypotheses), as a numpy function (sums become loops)."""

_DELTA_E_CLOSED = sympy.lambdify(
    (hs.w, hs.s, hs.b, hs.DELTA, hs.i, hs.M),
    hs.energy_change_closed_form(hs.DELTA, hs.local_field_sum()),
    modules="numpy",
)
"""spec's ΔE = −Δ h_i (symmetric W, zero diagonal)."""

_LYAPUNOV = sympy.lambdify(
    (hs.w, hs.b, hs.S_NOW, hs.S_PREV, hs.M),
    hs.two_step_lyapunov(hs.S_NOW, hs.S_PREV),
    modules="numpy",
)
"""spec's L(t) = −s(t)ᵀ W s(t−1) − bᵀ(s(t) + s(t−1))."""

_HEBBIAN = sympy.lambdify((hs.x, hs.N, hs.i, hs.j), hs.hebbian_weight(), modules="numpy")
"""spec's w_ij = (1/N) Σ_n x_i^(n) x_j^(n)."""

_HEBBIAN_FIELD = sympy.lambdify(
    (hs.x, hs.N, hs.M, hs.PATTERN, hs.i), hs.hebbian_field_at_pattern(), modules="numpy"
)
"""spec's field at stored pattern m: (1/N) Σ_n x_i^(n) (x^(n)·x^(m)) minus the self-term."""

_HEBBIAN_FIELD_ORTHOGONAL = sympy.lambdify(
    (hs.x, hs.N, hs.M, hs.PATTERN, hs.i), hs.hebbian_field_orthogonal_closed_form(), "numpy"
)
"""spec's ((M − N)/N) x_i^(m), derived for orthogonal patterns."""


def _hadamard(order: int) -> NDArray[np.float64]:
    """Sylvester's Hadamard matrix of size 2^order: rows are orthogonal ±1 vectors."""
    h = np.ones((1, 1))
    for _ in range(order):
        h = np.block([[h, h], [h, -h]])
    return h


# --------------------------------------------------------------------------- exercise 8-6


@given(nst.hopfield_networks(), st.data())
def test_update_neuron_energy_never_increases(
    net: nst.HopfieldNetworks, data: st.DataObject
) -> None:
    """Exercise 8-6: along asynchronous updates in any order, E never increases."""
    order = data.draw(nst.permutations_of(net.size), label="order")
    state = net.state
    energy = hop.energy(state, net.weights, net.bias)
    slack = _slack(net.weights, net.bias)
    for _ in range(2):  # two sweeps, one neuron at a time
        for i in order:
            new_state = hop.update_neuron(state, int(i), net.weights, net.bias)
            new_energy = hop.energy(new_state, net.weights, net.bias)
            assert float(new_energy) <= float(energy) + slack, (
                f"energy rose from {energy} to {new_energy} updating neuron {i}"
            )
            state, energy = new_state, new_energy


@given(nst.hopfield_networks(dtype=np.float64, valid=False, max_size=6), st.data())
def test_update_neuron_energy_change_matches_spec(
    net: nst.HopfieldNetworks, data: st.DataObject
) -> None:
    """Exercise 8-6: E(s') − E(s) equals spec's derived ΔE for ANY W (no hypotheses)."""
    i = data.draw(st.integers(0, net.size - 1), label="i")
    bias = _zeros_if_none(net.bias, net.state)
    options = {"allow_asymmetric": True, "allow_nonzero_diagonal": True}
    new_state = hop.update_neuron(net.state, i, net.weights, bias, **options)
    measured = hop.energy(new_state, net.weights, bias, **options) - hop.energy(
        net.state, net.weights, bias, **options
    )
    delta = float(new_state[i] - net.state[i])
    derived = _DELTA_E_DERIVED(net.weights, net.state, bias, delta, i, net.size)
    # float64 energies of O(M²) products with |w| ≤ 1 at M ≤ 12: each rounds to ~1e-14;
    # the difference of two energies keeps that absolute error, far below 1e-12.
    assert_close(np.asarray(measured), np.asarray(derived, dtype=np.float64), atol=1e-12)


@given(nst.hopfield_networks(), st.data())
def test_update_neuron_energy_change_is_minus_delta_times_field(
    net: nst.HopfieldNetworks, data: st.DataObject
) -> None:
    """Exercise 8-6: for symmetric zero-diagonal W, ΔE = −Δs_i h_i (spec closed form) ≤ 0."""
    i = data.draw(st.integers(0, net.size - 1), label="i")
    bias = _zeros_if_none(net.bias, net.state)
    new_state = hop.update_neuron(net.state, i, net.weights, bias)
    measured = float(
        hop.energy(new_state, net.weights, bias) - hop.energy(net.state, net.weights, bias)
    )
    delta = float(new_state[i] - net.state[i])
    closed = float(_DELTA_E_CLOSED(net.weights, net.state, bias, delta, i, net.size))
    slack = _slack(net.weights, bias)
    assert math.isclose(measured, closed, abs_tol=slack), (measured, closed)
    assert closed <= slack


def test_update_neuron_tie_goes_to_plus_one() -> None:
    """§8.6.1 update rule: a field of exactly 0 sets the neuron to +1."""
    weights = np.zeros((3, 3))
    state = -np.ones(3)
    for i in range(3):
        assert hop.update_neuron(state, i, weights)[i] == 1.0
    assert np.array_equal(hop.synchronous_update(state, weights), np.ones(3))


def _exact_sign(
    weights: list[list[Fraction]], bias: list[Fraction], state: list[int], i: int
) -> int:
    """The book's rule in exact rational arithmetic: +1 iff Σ_j w_ij s_j + b_i ≥ 0."""
    field = sum((w * s for w, s in zip(weights[i], state, strict=True)), Fraction(0)) + bias[i]
    return 1 if field >= 0 else -1


def _exact_sweep(
    weights: list[list[Fraction]], bias: list[Fraction], state: list[int], order: list[int]
) -> list[int]:
    new = list(state)
    for i in order:
        new[i] = _exact_sign(weights, bias, new, i)
    return new


def _tie_networks(
    rng: np.random.Generator, dtype: Any
) -> tuple[FloatArray, FloatArray, list[list[Fraction]], list[Fraction]]:
    """A random ±1 network whose exact fields are often 0, as floats and as Fractions.

    Half are Hebbian (N in 1..7 random patterns, so w_ij = k/N is rounded for N = 3,
    5, 6, 7 while the exact field is a multiple of 1/N, often 0); half have dyadic
    weights and bias (small integers / 8, exact in floating point) with exact zeros.
    """
    m = int(rng.integers(2, 11))
    if rng.random() < 0.5:
        n = int(rng.integers(1, 8))
        patterns = rng.choice([-1.0, 1.0], size=(n, m))
        weights = hop.hebbian_weights(patterns.astype(dtype))
        counts = (patterns.T @ patterns).astype(int)
        exact = [
            [Fraction(0 if i == j else int(counts[i, j]), n) for j in range(m)] for i in range(m)
        ]
        bias = np.zeros(m, dtype=dtype)
    else:
        upper = np.triu(rng.integers(-3, 4, size=(m, m)), 1)
        integers = upper + upper.T
        weights = (integers / 8).astype(dtype)
        bias_integers = rng.integers(-2, 3, size=m) * (rng.random(m) < 0.3)
        bias = (bias_integers / 8).astype(dtype)
        exact = [[Fraction(int(integers[i, j]), 8) for j in range(m)] for i in range(m)]
    exact_bias = [Fraction(float(v)) for v in bias]
    return weights, bias, exact, exact_bias


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_tie_rule_is_exact_in_every_update_mode(dtype: Any) -> None:
    """§8.6.1 "field ≥ 0 → +1" holds wherever the EXACT field is 0 (fractions.Fraction).

    On 120 random ±1 networks (seeded) with many exact ties: update_neuron,
    asynchronous_sweep (single and batched), synchronous_update (single and
    batched) and run_to_fixed_point all equal the exact rational rule. Before the
    rounding band, about 10 % of exact ties in Hebbian networks went to −1.
    """
    rng = np.random.default_rng(20261130)
    ties = 0
    for _ in range(120):
        weights, bias, exact, exact_bias = _tie_networks(rng, dtype)
        m = weights.shape[-1]
        states = rng.choice([-1.0, 1.0], size=(4, m)).astype(dtype)
        as_ints = [[int(v) for v in row] for row in states]
        order = [int(i) for i in rng.permutation(m)]
        for row, state in zip(as_ints, states, strict=True):
            for i in range(m):
                field = sum((w * s for w, s in zip(exact[i], row, strict=True)), Fraction(0))
                ties += field + exact_bias[i] == 0
                assert hop.update_neuron(state, i, weights, bias)[i] == _exact_sign(
                    exact, exact_bias, row, i
                )
            swept = _exact_sweep(exact, exact_bias, row, order)
            assert hop.asynchronous_sweep(state, weights, bias, order=order).tolist() == swept
            synchronous = [_exact_sign(exact, exact_bias, row, i) for i in range(m)]
            assert hop.synchronous_update(state, weights, bias).tolist() == synchronous
            run = hop.run_to_fixed_point(state, weights, bias, order=order, max_sweeps=50)
            expected = list(row)
            for t in range(1, run.states.shape[0]):
                expected = _exact_sweep(exact, exact_bias, expected, order)
                assert run.states[t].tolist() == expected
        batched_async = hop.asynchronous_sweep(states, weights, bias, order=order)
        batched_sync = hop.synchronous_update(states, weights, bias)
        for k, row in enumerate(as_ints):
            assert batched_async[k].tolist() == _exact_sweep(exact, exact_bias, row, order)
            assert batched_sync[k].tolist() == [
                _exact_sign(exact, exact_bias, row, i) for i in range(m)
            ]
    assert ties > 200, f"only {ties} exact ties: the test would not exercise the tie rule"


def _count_validation_calls(monkeypatch: pytest.MonkeyPatch) -> dict[str, int]:
    """Wrap every public check of impl._validation with a counter (issue 7: check once)."""
    from impl import _validation

    counts: dict[str, int] = {}
    for name, function in vars(_validation).items():
        if name.startswith("_") or is_mutation_artifact(name) or not inspect.isfunction(function):
            continue
        if function.__module__ != _validation.__name__:
            continue

        def counted(*args: Any, __name: str = name, __f: Any = function, **kwargs: Any) -> Any:
            counts[__name] = counts.get(__name, 0) + 1
            return __f(*args, **kwargs)

        monkeypatch.setattr(_validation, name, counted)
    return counts


@pytest.mark.parametrize("mode", ["asynchronous", "synchronous"])
def test_run_to_fixed_point_validates_once(mode: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue 7/11: a run checks its arguments once, however many sweeps it takes.

    The O(M²) symmetry check (``_validation.symmetric_matrix``) and the ±1 check
    run once per run_to_fixed_point call, not once per sweep: a 2-cycle of the
    synchronous dynamics is run for 40 steps (cycle detection off by a random-
    order-free anti-ferromagnet) and an asynchronous run for several sweeps.
    """
    m = 40
    weights = -(np.ones((m, m)) - np.eye(m)) / m  # all-to-all inhibition
    state = np.where(np.arange(m) < m // 2 + 3, 1.0, -1.0)
    counts = _count_validation_calls(monkeypatch)
    if mode == "synchronous":
        run = hop.run_to_fixed_point(state, weights, mode="synchronous", max_sweeps=40)
    else:
        run = hop.run_to_fixed_point(state, weights, rng=np.random.default_rng(0), max_sweeps=40)
    assert run.sweeps >= 1
    assert counts.get("symmetric_matrix") == 1, counts
    assert counts.get("plus_minus_one_array") == 1, counts
    assert max(counts.values()) <= 2, counts  # nothing is checked per sweep


def test_recall_validates_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue 7/11: batched recall checks starts and weights once, for all its sweeps."""
    from impl.hopfield_capacity import recall

    rng = np.random.default_rng(3)
    patterns = rng.choice([-1.0, 1.0], size=(3, 12, 60))  # load 0.2: many sweeps
    weights = hop.hebbian_weights(patterns)
    counts = _count_validation_calls(monkeypatch)
    result = recall(patterns, weights, rng=rng, max_sweeps=50)
    assert result.sweeps >= 3
    assert counts.get("symmetric_matrix") == 1, counts
    assert max(counts.values()) <= 2, counts


# --------------------------------------------------------------------------- dynamics


@given(nst.hopfield_networks(), nst.generators())
def test_run_to_fixed_point_asynchronous_converges(
    net: nst.HopfieldNetworks, rng: np.random.Generator
) -> None:
    """Exercise 8-6 corollary: random-order sweeps reach a fixed point within 2^M sweeps."""
    run = hop.run_to_fixed_point(
        net.state, net.weights, net.bias, rng=rng, max_sweeps=2**net.size + 1
    )
    assert run.converged
    assert run.cycle_length == 1
    final = run.final_state
    for i in range(net.size):
        assert hop.update_neuron(final, i, net.weights, net.bias)[i] == final[i]
    assert run.states.shape == (run.sweeps + 1, net.size)
    assert np.all(np.diff(run.energies) <= _slack(net.weights, net.bias))
    assert_close(run.energies, hop.energy(run.states, net.weights, net.bias))


@given(nst.hopfield_networks())
def test_synchronous_update_period_at_most_two(net: nst.HopfieldNetworks) -> None:
    """§8.6.1 synchronous updates end in period 1 or 2, and L(t) never increases."""
    run = hop.run_to_fixed_point(
        net.state, net.weights, net.bias, mode="synchronous", max_sweeps=2**net.size + 2
    )
    assert run.cycle_length in (1, 2), run.cycle_length
    assert run.converged == (run.cycle_length == 1)
    bias = _zeros_if_none(net.bias, net.state)
    lyapunov = [
        float(_LYAPUNOV(net.weights, bias, run.states[t], run.states[t - 1], net.size))
        for t in range(1, run.states.shape[0])
    ]
    assert np.all(np.diff(lyapunov) <= _slack(net.weights, bias)), lyapunov


@given(nst.hopfield_networks(), st.data())
def test_asynchronous_sweep_equals_sequential_updates(
    net: nst.HopfieldNetworks, data: st.DataObject
) -> None:
    """§8.6.1 asynchronous updates: a sweep is update_neuron applied in the given order."""
    order = data.draw(nst.permutations_of(net.size), label="order")
    state = net.state
    for i in order:
        state = hop.update_neuron(state, int(i), net.weights, net.bias)
    assert np.array_equal(
        hop.asynchronous_sweep(net.state, net.weights, net.bias, order=order), state
    )


@given(
    st.integers(1, 6).flatmap(
        lambda m: st.tuples(
            st.lists(nst.symmetric_zero_diagonal(m), min_size=1, max_size=3),
            st.lists(nst.sign_vectors((m,)), min_size=1, max_size=3),
            nst.permutations_of(m),
        )
    )
)
def test_asynchronous_sweep_batch_consistency(
    drawn: tuple[list[FloatArray], list[FloatArray], NDArray[np.intp]],
) -> None:
    """Batching: (T, K, M) states with (T, 1, M, M) weights equal the per-item sweeps."""
    weight_list, state_list, order = drawn
    weights = np.stack(weight_list)[:, None]  # (T, 1, M, M)
    states = np.stack(state_list)  # (K, M) -> broadcast to (T, K, M)
    batched = hop.asynchronous_sweep(states, weights, order=order)
    assert batched.shape == (len(weight_list), len(state_list), states.shape[-1])
    for t, w_t in enumerate(weight_list):
        for k, s_k in enumerate(state_list):
            single = hop.asynchronous_sweep(s_k, w_t, order=order)
            assert np.array_equal(batched[t, k], single)


@given(nst.hopfield_networks(), st.integers(1, 3))
def test_synchronous_update_and_energy_batch_consistency(
    net: nst.HopfieldNetworks, copies: int
) -> None:
    """Batching: local_field, energy and synchronous_update of stacked states = per-item calls.

    The fields are compared up to rounding (BLAS may sum a batch in another
    order); the updated states exactly, except where a field is within rounding
    of the tie (see impl.hopfield's module docstring).
    """
    states = np.stack([net.state, -net.state] * copies)
    slack = _slack(net.weights, net.bias)
    fields = hop.local_field(states, net.weights, net.bias)
    energies = hop.energy(states, net.weights, net.bias)
    updated = hop.synchronous_update(states, net.weights, net.bias)
    for row, state in enumerate(states):
        single_field = hop.local_field(state, net.weights, net.bias)
        np.testing.assert_allclose(fields[row], single_field, atol=slack)
        np.testing.assert_allclose(
            energies[row], hop.energy(state, net.weights, net.bias), atol=slack
        )
        decided = np.abs(single_field) > slack
        single = hop.synchronous_update(state, net.weights, net.bias)
        assert np.array_equal(updated[row][decided], single[decided])


@given(nst.hopfield_networks(), nst.generators())
def test_asynchronous_sweep_random_order_is_reproducible(
    net: nst.HopfieldNetworks, rng: np.random.Generator
) -> None:
    """The random order comes only from the given Generator: same seed, same sweep."""
    seed = int(rng.integers(2**32))
    first = hop.asynchronous_sweep(
        net.state, net.weights, net.bias, rng=np.random.default_rng(seed)
    )
    order = np.random.default_rng(seed).permutation(net.size)
    assert np.array_equal(
        first, hop.asynchronous_sweep(net.state, net.weights, net.bias, order=order)
    )


def test_hopfield_run_record_is_read_only() -> None:
    """Issue 7, class 1: a run's record keeps read-only copies; editing one raises."""
    state = np.array([1.0, -1.0, 1.0])
    weights = hop.hebbian_weights(state[None, :])
    run = hop.run_to_fixed_point(state, weights, order=[0, 1, 2])
    with pytest.raises(ValueError, match="read-only"):
        run.states[0, 0] = -1.0
    with pytest.raises(ValueError, match="read-only"):
        run.energies[0] = 0.0
    state[0] = -1.0  # the caller's array stays theirs: the record does not change
    assert run.states[0, 0] == 1.0


# --------------------------------------------------------------------------- storage rules


@given(st.integers(1, 5).flatmap(lambda n: nst.sign_vectors((n, 5))))
def test_hebbian_weights_match_spec(patterns: FloatArray) -> None:
    """§8.6.1 Hebbian rule: w_ij = (1/N) Σ_n x_i^(n) x_j^(n) (spec, lambdified), w_ii = 0."""
    weights = hop.hebbian_weights(patterns)
    m = patterns.shape[1]
    expected = np.array(
        [
            [0.0 if r == c else _HEBBIAN(patterns, patterns.shape[0], r, c) for c in range(m)]
            for r in range(m)
        ]
    )
    assert_close(weights, expected)
    hop.validate_weights(weights)


@given(
    st.integers(2, 8).flatmap(lambda n: st.tuples(nst.sign_vectors((n, 6)), st.integers(0, n - 1)))
)
def test_hebbian_add_equals_batch(drawn: tuple[FloatArray, int]) -> None:
    """§8.6.1 Hebbian rule is incremental: adding patterns = storing all at once."""
    patterns, split = drawn
    start: FloatArray
    if split == 0:
        start = np.zeros((patterns.shape[1],) * 2)
    else:
        start = hop.hebbian_weights(patterns[:split])
    added = hop.hebbian_add(start, patterns[split:], split)
    assert_close(added, hop.hebbian_weights(patterns))


@given(
    st.integers(1, 5).flatmap(lambda n: st.tuples(nst.sign_vectors((n, 6)), st.integers(0, n - 1)))
)
def test_hebbian_field_at_stored_pattern_matches_spec(drawn: tuple[FloatArray, int]) -> None:
    """§8.6.1: field at a stored pattern = signal + crosstalk − self-term (spec, lambdified)."""
    patterns, m = drawn
    count, size = patterns.shape
    field = hop.local_field(patterns[m], hop.hebbian_weights(patterns))
    expected = [_HEBBIAN_FIELD(patterns, count, size, m, i) for i in range(size)]
    assert_close(field, np.asarray(expected, dtype=field.dtype))


@pytest.mark.parametrize("order", [3, 4])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_hebbian_orthogonal_patterns_and_negatives_are_fixed_points(
    order: int, dtype: type
) -> None:
    """§8.6.1: N < M orthogonal patterns (Hadamard rows) and their negatives are attractors.

    The field at a stored pattern is ((M − N)/N) x_i, so every N ≤ M − 1 works.
    """
    rows: FloatArray = _hadamard(order).astype(dtype)
    m = rows.shape[0]
    for count in range(1, m):
        weights = hop.hebbian_weights(rows[:count])
        for index, pattern in enumerate(rows[:count]):
            field = hop.local_field(pattern, weights)
            expected = [_HEBBIAN_FIELD_ORTHOGONAL(rows, count, m, index, i) for i in range(m)]
            assert_close(field, np.asarray(expected, dtype=dtype))
            for candidate in (pattern, -pattern):
                assert np.array_equal(hop.synchronous_update(candidate, weights), candidate)
                assert np.array_equal(
                    hop.asynchronous_sweep(candidate, weights, order=np.arange(m)), candidate
                )


def test_hebbian_recall_from_corrupted_pattern_at_low_load() -> None:
    """§8.6.1 content-addressable recall: M = 100, N = 3 patterns, 5 flipped bits → the pattern.

    Bound: per-bit crosstalk error at load 0.03 with 5% flipped bits is about
    Φ(−0.9·√(M/N)) ≈ 1e−7; over 20 trials × 100 bits the false-alarm rate is
    below 1e−3 (and the seed is fixed, so the test is deterministic).
    """
    rng = np.random.default_rng(20261124)
    m, count, flips = 100, 3, 5
    for _ in range(20):
        patterns = rng.choice([-1.0, 1.0], size=(count, m))
        weights = hop.hebbian_weights(patterns)
        target = patterns[0]
        noisy = target.copy()
        noisy[rng.choice(m, size=flips, replace=False)] *= -1
        run = hop.run_to_fixed_point(noisy, weights, rng=rng)
        assert run.converged
        assert np.array_equal(run.final_state, target)


@given(
    st.integers(2, 10).flatmap(
        lambda m: st.integers(1, m - 1).flatmap(lambda n: nst.sign_vectors((n, m)))
    )
)
def test_pseudo_inverse_stores_linearly_independent_patterns(patterns: FloatArray) -> None:
    """Projection rule: up to M − 1 linearly independent patterns are all fixed points.

    Holds when every projection diagonal P_ii < 1 (see impl's Note); we draw
    linearly independent patterns and keep a margin of 1e-6 on P_ii.
    """
    count = patterns.shape[0]
    assume(np.linalg.matrix_rank(patterns) == count)
    projection = np.linalg.pinv(patterns) @ patterns
    assume(np.diagonal(projection).max() < 1 - 1e-6)
    weights = hop.pseudo_inverse_weights(patterns)
    hop.validate_weights(weights)
    assert np.array_equal(hop.synchronous_update(patterns, weights), patterns)


def test_pseudo_inverse_of_orthogonal_patterns_is_scaled_hebbian() -> None:
    """For orthogonal patterns X⁺X = XᵀX/M, so the projection rule is (N/M)·Hebbian."""
    rows = _hadamard(3)
    for count in range(1, 8):
        # float64 pinv via SVD of a ±1 matrix: entries exact to ~1e-15, slack 1e-12.
        assert_close(
            hop.pseudo_inverse_weights(rows[:count]),
            (count / 8) * hop.hebbian_weights(rows[:count]),
            atol=1e-12,
        )


def _storkey_by_formula(patterns: FloatArray) -> FloatArray:
    """Storkey (1997), entry by entry: h_ij = Σ_{k≠i,j} w_ik ξ_k, then the update."""
    m = patterns.shape[1]
    w = np.zeros((m, m))
    for xi in patterns:
        h = np.array(
            [
                [sum(w[i, k] * xi[k] for k in range(m) if k not in (i, j)) for j in range(m)]
                for i in range(m)
            ]
        )
        new = w.copy()
        for i in range(m):
            for j in range(m):
                if i != j:
                    new[i, j] += (xi[i] * xi[j] - xi[i] * h[j, i] - h[i, j] * xi[j]) / m
        w = new
    return w


@given(st.integers(1, 4).flatmap(lambda n: nst.sign_vectors((n, 5))))
def test_storkey_weights_match_formula(patterns: FloatArray) -> None:
    """Storkey's rule, vectorised, equals the entry-by-entry formula (diagonal 0)."""
    weights = hop.storkey_weights(patterns)
    assert_close(weights, _storkey_by_formula(patterns), atol=1e-12)
    hop.validate_weights(weights)


def test_storkey_patterns_are_fixed_points_at_moderate_load() -> None:
    """Storkey's rule stores N = 12 random patterns in M = 64 neurons (load 0.19) as fixed points.

    Above the Hebbian limit ≈ 0.138 M. Fixed seed, 10 trials; all must be stored.
    """
    rng = np.random.default_rng(1997)
    for _ in range(10):
        patterns = rng.choice([-1.0, 1.0], size=(12, 64))
        weights = hop.storkey_weights(patterns)
        assert np.array_equal(hop.synchronous_update(patterns, weights), patterns)


@pytest.mark.parametrize(
    "rule", [hop.hebbian_weights, hop.pseudo_inverse_weights, hop.storkey_weights]
)
def test_storage_rules_batch_consistency_and_dtype(rule: Any) -> None:
    """Storage rules take (T, N, M) stacks (one network per trial) and keep float32."""
    rng = np.random.default_rng(0)
    stack = rng.choice([-1.0, 1.0], size=(3, 4, 10)).astype(np.float32)
    batched = rule(stack)
    assert batched.shape == (3, 10, 10)
    assert batched.dtype == np.float32
    for t in range(3):
        assert_close(batched[t], rule(stack[t]))


# --------------------------------------------------------------------------- dtypes, extremes


@given(nst.hopfield_networks(), nst.generators())
def test_hopfield_functions_preserve_dtype(
    net: nst.HopfieldNetworks, rng: np.random.Generator
) -> None:
    """float32 in, float32 out (and float64): no silent promotion."""
    dtype = net.weights.dtype
    assert hop.energy(net.state, net.weights, net.bias).dtype == dtype
    assert hop.local_field(net.state, net.weights, net.bias).dtype == dtype
    assert hop.update_neuron(net.state, 0, net.weights, net.bias).dtype == dtype
    assert hop.synchronous_update(net.state, net.weights, net.bias).dtype == dtype
    assert hop.asynchronous_sweep(net.state, net.weights, net.bias, rng=rng).dtype == dtype
    run = hop.run_to_fixed_point(
        net.state, net.weights, net.bias, rng=rng, max_sweeps=2**net.size + 1
    )
    assert run.states.dtype == dtype
    assert run.energies.dtype == dtype


def test_single_neuron_network() -> None:
    """M = 1: W = [[0]], the field is b; with b = 0 the tie sends the neuron to +1, E = 0."""
    weights = np.zeros((1, 1))
    for start in (np.array([1.0]), np.array([-1.0])):
        run = hop.run_to_fixed_point(start, weights, order=[0])
        assert np.array_equal(run.final_state, [1.0])
        assert run.converged
        assert float(run.energies[-1]) == 0.0
    assert hop.update_neuron(np.array([1.0]), 0, weights, np.array([-0.5]))[0] == -1.0


def test_empty_network() -> None:
    """M = 0: energy 0, updates return the empty state, a run converges at once."""
    state, weights = np.ones(0), np.zeros((0, 0))
    assert float(hop.energy(state, weights)) == 0.0
    assert hop.synchronous_update(state, weights).shape == (0,)
    run = hop.run_to_fixed_point(state, weights, rng=np.random.default_rng(0))
    assert run.converged
    assert run.states.shape == (2, 0)


def test_run_to_fixed_point_reports_step_limit() -> None:
    """If max_sweeps ends before a fixed point or a repeat, converged is False, cycle None."""
    rows = _hadamard(3)
    weights = hop.hebbian_weights(rows[:2])
    start = -rows[0].copy()
    start[:3] *= -1  # a few flips away from −x^(1): needs at least one step
    run = hop.run_to_fixed_point(start, weights, mode="synchronous", max_sweeps=1)
    assert run.sweeps == 1
    assert not run.converged
    assert run.cycle_length is None


def test_hopfield_huge_weights_are_finite() -> None:
    """Extreme finite weights (1e30; float32 max ≈ 3e38) give finite energies and ±1 states."""
    weights = np.array([[0.0, 1e30], [1e30, 0.0]], dtype=np.float32)
    state = np.array([1.0, -1.0], dtype=np.float32)
    run = hop.run_to_fixed_point(state, weights, order=[0, 1])
    assert np.all(np.isfinite(run.energies))
    assert run.converged
    assert float(run.energies[-1]) == pytest.approx(-1e30, rel=1e-6)


# --------------------------------------------------------------------------- bad input


def test_hopfield_rejects_non_plus_minus_one_states() -> None:
    """States must be ±1: 0, 0.5 and NaN are errors naming the value and index."""
    weights = np.zeros((3, 3))
    with pytest.raises(ValueError, match=r"state must contain only \+1 and -1.*index \(1,\)"):
        hop.energy(np.array([1.0, 0.0, -1.0]), weights)
    with pytest.raises(ValueError, match=r"only \+1 and -1.*0\.5"):
        hop.update_neuron(np.array([1.0, 0.5, -1.0]), 0, weights)
    with pytest.raises(ValueError, match="state contains NaN"):
        hop.synchronous_update(np.array([1.0, np.nan, -1.0]), weights)
    with pytest.raises(ValueError, match="patterns must contain only"):
        hop.hebbian_weights(np.array([[1.0, 2.0]]))


def test_hopfield_rejects_invalid_weights() -> None:
    """Asymmetric W, nonzero diagonal, NaN, non-square: clear errors, with explicit opt-outs."""
    state = np.ones(3)
    asymmetric = np.array([[0.0, 1.0, 0.0], [0.5, 0.0, 0.0], [0.0, 0.0, 0.0]])
    with pytest.raises(
        ValueError, match=r"symmetric.*largest \|w_ij - w_ji\| = 0\.5 at index \(0, 1\)"
    ):
        hop.energy(state, asymmetric)
    hop.energy(state, asymmetric, allow_asymmetric=True)  # the opt-out
    diagonal = np.diag([0.0, -2.0, 0.0])
    with pytest.raises(ValueError, match=r"zero diagonal.*largest \|w_ii\| = 2\.0"):
        hop.update_neuron(state, 0, diagonal)
    hop.update_neuron(state, 0, diagonal, allow_nonzero_diagonal=True)
    with pytest.raises(ValueError, match="weights contains NaN"):
        hop.energy(state, np.full((3, 3), np.nan))
    with pytest.raises(ValueError, match="weights must be square"):
        hop.validate_weights(np.zeros((3, 2)))
    with pytest.raises(ValueError, match="weights contains an infinite value"):
        hop.validate_weights(np.full((2, 2), np.inf))


def test_hopfield_rejects_mismatched_shapes_and_dtypes() -> None:
    """Shape and dtype mismatches name the arguments."""
    weights = np.zeros((3, 3))
    with pytest.raises(ValueError, match="state has 2 neurons, weights is 3x3"):
        hop.energy(np.ones(2), weights)
    with pytest.raises(ValueError, match="bias has 2 entries, weights is 3x3"):
        hop.energy(np.ones(3), weights, np.zeros(2))
    with pytest.raises(TypeError, match="share one float dtype"):
        hop.energy(np.ones(3, dtype=np.float32), weights)
    with pytest.raises(ValueError, match="batch axes do not broadcast"):
        hop.energy(np.ones((2, 3)), np.zeros((4, 3, 3)))
    with pytest.raises(ValueError, match="run_to_fixed_point takes one state"):
        hop.run_to_fixed_point(np.ones((2, 3)), weights, order=[0, 1, 2])
    with pytest.raises(ValueError, match=r"new_patterns has 2 neurons"):
        hop.hebbian_add(weights, np.ones((1, 2)), 1)
    with pytest.raises(ValueError, match="at least one pattern"):
        hop.hebbian_weights(np.ones((0, 3)))


def test_hopfield_rejects_bad_order_and_options() -> None:
    """order must be a permutation; exactly one of order/rng; a valid mode and neuron index."""
    weights, state = np.zeros((3, 3)), np.ones(3)
    with pytest.raises(ValueError, match=r"permutation of range\(3\)"):
        hop.asynchronous_sweep(state, weights, order=[0, 0, 1])
    with pytest.raises(ValueError, match="exactly one of order"):
        hop.asynchronous_sweep(state, weights, order=[0, 1, 2], rng=np.random.default_rng(0))
    with pytest.raises(ValueError, match="exactly one of order"):
        hop.asynchronous_sweep(state, weights)
    with pytest.raises(TypeError, match=r"numpy\.random\.Generator"):
        hop.asynchronous_sweep(state, weights, rng=0)  # type: ignore[arg-type]  # bad on purpose
    with pytest.raises(ValueError, match="mode must be"):
        hop.run_to_fixed_point(state, weights, mode="parallel", order=[0, 1, 2])  # type: ignore[arg-type]  # bad on purpose
    with pytest.raises(ValueError, match="synchronous mode takes neither"):
        hop.run_to_fixed_point(state, weights, mode="synchronous", order=[0, 1, 2])
    with pytest.raises(ValueError, match=r"i must be in \[0, 3\)"):
        hop.update_neuron(state, 3, weights)
    with pytest.raises(ValueError, match="max_sweeps must be at least 1"):
        hop.run_to_fixed_point(state, weights, order=[0, 1, 2], max_sweeps=0)
    with pytest.raises(ValueError, match="n_stored is 0"):
        hop.hebbian_add(np.ones((2, 2)) - np.eye(2), np.ones((1, 2)), 0)
    with pytest.raises(ValueError, match="n_stored must be at least 0"):
        hop.hebbian_add(weights, np.ones((1, 3)), -1)
    # The count must be exact in the weights' dtype: 2²⁴ is float32's last exact run of integers.
    weights32 = np.zeros((3, 3), dtype=np.float32)
    ones32 = np.ones((1, 3), dtype=np.float32)
    with pytest.raises(
        ValueError, match=r"n_stored must be at most 16777216 \(.*inexact in float32"
    ):
        hop.hebbian_add(weights32, ones32, 2**24 + 1)
    assert hop.hebbian_add(weights32, ones32, 2**24).dtype == np.float32
    hop.hebbian_add(weights, np.ones((1, 3)), 2**24 + 1)  # float64 holds it exactly
    with pytest.raises(TypeError, match="allow_nonzero_diagonal must be a bool"):
        hop.validate_weights(weights, allow_nonzero_diagonal=1)  # type: ignore[arg-type]  # bad on purpose
    with pytest.raises(TypeError, match="allow_asymmetric must be a bool"):
        hop.validate_weights(weights, allow_asymmetric="yes")  # type: ignore[arg-type]  # bad on purpose
