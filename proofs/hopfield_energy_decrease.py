"""Exercise 8-6: the Hopfield energy never increases under asynchronous updates (§8.6.1).

Derived for a symbolic number of neurons M from the energy's definition
E = −½ Σ_jk w_jk s_j s_k − Σ_j b_j s_j: changing neuron i by Δ = s'_i − s_i
changes the energy by ΔE = −Δ b_i − ½ w_ii Δ² − ½Δ Σ_j (w_ij + w_ji) s_j;
symmetry turns this into −Δ h_i − ½ w_ii Δ², the zero diagonal into −Δ h_i,
and the update rule (h_i ≥ 0 → +1) makes −Δ h_i ≤ 0 in every case. The
hypotheses are dropped one at a time in ``proofs.hopfield_counterexamples``.
"""

import itertools
from typing import Any

import numpy as np
import sympy

from proofs._narrate import Derivation
from spec import hopfield as hs


def _concrete_cross_check(derivation: Derivation) -> None:
    """Brute force for M = 3: the derived ΔE equals E(after) − E(before) exactly."""
    size = 3
    rng = np.random.default_rng(8_6)
    general = hs.energy_change_derived()
    derived = [hs.at_size(general, size, neuron=n) for n in range(size)]
    checked = 0
    for _ in range(4):
        raw = rng.integers(-3, 4, size=(size, size))  # any integer W: asymmetric, any diagonal
        weights = hs.exact_matrix(raw.tolist())
        bias = hs.exact_matrix([[int(v)] for v in rng.integers(-2, 3, size=size)])
        for signs in itertools.product((1, -1), repeat=size):
            state = hs.exact_matrix([[v] for v in signs])
            for neuron in range(size):
                for new_value in (1, -1):
                    after = sympy.Matrix(state)
                    after[neuron, 0] = new_value
                    brute = hs.exact_energy(weights, bias, after) - hs.exact_energy(
                        weights, bias, state
                    )
                    values: dict[sympy.Expr, Any] = {
                        hs.w[r, c]: weights[r, c] for r in range(size) for c in range(size)
                    }
                    values |= {hs.s[r]: state[r, 0] for r in range(size)}
                    values |= {hs.b[r]: bias[r, 0] for r in range(size)}
                    values |= {hs.DELTA: new_value - state[neuron, 0]}
                    formula = derived[neuron].xreplace(values)
                    if sympy.expand(formula - brute) != 0:
                        raise AssertionError(f"ΔE mismatch for W={raw.tolist()}, s={signs}")
                    checked += 1
    derivation.check_true(
        f"the derived ΔE (no hypotheses) equals E(s') − E(s) computed directly, exactly, in "
        f"{checked} concrete cases (M = 3: random integer W, asymmetric with any diagonal; every "
        f"±1 state, neuron and new value)",
        checked == 4 * 2**size * size * 2,
        strength="finite",
    )


def main() -> None:
    """Derive ΔE for a single-neuron update and show ΔE ≤ 0 under the update rule."""
    d = Derivation(
        "Exercise 8-6: the Hopfield energy decreases monotonically",
        "book §8.6.1, energy E = −½ sᵀWs − bᵀs and update rule; exercise 8-6",
    )
    h = hs.local_field_sum()
    d.claim(
        sympy.Eq(sympy.Symbol("ΔE"), hs.energy_change_closed_form(hs.DELTA, h), evaluate=False),
        "for W symmetric with zero diagonal, updating neuron i by Δ = s'_i − s_i changes the "
        "energy by −Δ·h_i, which the update rule makes ≤ 0 (= 0 iff Δ = 0 or h_i = 0). "
        "Symbolic size M; i is any neuron index 0 ≤ i ≤ M−1.",
    )

    d.step("Definition of the energy (book §8.6.1), for M neurons", hs.energy_sum())
    d.step(
        "Asynchronous update of neuron i only: s'_j = s_j + Δ·δ_ij (all other neurons unchanged)",
        sympy.Eq(sympy.Symbol("s'_j"), hs.single_flip_state(hs.j), evaluate=False),
    )
    raw_change = sympy.expand(hs.energy_sum(hs.single_flip_state) - hs.energy_sum(hs.current_state))
    d.step(
        "ΔE = E(s') − E(s), expanded: the s_j s_k and b_j s_j terms cancel, what is left "
        "carries at least one δ",
        raw_change,
    )
    general = hs.energy_change_derived()
    d.step(
        "Carry out the sums over the Kronecker deltas (Σ_j f(j) δ_ij = f(i), since i is a "
        "neuron index) and name every dummy j. No hypothesis on W is used yet: this holds "
        "for any W and any real state",
        general,
    )
    d.check_equal(
        "Without symmetry, ΔE − (−Δ h_i − ½ w_ii Δ²) is exactly the asymmetric part "
        "½ Δ Σ_j (w_ij − w_ji) s_j",
        general - hs.energy_change_with_diagonal(),
        hs.asymmetry_residual(),
        strength="symbolic",
    )

    symmetric = hs.apply_symmetry(general)
    d.step(
        "HYPOTHESIS 1, symmetry (w_ji = w_ij): the two half-sums ½Δ Σ_j w_ij s_j and "
        "½Δ Σ_j w_ji s_j become one whole sum",
        symmetric,
    )
    d.check_equal(
        "With symmetry, ΔE = −Δ (Σ_j w_ij s_j + b_i) − ½ w_ii Δ²",
        symmetric,
        hs.energy_change_with_diagonal(),
        strength="symbolic",
    )

    zero_diagonal = hs.apply_zero_diagonal(symmetric)
    d.step(
        "HYPOTHESIS 2, zero diagonal (w_ii = 0): the self-coupling term −½ w_ii Δ² vanishes",
        zero_diagonal,
    )
    d.check_equal(
        "With symmetry and zero diagonal, ΔE = −Δs_i · h_i, h_i = Σ_j w_ij s_j + b_i",
        zero_diagonal,
        hs.energy_change_closed_form(hs.DELTA, h),
        strength="symbolic",
    )
    d.note(
        "(For ±1 states the diagonal term is harmless in itself — see "
        "proofs.hopfield_counterexamples: what matters is how w_ii enters the update "
        "through h_i; a negative w_ii breaks the lemma, a positive one does not.)"
    )

    d.step(
        "The update rule s'_i = +1 if h_i ≥ 0 else −1 (book §8.6.1, ties go to +1). Write a "
        "non-negative field as h_i = q (q ≥ 0) and a negative one as h_i = −p (p > 0); sympy "
        "decides the rule's branch from these assumptions in each of the four cases:"
    )
    cases = hs.update_cases()
    p, q = hs.FIELD_POSITIVE_PART, hs.FIELD_NONNEGATIVE
    for case in cases:
        d.note(
            f"{case.description}:  s'_i = {case.new_state},  Δ = {case.delta},  "
            f"ΔE = −Δ·h_i = {case.energy_change}"
        )
    for case in cases:
        d.check_true(
            f"[{case.description}] ΔE = {case.energy_change} is ≤ 0 (sympy, from the "
            f"assumptions p > 0, q ≥ 0)",
            bool(case.energy_change.is_nonpositive),
            strength="symbolic",
        )
    for case in cases:
        if case.delta == 0:
            d.check_true(
                f"[{case.description}] the state does not change, so ΔE = 0",
                case.energy_change == 0,
                strength="symbolic",
            )
        else:
            symbol = q if case.field.has(q) else p
            roots = sympy.solve(sympy.Eq(case.energy_change, 0), symbol)
            zero_field = [r for r in roots if case.field.subs(symbol, r) == 0]
            d.check_true(
                f"[{case.description}] the state changes (Δ = {case.delta}); "
                + (
                    f"ΔE = 0 only at {symbol} ∈ {{{', '.join(map(str, roots))}}}, exactly where "
                    "h_i = 0"
                    if roots
                    else f"ΔE = 0 has no solution with {symbol} "
                    f"{'>' if symbol.is_positive else '≥'} 0, so ΔE < 0 strictly"
                ),
                len(roots) == len(zero_field),
                strength="symbolic",
            )
    d.note(
        "So ΔE ≤ 0 always, and ΔE = 0 iff the state does not change or h_i = 0 (the tie, "
        "where a −1 neuron turns +1 at no energy cost)."
    )

    d.step(
        "Corollary (finite convergence): a change with ΔE = 0 is always −1 → +1 (Δ = +2), "
        "so every change strictly decreases the pair (E, number of −1 neurons) "
        "lexicographically; with 2^M states, asynchronous dynamics reaches a fixed point."
    )
    for case in cases:
        if case.delta != 0:
            strict = bool(case.energy_change.is_negative)
            tie_is_upward = case.delta == 2
            d.check_true(
                f"[{case.description}] ΔE < 0 ({strict}) or the change is −1 → +1 "
                f"({tie_is_upward})",
                strict or tie_is_upward,
                strength="symbolic",
            )

    _concrete_cross_check(d)
    d.qed()


if __name__ == "__main__":
    main()
