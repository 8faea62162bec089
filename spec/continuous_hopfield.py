"""Symbolic continuous Hopfield network: the leak integral and the Lyapunov derivative.

Book: §8.6.1 (the continuous network); Hopfield (1984). The twin of
``impl.continuous_hopfield``. Every expression here is derived by sympy from
the definitions (integrate, diff, chain rule); nothing is typed in as a result.

The network has M neurons with potentials u_i, outputs v_i = g(u_i) =
tanh(k u_i) (k the gain), weights W (a general M×M matrix of symbols, made
symmetric by ``symmetric_substitution``), biases b_i, time constant τ, and
dynamics τ du_i/dt = −u_i + Σ_j W_ij v_j + b_i.

Sizes: the network-level expressions are built for a concrete M (the proofs
check M = 2 and 3 and say so), and the per-neuron gradient identity also for a
symbolic M (``symbolic_*``, with IndexedBase sums); the leak integral is for a
symbolic v.
"""

from dataclasses import dataclass
from functools import cache

import sympy


@dataclass(frozen=True)
class ContinuousHopfieldSymbols:
    """The symbols of an M-neuron network (all real; gain k and τ positive)."""

    size: int
    potentials: tuple[sympy.Symbol, ...]
    states: tuple[sympy.Symbol, ...]
    weights: sympy.MatrixBase
    biases: tuple[sympy.Symbol, ...]
    gain: sympy.Symbol
    time_constant: sympy.Symbol


@cache
def network_symbols(size: int) -> ContinuousHopfieldSymbols:
    """Symbols u_i, v_i, W_ij (general, not yet symmetric), b_i, k, τ for M = ``size``."""
    M = size
    u = tuple(sympy.Symbol(f"u_{i}", real=True) for i in range(M))
    v = tuple(sympy.Symbol(f"v_{i}", real=True) for i in range(M))
    W = sympy.Matrix(M, M, lambda i, j: sympy.Symbol(f"w_{i}{j}", real=True))
    b = tuple(sympy.Symbol(f"b_{i}", real=True) for i in range(M))
    k = sympy.Symbol("k", positive=True)
    tau = sympy.Symbol("tau", positive=True)
    return ContinuousHopfieldSymbols(M, u, v, W, b, k, tau)


def symmetric_substitution(size: int) -> dict[sympy.Expr, sympy.Expr]:
    """The substitution W_ji → W_ij (j > i) that makes W symmetric."""
    W = network_symbols(size).weights
    return {W[j, i]: W[i, j] for i in range(size) for j in range(i + 1, size)}


@cache
def artanh_antiderivative() -> tuple[sympy.Symbol, sympy.Expr]:
    """(x, ∫_0^x artanh(t) dt), integrated by sympy."""
    x = sympy.Symbol("x", real=True)
    t = sympy.Symbol("t", real=True)
    integral: sympy.Expr = sympy.integrate(sympy.atanh(t), (t, 0, x))
    return x, integral


def artanh_antiderivative_log_form(x: sympy.Expr) -> sympy.Expr:
    """½[(1 + x) log(1 + x) + (1 − x) log(1 − x)]: the form impl evaluates (finite at ±1)."""
    half = sympy.Rational(1, 2)
    return half * ((1 + x) * sympy.log(1 + x) + (1 - x) * sympy.log(1 - x))


def activation(u: sympy.Expr, gain: sympy.Expr) -> sympy.Expr:
    """g(u) = tanh(k u)."""
    return sympy.tanh(gain * u)


def energy(size: int) -> sympy.Expr:
    """E(v) = −½ vᵀWv − bᵀv + (1/k) Σ_i ∫_0^{v_i} artanh, in the symbols v, W, b, k."""
    s = network_symbols(size)
    x, leak = artanh_antiderivative()
    v = sympy.Matrix(list(s.states))
    quadratic = (v.T @ s.weights @ v)[0, 0]
    linear = sum((bi * vi for bi, vi in zip(s.biases, s.states, strict=True)), sympy.S.Zero)
    leaks = sum((leak.subs(x, vi) for vi in s.states), sympy.S.Zero)
    result: sympy.Expr = -sympy.Rational(1, 2) * quadratic - linear + leaks / s.gain
    return result


def velocity(size: int) -> sympy.MatrixBase:
    """du/dt = (−u + W g(u) + b) / τ, a column in the symbols u, W, b, k, τ."""
    s = network_symbols(size)
    g = sympy.Matrix([activation(ui, s.gain) for ui in s.potentials])
    u = sympy.Matrix(list(s.potentials))
    b = sympy.Matrix(list(s.biases))
    return (-u + s.weights @ g + b) / s.time_constant


def energy_gradient(size: int) -> sympy.MatrixBase:
    """∂E/∂v_i for a general (not necessarily symmetric) W, by sympy's diff."""
    s = network_symbols(size)
    E = energy(size)
    # cancel: d/dv of the integral is a rational function plus atanh(v); collect it.
    return sympy.Matrix([sympy.expand(sympy.cancel(sympy.diff(E, vi))) for vi in s.states])


def inverse_activation_identity(size: int) -> dict[sympy.Expr, sympy.Expr]:
    """The substitution atanh(v_i) → k u_i, valid on the trajectory v_i = tanh(k u_i)."""
    s = network_symbols(size)
    return {sympy.atanh(vi): s.gain * ui for ui, vi in zip(s.potentials, s.states, strict=True)}


def energy_time_derivative(size: int) -> sympy.Expr:
    """dE/dt = Σ_i (∂E/∂v_i)(dv_i/du_i)(du_i/dt) along the ODE, general W, in u, W, b, k, τ."""
    s = network_symbols(size)
    gradient = energy_gradient(size).xreplace(inverse_activation_identity(size))
    on_trajectory = {
        vi: activation(ui, s.gain) for ui, vi in zip(s.potentials, s.states, strict=True)
    }
    gradient = gradient.subs(on_trajectory)
    du = velocity(size)
    terms = (
        gradient[i] * sympy.diff(activation(s.potentials[i], s.gain), s.potentials[i]) * du[i]
        for i in range(size)
    )
    return sum(terms, sympy.S.Zero)


def lyapunov_form(size: int) -> sympy.Expr:
    """−τ Σ_i g'(u_i) (du_i/dt)²: the claimed value of dE/dt for symmetric W."""
    s = network_symbols(size)
    du = velocity(size)
    terms = (
        sympy.diff(activation(s.potentials[i], s.gain), s.potentials[i]) * du[i] ** 2
        for i in range(size)
    )
    return -s.time_constant * sum(terms, sympy.S.Zero)


def asymmetry_term(size: int) -> sympy.Expr:
    """½ Σ_i g'(u_i)(du_i/dt)((W − Wᵀ) g(u))_i: what dE/dt gains when W ≠ Wᵀ."""
    s = network_symbols(size)
    du = velocity(size)
    g = sympy.Matrix([activation(ui, s.gain) for ui in s.potentials])
    skew = (s.weights - s.weights.T) @ g
    terms = (
        sympy.diff(activation(s.potentials[i], s.gain), s.potentials[i]) * du[i] * skew[i]
        for i in range(size)
    )
    return sympy.Rational(1, 2) * sum(terms, sympy.S.Zero)


# --- The per-neuron gradient identity for a symbolic number of neurons M ---


@dataclass(frozen=True)
class SymbolicSizeSymbols:
    """Symbolic M = k + 1 + j (j ≥ 0 encodes 0 ≤ k < M), indices i, l, and W[i, l], v, u, b."""

    size: sympy.Expr
    neuron: sympy.Symbol
    row_index: sympy.Symbol
    column_index: sympy.Symbol
    weights: sympy.IndexedBase
    states: sympy.IndexedBase
    potentials: sympy.IndexedBase
    biases: sympy.IndexedBase
    gain: sympy.Symbol
    time_constant: sympy.Symbol


@cache
def symbolic_size_symbols() -> SymbolicSizeSymbols:
    """The symbols of ``SymbolicSizeSymbols``."""
    k = sympy.Symbol("k", integer=True, nonnegative=True)
    j = sympy.Symbol("j", integer=True, nonnegative=True)
    return SymbolicSizeSymbols(
        size=k + 1 + j,
        neuron=k,
        row_index=sympy.Symbol("i", integer=True),
        column_index=sympy.Symbol("l", integer=True),
        weights=sympy.IndexedBase("W"),
        states=sympy.IndexedBase("v"),
        potentials=sympy.IndexedBase("u"),
        biases=sympy.IndexedBase("b"),
        gain=sympy.Symbol("k_g", positive=True),
        time_constant=sympy.Symbol("tau", positive=True),
    )


def symbolic_energy() -> sympy.Expr:
    """E(v) = −½ Σ_i Σ_l W[i,l] v[i] v[l] − Σ_i b[i] v[i] + (1/k_g) Σ_i G(v[i]), symbolic M."""
    s = symbolic_size_symbols()
    i, col, M = s.row_index, s.column_index, s.size
    W, v, b = s.weights, s.states, s.biases
    x, leak = artanh_antiderivative()
    quadratic = sympy.Sum(sympy.Sum(W[i, col] * v[i] * v[col], (col, 0, M - 1)), (i, 0, M - 1))
    linear = sympy.Sum(b[i] * v[i], (i, 0, M - 1))
    leaks = sympy.Sum(leak.subs(x, v[i]), (i, 0, M - 1))
    return -sympy.Rational(1, 2) * quadratic - linear + leaks / s.gain


def symbolic_energy_gradient_component() -> sympy.Expr:
    """∂E/∂v[k] on the trajectory (artanh(v[k]) = k_g u[k]), general W, symbolic M."""
    s = symbolic_size_symbols()
    k = s.neuron
    raw = sympy.diff(symbolic_energy(), s.states[k]).doit()
    collected = sympy.expand(sympy.cancel(raw))  # the leak's rational terms cancel to 0
    return collected.xreplace({sympy.atanh(s.states[k]): s.gain * s.potentials[k]})


def symbolic_velocity_component() -> sympy.Expr:
    """du[k]/dt = (−u[k] + Σ_l W[k,l] v[l] + b[k]) / τ, symbolic M."""
    s = symbolic_size_symbols()
    k, col = s.neuron, s.column_index
    field = sympy.Sum(s.weights[k, col] * s.states[col], (col, 0, s.size - 1))
    return (-s.potentials[k] + field + s.biases[k]) / s.time_constant


def symbolic_asymmetry_component() -> sympy.Expr:
    """½ (Σ_l W[k,l] v[l] − Σ_i W[i,k] v[i]) = ½((W − Wᵀ) v)[k], symbolic M."""
    s = symbolic_size_symbols()
    k, i, col, M = s.neuron, s.row_index, s.column_index, s.size
    rows = sympy.Sum(s.weights[k, col] * s.states[col], (col, 0, M - 1))
    columns = sympy.Sum(s.weights[i, k] * s.states[i], (i, 0, M - 1))
    return sympy.Rational(1, 2) * (rows - columns)


def symmetrize(expression: sympy.Expr) -> sympy.Expr:
    """Impose W = Wᵀ: every W[i, k] (column k) becomes W[k, i], and sums are re-indexed to l."""
    s = symbolic_size_symbols()
    k, i, col = s.neuron, s.row_index, s.column_index
    transposed = expression.xreplace({s.weights[i, k]: s.weights[k, i]})
    # i is only ever a summation (dummy) index here, so renaming it is harmless.
    return transposed.xreplace({i: col})
