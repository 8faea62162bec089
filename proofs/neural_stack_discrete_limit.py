"""Continuous stack/queue: discrete limit and strength bookkeeping (exercise 8-4, §8.5).

Grefenstette et al. 2015: with push and pop strengths exactly 0 or 1 the
continuous stack (queue) is a discrete stack (queue); in general the total
strength after a step is max(0, total − u) + d and a read weighs the top
unit of strength, min(1, total) in all.

For every depth, by induction on the number of rows (``spec.structured_memory``): a row's
update reads only its strength s and the strength R of the rows covering it, so n + 1 rows
are n rows plus a new one covered by all of them; the step is an identity in (s, R, u),
decided by sympy on each region (pop: max(0, s − max(0, u − R)) + max(0, R − u) =
max(0, s + R − u); read: min(s, max(0, 1 − R)) + min(1, R) = min(1, s + R); discrete: with
s, u ∈ {0, 1} and R = 0 or 1 + k for a symbolic k ≥ 0 the new row behaves as a list's last
element). The telescoping ``Sum`` derivation for a symbolic number of rows is a second
route. Every push/pop bit sequence of 3 steps and random 200-step runs of
``impl.neural_stack`` against a Python list are cross-checks; counterexamples show that
fractional strengths and a pop strength above 1 each break the equivalence.
"""

import collections

import numpy as np
import sympy

from impl.neural_stack import empty_memory, queue_step, stack_step
from proofs._narrate import Derivation
from spec import structured_memory as sm


def _impl_matches_discrete(kind: str, steps: int, seed: int) -> bool:
    """Drive impl and a list/deque with the same random bits; True if every read agrees exactly."""
    rng = np.random.default_rng(seed)
    step = stack_step if kind == "stack" else queue_step
    state = empty_memory(2)
    items: collections.deque[np.ndarray[tuple[int], np.dtype[np.float64]]] = collections.deque()
    for _ in range(steps):
        push, pop = float(rng.integers(0, 2)), float(rng.integers(0, 2))
        value = rng.standard_normal(2)
        state, read = step(state, value, push, pop)
        if pop and items:
            items.pop() if kind == "stack" else items.popleft()
        if push:
            items.append(value)
        expected = (items[-1] if kind == "stack" else items[0]) if items else np.zeros(2)
        if not np.array_equal(read, expected):
            return False
    return True


def _induction(proof: Derivation) -> None:
    """Induction on the number of rows: total strength, read weights, discrete limit."""
    s, covering, u = sympy.symbols("s R u", nonnegative=True)
    proof.step(
        "Induction on the depth. Spec's row rules (paper eqs. 1 and 3): a row of strength s "
        "covered by rows of total strength R (above it in a stack, below in a queue) keeps, "
        "and is read with,",
        sympy.Tuple(sm.pop_row(s, covering, u), sm.read_row(s, covering)),
    )
    for kind, end in (("stack", "bottom"), ("queue", "top")):
        proof.check_true(
            f"{kind}: n + 1 rows pop and read as n rows plus the new {end} row covered by "
            "all n (the definition unfolded, generic symbols, n = 0..5)",
            all(sm.unfolds_by_one_row(kind, n) for n in range(6)),
            strength="finite",
        )
    proof.step(
        "So the hypothesis for n rows is about their total R only. Total after the pop: "
        "claim Σ = max(0, total − u) for every depth. Base: no rows. Step: "
        "pop_row(s, R, u) + max(0, R − u) − max(0, s + R − u), on each region"
    )
    for region, part in sm.pop_induction_residuals():
        proof.check_zero(f"total after a pop, {region}", part, strength="symbolic")
    proof.note(
        "The push then appends one row of strength d, so the total after a step is "
        "max(0, total − u) + d for every depth."
    )
    proof.step(
        "Read weights: claim Σ_i w_i = min(1, total) for every depth. Step: "
        "read_row(s, R) + min(1, R) − min(1, s + R), on each region"
    )
    for region, part in sm.read_induction_residuals():
        proof.check_zero(f"read-weight total, {region}", part, strength="symbolic")
    proof.step(
        "Discrete limit, claim for every depth: with strengths and u in {0, 1}, a pop clears "
        "the live row with no live row covering it (a list's pop of its last element; nothing "
        "if none is live), and the read weight is 1 on exactly that row. Hypothesis for the n "
        "covering rows; the new row is covered by R = 0 or R = 1 + k live rows (k ≥ 0 symbolic)"
    )
    for case, part in sm.discrete_induction_residuals():
        proof.check_zero(f"new row, {case}", part, strength="symbolic")
    proof.note(
        "So a step keeps every strength in {0, 1} and acts on the live rows as pop-then-push "
        "on a list, and the read is the value of the last live element (0 if none): by "
        "induction on the number of steps, the continuous stack (queue, the mirror image) is "
        "a discrete one for every depth and every number of steps."
    )


def main() -> None:
    """Derive the strength laws and check the discrete limit."""
    proof = Derivation(
        "Continuous stack/queue: total strength, read weights, and the discrete limit",
        "exercise 8-4 (§8.5); Grefenstette et al. 2015, §3",
    )
    derivation = sm.total_strength_derivation()
    total = derivation.cumulative[1]
    u, d = derivation.pop, derivation.push
    proof.claim(
        sympy.Eq(
            sympy.Symbol("total_t"), derivation.closed_form.subs(total, sympy.Symbol("total_{t-1}"))
        ),
        "for pop u ∈ [0, 1], push d ∈ [0, 1] and any strengths in [0, 1]; the read weights "
        "sum to min(1, total); with u, d ∈ {0, 1} the structure is a discrete stack (queue).",
    )
    lhs, rhs = sm.removal_lemma()
    proof.step(
        "Removal lemma: for s ≥ 0, min(s, max(0, w)) = max(0, w) − max(0, w − s). Checked on "
        "each region with non-negative parameters p, q (sympy decides each Max/Min)",
        sympy.Eq(lhs, rhs),
    )
    for region, residual in sm.removal_lemma_residuals():
        proof.check_zero(f"removal lemma on {region}", residual, strength="symbolic")
    _induction(proof)
    proof.step(
        "Second route, for a symbolic number n of rows: row i (C[i] = Σ_{j≥i} s_j) loses "
        "min(s_i, max(0, u − C[i+1])); by the lemma with w = u − C[i+1] (so w − s_i = u − C[i]) "
        "this is",
        derivation.popped_telescoped,
    )
    proof.step("Σ_{i=1}^{n} telescopes (sympy Sum.doit, C[n+1] = 0)", derivation.popped_total)
    proof.step("Total after the step = C[1] − popped + d", derivation.total_after)
    residual = sm.total_strength_residual()
    proof.step("Minus the claimed max(0, C[1] − u) + d, with x = C[1] − u", residual)
    for region, part in sm.total_strength_residual_on_regions():
        proof.check_zero(f"this residual on {region}", part, strength="symbolic")
    proof.step(
        "Read weights: the same lemma with u = 1 telescopes Σ_i min(s_i, max(0, 1 − C[i+1])) to",
        derivation.read_weight_total,
    )
    for region, part in sm.read_weight_total_residual_on_regions():
        proof.check_zero(f"it minus min(1, C[1]) on {region}", part, strength="symbolic")
    proof.step(
        "Cumulative form: spec's pop_row(s_i, C[i+1], u) is max(0, C[i] − u) − max(0, C[i+1] − u), "
        "i.e. a pop subtracts u from every C and clips at 0 (three regions)",
    )
    for region, part in sm.cumulative_form_residuals():
        proof.check_zero(f"cumulative form on {region}", part, strength="symbolic")

    proof.step(
        "Cross-checks of the discrete limit: symbolic values v1, v2, v3 for every push/pop bit "
        "sequence of 3 steps, and impl on random runs"
    )
    for kind in ("stack", "queue"):
        tried, mismatch = sm.discrete_limit_mismatches(kind, 3)
        proof.check_true(
            f"{kind}: all {tried} bit sequences (3 steps, concrete length) read exactly the "
            f"{'top' if kind == 'stack' else 'front'} of a Python list (0 when empty)",
            mismatch == [] and tried == 64,
            strength="finite",
        )
        proof.check_true(
            f"{kind}: impl.neural_stack equals a list/collections.deque bit for bit on 5 random "
            "200-step runs",
            all(_impl_matches_discrete(kind, 200, seed) for seed in range(5)),
            strength="numeric",
        )

    proof.note("Counterexamples (each hypothesis dropped):")
    a, b = sympy.symbols("a b")
    state, _ = sm.stack_step(sm.empty_state(), a, sympy.Integer(1), sympy.Integer(0))
    _, fractional = sm.stack_step(state, b, sympy.Rational(1, 2), sympy.Integer(0))
    proof.step("push b with d = 1/2 onto [a]: the read is", fractional)
    proof.check_true(
        "a fractional push reads a mixture (a + b)/2, which no discrete stack returns",
        sympy.expand(fractional - (a + b) / 2) == 0
        and all(sympy.expand(fractional - c) != 0 for c in (a, b, 0)),
        strength="numeric",
    )
    state, _ = sm.stack_step(state, b, sympy.Integer(1), sympy.Integer(0))
    strong, read = sm.stack_step(state, sympy.Symbol("c"), sympy.Integer(0), sympy.Integer(2))
    proof.check_true(
        "a pop strength u = 2 (outside [0, 1]) on [a, b] removes both, not one: the read is 0 "
        "where a discrete pop leaves a",
        read == 0 and list(strong.strengths) == [0, 0, 0],
        strength="numeric",
    )
    _, total_check = sm.stack_step(
        sm.SymbolicState((a,), (sympy.Rational(3, 10),)), b, sympy.Rational(2, 5), sympy.Integer(1)
    )
    proof.check_true(
        "fractional bookkeeping: [0.3], pop 1, push 0.4 → total 0.4 = max(0, 0.3 − 1) + 0.4",
        sympy.expand(total_check - sympy.Rational(2, 5) * b) == 0
        and derivation.closed_form.subs(
            {total: sympy.Rational(3, 10), u: 1, d: sympy.Rational(2, 5)}
        )
        == sympy.Rational(2, 5),
        strength="numeric",
    )
    proof.qed()


if __name__ == "__main__":
    main()
