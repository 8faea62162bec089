"""Symbolic softmax: weights, shift invariance, Jacobian and saturation, derived by sympy.

Book: §8.2 (the attention distribution α_n = softmax_n(s_n)) and exercise 8-2
(the Jacobian diag(α) − ααᵀ vanishes when the softmax saturates). The twin of
``impl.softmax``. Nothing here is typed in as an answer: the Jacobian is what
``sympy.diff`` returns, sums are reduced by sympy, limits are ``sympy.limit``.

Two kinds of expression:

* **Concrete N** (``softmax``, ``log_softmax``, ``softmax_jacobian`` of a
  sequence of logit expressions, and the ``*_expr``/``*_matrix`` helpers that
  return ``(symbols, expression)`` ready for ``sympy.lambdify``).
* **Symbolic N** (``SymbolicSoftmax``): logits are an ``IndexedBase`` s, the
  indices ``i, j, k`` are ``Idx`` objects ranging over 0..N−1 and the
  partition function is ``Sum(exp(s[j]), (j, 0, N − 1))``.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache

import sympy

# ---------------------------------------------------------------------------
# Concrete N
# ---------------------------------------------------------------------------


def logit_symbols(size: int, name: str = "s") -> tuple[sympy.Symbol, ...]:
    """Real symbols s_0, …, s_{N−1} for N = ``size`` logits."""
    if size < 1:
        raise ValueError(f"size must be at least 1, got {size}")
    return tuple(sympy.Symbol(f"{name}_{n}", real=True) for n in range(size))


def softmax(logits: Sequence[sympy.Expr]) -> sympy.MatrixBase:
    """Column of softmax weights α_n = exp(s_n) / Σ_j exp(s_j) of the given logits.

    Book: §8.2, attention distribution. ``logits`` may be any expressions
    (e.g. t·s_n for the saturation argument).
    """
    partition = sum((sympy.exp(s) for s in logits), sympy.S.Zero)
    return sympy.Matrix([sympy.exp(s) / partition for s in logits])


def log_softmax(logits: Sequence[sympy.Expr]) -> sympy.MatrixBase:
    """Column of log-weights log α_n = s_n − log Σ_j exp(s_j)."""
    partition = sum((sympy.exp(s) for s in logits), sympy.S.Zero)
    return sympy.Matrix([s - sympy.log(partition) for s in logits])


def softmax_jacobian(logits: Sequence[sympy.Symbol]) -> sympy.MatrixBase:
    """Jacobian ∂α_i/∂s_j, obtained by differentiating ``softmax(logits)`` (sympy.diff).

    Entry [i, j] is ∂α_i/∂s_j, matching ``impl.softmax.softmax_jacobian``.
    """
    return softmax(logits).jacobian(sympy.Matrix(list(logits)))


def softmax_jacobian_closed_form(logits: Sequence[sympy.Expr]) -> sympy.MatrixBase:
    """The closed form diag(α) − ααᵀ, built from the weights (the claim, not the derivation)."""
    alpha = softmax(logits)
    return sympy.diag(*alpha) - alpha @ alpha.T


def softmax_expr(size: int) -> tuple[tuple[sympy.Symbol, ...], sympy.MatrixBase]:
    """(logit symbols, softmax column) for N = ``size``, for ``sympy.lambdify``."""
    s = logit_symbols(size)
    return s, softmax(s)


def log_softmax_expr(size: int) -> tuple[tuple[sympy.Symbol, ...], sympy.MatrixBase]:
    """(logit symbols, log-softmax column) for N = ``size``, for ``sympy.lambdify``."""
    s = logit_symbols(size)
    return s, log_softmax(s)


@cache
def softmax_jacobian_matrix(size: int) -> tuple[tuple[sympy.Symbol, ...], sympy.MatrixBase]:
    """(logit symbols, derived Jacobian ∂α_i/∂s_j) for N = ``size``, for ``sympy.lambdify``."""
    s = logit_symbols(size)
    return s, softmax_jacobian(s)


# ---------------------------------------------------------------------------
# Symbolic N
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class SymbolicSoftmax:
    """Softmax of N logits for a symbolic N: α_i = exp(s[i]) / Σ_j exp(s[j])."""

    size: sympy.Symbol
    logits: sympy.IndexedBase
    i: sympy.Idx
    j: sympy.Idx
    k: sympy.Idx

    @property
    def partition(self) -> sympy.Expr:
        """Z = Σ_{j=0}^{N−1} exp(s[j])."""
        return sympy.Sum(sympy.exp(self.logits[self.j]), (self.j, 0, self.size - 1))

    def weight(self, index: sympy.Expr) -> sympy.Expr:
        """α_index = exp(s[index]) / Z."""
        return sympy.exp(self.logits[index]) / self.partition

    def log_weight(self, index: sympy.Expr) -> sympy.Expr:
        """log α_index = s[index] − log Z (the logarithm of ``weight``, expanded)."""
        return self.logits[index] - sympy.log(self.partition)

    def shift(self, expr: sympy.Expr, constant: sympy.Expr) -> sympy.Expr:
        """``expr`` with every logit s[·] replaced by s[·] + constant."""
        base = self.logits
        return expr.replace(
            lambda e: isinstance(e, sympy.Indexed) and e.base == base,
            lambda e: e + constant,
        )

    def in_range(self, expr: sympy.Expr) -> sympy.Expr:
        """Resolve the range conditions sympy attaches to KroneckerDelta sums.

        ``Sum(f(j) δ(j, k), (j, 0, N − 1)).doit()`` is ``Piecewise((f(k), N ≥ k + 1), …)``.
        Our free indices i, k range over 0..N−1, so every such condition holds:
        we substitute N = index + 1 + m with m ≥ 0 (m a fresh non-negative
        integer) into each condition and keep the first branch that becomes True.
        """
        extra = sympy.Symbol("m_extra", integer=True, nonnegative=True)
        indices = (self.i, self.k)

        def holds(condition: sympy.Basic) -> bool:
            if condition == sympy.true:
                return True
            present = [idx for idx in indices if condition.has(idx)]
            if len(present) != 1:
                return False
            # Note: replace the Idx by a plain symbol first; an Idx carries N in its range.
            plain = sympy.Symbol("p_index", integer=True, nonnegative=True)
            as_plain = condition.xreplace({present[0]: plain})
            return bool(sympy.simplify(as_plain.subs(self.size, plain + 1 + extra)) == sympy.true)

        def pick(piecewise: sympy.Basic) -> sympy.Basic:
            for branch in piecewise.args:
                value, condition = branch.args
                if holds(condition):
                    return value
            return piecewise

        return expr.replace(lambda e: isinstance(e, sympy.Piecewise), pick)

    def canonical(self, expr: sympy.Expr) -> sympy.Expr:
        """Rename the bound index of every innermost single sum to j.

        Σ_k exp(s[k]) and Σ_j exp(s[j]) are the same number but different
        sympy trees; after renaming, the ratio cancels structurally.
        """
        j = self.j

        def is_leaf(e: sympy.Basic) -> bool:
            return (
                isinstance(e, sympy.Sum)
                and len(e.limits) == 1
                and not e.function.has(sympy.Sum)
                and not e.function.has(j)
            )

        def rename(e: sympy.Basic) -> sympy.Basic:
            assert isinstance(e, sympy.Sum)
            bound, low, high = e.limits[0]
            return sympy.Sum(e.function.xreplace({bound: j}), (j, low, high))

        return expr.replace(is_leaf, rename)

    def reduce(self, expr: sympy.Expr) -> sympy.Expr:
        """doit → resolve index ranges → pull constants out of sums → rename → simplify."""
        done = self.in_range(sympy.expand(sympy.sympify(expr).doit()))
        factored = sympy.factor_terms(done)
        return sympy.simplify(self.canonical(factored))


@cache
def symbolic_softmax() -> SymbolicSoftmax:
    """The symbolic-N softmax (N a positive integer symbol, logits s an IndexedBase)."""
    size = sympy.Symbol("N", integer=True, positive=True)
    logits = sympy.IndexedBase("s", real=True)
    i, j, k = (sympy.Idx(name, size) for name in ("i", "j", "k"))
    return SymbolicSoftmax(size, logits, i, j, k)


def weights_total() -> tuple[sympy.Expr, sympy.Expr]:
    """(Σ_i α_i as written, its reduction by sympy) for symbolic N."""
    sm = symbolic_softmax()
    total = sympy.Sum(sm.weight(sm.i), (sm.i, 0, sm.size - 1))
    return total, sm.reduce(total)


def shift_residual() -> tuple[sympy.Expr, sympy.Expr]:
    """(α_i(s + c) − α_i(s) as written, its reduction) for symbolic N and real c."""
    sm = symbolic_softmax()
    c = sympy.Symbol("c", real=True)
    residual = sm.shift(sm.weight(sm.i), c) - sm.weight(sm.i)
    return residual, sm.reduce(residual)


def symbolic_jacobian_entry() -> sympy.Expr:
    """∂α_i/∂s[k] for symbolic N, differentiated by sympy (KroneckerDelta sums done)."""
    sm = symbolic_softmax()
    derivative: sympy.Expr = sympy.diff(sm.weight(sm.i), sm.logits[sm.k])
    return sm.in_range(derivative.doit())


def symbolic_jacobian_closed_form() -> sympy.Expr:
    """The claimed closed form α_i (δ_ik − α_k) for symbolic N."""
    sm = symbolic_softmax()
    return sm.weight(sm.i) * (sympy.KroneckerDelta(sm.i, sm.k) - sm.weight(sm.k))


def symbolic_jacobian_row_sum() -> tuple[sympy.Expr, sympy.Expr]:
    """(Σ_k ∂α_i/∂s[k] as written, its reduction) for symbolic N."""
    sm = symbolic_softmax()
    row_sum = sympy.Sum(symbolic_jacobian_entry(), (sm.k, 0, sm.size - 1))
    return row_sum, sm.reduce(row_sum)


# ---------------------------------------------------------------------------
# Saturation (exercise 8-2)
# ---------------------------------------------------------------------------

temperature_scale = sympy.Symbol("t", positive=True)
"""The scale t > 0 multiplying the logits (t → ∞ saturates the softmax)."""


def scaled_softmax_jacobian(
    logits: Sequence[sympy.Expr],
) -> tuple[sympy.Symbol, sympy.MatrixBase]:
    """(t, Jacobian of α(t·s) with respect to the scaled logits, at the given logits).

    The Jacobian is derived by differentiation in fresh symbols u_n, then
    evaluated at u_n = t·s_n for the given (concrete) logits s_n.
    """
    u = logit_symbols(len(logits), "u")
    jacobian = softmax_jacobian(u)
    t = temperature_scale
    at_scaled = jacobian.subs({un: t * sn for un, sn in zip(u, logits, strict=True)})
    return t, at_scaled


def saturation_limit(logits: Sequence[sympy.Expr]) -> sympy.MatrixBase:
    """Entrywise lim_{t→∞} of the softmax Jacobian at t·s (``sympy.limit``)."""
    t, jacobian = scaled_softmax_jacobian(logits)

    def limit_of(entry: sympy.Expr) -> sympy.Expr:
        return sympy.limit(entry, t, sympy.oo)

    return jacobian.applyfunc(limit_of)


def saturation_tail_bound() -> tuple[sympy.Symbol, sympy.Symbol, sympy.Expr, sympy.Expr]:
    """(N, Δ, bound (N − 1)·exp(−tΔ) on 1 − α_max, its limit as t → ∞) for symbolic N.

    With a unique maximum s_m and gap Δ = s_m − max_{j≠m} s_j > 0, every
    other weight is α_j = e^{t(s_j − s_m)}/Σ_n e^{t(s_n − s_m)} ≤ e^{−tΔ}, so
    1 − α_m ≤ (N − 1) e^{−tΔ}; the sum of the N − 1 bounds and the limit are computed by
    sympy.
    """
    size = sympy.Symbol("N", integer=True, positive=True)
    gap = sympy.Symbol("Delta", positive=True)
    t = temperature_scale
    other = sympy.Symbol("j", integer=True, positive=True)
    # U = Σ_{j≠m} e^{t(s_j − s_m)} ≤ Σ_{j≠m} e^{−tΔ}: N − 1 equal terms, summed by sympy.
    bound: sympy.Expr = sympy.Sum(sympy.exp(-t * gap), (other, 1, size - 1)).doit()
    return size, gap, bound, sympy.limit(bound, t, sympy.oo)
