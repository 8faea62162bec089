r"""Forward rounding-error bounds for LSTM and GRU steps, from Higham's standard model.

Book: §6.5 (LSTM, GRU; used by §8.2.1). Analysis: N. J. Higham, *Accuracy and
Stability of Numerical Algorithms* (2nd ed., 2002), §2.2 (the standard model
fl(a op b) = (a op b)(1 + δ), |δ| ≤ u) and §3.1 (Lemma 3.1, γ_k = ku/(1 − ku);
a recursively summed dot product of k terms is within γ_k Σ|w_i||x_i|, in any
summation order, Lemma 3.1 and eq. (3.5)).
Twin: ``impl.testing.recurrent`` evaluates these rules on the actual inputs
(the tolerance of the LSTM/GRU conformance checks).

How a step is bounded. Every quantity q of the step is carried as a pair
(|q|, e_q): the magnitude of the exact value and a bound e_q on
|q̂ − q|, where q̂ is the value computed in precision u from inputs that are
themselves off by their own bounds. Each operation of the step has one rule
below that maps its operands' pairs to its result's bound; the rules are
plain arithmetic, so the same Python function runs on sympy symbols (the
proofs below) and on NumPy arrays (the check, elementwise over the hidden
units). Rules:

* ``dot_error``      Σ_k w_k x̂_k (+ biases) with exact w: Σ|w| e_x + γ_K Σ|w| (|x| + e_x).
* ``product_error``  â b̂ rounded: |a| e_b + |b| e_a + e_a e_b + u (|a| + e_a)(|b| + e_b).
* ``sum_error``      â + b̂ rounded: e_a + e_b + u (|a| + e_a + |b| + e_b).
* ``function_error`` f(ẑ) with relative evaluation error ≤ γ_c and Lipschitz
  constant L of f on [z − e_z, z + e_z]: L e_z + γ_c (|f(z)| + L e_z).
* ``convex_update_error`` (1 − ẑ) n̂ + ẑ ĥ in either of its two usual forms
  ((1 − z) n + z h, or PyTorch's n + z (h − n)).

``product_error``, ``sum_error`` and ``convex_update_error`` are proved here
(``rule_dominates``): the exact error is multilinear in the perturbations,
so its extremes over the box of perturbations lie at the box's vertices, and
at every vertex and for every sign of the operands the rule minus |error| is
a polynomial with non-negative coefficients in non-negative variables.
``dot_error`` is Higham's Lemma 3.1 plus the triangle inequality;
``function_error`` is the mean value theorem plus the triangle inequality.
"""

import itertools
from collections.abc import Callable, Sequence
from typing import Any, TypeAlias

import sympy

T: TypeAlias = Any
"""What the rules run on: sympy expressions (the proofs), floats or NumPy float arrays (the
check, elementwise). Typed ``Any`` because the rules are plain +, −, ×, ÷ shared by all three."""

UNIT_ROUNDOFF: dict[str, sympy.Rational] = {
    "float64": sympy.Rational(1, 2**53),
    "float32": sympy.Rational(1, 2**24),
    "float16": sympy.Rational(1, 2**11),
    "bfloat16": sympy.Rational(1, 2**8),
}
"""u = 2^{−p} for a p-bit significand (round to nearest): IEEE binary64/32/16, bfloat16 (p = 8)."""

SIGMOID_LIPSCHITZ = sympy.Rational(1, 4)
"""sup σ' = σ'(0) = 1/4; on an interval away from 0 the check uses σ'(min |z|) instead."""

TANH_LIPSCHITZ = sympy.Integer(1)
"""sup tanh' = tanh'(0) = 1; likewise sharpened on intervals away from 0."""


def gamma(k: T, u: T) -> T:
    """Higham's γ_k = k u / (1 − k u) (valid while k u < 1)."""
    result = k * u / (1 - k * u)
    return result


def dot_error(abs_wx: T, abs_we: T, k: T, u: T) -> T:
    r"""Bound on |ŝ − s| for s = Σ_{i≤K} w_i x_i (biases count as terms with x = 1).

    ``abs_wx`` = Σ|w_i||x_i|, ``abs_we`` = Σ|w_i| e_{x_i}: the weights are exact
    (converted without rounding), the inputs x̂ = x + ξ with |ξ_i| ≤ e_i.
    Σ w x̂ − Σ w x is bounded by Σ|w|e; rounding adds γ_K Σ|w||x̂| (Lemma 3.1).
    """
    result = abs_we + gamma(k, u) * (abs_wx + abs_we)
    return result


def product_error(a: T, ea: T, b: T, eb: T, u: T) -> T:
    """Bound on |fl(â b̂) − a b| for |â − a| ≤ e_a, |b̂ − b| ≤ e_b (a, b given as magnitudes)."""
    result = a * eb + b * ea + ea * eb + u * (a + ea) * (b + eb)
    return result


def sum_error(a: T, ea: T, b: T, eb: T, u: T) -> T:
    """Bound on |fl(â + b̂) − (a + b)| (a, b given as magnitudes)."""
    result = ea + eb + u * (a + ea + b + eb)
    return result


def function_error(lipschitz: T, ez: T, value: T, ulps: T, u: T) -> T:
    """Bound on |f̂(ẑ) − f(z)|: L e_z (mean value theorem) + γ_c |f(ẑ)| (evaluation)."""
    result = lipschitz * ez + gamma(ulps, u) * (value + lipschitz * ez)
    return result


def convex_update_error(z: T, ez: T, n: T, en: T, h: T, eh: T, u: T) -> T:
    r"""Bound on the GRU's h' = (1 − z) n + z h computed from ẑ, n̂, ĥ in precision u.

    ``z`` ∈ [0, 1] is the update gate, ``n`` the candidate's and ``h`` the old
    state's magnitude. Perturbation (exact in ζ, ν, η):
    (1 − z)ν + zη + ζ(h − n) + ζ(η − ν), bounded with |h − n| ≤ |h| + |n|.
    Rounding: either form rounds three times, γ_3 times the sum of the
    magnitudes of its terms, |n̂| + |ẑ|(|ĥ| + |n̂|) + |1 − ẑ||n̂| + |ẑ||ĥ|.
    """
    one_minus = 1 - z
    perturbation = one_minus * en + z * eh + ez * (h + n) + ez * (eh + en)
    n_hat, h_hat, z_hat = n + en, h + eh, z + ez
    rounding = gamma(3, u) * (
        n_hat + z_hat * (h_hat + n_hat) + (one_minus + ez) * n_hat + z_hat * h_hat
    )
    result = perturbation + rounding
    return result


# --------------------------------------------------------------------------- proofs of the rules

_a, _b, _z, _n, _h = sympy.symbols("a b z n h", seq=True, nonnegative=True)
_ea, _eb, _ez, _en, _eh, _u = sympy.symbols("e_a e_b e_z e_n e_h u", seq=True, nonnegative=True)


def _nonnegative_coefficients(expression: sympy.Expr, variables: Sequence[sympy.Symbol]) -> bool:
    """True when ``expression`` is a polynomial in ``variables`` with no negative coefficient."""
    poly = sympy.Poly(sympy.expand(expression), *variables)
    return all(coefficient >= 0 for coefficient in poly.coeffs())


def rule_dominates(
    rule: sympy.Expr,
    error: Callable[..., sympy.Expr],
    box: Sequence[sympy.Symbol],
    signs: Sequence[sympy.Symbol],
    variables: Sequence[sympy.Symbol],
) -> bool:
    r"""Prove rule ≥ |error| for every vertex of the perturbation box and every sign case.

    ``error(**{name: value})`` is the exact error as a function of the operand
    magnitudes (with their signs applied) and the perturbations; it is
    multilinear in the perturbations ``box`` (each ranging over [−e, e], with
    e the matching bound symbol), so checking the vertices suffices. Each
    operand in ``signs`` is tried as +s and −s. ``variables`` are the
    non-negative symbols of the polynomial identity rule ∓ error.
    """
    for sign_choice in itertools.product((1, -1), repeat=len(signs)):
        signed = {s.name: c * s for c, s in zip(sign_choice, signs, strict=True)}
        for vertex in itertools.product((1, -1), repeat=len(box)):
            perturbed = {p.name: c * p for c, p in zip(vertex, box, strict=True)}
            exact = error(**signed, **perturbed)
            if not (
                _nonnegative_coefficients(rule - exact, variables)
                and _nonnegative_coefficients(rule + exact, variables)
            ):
                return False
    return True


def product_rule_holds() -> bool:
    """``product_error`` bounds |(a + α)(b + β)(1 + δ) − ab| (all signs; |α| ≤ e_a, ...)."""
    rule = product_error(_a, _ea, _b, _eb, _u)

    def error(
        a: sympy.Expr, b: sympy.Expr, e_a: sympy.Expr, e_b: sympy.Expr, u: sympy.Expr
    ) -> sympy.Expr:
        return (a + e_a) * (b + e_b) * (1 + u) - a * b

    return rule_dominates(rule, error, (_ea, _eb, _u), (_a, _b), (_a, _b, _ea, _eb, _u))


def sum_rule_holds() -> bool:
    """``sum_error`` bounds |(a + α + b + β)(1 + δ) − (a + b)| (all signs)."""
    rule = sum_error(_a, _ea, _b, _eb, _u)

    def error(
        a: sympy.Expr, b: sympy.Expr, e_a: sympy.Expr, e_b: sympy.Expr, u: sympy.Expr
    ) -> sympy.Expr:
        return (a + e_a + b + e_b) * (1 + u) - (a + b)

    return rule_dominates(rule, error, (_ea, _eb, _u), (_a, _b), (_a, _b, _ea, _eb, _u))


def convex_update_perturbation_holds() -> bool:
    """The perturbation part of ``convex_update_error`` bounds the exact change, z ∈ [0, 1].

    Exact arithmetic: (1 − z − ζ)(n + ν) + (z + ζ)(h + η) − ((1 − z)n + zh)
    for every vertex |ζ| = e_z, |ν| = e_n, |η| = e_h and signs of n and h;
    z ∈ [0, 1] enters by writing 1 − z as its own non-negative symbol w.
    """
    w = sympy.Symbol("w", nonnegative=True)  # 1 − z ≥ 0
    rule = w * _en + _z * _eh + _ez * (_h + _n) + _ez * (_eh + _en)

    def error(
        n: sympy.Expr, h: sympy.Expr, e_z: sympy.Expr, e_n: sympy.Expr, e_h: sympy.Expr
    ) -> sympy.Expr:
        return (w - e_z) * (n + e_n) + (_z + e_z) * (h + e_h) - (w * n + _z * h)

    return rule_dominates(rule, error, (_ez, _en, _eh), (_n, _h), (_z, w, _n, _h, _ez, _en, _eh))


def slopes_are_even_and_peak_at_zero() -> bool:
    r"""σ' and tanh' are even, peak at 0 (σ'(0) = 1/4, tanh'(0) = 1) and fall with |z|.

    This justifies the check's Lipschitz constant on [z − e, z + e]: the slope at
    the point of the interval nearest 0, max(|z| − e, 0). Proof: σ' = σ(1 − σ)
    and σ'' = σ'(1 − 2σ) (identities checked below), with σ' > 0 and σ ≥ 1/2 for
    z ≥ 0, so σ'' ≤ 0 there; tanh'' = −2 tanh · tanh' with tanh ≥ 0 for z ≥ 0.
    Evenness: σ'(−z) = σ'(z) and tanh'(−z) = tanh'(z).
    """
    z = sympy.Symbol("z", real=True)
    sigma = 1 / (1 + sympy.exp(-z))
    d_sigma = sympy.diff(sigma, z)
    d_tanh = sympy.diff(sympy.tanh(z), z)
    identities = [
        d_sigma - sigma * (1 - sigma),
        sympy.diff(d_sigma, z) - d_sigma * (1 - 2 * sigma),
        sympy.diff(d_tanh, z) + 2 * sympy.tanh(z) * d_tanh,
        d_sigma.subs(z, -z) - d_sigma,
        d_tanh.subs(z, -z) - d_tanh,
    ]
    peaks = [d_sigma.subs(z, 0) - SIGMOID_LIPSCHITZ, d_tanh.subs(z, 0) - TANH_LIPSCHITZ]
    return all(sympy.simplify(e) == 0 for e in (*identities, *peaks))


# --------------------------------------------------------------------------- step structure


def lstm_gate_terms(input_size: T, state_size: T, biases: T) -> T:
    """K for an LSTM/GRU gate: n input products + p (or m) state products + the bias terms.

    PyTorch adds b_ih and b_hh (2 terms), ``bias=False`` none; with
    ``proj_size`` = p the recurrent state has p entries instead of m.
    """
    result = input_size + state_size + biases
    return result


def lstm_parameter_count(n: T, m: T, p: T, biases: T) -> T:
    """Entries of one ``nn.LSTM`` layer: 4m(n + r) + biases·4m (+ p·m for W_hr when p > 0).

    r = p when projecting (the recurrent matrix acts on the p-dim h), else m;
    ``biases`` is 2 (b_ih, b_hh) or 0 (``bias=False``). Pass p = 0 for no
    projection; the W_hr term p·m then vanishes and r = m is the caller's choice.
    """
    result = 4 * m * n + 4 * m * (p if p else m) + biases * 4 * m + p * m
    return result


def gru_parameter_count(n: T, m: T, biases: T) -> T:
    """Entries of one ``nn.GRU`` layer: 3m(n + m) + biases·3m."""
    result = 3 * m * (n + m) + biases * 3 * m
    return result


def parameter_count_closed_forms_hold() -> bool:
    """The counts above equal PyTorch's published closed forms (symbolic n, m, p).

    nn.LSTM: 4m(n + m + 2) without projection; 4m(n + p + 2) + pm with proj_size p.
    nn.GRU: 3m(n + m + 2); bias=False removes the 2 (resp. 2·) bias vectors.
    """
    n, m, p = sympy.symbols("n m p", seq=True, positive=True, integer=True)
    checks = [
        sympy.expand(lstm_parameter_count(n, m, 0, 2) - 4 * m * (n + m + 2)),
        sympy.expand(lstm_parameter_count(n, m, p, 2) - (4 * m * (n + p + 2) + p * m)),
        sympy.expand(lstm_parameter_count(n, m, 0, 0) - 4 * m * (n + m)),
        sympy.expand(gru_parameter_count(n, m, 2) - 3 * m * (n + m + 2)),
        sympy.expand(gru_parameter_count(n, m, 0) - 3 * m * (n + m)),
    ]
    return all(c == 0 for c in checks)
