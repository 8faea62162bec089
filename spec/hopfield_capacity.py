r"""Signal-to-noise argument for the capacity of a Hebbian Hopfield network.

Book: §8.6.1, "the Hopfield network stores at most about 0.14 M patterns".
Twin: ``impl.hopfield_capacity`` (the experiment that measures what this
module predicts); narrated by ``proofs.hopfield_signal_to_noise``.

Setting. N random patterns x^(1..N) ∈ {±1}^M (the book's N; many texts call
it P), every bit an independent fair coin; Hebbian weights
w_ij = c Σ_n x_i^(n) x_j^(n) for i ≠ j, w_ii = 0, with any normalisation
c > 0 (the book's c = 1/N, many texts' c = 1/M). Evaluate the field of
neuron i at stored pattern μ, h_i = Σ_j w_ij x_j^(μ), and multiply by the
bit it should reproduce:

    x_i^(μ) h_i = c (M − 1) + c S_i,   S_i = Σ_{j≠i} Σ_{n≠μ} y_jn,
    y_jn = x_i^(μ) x_i^(n) x_j^(n) x_j^(μ)          (the crosstalk terms).

The bit is wrong after one update when x_i^(μ) h_i < 0 (or = 0 and
x_i^(μ) = −1, the book's tie rule "≥ 0 → +1"). Because c > 0 multiplies
both parts, the error event, and every ratio below, does not depend on c:
the sign dynamics is scale-free.

What is exact and what is approximate:

* exact: the decomposition; E[y] = 0, E[y²] = 1 and E[y y'] = 0 for distinct
  terms; the crosstalk mean 0 and variance c²(M − 1)(N − 1); indeed the
  K = (M − 1)(N − 1) terms are i.i.d. fair ±1 (given x^(μ) and the bits
  x_i^(n), each y_jn is a fixed sign times the fresh coin x_j^(n)), so S_i is
  exactly 2·Binomial(K, ½) − K and the exact error probability is a binomial
  tail (``exact_bit_error_probability``);
* approximate (central limit theorem): S_i ≈ Normal(0, K), giving
  P_err ≈ Φ(−SNR) = ½ erfc(SNR/√2), SNR = √((M − 1)/(N − 1));
* limit: for N = αM and M → ∞, SNR → 1/√α and P_err → ½ erfc(1/√(2α));
* heuristic: error-free recall of a whole pattern needs M·P_err → 0, which
  with the leading asymptotics of erfc gives N ≈ M/(2 ln M).
"""

import itertools
import math
from collections.abc import Callable
from functools import cache

import sympy
from sympy import stats

M = sympy.Symbol("M", integer=True, positive=True)
"""Number of neurons (the book's M)."""
N = sympy.Symbol("N", integer=True, positive=True)
"""Number of stored patterns (the book's N; P in many texts)."""
c = sympy.Symbol("c", positive=True)
"""Positive normalisation of the Hebbian weights (1/N in the book, 1/M elsewhere)."""
alpha = sympy.Symbol("alpha", positive=True)
"""The load α = N/M."""
z = sympy.Symbol("z", real=True)
"""Integration variable of the normal density."""
s = sympy.Symbol("s", positive=True)
"""A signal-to-noise ratio (threshold of the Gaussian tail)."""
kappa = sympy.Symbol("kappa", positive=True)
"""Coefficient of the load α = κ / ln M in the error-free-recall scaling."""


# --------------------------------------------------------------------------- decomposition


def aligned_field_residual(n_neurons: int, n_patterns: int, *, neuron: int = 0) -> sympy.Expr:
    r"""x_i^(μ) h_i − [c(M − 1) + c Σ_{j≠i, n≠μ} y_jn] for concrete sizes (should be 0).

    Book: §8.6.1, Hebbian weights w_ij = c Σ_n x_i^(n) x_j^(n), w_ii = 0.
    The patterns are symbols x_j_n with x² = 1 imposed by reducing every
    even power to 1 (they are ±1); μ is pattern 0. Only concrete sizes can be
    expanded: the proof states which sizes it checked.
    """
    if n_neurons < 1 or n_patterns < 1 or not 0 <= neuron < n_neurons:
        raise ValueError(
            f"need n_neurons ≥ 1, n_patterns ≥ 1, 0 ≤ neuron < n_neurons, got "
            f"{n_neurons}, {n_patterns}, {neuron}"
        )
    x = [[sympy.Symbol(f"x_{j}_{n}") for n in range(n_patterns)] for j in range(n_neurons)]
    i, mu = neuron, 0

    def w(a: int, b: int) -> sympy.Expr:
        if a == b:
            return sympy.Integer(0)
        return c * sympy.Add(*(x[a][n] * x[b][n] for n in range(n_patterns)))

    field = sympy.Add(*(w(i, j) * x[j][mu] for j in range(n_neurons)))
    aligned = sympy.expand(x[i][mu] * field)
    crosstalk = sympy.Add(
        *(
            x[i][mu] * x[i][n] * x[j][n] * x[j][mu]
            for j in range(n_neurons)
            if j != i
            for n in range(n_patterns)
            if n != mu
        )
    )
    expected = c * (n_neurons - 1) + c * crosstalk
    residual = sympy.expand(aligned - expected)
    # x ∈ {±1}: x**2 = 1, so reduce every power x**k to x**(k mod 2).
    reduce_powers = {
        p: p.base ** (int(p.exp) % 2) for p in residual.atoms(sympy.Pow) if p.exp.is_integer
    }
    reduced: sympy.Expr = sympy.expand(residual.xreplace(reduce_powers))
    return reduced


# --------------------------------------------------------------------------- moments


@cache
def crosstalk_term_moments() -> dict[str, sympy.Expr]:
    r"""Exact moments of the crosstalk terms y_jn = x_i^(μ) x_i^(n) x_j^(n) x_j^(μ).

    Computed with ``sympy.stats`` over independent Rademacher bits. Two
    distinct terms y_jn, y_j'n' share bits according to which indices agree;
    each case is a product of concrete independent Rademacher variables:

    * "mean": E[y_jn]; "square": E[y_jn²];
    * "same j, different n": y_jn y_jn' (shares x_i^(μ), x_j^(μ));
    * "different j, same n": y_jn y_j'n (shares x_i^(μ), x_i^(n));
    * "different j, different n": y_jn y_j'n' (shares x_i^(μ) only).
    """
    xi_mu, xi_n, xi_n2 = (stats.Rademacher(name) for name in ("xi_mu", "xi_n", "xi_n2"))
    xj_mu, xj_n, xj_n2 = (stats.Rademacher(name) for name in ("xj_mu", "xj_n", "xj_n2"))
    xk_mu, xk_n, xk_n2 = (stats.Rademacher(name) for name in ("xk_mu", "xk_n", "xk_n2"))
    y_jn = xi_mu * xi_n * xj_n * xj_mu
    y_jn2 = xi_mu * xi_n2 * xj_n2 * xj_mu
    y_kn = xi_mu * xi_n * xk_n * xk_mu
    y_kn2 = xi_mu * xi_n2 * xk_n2 * xk_mu
    return {
        "mean": sympy.simplify(stats.E(y_jn)),
        "square": sympy.simplify(stats.E(y_jn**2)),
        "same j, different n": sympy.simplify(stats.E(y_jn * y_jn2)),
        "different j, same n": sympy.simplify(stats.E(y_jn * y_kn)),
        "different j, different n": sympy.simplify(stats.E(y_jn * y_kn2)),
    }


def crosstalk_term_count() -> sympy.Expr:
    r"""K = Σ_{j≠i} Σ_{n≠μ} 1 = (M − 1)(N − 1), the number of crosstalk terms (symbolic)."""
    j, n = sympy.symbols("j n", seq=True, integer=True, positive=True)
    count: sympy.Expr = sympy.factor(sympy.summation(1, (j, 1, M - 1), (n, 1, N - 1)))
    return count


def _distinct_pair_moment() -> sympy.Expr:
    """The common value of E[y y'] over the three kinds of distinct pairs (checked equal)."""
    moments = crosstalk_term_moments()
    pairs = {
        moments[key]
        for key in ("same j, different n", "different j, same n", "different j, different n")
    }
    if len(pairs) != 1:
        raise ArithmeticError(f"distinct crosstalk pairs have different moments: {pairs}")
    return next(iter(pairs))


def signal() -> sympy.Expr:
    """The signal part of x_i^(μ) h_i: c (M − 1) (from n = μ, using (x_j^(μ))² = 1)."""
    return c * (M - 1)


def crosstalk_mean() -> sympy.Expr:
    r"""E[c S_i] = c K E[y] (exact; 0 for unbiased independent patterns)."""
    mean: sympy.Expr = sympy.simplify(c * crosstalk_term_count() * crosstalk_term_moments()["mean"])
    return mean


def crosstalk_variance() -> sympy.Expr:
    r"""Var[c S_i] = c² (K E[y²] + K(K − 1) E[y y'] − (K E[y])²) (exact).

    K terms on the diagonal of E[S²] = Σ_a Σ_b E[y_a y_b]; K(K − 1) ordered
    distinct pairs, all with the same moment (checked).
    """
    moments = crosstalk_term_moments()
    K = crosstalk_term_count()
    second = K * moments["square"] + K * (K - 1) * _distinct_pair_moment()
    variance: sympy.Expr = sympy.factor(sympy.expand(c**2 * (second - (K * moments["mean"]) ** 2)))
    return variance


def crosstalk_variance_one_over_m() -> sympy.Expr:
    """The crosstalk variance with the 1/M normalisation: (M − 1)(N − 1)/M²."""
    result: sympy.Expr = sympy.factor(crosstalk_variance().subs(c, 1 / M))
    return result


def crosstalk_variance_limit() -> sympy.Expr:
    """lim_{M→∞} of the 1/M-normalised crosstalk variance at N = αM: the load α."""
    at_load = crosstalk_variance_one_over_m().subs(N, alpha * M)
    M_real = sympy.Symbol("M_real", positive=True)
    result: sympy.Expr = sympy.limit(at_load.subs(M, M_real), M_real, sympy.oo)
    return result


def signal_to_noise_ratio() -> sympy.Expr:
    r"""SNR = signal / √(crosstalk variance) = √((M − 1)/(N − 1)); c cancels."""
    ratio: sympy.Expr = sympy.simplify(signal() / sympy.sqrt(crosstalk_variance()))
    return ratio


def signal_to_noise_ratio_limit() -> sympy.Expr:
    """lim_{M→∞} SNR at N = αM: 1/√α."""
    M_real = sympy.Symbol("M_real", positive=True)
    at_load = signal_to_noise_ratio().subs(N, alpha * M).subs(M, M_real)
    result: sympy.Expr = sympy.simplify(sympy.limit(at_load, M_real, sympy.oo))
    return result


# --------------------------------------------------------------------------- error probability


def normal_density() -> sympy.Expr:
    """The standard normal density φ(z) = exp(−z²/2)/√(2π)."""
    return sympy.exp(-(z**2) / 2) / sympy.sqrt(2 * sympy.pi)


def gaussian_tail() -> sympy.Expr:
    r"""Φ(−s) = ∫_{−∞}^{−s} φ(z) dz, integrated by sympy (as a function of the symbol s)."""
    tail: sympy.Expr = sympy.integrate(normal_density(), (z, -sympy.oo, -s))
    return tail


def gaussian_tail_closed_form() -> sympy.Expr:
    """½ erfc(s/√2), the closed form that ``gaussian_tail`` is compared against."""
    return sympy.erfc(s / sympy.sqrt(2)) / 2


def gaussian_tail_residual() -> sympy.Expr:
    """``gaussian_tail() − gaussian_tail_closed_form()`` written with erf and simplified (0)."""
    difference = (gaussian_tail() - gaussian_tail_closed_form()).rewrite(sympy.erf)
    residual: sympy.Expr = sympy.simplify(difference)
    return residual


def bit_error_probability_gaussian() -> sympy.Expr:
    r"""CLT approximation at finite size: P_err ≈ Φ(−SNR) = ½ erfc(√((M − 1)/(N − 1)) / √2).

    Uses the exact variance (so it carries the finite-M correction); the only
    approximation is the normal law for S_i. Defined for N ≥ 2 (N = 1 has no
    crosstalk and P_err = 0).
    """
    result: sympy.Expr = gaussian_tail_closed_form().subs(s, signal_to_noise_ratio())
    return result


def bit_error_probability_load() -> sympy.Expr:
    r"""Large-M limit: P_err(α) = Φ(−1/√α) = ½ erfc(1/√(2α))."""
    result: sympy.Expr = sympy.simplify(
        gaussian_tail_closed_form().subs(s, signal_to_noise_ratio_limit())
    )
    return result


def exact_bit_error_probability(n_neurons: int, n_patterns: int) -> sympy.Rational:
    r"""Exact one-update bit-error probability for random patterns (concrete sizes).

    S = 2B − K with B ~ Binomial(K, ½), K = (M − 1)(N − 1) (exact: the terms
    are i.i.d. fair ±1). The bit flips when M − 1 + S < 0, and at a tie
    M − 1 + S = 0 the book's rule sets +1, wrong exactly when x_i^(μ) = −1
    (probability ½, independent of S). So
    P_err = Σ_{b: 2b − K < −(M−1)} C(K, b)/2^K + ½ C(K, b*)/2^K.
    """
    if n_neurons < 1 or n_patterns < 1:
        raise ValueError(f"need n_neurons ≥ 1 and n_patterns ≥ 1, got {n_neurons}, {n_patterns}")
    K = (n_neurons - 1) * (n_patterns - 1)
    twice_wrong = 0  # 2 · (number of wrong outcomes among the 2^K), to keep the ½ exact
    binomial_coefficient = 1  # C(K, b), updated exactly as b grows
    for b in range(K + 1):
        margin = n_neurons - 1 + 2 * b - K
        if margin > 0:
            break  # larger b only increase the margin
        twice_wrong += (2 if margin < 0 else 1) * binomial_coefficient
        binomial_coefficient = binomial_coefficient * (K - b) // (b + 1)
    return sympy.Rational(twice_wrong, 2 ** (K + 1))


def enumerated_crosstalk_distribution(n_neurons: int, n_patterns: int) -> dict[int, sympy.Rational]:
    r"""Distribution of S_0 at pattern 0 by enumerating every pattern set (tiny sizes only).

    Brute force over all 2^(M·N) pattern sets; used to check that S is
    exactly 2·Binomial(K, ½) − K (joint independence, not only zero
    correlation).
    """
    if n_neurons * n_patterns > 16:
        raise ValueError(f"enumeration of 2^{n_neurons * n_patterns} pattern sets is too large")
    counts: dict[int, int] = {}
    for bits in itertools.product((-1, 1), repeat=n_neurons * n_patterns):
        x = [bits[j * n_patterns : (j + 1) * n_patterns] for j in range(n_neurons)]
        value = sum(
            x[0][0] * x[0][n] * x[j][n] * x[j][0]
            for j in range(1, n_neurons)
            for n in range(1, n_patterns)
        )
        counts[value] = counts.get(value, 0) + 1
    total = 2 ** (n_neurons * n_patterns)
    return {value: sympy.Rational(count, total) for value, count in sorted(counts.items())}


def binomial_crosstalk_distribution(n_terms: int) -> dict[int, sympy.Rational]:
    """Distribution of 2·Binomial(K, ½) − K (the sum of K i.i.d. fair ±1)."""
    return {
        2 * b - n_terms: sympy.Rational(math.comb(n_terms, b), 2**n_terms)
        for b in range(n_terms + 1)
    }


def enumerated_bit_error_probability(n_neurons: int, n_patterns: int) -> sympy.Rational:
    r"""One-update bit-error probability by enumerating every pattern set (tiny sizes).

    Computes the Hebbian field (c = 1) of neuron 0 at pattern 0 for every
    pattern set and applies the book's rule (h ≥ 0 → +1); exact rational.
    """
    if n_neurons * n_patterns > 16:
        raise ValueError(f"enumeration of 2^{n_neurons * n_patterns} pattern sets is too large")
    wrong = 0
    for bits in itertools.product((-1, 1), repeat=n_neurons * n_patterns):
        x = [bits[j * n_patterns : (j + 1) * n_patterns] for j in range(n_neurons)]
        field = sum(
            sum(x[0][n] * x[j][n] for n in range(n_patterns)) * x[j][0] for j in range(1, n_neurons)
        )
        updated = 1 if field >= 0 else -1
        wrong += updated != x[0][0]
    return sympy.Rational(wrong, 2 ** (n_neurons * n_patterns))


def load_at_error_probability(target: float | sympy.Rational, *, guess: float = 0.2) -> float:
    r"""Solve ½ erfc(1/√(2α)) = target for the load α numerically (sympy.nsolve)."""
    target_value = sympy.nsimplify(target)
    # A number's comparisons decide to sympy.true/false (a relation has no truth value).
    positive = (target_value > 0) == sympy.true
    if not (positive and (target_value < sympy.Rational(1, 2)) == sympy.true):
        raise ValueError(f"target must lie in (0, 1/2), got {target}")
    root = sympy.nsolve(bit_error_probability_load() - target_value, alpha, guess)
    return float(root)


# --------------------------------------------------------------------------- M / (2 ln M)


def erfc_tail_ratio_limit() -> sympy.Expr:
    r"""lim_{x→∞} erfc(x) · x √π · exp(x²) (= 1: erfc(x) ~ exp(−x²)/(x√π))."""
    x = sympy.Symbol("x", positive=True)
    result: sympy.Expr = sympy.limit(
        sympy.erfc(x) * x * sympy.sqrt(sympy.pi) * sympy.exp(x**2), x, sympy.oo
    )
    return result


def bit_error_probability_asymptotic() -> sympy.Expr:
    r"""Leading asymptotics of ½ erfc(1/√(2α)) as α → 0: √α exp(−1/(2α)) / √(2π)."""
    x = 1 / sympy.sqrt(2 * alpha)
    result: sympy.Expr = sympy.simplify(sympy.exp(-(x**2)) / (x * sympy.sqrt(sympy.pi)) / 2)
    return result


def error_count_exponent(*, all_patterns: bool = False) -> sympy.Expr:
    r"""lim_{M→∞} log(expected wrong bits)/log M at the load α = κ / ln M.

    Expected wrong bits = M·P_err for one pattern, or with ``all_patterns``
    N·M·P_err = (κ M / ln M)·M·P_err for all N patterns. Uses
    ``bit_error_probability_asymptotic``
    (leading term; the heuristic part of the argument). The count → 0 when the
    exponent is negative.
    """
    M_real = sympy.Symbol("M_real", positive=True)
    load = kappa / sympy.log(M_real)
    p_err = bit_error_probability_asymptotic().subs(alpha, load)
    bits = load * M_real * M_real * p_err if all_patterns else M_real * p_err
    result: sympy.Expr = sympy.simplify(
        sympy.limit(sympy.log(bits) / sympy.log(M_real), M_real, sympy.oo)
    )
    return result


def error_free_load_coefficient(*, all_patterns: bool = False) -> sympy.Expr:
    r"""The κ where ``error_count_exponent`` changes sign: ½ (one pattern), ¼ (all)."""
    roots = sympy.solve(error_count_exponent(all_patterns=all_patterns), kappa)
    if len(roots) != 1:
        raise ArithmeticError(f"expected one critical coefficient, got {roots}")
    root: sympy.Expr = roots[0]
    return root


# --------------------------------------------------------------------------- the AGS critical load

y = sympy.Symbol("y", positive=True)
"""The gain y = m/√(2αr) of the zero-temperature replica-symmetric equations."""


def ags_load_of_gain() -> sympy.Expr:
    r"""The load α(y) at which the T = 0 replica-symmetric retrieval equations have gain y.

    Amit, Gutfreund & Sompolinsky (1987), zero temperature, one condensed pattern:
    m = erf(y) with y = m/√(2αr), r = 1/(1 − C)² and C = √(2/(παr)) e^{−y²}
    (m: overlap with the pattern; r: the crosstalk variance in units of α; C:
    the susceptibility, whose Onsager reaction term lowers α_c below the naive
    signal-to-noise value). Eliminating m, r and C step by step:
    √(αr) = m/(√2 y) from the gain; C = √(2/π) e^{−y²}/√(αr); √α = √(αr)(1 − C)
    from r = 1/(1 − C)². The retrieval solution exists iff α ≤ α(y) for some y,
    so α_c = max_y α(y) (``ags_critical_load``).
    """
    m = sympy.Symbol("m", positive=True)
    sqrt_alpha_r = m / (sympy.sqrt(2) * y)  # from y = m / √(2αr)
    susceptibility = sympy.sqrt(2 / sympy.pi) * sympy.exp(-(y**2)) / sqrt_alpha_r
    sqrt_alpha = sqrt_alpha_r * (1 - susceptibility)  # √α = √(αr) · (1 − C)
    load: sympy.Expr = sympy.expand((sqrt_alpha**2).subs(m, sympy.erf(y)))
    return load


@cache
def ags_critical_load(*, guess: float = 1.5) -> tuple[float, float]:
    r"""(α_c, m_c): the maximum of ``ags_load_of_gain`` over y and the overlap erf(y*) there.

    Solves dα/dy = 0 with ``sympy.nsolve`` from ``guess`` (the maximum is near
    y ≈ 1.5, where erf(y) ≈ 0.97); returns floats to double precision.
    """
    load = ags_load_of_gain()
    gain = sympy.nsolve(sympy.diff(load, y), y, guess)
    return float(load.subs(y, gain)), float(sympy.erf(gain))


# --------------------------------------------------------------------------- finite-M anchors


def _gaussian_bit_error(n_neurons: int, n_patterns: int) -> float:
    """``bit_error_probability_gaussian`` at concrete sizes, as a float (0 for N = 1)."""
    if n_patterns == 1:
        return 0.0
    return float(_gaussian_bit_error_function()(n_neurons, n_patterns))


@cache
def _gaussian_bit_error_function() -> Callable[[int, float], float]:
    """``bit_error_probability_gaussian`` lambdified to a float function of (M, N)."""
    function: Callable[[int, float], float] = sympy.lambdify(
        (M, N), bit_error_probability_gaussian(), modules=[{"erfc": math.erfc}, "math"]
    )
    return function


def bit_error(n_neurons: int, n_patterns: int, *, law: str = "exact") -> float:
    r"""One-update bit-error probability at concrete sizes, by the exact binomial or the normal law.

    ``law="exact"``: ``exact_bit_error_probability`` (binomial crosstalk, the
    book's tie rule); ``law="gaussian"``: ``bit_error_probability_gaussian``
    (normal law with the exact finite-M variance).
    """
    if law == "exact":
        return float(exact_bit_error_probability(n_neurons, n_patterns))
    if law == "gaussian":
        return _gaussian_bit_error(n_neurons, n_patterns)
    raise ValueError(f"law must be 'exact' or 'gaussian', got {law!r}")


def fixed_point_probability(n_neurons: int, n_patterns: int, *, law: str = "exact") -> float:
    r"""(1 − P_err)^M: probability that a stored pattern is a fixed point (bits taken independent).

    A stored pattern is a fixed point of the dynamics iff none of its M bits
    flips on its first update. The M events share the crosstalk patterns, so
    treating them as independent is an approximation (the bits of one network
    are weakly correlated); P_err is ``bit_error`` with ``law``.
    """
    return (1 - bit_error(n_neurons, n_patterns, law=law)) ** n_neurons


def _load_where(
    n_neurons: int, value: Callable[[int], float], target: float, *, near: float | None = None
) -> float:
    r"""The load N/M where the increasing function ``value`` of N crosses ``target``.

    Bisection over the integers 1 ≤ N < M (starting from a bracket of ± 4 patterns
    around the load ``near`` when it is given and brackets the crossing: the exact
    law is slow at large N), then linear interpolation between the two neighbouring
    pattern counts; ``inf`` when even N = M − 1 stays below ``target``.
    """
    low, high = 1, n_neurons - 1
    if near is not None and math.isfinite(near):
        guess = round(near * n_neurons)
        a, b = max(low, guess - 4), min(high, guess + 4)
        if value(a) < target <= value(b):
            low, high = a, b
    if value(high) < target:
        return math.inf
    if value(low) >= target:
        return low / n_neurons
    while high - low > 1:  # value(low) < target ≤ value(high)
        middle = (low + high) // 2
        low, high = (middle, high) if value(middle) < target else (low, middle)
    v_low, v_high = value(low), value(high)
    return (low + (target - v_low) / (v_high - v_low)) / n_neurons


@cache
def fixed_point_load(n_neurons: int, *, law: str = "exact") -> float:
    r"""The load where ``fixed_point_probability`` falls to ½: a lower anchor for α_c at finite M.

    A recall started at a stored pattern that is a fixed point ends there with
    overlap 1, so it counts as retrieved: the retrieved fraction is at least the
    fixed-point fraction at every load, and its ½-crossing lies at or above this
    load (up to the independence approximation of ``fixed_point_probability``).
    """
    near = None if law == "gaussian" else fixed_point_load(n_neurons, law="gaussian")
    return _load_where(
        n_neurons, lambda n: 1 - fixed_point_probability(n_neurons, n, law=law), 0.5, near=near
    )


@cache
def one_step_load(n_neurons: int, wrong_fraction: float, *, law: str = "gaussian") -> float:
    r"""The load where the one-update bit-error probability reaches ``wrong_fraction``.

    At that load the median recall has lost ``wrong_fraction`` of its bits after
    the first update of every neuron already; it is an upper anchor for the load
    where half the recalls end with at most that fraction wrong, on the
    assumption that the errors of the first update do not heal later (above
    α_c the dynamics from a pattern runs away from it, AGS 1987).
    """
    near = None if law == "gaussian" else one_step_load(n_neurons, wrong_fraction, law="gaussian")
    return _load_where(
        n_neurons, lambda n: bit_error(n_neurons, n, law=law), wrong_fraction, near=near
    )


def one_step_overlap(n_neurons: int, load: float) -> float:
    r"""Expected overlap 1 − 2 P_err after one update from a stored pattern, at N = load·M.

    Normal law with the exact finite-M variance (``bit_error_probability_gaussian``),
    evaluated at a real N (the formula is smooth in N), so that a load found by
    ``one_step_load`` can be checked against its definition directly.
    """
    n_patterns = load * n_neurons
    if n_patterns <= 1:
        return 1.0
    p_err: float = _gaussian_bit_error_function()(n_neurons, n_patterns)
    return 1 - 2 * p_err
