"""Continuous Hopfield energy is a Lyapunov function of τ du/dt = −u + W tanh(k u) + b (§8.6.1).

Hopfield (1984): with v = g(u) = tanh(k u) and
E(v) = −½ vᵀWv − bᵀv + (1/k) Σ_i ∫_0^{v_i} artanh(x) dx, along the ODE
dE/dt = −τ Σ_i g'(u_i) (du_i/dt)² ≤ 0 when W = Wᵀ, k > 0, τ > 0.
The network-level algebra is checked for M = 2 and M = 3 neurons (concrete
sizes, symbolic entries) and, per neuron, for a symbolic M (IndexedBase sums);
the leak integral for a symbolic v.
"""

import itertools
from typing import Any

import sympy

from proofs._narrate import Derivation
from spec import continuous_hopfield as spec

SIZES = (2, 3)


def _check_expands_to_zero(proof: Derivation, what: str, residual: sympy.Expr) -> None:
    """Check a polynomial-in-tanh residual by expansion (fast to fail, unlike simplify).

    Used at the listed sizes M only, so each such check is *finite*.
    """
    expanded = sympy.expand(residual)
    proof.check_true(f"{what}: residual expands to 0", expanded == 0, strength="finite")


def _leak_integral(proof: Derivation) -> None:
    x, integral = spec.artanh_antiderivative()
    proof.step(
        "The leak term: sympy integrates artanh from 0 to x.",
        sympy.Eq(sympy.Symbol("G(x)"), integral),
    )
    proof.check_zero(
        "G'(x) = artanh(x)", sympy.diff(integral, x) - sympy.atanh(x), strength="symbolic"
    )
    log_form = spec.artanh_antiderivative_log_form(x)
    proof.step("Rewritten with artanh x = ½ log((1+x)/(1−x)), the form impl evaluates:", log_form)
    residual = sympy.expand_log(sympy.expand((integral - log_form).rewrite(sympy.log)), force=True)
    proof.check_zero("G(x) = ½[(1+x)log(1+x) + (1−x)log(1−x)]", residual, strength="symbolic")
    proof.check_equal(
        "G(x) → log 2 as x → 1⁻ (so saturated states have a finite energy)",
        sympy.limit(log_form, x, 1, "-"),
        sympy.log(2),
        strength="symbolic",
    )


def _inverse_activation(proof: Derivation) -> None:
    s = spec.network_symbols(1)
    u, k = s.potentials[0], s.gain
    inverse = sympy.atanh(spec.activation(u, k)) / k
    proof.step(
        "On a trajectory v_i = tanh(k u_i), so (1/k) artanh(v_i) = u_i:", sympy.Eq(inverse, u)
    )
    proof.check_zero(
        "d/du [artanh(tanh(k u))/k] = 1",
        sympy.simplify(sympy.diff(inverse, u)) - 1,
        strength="symbolic",
    )
    proof.check_zero("artanh(tanh(0))/k = 0", inverse.subs(u, 0), strength="symbolic")
    slope = sympy.diff(spec.activation(u, k), u)
    proof.step(
        "The activation's slope g'(u) = dv/du:",
        sympy.Eq(sympy.Symbol("g'(u)"), sympy.simplify(slope)),
    )
    proof.check_true(
        "g'(u) = k / cosh²(k u) > 0 for k > 0 (sympy decides the sign)",
        sympy.simplify(slope).is_positive is True,
        strength="symbolic",
    )


def _derivative(proof: Derivation, size: int) -> None:
    gradient = spec.energy_gradient(size)
    if size == 2:
        proof.step(
            "∂E/∂v_i for a general W (sympy diff): the quadratic form contributes "
            "−½((W + Wᵀ) v)_i, the leak artanh(v_i)/k.",
            gradient,
        )
    dE_dt = spec.energy_time_derivative(size)
    lyapunov = spec.lyapunov_form(size)
    asymmetry = spec.asymmetry_term(size)
    proof.note(
        f"M = {size}: chain rule dE/dt = Σ_i ∂E/∂v_i · g'(u_i) · du_i/dt, with "
        "∂E/∂v_i = u_i − ½((W+Wᵀ)v)_i − b_i = −τ du_i/dt + ½((W − Wᵀ) v)_i."
    )
    _check_expands_to_zero(
        proof,
        f"M = {size}: dE/dt = −τ Σ g'(u_i)(du_i/dt)² + ½ Σ g'(u_i)(du_i/dt)((W−Wᵀ)v)_i, general W",
        dE_dt - lyapunov - asymmetry,
    )
    symmetric = spec.symmetric_substitution(size)
    _check_expands_to_zero(
        proof,
        f"M = {size}: the asymmetry term vanishes when W = Wᵀ (this is where symmetry is used)",
        asymmetry.subs(symmetric),
    )
    _check_expands_to_zero(
        proof,
        f"M = {size}: with W = Wᵀ, dE/dt = −τ Σ_i g'(u_i) (du_i/dt)²",
        (dE_dt - lyapunov).subs(symmetric),
    )


def _symbolic_size(proof: Derivation) -> None:
    s = spec.symbolic_size_symbols()
    gradient = spec.symbolic_energy_gradient_component()
    proof.step(
        "Symbolic M (neuron k, M = k + 1 + j with j ≥ 0, so 0 ≤ k < M): ∂E/∂v[k] from the "
        "Sums (KroneckerDelta, doit), on the trajectory artanh(v[k]) = k_g u[k]:",
        sympy.Eq(sympy.Symbol("∂E/∂v[k]"), gradient),
    )
    velocity = spec.symbolic_velocity_component()
    asymmetry = spec.symbolic_asymmetry_component()
    proof.check_zero(
        "symbolic M: ∂E/∂v[k] = −τ du[k]/dt + ½((W − Wᵀ)v)[k] for a general W",
        gradient - (-s.time_constant * velocity + asymmetry),
        strength="symbolic",
    )
    proof.check_zero(
        "symbolic M: with W = Wᵀ the asymmetry term is 0, so ∂E/∂v[k] = −τ du[k]/dt",
        spec.symmetrize(gradient) + s.time_constant * velocity,
        strength="symbolic",
    )
    proof.note(
        "Hence dE/dt = Σ_k ∂E/∂v[k] · g'(u[k]) · du[k]/dt = −τ Σ_k g'(u[k]) (du[k]/dt)² "
        "for any M.\n"
    )


def _counterexamples(proof: Derivation) -> None:
    size = 2
    s = spec.network_symbols(size)
    dE_dt = spec.energy_time_derivative(size)
    grid = [sympy.Rational(n, 2) for n in range(-3, 4)]
    zero_bias = dict.fromkeys(s.biases, 0)

    def first_rise(
        values: dict[Any, Any],
    ) -> tuple[tuple[sympy.Expr, ...], float] | None:
        expression = dE_dt.subs(values).subs(zero_bias)
        for point in itertools.product(grid, repeat=size):
            rate = float(expression.subs(dict(zip(s.potentials, point, strict=True))).evalf())
            if rate > 1e-9:
                return point, rate
        return None

    W = s.weights
    rotation = {W[0, 0]: 0, W[1, 1]: 0, W[0, 1]: 3, W[1, 0]: -3, s.gain: 2, s.time_constant: 1}
    found = first_rise(rotation)
    proof.check_true(
        "Dropping W = Wᵀ: W = [[0, 3], [−3, 0]], k = 2, τ = 1, b = 0 has a point with dE/dt > 0"
        + (f" (u = {found[0]}, dE/dt = {found[1]:.4f})" if found else ""),
        found is not None,
        strength="numeric",
    )
    # Note: the spec's k is a positive symbol; a negative number substituted for it still gives
    # the value of the same formula, i.e. the network with a decreasing activation tanh(k u).
    decreasing = {W[0, 0]: 0, W[1, 1]: 0, W[0, 1]: 1, W[1, 0]: 1, s.gain: -1, s.time_constant: 1}
    found = first_rise(decreasing)
    proof.check_true(
        "Dropping g' > 0: symmetric W = [[0, 1], [1, 0]], gain k = −1: a point with dE/dt > 0"
        + (f" (u = {found[0]}, dE/dt = {found[1]:.4f})" if found else ""),
        found is not None,
        strength="numeric",
    )
    backwards = {W[0, 0]: 0, W[1, 1]: 0, W[0, 1]: 1, W[1, 0]: 1, s.gain: 1, s.time_constant: -1}
    found = first_rise(backwards)
    proof.check_true(
        "Dropping τ > 0 (time running backwards): τ = −1 has a point with dE/dt > 0"
        + (f" (u = {found[0]}, dE/dt = {found[1]:.4f})" if found else ""),
        found is not None,
        strength="numeric",
    )


def main() -> None:
    """Derive the leak integral and dE/dt ≤ 0; break each hypothesis."""
    proof = Derivation(
        "Lyapunov energy of the continuous Hopfield network",
        "§8.6.1 (continuous network); Hopfield 1984",
    )
    proof.claim(
        sympy.Le(sympy.Symbol("dE/dt"), 0),
        "for τ du/dt = −u + W tanh(k u) + b with W = Wᵀ, k > 0, τ > 0, "
        "E = −½vᵀWv − bᵀv + (1/k)Σ∫_0^{v_i} artanh; dE/dt = −τ Σ g'(u_i)(du_i/dt)² "
        f"(network algebra checked entrywise for M in {SIZES}, and per neuron for symbolic M)",
    )
    _leak_integral(proof)
    _inverse_activation(proof)
    for size in SIZES:
        _derivative(proof, size)
    _symbolic_size(proof)
    proof.step(
        "Each term of −τ Σ_i g'(u_i)(du_i/dt)² is ≤ 0 (τ > 0, g' > 0, a square), so dE/dt ≤ 0, "
        "with equality only where du/dt = 0, i.e. at equilibria. E is bounded below on [−1, 1]^M, "
        "so trajectories settle."
    )
    proof.step(
        "Each hypothesis is needed: counterexamples found on a grid u ∈ {−3/2, …, 3/2}², b = 0."
    )
    _counterexamples(proof)
    proof.qed()


if __name__ == "__main__":
    main()
