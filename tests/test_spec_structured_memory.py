"""spec.structured_memory's row rules at depths the proof's induction does not list.

Exercise 8-4 (Grefenstette et al. 2015, eqs. 1–3): exact rational strengths of any
depth up to 8 obey total after a pop = max(0, total − u) and Σ read weights =
min(1, total); with 0/1 strengths and pops a stack/queue step is a list's pop-then-push.
"""

from fractions import Fraction

import sympy
from hypothesis import given
from hypothesis import strategies as st

from spec import structured_memory as spec

fractions = st.fractions(min_value=0, max_value=1, max_denominator=12)


def _rationals(values: list[Fraction]) -> list[sympy.Expr]:
    return [sympy.Rational(v.numerator, v.denominator) for v in values]


@given(st.lists(fractions, max_size=8), fractions, st.sampled_from(["stack", "queue"]))
def test_pop_total_and_read_total_laws(strengths: list[Fraction], pop: Fraction, kind: str) -> None:
    """Σ pop(s, u) = max(0, Σ s − u) and Σ read weights = min(1, Σ s), exactly."""
    s = _rationals(strengths)
    u = _rationals([pop])[0]
    total = sympy.Add(*s)
    pop_all = spec.pop_from_top if kind == "stack" else spec.pop_from_bottom
    read_all = spec.read_weights_from_top if kind == "stack" else spec.read_weights_from_bottom
    popped = pop_all(s, u)
    assert all(0 <= p <= r for p, r in zip(popped, s, strict=True))
    assert sympy.Add(*popped) == sympy.Max(0, total - u)
    weights = read_all(s)
    assert all(w >= 0 for w in weights)
    assert sympy.Add(*weights) == sympy.Min(1, total)


@given(
    st.lists(st.tuples(st.integers(0, 1), st.integers(0, 1)), max_size=12),
    st.sampled_from(["stack", "queue"]),
)
def test_discrete_bits_act_as_a_list(bits: list[tuple[int, int]], kind: str) -> None:
    """With 0/1 pushes and pops, every read is the list's top (stack) or front (queue)."""
    values = [sympy.Integer(10 + t) for t in range(len(bits))]
    assert spec.continuous_reads(kind, bits, values) == spec.discrete_reads(kind, bits, values)


def test_deque_step_reads_the_top_and_the_bottom_unit() -> None:
    """A deque step pops u_top from the top, then u_bot from the bottom, pushes at both
    ends and reads one unit from each end (exact rationals, symbolic values)."""
    v0, v1, vt, vb = sympy.symbols("v0 v1 v_top v_bot")
    half, zero = sympy.Rational(1, 2), sympy.Integer(0)
    state = spec.SymbolicState((v0, v1), (half, half))
    # No pops: rows (v_bot, v0, v1, v_top), each of strength 1/2; one unit from each end.
    new, (top, bottom) = spec.deque_step(state, (vt, vb), (half, zero, half, zero))
    assert new.values == (vb, v0, v1, vt)
    assert new.strengths == (half, half, half, half)
    assert sympy.expand(top - (vt + v1) / 2) == 0
    assert sympy.expand(bottom - (vb + v0) / 2) == 0
    # Pop 1/2 at each end: v1 and v0 are gone; each read sees both pushed rows.
    new, (top, bottom) = spec.deque_step(state, (vt, vb), (half, half, half, half))
    assert new.strengths == (half, zero, zero, half)
    assert sympy.expand(top - (vt + vb) / 2) == 0
    assert sympy.expand(bottom - (vb + vt) / 2) == 0
    # Pop 1/4 from the bottom only: v0 keeps 1/4, so the bottom read is v_bot/2 + v0/4 + v1/4.
    quarter = sympy.Rational(1, 4)
    new, (top, bottom) = spec.deque_step(state, (vt, vb), (half, zero, half, quarter))
    assert sympy.expand(bottom - (vb / 2 + v0 / 4 + v1 / 4)) == 0
    assert sympy.expand(top - (vt + v1) / 2) == 0


def test_total_strength_derivation_in_its_stated_notation() -> None:
    """The closed form is max(0, C[1] − u) + d in the docstring's notation: C[i] the strength
    at or above row i, u the pop, d the push (the proof prints it and callers substitute)."""
    derivation = spec.total_strength_derivation()
    C = sympy.IndexedBase("C")
    u, d = sympy.Symbol("u", nonnegative=True), sympy.Symbol("d", nonnegative=True)
    assert (derivation.cumulative, derivation.pop, derivation.push) == (C, u, d)
    assert derivation.closed_form == sympy.Max(0, C[1] - u) + d
