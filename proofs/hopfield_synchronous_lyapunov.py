"""Synchronous Hopfield dynamics ends in a fixed point or a 2-cycle (§8.6.1).

The energy can rise under synchronous updates (``proofs.hopfield_counterexamples``
(d)), but the two-step function L(t) = −s(t)ᵀ W s(t−1) − bᵀ(s(t) + s(t−1))
cannot when W is symmetric: derived for a symbolic number of neurons M,
L(t+1) − L(t) = −Σ_i (s_i(t+1) − s_i(t−1)) h_i(t) ≤ 0, term by term the
inequality of exercise 8-6. Only symmetry is used (no condition on the
diagonal). Without symmetry, longer cycles exist.
"""

import itertools

import numpy as np
import sympy
from numpy.typing import NDArray

from impl import hopfield as hopfield_impl
from proofs._narrate import Derivation
from spec import hopfield as hs

IntArray = NDArray[np.int64]


def _sync(weights: IntArray, bias: IntArray, states: IntArray) -> IntArray:
    """Synchronous update of each row of ``states`` (bias (M,) or one row per state)."""
    result: IntArray = np.where(states @ weights.T + bias >= 0, 1, -1)
    return result


def _lyapunov(weights: IntArray, bias: IntArray, now: IntArray, prev: IntArray) -> IntArray:
    result: IntArray = -np.einsum("ni,ij,nj->n", now, weights, prev) - np.sum(
        (now + prev) * bias, axis=-1
    )
    return result


def _integer_copies_match_spec(d: Derivation) -> None:
    """The fast integer L and synchronous update used below equal spec's exact definitions."""
    values = (-1, 0, 1)
    signs = [np.array(s, dtype=np.int64) for s in itertools.product((1, -1), repeat=2)]
    cases = mismatches = 0
    for w01, w00, w11, b0, b1 in itertools.product(values, repeat=5):
        weights = np.array([[w00, w01], [w01, w11]], dtype=np.int64)
        bias = np.array([b0, b1], dtype=np.int64)
        W, b = hs.exact_matrix(weights.tolist()), hs.exact_matrix([[b0], [b1]])
        for now, prev in itertools.product(signs, repeat=2):
            cases += 1
            now_exact = hs.exact_matrix([[int(v)] for v in now])
            prev_exact = hs.exact_matrix([[int(v)] for v in prev])
            fast = _lyapunov(weights, bias, now[None, :], prev[None, :])[0]
            mismatches += int(fast != hs.exact_two_step_lyapunov(W, b, now_exact, prev_exact))
            stepped = _sync(weights, bias, now[None, :])[0]
            mismatches += int(list(stepped) != list(hs.exact_synchronous_update(W, b, now_exact)))
    d.check_true(
        f"the integer L and synchronous update used below equal spec's exact definitions in all "
        f"{cases} cases with M = 2 (symmetric W, diagonal and bias in {{−1, 0, 1}}, every pair of "
        "states)",
        mismatches == 0,
        strength="finite",
    )


def _exhaustive(d: Derivation) -> None:
    """Exact integer check: every symmetric W (any diagonal), every bias and start, M = 2, 3."""
    values = (-1, 0, 1)
    networks = 0
    worst_period = 0
    rises = 0
    for size in (2, 3):
        signs = np.array(list(itertools.product((1, -1), repeat=size)), dtype=np.int64)
        biases = np.array(list(itertools.product(values, repeat=size)), dtype=np.int64)
        # every (bias, start) pair as one row: the biases are vectorised, W is looped
        states = np.tile(signs, (len(biases), 1))
        bias = np.repeat(biases, len(signs), axis=0)
        upper = [(r, c) for r in range(size) for c in range(r, size)]
        for entries in itertools.product(values, repeat=len(upper)):
            weights = np.zeros((size, size), dtype=np.int64)
            for (r, c), v in zip(upper, entries, strict=True):
                weights[r, c] = weights[c, r] = v
            networks += len(biases)
            prev, now = states, _sync(weights, bias, states)
            for _ in range(2**size + 2):  # enough to enter the final cycle
                nxt = _sync(weights, bias, now)
                rises += int(
                    np.sum(_lyapunov(weights, bias, nxt, now) > _lyapunov(weights, bias, now, prev))
                )
                prev, now = now, nxt
            once = _sync(weights, bias, now)
            twice = _sync(weights, bias, once)
            period = 1 if np.array_equal(once, now) else 2
            if not np.array_equal(twice, now):
                period = 3  # marks "period > 2"
            worst_period = max(worst_period, period)
    d.check_true(
        f"exhaustive exact check (integers): {networks} symmetric networks, M = 2, 3, "
        f"entries and biases in {{−1, 0, 1}} (diagonal included), every start: L rose "
        f"{rises} times, longest final period {worst_period}",
        rises == 0 and worst_period <= 2,
        strength="finite",
    )


def _asymmetric_cycle(d: Derivation) -> None:
    """Without symmetry: find a synchronous cycle of period > 2 and a rise of L."""
    size = 3
    states = np.array(list(itertools.product((1, -1), repeat=size)), dtype=np.int64)
    pairs = [(r, c) for r in range(size) for c in range(size) if r != c]
    bias = np.zeros(size, dtype=np.int64)
    for entries in itertools.product((-1, 0, 1), repeat=len(pairs)):
        weights = np.zeros((size, size), dtype=np.int64)
        for (r, c), v in zip(pairs, entries, strict=True):
            weights[r, c] = v
        for start in states:
            orbit = [start]
            for _ in range(2**size + 1):
                orbit.append(_sync(weights, bias, orbit[-1][None, :])[0])
            tail = orbit[-1]
            period = next(p for p in range(1, 2**size + 1) if np.array_equal(orbit[-1 - p], tail))
            if period > 2:
                run = hopfield_impl.run_to_fixed_point(
                    tail.astype(np.float64),
                    weights.astype(np.float64),
                    mode="synchronous",
                    max_sweeps=20,
                    allow_asymmetric=True,
                )
                W = hs.exact_matrix(weights.tolist())
                b = hs.exact_matrix([[0]] * size)
                cycle = [hs.exact_matrix([[int(v)] for v in tail])]
                for _ in range(period + 1):
                    cycle.append(hs.exact_synchronous_update(W, b, cycle[-1]))
                lyapunov = [
                    hs.exact_two_step_lyapunov(W, b, cycle[t], cycle[t - 1])
                    for t in range(1, len(cycle))
                ]
                d.note(f"W = {weights.tolist()} (asymmetric), b = 0, cycle from {tail.tolist()}")
                d.note(f"L along the cycle (exact): {lyapunov}")
                d.check_true(
                    f"without symmetry: exact period {period} > 2, impl cycle_length = "
                    f"{run.cycle_length}, and L rises somewhere along the cycle",
                    run.cycle_length == period
                    and any(bool(b2 > b1) for b1, b2 in itertools.pairwise(lyapunov)),
                    strength="finite",
                )
                return
    d.check_true(
        "an asymmetric network with a synchronous cycle of period > 2 exists",
        False,
        strength="finite",
    )


def main() -> None:
    """Derive L(t+1) − L(t) for symmetric W and conclude period 1 or 2."""
    d = Derivation(
        "Synchronous Hopfield updates: a two-step Lyapunov function, period 1 or 2",
        "book §8.6.1, synchronous updates; companion to exercise 8-6",
    )
    d.claim(
        sympy.Eq(
            sympy.Symbol("L(t+1) − L(t)"), hs.lyapunov_difference_closed_form(), evaluate=False
        ),
        "for symmetric W (any diagonal), with s_next = s(t+1) = sign(W s(t) + b), "
        "s_now = s(t), s_prev = s(t−1); this is ≤ 0, so the dynamics ends in period 1 or 2. "
        "Symbolic size M.",
    )
    d.step(
        "Definition: L(t) = −s(t)ᵀ W s(t−1) − bᵀ(s(t) + s(t−1))",
        hs.two_step_lyapunov(hs.S_NOW, hs.S_PREV),
    )
    derived = hs.lyapunov_difference_derived()
    d.step("L(t+1) − L(t) from the definition, expanded (the bᵀs(t) terms cancel)", derived)
    closed = hs.lyapunov_difference_closed_form()
    d.check_equal(
        "Without symmetry, ΔL − (closed form) = Σ_ij w_ij (s_i(t) s_j(t−1) − s_i(t−1) s_j(t)), "
        "the antisymmetric part",
        hs.canonical_sums(derived - closed),
        hs.canonical_sums(hs.lyapunov_asymmetry_residual()),
        strength="symbolic",
    )
    swapped = hs.swap_dummies_of_cross_term(derived)
    d.step(
        "Rename the dummies i ↔ j in Σ_ij s_i(t) w_ij s_j(t−1) (finite sums: any names)",
        swapped,
    )
    symmetric = hs.apply_symmetry(swapped)
    d.step("HYPOTHESIS, symmetry (w_ji = w_ij); no condition on w_ii is needed", symmetric)
    d.check_equal(
        "With symmetry, L(t+1) − L(t) = −Σ_i (s_i(t+1) − s_i(t−1)) (Σ_j w_ij s_j(t) + b_i)",
        hs.canonical_sums(symmetric),
        hs.canonical_sums(closed),
        strength="symbolic",
    )

    d.step(
        "Each summand is −(s'_i − σ_i)·h_i with s'_i = s_i(t+1) given by the update rule from "
        "h_i = h_i(t) and σ_i = s_i(t−1) ∈ {±1}: exactly the form of exercise 8-6. The same "
        "four cases (sympy decides the rule's branch from p > 0, q ≥ 0):"
    )
    for case in hs.update_cases():
        term = hs.energy_change_closed_form(case.new_state - case.old_state, case.field)
        d.check_true(
            f"[s_i(t−1) = {case.old_state}, h_i(t) = {case.field}] s_i(t+1) = {case.new_state}, "
            f"summand {term} ≤ 0",
            bool(term.is_nonpositive),
            strength="symbolic",
        )
    d.note("So ΔL ≤ 0: L never increases along synchronous dynamics.")

    d.step(
        "Equality: ΔL = 0 iff every summand is 0, i.e. for every i, s_i(t+1) = s_i(t−1) or "
        "h_i(t) = 0 (and then s_i(t+1) = +1). Cases where the summand can vanish with a change:"
    )
    for case in hs.update_cases():
        if case.delta != 0:
            zero_possible = sympy.solve(sympy.Eq(case.energy_change, 0)) != []
            d.check_true(
                f"[s_i(t−1) = {case.old_state}, h_i(t) = {case.field}] summand can be 0: "
                f"{zero_possible}; if so the change is −1 → +1: {case.delta == 2}",
                (not zero_possible) or case.delta == 2,
                strength="symbolic",
            )
    d.note(
        "Hence V(t) = (L(t), −#{+1 in s(t)} − #{+1 in s(t−1)}) decreases strictly in "
        "lexicographic order unless s(t+1) = s(t−1): when ΔL = 0 and s(t+1) ≠ s(t−1), "
        "s(t+1) has more +1 entries than s(t−1). V takes finitely many values (2^M × 2^M "
        "pairs), so from some t on, s(t+1) = s(t−1): a fixed point or a 2-cycle."
    )
    _integer_copies_match_spec(d)
    _exhaustive(d)
    d.step("Dropping symmetry: search asymmetric W (M = 3, entries −1, 0, 1, b = 0)")
    _asymmetric_cycle(d)
    d.qed()


if __name__ == "__main__":
    main()
