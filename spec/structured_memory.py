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
* **Every depth, by induction on the number of rows** (``pop_induction_residuals``,
  ``read_induction_residuals``, ``discrete_induction_residuals``): a row's update reads
  only its strength s and the strength R covering it (``pop_row``, ``read_row``), so n + 1
  rows are n rows plus one covered by all of them (``unfolds_by_one_row``); the step is an
  identity in (s, R, u) decided on each region, and in the discrete limit (s, u ∈ {0, 1},
  R = 0 or 1 + k, k symbolic) the new row acts as a list's last element.
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


def pop_row(strength: Expr, covering: Expr, pop: Expr) -> Expr:
    """max(0, s − max(0, u − c)): row strength s after a pop u, c the strength covering it.

    Paper eq. 1: the pop reaches a row only with what is left after the rows covering it
    (above it in a stack, below it in a queue) have absorbed their strength c.
    """
    return sympy.Max(0, strength - sympy.Max(0, pop - covering))


def read_row(strength: Expr, covering: Expr) -> Expr:
    """min(s, max(0, 1 − c)): a row's read weight, c the strength covering it (paper eq. 3)."""
    return sympy.Min(strength, sympy.Max(0, 1 - covering))


def pop_from_top(strengths: Sequence[Expr], pop: Expr) -> list[Expr]:
    """max(0, s[i] − max(0, u − Σ_{j>i} s[j])) for every row i (stack pop, paper eq. 1)."""
    return [pop_row(s, _sum(strengths[i + 1 :]), pop) for i, s in enumerate(strengths)]


def pop_from_bottom(strengths: Sequence[Expr], pop: Expr) -> list[Expr]:
    """max(0, s[i] − max(0, u − Σ_{j<i} s[j])) for every row i (queue pop)."""
    return [pop_row(s, _sum(strengths[:i]), pop) for i, s in enumerate(strengths)]


def read_weights_from_top(strengths: Sequence[Expr]) -> list[Expr]:
    """min(s[i], max(0, 1 − Σ_{j>i} s[j])): the top unit of strength (stack read, paper eq. 3)."""
    return [read_row(s, _sum(strengths[i + 1 :])) for i, s in enumerate(strengths)]


def read_weights_from_bottom(strengths: Sequence[Expr]) -> list[Expr]:
    """min(s[i], max(0, 1 − Σ_{j<i} s[j])): the bottom unit of strength (queue read)."""
    return [read_row(s, _sum(strengths[:i])) for i, s in enumerate(strengths)]


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
    expr = pop_row(_s, _a, _u) - (sympy.Max(0, _a + _s - _u) - sympy.Max(0, _a - _u))
    regions = (
        ("u ≤ a", {_u: _p, _a: _p + _q, _s: _r}),
        ("a ≤ u ≤ a + s", {_a: _p, _u: _p + _q, _s: _q + _r}),
        ("u ≥ a + s", {_a: _p, _s: _q, _u: _p + _q + _r}),
    )
    return [(name, sympy.expand(expr.subs(rule))) for name, rule in regions]


def total_strength_residual_on_regions() -> list[tuple[str, Expr]]:
    """``total_strength_residual`` itself on x ≤ 0 (x = −p) and x ≥ 0 (x = p)."""
    x = sympy.Symbol("x", real=True)
    residual = total_strength_residual()
    return [
        (name, sympy.expand(residual.subs(x, value)))
        for name, value in (("x ≤ 0", -_p), ("x ≥ 0", _p))
    ]


def read_weight_total_residual_on_regions() -> list[tuple[str, Expr]]:
    """The telescoped read-weight total minus min(1, C[1]) on C[1] ≤ 1 and C[1] ≥ 1."""
    derivation = total_strength_derivation()
    top = derivation.cumulative[1]
    residual = derivation.read_weight_total - sympy.Min(1, top)
    return [
        (name, sympy.expand(residual.subs(top, value)))
        for name, value in (("C[1] ≤ 1", 1 - _p), ("C[1] ≥ 1", 1 + _p))
    ]


# ---------------------------------------------------------------------------
# Every depth, by induction on the number of rows
# ---------------------------------------------------------------------------
#
# A row's update reads only its own strength s and the strength c of the rows covering it
# (above it in a stack, below it in a queue): ``pop_row(s, c, u)``, ``read_row(s, c)``.
# So a structure of n + 1 rows is one of n rows (unchanged by the new row underneath it)
# plus a new row covered by all n of them, with c = R, their total strength. The hypothesis
# for n rows is a statement about R only, and the step is an identity in (s, R, u) that
# sympy decides on each region of a parametrisation by non-negative p, q, r.

_R = sympy.Symbol("R", nonnegative=True)
"""The total strength of the rows covering the new row (the n rows of the hypothesis)."""
_k = sympy.Symbol("k", integer=True, nonnegative=True)
"""R = 1 + k: some rows covering the new one are live (discrete limit)."""


def total_law(total: Expr, pop: Expr) -> Expr:
    """max(0, total − u): the claimed total strength after popping u (before the push)."""
    return sympy.Max(0, total - pop)


def read_total_law(total: Expr) -> Expr:
    """min(1, total): the claimed sum of the read weights."""
    return sympy.Min(1, total)


def pop_induction_residuals() -> list[tuple[str, Expr]]:
    """Base (no rows) and step of Σ_i (strength after popping u) = max(0, total − u).

    Base: an empty structure pops nothing, total 0 = max(0, 0 − u) for u ≥ 0. Step: the new
    row keeps ``pop_row(s, R, u)``, the n rows keep max(0, R − u) in all (hypothesis); the
    sum minus max(0, s + R − u) on the regions u ≤ R; R ≤ u ≤ R + s; u ≥ R + s.
    """
    base = _sum(pop_from_top([], _p)) - total_law(_sum([]), _p)  # u = p ≥ 0
    step = pop_row(_s, _R, _u) + total_law(_R, _u) - total_law(_s + _R, _u)
    regions = (
        ("u ≤ R", {_u: _p, _R: _p + _q, _s: _r}),
        ("R ≤ u ≤ R + s", {_R: _p, _u: _p + _q, _s: _q + _r}),
        ("u ≥ R + s", {_R: _p, _s: _q, _u: _p + _q + _r}),
    )
    return [("no rows (u ≥ 0)", sympy.expand(base))] + [
        (f"step, {name}", sympy.expand(step.subs(rule))) for name, rule in regions
    ]


def read_induction_residuals() -> list[tuple[str, Expr]]:
    """Base (no rows) and step of Σ_i (read weight of row i) = min(1, total).

    Step: ``read_row(s, R)`` + min(1, R) (hypothesis) − min(1, s + R) on R ≥ 1;
    R ≤ 1 ≤ R + s; R + s ≤ 1 (each written with non-negative p, q, r).
    """
    base = _sum(read_weights_from_top([])) - read_total_law(_sum([]))
    step = read_row(_s, _R) + read_total_law(_R) - read_total_law(_s + _R)
    regions = (
        ("R ≥ 1", {_R: 1 + _p, _s: _q}),
        ("R ≤ 1 ≤ R + s", {_R: 1 - _p, _s: _p + _q}),
        ("R + s ≤ 1", {_R: 1 - _q - _r, _s: _q}),
    )
    return [("no rows", sympy.expand(base))] + [
        (f"step, {name}", sympy.expand(step.subs(rule))) for name, rule in regions
    ]


def unfolds_by_one_row(kind: str, depth: int) -> bool:
    """True if a (depth + 1)-row pop and read are the depth-row ones plus the covered new row.

    Stack: the new row is at the bottom, covered by all rows above; queue: at the top,
    covered by all rows below. Generic symbols s0..s_depth and u: an identity check of
    the structure the induction uses (``pop_row``/``read_row`` with c = Σ of the others).
    """
    strengths = list(sympy.symbols(f"s0:{depth + 1}", nonnegative=True))
    new, others = (
        (strengths[0], strengths[1:]) if kind == "stack" else (strengths[-1], strengths[:-1])
    )
    pop_all = pop_from_top if kind == "stack" else pop_from_bottom
    read_all = read_weights_from_top if kind == "stack" else read_weights_from_bottom
    covering = _sum(others)
    new_pop, new_read = pop_row(new, covering, _u), read_row(new, covering)
    if kind == "stack":
        expected_pop = [new_pop, *pop_all(others, _u)]
        expected_read = [new_read, *read_all(others)]
    else:
        expected_pop = [*pop_all(others, _u), new_pop]
        expected_read = [*read_all(others), new_read]
    return pop_all(strengths, _u) == expected_pop and read_all(strengths) == expected_read


def discrete_pop_target(strength: int, covering_live: Expr, pop: int) -> Expr:
    """The new row after a discrete pop (a list's ``pop()`` of its last live element).

    The row is removed only if it is live (strength 1), no live row covers it
    (``covering_live`` = 0) and the pop bit is 1; otherwise it keeps its strength.
    """
    removed = strength == 1 and covering_live == 0 and pop == 1
    return sympy.Integer(0 if removed else strength)


def discrete_read_target(strength: int, covering_live: Expr) -> Expr:
    """The new row's read weight in a discrete structure: 1 iff it is the live row read."""
    return sympy.Integer(1 if strength == 1 and covering_live == 0 else 0)


def discrete_induction_residuals() -> list[tuple[str, Expr]]:
    """``pop_row``/``read_row`` minus the discrete targets, for strengths and pops in {0, 1}.

    The number of live rows covering the new one is 0 or R = 1 + k for a symbolic k ≥ 0
    (every depth). Returns one (case, residual) per combination.
    """
    residuals: list[tuple[str, Expr]] = []
    for covering in (sympy.Integer(0), 1 + _k):
        for strength in (0, 1):
            for pop in (0, 1):
                continuous = pop_row(sympy.Integer(strength), covering, sympy.Integer(pop))
                target = discrete_pop_target(strength, covering, pop)
                residuals.append(
                    (f"pop: s = {strength}, u = {pop}, covering {covering}", continuous - target)
                )
            read = read_row(sympy.Integer(strength), covering)
            residuals.append(
                (
                    f"read: s = {strength}, covering {covering}",
                    read - discrete_read_target(strength, covering),
                )
            )
    return residuals


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
