"""Symbolic continuous Hopfield network: the leak integral and the Lyapunov derivative.

Book: §8.6.1 (the continuous network); Hopfield (1984). The twin of
``impl.continuous_hopfield``. Every expression here is derived by sympy from
the definitions (integrate, diff, chain rule); nothing is typed in as a result.

The network has M neurons with potentials u_i, outputs v_i = g(u_i) =
tanh(k u_i) (k the gain), weights W (a general M×M matrix of symbols, made
symmetric by ``symmetric_substitution``), biases b_i, time constant τ, and
dynamics τ du_i/dt = −u_i + Σ_j W_ij v_j + b_i.

Sizes: the network-level expressions are built for a concrete M (the proofs
check M = 2 and 3 and say so); the leak integral is for a symbolic v.
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


def symmetric_substitution(size: int) -> dict[sympy.Symbol, sympy.Symbol]:
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
