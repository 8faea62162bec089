"""Symbolic derivations for the discrete Hopfield network (exercise 8-6).

Book: §8.6.1 (Hopfield network, energy E = −½ sᵀWs − bᵀs, update rule with
ties to +1) and exercise 8-6 (the energy decreases monotonically).

Everything here is derived for a **symbolic number of neurons M**: the state,
weights and biases are ``IndexedBase`` s s_j, w_ij, b_j summed over
j = 0..M−1, and a single-neuron change is written s'_j = s_j + Δ·δ_ij with a
``KroneckerDelta``. The sums over the Kronecker delta are carried out by sympy
(``sum_out_kronecker_deltas``), under the one hypothesis that i is a neuron
index, 0 ≤ i ≤ M−1. The hypotheses of the lemma — symmetry w_ij = w_ji and a
zero diagonal w_ii = 0 — are applied by the separate, named functions
``apply_symmetry`` and ``apply_zero_diagonal`` so a proof can show exactly
where each one is used (and what is left over without it).

The module also holds exact (rational) reference semantics for small concrete
networks (``exact_*``), used by the counterexample searches. It never imports
``impl``; the tests join the two.
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import sympy

M = sympy.Symbol("M", integer=True, positive=True)
"""The number of neurons (symbolic)."""

i = sympy.Idx("i", M)
"""The index of the neuron being updated (0 ≤ i ≤ M−1)."""
j = sympy.Idx("j", M)
"""A summation index over neurons."""
k = sympy.Idx("k", M)
"""A second summation index over neurons."""

w = sympy.IndexedBase("w")
"""Weights w[i, j]: from neuron j into neuron i."""
s = sympy.IndexedBase("s")
"""The state s[j] before the update."""
b = sympy.IndexedBase("b")
"""The biases b[j]."""
DELTA = sympy.Symbol("Delta", real=True)
"""Δs_i = s'_i − s_i, the change of the updated neuron."""

S_PREV = sympy.IndexedBase("s_prev")
"""s(t−1), for the synchronous two-step Lyapunov function."""
S_NOW = sympy.IndexedBase("s_now")
"""s(t)."""
S_NEXT = sympy.IndexedBase("s_next")
"""s(t+1)."""

State = Callable[[sympy.Expr], sympy.Expr]
"""A state as a function of the neuron index: idx -> expression."""

_KRONECKER_DELTA_TYPE = type(sympy.KroneckerDelta(i, j))
"""The class of sympy's KroneckerDelta (for ``atoms``)."""

INDEX_IN_RANGE = sympy.Ge(M, i + 1)
"""The hypothesis "i is a neuron index" (i ≤ M−1; i ≥ 0 is built into the Idx)."""


# --------------------------------------------------------------------------- definitions


def current_state(idx: sympy.Expr) -> sympy.Expr:
    """The state before the update: s_idx."""
    return s[idx]


def single_flip_state(idx: sympy.Expr) -> sympy.Expr:
    """The state after changing neuron i only: s'_idx = s_idx + Δ·δ_{i,idx}."""
    return s[idx] + DELTA * sympy.KroneckerDelta(i, idx)


def energy_sum(state: State = current_state) -> sympy.Expr:
    """E(s) = −½ Σ_j Σ_k w_jk s_j s_k − Σ_j b_j s_j for symbolic M (book §8.6.1)."""
    quadratic = sympy.Sum(w[j, k] * state(j) * state(k), j, k)
    linear = sympy.Sum(b[j] * state(j), j)
    return -sympy.Rational(1, 2) * quadratic - linear


def local_field_sum() -> sympy.Expr:
    """h_i = Σ_j w_ij s_j + b_i, the field of neuron i (the sum includes j = i)."""
    return sympy.Sum(w[i, j] * s[j], j) + b[i]


def update_rule(field: sympy.Expr) -> sympy.Expr:
    """The book's update: s'_i = +1 if h_i ≥ 0 else −1 (ties go to +1)."""
    return sympy.Piecewise((sympy.Integer(1), field >= 0), (sympy.Integer(-1), True))


# --------------------------------------------------------------------------- manipulation


def _sum_out(summation: sympy.Sum) -> sympy.Expr:
    """Evaluate one Sum, summing first over a variable that occurs in a KroneckerDelta."""
    deltas = summation.function.atoms(_KRONECKER_DELTA_TYPE)
    delta_variables = {arg for delta in deltas for arg in delta.args}
    limits = sorted(summation.limits, key=lambda limit: limit[0] not in delta_variables)
    inner = sympy.Sum(summation.function, limits[0]).doit()
    if len(limits) == 1:
        return inner
    return sympy.Sum(inner, *limits[1:]).doit()


def sum_out_kronecker_deltas(expr: sympy.Expr) -> sympy.Expr:
    """Carry out Σ_j f(j) δ_ij = f(i) in every Sum, using i ∈ {0..M−1}.

    sympy returns Piecewise((f(i), i ≤ M−1), (0, True)); the hypothesis that i
    is a neuron index (``INDEX_IN_RANGE``) selects the first branch.
    """
    summed = sympy.expand(expr).replace(lambda e: isinstance(e, sympy.Sum), _sum_out)
    resolved: sympy.Expr = summed.replace(
        lambda e: isinstance(e, sympy.Piecewise), lambda p: p.subs(INDEX_IN_RANGE, True)
    )
    if resolved.has(sympy.Piecewise) or resolved.has(_KRONECKER_DELTA_TYPE):
        raise ValueError(f"could not sum out the Kronecker deltas in {resolved}")
    return resolved


def rename_dummies(expr: sympy.Expr) -> sympy.Expr:
    """Rename the dummy of every single Sum to j (Σ_k f(k) = Σ_j f(j))."""

    def rename(summation: sympy.Sum) -> sympy.Expr:
        if len(summation.limits) != 1:
            return summation
        ((variable, low, high),) = summation.limits
        return sympy.Sum(summation.function.xreplace({variable: j}), (j, low, high))

    return expr.replace(lambda e: isinstance(e, sympy.Sum), rename)


def canonical_sums(expr: sympy.Expr) -> sympy.Expr:
    """Expanded form with nested sums merged and limits in a fixed order.

    Uses Σ_i x_i Σ_j y_ij = Σ_i Σ_j x_i y_ij and that finite sums commute, so
    two equal expressions built in different ways compare equal.
    """

    def merge(summation: sympy.Sum) -> sympy.Expr:
        factors = sympy.Mul.make_args(summation.function)
        inner = [f for f in factors if isinstance(f, sympy.Sum)]
        if len(inner) == 1:
            rest = sympy.Mul(*[f for f in factors if f is not inner[0]])
            summation = sympy.Sum(rest * inner[0].function, *inner[0].limits, *summation.limits)
        limits = sorted(summation.limits, key=lambda limit: str(limit[0]))
        return sympy.Sum(sympy.expand(summation.function), *limits)

    previous = None
    while previous != expr:
        previous = expr
        expr = sympy.expand(expr).replace(lambda e: isinstance(e, sympy.Sum), merge)
    return sympy.expand(expr)


def apply_symmetry(expr: sympy.Expr) -> sympy.Expr:
    """Use the hypothesis w_ji = w_ij (for the summation index j and for the pair (i, j))."""
    return expr.xreplace({w[j, i]: w[i, j]})


def apply_zero_diagonal(expr: sympy.Expr) -> sympy.Expr:
    """Use the hypothesis w_ii = 0."""
    return expr.xreplace({w[i, i]: 0})


def at_size(expr: sympy.Expr, size: int, *, neuron: int | None = None) -> sympy.Expr:
    """``expr`` for a concrete number of neurons, with every sum written out.

    The ``Idx`` dummies carry the symbolic range M, so they are first renamed
    to plain integer symbols; then the neuron index i (if given) and M are
    substituted and the sums are evaluated.
    """
    plain = {index: sympy.Symbol(f"{index}_", integer=True) for index in (j, k) if expr.has(index)}
    result = expr.xreplace(plain)
    if neuron is not None:
        result = result.xreplace({i: neuron})
    return result.subs(M, size).doit()


# --------------------------------------------------------------------------- exercise 8-6


def energy_change_derived() -> sympy.Expr:
    """ΔE = E(s') − E(s) for s' = s + Δ e_i, derived from E's definition, no hypotheses.

    Result: −Δ b_i − ½ w_ii Δ² − ½ Δ Σ_j w_ij s_j − ½ Δ Σ_j w_ji s_j, valid for
    any weights (asymmetric, any diagonal) and any real states.
    """
    change = energy_sum(single_flip_state) - energy_sum(current_state)
    return rename_dummies(sum_out_kronecker_deltas(change))


def energy_change_with_diagonal() -> sympy.Expr:
    """The target after symmetry only: −Δ h_i − ½ w_ii Δ², h_i = Σ_j w_ij s_j + b_i."""
    return -DELTA * local_field_sum() - sympy.Rational(1, 2) * w[i, i] * DELTA**2


def energy_change_closed_form(delta: sympy.Expr, field: sympy.Expr) -> sympy.Expr:
    """The lemma's form ΔE = −Δs_i · h_i (symmetric W, zero diagonal)."""
    return -delta * field


def asymmetry_residual() -> sympy.Expr:
    """What symmetry removes: ½ Δ Σ_j (w_ij − w_ji) s_j."""
    return sympy.Rational(1, 2) * DELTA * sympy.Sum((w[i, j] - w[j, i]) * s[j], j)


@dataclass(frozen=True)
class UpdateCase:
    """One case of the update rule: old state, field, new state, Δs_i and ΔE."""

    description: str
    old_state: sympy.Expr
    field: sympy.Expr
    new_state: sympy.Expr
    delta: sympy.Expr
    energy_change: sympy.Expr


FIELD_POSITIVE_PART = sympy.Symbol("p", positive=True)
"""p > 0: a strictly negative field is written h = −p."""
FIELD_NONNEGATIVE = sympy.Symbol("q", nonnegative=True)
"""q ≥ 0: a non-negative field is written h = q (q = 0 is the tie)."""


def update_cases() -> list[UpdateCase]:
    """The four cases (s_i ∈ {±1}) × (h_i ≥ 0 or h_i < 0), evaluated by sympy.

    The new state comes from ``update_rule`` (sympy decides q ≥ 0 and −p ≥ 0
    from the symbols' assumptions), Δs_i = s'_i − s_i, and
    ΔE = ``energy_change_closed_form``(Δs_i, h_i).
    """
    cases = []
    for old in (sympy.Integer(1), sympy.Integer(-1)):
        for name, field in (
            ("h_i = q ≥ 0", FIELD_NONNEGATIVE),
            ("h_i = −p < 0", -FIELD_POSITIVE_PART),
        ):
            new = update_rule(field)
            if new.has(sympy.Piecewise):
                raise ValueError(f"the update rule is undecided for field {field}")
            delta = new - old
            cases.append(
                UpdateCase(
                    description=f"s_i = {old}, {name}",
                    old_state=old,
                    field=field,
                    new_state=new,
                    delta=delta,
                    energy_change=energy_change_closed_form(delta, field),
                )
            )
    return cases


# --------------------------------------------------------------------------- diagonal, ±1 states

OLD = sympy.Symbol("sigma", real=True)
"""σ = s_i ∈ {±1}, the old state of the updated neuron."""
NEW = sympy.Symbol("tau", real=True)
"""τ = s'_i ∈ {±1}, its new state."""
OFF_DIAGONAL_FIELD = sympy.Symbol("htilde", real=True)
"""h̃_i = Σ_{j≠i} w_ij s_j + b_i, the field without the self-coupling."""
SELF_COUPLING = sympy.Symbol("d", real=True)
"""d = w_ii, the diagonal weight of the updated neuron."""


def energy_change_split_field() -> sympy.Expr:
    """ΔE = −Δ h_i − ½ w_ii Δ² with h_i = h̃_i + w_ii s_i, Δ = τ − σ (symmetric W)."""
    target = energy_change_with_diagonal()
    split = target.xreplace(
        {local_field_sum(): OFF_DIAGONAL_FIELD + SELF_COUPLING * OLD, w[i, i]: SELF_COUPLING}
    )
    return split.xreplace({DELTA: NEW - OLD})


def energy_change_plus_minus_one() -> sympy.Expr:
    """``energy_change_split_field`` for ±1 states (σ² = τ² = 1): the diagonal drops out."""
    return sympy.expand(energy_change_split_field()).subs({OLD**2: 1, NEW**2: 1})


def diagonal_update_cases(self_coupling: sympy.Expr) -> list[UpdateCase]:
    """The flipping cases of the update with w_ii = ``self_coupling``, for ±1 states.

    The update reads the full field h = h̃ + w_ii σ; the energy changes by
    −(τ − σ) h̃ (``energy_change_plus_minus_one``). Each case writes h̃ so the
    update rule's branch is decided: σ = +1 flips iff h̃ + w_ii < 0, i.e.
    h̃ = −w_ii − p; σ = −1 flips iff h̃ − w_ii ≥ 0, i.e. h̃ = w_ii + q.
    """
    p, q = FIELD_POSITIVE_PART, FIELD_NONNEGATIVE
    general = energy_change_plus_minus_one()
    cases = []
    for old, off_field in (
        (sympy.Integer(1), -self_coupling - p),
        (sympy.Integer(-1), self_coupling + q),
    ):
        field = off_field + self_coupling * old
        new = update_rule(sympy.expand(field))
        if new.has(sympy.Piecewise):
            raise ValueError(f"the update rule is undecided for field {field}")
        change = general.subs({OLD: old, NEW: new, OFF_DIAGONAL_FIELD: off_field})
        cases.append(
            UpdateCase(
                description=f"s_i = {old} flips (h̃_i = {off_field})",
                old_state=old,
                field=field,
                new_state=new,
                delta=new - old,
                energy_change=sympy.expand(change),
            )
        )
    return cases


# --------------------------------------------------------------------------- synchronous


def two_step_lyapunov(current: sympy.IndexedBase, previous: sympy.IndexedBase) -> sympy.Expr:
    """L(t) = −s(t)ᵀ W s(t−1) − bᵀ(s(t) + s(t−1)) for symbolic M."""
    coupling = sympy.Sum(current[i] * w[i, j] * previous[j], i, j)
    linear = sympy.Sum(b[i] * (current[i] + previous[i]), i)
    return -coupling - linear


def lyapunov_difference_derived() -> sympy.Expr:
    """L(t+1) − L(t) from the definition, expanded, no hypotheses."""
    difference = two_step_lyapunov(S_NEXT, S_NOW) - two_step_lyapunov(S_NOW, S_PREV)
    return sympy.expand(difference)


def swap_dummies_of_cross_term(expr: sympy.Expr) -> sympy.Expr:
    """Rename i ↔ j in the double sum of s(t)_i w_ij s(t−1)_j (a change of dummy names)."""

    def swap(summation: sympy.Sum) -> sympy.Expr:
        f = summation.function
        if f.has(S_NOW[i]) and f.has(S_PREV[j]):
            return sympy.Sum(f.xreplace({i: j, j: i}), *summation.limits)
        return summation

    return expr.replace(lambda e: isinstance(e, sympy.Sum), swap)


def synchronous_field() -> sympy.Expr:
    """h_i(t) = Σ_j w_ij s_j(t) + b_i, the field that sets s(t+1)."""
    return sympy.Sum(w[i, j] * S_NOW[j], j) + b[i]


def lyapunov_difference_closed_form() -> sympy.Expr:
    """−Σ_i (s_i(t+1) − s_i(t−1)) (Σ_j w_ij s_j(t) + b_i)."""
    return -sympy.Sum((S_NEXT[i] - S_PREV[i]) * synchronous_field(), i)


def lyapunov_asymmetry_residual() -> sympy.Expr:
    """What symmetry removes from ΔL: Σ_i Σ_j w_ij (s_i(t) s_j(t−1) − s_i(t−1) s_j(t)).

    Renaming i ↔ j maps the summand to −w_ji (…), so the sum is 0 when w_ij = w_ji.
    """
    return sympy.Sum(w[i, j] * (S_NOW[i] * S_PREV[j] - S_PREV[i] * S_NOW[j]), i, j)


# --------------------------------------------------------------------------- Hebbian storage

N = sympy.Symbol("N", integer=True, positive=True)
"""The number of stored patterns (symbolic)."""
n = sympy.Symbol("n", integer=True, nonnegative=True)
"""The pattern index, 0 ≤ n ≤ N−1."""
x = sympy.IndexedBase("x")
"""Stored patterns: x[n, j] = x_j^(n), neuron j of pattern n (our row n)."""


def hebbian_weight(count: sympy.Expr = N) -> sympy.Expr:
    """The book's average outer product w_ij = (1/N) Σ_n x_i^(n) x_j^(n) (for i ≠ j; w_ii = 0)."""
    return sympy.Sum(x[n, i] * x[n, j], (n, 0, count - 1)) / count


PATTERN = sympy.Symbol("m", integer=True, nonnegative=True)
"""The index m of the stored pattern the network is put in."""
PATTERN_IN_RANGE = sympy.Le(PATTERN, N - 1)
"""The hypothesis "x^(m) is one of the stored patterns" (0 ≤ m ≤ N−1)."""


def pattern_overlap() -> sympy.Expr:
    """x^(n) · x^(m) = Σ_j x_j^(n) x_j^(m), the overlap of stored patterns n and m."""
    return sympy.Sum(x[n, j] * x[PATTERN, j], j)


def hebbian_field_at_pattern() -> sympy.Expr:
    """h_i at s = x^(m) for Hebbian weights with zero diagonal (no bias).

    h_i = Σ_{j≠i} w_ij x_j^(m) = Σ_j w_ij x_j^(m) − (the j = i term of the
    undiagonalised average), i.e.
    (1/N) Σ_n x_i^(n) (x^(n)·x^(m)) − (1/N) Σ_n (x_i^(n))² x_i^(m).
    """
    signal_and_crosstalk = sympy.Sum(x[n, i] * pattern_overlap(), (n, 0, N - 1)) / N
    self_term = sympy.Sum(x[n, i] ** 2 * x[PATTERN, i], (n, 0, N - 1)) / N
    return signal_and_crosstalk - self_term


def hebbian_field_orthogonal_derived() -> sympy.Expr:
    """``hebbian_field_at_pattern`` for orthogonal ±1 patterns, derived.

    Uses x^(n)·x^(m) = M δ_nm (orthogonality, with ‖x‖² = M for ±1 entries),
    (x_i^(n))² = 1, sums out the δ and resolves the range with PATTERN_IN_RANGE.
    """
    field = hebbian_field_at_pattern()
    orthogonal = field.xreplace({pattern_overlap(): M * sympy.KroneckerDelta(n, PATTERN)})
    plus_minus_one = orthogonal.xreplace({x[n, i] ** 2: 1})
    summed = plus_minus_one.doit()
    resolved: sympy.Expr = summed.replace(
        lambda e: isinstance(e, sympy.Piecewise), lambda p: p.subs(PATTERN_IN_RANGE, True)
    )
    if resolved.has(sympy.Piecewise) or resolved.has(_KRONECKER_DELTA_TYPE):
        raise ValueError(f"could not sum out the Kronecker deltas in {resolved}")
    return resolved


def hebbian_field_orthogonal_closed_form() -> sympy.Expr:
    """((M − N)/N) x_i^(m): a stored orthogonal pattern is a fixed point iff N < M."""
    return (M - N) / N * x[PATTERN, i]


# --------------------------------------------------------------------------- exact semantics


def exact_matrix(rows: Sequence[Sequence[int | sympy.Rational]]) -> sympy.MatrixBase:
    """A sympy Matrix of exact rationals (ints and Rationals only; floats are rejected)."""
    for row in rows:
        for entry in row:
            if not isinstance(entry, int | sympy.Rational):
                raise TypeError(f"exact entries must be int or Rational, got {entry!r}")
    return sympy.Matrix(rows)


def exact_energy(
    weights: sympy.MatrixBase, bias: sympy.MatrixBase, state: sympy.MatrixBase
) -> sympy.Expr:
    """E = −½ sᵀ W s − bᵀ s in exact arithmetic (state and bias are column vectors)."""
    quadratic = (state.T * weights * state)[0, 0]
    linear = (bias.T * state)[0, 0]
    result: sympy.Expr = -sympy.Rational(1, 2) * quadratic - linear
    return result


def exact_field(
    weights: sympy.MatrixBase, bias: sympy.MatrixBase, state: sympy.MatrixBase
) -> sympy.MatrixBase:
    """h = W s + b in exact arithmetic (a column vector)."""
    return weights * state + bias


def exact_update_neuron(
    weights: sympy.MatrixBase, bias: sympy.MatrixBase, state: sympy.MatrixBase, neuron: int
) -> sympy.MatrixBase:
    """The state after updating one neuron with the book's rule (ties → +1), exactly."""
    new = sympy.Matrix(state)
    new[neuron, 0] = update_rule(exact_field(weights, bias, state)[neuron, 0])
    return new


def exact_synchronous_update(
    weights: sympy.MatrixBase, bias: sympy.MatrixBase, state: sympy.MatrixBase
) -> sympy.MatrixBase:
    """The state after updating all neurons at once (ties → +1), exactly."""
    field = exact_field(weights, bias, state)
    return field.applyfunc(update_rule)


def exact_two_step_lyapunov(
    weights: sympy.MatrixBase,
    bias: sympy.MatrixBase,
    current: sympy.MatrixBase,
    previous: sympy.MatrixBase,
) -> sympy.Expr:
    """L = −s(t)ᵀ W s(t−1) − bᵀ(s(t) + s(t−1)) in exact arithmetic."""
    return -(current.T * weights * previous)[0, 0] - (bias.T * (current + previous))[0, 0]
