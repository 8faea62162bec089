"""Exercise 8-2: D(qᵀk) = d_k σ⁴ and E[qᵀk] = 0 in the book's case, so D(qᵀk/√d_k) = σ⁴.

Moments of one term q_i k_i by ``sympy.stats`` (independent Normal
components with means μ_q, μ_k and variances σ_q², σ_k²); the sum over d_k
terms for a symbolic d_k as ``Sum`` over indices i, j of Cov(Y_i, Y_j), whose
off-diagonal terms sympy computes to 0 from independence (not assumed). The
book writes D(·) for the variance. The kurtosis 3 + 6/d_k used by the
statistical test ``tests/test_scaled_dot_variance.py`` is derived too, for symbolic
d_k: E[S⁴] is a sum over the 15 set partitions of the four factor positions (the
pattern of equal indices), each with d_k (d_k − 1) ⋯ tuples and the product of the
blocks' moments E[Y^{|B|}]; brute-force expansions at d_k = 2, 3 cross-check it. Each
hypothesis (independence, zero mean) is dropped in a checked counterexample.
"""

import itertools
from collections import Counter

import sympy
import sympy.stats as stats

from proofs._narrate import Derivation
from spec import scaled_dot_variance as sv


def _counterexamples(d: Derivation) -> None:
    """Drop independence, then zero mean: the book's conclusion fails."""
    q = stats.Normal("q_c", 0, 1)
    dependent = sympy.simplify(stats.variance(q * q))
    d.step("Without independence: take k_i = q_i ∼ N(0, 1); then D(q_i k_i) = D(q_i²)", dependent)
    d.check_true("D(q_i²) = 2 ≠ σ⁴ = 1: independence is needed", dependent == 2, strength="finite")
    moments = sv.sum_moments()
    shifted = moments.scaled_variance.subs({sv.mu_q: 1, sv.mu_k: 1, sv.sigma_q: 1, sv.sigma_k: 1})
    d.step("Without zero means: μ_q = μ_k = 1, σ_q = σ_k = 1 gives D(qᵀk/√d_k)", shifted)
    d.check_true("D(qᵀk/√d_k) = 3 ≠ 1 when the means are not 0", shifted == 3, strength="finite")
    mean_nonzero = moments.mean.subs({sv.mu_q: 1, sv.mu_k: 1})
    d.check_true(
        "and E[qᵀk] = d_k grows with d_k instead of being 0",
        sympy.simplify(mean_nonzero) == sv.d_k,
        strength="finite",
    )


def _pattern_counts(size: int) -> Counter[frozenset[frozenset[int]]]:
    """How many index tuples in {1..size}⁴ have each pattern (positions grouped by equal index)."""
    counts: Counter[frozenset[frozenset[int]]] = Counter()
    for indices in itertools.product(range(size), repeat=4):
        blocks = {i: frozenset(p for p in range(4) if indices[p] == i) for i in set(indices)}
        counts[frozenset(blocks.values())] += 1
    return counts


def _kurtosis(d: Derivation) -> None:
    """E[S⁴] for S = Σ_{i=1}^{d_k} Y_i by counting index patterns; κ(qᵀk) = 3 + 6/d_k."""
    kurt = sv.kurtosis_derivation()
    d.step(
        "For the statistical test: moments of Y = q_i k_i, q_i, k_i ∼ N(0, 1) (sympy.stats): "
        "E[Y], E[Y²], E[Y³], E[Y⁴]",
        sympy.Tuple(kurt.first_moment, kurt.second_moment, kurt.third_moment, kurt.fourth_moment),
    )
    d.check_equal(
        "kurtosis of a product of two standard normals, E[Y⁴]/E[Y²]² = 9 (= 3 · 3)",
        kurt.product_kurtosis,
        9,
        strength="symbolic",
    )
    partitions = sv.set_partitions((0, 1, 2, 3))
    d.step(
        "E[S⁴] = Σ over (i_1, …, i_4) ∈ {1..d_k}⁴ of E[Y_{i_1} ⋯ Y_{i_4}]. Group the tuples by "
        f"their pattern, the set partition of the four positions by equal index ({len(partitions)} "
        "patterns): (d_k)_{|π|} = d_k (d_k − 1) ⋯ tuples have pattern π, and each has "
        "expectation Π_{blocks B} E[Y^{|B|}] (distinct indices are independent). The counts sum to",
        sympy.factor(sv.pattern_count_total(4, sv.d_k)),
    )
    d.check_equal(
        "every one of the d_k⁴ tuples has exactly one pattern: Σ_π (d_k)_{|π|} = d_k⁴",
        sv.pattern_count_total(4, sv.d_k),
        sv.d_k**4,
        strength="symbolic",
    )
    for size in (1, 2, 3, 4):
        counts = _pattern_counts(size)
        d.check_true(
            f"d_k = {size}: enumerating {{1..{size}}}⁴, each pattern π has (d_k)_|π| tuples",
            all(
                counts[frozenset(frozenset(b) for b in p)]
                == int(sv.falling_factorial(sympy.Integer(size), len(p)))
                for p in partitions
            ),
            strength="finite",
        )
    shapes = Counter(tuple(sorted((len(b) for b in p), reverse=True)) for p in partitions)

    def row(shape: tuple[int, ...], number: int) -> str:
        tuples = sympy.factor(sv.falling_factorial(sv.d_k, len(shape)))
        moment = sympy.Mul(*(sv.moment_symbols[size - 1] for size in shape))
        return f"{'+'.join(map(str, shape))}: {number} × {tuples} × {moment}"

    d.note(
        "Patterns by block sizes (set partitions of that shape × tuples each × expectation "
        "each): " + "; ".join(row(shape, number) for shape, number in sorted(shapes.items()))
    )
    m1, m2, _m3, m4 = sv.moment_symbols
    d.step(
        "E[S⁴] for symbolic d_k in generic moments m_r = E[Y^r] (no pattern assumed to vanish)",
        kurt.generic_sum_fourth_moment,
    )
    d.check_zero("E[Y] = E[q_i] E[k_i] = 0 (sympy.stats)", kurt.first_moment, strength="symbolic")
    d.check_equal(
        "with m₁ = 0 the count gives the textbook E[S⁴] = d_k m₄ + 3 d_k (d_k − 1) m₂² "
        "(every pattern with an index occurring once vanishes)",
        kurt.generic_sum_fourth_moment.subs(m1, 0),
        sv.fourth_moment_target(m2, m4, sv.d_k),
        strength="symbolic",
    )
    d.check_equal(
        "E[S²] by the same count (two positions) is D(qᵀk) derived above, book case σ = 1",
        kurt.generic_sum_second_moment.subs({m1: 0, m2: kurt.second_moment}),
        sv.book_case(sv.sum_moments().variance).subs(sv.sigma, 1),
        strength="symbolic",
    )
    d.step("With the moments of Y substituted, E[S⁴] =", kurt.sum_fourth_moment)
    d.check_equal(
        "the Kronecker-delta table of E[Y_a Y_b Y_c Y_e] summed over four symbolic indices "
        "gives the same E[S⁴]",
        kurt.table_sum_fourth_moment,
        kurt.sum_fourth_moment,
        strength="symbolic",
    )
    for size in (2, 3):
        terms = [stats.Normal(f"q_{i}", 0, 1) * stats.Normal(f"k_{i}", 0, 1) for i in range(size)]
        direct = sympy.expand(stats.E(sympy.Add(*terms) ** 4))
        d.check_equal(
            f"cross-check at d_k = {size}: E[(Y_1 + … + Y_{size})⁴] by sympy.stats (brute-force "
            "expansion) equals the count",
            direct,
            kurt.sum_fourth_moment.subs(sv.d_k, size),
            strength="finite",
        )
    d.check_equal(
        "kurtosis of qᵀk = E[S⁴]/E[S²]² = 3 + 6/d_k (the test's bound)",
        kurt.sum_kurtosis,
        sv.kurtosis_target(sv.d_k),
        strength="symbolic",
    )


def main() -> None:
    """Derive the mean and variance of qᵀk and of the scaled score qᵀk/√d_k."""
    d = Derivation(
        "Exercise 8-2: the scaled dot product qᵀk/√d_k has mean 0 and variance σ⁴ (= 1 for σ = 1)",
        "exercise 8-2; book §8.2 (scaled dot-product score); D(·) is the variance",
    )
    d.claim(
        sympy.Eq(
            sympy.Function("D")(sympy.Symbol("qᵀk") / sympy.sqrt(sv.d_k)),
            sv.sigma**4,
            evaluate=False,
        ),
        "for q, k ∈ R^{d_k} (d_k symbolic) with independent components, mean 0 and variance "
        "σ²: E[qᵀk] = 0, D(qᵀk) = d_k σ⁴, D(qᵀk/√d_k) = σ⁴.",
    )
    moments = sv.product_moments()
    d.step(
        "Components q_i ∼ N(μ_q, σ_q²), k_i ∼ N(μ_k, σ_k²), all independent; E[q_i k_i] "
        "by sympy.stats",
        moments.mean,
    )
    d.check_equal("E[q_i k_i] = μ_q μ_k", moments.mean, sv.mu_q * sv.mu_k, strength="symbolic")
    d.step("D(q_i k_i) by sympy.stats", moments.variance)
    d.check_equal(
        "D(q_i k_i) = (σ_q² + μ_q²)(σ_k² + μ_k²) − μ_q²μ_k² (the book's form)",
        moments.variance,
        sv.book_variance_formula(),
        strength="symbolic",
    )
    d.step(
        "Two different terms i ≠ j involve disjoint independent variables: "
        "Cov(q_i k_i, q_j k_j) by sympy.stats",
        moments.cross_covariance,
    )
    d.check_zero("Cov(q_i k_i, q_j k_j), i ≠ j", moments.cross_covariance, strength="symbolic")

    sums = sv.sum_moments()
    i, j = sympy.symbols("i j", integer=True)
    d.step(
        "E[qᵀk] = Σ_{i=1}^{d_k} E[q_i k_i] (linearity), summed by sympy for symbolic d_k",
        sympy.Eq(sympy.Sum(moments.mean, (i, 1, sv.d_k)), sums.mean, evaluate=False),
    )
    d.check_equal(
        "E[qᵀk] = d_k μ_q μ_k", sums.mean, sv.d_k * sv.mu_q * sv.mu_k, strength="symbolic"
    )
    covariance_ij = sympy.Symbol("D(Y)") * sympy.KroneckerDelta(i, j) + sympy.Symbol(
        "Cov_(i≠j)"
    ) * (1 - sympy.KroneckerDelta(i, j))
    d.step(
        "D(qᵀk) = Σ_i Σ_j Cov(Y_i, Y_j), Y_i = q_i k_i, with Cov(Y_i, Y_j) = D(Y) on the "
        "diagonal and the cross covariance (derived 0 above) off it",
        sympy.Sum(covariance_ij, (i, 1, sv.d_k), (j, 1, sv.d_k)),
    )
    d.check_equal(
        "D(qᵀk) = d_k · D(q_i k_i)", sums.variance, sv.d_k * moments.variance, strength="symbolic"
    )
    d.step(
        "Scaling: D(c·X) / D(X) by sympy.stats for a constant c > 0 (X = q_i k_i)",
        moments.scale_factor,
    )
    d.check_equal(
        "D(c·X) = c² D(X)",
        moments.scale_factor,
        sympy.Symbol("c", positive=True) ** 2,
        strength="symbolic",
    )
    d.step("So D(qᵀk/√d_k) = D(qᵀk)/d_k", sums.scaled_variance)
    d.check_equal(
        "D(qᵀk/√d_k) = D(q_i k_i)", sums.scaled_variance, moments.variance, strength="symbolic"
    )

    d.note("The book's case μ_q = μ_k = 0, σ_q = σ_k = σ:")
    d.check_zero("E[qᵀk]", sv.book_case(sums.mean), strength="symbolic")
    d.check_equal(
        "D(qᵀk) = d_k σ⁴", sv.book_case(sums.variance), sv.d_k * sv.sigma**4, strength="symbolic"
    )
    d.check_equal(
        "D(qᵀk/√d_k) = σ⁴", sv.book_case(sums.scaled_variance), sv.sigma**4, strength="symbolic"
    )
    d.check_equal(
        "σ = 1: D(qᵀk/√d_k) = 1",
        sv.book_case(sums.scaled_variance).subs(sv.sigma, 1),
        1,
        strength="symbolic",
    )
    d.note(
        "Without the 1/√d_k, D(qᵀk) = d_k grows with the dimension and pushes softmax into "
        "saturation, where its Jacobian vanishes (proofs.softmax_saturation)."
    )

    _kurtosis(d)

    d.note("Hypotheses dropped one at a time:")
    _counterexamples(d)
    d.qed()


if __name__ == "__main__":
    main()
