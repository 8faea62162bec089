"""Modern Hopfield networks (Ramsauer 2020) and dense associative memory (Krotov & Hopfield 2016).

Book: §8.6.2 (associative memory as a component) and its note: the modern
Hopfield update ξ_new = X softmax(β Xᵀ ξ) *is* key-value attention, the bridge
between §8.2 and §8.6. Spec: ``spec.modern_hopfield``.

Shapes. The paper stores N patterns as the columns of X ∈ R^{D×N}; here
``patterns`` is (..., N, D), one pattern per row (the paper's Xᵀ), so the
paper's Xᵀξ is our ``patterns @ ξ`` and its X p is our ``p @ patterns``. A
state ξ is (..., D); batch axes broadcast against the patterns' batch axes.

Dense associative memory uses ±1 states σ (..., M) and ±1 patterns (P, M).
"""

import math
from dataclasses import dataclass
from typing import Literal

import numpy as np

from impl import _validation as check
from impl._typing import BoolArray, FloatArray, IntArray
from impl.attention import key_value_attention
from impl.scores import ScoreFunction, dot_product_score


def _patterns_and_states(patterns: object, states: object) -> tuple[FloatArray, FloatArray]:
    X = check.float_array(patterns, "patterns", min_ndim=2)
    xi = check.float_array(states, "states", min_ndim=1)
    check.same_dtype(patterns=X, states=xi)
    if X.shape[-2] == 0 or X.shape[-1] == 0:
        raise ValueError(f"patterns must hold at least one pattern of width ≥ 1, got {X.shape}")
    if xi.shape[-1] != X.shape[-1]:
        raise ValueError(f"states has {xi.shape[-1]} features, patterns has {X.shape[-1]}")
    try:
        np.broadcast_shapes(xi.shape[:-1], X.shape[:-2])
    except ValueError:
        raise ValueError(
            f"batch axes do not broadcast: states {xi.shape} (..., D), "
            f"patterns {X.shape} (..., N, D)"
        ) from None
    return X, xi


def _index(index: object, size: int) -> int:
    if isinstance(index, bool) or not isinstance(index, int | np.integer):
        raise TypeError(f"index must be an int, got {type(index).__name__}")
    if not 0 <= index < size:
        raise ValueError(f"index must be in [0, {size}), got {index}")
    return int(index)


def log_sum_exp(values: FloatArray, *, beta: float) -> FloatArray:
    r"""lse(β, z) = β⁻¹ log Σ_n exp(β z_n) over the last axis, computed stably.

    Book: §8.6.2 (note: the modern Hopfield energy); Ramsauer et al. (2020), eq. (1).
    Shapes: values (..., N) -> (...), same dtype.
    Stability: lse = m + β⁻¹ log Σ_n exp(β(z_n − m)) with m = max_n z_n, so
    no exp overflows; finite z of any size give a finite result in [m, m + β⁻¹ log N].
    Spec: ``spec.modern_hopfield.log_sum_exp``.
    """
    z = check.float_array(values, "values", min_ndim=1)
    b = check.positive_real(beta, "beta")
    if z.shape[-1] == 0:
        raise ValueError("values must have at least one entry on the last axis")
    m: FloatArray = z.max(axis=-1, keepdims=True)
    scaled: FloatArray = np.asarray(b, dtype=z.dtype) * (z - m)  # β(z_n − m) ≤ 0
    total: FloatArray = np.exp(scaled).sum(axis=-1)  # in [1, N]
    result: FloatArray = np.asarray(m[..., 0] + np.log(total) / np.asarray(b, dtype=z.dtype))
    return result


def inverse_temperature_score(beta: float) -> ScoreFunction:
    """The score s(x_n, ξ) = β x_nᵀ ξ, as a ``ScoreFunction`` for ``key_value_attention``.

    Book: §8.2 dot-product score scaled by β (β = 1/√D gives the scaled dot product).
    """
    b = check.positive_real(beta, "beta")

    def score(query: FloatArray, keys: FloatArray) -> FloatArray:
        scores: FloatArray = np.asarray(b, dtype=query.dtype) * dot_product_score(query, keys)
        return scores

    return score


def modern_hopfield_update(states: FloatArray, patterns: FloatArray, *, beta: float) -> FloatArray:
    r"""One update ξ_new = X softmax(β Xᵀ ξ): key-value attention with keys = values = patterns.

    Book: §8.6.2 (note); Ramsauer et al. (2020), eq. (3).
    Shapes: states (..., D), patterns (..., N, D) -> (..., D). Each state is a
    single query row; the result is Σ_n softmax_n(β x_nᵀ ξ) x_n.
    Computed by ``impl.attention.key_value_attention`` with the score β·x_nᵀξ
    (``inverse_temperature_score``); β = 1/√D is scaled dot-product attention.
    Spec: ``spec.modern_hopfield.cccp_update``.
    """
    X, xi = _patterns_and_states(patterns, states)
    query = xi[..., None, :]  # (..., 1, D): one query per state
    retrieved = key_value_attention(query, X, X, score=inverse_temperature_score(beta))
    result: FloatArray = retrieved[..., 0, :]
    return result


def modern_hopfield_energy(states: FloatArray, patterns: FloatArray, *, beta: float) -> FloatArray:
    r"""Energy E(ξ) = −lse(β, Xᵀξ) + ½ ξᵀξ + β⁻¹ log N + ½ M², M = max_n ‖x_n‖.

    Book: §8.6.2 (note); Ramsauer et al. (2020), eq. (2).
    Shapes: states (..., D), patterns (..., N, D) -> (...).
    Properties: 0 ≤ E ≤ 2M² on the convex hull of the patterns (the constants
    make it non-negative everywhere: E ≥ ½(‖ξ‖ − M)²); the update never raises it.
    Spec: ``spec.modern_hopfield.energy``.
    """
    X, xi = _patterns_and_states(patterns, states)
    b = check.positive_real(beta, "beta")
    overlaps: FloatArray = np.einsum("...nd,...d->...n", X, xi)  # x_nᵀ ξ
    norms: FloatArray = np.sqrt(np.einsum("...nd,...nd->...n", X, X))
    M: FloatArray = norms.max(axis=-1)
    N = X.shape[-2]
    half = np.asarray(0.5, dtype=xi.dtype)
    constant = np.asarray(math.log(N) / b, dtype=xi.dtype)  # β⁻¹ log N
    squared: FloatArray = np.einsum("...d,...d->...", xi, xi)
    energy: FloatArray = np.asarray(
        -log_sum_exp(overlaps, beta=b) + half * squared + constant + half * M * M
    )
    return energy


@dataclass(frozen=True)
class ModernHopfieldRetrieval:
    """Result of ``modern_hopfield_retrieve``: ``states`` (T+1, ..., D) and
    ``energies`` (T+1, ...) of every iterate, ``iterations`` = T, and
    ``converged`` (...): whether the last step moved each state by at most
    ``tolerance`` (max-norm)."""

    states: FloatArray
    energies: FloatArray
    iterations: int
    converged: BoolArray


def modern_hopfield_retrieve(
    states: FloatArray,
    patterns: FloatArray,
    *,
    beta: float,
    max_iterations: int = 100,
    tolerance: float | None = None,
) -> ModernHopfieldRetrieval:
    r"""Iterate ξ ← X softmax(β Xᵀ ξ) until the state stops moving.

    Book: §8.6.1 (retrieval converges to an attractor) with the modern update
    of §8.6.2 (note); Ramsauer et al. (2020), theorem 2 (convergence).
    Shapes: states (..., D), patterns (..., N, D).
    ``tolerance`` defaults to 4·√eps·max(1, M); iteration stops when every
    state moved by at most that (max-norm) or after ``max_iterations``.
    """
    X, xi = _patterns_and_states(patterns, states)
    b = check.positive_real(beta, "beta")
    limit = check.positive_int(max_iterations, "max_iterations")
    M = float(np.sqrt(np.einsum("...nd,...nd->...n", X, X)).max())
    tol = (
        4.0 * math.sqrt(float(np.finfo(xi.dtype).eps)) * max(1.0, M)
        if tolerance is None
        else check.positive_real(tolerance, "tolerance")
    )
    batch = np.broadcast_shapes(xi.shape[:-1], X.shape[:-2])
    current = np.broadcast_to(xi, (*batch, xi.shape[-1]))
    path = [current]
    energies = [modern_hopfield_energy(current, X, beta=b)]
    converged: BoolArray = np.zeros(batch, dtype=bool)
    iterations = 0
    while iterations < limit and not converged.all():
        iterations += 1
        new = modern_hopfield_update(current, X, beta=b)
        converged = np.max(np.abs(new - current), axis=-1) <= tol
        current = new
        path.append(current)
        energies.append(modern_hopfield_energy(current, X, beta=b))
    return ModernHopfieldRetrieval(np.stack(path), np.stack(energies), iterations, converged)


def pattern_separation(patterns: FloatArray, states: FloatArray | None = None) -> FloatArray:
    r"""Separation Δ_i = ξᵀx_i − max_{j≠i} ξᵀx_j of each pattern i (ξ = x_i by default).

    Book: §8.6.2 (note); Ramsauer et al. (2020), definition before theorem 3
    (Δ_i = x_iᵀx_i − max_{j≠i} x_iᵀx_j, with ξ = x_i).
    Shapes: patterns (..., N, D) -> (..., N) for the default; with ``states``
    (..., N, D) — one state per pattern — row i uses ξ = states[..., i, :].
    N = 1: there is no other pattern, Δ = +inf.
    """
    X = check.float_array(patterns, "patterns", min_ndim=2)
    xi = X if states is None else check.float_array(states, "states", min_ndim=2)
    check.same_dtype(patterns=X, states=xi)
    if xi.shape[-2:] != X.shape[-2:]:
        raise ValueError(f"states must be (..., N, D) = {X.shape[-2:]}, got {xi.shape}")
    overlaps: FloatArray = np.einsum("...id,...jd->...ij", xi, X)  # [i, j] = ξ_iᵀ x_j
    N = X.shape[-2]
    own: FloatArray = np.diagonal(overlaps, axis1=-2, axis2=-1)
    others: FloatArray = np.where(np.eye(N, dtype=bool), -np.inf, overlaps)
    separation: FloatArray = (own - others.max(axis=-1)).astype(X.dtype)
    return separation


def one_step_retrieval_error_bound(
    states: FloatArray, patterns: FloatArray, index: int, *, beta: float
) -> FloatArray:
    r"""Bound ‖ξ_new − x_i‖ ≤ 2M(N−1) exp(−β Δ̃_i(ξ)), Δ̃_i(ξ) = ξᵀx_i − max_{j≠i} ξᵀx_j.

    Book: §8.6.2 (note). Derived here (a simpler sufficient condition than
    Ramsauer et al. 2020, theorems 3–5): ξ_new − x_i = Σ_{j≠i} p_j (x_j − x_i)
    with ‖x_j − x_i‖ ≤ 2M and p_j = e^{βξᵀx_j}/Σ_l e^{βξᵀx_l} ≤ e^{−βΔ̃_i(ξ)}.
    So one update retrieves x_i within ε whenever
    β ≥ log(2M(N−1)/ε) / Δ̃_i(ξ), and Δ̃_i(ξ) ≥ Δ_i − 2M‖ξ − x_i‖.
    Shapes: states (..., D), patterns (N, D) -> (...). N = 1 gives 0.
    """
    X, xi = _patterns_and_states(patterns, states)
    b = check.positive_real(beta, "beta")
    N = X.shape[-2]
    index = _index(index, N)
    overlaps: FloatArray = np.einsum("...nd,...d->...n", X, xi)
    others: FloatArray = np.delete(overlaps, int(index), axis=-1)
    M = np.sqrt(np.einsum("...nd,...nd->...n", X, X)).max(axis=-1)
    if N == 1:
        zero: FloatArray = np.zeros(overlaps.shape[:-1], dtype=xi.dtype)
        return zero
    gap: FloatArray = overlaps[..., int(index)] - others.max(axis=-1)
    with np.errstate(over="ignore"):
        bound: FloatArray = np.asarray(2 * M * (N - 1) * np.exp(-b * gap), dtype=xi.dtype)
    return bound


def paper_separation_threshold(num_patterns: int, beta: float, max_norm: float) -> float:
    r"""Ramsauer et al.'s sufficient separation Δ ≥ 2/(βN) + β⁻¹ log(2(N−1)NβM²).

    Book: §8.6.2 (note); Ramsauer et al. (2020), theorem 3: if Δ_i exceeds this,
    the update maps the sphere ‖ξ − x_i‖ ≤ 1/(βNM) into itself and has a fixed
    point there. N = 1 returns −inf (nothing to separate from).
    """
    N = check.positive_int(num_patterns, "num_patterns")
    b = check.positive_real(beta, "beta")
    M = check.positive_real(max_norm, "max_norm")
    if N == 1:
        return -math.inf
    return 2 / (b * N) + math.log(2 * (N - 1) * N * b * M * M) / b


# --- Dense associative memory (Krotov & Hopfield 2016) ---

Interaction = Literal["polynomial", "exponential"]


def _sign_patterns_and_states(patterns: object, states: object) -> tuple[FloatArray, FloatArray]:
    X = check.plus_minus_one_array(patterns, "patterns", min_ndim=2)
    sigma = check.plus_minus_one_array(states, "states")
    check.same_dtype(patterns=X, states=sigma)
    if X.ndim != 2:
        raise ValueError(f"patterns must be a (P, M) matrix, got shape {X.shape}")
    if sigma.shape[-1] != X.shape[-1]:
        raise ValueError(f"states has {sigma.shape[-1]} neurons, patterns has {X.shape[-1]}")
    return X, sigma


def _interaction(interaction: object, degree: object) -> tuple[str, int]:
    if interaction not in ("polynomial", "exponential"):
        raise ValueError(f"interaction must be 'polynomial' or 'exponential', got {interaction!r}")
    n = check.positive_int(degree, "degree")
    if interaction == "polynomial" and n < 2:
        raise ValueError(f"degree must be ≥ 2 for the polynomial interaction, got {n}")
    return str(interaction), n


def dense_associative_energy(
    states: FloatArray,
    patterns: FloatArray,
    *,
    interaction: Interaction = "polynomial",
    degree: int = 3,
) -> FloatArray:
    r"""Dense associative memory energy E(σ) = −Σ_μ F(x^μ · σ).

    Book: §8.6.2 (note); Krotov & Hopfield (2016), eq. (2). F(z) = z^n
    (``"polynomial"``, n = ``degree`` ≥ 2; n = 2 is the classical Hopfield
    energy with Hebbian weights up to scale 2P and constant −PM, see
    ``spec.modern_hopfield.quadratic_dense_energy_offset``) or F(z) = exp(z)
    (``"exponential"``, ``degree`` ignored).
    Shapes: states (..., M) ±1, patterns (P, M) ±1 -> (...).
    Exponential form: −exp(m)·Σ_μ exp(z_μ − m), m = max_μ z_μ, evaluated as
    −exp(m + log Σ exp(z − m)); it overflows to −inf only when |E| itself
    exceeds the dtype's range (overlaps ≳ 709 in float64, ≳ 88 in float32).
    The update rule never forms E (it compares log-sum-exps), so it stays exact.
    Spec: ``spec.modern_hopfield.dense_polynomial_energy``, ``dense_exponential_energy``.
    """
    X, sigma = _sign_patterns_and_states(patterns, states)
    kind, n = _interaction(interaction, degree)
    overlaps: FloatArray = sigma @ X.T  # z_μ = x^μ · σ, (..., P)
    if kind == "polynomial":
        polynomial: FloatArray = np.asarray(-(overlaps**n).sum(axis=-1))
        return polynomial
    with np.errstate(over="ignore"):
        exponential: FloatArray = np.asarray(-np.exp(log_sum_exp(overlaps, beta=1.0)))
    return exponential


def _dense_update_neuron(sigma: FloatArray, i: int, X: FloatArray, kind: str, n: int) -> None:
    """In place: σ_i ← the value of lower energy (kept on a tie)."""
    overlaps: FloatArray = sigma @ X.T  # (..., P)
    without_i: FloatArray = overlaps - sigma[..., i : i + 1] * X[:, i]  # Σ_{j≠i} x^μ_j σ_j
    plus: FloatArray = without_i + X[:, i]  # overlaps with σ_i = +1
    minus: FloatArray = without_i - X[:, i]  # overlaps with σ_i = −1
    if kind == "polynomial":
        # E(σ_i = −1) − E(σ_i = +1) = Σ_μ F(z⁺_μ) − F(z⁻_μ)
        difference: FloatArray = (plus**n - minus**n).sum(axis=-1)
    else:
        # Note: sign(Σe^{z⁺} − Σe^{z⁻}) = sign(lse(z⁺) − lse(z⁻)); comparing the
        # log-sum-exps avoids overflow for overlaps in the thousands.
        difference = log_sum_exp(plus, beta=1.0) - log_sum_exp(minus, beta=1.0)
    sigma[..., i] = np.where(difference > 0, 1, np.where(difference < 0, -1, sigma[..., i]))


def dense_associative_update_neuron(
    states: FloatArray,
    index: int,
    patterns: FloatArray,
    *,
    interaction: Interaction = "polynomial",
    degree: int = 3,
) -> FloatArray:
    r"""Asynchronous update σ_i ← sign(E(σ; σ_i = −1) − E(σ; σ_i = +1)).

    Book: §8.6.1 asynchronous update with the energy of §8.6.2's dense
    associative memory; Krotov & Hopfield (2016), eq. (3).
    Shapes: states (..., M) ±1, patterns (P, M) ±1 -> (..., M); only neuron
    ``index`` changes. Tie (equal energies): σ_i is kept, so E never increases
    and a change lowers it strictly.
    """
    X, sigma = _sign_patterns_and_states(patterns, states)
    kind, n = _interaction(interaction, degree)
    M = X.shape[-1]
    index = _index(index, M)
    result = sigma.copy()
    _dense_update_neuron(result, int(index), X, kind, n)
    return result


def dense_associative_sweep(
    states: FloatArray,
    patterns: FloatArray,
    *,
    interaction: Interaction = "polynomial",
    degree: int = 3,
    order: IntArray | None = None,
) -> FloatArray:
    r"""One asynchronous sweep of ``dense_associative_update_neuron`` over all neurons in ``order``.

    Book: §8.6.1 (asynchronous updates) for the dense associative memory of §8.6.2.
    Shapes: states (..., M), patterns (P, M) -> (..., M); ``order`` a
    permutation of range(M) (default 0..M−1; random: ``rng.permutation(M)``).
    """
    X, sigma = _sign_patterns_and_states(patterns, states)
    kind, n = _interaction(interaction, degree)
    M = X.shape[-1]
    sequence = np.arange(M) if order is None else check.permutation(order, M)
    result = sigma.copy()
    for i in sequence:
        _dense_update_neuron(result, int(i), X, kind, n)
    return result


__all__ = [
    "ModernHopfieldRetrieval",
    "dense_associative_energy",
    "dense_associative_sweep",
    "dense_associative_update_neuron",
    "inverse_temperature_score",
    "log_sum_exp",
    "modern_hopfield_energy",
    "modern_hopfield_retrieve",
    "modern_hopfield_update",
    "one_step_retrieval_error_bound",
    "paper_separation_threshold",
    "pattern_separation",
]
