"""Continuous stack / queue / deque in sympy: the update rules and what follows from them.

Book: exercise 8-4 (external memory organised as a stack or a queue).
Paper: Grefenstette et al. 2015, "Learning to transduce with unbounded memory", §3.
The twin of ``impl.neural_stack``. Strengths are lists of sympy expressions,
row 0 the bottom; values are scalar expressions (one feature: the read is
linear in the values, so one feature per call is no loss).

Derived here, never typed in as answers:

* **Removal lemma** ``removal_lemma_residuals``: for s ≥ 0 and real w,
  min(s, max(0, w)) = max(0, w) − max(0, w − s). Checked by sympy on a
  parametrisation of each of the three regions w ≤ 0, 0 ≤ w ≤ s, w ≥ s
  (non-negative parameters; sympy decides every Max/Min).
* **Total strength** ``total_strength_derivation``: for a symbolic number n of
  rows, with C[i] = Σ_{j ≥ i} s[j] (C[n+1] = 0), the lemma turns the amount
  popped from row i into g(C[i+1]) − g(C[i]) with g(c) = max(0, u − c), the
  ``Sum`` telescopes (``Sum.doit``) to max(0, u) − max(0, u − C[1]), and the
  total after the step is max(0, total − u) + d.
* **Read weight total**: the same argument with u = 1 gives Σ_i w_i = min(1, total).
* **Cumulative form** ``cumulative_form_residuals``: the popped strength of
  row i equals max(0, C[i] − u) − max(0, C[i+1] − u).
* **Discrete limit** ``discrete_limit_mismatches``: for every sequence of
  push/pop bits of a given length, the symbolic reads (values are symbols)
  equal the top (stack) / front (queue) of a Python list driven by the same
  bits; 0 for an empty structure.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import product

import sympy

Expr = sympy.Expr


# ---------------------------------------------------------------------------
# The update rules (paper, §3)
# ---------------------------------------------------------------------------


def _sum(terms: Sequence[Expr]) -> Expr:
    return sympy.Add(*terms) if terms else sympy.S.Zero


def pop_from_top(strengths: Sequence[Expr], pop: Expr) -> list[Expr]:
    """max(0, s[i] − max(0, u − Σ_{j>i} s[j])) for every row i (stack pop, paper eq. 1)."""
    return [
        sympy.Max(0, s - sympy.Max(0, pop - _sum(strengths[i + 1 :])))
        for i, s in enumerate(strengths)
    ]


def pop_from_bottom(strengths: Sequence[Expr], pop: Expr) -> list[Expr]:
    """max(0, s[i] − max(0, u − Σ_{j<i} s[j])) for every row i (queue pop)."""
    return [
        sympy.Max(0, s - sympy.Max(0, pop - _sum(strengths[:i]))) for i, s in enumerate(strengths)
    ]


def read_weights_from_top(strengths: Sequence[Expr]) -> list[Expr]:
    """min(s[i], max(0, 1 − Σ_{j>i} s[j])): the top unit of strength (stack read, paper eq. 3)."""
    return [
        sympy.Min(s, sympy.Max(0, 1 - _sum(strengths[i + 1 :]))) for i, s in enumerate(strengths)
    ]


def read_weights_from_bottom(strengths: Sequence[Expr]) -> list[Expr]:
    """min(s[i], max(0, 1 − Σ_{j<i} s[j])): the bottom unit of strength (queue read)."""
    return [sympy.Min(s, sympy.Max(0, 1 - _sum(strengths[:i]))) for i, s in enumerate(strengths)]


def _read(values: Sequence[Expr], weights: Sequence[Expr]) -> Expr:
    return _sum([w * v for w, v in zip(weights, values, strict=True)])


@dataclass(frozen=True)
class SymbolicState:
    """(values, strengths) of a continuous structure, bottom row first."""

    values: tuple[Expr, ...]
    strengths: tuple[Expr, ...]


def stack_step(
    state: SymbolicState, value: Expr, push: Expr, pop: Expr
) -> tuple[SymbolicState, Expr]:
    """Pop u from the top, push (v, d) on top, read the top unit (twin of impl.neural_stack)."""
    strengths = (*pop_from_top(state.strengths, pop), push)
    values = (*state.values, value)
    return SymbolicState(values, strengths), _read(values, read_weights_from_top(strengths))


def queue_step(
    state: SymbolicState, value: Expr, push: Expr, pop: Expr
) -> tuple[SymbolicState, Expr]:
    """Pop u from the bottom (front), push (v, d) on top (back), read the bottom unit."""
    strengths = (*pop_from_bottom(state.strengths, pop), push)
    values = (*state.values, value)
    return SymbolicState(values, strengths), _read(values, read_weights_from_bottom(strengths))


def deque_step(
    state: SymbolicState,
    values_in: tuple[Expr, Expr],
    strengths_in: tuple[Expr, Expr, Expr, Expr],
) -> tuple[SymbolicState, tuple[Expr, Expr]]:
    """Deque step; values_in = (v_top, v_bot), strengths_in = (d_top, u_top, d_bot, u_bot).

    Pop u_top from the top, then u_bot from the bottom of what is left, then
    prepend (v_bot, d_bot) and append (v_top, d_top); return the top and
    bottom reads.
    """
    v_top, v_bot = values_in
    d_top, u_top, d_bot, u_bot = strengths_in
    after_both = pop_from_bottom(pop_from_top(state.strengths, u_top), u_bot)
    strengths = (d_bot, *after_both, d_top)
    values = (v_bot, *state.values, v_top)
    reads = (
        _read(values, read_weights_from_top(strengths)),
        _read(values, read_weights_from_bottom(strengths)),
    )
    return SymbolicState(values, strengths), reads


def empty_state() -> SymbolicState:
    """No rows."""
    return SymbolicState((), ())


# ---------------------------------------------------------------------------
# Lemmas
# ---------------------------------------------------------------------------

_p, _q, _r = sympy.symbols("p q r", seq=True, nonnegative=True)
_s, _w, _u, _a = sympy.symbols("s w u a", seq=True, real=True)


def removal_lemma() -> tuple[Expr, Expr]:
    """(lhs, rhs) of min(s, max(0, w)) = max(0, w) − max(0, w − s) (s ≥ 0, w real)."""
    return sympy.Min(_s, sympy.Max(0, _w)), sympy.Max(0, _w) - sympy.Max(0, _w - _s)


def removal_lemma_residuals() -> list[tuple[str, Expr]]:
    """lhs − rhs of the removal lemma on each region (p, q ≥ 0 parametrise it), as sympy leaves it.

    Regions: w ≤ 0 (w = −p, s = q); 0 ≤ w ≤ s (w = p, s = p + q); w ≥ s (s = p, w = p + q).
    """
    lhs, rhs = removal_lemma()
    regions = (
        ("w ≤ 0", {_w: -_p, _s: _q}),
        ("0 ≤ w ≤ s", {_w: _p, _s: _p + _q}),
        ("w ≥ s", {_s: _p, _w: _p + _q}),
    )
    return [(name, sympy.expand((lhs - rhs).subs(rule))) for name, rule in regions]


def positive_part_identity_residuals() -> list[tuple[str, Expr]]:
    """x + max(0, −x) − max(0, x) on x ≤ 0 and x ≥ 0 (used to close the total-strength step)."""
    x = sympy.Symbol("x", real=True)
    expr = x + sympy.Max(0, -x) - sympy.Max(0, x)
    return [("x ≤ 0", sympy.expand(expr.subs(x, -_p))), ("x ≥ 0", sympy.expand(expr.subs(x, _p)))]


def min_one_identity_residuals() -> list[tuple[str, Expr]]:
    """1 − max(0, 1 − c) − min(1, c) on c ≤ 1 (c = 1 − p) and c ≥ 1 (c = 1 + p)."""
    c = sympy.Symbol("c", real=True)
    expr = 1 - sympy.Max(0, 1 - c) - sympy.Min(1, c)
    return [
        ("c ≤ 1", sympy.expand(expr.subs(c, 1 - _p))),
        ("c ≥ 1", sympy.expand(expr.subs(c, 1 + _p))),
    ]


@dataclass(frozen=True)
class TotalStrength:
    """The steps of the total-strength derivation for a symbolic number n of rows."""

    popped_from_row: Expr  # min(s_i, max(0, u − C[i+1])), s_i = C[i] − C[i+1]
    popped_telescoped: Expr  # g(C[i+1]) − g(C[i]) by the removal lemma
    popped_total: Expr  # Sum(...).doit()
    total_after: Expr  # C[1] − popped_total + d, with C[n+1] = 0
    closed_form: Expr  # max(0, C[1] − u) + d
    read_weight_total: Expr  # Σ_i min(s_i, max(0, 1 − C[i+1])), telescoped
    pop: sympy.Symbol
    push: sympy.Symbol
    cumulative: sympy.IndexedBase
    rows: sympy.Symbol


def total_strength_derivation() -> TotalStrength:
    """Derive Σ_i s_t[i] = max(0, Σ_i s_{t−1}[i] − u) + d for n rows (n symbolic).

    C[i] = Σ_{j=i}^{n} s[j] is the strength at or above row i (1-based,
    C[n+1] = 0). Each row loses min(s_i, max(0, u − C[i+1])); by the removal
    lemma with w = u − C[i+1] (and w − s_i = u − C[i]) this is
    g(C[i+1]) − g(C[i]), g(c) = max(0, u − c), and the sum telescopes.
    """
    n = sympy.Symbol("n", integer=True, positive=True)
    i = sympy.Idx("i")
    C = sympy.IndexedBase("C")
    u = sympy.Symbol("u", nonnegative=True)
    d = sympy.Symbol("d", nonnegative=True)

    def g(c: Expr, amount: Expr = u) -> Expr:
        return sympy.Max(0, amount - c)

    s_i = C[i] - C[i + 1]
    popped = sympy.Min(s_i, sympy.Max(0, u - C[i + 1]))
    # The lemma, applied with w = u − C[i+1], s = s_i: max(0, w) − max(0, w − s_i).
    _, rhs = removal_lemma()
    telescoped = rhs.subs({_w: u - C[i + 1], _s: s_i})
    total_popped = sympy.Sum(telescoped, (i, 1, n)).doit().subs(C[n + 1], 0)
    after = C[1] - total_popped + d
    closed = sympy.Max(0, C[1] - u) + d
    read_total = (
        sympy.Sum(rhs.subs({_w: 1 - C[i + 1], _s: s_i}), (i, 1, n)).doit().subs(C[n + 1], 0)
    )
    return TotalStrength(
        popped_from_row=popped,
        popped_telescoped=sympy.expand(telescoped),
        popped_total=total_popped,
        total_after=after,
        closed_form=closed,
        read_weight_total=read_total,
        pop=u,
        push=d,
        cumulative=C,
        rows=n,
    )


def total_strength_residual() -> Expr:
    """total_after − closed_form with C[1] − u = x: reduces to x + max(0, −x) − max(0, x)."""
    derivation = total_strength_derivation()
    x = sympy.Symbol("x", real=True)
    residual = sympy.expand(derivation.total_after - derivation.closed_form)
    substituted: Expr = sympy.expand(residual.subs(derivation.cumulative[1], x + derivation.pop))
    return substituted


def cumulative_form_residuals() -> list[tuple[str, Expr]]:
    """max(0, s − max(0, u − a)) − (max(0, a + s − u) − max(0, a − u)) on the three regions.

    a = C[i+1] ≥ 0 is the strength above row i, s its strength, u ≥ 0 the
    pop: u ≤ a (u = p, a = p + q, s = r); a ≤ u ≤ a + s (a = p, u = p + q,
    s = q + r); u ≥ a + s (a = p, s = q, u = p + q + r).
    """
    expr = sympy.Max(0, _s - sympy.Max(0, _u - _a)) - (
        sympy.Max(0, _a + _s - _u) - sympy.Max(0, _a - _u)
    )
    regions = (
        ("u ≤ a", {_u: _p, _a: _p + _q, _s: _r}),
        ("a ≤ u ≤ a + s", {_a: _p, _u: _p + _q, _s: _q + _r}),
        ("u ≥ a + s", {_a: _p, _s: _q, _u: _p + _q + _r}),
    )
    return [(name, sympy.expand(expr.subs(rule))) for name, rule in regions]


# ---------------------------------------------------------------------------
# The discrete limit
# ---------------------------------------------------------------------------

Operation = tuple[int, int]
"""(push bit d_t, pop bit u_t)."""


def discrete_reads(
    kind: str, operations: Sequence[Operation], values: Sequence[Expr]
) -> list[Expr]:
    """Reads of a discrete stack/queue (a Python list) driven by the bits: pop, then push, read.

    ``kind`` is "stack" (read the last element) or "queue" (read the first);
    an empty structure reads 0.
    """
    items: list[Expr] = []
    reads: list[Expr] = []
    for (push, pop), value in zip(operations, values, strict=True):
        if pop and items:
            items.pop(-1 if kind == "stack" else 0)
        if push:
            items.append(value)
        reads.append((items[-1] if kind == "stack" else items[0]) if items else sympy.S.Zero)
    return reads


def continuous_reads(
    kind: str, operations: Sequence[Operation], values: Sequence[Expr]
) -> list[Expr]:
    """Reads of the continuous stack/queue driven by the same bits (sympy evaluates Max/Min)."""
    step = stack_step if kind == "stack" else queue_step
    state = empty_state()
    reads: list[Expr] = []
    for (push, pop), value in zip(operations, values, strict=True):
        state, read = step(state, value, sympy.Integer(push), sympy.Integer(pop))
        reads.append(sympy.expand(read))
    return reads


def discrete_limit_mismatches(kind: str, steps: int) -> tuple[int, list[Operation]]:
    """(number of bit sequences tried, first mismatching sequence or []) for symbolic values.

    Every sequence in {0, 1}^{2·steps} of (push, pop) bits is tried; the
    values v_1..v_steps are symbols, so a match is an identity in them.
    """
    values = sympy.symbols(f"v1:{steps + 1}", seq=True)
    tried = 0
    for bits in product((0, 1), repeat=2 * steps):
        operations = [(bits[2 * t], bits[2 * t + 1]) for t in range(steps)]
        tried += 1
        expected = discrete_reads(kind, operations, values)
        actual = continuous_reads(kind, operations, values)
        if any(sympy.expand(a - e) != 0 for a, e in zip(actual, expected, strict=True)):
            return tried, operations
    return tried, []
