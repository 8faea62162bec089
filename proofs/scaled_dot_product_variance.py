"""Exercise 8-2: D(qᵀk) = d_k σ⁴ and E[qᵀk] = 0 in the book's case, so D(qᵀk/√d_k) = σ⁴.

Moments of one term q_i k_i by ``sympy.stats`` (independent Normal
components with means μ_q, μ_k and variances σ_q², σ_k²); the sum over d_k
terms for a symbolic d_k as ``Sum`` over indices i, j of Cov(Y_i, Y_j), whose
off-diagonal terms sympy computes to 0 from independence (not assumed). The
book writes D(·) for the variance. The kurtosis 3 + 6/d_k used by the
statistical test ``tests/test_scaled_dot_variance.py`` is derived too. Each
hypothesis (independence, zero mean) is dropped in a checked counterexample.
"""

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

    kurt = sv.kurtosis_derivation()
    d.step(
        "For the statistical test: fourth moments of Y = q_i k_i, q_i, k_i ∼ N(0, 1) "
        "(sympy.stats): E[Y²], E[Y⁴]",
        sympy.Tuple(kurt.second_moment, kurt.fourth_moment),
    )
    d.check_equal(
        "kurtosis of a product of two standard normals, E[Y⁴]/E[Y²]² = 9",
        kurt.product_kurtosis,
        9,
        strength="symbolic",
    )
    d.step(
        "E[S⁴] for S = Σ_{i=1}^{d_k} Y_i: only index patterns with no index occurring once "
        "survive (independent zero-mean factors); summed over four symbolic indices",
        kurt.sum_fourth_moment,
    )
    y1, y2 = (
        stats.Normal("q_1", 0, 1) * stats.Normal("k_1", 0, 1),
        stats.Normal("q_2", 0, 1) * stats.Normal("k_2", 0, 1),
    )
    direct = sympy.expand(stats.E((y1 + y2) ** 4))
    d.check_equal(
        "cross-check at d_k = 2: E[(Y_1 + Y_2)⁴] by sympy.stats equals the index-sum formula",
        direct,
        kurt.sum_fourth_moment.subs(sv.d_k, 2),
        strength="finite",
    )
    d.check_equal(
        "kurtosis of qᵀk = 3 + 6/d_k", kurt.sum_kurtosis, 3 + 6 / sv.d_k, strength="symbolic"
    )

    d.note("Hypotheses dropped one at a time:")
    _counterexamples(d)
    d.qed()


if __name__ == "__main__":
    main()
