"""Softmax saturation (exercise 8-2): with a unique maximum, ∂softmax(t·s)/∂s → 0 as t → ∞.

The gradient argument behind scaling the dot product by 1/√d_k: large logits
push the softmax towards one-hot, where diag(α) − ααᵀ vanishes and no
gradient flows. Limits by ``sympy.limit`` for concrete logits (N = 2, 3, 4),
and for general N by a bound: every Jacobian entry is at most 1 − α_max in
size, and 1 − α_max ≤ (N − 1)e^{−tΔ} → 0 with Δ the gap to the runner-up.
The unique-maximum hypothesis is dropped in a checked counterexample.
"""

import sympy

from proofs._narrate import Derivation
from spec import softmax as ss


def main() -> None:
    """Show the Jacobian of softmax(t·s) tends to 0 when s has a unique maximum."""
    d = Derivation(
        "Softmax saturation: the Jacobian diag(α) − ααᵀ of softmax(t·s) tends to 0 as t → ∞",
        "exercise 8-2 (why the dot product is scaled); book §8.2",
    )
    _, _, bound, bound_limit = ss.saturation_tail_bound()
    t = ss.temperature_scale
    d.claim(
        sympy.Eq(sympy.Limit(sympy.Symbol("J_ij(t·s)"), t, sympy.oo), 0, evaluate=False),
        "if s has a unique maximum s_m (gap Δ = s_m − max_{j≠m} s_j > 0), every entry of the "
        "softmax Jacobian at the logits t·s tends to 0 as t → ∞ (N symbolic).",
    )

    d.note("Part 1: concrete logits, limits by sympy.limit (checked for N = 2, 3, 4).")
    for logits in ([1, 0], [2, 1, 0], [3, -1, 0, 2]):
        _, jacobian = ss.scaled_softmax_jacobian([sympy.Integer(v) for v in logits])
        limit = ss.saturation_limit([sympy.Integer(v) for v in logits])
        if len(logits) == 2:
            d.step(f"Jacobian of softmax(t·s) at s = {logits} (derived by sympy.diff)", jacobian)
        d.check_equal(
            f"s = {logits}: lim_(t→∞) J(t·s) = 0",
            limit,
            sympy.zeros(len(logits)),
            strength="finite",
        )

    d.note("Part 2: general N by bounds. Let α = softmax(t·s), m the index of the maximum.")
    a_i, a_j, rest = sympy.symbols("alpha_i alpha_j r", seq=True, positive=True)
    # α_i + α_j + r = 1 with r = Σ of the other weights ≥ 0: substitute α_j = 1 − α_i − r.
    slack = sympy.expand((a_i * (1 - a_i) - a_i * a_j).subs(a_j, 1 - a_i - rest))
    d.step(
        "Off-diagonal |J_ij| = α_iα_j ≤ α_i(1 − α_i), because α_j ≤ 1 − α_i; the slack is "
        "α_i(1 − α_i) − α_iα_j = α_i·r with r = 1 − α_i − α_j ≥ 0",
        slack,
    )
    d.check_zero("α_i(1 − α_i) − α_iα_j − α_i·r", slack - a_i * rest, strength="symbolic")
    d.check_true(
        "α_i·r ≥ 0 for α_i > 0, r ≥ 0", bool((a_i * rest).is_nonnegative), strength="symbolic"
    )

    a_m = sympy.Symbol("alpha_m", positive=True)
    d.step(
        "Diagonal J_ii = α_i(1 − α_i) ≤ 1 − α_m for every i: if i = m, α_m ≤ 1; if i ≠ m, "
        "α_i ≤ 1 − α_m and 1 − α_i ≤ 1",
        sympy.Le(a_i * (1 - a_i), 1 - a_m),
    )
    at_max = sympy.expand((1 - a_m) - a_m * (1 - a_m))
    d.check_zero(
        "(1 − α_m) − α_m(1 − α_m) − (1 − α_m)²", at_max - (1 - a_m) ** 2, strength="symbolic"
    )
    other_slack = sympy.expand((1 - a_m) - a_i * (1 - a_i)).subs(a_m, 1 - a_i - rest)
    d.check_zero(
        "i ≠ m: (1 − α_m) − α_i(1 − α_i) = α_i² + r with r = 1 − α_m − α_i ≥ 0",
        sympy.expand(other_slack) - (a_i**2 + rest),
        strength="symbolic",
    )

    u = sympy.Symbol("U", positive=True)
    d.step(
        "1 − α_m = U/(1 + U) with U = Σ_{j≠m} e^{t(s_j − s_m)} (divide through by e^{t s_m}); "
        "each term ≤ e^{−tΔ}, so U ≤ (N − 1)e^{−tΔ}, and U/(1 + U) ≤ U",
        sympy.Le(u / (1 + u), bound),
    )
    d.check_zero(
        "U − U/(1 + U) − U²/(1 + U)",
        sympy.cancel(u - u / (1 + u) - u**2 / (1 + u)),
        strength="symbolic",
    )
    d.check_true(
        "U²/(1 + U) ≥ 0 for U > 0", bool((u**2 / (1 + u)).is_nonnegative), strength="symbolic"
    )
    d.step("So every |J_ij| ≤ 1 − α_m ≤ (N − 1)e^{−tΔ}; take t → ∞ (sympy.limit, Δ > 0)", bound)
    d.check_equal("lim_(t→∞) (N − 1)e^{−tΔ}", bound_limit, 0, strength="symbolic")

    d.note("Hypothesis check: without a unique maximum the limit is not 0.")
    tied = ss.saturation_limit([sympy.Integer(1), sympy.Integer(1), sympy.Integer(0)])
    d.step("Logits s = [1, 1, 0] (two maxima): lim_(t→∞) J(t·s)", tied)
    d.check_true(
        "with a tied maximum, lim J ≠ 0 (it is the Jacobian of the uniform distribution over "
        "the tied entries)",
        tied != sympy.zeros(3),
        strength="finite",
    )
    d.check_equal(
        "that limit's [0, 0] entry is ½·(1 − ½)",
        tied[0, 0],
        sympy.Rational(1, 4),
        strength="finite",
    )
    d.qed()


if __name__ == "__main__":
    main()
