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
