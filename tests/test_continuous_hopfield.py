"""Properties of the continuous Hopfield network (§8.6.1; Hopfield 1984).

impl: ``impl.continuous_hopfield``; spec: ``spec.continuous_hopfield``.
"""

import math
from collections.abc import Callable
from functools import cache
from typing import Any

import numpy as np
import pytest
import sympy
from hypothesis import given
from hypothesis import strategies as st
from numpy.typing import NDArray

from impl.continuous_hopfield import (
    artanh_antiderivative,
    continuous_hopfield_activation,
    continuous_hopfield_asynchronous_sweep,
    continuous_hopfield_energy,
    continuous_hopfield_synchronous_update,
    continuous_hopfield_update_neuron,
    continuous_hopfield_velocity,
    integrate_continuous_hopfield,
)
from impl.testing.strategies import (
    ContinuousHopfieldInputs,
    continuous_hopfield_inputs,
    float_arrays,
    float_dtypes,
    permutations_of,
)
from impl.testing.tolerances import assert_close, eps
from spec import continuous_hopfield as spec

Array = NDArray[np.floating[Any]]

ENERGY_ROUNDING_ULPS = 64.0
"""Slack for "non-increasing": an energy is a sum of O(M²) rounded products, so
two evaluations of equal true energies may differ by a few dozen ulps of the
energy's scale (Σ|W_ij| + Σ|b_i| + M·log 2/gain)."""


BATCH_ROUNDING_ULPS = 16.0
"""Slack for batched vs single calls: summation order differs (see the batch test)."""


def _energy_scale(inputs: ContinuousHopfieldInputs) -> float:
    M = inputs.biases.shape[0]
    return float(
        np.abs(inputs.weights).sum() + np.abs(inputs.biases).sum() + M * math.log(2) / inputs.gain
    )


def _slack(inputs: ContinuousHopfieldInputs) -> float:
    return ENERGY_ROUNDING_ULPS * eps(inputs.weights.dtype) * _energy_scale(inputs)


@cache
def _spec_energy(M: int) -> Callable[..., Any]:
    s = spec.network_symbols(M)
    W = [s.weights[i, j] for i in range(M) for j in range(M)]
    return sympy.lambdify([*s.states, *W, *s.biases, s.gain], spec.energy(M), modules="numpy")


@cache
def _spec_velocity(M: int) -> Callable[..., Any]:
    s = spec.network_symbols(M)
    W = [s.weights[i, j] for i in range(M) for j in range(M)]
    return sympy.lambdify(
        [*s.potentials, *W, *s.biases, s.gain, s.time_constant],
        list(spec.velocity(M)),
        modules="numpy",
    )


@given(continuous_hopfield_inputs(dtype=np.dtype(np.float64), max_neurons=4))
def test_continuous_hopfield_energy_matches_spec(inputs: ContinuousHopfieldInputs) -> None:
    """E(v) = −½vᵀWv − bᵀv + (1/k)Σ∫_0^{v_i} artanh equals the sympy energy (§8.6.1)."""
    M = inputs.biases.shape[0]
    states = continuous_hopfield_activation(inputs.potentials, gain=inputs.gain)
    # Keep away from |v| = 1, where the spec's v·atanh(v) form is ∞·0 (impl uses the limit).
    clipped = np.clip(states, -0.999999, 0.999999)
    actual = continuous_hopfield_energy(clipped, inputs.weights, inputs.biases, gain=inputs.gain)
    desired = _spec_energy(M)(
        *np.moveaxis(clipped, -1, 0), *inputs.weights.ravel(), *inputs.biases, inputs.gain
    )
    # Note: atol of a few dozen ulps of the energy's scale: the spec's form
    # v·atanh(v) + log(1 + v) − atanh(v) cancels to ~1e-31 near v = 0 where impl gives 0.
    desired_array = np.asarray(desired, dtype=np.float64) + np.zeros(states.shape[:-1])
    assert_close(actual, desired_array, atol=_slack(inputs))


@given(float_dtypes.flatmap(lambda d: float_arrays(d, (7,), magnitude=1.0)))
def test_artanh_antiderivative_matches_spec(states: Array) -> None:
    """∫_0^v artanh = sympy's integral; at v = ±1 it is the limit log 2 (Hopfield 1984)."""
    x, integral = spec.artanh_antiderivative()
    interior: Array = np.clip(states, -1 + 1e-6, 1 - 1e-6).astype(states.dtype)
    desired = sympy.lambdify(x, integral, modules="numpy")(interior.astype(np.float64))
    # Note: compared with atol for values near 0, where the integral is ≈ v²/2.
    assert_close(
        artanh_antiderivative(interior),
        np.asarray(desired, dtype=states.dtype),
        atol=4 * eps(states.dtype),
    )


def test_artanh_antiderivative_saturated_limit() -> None:
    """At v = ±1 (tanh saturated in floating point) the integral is log 2, not NaN."""
    for dtype in (np.float32, np.float64):
        ends: Array = np.array([-1.0, 0.0, 1.0], dtype=dtype)
        assert_close(artanh_antiderivative(ends), np.array([math.log(2), 0, math.log(2)], dtype))


@given(continuous_hopfield_inputs(), st.data())
def test_continuous_hopfield_asynchronous_energy_non_increasing(
    inputs: ContinuousHopfieldInputs, data: st.DataObject
) -> None:
    """Each single-neuron update v_i ← tanh(k(W_i·v + b_i)) never raises E (W = Wᵀ, W_ii ≥ 0)."""
    M = inputs.biases.shape[0]
    W, b, k = inputs.weights, inputs.biases, inputs.gain
    v = continuous_hopfield_activation(inputs.potentials, gain=k)
    energy = continuous_hopfield_energy(v, W, b, gain=k)
    for _ in range(3):
        for i in data.draw(permutations_of(M)):
            v = continuous_hopfield_update_neuron(v, int(i), W, b, gain=k)
            new_energy = continuous_hopfield_energy(v, W, b, gain=k)
            assert np.all(new_energy <= energy + _slack(inputs)), (new_energy - energy).max()
            energy = new_energy


@given(continuous_hopfield_inputs(), st.data())
def test_continuous_hopfield_sweep_equals_neuron_updates(
    inputs: ContinuousHopfieldInputs, data: st.DataObject
) -> None:
    """A sweep in a given order is the composition of the single-neuron updates (§8.6.1)."""
    W, b, k = inputs.weights, inputs.biases, inputs.gain
    order = data.draw(permutations_of(b.shape[0]))
    v = continuous_hopfield_activation(inputs.potentials, gain=k)
    expected = v
    for i in order:
        expected = continuous_hopfield_update_neuron(expected, int(i), W, b, gain=k)
    assert_close(continuous_hopfield_asynchronous_sweep(v, W, b, gain=k, order=order), expected)


ODE_STEP = 0.01
"""RK4 step h = 0.01 τ: local error O(h⁵) ≈ 1e-10 (times derivatives of the
field, which are O(k⁴ |W|⁴) here), far below the per-step descent."""


@given(continuous_hopfield_inputs())
def test_continuous_hopfield_ode_energy_non_increasing(inputs: ContinuousHopfieldInputs) -> None:
    """Along τ du/dt = −u + W tanh(k u) + b, E(t+h) ≤ E(t) (W = Wᵀ; Hopfield 1984).

    Tolerance: ``ENERGY_ROUNDING_ULPS`` ulps of the energy's scale (the RK4
    error at h = 0.01 is below it; see ODE_STEP).
    """
    trajectory = integrate_continuous_hopfield(
        inputs.potentials,
        inputs.weights,
        inputs.biases,
        gain=inputs.gain,
        step_size=ODE_STEP,
        num_steps=150,
    )
    rises = np.diff(trajectory.energies, axis=0)
    assert np.all(rises <= _slack(inputs)), rises.max()


@given(continuous_hopfield_inputs(max_gain=1.0), st.sampled_from(["rk4", "euler"]))
def test_continuous_hopfield_ode_states_in_open_interval(
    inputs: ContinuousHopfieldInputs, method: str
) -> None:
    """States tanh(k u) stay in (−1, 1) (§8.6.1, continuous network).

    Floating point saturates tanh to exactly ±1 once |k u| ≳ 9 (float32), so
    the property is checked where |k u| stays ≤ 6: |u(0)| ≤ 3, and the field
    |W v + b| ≤ Σ_j |W_ij| + |b_i| ≤ 6 bounds |u(t)| and |k u| for k ≤ 1.
    """
    trajectory = integrate_continuous_hopfield(
        inputs.potentials,
        inputs.weights,
        inputs.biases,
        gain=inputs.gain,
        step_size=0.05,
        num_steps=40,
        method="rk4" if method == "rk4" else "euler",
    )
    assert np.all(np.abs(trajectory.states) < 1)
    v = continuous_hopfield_asynchronous_sweep(
        trajectory.states[-1], inputs.weights, inputs.biases, gain=inputs.gain
    )
    assert np.all(np.abs(v) < 1)


@given(continuous_hopfield_inputs(dtype=np.dtype(np.float64), max_neurons=4))
def test_continuous_hopfield_velocity_matches_spec(inputs: ContinuousHopfieldInputs) -> None:
    """du/dt = (−u + W tanh(k u) + b)/τ equals the spec's ODE right-hand side."""
    M = inputs.biases.shape[0]
    tau = 0.7
    actual = continuous_hopfield_velocity(
        inputs.potentials, inputs.weights, inputs.biases, gain=inputs.gain, time_constant=tau
    )
    columns = _spec_velocity(M)(
        *np.moveaxis(inputs.potentials, -1, 0),
        *inputs.weights.ravel(),
        *inputs.biases,
        inputs.gain,
        tau,
    )
    desired = np.stack([np.broadcast_to(c, inputs.potentials.shape[:-1]) for c in columns], -1)
    # Note: atol for sums that cancel to ~0 (−u + W v + b with u ≈ W v + b).
    assert_close(actual, desired, atol=_slack(inputs))


RK4_GLOBAL_ERROR = 1e-8
"""RK4 on u' = (b − u)/τ multiplies u − b by R(z) = Σ_{m≤4} z^m/m! per step, z = −h/τ,
|z| ≤ 0.02; |R(z)^n − e^{nz}| ≤ n|z|⁵/120·e^{nz} ≤ 18.4·2.7e-11 (max at n = 50), times
|u0 − b| ≤ 6: ≈ 3e-9 at worst."""


@given(st.floats(-3, 3), st.floats(-3, 3), st.floats(0.5, 3.0))
def test_integrate_continuous_hopfield_rk4_exact_for_single_neuron(
    u0: float, bias: float, tau: float
) -> None:
    """With W = 0 the ODE is linear, u(t) = b + (u0 − b)e^{−t/τ}; RK4 matches it to O(h⁴)."""
    trajectory = integrate_continuous_hopfield(
        np.array([u0]),
        np.zeros((1, 1)),
        np.array([bias]),
        time_constant=tau,
        step_size=0.01,
        num_steps=200,
    )
    exact = bias + (u0 - bias) * np.exp(-trajectory.times / tau)
    assert_close(trajectory.potentials[:, 0], exact, atol=RK4_GLOBAL_ERROR)


@given(continuous_hopfield_inputs())
def test_continuous_hopfield_batch_consistency(inputs: ContinuousHopfieldInputs) -> None:
    """Batched energy, synchronous update and ODE equal the per-item calls."""
    W, b, k = inputs.weights, inputs.biases, inputs.gain
    u = inputs.potentials.reshape(-1, b.shape[0])
    v = continuous_hopfield_activation(u, gain=k)
    energies = continuous_hopfield_energy(v, W, b, gain=k)
    synchronous = continuous_hopfield_synchronous_update(v, W, b, gain=k)
    final = integrate_continuous_hopfield(u, W, b, gain=k, num_steps=5).potentials[-1]
    # A batched and a single matmul may sum in different orders, so a field that
    # cancels to 0 comes out as ±(Σ_j |w_ij| + |b_i|)·eps; tanh passes that on
    # scaled by the gain, and 5 ODE steps accumulate a few such roundings.
    field_scale = float(np.abs(W).sum(axis=-1).max() + np.abs(b).max(initial=0.0))
    atol = BATCH_ROUNDING_ULPS * eps(W.dtype) * field_scale * max(k, 1.0)
    for n in range(u.shape[0]):
        assert_close(
            np.asarray(energies[n]),
            continuous_hopfield_energy(v[n], W, b, gain=k),
            atol=_slack(inputs),
        )
        single_update = continuous_hopfield_synchronous_update(v[n], W, b, gain=k)
        assert_close(synchronous[n], single_update, atol=atol)
        single = integrate_continuous_hopfield(u[n], W, b, gain=k, num_steps=5).potentials[-1]
        assert_close(final[n], single, atol=atol)


def test_continuous_hopfield_asymmetric_energy_can_rise() -> None:
    """Dropping W = Wᵀ breaks the Lyapunov property: a rotation-like W raises E on the ODE."""
    W = np.array([[0.0, 3.0], [-3.0, 0.0]])
    with pytest.raises(ValueError, match="symmetric"):
        integrate_continuous_hopfield(np.array([1.0, 0.0]), W)
    trajectory = integrate_continuous_hopfield(
        np.array([1.0, 0.0]), W, gain=2.0, num_steps=200, allow_asymmetric=True
    )
    assert np.diff(trajectory.energies).max() > 1e-3


def test_continuous_hopfield_extreme_potentials() -> None:
    """Huge potentials saturate tanh to exactly ±1: energy finite (uses log 2), ODE finite."""
    W = np.array([[0.0, 1.0], [1.0, 0.0]])
    u = np.array([1e30, -1e30])
    trajectory = integrate_continuous_hopfield(u, W, num_steps=3)
    assert np.all(np.isfinite(trajectory.energies))
    assert np.all(np.abs(trajectory.states) == 1)
    # E(±1, ∓1) = −½·(−2) + 2·log 2
    assert_close(np.asarray(trajectory.energies[0]), np.asarray(1 + 2 * math.log(2)))


def test_continuous_hopfield_single_neuron() -> None:
    """M = 1: the update is v ← tanh(k(w v + b)), the energy −½wv² − bv + ∫artanh/k."""
    W = np.array([[0.5]])
    b = np.array([0.25])
    v = continuous_hopfield_update_neuron(np.array([0.1]), 0, W, b, gain=2.0)
    assert_close(v, np.tanh(2.0 * (0.5 * np.array([0.1]) + 0.25)))
    energy = continuous_hopfield_energy(v, W, b, gain=2.0)
    leak = v[0] * np.arctanh(v[0]) + 0.5 * np.log(1 - v[0] ** 2)
    assert_close(energy, np.asarray(-0.25 * v[0] ** 2 - 0.25 * v[0] + leak / 2.0))


def test_continuous_hopfield_defaults_are_the_documented_ones() -> None:
    """Defaults: gain 1 (g = tanh), τ = 1, h = 0.01, 100 RK4 steps (t from 0 to 1), b = 0.

    Each default call equals the call with the default spelled out, and the values
    are pinned independently: one synchronous step is tanh(W v) exactly as NumPy
    computes it, and the trajectory has 101 states at times k/100.
    """
    W = np.array([[0.0, 0.75], [0.75, 0.0]])
    v = np.array([0.5, -0.25])
    assert_close(continuous_hopfield_synchronous_update(v, W), np.tanh(W @ v))
    assert_close(
        continuous_hopfield_synchronous_update(v, W),
        continuous_hopfield_synchronous_update(v, W, np.zeros(2), gain=1.0),
    )
    u = np.array([0.3, -0.2])
    default = integrate_continuous_hopfield(u, W)
    explicit = integrate_continuous_hopfield(
        u, W, np.zeros(2), gain=1.0, time_constant=1.0, step_size=0.01, num_steps=100, method="rk4"
    )
    assert default.times.shape == (101,)
    assert default.potentials.shape == (101, 2)
    assert_close(default.times, np.arange(101) / 100)
    assert np.array_equal(default.potentials, explicit.potentials)
    assert np.array_equal(default.energies, explicit.energies)


def test_continuous_hopfield_bad_input() -> None:
    """Bad input raises errors naming the argument."""
    W = np.eye(2)
    v = np.zeros(2)
    with pytest.raises(ValueError, match="symmetric"):
        continuous_hopfield_energy(v, np.array([[0.0, 1.0], [0.0, 0.0]]))
    with pytest.raises(ValueError, match="square"):
        continuous_hopfield_energy(v, np.ones((2, 3)))
    with pytest.raises(ValueError, match="states have 3 neurons"):
        continuous_hopfield_energy(np.zeros(3), W)
    with pytest.raises(ValueError, match=r"\[-1, 1\]"):
        continuous_hopfield_energy(np.array([2.0, 0.0]), W)
    with pytest.raises(TypeError, match="share one float dtype"):
        continuous_hopfield_energy(v.astype(np.float32), W)
    with pytest.raises(ValueError, match="gain must be finite and positive"):
        continuous_hopfield_energy(v, W, gain=0.0)
    with pytest.raises(ValueError, match="biases must have shape"):
        continuous_hopfield_energy(v, W, np.zeros(3))
    with pytest.raises(ValueError, match="NaN"):
        continuous_hopfield_energy(np.array([np.nan, 0.0]), W)
    with pytest.raises(ValueError, match="index must be in"):
        continuous_hopfield_update_neuron(v, 2, W)
    with pytest.raises(ValueError, match="permutation"):
        continuous_hopfield_asynchronous_sweep(v, W, order=np.array([0, 0]))
    with pytest.raises(ValueError, match="method"):
        integrate_continuous_hopfield(v, W, method="midpoint")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="step_size"):
        integrate_continuous_hopfield(v, W, step_size=-0.1)
    with pytest.raises(ValueError, match="time_constant"):
        continuous_hopfield_velocity(v, W, time_constant=0.0)


def test_continuous_hopfield_synchronous_energy_can_rise() -> None:
    """Synchronous updates are not a descent (documented): W = [[0, −2], [−2, 0]] oscillates
    towards a 2-cycle (+, +) ↔ (−, −) while E rises at every step, as in the discrete case."""
    W = np.array([[0.0, -2.0], [-2.0, 0.0]])
    v = np.array([0.9, 0.5])
    energies = []
    for _ in range(4):
        energies.append(float(continuous_hopfield_energy(v, W)))
        v = continuous_hopfield_synchronous_update(v, W)
    assert np.all(np.diff(energies) > 0)
    # The asynchronous sweep from the same start does not raise it.
    start = np.array([0.9, 0.5])
    after = continuous_hopfield_asynchronous_sweep(start, W)
    assert continuous_hopfield_energy(after, W) <= continuous_hopfield_energy(start, W)


EQUILIBRIUM_TOLERANCE = 1e-8
"""With k·Σ|W_ij| ≤ 0.75 the map u ↦ W tanh(k u) + b contracts, so the ODE
approaches its unique equilibrium like e^{−t/4}; at t = 100 the distance is
≲ e^{−25}·6 ≈ 1e-10, well below this."""


@given(
    continuous_hopfield_inputs(
        dtype=np.dtype(np.float64), max_neurons=5, magnitude=0.3, max_gain=0.5
    )
)
def test_continuous_hopfield_ode_equilibrium_is_synchronous_fixed_point(
    inputs: ContinuousHopfieldInputs,
) -> None:
    """At an equilibrium u* = W g(u*) + b of the ODE, v* = g(u*) is a fixed point of the
    synchronous map v ↦ tanh(k(W v + b)) and of every asynchronous update (§8.6.1)."""
    W, b, k = inputs.weights, inputs.biases, inputs.gain
    trajectory = integrate_continuous_hopfield(
        inputs.potentials, W, b, gain=k, step_size=0.05, num_steps=2000
    )
    v_star = trajectory.states[-1]
    assert_close(
        continuous_hopfield_synchronous_update(v_star, W, b, gain=k),
        v_star,
        atol=EQUILIBRIUM_TOLERANCE,
    )
    assert_close(
        continuous_hopfield_asynchronous_sweep(v_star, W, b, gain=k),
        v_star,
        atol=EQUILIBRIUM_TOLERANCE,
    )


def test_continuous_hopfield_scalars_and_overflow_are_named() -> None:
    """Issue 7, classes 2-3: scalars checked in the dtype; overflowing inputs named.

    A gain of 1e39 is finite in float64 but inf in float32; 1/gain for gain = 1e-320
    overflows; weights whose row sums exceed finfo.max / 4 would overflow the field;
    an explicit Euler step far beyond stability overflows the trajectory.
    """
    v = np.array([0.5, -0.2], dtype=np.float32)
    w = np.array([[0.0, 1.0], [1.0, 0.0]], dtype=np.float32)
    with pytest.raises(ValueError, match=r"gain = 1e\+39 overflows float32"):
        continuous_hopfield_synchronous_update(v, w, gain=1e39)
    continuous_hopfield_synchronous_update(v.astype(np.float64), w.astype(np.float64), gain=1e39)
    with pytest.raises(ValueError, match="gain = 1e-320 is below the smallest normal"):
        continuous_hopfield_energy(v.astype(np.float64), w.astype(np.float64), gain=1e-320)
    huge = np.array([[0.0, 3e38], [3e38, 0.0]], dtype=np.float32)
    with pytest.raises(ValueError, match="weights and biases are too large for float32"):
        continuous_hopfield_velocity(v, huge)
    with pytest.raises(ValueError, match=r"step_size = 1e\+30 .* diverged"):
        integrate_continuous_hopfield(
            np.array([0.5, -0.2]),
            np.array([[0.0, 1.0], [1.0, 0.0]]),
            step_size=1e30,
            num_steps=20,
            method="euler",
        )
