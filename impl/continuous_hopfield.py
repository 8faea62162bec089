"""Continuous Hopfield network: tanh neurons, discrete-time and ODE dynamics, Lyapunov energy.

Book: §8.6.1 mentions the continuous network (states in an interval, a smooth
activation) beside the discrete one; we follow Hopfield (1984), "Neurons with
graded response have collective computational properties like those of
two-state neurons". Spec: ``spec.continuous_hopfield``.

Conventions shared by every function here:

* Potentials u and states v = g(u) = tanh(gain · u) have shape (..., M): the
  book's column state vector is our last axis, leading axes are a batch.
* ``weights`` W is one (M, M) matrix shared by the batch, ``biases`` b is (M,)
  (default 0). (W v)_i = Σ_j W_ij v_j, so for row states we compute v @ Wᵀ.
* W must be symmetric (up to ``8·eps·max|W|``, so a Hebbian sum rounded in a
  different order still passes): the Lyapunov property needs it. Pass
  ``allow_asymmetric=True`` to run the dynamics anyway (counterexample studies);
  the energy of an asymmetric W is that of its symmetric part.
* States are in (−1, 1) mathematically. In floating point tanh saturates to
  exactly ±1 once |gain·u| ≳ 19 (float64) or ≳ 9 (float32); the energy accepts
  the closed interval [−1, 1] and uses the limit ∫_0^{±1} artanh = log 2.
"""

from dataclasses import dataclass
from typing import Annotated, Any, Literal

import numpy as np

from impl import _validation as check
from impl._typing import FloatArray, IntArray
from impl.hopfield import _read_only

States = Annotated[FloatArray, "... m"]
"""Neuron states v (or potentials u), one row of M neurons per batch item."""

MAX_TRAJECTORY_ENTRIES = 10**8
"""``integrate_continuous_hopfield`` keeps every step: (num_steps + 1) · batch · M is
refused above this (10⁸ entries, 800 MB in float64)."""


def _weights(weights: object, size: int, *, allow_asymmetric: bool) -> FloatArray:
    W = check.float_array(weights, "weights", min_ndim=2)
    if W.ndim != 2 or W.shape[0] != W.shape[1]:
        raise ValueError(f"weights must be a square matrix (M, M), got shape {W.shape}")
    if W.shape[0] != size:
        raise ValueError(f"weights is {W.shape[0]}×{W.shape[1]}, states have {size} neurons")
    if not allow_asymmetric:
        scale = float(np.max(np.abs(W))) if W.size else 0.0
        check.symmetric_matrix(
            W,
            "weights",
            tolerance=8.0 * float(np.finfo(W.dtype).eps) * scale,
            remedy="the energy is a Lyapunov function only for W = Wᵀ; pass "
            "allow_asymmetric=True to study the asymmetric case",
        )
    return W


def _biases(biases: object, size: int, dtype: np.dtype[Any]) -> FloatArray:
    if biases is None:
        zeros: FloatArray = np.zeros(size, dtype=dtype)
        return zeros
    b = check.float_array(biases, "biases", min_ndim=1)
    if b.shape != (size,):
        raise ValueError(f"biases must have shape ({size},), got {b.shape}")
    return b


def _network(
    x: object, name: str, weights: object, biases: object, *, allow_asymmetric: object
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Check (x, weights, biases) once: shapes, dtypes, symmetry, and no overflow.

    The field W v + b of states v ∈ [−1, 1] is bounded by Σ_j |W_ij| + |b_i|, and
    u of the ODE by its inputs; so the row sums and |x| must stay below
    finfo.max / 4 (≈ 8.5e37 in float32), which keeps −u + W v + b finite.
    """
    states = check.float_array(x, name, min_ndim=1)
    M = states.shape[-1]
    if M == 0:
        raise ValueError(
            f"{name} must have at least one neuron (last axis), got shape {states.shape}"
        )
    W = _weights(weights, M, allow_asymmetric=check.boolean(allow_asymmetric, "allow_asymmetric"))
    b = _biases(biases, M, states.dtype)
    check.same_dtype(**{name: states, "weights": W, "biases": b})
    limit = float(np.finfo(W.dtype).max) / 4
    with np.errstate(over="ignore"):
        row_sums = np.abs(W).sum(axis=-1, dtype=np.float64) + np.abs(b)
    if not float(row_sums.max()) <= limit:
        raise ValueError(
            f"weights and biases are too large for {W.dtype}: max_i Σ_j |W_ij| + |b_i| = "
            f"{float(row_sums.max())!r} exceeds finfo.max / 4 = {limit!r} (fields would overflow)"
        )
    if states.size and not float(np.abs(states).max()) <= limit:
        raise ValueError(f"{name} must stay below finfo.max / 4 = {limit!r} in magnitude")
    return states, W, b


def _gain(gain: object, dtype: np.dtype[Any]) -> float:
    return check.positive_real_in_dtype(gain, "gain", dtype, reciprocal=True)


def continuous_hopfield_activation(potentials: States, *, gain: float = 1.0) -> States:
    r"""Neuron output v = g(u) = tanh(gain · u), in (−1, 1).

    Book: §8.6.1 (continuous network: a smooth, increasing activation).
    Shapes: potentials (..., M) -> (..., M), same dtype.
    Assumptions: gain > 0 (g increasing; the Lyapunov argument needs g' > 0),
    checked in the potentials' dtype (a gain of 1e39 overflows float32) with a
    finite 1/gain; tanh saturates, so any finite gain · u is fine.
    """
    u = check.float_array(potentials, "potentials", min_ndim=0)
    k = _gain(gain, u.dtype)
    with np.errstate(over="ignore"):
        v: FloatArray = np.tanh(np.asarray(k, dtype=u.dtype) * u)
    return v


def _artanh_antiderivative(v: FloatArray) -> FloatArray:
    """½[(1 + v)·log(1 + v) + (1 − v)·log(1 − v)] with 0·log 0 = 0 (trusted v ∈ [−1, 1])."""
    one = np.asarray(1, dtype=v.dtype)
    plus: FloatArray = one + v
    minus: FloatArray = one - v
    with np.errstate(divide="ignore", invalid="ignore"):
        # Note: log1p(±v) rather than log(1 ± v) keeps the relative accuracy for small |v|.
        plus_term: FloatArray = np.where(plus > 0, plus * np.log1p(v), 0)
        minus_term: FloatArray = np.where(minus > 0, minus * np.log1p(-v), 0)
    result: FloatArray = (np.asarray(0.5, dtype=v.dtype) * (plus_term + minus_term)).astype(v.dtype)
    return result


def _unit_states(states: object, name: str = "states") -> FloatArray:
    v = check.float_array(states, name, min_ndim=0)
    if np.any(np.abs(v) > 1):
        raise ValueError(f"{name} must lie in [-1, 1] (outputs of tanh)")
    return v


def artanh_antiderivative(states: States) -> States:
    r"""Elementwise ∫_0^v artanh(x) dx = v·artanh(v) + ½·log(1 − v²).

    Book: §8.6.1 (continuous network), the leak term of Hopfield's (1984) energy.
    Shapes: states (...) -> (...), same dtype; v ∈ [−1, 1].
    Computed as ½[(1 + v)·log(1 + v) + (1 − v)·log(1 − v)] with 0·log 0 = 0, which
    is the same function (expand artanh v = ½ log((1+v)/(1−v))) but finite at
    v = ±1, where it equals the limit log 2.
    Spec: ``spec.continuous_hopfield.artanh_antiderivative``.
    """
    return _artanh_antiderivative(_unit_states(states))


def _energy(v: FloatArray, W: FloatArray, b: FloatArray, gain: float) -> FloatArray:
    """E = −½ vᵀWv − bᵀv + (1/gain) Σ_i ∫_0^{v_i} artanh (trusted)."""
    leak: FloatArray = _artanh_antiderivative(v).sum(axis=-1)  # Σ_i ∫_0^{v_i} artanh
    quadratic: FloatArray = np.einsum("...i,ij,...j->...", v, W, v)  # vᵀ W v
    linear: FloatArray = v @ b  # bᵀ v
    half = np.asarray(0.5, dtype=v.dtype)
    # Note: np.asarray keeps a 0-d array (not a NumPy scalar) for unbatched states.
    with np.errstate(over="ignore"):
        energy: FloatArray = np.asarray(
            -half * quadratic - linear + leak / np.asarray(gain, dtype=v.dtype)
        )
    return energy


def continuous_hopfield_energy(
    states: States,
    weights: FloatArray,
    biases: FloatArray | None = None,
    *,
    gain: float = 1.0,
    allow_asymmetric: bool = False,
) -> FloatArray:
    r"""Lyapunov energy E(v) = −½ vᵀWv − bᵀv + (1/gain) Σ_i ∫_0^{v_i} artanh(x) dx.

    Book: §8.6.1 (continuous Hopfield network); Hopfield (1984), eq. (7), with
    all resistances 1 and g = tanh(gain ·), so g⁻¹(v) = artanh(v)/gain.
    Shapes: states (..., M), weights (M, M), biases (M,) -> energies (...).
    Assumptions: W symmetric (see the module docstring), v ∈ [−1, 1], gain > 0
    with 1/gain finite in the dtype; if the leak term log 2 · M / gain itself
    overflows, a ``ValueError`` names ``gain``.
    Spec: ``spec.continuous_hopfield.energy``.
    """
    v, W, b = _network(states, "states", weights, biases, allow_asymmetric=allow_asymmetric)
    if np.any(np.abs(v) > 1):
        raise ValueError("states must lie in [-1, 1] (outputs of tanh)")
    k = _gain(gain, v.dtype)
    energy = _energy(v, W, b, k)
    if not np.isfinite(energy).all():
        raise ValueError(f"gain = {gain} is too small: the leak term Σ ∫artanh / gain overflows")
    return energy


def continuous_hopfield_update_neuron(
    states: States,
    index: int,
    weights: FloatArray,
    biases: FloatArray | None = None,
    *,
    gain: float = 1.0,
    allow_asymmetric: bool = False,
) -> States:
    r"""Asynchronous update of neuron i: v_i ← tanh(gain · (Σ_j W_ij v_j + b_i)).

    Book: §8.6.1, asynchronous update (one neuron at a time), with the smooth
    activation in place of the sign.
    Shapes: states (..., M), weights (M, M), biases (M,) -> new states (..., M);
    only component ``index`` changes (in every batch item). The input is not
    modified.
    Assumptions: for the energy to be non-increasing, W symmetric with a
    non-negative diagonal (the update minimises E over v_i after linearising
    the concave −½ W_ii v_i² term; with W_ii < 0 it can overshoot).
    """
    v, W, b = _network(states, "states", weights, biases, allow_asymmetric=allow_asymmetric)
    k = _gain(gain, v.dtype)
    i = check.index(index, v.shape[-1], "index")
    return _update_neuron(v.copy(), i, W, b, k)


def _update_neuron(v: FloatArray, i: int, W: FloatArray, b: FloatArray, gain: float) -> FloatArray:
    """In-place single-neuron update (arguments already validated)."""
    field: FloatArray = v @ W[i] + b[i]  # Σ_j W_ij v_j + b_i, shape (...)
    with np.errstate(over="ignore"):
        v[..., i] = np.tanh(np.asarray(gain, dtype=v.dtype) * field)
    return v


def continuous_hopfield_asynchronous_sweep(
    states: States,
    weights: FloatArray,
    biases: FloatArray | None = None,
    *,
    gain: float = 1.0,
    order: IntArray | None = None,
    allow_asymmetric: bool = False,
) -> States:
    r"""One asynchronous sweep: update every neuron once, one at a time, in ``order``.

    Book: §8.6.1, asynchronous updates (random or fixed order).
    Shapes: states (..., M) -> (..., M); ``order`` a permutation of range(M)
    (default 0, 1, …, M−1; for a random order pass ``rng.permutation(M)``).
    Assumptions: as ``continuous_hopfield_update_neuron``; each single update
    is energy non-increasing when W is symmetric with W_ii ≥ 0.
    """
    v, W, b = _network(states, "states", weights, biases, allow_asymmetric=allow_asymmetric)
    k = _gain(gain, v.dtype)
    M = v.shape[-1]
    sequence = np.arange(M) if order is None else check.permutation(order, M)
    result = v.copy()
    for i in sequence:
        _update_neuron(result, int(i), W, b, k)
    return result


def continuous_hopfield_synchronous_update(
    states: States,
    weights: FloatArray,
    biases: FloatArray | None = None,
    *,
    gain: float = 1.0,
    allow_asymmetric: bool = False,
) -> States:
    r"""Synchronous update of all neurons: v ← tanh(gain · (W v + b)).

    Book: §8.6.1, synchronous updates (all neurons at once, with a clock).
    Shapes: states (..., M) -> (..., M).
    Assumptions: none for the map itself. The energy is *not* guaranteed to
    decrease (as for the discrete network, period-2 oscillations exist; Marcus
    & Westervelt 1989 show descent when gain·λ_min(W) > −1).
    """
    v, W, b = _network(states, "states", weights, biases, allow_asymmetric=allow_asymmetric)
    k = _gain(gain, v.dtype)
    field: FloatArray = v @ W.T + b  # (W v + b) for row states
    with np.errstate(over="ignore"):
        result: FloatArray = np.tanh(np.asarray(k, dtype=v.dtype) * field)
    return result


def continuous_hopfield_velocity(
    potentials: States,
    weights: FloatArray,
    biases: FloatArray | None = None,
    *,
    gain: float = 1.0,
    time_constant: float = 1.0,
    allow_asymmetric: bool = False,
) -> States:
    r"""Right-hand side of the ODE: du/dt = (−u + W tanh(gain·u) + b) / τ.

    Book: §8.6.1 (continuous network); Hopfield (1984), eq. (5), with unit
    resistances and capacitances folded into τ.
    Shapes: potentials (..., M), weights (M, M), biases (M,) -> (..., M).
    τ is checked in the dtype with 1/τ finite; a velocity that still overflows
    (|u| near finfo.max / 4 with a tiny τ) is a ``ValueError`` naming ``time_constant``.
    Spec: ``spec.continuous_hopfield.velocity``.
    """
    u, W, b = _network(potentials, "potentials", weights, biases, allow_asymmetric=allow_asymmetric)
    k = _gain(gain, u.dtype)
    tau = check.positive_real_in_dtype(time_constant, "time_constant", u.dtype, reciprocal=True)
    with np.errstate(over="ignore", invalid="ignore"):
        du = _velocity(u, W, b, k, tau)
    if not np.isfinite(du).all():
        raise ValueError(
            f"time_constant = {time_constant} is too small for these potentials: du/dt overflows"
        )
    return du


def _velocity(u: FloatArray, W: FloatArray, b: FloatArray, gain: float, tau: float) -> FloatArray:
    """du/dt (trusted; callers that may overflow run it under ``np.errstate``)."""
    v: FloatArray = np.tanh(np.asarray(gain, dtype=u.dtype) * u)
    du: FloatArray = (-u + v @ W.T + b) / np.asarray(tau, dtype=u.dtype)
    return du


@dataclass(frozen=True)
class ContinuousHopfieldTrajectory:
    """A fixed-step solution of the continuous Hopfield ODE.

    ``times`` (T+1,); ``potentials`` and ``states`` (T+1, ..., M) with
    states = tanh(gain · potentials); ``energies`` (T+1, ...), the Lyapunov
    energy of each state. The arrays are read-only copies.
    """

    times: FloatArray
    potentials: FloatArray
    states: FloatArray
    energies: FloatArray

    def __post_init__(self) -> None:
        for name in ("times", "potentials", "states", "energies"):
            object.__setattr__(self, name, _read_only(getattr(self, name)))


def integrate_continuous_hopfield(
    potentials: States,
    weights: FloatArray,
    biases: FloatArray | None = None,
    *,
    gain: float = 1.0,
    time_constant: float = 1.0,
    step_size: float = 0.01,
    num_steps: int = 100,
    method: Literal["rk4", "euler"] = "rk4",
    allow_asymmetric: bool = False,
) -> ContinuousHopfieldTrajectory:
    r"""Integrate τ du/dt = −u + W tanh(gain·u) + b with a fixed step, from u(0) = ``potentials``.

    Book: §8.6.1 (continuous network); Hopfield (1984), eq. (5).
    Shapes: potentials (..., M) -> trajectory arrays with a leading time axis
    of length ``num_steps + 1``.
    Scheme: classical fourth-order Runge–Kutta (``"rk4"``, default; local error
    O(h⁵)) or explicit Euler (``"euler"``, O(h²)). Along the exact flow
    dE/dt = −τ Σ_i g'(u_i) (du_i/dt)² ≤ 0 (``proofs.continuous_hopfield_lyapunov``);
    the discrete trajectory inherits the descent up to the scheme's error, so
    use h ≪ τ.
    Assumptions: W symmetric (unless ``allow_asymmetric``), gain > 0, τ > 0, h > 0
    (each checked in the dtype); num_steps ≥ 1 with (num_steps + 1) · batch · M ≤
    ``MAX_TRAJECTORY_ENTRIES``. Checked once; the steps run the kernels. A
    trajectory that overflows (an explicit scheme with h/τ far beyond its
    stability limit) is a ``ValueError`` naming ``step_size``.
    """
    u, W, b = _network(potentials, "potentials", weights, biases, allow_asymmetric=allow_asymmetric)
    k = _gain(gain, u.dtype)
    tau = check.positive_real_in_dtype(time_constant, "time_constant", u.dtype, reciprocal=True)
    h = check.positive_real_in_dtype(step_size, "step_size", u.dtype)
    per_step = max(1, u.size)
    T = check.int_in_range(
        num_steps,
        "num_steps",
        low=1,
        high=max(1, MAX_TRAJECTORY_ENTRIES // per_step - 1),
        reason=f"every step is kept: (num_steps + 1) · batch · M ≤ {MAX_TRAJECTORY_ENTRIES:.0e}",
    )
    if method not in ("rk4", "euler"):
        raise ValueError(f"method must be 'rk4' or 'euler', got {method!r}")
    dt = np.asarray(h, dtype=u.dtype)
    path = np.empty((T + 1, *u.shape), dtype=u.dtype)
    path[0] = u
    with np.errstate(over="ignore", invalid="ignore"):
        for t in range(T):
            current = path[t]
            k1 = _velocity(current, W, b, k, tau)
            if method == "euler":
                path[t + 1] = current + dt * k1
                continue
            half = dt / 2
            k2 = _velocity(current + half * k1, W, b, k, tau)
            k3 = _velocity(current + half * k2, W, b, k, tau)
            k4 = _velocity(current + dt * k3, W, b, k, tau)
            path[t + 1] = current + dt / 6 * (k1 + 2 * k2 + 2 * k3 + k4)
        states: FloatArray = np.tanh(np.asarray(k, dtype=u.dtype) * path)
    if not np.isfinite(path).all():
        raise ValueError(
            f"step_size = {step_size} with time_constant = {time_constant}: the explicit "
            f"{method} scheme diverged (overflow); use step_size ≪ time_constant"
        )
    energies = _energy(states, W, b, k)
    if not np.isfinite(energies).all():
        raise ValueError(f"gain = {gain} is too small: the energy's leak term overflows")
    times: FloatArray = (np.arange(T + 1) * h).astype(u.dtype)
    return ContinuousHopfieldTrajectory(times, path, states, energies)


__all__ = [
    "ContinuousHopfieldTrajectory",
    "artanh_antiderivative",
    "continuous_hopfield_activation",
    "continuous_hopfield_asynchronous_sweep",
    "continuous_hopfield_energy",
    "continuous_hopfield_synchronous_update",
    "continuous_hopfield_update_neuron",
    "continuous_hopfield_velocity",
    "integrate_continuous_hopfield",
]
