r"""Forward rounding-error bounds for the conformance kit, derived under the standard model.

The standard model (Higham, *Accuracy and Stability of Numerical Algorithms*,
2nd ed., §2.2): every floating-point operation returns fl(a op b) = (a op b)(1 + δ)
with |δ| ≤ u, the unit roundoff of the precision. A product of n such factors
(1 + δ_i)^{±1} equals 1 + θ_n with |θ_n| ≤ γ_n = nu/(1 − nu) (Lemma 3.1).

What is derived here (sympy expressions; ``impl.testing.bounds`` evaluates
them with NumPy on the actual inputs, and the tests join the two):

* ``recursive_dot(n)``: the computed inner product fl(Σ a_i b_i) with one δ per
  product and per addition; ``rounding_factors`` counts the (1 + δ) factors
  multiplying each a_i b_i: at most n, so |fl − exact| ≤ γ_n Σ|a_i b_i|
  (Higham §3.1, eq. 3.4), whatever the order of the additions.
* ``shifted_softmax_ratio(n)``: p̂_j / p_j for a softmax computed as
  exp(s_j − max) / Σ exp(s_k − max) when every score carries an absolute error
  Δ_k (|Δ_k| ≤ e_k, from the scores' computation and the shift), every exp a
  relative error ε_k, the sum the factors 1 + θ_k, the division δ. It equals
  exp(Δ_j)(1 + ε_j)(1 + δ) / Σ_k p_k exp(Δ_k)(1 + ε_k)(1 + θ_k): the max cancels
  exactly, which is why the shift costs nothing but u|s_j − max| in Δ_j
  (Blanchard, Higham & Higham, "Accurately computing the log-sum-exp and
  softmax functions", IMA J. Numer. Anal. 41(4), 2021, §3).
* ``softmax_ratio_bounds(n)``: the extreme values of that ratio over the box
  |Δ_k| ≤ a_k, |ε_k| ≤ u_e, |θ_k| ≤ γ, |δ| ≤ γ_2: the ratio is monotone in each
  variable, so its extremes are at the corners, numerator up and denominator
  down (or the reverse). These are the bounds ``impl.testing.bounds.
  softmax_relative_bound`` evaluates.
* ``attention_output_error``: |Σ_j p̂_j v̂_j − Σ_j p_j v_j| ≤ Σ_j r_j p_j |v_j| +
  Σ_j p_j (1 + r_j) dv_j + γ_{S+1} Σ_j p_j (1 + r_j)(|v_j| + dv_j), from
  p̂_j = p_j(1 + ρ_j), |ρ_j| ≤ r_j, v̂_j = v_j + ν_j, |ν_j| ≤ dv_j, and the inner
  product bound above (one more rounding for the stored result).
"""

from collections.abc import Sequence

import sympy

__all__ = [
    "attention_output_error",
    "gamma",
    "recursive_dot",
    "rounding_factors",
    "shifted_softmax_ratio",
    "softmax_ratio_bounds",
]


def gamma(n: sympy.Expr | int, u: sympy.Expr) -> sympy.Expr:
    """Higham's γ_n = nu / (1 − nu) (Lemma 3.1), valid for nu < 1."""
    return n * u / (1 - n * u)


def recursive_dot(
    n: int,
) -> tuple[
    tuple[sympy.Symbol, ...], tuple[sympy.Symbol, ...], tuple[sympy.Symbol, ...], sympy.Expr
]:
    """(a, b, deltas, fl(Σ a_i b_i)) for left-to-right summation with one δ per operation.

    fl(a_1 b_1) = a_1 b_1 (1 + δ_1); then each step s ← fl(s + fl(a_i b_i)) adds
    the product's δ and the addition's δ. ``deltas`` lists all 2n − 1 of them.
    """
    a = tuple(sympy.Symbol(f"a_{i}", real=True) for i in range(n))
    b = tuple(sympy.Symbol(f"b_{i}", real=True) for i in range(n))
    deltas: list[sympy.Symbol] = []

    def delta() -> sympy.Symbol:
        d = sympy.Symbol(f"delta_{len(deltas)}", real=True)
        deltas.append(d)
        return d

    total: sympy.Expr = a[0] * b[0] * (1 + delta())
    for i in range(1, n):
        product = a[i] * b[i] * (1 + delta())
        total = (total + product) * (1 + delta())
    return a, b, tuple(deltas), total


def rounding_factors(
    expression: sympy.Expr, term: sympy.Expr, deltas: Sequence[sympy.Symbol]
) -> int:
    """How many (1 + δ) factors multiply ``term`` in ``expression`` (its degree in the δs)."""
    coefficient = sympy.expand(expression).coeff(term)
    return int(sympy.Poly(coefficient, *deltas).total_degree())


def shifted_softmax_ratio(
    n: int, j: int = 0
) -> tuple[dict[str, tuple[sympy.Symbol, ...]], sympy.Expr]:
    """(symbols, p̂_j / p_j) for a shifted softmax of n perturbed scores (see module docstring).

    Symbols: ``s`` scores, ``Delta`` score errors, ``eps`` exp errors, ``theta``
    summation factors, ``delta`` the division's rounding. The shift by the
    maximum m is symbolic and cancels: the result does not contain m.
    """
    names = {
        "s": tuple(sympy.Symbol(f"s_{k}", real=True) for k in range(n)),
        "Delta": tuple(sympy.Symbol(f"Delta_{k}", real=True) for k in range(n)),
        "eps": tuple(sympy.Symbol(f"epsilon_{k}", real=True) for k in range(n)),
        "theta": tuple(sympy.Symbol(f"theta_{k}", real=True) for k in range(n)),
        "delta": (sympy.Symbol("delta", real=True),),
    }
    shift = sympy.Symbol("M", positive=True)  # exp(−m) for the row maximum m (any shift)
    s, D, e, t = names["s"], names["Delta"], names["eps"], names["theta"]
    computed = [sympy.exp(s[k] + D[k]) * shift * (1 + e[k]) for k in range(n)]
    total = sum((computed[k] * (1 + t[k]) for k in range(n)), sympy.S.Zero)
    p_hat = computed[j] / total * (1 + names["delta"][0])
    exact = sympy.exp(s[j]) / sum((sympy.exp(x) for x in s), sympy.S.Zero)
    ratio = sympy.cancel(p_hat / exact)  # the shift's factor exp(−m) cancels
    return names, ratio


def softmax_ratio_bounds(
    weights: Sequence[sympy.Expr],
    a: Sequence[sympy.Expr],
    u_exp: sympy.Expr,
    g_sum: sympy.Expr,
    g_div: sympy.Expr,
    j: int,
) -> tuple[sympy.Expr, sympy.Expr]:
    """(lower, upper) for p̂_j / p_j over the box |Δ_k| ≤ a_k, |ε| ≤ u_exp, |θ| ≤ g_sum, |δ| ≤ g_div.

    The ratio exp(Δ_j)(1 + ε_j)(1 + δ) / Σ_k p_k exp(Δ_k)(1 + ε_k)(1 + θ_k) grows
    with Δ_j, ε_j, δ in the numerator and falls with every denominator variable
    (p_k ≥ 0), so its extremes are at the corners below (the numerator's own
    term in the denominator only lowers the upper bound further; dropping that
    coupling keeps these bounds valid, and a little loose).
    """
    n = len(weights)
    low_den = (
        sum((weights[k] * sympy.exp(-a[k]) for k in range(n)), sympy.S.Zero)
        * (1 - u_exp)
        * (1 - g_sum)
    )
    high_den = (
        sum((weights[k] * sympy.exp(a[k]) for k in range(n)), sympy.S.Zero)
        * (1 + u_exp)
        * (1 + g_sum)
    )
    upper = sympy.exp(a[j]) * (1 + u_exp) * (1 + g_div) / low_den
    lower = sympy.exp(-a[j]) * (1 - u_exp) * (1 - g_div) / high_den
    return lower, upper


def attention_output_error(
    weights: Sequence[sympy.Expr],
    relative: Sequence[sympy.Expr],
    values: Sequence[sympy.Expr],
    value_errors: Sequence[sympy.Expr],
    g: sympy.Expr,
) -> sympy.Expr:
    """Σ r_j p_j |v_j| + Σ p_j(1 + r_j) dv_j + g Σ p_j(1 + r_j)(|v_j| + dv_j) (one output entry)."""
    terms = zip(weights, relative, values, value_errors, strict=True)
    return sum(
        (
            r * p * sympy.Abs(v) + p * (1 + r) * dv + g * p * (1 + r) * (sympy.Abs(v) + dv)
            for p, r, v, dv in terms
        ),
        sympy.S.Zero,
    )
