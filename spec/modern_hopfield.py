"""Symbolic modern Hopfield network and dense associative memory.

Book: §8.6.2 (note: the modern Hopfield update is key-value attention);
Ramsauer et al. (2020); Krotov & Hopfield (2016). Twin of ``impl.modern_hopfield``.

Patterns are the rows x_n of an N×D matrix of real symbols x_{n,d} (the
paper's columns); the state ξ has D real symbols; β > 0. Sizes are concrete
(the proofs say which); entries are symbolic. Nothing here is a typed-in
result: the update is *solved* from the concave–convex procedure, and the
dense-memory scale and offset are *solved* from an identity.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache

import sympy


@dataclass(frozen=True)
class ModernHopfieldSymbols:
    """Patterns X (N×D, rows x_n), state ξ, next state ξ', inverse temperature β."""

    patterns: sympy.MatrixBase
    state: tuple[sympy.Symbol, ...]
    next_state: tuple[sympy.Symbol, ...]
    beta: sympy.Symbol


@cache
def hopfield_symbols(num_patterns: int, dim: int) -> ModernHopfieldSymbols:
    """Symbols for N = ``num_patterns`` patterns of width D = ``dim``."""
    X = sympy.Matrix(num_patterns, dim, lambda n, d: sympy.Symbol(f"x_{n}{d}", real=True))
    xi = tuple(sympy.Symbol(f"xi_{d}", real=True) for d in range(dim))
    xi_next = tuple(sympy.Symbol(f"xi'_{d}", real=True) for d in range(dim))
    return ModernHopfieldSymbols(X, xi, xi_next, sympy.Symbol("beta", positive=True))


def log_sum_exp(values: Sequence[sympy.Expr], beta: sympy.Expr) -> sympy.Expr:
    """lse(β, z) = β⁻¹ log Σ_n exp(β z_n)."""
    return sympy.log(sum((sympy.exp(beta * z) for z in values), sympy.S.Zero)) / beta


def overlaps(num_patterns: int, dim: int) -> list[sympy.Expr]:
    """x_nᵀ ξ for n = 1..N (the paper's Xᵀξ)."""
    s = hopfield_symbols(num_patterns, dim)
    xi = sympy.Matrix(list(s.state))
    return list(s.patterns @ xi)


def max_norm(num_patterns: int, dim: int) -> sympy.Expr:
    """M = max_n ‖x_n‖."""
    s = hopfield_symbols(num_patterns, dim)
    norms = [
        sympy.sqrt(sum((s.patterns[n, d] ** 2 for d in range(dim)), sympy.S.Zero))
        for n in range(num_patterns)
    ]
    return sympy.Max(*norms)


def convex_part(num_patterns: int, dim: int) -> sympy.Expr:
    """E_convex(ξ) = ½ ξᵀξ."""
    s = hopfield_symbols(num_patterns, dim)
    return sympy.Rational(1, 2) * sum((c**2 for c in s.state), sympy.S.Zero)


def concave_part(num_patterns: int, dim: int) -> sympy.Expr:
    """E_concave(ξ) = −lse(β, Xᵀξ)."""
    s = hopfield_symbols(num_patterns, dim)
    return -log_sum_exp(overlaps(num_patterns, dim), s.beta)


def energy(num_patterns: int, dim: int) -> sympy.Expr:
    """E(ξ) = −lse(β, Xᵀξ) + ½ξᵀξ + β⁻¹ log N + ½M² (Ramsauer et al. 2020, eq. 2)."""
    s = hopfield_symbols(num_patterns, dim)
    M = max_norm(num_patterns, dim)
    constants = sympy.log(num_patterns) / s.beta + sympy.Rational(1, 2) * M**2
    return concave_part(num_patterns, dim) + convex_part(num_patterns, dim) + constants


def gradient(expression: sympy.Expr, variables: Sequence[sympy.Symbol]) -> sympy.MatrixBase:
    """Column of ∂expression/∂v for each variable v."""
    return sympy.Matrix([sympy.diff(expression, v) for v in variables])


@cache
def cccp_update(num_patterns: int, dim: int) -> sympy.MatrixBase:
    """ξ' solved from the CCCP step ∇E_convex(ξ') = −∇E_concave(ξ)."""
    s = hopfield_symbols(num_patterns, dim)
    convex_at_next = convex_part(num_patterns, dim).subs(
        dict(zip(s.state, s.next_state, strict=True))
    )
    lhs = gradient(convex_at_next, s.next_state)
    rhs = -gradient(concave_part(num_patterns, dim), s.state)
    solution = sympy.solve(list(lhs - rhs), list(s.next_state), dict=True)
    if len(solution) != 1:
        raise ValueError(f"the CCCP step should have one solution, got {solution}")
    return sympy.Matrix([solution[0][v] for v in s.next_state])


def softmax(scores: Sequence[sympy.Expr]) -> list[sympy.Expr]:
    """softmax_n(s) = exp(s_n) / Σ_m exp(s_m)."""
    total = sum((sympy.exp(z) for z in scores), sympy.S.Zero)
    return [sympy.exp(z) / total for z in scores]


def key_value_attention(
    query: Sequence[sympy.Expr],
    keys: sympy.MatrixBase,
    values: sympy.MatrixBase,
    scale: sympy.Expr,
) -> sympy.MatrixBase:
    """Σ_n softmax_n(scale · k_nᵀ q) v_n (keys, values as rows), a column of width D_v."""
    scores = [
        scale * sum((keys[n, d] * query[d] for d in range(keys.cols)), sympy.S.Zero)
        for n in range(keys.rows)
    ]
    weights = softmax(scores)
    return sympy.Matrix(
        [
            sum((weights[n] * values[n, d] for n in range(values.rows)), sympy.S.Zero)
            for d in range(values.cols)
        ]
    )


def lse_hessian_claim(num_patterns: int, dim: int) -> sympy.MatrixBase:
    """β Xᵀ(diag p − ppᵀ)X with p = softmax(β Xᵀξ): the claimed Hessian of lse(β, Xᵀξ)."""
    s = hopfield_symbols(num_patterns, dim)
    p = sympy.Matrix(softmax([s.beta * z for z in overlaps(num_patterns, dim)]))
    middle = sympy.diag(*list(p)) - p @ p.T
    return s.beta * s.patterns.T @ middle @ s.patterns


def hessian(expression: sympy.Expr, variables: Sequence[sympy.Symbol]) -> sympy.MatrixBase:
    """Matrix of second derivatives."""
    return sympy.Matrix(
        len(variables),
        len(variables),
        lambda i, j: sympy.diff(expression, variables[i], variables[j]),
    )


# --- The same derivation for symbolic sizes N and D ---


@dataclass(frozen=True)
class SymbolicSizeSymbols:
    """Symbolic N, D with a component index k: D = k + 1 + j (j ≥ 0) encodes 0 ≤ k < D."""

    num_patterns: sympy.Symbol
    dim: sympy.Expr
    component: sympy.Symbol
    pattern_index: sympy.Symbol
    feature_index: sympy.Symbol
    patterns: sympy.IndexedBase
    state: sympy.IndexedBase
    next_state: sympy.IndexedBase
    beta: sympy.Symbol


@cache
def symbolic_size_symbols() -> SymbolicSizeSymbols:
    """N, D = k + 1 + j, summation indices n, d, and x[n, d], ξ[d], ξ'[d], β."""
    k = sympy.Symbol("k", integer=True, nonnegative=True)
    j = sympy.Symbol("j", integer=True, nonnegative=True)
    return SymbolicSizeSymbols(
        num_patterns=sympy.Symbol("N", integer=True, positive=True),
        dim=k + 1 + j,
        component=k,
        pattern_index=sympy.Symbol("n", integer=True),
        feature_index=sympy.Symbol("d", integer=True),
        patterns=sympy.IndexedBase("x"),
        state=sympy.IndexedBase("xi"),
        next_state=sympy.IndexedBase("xi'"),
        beta=sympy.Symbol("beta", positive=True),
    )


def symbolic_overlap(state: sympy.IndexedBase) -> sympy.Expr:
    """x_nᵀξ = Σ_d x[n, d] ξ[d] (symbolic D)."""
    s = symbolic_size_symbols()
    n, d = s.pattern_index, s.feature_index
    return sympy.Sum(s.patterns[n, d] * state[d], (d, 0, s.dim - 1))


def symbolic_concave_part() -> sympy.Expr:
    """E_concave(ξ) = −β⁻¹ log Σ_n exp(β x_nᵀξ) (symbolic N, D)."""
    s = symbolic_size_symbols()
    total = sympy.Sum(
        sympy.exp(s.beta * symbolic_overlap(s.state)), (s.pattern_index, 0, s.num_patterns - 1)
    )
    return -sympy.log(total) / s.beta


def symbolic_convex_part(state: sympy.IndexedBase) -> sympy.Expr:
    """E_convex = ½ Σ_d ξ[d]² (symbolic D)."""
    s = symbolic_size_symbols()
    d = s.feature_index
    return sympy.Rational(1, 2) * sympy.Sum(state[d] ** 2, (d, 0, s.dim - 1))


@cache
def symbolic_cccp_update_component() -> sympy.Expr:
    """ξ'[k] solved from ∂E_convex/∂ξ'[k] (at ξ') = −∂E_concave/∂ξ[k] (at ξ), symbolic N, D."""
    s = symbolic_size_symbols()
    k = s.component
    lhs = sympy.diff(symbolic_convex_part(s.next_state), s.next_state[k]).doit()
    rhs = -sympy.diff(symbolic_concave_part(), s.state[k]).doit()
    solution = sympy.solve(sympy.Eq(lhs, rhs), s.next_state[k])
    if len(solution) != 1:
        raise ValueError(f"the CCCP step should have one solution, got {solution}")
    return solution[0]


def symbolic_attention_component(scale: sympy.Expr) -> sympy.Expr:
    """Component k of Σ_n softmax_n(scale · x_nᵀξ) x_n (symbolic N, D)."""
    s = symbolic_size_symbols()
    n = s.pattern_index
    weight = sympy.exp(scale * symbolic_overlap(s.state))
    numerator = sympy.Sum(weight * s.patterns[n, s.component], (n, 0, s.num_patterns - 1))
    return numerator / sympy.Sum(weight, (n, 0, s.num_patterns - 1))


# --- Dense associative memory (Krotov & Hopfield 2016) ---


@dataclass(frozen=True)
class DenseMemorySymbols:
    """±1 patterns x^μ (P×M matrix of symbols) and ±1 state σ (M symbols)."""

    patterns: sympy.MatrixBase
    state: tuple[sympy.Symbol, ...]


@cache
def dense_symbols(num_patterns: int, size: int) -> DenseMemorySymbols:
    """Symbols for P = ``num_patterns`` patterns of M = ``size`` neurons."""
    X = sympy.Matrix(num_patterns, size, lambda m, i: sympy.Symbol(f"x^{m}_{i}", real=True))
    sigma = tuple(sympy.Symbol(f"sigma_{i}", real=True) for i in range(size))
    return DenseMemorySymbols(X, sigma)


def dense_polynomial_energy(num_patterns: int, size: int, degree: int) -> sympy.Expr:
    """E(σ) = −Σ_μ (x^μ · σ)^n."""
    s = dense_symbols(num_patterns, size)
    sigma = sympy.Matrix(list(s.state))
    return -sum(
        ((s.patterns.row(m) @ sigma)[0, 0] ** degree for m in range(num_patterns)), sympy.S.Zero
    )


def dense_exponential_energy(num_patterns: int, size: int) -> sympy.Expr:
    """E(σ) = −Σ_μ exp(x^μ · σ)."""
    s = dense_symbols(num_patterns, size)
    sigma = sympy.Matrix(list(s.state))
    return -sum(
        (sympy.exp((s.patterns.row(m) @ sigma)[0, 0]) for m in range(num_patterns)), sympy.S.Zero
    )


def hebbian_weights(num_patterns: int, size: int) -> sympy.MatrixBase:
    """The book's Hebbian rule w_ij = (1/P) Σ_μ x^μ_i x^μ_j for i ≠ j, w_ii = 0 (§8.6.1)."""
    s = dense_symbols(num_patterns, size)
    X = s.patterns
    return sympy.Matrix(
        size,
        size,
        lambda i, j: (
            0
            if i == j
            else sum((X[m, i] * X[m, j] for m in range(num_patterns)), sympy.S.Zero) / num_patterns
        ),
    )


def hopfield_energy(num_patterns: int, size: int) -> sympy.Expr:
    """Classical energy −½ σᵀWσ with the Hebbian W (no biases)."""
    s = dense_symbols(num_patterns, size)
    sigma = sympy.Matrix(list(s.state))
    quadratic: sympy.Expr = (sigma.T @ hebbian_weights(num_patterns, size) @ sigma)[0, 0]
    return -sympy.Rational(1, 2) * quadratic


def reduce_signs(expression: sympy.Expr, num_patterns: int, size: int) -> sympy.Expr:
    """Expand and use s² = 1 for every ±1 symbol (pattern entries and state)."""
    s = dense_symbols(num_patterns, size)
    squares = {v**2: 1 for v in (*s.patterns, *s.state)}
    return sympy.expand(sympy.expand(expression).subs(squares))


@cache
def quadratic_dense_energy_offset(num_patterns: int, size: int) -> tuple[sympy.Expr, sympy.Expr]:
    """(a, c) solved from E_dense(σ; F = z²) ≡ a·E_Hopfield(σ) + c on ±1 values.

    Needs M ≥ 2: with one neuron the Hopfield energy is identically 0 and a is free.
    """
    if size < 2:
        raise ValueError(f"size must be ≥ 2 (with M = 1 the scale a is undetermined), got {size}")
    a, c = sympy.symbols("a c", seq=True)
    s = dense_symbols(num_patterns, size)
    residual = reduce_signs(
        dense_polynomial_energy(num_patterns, size, 2)
        - a * hopfield_energy(num_patterns, size)
        - c,
        num_patterns,
        size,
    )
    coefficients = sympy.Poly(residual, *s.patterns, *s.state).coeffs()
    solution = sympy.solve(coefficients, [a, c], dict=True)
    if len(solution) != 1:
        raise ValueError(f"expected one (a, c), got {solution}")
    return solution[0][a], solution[0][c]
