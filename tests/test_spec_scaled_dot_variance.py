"""spec.scaled_dot_variance's moment counting against brute-force expansions.

Exercise 8-2 (the kurtosis behind the variance test): ``set_partitions`` and
``raw_moment_of_sum`` count E[(Y_1 + ⋯ + Y_d)^k] over index patterns; here the same
moments come from expanding the power and replacing each monomial Π y_i^{e_i} by
Π m_{e_i} (independent, identically distributed terms), with no patterns involved.
"""

import itertools
from math import factorial

import pytest
import sympy

from spec import scaled_dot_variance as spec

BELL = (1, 1, 2, 5, 15, 52)
"""Bell numbers B_0..B_5: how many set partitions n items have."""


def _expanded_moment(order: int, size: int) -> sympy.Expr:
    """E[(y_1 + ⋯ + y_size)^order] by expansion, E[y_i^e] = m_e, independent factors."""
    y = sympy.symbols(f"y1:{size + 1}")
    polynomial = sympy.Poly(sympy.expand(sympy.Add(*y) ** order), *y)

    def moment(e: int) -> sympy.Expr:
        return sympy.Integer(1) if e == 0 else spec.moment_symbols[e - 1]

    total = sympy.Add(
        *(
            coefficient * sympy.Mul(*(moment(e) for e in exponents))
            for exponents, coefficient in polynomial.terms()
        )
    )
    expanded: sympy.Expr = sympy.expand(total)
    return expanded


@pytest.mark.parametrize("n", range(len(BELL)))
def test_set_partitions_are_the_bell_number_of_distinct_partitions(n: int) -> None:
    """Each result partitions range(n) (disjoint blocks covering it), none repeats, B_n of them."""
    items = tuple(range(n))
    partitions = spec.set_partitions(items)
    assert len(partitions) == BELL[n]
    canonical = {frozenset(frozenset(block) for block in p) for p in partitions}
    assert len(canonical) == BELL[n]
    for partition in partitions:
        assert all(partition), "empty block"
        assert sorted(itertools.chain.from_iterable(partition)) == list(items)


@pytest.mark.parametrize(("order", "size"), [(k, d) for k in (1, 2, 3, 4) for d in (1, 2, 3)])
def test_raw_moment_of_sum_matches_expansion(order: int, size: int) -> None:
    """E[S^k] by set partitions = by expanding the power, in generic moments m1..m4."""
    counted = spec.raw_moment_of_sum(order, spec.moment_symbols, spec.d_k).subs(spec.d_k, size)
    assert sympy.expand(counted - _expanded_moment(order, size)) == 0


def test_falling_factorial_counts_injective_labellings() -> None:
    """(n)_k = n!/(n − k)! for n ≥ k, and 0 when there are fewer indices than blocks."""
    for n in range(6):
        for k in range(5):
            expected = factorial(n) // factorial(n - k) if k <= n else 0
            assert spec.falling_factorial(sympy.Integer(n), k) == expected


def test_kurtosis_matches_its_targets() -> None:
    """κ(qᵀk) from the count equals 3 + 6/d_k; E[S⁴] the textbook formula at m₁ = 0."""
    derivation = spec.kurtosis_derivation()
    assert sympy.simplify(derivation.sum_kurtosis - spec.kurtosis_target(spec.d_k)) == 0
    m1, m2, _, m4 = spec.moment_symbols
    generic = derivation.generic_sum_fourth_moment.subs(m1, 0)
    assert sympy.expand(generic - spec.fourth_moment_target(m2, m4, spec.d_k)) == 0


def test_fourth_moment_table_at_every_index_pattern() -> None:
    """E[Y_a Y_b Y_c Y_e] for i.i.d. zero-mean Y: m₄ when all four indices agree, m₂² for
    each of the three pairings into two distinct pairs, 0 when some index occurs once."""
    _, m2, _, m4 = spec.moment_symbols
    one, two, three = sympy.Integer(1), sympy.Integer(2), sympy.Integer(3)
    cases: dict[tuple[sympy.Integer, ...], sympy.Expr | int] = {
        (one, one, one, one): m4,
        (one, one, two, two): m2**2,
        (one, two, one, two): m2**2,
        (one, two, two, one): m2**2,
        (one, one, one, two): 0,
        (two, one, one, one): 0,
        (one, two, three, three): 0,
        (one, two, three, one): 0,
    }
    for (a, b, c, e), expected in cases.items():
        value = spec.fourth_moment_table(a, b, c, e, m2, m4)
        assert sympy.expand(value - expected) == 0, (a, b, c, e)


def test_table_route_gives_the_same_fourth_moment() -> None:
    """E[S⁴] summed from the Kronecker-delta table equals the set-partition count and the
    textbook d_k E[Y⁴] + 3 d_k (d_k − 1) E[Y²]² (with E[Y²] = 1, E[Y⁴] = 9 for Y = q_i k_i)."""
    derivation = spec.kurtosis_derivation()
    table = derivation.table_sum_fourth_moment
    assert sympy.simplify(table - derivation.sum_fourth_moment) == 0
    target = spec.fourth_moment_target(derivation.second_moment, derivation.fourth_moment, spec.d_k)
    assert sympy.simplify(table - target) == 0


def test_resolve_index_ranges_keeps_the_in_range_branch_only_for_summed_indices() -> None:
    """Σ_{j=1}^{d} f(j) δ(i, j) is f(i) once i is known to run over 1..d; an index with
    no stated range keeps its Piecewise (nothing is assumed about it)."""
    i, j = sympy.symbols("i j", integer=True)
    f = sympy.Function("f")
    summed = sympy.Sum(f(j) * sympy.KroneckerDelta(i, j), (j, 1, spec.d_k)).doit()
    assert summed.has(sympy.Piecewise)
    assert spec.resolve_index_ranges(summed, [(i, sympy.S.One, spec.d_k)]) == f(i)
    assert spec.resolve_index_ranges(summed, []) == summed
