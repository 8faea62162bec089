"""Continuous stack/queue: discrete limit and strength bookkeeping (exercise 8-4, §8.5).

Grefenstette et al. 2015: with push and pop strengths exactly 0 or 1 the
continuous stack (queue) is a discrete stack (queue); in general the total
strength after a step is max(0, total − u) + d and a read weighs the top
unit of strength, min(1, total) in all. Derived in ``spec.structured_memory``
for a symbolic number of rows (removal lemma on each region, telescoping
``Sum``); the discrete limit is checked symbolically for every bit sequence
of 3 steps and on random 200-step runs of ``impl.neural_stack`` against a
Python list; counterexamples show that fractional strengths and a pop
strength above 1 each break the equivalence.
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
    proof.step(
        "Row i (n rows, n symbolic) loses min(s_i, max(0, u − C[i+1])) with C[i] = Σ_{j≥i} s_j; "
        "by the lemma with w = u − C[i+1] (so w − s_i = u − C[i]) this is",
        derivation.popped_telescoped,
    )
    proof.step("Σ_{i=1}^{n} telescopes (sympy Sum.doit, C[n+1] = 0)", derivation.popped_total)
    proof.step("Total after the step = C[1] − popped + d", derivation.total_after)
    residual = sm.total_strength_residual()
    proof.step(
        "Minus the claimed max(0, C[1] − u) + d, with x = C[1] − u",
        residual,
    )
    for region, part in sm.positive_part_identity_residuals():
        proof.check_zero(f"x + max(0, −x) − max(0, x) on {region}", part, strength="symbolic")
    proof.step(
        "Read weights: the same lemma with u = 1 telescopes Σ_i min(s_i, max(0, 1 − C[i+1])) to",
        derivation.read_weight_total,
    )
    for region, part in sm.min_one_identity_residuals():
        proof.check_zero(f"1 − max(0, 1 − c) = min(1, c) on {region}", part, strength="symbolic")
    proof.step(
        "Cumulative form: the popped strength of row i is max(0, C[i] − u) − max(0, C[i+1] − u), "
        "i.e. a pop subtracts u from every C and clips at 0 (three regions)",
    )
    for region, part in sm.cumulative_form_residuals():
        proof.check_zero(f"cumulative form on {region}", part, strength="symbolic")

    proof.step(
        "Discrete limit: with C integer and u ∈ {0, 1}, max(0, C − u) is an integer, so every "
        "strength stays in {0, 1}; reads then copy exactly one value. Checked symbolically "
        "(values v1, v2, v3 are symbols) for every push/pop bit sequence of 3 steps"
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
