"""Exercise 8-2: the mean and variance of qᵀk, derived with sympy.stats and index sums.

Book: exercise 8-2 and §8.2 (scaled dot-product score). The book writes D(·)
for the variance. Every moment here is computed by ``sympy.stats`` from the
distributions, and the sums over d_k terms are ``Sum`` objects over a
symbolic index whose Kronecker deltas sympy sums; nothing is typed in.
E[(qᵀk)⁴] for symbolic d_k is counted over the set partitions of the four factor
positions (``raw_moment_of_sum``), with no pattern assumed to vanish; the textbook
closed forms ``fourth_moment_target`` and ``kurtosis_target`` are the targets it is
compared with, and the Kronecker-delta ``fourth_moment_table`` a second route.

Model: q = (q_1, …, q_{d_k}), k = (k_1, …, k_{d_k}) with all components
independent, q_i ∼ N(μ_q, σ_q²), k_i ∼ N(μ_k, σ_k²). (The first two moments
of a product of independent variables depend only on the factors' means and
variances, so Normal is no loss of generality for E and D; the kurtosis used
by the statistical test is the Gaussian one.) The book's case is μ_q = μ_k = 0,
σ_q = σ_k = σ.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache

import sympy
import sympy.stats as stats

mu_q, mu_k = sympy.symbols("mu_q mu_k", seq=True, real=True)
sigma_q, sigma_k, sigma = sympy.symbols("sigma_q sigma_k sigma", seq=True, positive=True)
d_k = sympy.Symbol("d_k", integer=True, positive=True)
"""The symbolic dimension of q and k."""


def component_pair(label: str = "") -> tuple[sympy.Expr, sympy.Expr]:
    """Independent random components (q_i, k_i): N(μ_q, σ_q²) and N(μ_k, σ_k²)."""
    q = stats.Normal(f"q{label}", mu_q, sigma_q)
    k = stats.Normal(f"k{label}", mu_k, sigma_k)
    return q, k


def book_case(expr: sympy.Expr) -> sympy.Expr:
    """Substitute the book's case μ_q = μ_k = 0, σ_q = σ_k = σ."""
    substituted: sympy.Expr = sympy.sympify(expr).subs(
        {mu_q: 0, mu_k: 0, sigma_q: sigma, sigma_k: sigma}
    )
    return substituted


@dataclass(frozen=True)
class ProductMoments:
    """Moments of one term Y_i = q_i k_i, all computed by sympy.stats."""

    mean: sympy.Expr
    """E[q_i k_i]."""
    variance: sympy.Expr
    """D(q_i k_i)."""
    cross_covariance: sympy.Expr
    """Cov(q_i k_i, q_j k_j) for i ≠ j (independent pairs)."""
    scale_factor: sympy.Expr
    """D(c·q_i k_i) / D(q_i k_i) for a constant c > 0 (the quadratic scaling of D)."""


@cache
def product_moments() -> ProductMoments:
    """E, D of q_i k_i; Cov of two different terms; the scaling of D (sympy.stats)."""
    q, k = component_pair("_i")
    q_other, k_other = component_pair("_j")
    c = sympy.Symbol("c", positive=True)
    mean = sympy.simplify(stats.E(q * k))
    variance = sympy.expand(sympy.simplify(stats.variance(q * k)))
    cross = sympy.simplify(stats.covariance(q * k, q_other * k_other))
    scale = sympy.simplify(stats.variance(c * q * k) / variance)
    return ProductMoments(mean, variance, cross, scale)


def book_variance_formula() -> sympy.Expr:
    """The book's form (σ_q² + μ_q²)(σ_k² + μ_k²) − μ_q²μ_k² (the claim to compare against)."""
    formula: sympy.Expr = (sigma_q**2 + mu_q**2) * (sigma_k**2 + mu_k**2) - mu_q**2 * mu_k**2
    return formula


def resolve_index_ranges(
    expr: sympy.Expr, ranges: Sequence[tuple[sympy.Symbol, sympy.Expr, sympy.Expr]]
) -> sympy.Expr:
    """Resolve Piecewise range conditions left by summing Kronecker deltas.

    ``Sum(f(j) δ(i, j), (j, 1, d)).doit()`` is ``Piecewise((f(i), (i ≥ 1) & (i ≤ d)), …)``.
    Each index in ``ranges`` (index, low, high) is itself summed over low..high,
    so its range conditions hold. A relational atom mentioning exactly one such
    index is decided by writing index = low + p and high = low + p + m with
    p, m ≥ 0; the first Piecewise branch whose condition becomes True is kept,
    provided every earlier branch's condition became False (an undecided earlier
    branch might be the one taken, so then the Piecewise stays as it is).
    """
    p = sympy.Symbol("p_offset", integer=True, nonnegative=True)
    m = sympy.Symbol("m_offset", integer=True, nonnegative=True)

    def decide(relation: sympy.Basic) -> sympy.Basic:
        present = [r for r in ranges if relation.has(r[0])]
        if len(present) != 1:
            return relation
        index, low, high = present[0]
        decided = sympy.simplify(relation.subs(index, low + p).subs(high, low + p + m))
        return sympy.true if decided == sympy.true else relation

    def pick(piecewise: sympy.Basic) -> sympy.Basic:
        for branch in piecewise.args:
            value, condition = branch.args
            reduced = condition.replace(lambda e: bool(getattr(e, "is_Relational", False)), decide)
            decided = sympy.simplify(reduced)
            if decided == sympy.true:
                return value
            if decided != sympy.S(False):
                return piecewise
        return piecewise

    resolved: sympy.Expr = expr.replace(lambda e: isinstance(e, sympy.Piecewise), pick)
    return resolved


def nested_sum(
    summand: sympy.Expr, indices: Sequence[sympy.Symbol], size: sympy.Expr
) -> sympy.Expr:
    """Σ over every index in ``indices`` from 1 to ``size`` (innermost first), ranges resolved."""
    ranges = [(index, sympy.S.One, size) for index in indices]
    total = summand
    for index in indices:
        total = resolve_index_ranges(
            sympy.expand(sympy.Sum(total, (index, 1, size)).doit()), ranges
        )
    simplified: sympy.Expr = sympy.simplify(total)
    return simplified


@dataclass(frozen=True)
class SumMoments:
    """Moments of qᵀk = Σ_{i=1}^{d_k} q_i k_i for symbolic d_k."""

    mean: sympy.Expr
    """E[qᵀk] = Σ_i E[q_i k_i]."""
    variance: sympy.Expr
    """D(qᵀk) = Σ_i Σ_j Cov(Y_i, Y_j), diagonal terms D(Y), off-diagonal the cross covariance."""
    scaled_variance: sympy.Expr
    """D(qᵀk/√d_k) = (1/√d_k)² D(qᵀk), using the derived scaling of D."""


@cache
def sum_moments() -> SumMoments:
    """E[qᵀk], D(qᵀk), D(qᵀk/√d_k) for symbolic d_k, from ``product_moments``."""
    moments = product_moments()
    i, j = sympy.symbols("i j", seq=True, integer=True)
    mean = nested_sum(moments.mean, [i], d_k)
    delta = sympy.KroneckerDelta(i, j)
    covariance_ij = delta * moments.variance + (1 - delta) * moments.cross_covariance
    variance = sympy.factor(nested_sum(covariance_ij, [j, i], d_k))
    c = sympy.Symbol("c", positive=True)
    scale_at = moments.scale_factor.subs(c, 1 / sympy.sqrt(d_k))
    scaled = sympy.simplify(scale_at * variance)
    return SumMoments(mean, variance, scaled)


def set_partitions(items: tuple[int, ...]) -> list[tuple[tuple[int, ...], ...]]:
    """Every partition of ``items`` into non-empty blocks (15 for four items).

    Recursively: the first item either starts a block of its own or joins one block of a
    partition of the others.
    """
    if not items:
        return [()]
    first, rest = items[0], items[1:]
    partitions: list[tuple[tuple[int, ...], ...]] = []
    for partition in set_partitions(rest):
        partitions.append(((first,), *partition))
        for k in range(len(partition)):
            joined = (first, *partition[k])
            partitions.append((*partition[:k], joined, *partition[k + 1 :]))
    return partitions


def falling_factorial(n: sympy.Expr, k: int) -> sympy.Expr:
    """n (n − 1) ⋯ (n − k + 1): the number of ways to give k blocks distinct indices in 1..n."""
    product: sympy.Expr = sympy.Mul(*(n - j for j in range(k)))
    return product


moment_symbols: tuple[sympy.Symbol, ...] = sympy.symbols("m1:5", real=True)
"""Generic raw moments m_r = E[Y^r], r = 1..4, of one term Y of the sum."""


def pattern_count_total(order: int, size: sympy.Expr) -> sympy.Expr:
    """Σ over the set partitions π of {1..order} of (size)_{|π|}: should count size^order tuples."""
    total: sympy.Expr = sympy.Add(
        *(falling_factorial(size, len(p)) for p in set_partitions(tuple(range(order))))
    )
    return total


def raw_moment_of_sum(order: int, moments: Sequence[sympy.Expr], size: sympy.Expr) -> sympy.Expr:
    """E[S^order] for S = Σ_{i=1}^{size} Y_i, Y_i independent with E[Y^r] = moments[r − 1].

    E[S^k] = Σ over index tuples (i_1..i_k) ∈ {1..size}^k of E[Y_{i_1} ⋯ Y_{i_k}]. A tuple's
    pattern is the set partition of the k factor positions by equal index; (size)_{|π|}
    tuples have pattern π (distinct indices for its blocks), and for each of them the
    factors with one index form Y^{|B|}, independent across blocks, so the expectation is
    Π_{B ∈ π} E[Y^{|B|}]. Nothing is assumed about which patterns vanish.
    """
    terms = (
        falling_factorial(size, len(partition))
        * sympy.Mul(*(moments[len(block) - 1] for block in partition))
        for partition in set_partitions(tuple(range(order)))
    )
    total: sympy.Expr = sympy.expand(sympy.Add(*terms))
    return total


@dataclass(frozen=True)
class KurtosisDerivation:
    """Fourth moments behind the statistical test of the scaled score's variance."""

    first_moment: sympy.Expr
    """m₁ = E[Y] for Y = q_i k_i, q_i, k_i ∼ N(0, 1) (sympy.stats)."""
    second_moment: sympy.Expr
    """m₂ = E[Y²] (sympy.stats)."""
    third_moment: sympy.Expr
    """m₃ = E[Y³] (sympy.stats)."""
    fourth_moment: sympy.Expr
    """m₄ = E[Y⁴] (sympy.stats)."""
    product_kurtosis: sympy.Expr
    """κ(Y) = m₄ / m₂² (= E[Y⁴]/D(Y)², Y has mean 0)."""
    generic_sum_fourth_moment: sympy.Expr
    """E[S⁴] for S = Σ_{i=1}^{d_k} Y_i in the generic moments m1..m4 (set partitions)."""
    generic_sum_second_moment: sympy.Expr
    """E[S²] in the generic moments (set partitions of two positions)."""
    sum_fourth_moment: sympy.Expr
    """E[S⁴] with the moments of Y substituted."""
    table_sum_fourth_moment: sympy.Expr
    """E[S⁴] again, from ``fourth_moment_table`` summed over four symbolic indices."""
    sum_kurtosis: sympy.Expr
    """κ(S) = E[S⁴] / E[S²]² as a function of d_k (S has mean 0)."""


def fourth_moment_table(
    a: sympy.Expr, b: sympy.Expr, c: sympy.Expr, e: sympy.Expr, m2: sympy.Expr, m4: sympy.Expr
) -> sympy.Expr:
    """E[Y_a Y_b Y_c Y_e] for i.i.d. zero-mean Y with E[Y²] = m2, E[Y⁴] = m4 (a cross-check).

    A product of independent zero-mean factors has mean 0 if some index occurs
    exactly once, so only all-equal indices (m4) and two distinct pairs (m2²)
    survive; the three pairings are written with Kronecker deltas and the
    all-equal case, counted three times by them, is corrected once.
    """
    delta = sympy.KroneckerDelta
    pairs = delta(a, b) * delta(c, e) + delta(a, c) * delta(b, e) + delta(a, e) * delta(b, c)
    all_equal = delta(a, b) * delta(b, c) * delta(c, e)
    return m2**2 * pairs + (m4 - 3 * m2**2) * all_equal


@cache
def kurtosis_derivation() -> KurtosisDerivation:
    """κ(q_i k_i) for standard normals and κ(qᵀk) for symbolic d_k, by set partitions."""
    q = stats.Normal("q_s", 0, 1)
    k = stats.Normal("k_s", 0, 1)
    moments = [sympy.simplify(stats.E((q * k) ** r)) for r in (1, 2, 3, 4)]
    m1, m2, m3, m4 = moments
    generic_fourth = raw_moment_of_sum(4, moment_symbols, d_k)
    generic_second = raw_moment_of_sum(2, moment_symbols, d_k)
    values = dict(zip(moment_symbols, moments, strict=True))
    fourth = sympy.expand(generic_fourth.subs(values))
    second = sympy.expand(generic_second.subs(values))
    a, b, c, e = sympy.symbols("a b c e", integer=True)
    table = nested_sum(fourth_moment_table(a, b, c, e, m2, m4), [a, b, c, e], d_k)
    kurtosis = sympy.simplify(sympy.expand(fourth / second**2))
    return KurtosisDerivation(
        first_moment=m1,
        second_moment=m2,
        third_moment=m3,
        fourth_moment=m4,
        product_kurtosis=m4 / m2**2,
        generic_sum_fourth_moment=generic_fourth,
        generic_sum_second_moment=generic_second,
        sum_fourth_moment=fourth,
        table_sum_fourth_moment=sympy.expand(table),
        sum_kurtosis=kurtosis,
    )


def fourth_moment_target(m2: sympy.Expr, m4: sympy.Expr, size: sympy.Expr) -> sympy.Expr:
    """The textbook E[S⁴] = n E[Y⁴] + 3 n (n − 1) E[Y²]² for a sum of n i.i.d. zero-mean Y.

    Stated as the target the set-partition count is compared with: n patterns (i, i, i, i)
    and, for each of the 3 ways to pair four positions, n (n − 1) patterns (i, i, j, j).
    """
    target: sympy.Expr = size * m4 + 3 * size * (size - 1) * m2**2
    return target


def kurtosis_target(size: sympy.Expr) -> sympy.Expr:
    """κ(qᵀk) = 3 + 6/d_k for standard normal components (the statistical test's bound)."""
    target: sympy.Expr = 3 + 6 / size
    return target
