"""Modern Hopfield networks (Ramsauer 2020) and dense associative memory (Krotov & Hopfield 2016).

Book: §8.6.2 (associative memory as a component) and its note: the modern
Hopfield update ξ_new = X softmax(β Xᵀ ξ) *is* key-value attention, the bridge
between §8.2 and §8.6. Spec: ``spec.modern_hopfield``.

Shapes. The paper stores N patterns as the columns of X ∈ R^{D×N}; here
``patterns`` is (..., N, D), one pattern per row (the paper's Xᵀ), so the
paper's Xᵀξ is our ``patterns @ ξ`` and its X p is our ``p @ patterns``. A
state ξ is (..., D); batch axes broadcast against the patterns' batch axes.

Dense associative memory uses ±1 states σ (..., M) and ±1 patterns (P, M).

Checks. Each public function checks its arguments once and calls kernels
(``_update``, ``_energy``, the shared ``impl._numerics.softmax``/``logsumexp``)
that trust them. β is checked in the arrays' dtype, with 1/β finite there
(β = 1e-320 or a float32 β of 1e-50 is a ``ValueError`` naming ``beta``).
Finite inputs whose overlaps x_nᵀξ or squared norms overflow the dtype are a
``ValueError`` naming ``states`` and ``patterns`` with the safe range; the
softmax is evaluated on β(z − max z) ≤ 0, so a large β never overflows.
"""

import math
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray

from impl import _numerics
from impl import _validation as check
from impl._typing import BoolArray, FloatArray, IntArray
from impl.hopfield import _read_only
from impl.scores import ScoreFunction

MAX_RETRIEVAL_ENTRIES = 10**8
"""``modern_hopfield_retrieve`` keeps every iterate: max_iterations · (batch · D) is
refused above this (10⁸ entries, 800 MB in float64)."""

MAX_DEGREE = 10_000
"""Largest polynomial degree of the dense associative memory (the update compares
exact integer powers of up to degree · log2(M) bits)."""


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


def _beta(beta: object, dtype: np.dtype[Any]) -> float:
    return check.positive_real_in_dtype(beta, "beta", dtype, reciprocal=True)


def _overlaps(X: FloatArray, xi: FloatArray) -> FloatArray:
    """z_n = x_nᵀ ξ (..., N), checked finite: the one place a finite input can overflow."""
    with np.errstate(over="ignore", invalid="ignore"):
        z: FloatArray = np.einsum("...nd,...d->...n", X, xi)
    if not np.isfinite(z).all():
        limit = math.sqrt(float(np.finfo(X.dtype).max) / X.shape[-1])
        raise ValueError(
            f"states and patterns: the overlaps x_nᵀξ overflow {X.dtype}; keep their entries "
            f"below √(max/D) = {limit:.3g} in magnitude"
        )
    return z


def _squared_norms(x: FloatArray, name: str) -> FloatArray:
    """‖x‖² over the last axis, checked finite."""
    with np.errstate(over="ignore"):
        squared: FloatArray = np.einsum("...d,...d->...", x, x)
    if not np.isfinite(squared).all():
        limit = math.sqrt(float(np.finfo(x.dtype).max) / x.shape[-1])
        raise ValueError(
            f"{name}: the squared norms overflow {x.dtype}; keep entries below "
            f"√(max/D) = {limit:.3g} in magnitude"
        )
    return squared


def _probabilities(z: FloatArray, beta: float) -> FloatArray:
    """softmax(β z) over the last axis, from β(z − max z) ≤ 0 (no overflow for any β)."""
    m: FloatArray = z.max(axis=-1, keepdims=True)
    with np.errstate(over="ignore"):
        shifted: FloatArray = np.asarray(beta, dtype=z.dtype) * (z - m)  # ≤ 0; −inf → weight 0
    return _numerics.softmax(shifted)


def _update(X: FloatArray, z: FloatArray, beta: float) -> FloatArray:
    """ξ_new = Σ_n softmax_n(β z) x_n (trusted overlaps z = X ξ)."""
    p = _probabilities(z, beta)
    result: FloatArray = np.einsum("...n,...nd->...d", p, X)
    return result


def _log_sum_exp(z: FloatArray, beta: float) -> FloatArray:
    """β⁻¹ log Σ exp(β z) = m + β⁻¹ log Σ exp(β(z − m)) (trusted, non-empty last axis)."""
    m: FloatArray = z.max(axis=-1)
    with np.errstate(over="ignore"):
        shifted: FloatArray = np.asarray(beta, dtype=z.dtype) * (z - m[..., None])
        result: FloatArray = np.asarray(
            m + _numerics.logsumexp(shifted) / np.asarray(beta, dtype=z.dtype)
        ).astype(z.dtype)
    return result


def _energy(z: FloatArray, xi_squared: FloatArray, offset: FloatArray, beta: float) -> FloatArray:
    """E = −lse(β, z) + ½ ξᵀξ + (β⁻¹ log N + ½ M²) (trusted; z = X ξ, offset precomputed)."""
    half = np.asarray(0.5, dtype=z.dtype)
    with np.errstate(over="ignore"):
        energy: FloatArray = np.asarray(-_log_sum_exp(z, beta) + half * xi_squared + offset)
    return energy


def _energy_offset(X: FloatArray, beta: float) -> FloatArray:
    """β⁻¹ log N + ½ M², M = max_n ‖x_n‖ (patterns' norms checked finite)."""
    M2: FloatArray = _squared_norms(X, "patterns").max(axis=-1)
    with np.errstate(over="ignore"):
        offset: FloatArray = np.asarray(
            math.log(X.shape[-2]) / beta + 0.5 * M2.astype(np.float64)
        ).astype(X.dtype)
    if not np.isfinite(offset).all():
        raise ValueError(f"patterns and beta: β⁻¹ log N + ½ max‖x_n‖² overflows {X.dtype}")
    return offset


def log_sum_exp(values: FloatArray, *, beta: float) -> FloatArray:
    r"""lse(β, z) = β⁻¹ log Σ_n exp(β z_n) over the last axis, computed stably.

    Book: §8.6.2 (note: the modern Hopfield energy); Ramsauer et al. (2020), eq. (1).
    Shapes: values (..., N) -> (...), same dtype; N ≥ 1 (an empty axis is a
    ``ValueError``: log 0).
    Stability: lse = m + β⁻¹ log Σ_n exp(β(z_n − m)) with m = max_n z_n, so
    no exp overflows; finite z of any size give a result in [m, m + β⁻¹ log N].
    β is checked in the dtype of ``values`` with 1/β finite; if m + β⁻¹ log N
    itself exceeds the dtype's range, a ``ValueError`` names ``beta``.
    Spec: ``spec.modern_hopfield.log_sum_exp``.
    """
    z = check.float_array(values, "values", min_ndim=1)
    if z.shape[-1] == 0:
        raise ValueError("values must have at least one entry on the last axis")
    b = _beta(beta, z.dtype)
    result = _log_sum_exp(z, b)
    if not np.isfinite(result).all():
        raise ValueError(
            f"beta = {beta} is too small for these values: max + β⁻¹ log N overflows {z.dtype}"
        )
    return result


def inverse_temperature_score(beta: float) -> ScoreFunction:
    """The score s(x_n, ξ) = β x_nᵀ ξ, as a ``ScoreFunction`` for ``key_value_attention``.

    Book: §8.2 dot-product score scaled by β (β = 1/√D gives the scaled dot product).
    β is checked when the score is made (a positive finite real) and again, in the
    query's dtype, when it is called (a β of 1e39 overflows float32). Scores that
    overflow are a ``ValueError`` naming ``query`` and ``keys``.
    """
    b = check.positive_real_in_dtype(beta, "beta", np.dtype(np.float64), reciprocal=True)

    def score(query: FloatArray, keys: FloatArray) -> FloatArray:
        scale = check.positive_real_in_dtype(b, "beta", query.dtype)
        with np.errstate(over="ignore", invalid="ignore"):
            scores: FloatArray = np.asarray(scale, dtype=query.dtype) * np.matmul(
                query, np.swapaxes(keys, -1, -2)
            )
        if not np.isfinite(scores).all():
            raise ValueError(
                f"query and keys: β x_nᵀξ with beta = {beta} overflows {query.dtype}; scale "
                "them or beta down"
            )
        return scores

    return score


def modern_hopfield_update(states: FloatArray, patterns: FloatArray, *, beta: float) -> FloatArray:
    r"""One update ξ_new = X softmax(β Xᵀ ξ): key-value attention with keys = values = patterns.

    Book: §8.6.2 (note); Ramsauer et al. (2020), eq. (3).
    Shapes: states (..., D), patterns (..., N, D) -> (..., D). Each state is a
    single query row; the result is Σ_n softmax_n(β x_nᵀ ξ) x_n.
    Computed as key-value attention with the score β·x_nᵀξ
    (``inverse_temperature_score``; β = 1/√D is scaled dot-product attention),
    through the shared softmax kernel on β(z − max z), so any β is stable.
    Spec: ``spec.modern_hopfield.cccp_update``.
    """
    X, xi = _patterns_and_states(patterns, states)
    b = _beta(beta, X.dtype)
    return _update(X, _overlaps(X, xi), b)


def modern_hopfield_energy(states: FloatArray, patterns: FloatArray, *, beta: float) -> FloatArray:
    r"""Energy E(ξ) = −lse(β, Xᵀξ) + ½ ξᵀξ + β⁻¹ log N + ½ M², M = max_n ‖x_n‖.

    Book: §8.6.2 (note); Ramsauer et al. (2020), eq. (2).
    Shapes: states (..., D), patterns (..., N, D) -> (...).
    Properties: 0 ≤ E ≤ 2M² on the convex hull of the patterns (the constants
    make it non-negative everywhere: E ≥ ½(‖ξ‖ − M)²); the update never raises it.
    Overflow of ξᵀξ, M² or E itself is a ``ValueError`` naming the argument.
    Spec: ``spec.modern_hopfield.energy``.
    """
    X, xi = _patterns_and_states(patterns, states)
    b = _beta(beta, X.dtype)
    energy = _energy(_overlaps(X, xi), _squared_norms(xi, "states"), _energy_offset(X, b), b)
    if not np.isfinite(energy).all():
        raise ValueError(f"states and patterns: the energy overflows {X.dtype}")
    return energy


@dataclass(frozen=True)
class ModernHopfieldRetrieval:
    """Result of ``modern_hopfield_retrieve``: ``states`` (T+1, ..., D) and
    ``energies`` (T+1, ...) of every iterate, ``iterations`` = T, and
    ``converged`` (...): whether the last step moved each state by at most
    ``tolerance`` (max-norm). The arrays are read-only copies."""

    states: FloatArray
    energies: FloatArray
    iterations: int
    converged: BoolArray

    def __post_init__(self) -> None:
        object.__setattr__(self, "states", _read_only(self.states))
        object.__setattr__(self, "energies", _read_only(self.energies))
        object.__setattr__(self, "converged", _read_only(self.converged))


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
    state moved by at most that (max-norm) or after ``max_iterations``
    (1 ≤ max_iterations, and max_iterations · batch · D ≤ ``MAX_RETRIEVAL_ENTRIES``:
    every iterate is kept). Arguments are checked once; the iterations run the
    kernels (every iterate lies in the patterns' convex hull, so nothing
    overflows after the first step).
    """
    X, xi = _patterns_and_states(patterns, states)
    b = _beta(beta, X.dtype)
    batch = np.broadcast_shapes(xi.shape[:-1], X.shape[:-2])
    per_iterate = max(1, math.prod(batch) * xi.shape[-1])
    limit = check.int_in_range(
        max_iterations,
        "max_iterations",
        low=1,
        high=max(1, MAX_RETRIEVAL_ENTRIES // per_iterate),
        reason=f"every iterate is kept: max_iterations · batch · D ≤ {MAX_RETRIEVAL_ENTRIES:.0e}",
    )
    offset = _energy_offset(X, b)
    norms = np.sqrt(_squared_norms(X, "patterns").astype(np.float64))
    largest = float(norms.max())
    tol = (
        4.0 * math.sqrt(float(np.finfo(xi.dtype).eps)) * max(1.0, largest)
        if tolerance is None
        else check.positive_real_in_dtype(tolerance, "tolerance", xi.dtype)
    )
    current = np.broadcast_to(xi, (*batch, xi.shape[-1]))
    z = _overlaps(X, current)
    path = [current]
    energies = [_energy(z, _squared_norms(current, "states"), offset, b)]
    converged: BoolArray = np.zeros(batch, dtype=bool)
    iterations = 0
    while iterations < limit and not converged.all():
        iterations += 1
        new = _update(X, z, b)
        converged = np.max(np.abs(new - current), axis=-1) <= tol
        current = new
        # Note: the iterates are convex combinations of the patterns, so z and ξᵀξ are
        # finite (|z_n| ≤ M², ξᵀξ ≤ M²), which the checks above established.
        z = np.einsum("...nd,...d->...n", X, current)
        squared: FloatArray = np.einsum("...d,...d->...", current, current)
        path.append(current)
        energies.append(_energy(z, squared, offset, b))
    return ModernHopfieldRetrieval(np.stack(path), np.stack(energies), iterations, converged)


def pattern_separation(patterns: FloatArray, states: FloatArray | None = None) -> FloatArray:
    r"""Separation Δ_i = ξᵀx_i − max_{j≠i} ξᵀx_j of each pattern i (ξ = x_i by default).

    Book: §8.6.2 (note); Ramsauer et al. (2020), definition before theorem 3
    (Δ_i = x_iᵀx_i − max_{j≠i} x_iᵀx_j, with ξ = x_i).
    Shapes: patterns (..., N, D) -> (..., N) for the default; with ``states``
    (..., N, D) — one state per pattern — row i uses ξ = states[..., i, :].
    N = 1: there is no other pattern, Δ = +inf. N = 0: an empty result (…, 0).
    Overlaps that overflow are a ``ValueError`` naming the arguments.
    """
    X = check.float_array(patterns, "patterns", min_ndim=2)
    xi = X if states is None else check.float_array(states, "states", min_ndim=2)
    check.same_dtype(patterns=X, states=xi)
    if xi.shape[-2:] != X.shape[-2:]:
        raise ValueError(
            f"states must be (..., N, D) like patterns {X.shape}: one state per pattern, "
            f"got states {xi.shape}"
        )
    try:
        np.broadcast_shapes(xi.shape[:-2], X.shape[:-2])
    except ValueError:
        raise ValueError(
            f"batch axes do not broadcast: states {xi.shape}, patterns {X.shape}"
        ) from None
    with np.errstate(over="ignore", invalid="ignore"):
        overlaps: FloatArray = np.einsum("...id,...jd->...ij", xi, X)  # [i, j] = ξ_iᵀ x_j
    if not np.isfinite(overlaps).all():
        raise ValueError(f"patterns and states: the overlaps ξ_iᵀx_j overflow {X.dtype}")
    N = X.shape[-2]
    own: FloatArray = np.diagonal(overlaps, axis1=-2, axis2=-1)
    if N == 0:
        return own.astype(X.dtype)
    others: FloatArray = np.where(np.eye(N, dtype=bool), -np.inf, overlaps)
    with np.errstate(over="ignore"):
        separation: FloatArray = (own - others.max(axis=-1)).astype(X.dtype)
    if N > 1 and not np.isfinite(separation).all():
        raise ValueError(f"patterns and states: the separation overflows {X.dtype}")
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
    Shapes: states (..., D), patterns (..., N, D) -> (...). N = 1 gives 0.
    The bound is +inf (vacuous, documented) where β·Δ̃ is so negative that
    exp overflows.
    """
    X, xi = _patterns_and_states(patterns, states)
    b = _beta(beta, X.dtype)
    N = X.shape[-2]
    i = check.index(index, N, "index")
    overlaps = _overlaps(X, xi)
    if N == 1:
        zero: FloatArray = np.zeros(overlaps.shape[:-1], dtype=xi.dtype)
        return zero
    M = np.sqrt(_squared_norms(X, "patterns")).max(axis=-1)
    others: FloatArray = np.delete(overlaps, i, axis=-1)
    with np.errstate(over="ignore"):
        gap: FloatArray = overlaps[..., i] - others.max(axis=-1)
        bound: FloatArray = np.asarray(2 * M * (N - 1) * np.exp(-b * gap), dtype=xi.dtype)
    return bound


def paper_separation_threshold(num_patterns: int, beta: float, max_norm: float) -> float:
    r"""Ramsauer et al.'s sufficient separation Δ ≥ 2/(βN) + β⁻¹ log(2(N−1)NβM²).

    Book: §8.6.2 (note); Ramsauer et al. (2020), theorem 3: if Δ_i exceeds this,
    the update maps the sphere ‖ξ − x_i‖ ≤ 1/(βNM) into itself and has a fixed
    point there. N = 1 returns −inf (nothing to separate from). Evaluated with
    the logarithm split (log 2(N−1)N + log β + 2 log M), so tiny β·M² do not
    underflow to log 0; β must have a finite float64 reciprocal.
    """
    N = check.positive_int(num_patterns, "num_patterns")
    b = check.positive_real_in_dtype(beta, "beta", np.dtype(np.float64), reciprocal=True)
    M = check.positive_real(max_norm, "max_norm")
    if N == 1:
        return -math.inf
    log_argument = math.log(2 * (N - 1) * N) + math.log(b) + 2 * math.log(M)
    return 2 / (b * N) + log_argument / b


# --- Dense associative memory (Krotov & Hopfield 2016) ---

Interaction = Literal["polynomial", "exponential"]


def _sign_patterns_and_states(patterns: object, states: object) -> tuple[FloatArray, FloatArray]:
    X = check.plus_minus_one_array(patterns, "patterns", min_ndim=2)
    sigma = check.plus_minus_one_array(states, "states")
    check.same_dtype(patterns=X, states=sigma)
    if X.ndim != 2:
        raise ValueError(f"patterns must be a (P, M) matrix, got shape {X.shape}")
    if X.shape[0] == 0:
        raise ValueError(f"patterns must hold at least one pattern (P ≥ 1), got shape {X.shape}")
    if sigma.shape[-1] != X.shape[-1]:
        raise ValueError(f"states has {sigma.shape[-1]} neurons, patterns has {X.shape[-1]}")
    exact = 2**24 if X.dtype == np.float32 else 2**53
    if X.shape[-1] > exact:
        raise ValueError(
            f"patterns has M = {X.shape[-1]} neurons; overlaps are exact integers only up to "
            f"M = {exact} in {X.dtype}"
        )
    return X, sigma


def _interaction(interaction: object, degree: object) -> tuple[str, int]:
    if interaction not in ("polynomial", "exponential"):
        raise ValueError(f"interaction must be 'polynomial' or 'exponential', got {interaction!r}")
    n = check.int_in_range(
        degree,
        "degree",
        low=1,
        high=MAX_DEGREE,
        reason="exact integer powers of degree · log2(M) bits",
    )
    if interaction == "polynomial" and n < 2:
        raise ValueError(f"degree must be ≥ 2 for the polynomial interaction, got {n}")
    return str(interaction), n


def _power_sum(z: FloatArray, n: int) -> NDArray[Any]:
    """Σ_μ z_μ^n over the last axis, exactly, for integer-valued z (int64 or Python ints)."""
    integers = z.astype(np.int64)
    largest = int(np.abs(integers).max()) if integers.size else 0
    bits = n * math.log2(largest + 1) + math.log2(max(1, z.shape[-1])) + 1
    if bits < 62:  # fits int64 exactly
        small: NDArray[Any] = (integers**n).sum(axis=-1)
        return small
    # Note: beyond 62 bits, Python's arbitrary-precision integers (object arrays): exact.
    large: NDArray[Any] = np.asarray((integers.astype(object) ** n).sum(axis=-1), dtype=object)
    return large


def _to_float(values: NDArray[Any], dtype: np.dtype[Any]) -> FloatArray:
    """Exact integers to ``dtype``, ±inf where they exceed its range (documented)."""
    if values.dtype != object:
        with np.errstate(over="ignore"):
            converted: FloatArray = np.asarray(values, dtype=dtype)
        return converted
    limit = int(np.finfo(dtype).max)
    out = [
        float(v) if abs(v) <= limit else (-math.inf if v < 0 else math.inf)
        for v in values.reshape(-1)
    ]
    result: FloatArray = np.asarray(out, dtype=dtype).reshape(values.shape)
    return result


def dense_associative_energy(
    states: FloatArray,
    patterns: FloatArray,
    *,
    interaction: Interaction = "polynomial",
    degree: int = 3,
) -> FloatArray:
    r"""Dense associative memory energy E(σ) = −Σ_μ F(x^μ · σ).

    Book: §8.6.2 (note); Krotov & Hopfield (2016), eq. (2). F(z) = z^n
    (``"polynomial"``, n = ``degree`` in [2, ``MAX_DEGREE``]; n = 2 is the classical Hopfield
    energy with Hebbian weights up to scale 2P and constant −PM, see
    ``spec.modern_hopfield.quadratic_dense_energy_offset``) or F(z) = exp(z)
    (``"exponential"``, ``degree`` ignored but checked).
    Shapes: states (..., M) ±1, patterns (P, M) ±1, P ≥ 1 -> (...).
    Polynomial form: the overlaps are integers, so −Σ z^n is computed exactly in
    integers and rounded once; where |E| exceeds the dtype's range (e.g. degree
    1000 with overlaps ≥ 3 in float64) the result is ±inf — documented and tested.
    Exponential form: −exp(m)·Σ_μ exp(z_μ − m), m = max_μ z_μ, evaluated as
    −exp(m + log Σ exp(z − m)); it overflows to −inf only when |E| itself
    exceeds the dtype's range (overlaps ≳ 709 in float64, ≳ 88 in float32).
    The update rule never forms E (it compares exactly), so it works at any size.
    Spec: ``spec.modern_hopfield.dense_polynomial_energy``, ``dense_exponential_energy``.
    """
    X, sigma = _sign_patterns_and_states(patterns, states)
    kind, n = _interaction(interaction, degree)
    overlaps: FloatArray = sigma @ X.T  # z_μ = x^μ · σ, (..., P), exact integers
    if kind == "polynomial":
        return np.asarray(-_to_float(_power_sum(overlaps, n), X.dtype))
    with np.errstate(over="ignore"):
        exponential: FloatArray = np.asarray(
            -np.exp(_numerics.logsumexp(overlaps.astype(np.float64)))
        ).astype(X.dtype)
    return exponential


def _dense_visit(
    sigma: FloatArray, z: FloatArray, i: int, X: FloatArray, kind: str, n: int
) -> None:
    """In place: σ_i ← the value of lower energy (kept on an exact tie); z = σ Xᵀ kept current."""
    column = X[:, i]
    without_i: FloatArray = z - sigma[..., i : i + 1] * column  # Σ_{j≠i} x^μ_j σ_j, exact
    plus: FloatArray = without_i + column  # overlaps with σ_i = +1
    minus: FloatArray = without_i - column  # overlaps with σ_i = −1
    if kind == "polynomial":
        # E(σ_i = −1) − E(σ_i = +1) = Σ_μ F(z⁺_μ) − F(z⁻_μ), exactly in integers
        difference = _power_sum(plus, n) - _power_sum(minus, n)
        up: BoolArray = np.asarray(difference > 0, dtype=bool)
        down: BoolArray = np.asarray(difference < 0, dtype=bool)
    else:
        # Note: sign(Σe^{z⁺} − Σe^{z⁻}) = sign(lse(z⁺) − lse(z⁻)); comparing the
        # log-sum-exps avoids overflow for overlaps in the thousands. An exact tie
        # (e is transcendental, so Σ e^{z⁺} = Σ e^{z⁻} for integers iff the multisets
        # {z⁺_μ} and {z⁻_μ} agree) is detected exactly where the float difference is
        # within rounding of 0.
        high = _numerics.logsumexp(plus.astype(np.float64))
        low = _numerics.logsumexp(minus.astype(np.float64))
        gap = high - low
        rounding = (
            16 * float(np.finfo(np.float64).eps) * (1 + np.maximum(np.abs(high), np.abs(low)))
        )
        near = np.abs(gap) <= rounding
        tie = near & np.all(np.sort(plus, axis=-1) == np.sort(minus, axis=-1), axis=-1)
        up = (gap > 0) & ~tie
        down = (gap < 0) & ~tie
    new = np.where(up, 1, np.where(down, -1, sigma[..., i])).astype(sigma.dtype)
    z += (new - sigma[..., i])[..., None] * column  # exact integer update of the overlaps
    sigma[..., i] = new


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
    ``index`` changes. Tie (equal energies, decided exactly): σ_i is kept, so E
    never increases and a change lowers it strictly. Works for any degree up to
    ``MAX_DEGREE`` (exact integer arithmetic, no overflow).
    """
    X, sigma = _sign_patterns_and_states(patterns, states)
    kind, n = _interaction(interaction, degree)
    i = check.index(index, X.shape[-1], "index")
    result = sigma.copy()
    _dense_visit(result, result @ X.T, i, X, kind, n)
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
    The overlaps z = σ Xᵀ are kept incrementally (O(P) per flip, exact integers).
    """
    X, sigma = _sign_patterns_and_states(patterns, states)
    kind, n = _interaction(interaction, degree)
    M = X.shape[-1]
    sequence = np.arange(M) if order is None else check.permutation(order, M)
    result = sigma.copy()
    z: FloatArray = result @ X.T
    for i in sequence:
        _dense_visit(result, z, int(i), X, kind, n)
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
