"""Discrete Hopfield network: energy, update rules, dynamics and storage rules.

Book: §8.6.1 (Hopfield network) and exercise 8-6 (the energy decreases).
Spec: ``spec.hopfield``.

Conventions shared by every function here:

* A **state** is a float32/float64 array of ±1 of shape (..., M): the book's
  column vector s ∈ {+1, −1}^M is our last axis; leading axes are a batch of
  independent networks or trials. Any other value (0, NaN, 0.5) is a
  ``ValueError``.
* **Weights** are (..., M, M) with entry [..., i, j] = w_ij, the weight from
  neuron j into neuron i (the field of neuron i is h_i = Σ_j w_ij s_j + b_i).
  They must be exactly symmetric with an exactly zero diagonal — the
  hypotheses of the energy lemma (exercise 8-6) — unless the caller opts out
  with ``allow_asymmetric=True`` / ``allow_nonzero_diagonal=True`` (the
  counterexample studies do; see ``proofs.hopfield_counterexamples``). The
  checks are exact, not up to rounding: symmetrise a nearly symmetric matrix
  with ``(W + W.T) / 2`` (exactly symmetric in floating point) first.
* **Bias** b is optional, (..., M), default 0.
* Batch axes of state, weights and bias broadcast against each other, so a
  stack of T networks (T, M, M) can run T trials (T, M) in one call.
* The **tie rule** is the book's: a neuron whose field is ≥ 0 becomes +1. The
  field is computed in floating point, so a field that is 0 in exact
  arithmetic may come out as ±(a few ulps); the tie is then decided by the
  rounded value. Asynchronous updates round identically for batched and
  single calls; ``local_field``/``synchronous_update`` use a BLAS matmul,
  whose rounding may differ between a batched and a single call, so a field
  within a few ulps of 0 may be decided differently there.
* Extremes: M = 1 works (w_11 = 0, so the field is b_1 and with b = 0 the
  tie sends the neuron to +1); M = 0 (no neurons) is allowed and trivial
  (energy 0, a run converges after one empty sweep); ±inf and NaN weights
  are rejected; finite weights are fine while the sums Σ_j |w_ij| stay within
  the dtype's range (e.g. |w| ≤ 1e30 in float32 for M up to 1e8); beyond
  that the fields and energies overflow, which is not checked.
* Storage rules take patterns (..., N, M) of ±1 (the book's x^(1..N), one per
  row) and return (..., M, M) weights, symmetric with zero diagonal.
"""

from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from impl import _validation as check
from impl._typing import FloatArray, IntArray

UpdateMode = Literal["asynchronous", "synchronous"]
"""How ``run_to_fixed_point`` updates the neurons."""


# --------------------------------------------------------------------------- validation


def validate_weights(
    weights: object,
    *,
    allow_asymmetric: bool = False,
    allow_nonzero_diagonal: bool = False,
) -> FloatArray:
    """Return ``weights`` if it is a valid Hopfield weight matrix (or stack), else raise.

    Book: §8.6.1, w_ii = 0 and w_ij = w_ji (the hypotheses of exercise 8-6).
    Shapes: (..., M, M), float32/float64, finite.
    Raises ``ValueError`` naming the largest |w_ij − w_ji| and its position when
    the matrix is not exactly symmetric, or the largest |w_ii| when the diagonal
    is not exactly zero — unless the matching ``allow_*`` opt-out is given.
    """
    W = check.float_array(weights, "weights", min_ndim=2)
    if W.shape[-1] != W.shape[-2]:
        raise ValueError(f"weights must be square (..., M, M), got shape {W.shape}")
    if not allow_asymmetric:
        asymmetry: FloatArray = np.abs(W - np.swapaxes(W, -1, -2))
        if asymmetry.size and asymmetry.max() > 0:
            where = tuple(int(p) for p in np.unravel_index(int(asymmetry.argmax()), W.shape))
            raise ValueError(
                f"weights must be symmetric (w_ij = w_ji): largest |w_ij - w_ji| = "
                f"{float(asymmetry.max())!r} at index {where}; pass allow_asymmetric=True to "
                f"study asymmetric networks, or symmetrise with (W + W.T) / 2"
            )
    if not allow_nonzero_diagonal:
        diagonal: FloatArray = np.abs(np.diagonal(W, axis1=-2, axis2=-1))
        if diagonal.size and diagonal.max() > 0:
            where = tuple(int(p) for p in np.unravel_index(int(diagonal.argmax()), diagonal.shape))
            raise ValueError(
                f"weights must have a zero diagonal (w_ii = 0): largest |w_ii| = "
                f"{float(diagonal.max())!r} at (batch, i) = {where}; pass "
                f"allow_nonzero_diagonal=True to study self-coupled networks"
            )
    return W


def _network(
    state: object,
    weights: object,
    bias: object,
    *,
    allow_asymmetric: bool,
    allow_nonzero_diagonal: bool,
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Validate (state, weights, bias); return them with bias filled in as zeros."""
    s = check.plus_minus_one_array(state, "state")
    W = validate_weights(
        weights, allow_asymmetric=allow_asymmetric, allow_nonzero_diagonal=allow_nonzero_diagonal
    )
    m = W.shape[-1]
    if s.shape[-1] != m:
        raise ValueError(f"state has {s.shape[-1]} neurons, weights is {m}x{m}")
    if bias is None:
        b: FloatArray = np.zeros(m, dtype=W.dtype)
    else:
        b = check.float_array(bias, "bias", min_ndim=1)
        if b.shape[-1] != m:
            raise ValueError(f"bias has {b.shape[-1]} entries, weights is {m}x{m}")
    check.same_dtype(state=s, weights=W, bias=b)
    try:
        np.broadcast_shapes(s.shape[:-1], W.shape[:-2], b.shape[:-1])
    except ValueError:
        raise ValueError(
            f"batch axes do not broadcast: state {s.shape}, weights {W.shape}, bias {b.shape}"
        ) from None
    return s, W, b


def _batch_shape(s: FloatArray, W: FloatArray, b: FloatArray) -> tuple[int, ...]:
    return np.broadcast_shapes(s.shape[:-1], W.shape[:-2], b.shape[:-1])


def _sign_with_ties_up(field: FloatArray) -> FloatArray:
    """The book's threshold: +1 where field ≥ 0, −1 elsewhere."""
    one = np.asarray(1, dtype=field.dtype)
    result: FloatArray = np.where(field >= 0, one, -one)
    return result


# --------------------------------------------------------------------------- energy, field


def local_field(
    state: FloatArray,
    weights: FloatArray,
    bias: FloatArray | None = None,
    *,
    allow_asymmetric: bool = False,
    allow_nonzero_diagonal: bool = False,
) -> FloatArray:
    r"""Local fields h = W s + b, h_i = Σ_j w_ij s_j + b_i.

    Book: §8.6.1, the argument of the update rule S_i = +1 iff Σ_j w_ij S_j + b_i ≥ 0.
    Shapes: state (..., M), weights (..., M, M), bias (..., M) -> (..., M);
    batch axes broadcast.
    Spec: ``spec.hopfield.local_field_sum``.
    """
    s, W, b = _network(
        state,
        weights,
        bias,
        allow_asymmetric=allow_asymmetric,
        allow_nonzero_diagonal=allow_nonzero_diagonal,
    )
    product: FloatArray = np.matmul(W, s[..., None])[..., 0]  # (W s)_i
    field: FloatArray = product + b
    return field


def energy(
    state: FloatArray,
    weights: FloatArray,
    bias: FloatArray | None = None,
    *,
    allow_asymmetric: bool = False,
    allow_nonzero_diagonal: bool = False,
) -> FloatArray:
    r"""Hopfield energy E = −½ sᵀ W s − bᵀ s.

    Book: §8.6.1, E = −½ Σ_ij w_ij s_i s_j − Σ_i b_i s_i.
    Shapes: state (..., M), weights (..., M, M), bias (..., M) -> (...,)
    (a 0-d array for a single state).
    Assumptions: with the opt-outs, an asymmetric W enters only through its
    symmetric part (sᵀ W s = sᵀ ½(W + Wᵀ) s), and a diagonal adds the constant
    −½ Σ_i w_ii for ±1 states.
    Spec: ``spec.hopfield.energy_sum``.
    """
    s, W, b = _network(
        state,
        weights,
        bias,
        allow_asymmetric=allow_asymmetric,
        allow_nonzero_diagonal=allow_nonzero_diagonal,
    )
    product: FloatArray = np.matmul(W, s[..., None])[..., 0]
    quadratic: FloatArray = np.sum(s * product, axis=-1)  # sᵀ W s
    linear: FloatArray = np.sum(b * s, axis=-1)  # bᵀ s
    result: FloatArray = -0.5 * quadratic - linear
    return result.astype(W.dtype)


# --------------------------------------------------------------------------- updates


def _set_neuron(s: FloatArray, i: int, W: FloatArray, b: FloatArray) -> None:
    """In place: s[..., i] ← sign(Σ_j w_ij s_j + b_i) with ties to +1."""
    row = W[..., i, :]
    # Note: an elementwise product summed over the last axis (not a BLAS matmul) rounds the
    # same way for every batch item, so a batched sweep equals the per-item sweeps exactly,
    # even when a field is within rounding of the tie.
    h: FloatArray = np.sum(s * row, axis=-1) + b[..., i]
    s[..., i] = _sign_with_ties_up(h)


def _neuron_index(i: object, m: int) -> int:
    if isinstance(i, bool) or not isinstance(i, int | np.integer):
        raise TypeError(f"i must be an int neuron index, got {type(i).__name__}")
    if not 0 <= int(i) < m:
        raise ValueError(f"i must be a neuron index in [0, {m}), got {i}")
    return int(i)


def update_neuron(
    state: FloatArray,
    i: int,
    weights: FloatArray,
    bias: FloatArray | None = None,
    *,
    allow_asymmetric: bool = False,
    allow_nonzero_diagonal: bool = False,
) -> FloatArray:
    r"""Asynchronous update of one neuron: s_i ← +1 if Σ_j w_ij s_j + b_i ≥ 0, else −1.

    Book: §8.6.1, update rule of the discrete Hopfield network (ties go to +1).
    Shapes: state (..., M), weights (..., M, M), bias (..., M) -> (..., M), a
    new array (the input is not modified); every other neuron is unchanged.
    Spec: ``spec.hopfield.update_rule``; the energy change it causes is
    ``spec.hopfield.energy_change_closed_form``.
    """
    s, W, b = _network(
        state,
        weights,
        bias,
        allow_asymmetric=allow_asymmetric,
        allow_nonzero_diagonal=allow_nonzero_diagonal,
    )
    index = _neuron_index(i, W.shape[-1])
    new: FloatArray = np.array(np.broadcast_to(s, (*_batch_shape(s, W, b), s.shape[-1])))
    _set_neuron(new, index, W, b)
    return new


def _sweep_order(order: object, rng: object, m: int) -> IntArray:
    if (order is None) == (rng is None):
        raise ValueError("give exactly one of order (a permutation) or rng (a Generator)")
    if order is None:
        permutation: IntArray = check.generator(rng).permutation(m)
        return permutation
    return check.permutation(order, m)


def asynchronous_sweep(
    state: FloatArray,
    weights: FloatArray,
    bias: FloatArray | None = None,
    *,
    order: IntArray | list[int] | None = None,
    rng: np.random.Generator | None = None,
    allow_asymmetric: bool = False,
    allow_nonzero_diagonal: bool = False,
) -> FloatArray:
    r"""One asynchronous sweep: update every neuron once, one at a time.

    Book: §8.6.1, asynchronous updates (one neuron at a time, in a random or
    fixed order); each single update is ``update_neuron``.
    Shapes: state (..., M), weights (..., M, M), bias (..., M) -> (..., M),
    a new array. Give exactly one of ``order`` (a permutation of range(M)) or
    ``rng`` (a ``numpy.random.Generator`` that draws a random permutation).
    The same order is applied to every batch item, vectorised over the batch.
    Spec: exercise 8-6: E never increases along the sweep
    (``spec.hopfield.energy_change_closed_form``).
    """
    s, W, b = _network(
        state,
        weights,
        bias,
        allow_asymmetric=allow_asymmetric,
        allow_nonzero_diagonal=allow_nonzero_diagonal,
    )
    m = W.shape[-1]
    indices = _sweep_order(order, rng, m)
    new: FloatArray = np.array(np.broadcast_to(s, (*_batch_shape(s, W, b), m)))
    for i in indices:
        _set_neuron(new, int(i), W, b)
    return new


def synchronous_update(
    state: FloatArray,
    weights: FloatArray,
    bias: FloatArray | None = None,
    *,
    allow_asymmetric: bool = False,
    allow_nonzero_diagonal: bool = False,
) -> FloatArray:
    r"""Synchronous update: s(t+1) = sign(W s(t) + b) for all neurons at once (ties → +1).

    Book: §8.6.1, synchronous updates (all neurons at once, on a clock).
    Shapes: state (..., M), weights (..., M, M), bias (..., M) -> (..., M).
    The energy need not decrease; the two-step function
    L(t) = −s(t)ᵀ W s(t−1) − bᵀ(s(t) + s(t−1)) does (for symmetric W), so the
    dynamics ends in a fixed point or a 2-cycle.
    Spec: ``spec.hopfield.lyapunov_difference_closed_form``.
    """
    field = local_field(
        state,
        weights,
        bias,
        allow_asymmetric=allow_asymmetric,
        allow_nonzero_diagonal=allow_nonzero_diagonal,
    )
    return _sign_with_ties_up(field)


# --------------------------------------------------------------------------- dynamics


@dataclass(frozen=True)
class HopfieldRun:
    """Trajectory of one run of the dynamics (``run_to_fixed_point``).

    ``states`` (T+1, M): the start and the state after each sweep
    (asynchronous) or step (synchronous); ``energies`` (T+1,): E of each.
    ``converged``: the last state is a fixed point (a whole sweep or step
    changed nothing). ``cycle_length``: 1 for a fixed point, p ≥ 2 when the
    deterministic dynamics (synchronous, or asynchronous with a fixed
    ``order``) revisited a state of p steps before, None when neither was
    seen within ``max_sweeps`` (or with a random order, where a repeat does not
    imply a cycle). ``sweeps``: the number of sweeps or steps taken (T).
    """

    states: FloatArray
    energies: FloatArray
    converged: bool
    cycle_length: int | None
    sweeps: int

    @property
    def final_state(self) -> FloatArray:
        """The last state of the trajectory."""
        last: FloatArray = self.states[-1]
        return last


def run_to_fixed_point(
    state: FloatArray,
    weights: FloatArray,
    bias: FloatArray | None = None,
    *,
    mode: UpdateMode = "asynchronous",
    rng: np.random.Generator | None = None,
    order: IntArray | list[int] | None = None,
    max_sweeps: int = 100,
    allow_asymmetric: bool = False,
    allow_nonzero_diagonal: bool = False,
) -> HopfieldRun:
    r"""Iterate the dynamics from ``state`` until a fixed point, a cycle or ``max_sweeps``.

    Book: §8.6.1, retrieval converges to the attractor of the basin the state
    starts in (exercise 8-6 for the asynchronous mode; the two-step Lyapunov
    function for the synchronous mode, which may end in a 2-cycle instead).
    Shapes: state (M,), weights (M, M), bias (M,) (one network, one start;
    batch with ``asynchronous_sweep`` directly).
    Asynchronous mode: each sweep uses ``order`` if given, else a fresh random
    permutation from ``rng``. Synchronous mode: neither is needed.
    Spec: ``spec.hopfield`` (energy lemma and two-step Lyapunov function).
    """
    s, W, b = _network(
        state,
        weights,
        bias,
        allow_asymmetric=allow_asymmetric,
        allow_nonzero_diagonal=allow_nonzero_diagonal,
    )
    if s.ndim != 1 or W.ndim != 2 or b.ndim != 1:
        raise ValueError(
            f"run_to_fixed_point takes one state (M,), weights (M, M) and bias (M,), got "
            f"state {s.shape}, weights {W.shape}, bias {b.shape}; batch with asynchronous_sweep"
        )
    limit = check.positive_int(max_sweeps, "max_sweeps")
    options: dict[str, Any] = {
        "allow_asymmetric": allow_asymmetric,
        "allow_nonzero_diagonal": allow_nonzero_diagonal,
    }
    if mode == "synchronous":
        if order is not None or rng is not None:
            raise ValueError("synchronous mode takes neither order nor rng")
        deterministic = True
    elif mode == "asynchronous":
        if (order is None) == (rng is None):
            raise ValueError("asynchronous mode needs exactly one of order or rng")
        deterministic = order is not None
    else:
        raise ValueError(f"mode must be 'asynchronous' or 'synchronous', got {mode!r}")
    states = [s.copy()]
    seen: dict[bytes, int] = {s.tobytes(): 0}
    converged, cycle_length = False, None
    for sweep in range(1, limit + 1):
        if mode == "synchronous":
            new = synchronous_update(states[-1], W, b, **options)
        else:
            new = asynchronous_sweep(states[-1], W, b, order=order, rng=rng, **options)
        states.append(new)
        if np.array_equal(new, states[-2]):
            converged, cycle_length = True, 1
            break
        key = new.tobytes()
        if deterministic and key in seen:
            cycle_length = sweep - seen[key]
            break
        seen[key] = sweep
    trajectory: FloatArray = np.stack(states)
    energies = energy(trajectory, W, b, **options)
    return HopfieldRun(
        states=trajectory,
        energies=energies,
        converged=converged,
        cycle_length=cycle_length,
        sweeps=len(states) - 1,
    )


# --------------------------------------------------------------------------- storage rules


def _patterns(patterns: object) -> FloatArray:
    x = check.plus_minus_one_array(patterns, "patterns")
    if x.ndim < 2:
        raise ValueError(f"patterns must be (..., N, M), one pattern per row, got shape {x.shape}")
    if x.shape[-2] == 0 or x.shape[-1] == 0:
        raise ValueError(
            f"patterns must hold at least one pattern of at least one neuron, got {x.shape}"
        )
    return x


def _without_diagonal(W: FloatArray) -> FloatArray:
    mask = np.eye(W.shape[-1], dtype=bool)
    result: FloatArray = np.where(mask, np.asarray(0, dtype=W.dtype), W)
    return result


def hebbian_weights(patterns: FloatArray) -> FloatArray:
    r"""Hebbian storage, the average outer product w_ij = (1/N) Σ_n x_i^(n) x_j^(n), w_ii = 0.

    Book: §8.6.1, learning rule "neurons that fire together wire together".
    Shapes: patterns (..., N, M) of ±1 (row n = the book's column x^(n)) ->
    weights (..., M, M). The book normalises by the number of patterns N;
    many texts use 1/M instead — the dynamics (no bias) is the same, only the
    energy scale differs.
    Assumptions: N ≥ 1 (``ValueError`` for zero patterns, where 1/N is undefined).
    Spec: ``spec.hopfield.hebbian_weight``.
    """
    x = _patterns(patterns)
    n = x.shape[-2]
    outer_sum: FloatArray = np.matmul(np.swapaxes(x, -1, -2), x)  # Σ_n x^(n) x^(n)ᵀ
    W: FloatArray = outer_sum / np.asarray(n, dtype=x.dtype)
    return _without_diagonal(W)


def hebbian_add(weights: FloatArray, new_patterns: FloatArray, n_stored: int) -> FloatArray:
    r"""Add patterns to a Hebbian network that stores ``n_stored`` patterns.

    Book: §8.6.1, Hebbian rule (the average is updated incrementally:
    W' = (n W + Σ_new x xᵀ − k I) / (n + k) for k new patterns).
    Shapes: weights (..., M, M), new_patterns (..., K, M) -> (..., M, M).
    Result equals ``hebbian_weights`` of all n + K patterns (up to rounding).
    ``n_stored = 0`` means an empty network, whose weights must be all zero.
    """
    W = validate_weights(weights)
    x = _patterns(new_patterns)
    check.same_dtype(weights=W, new_patterns=x)
    if isinstance(n_stored, bool) or not isinstance(n_stored, int | np.integer):
        raise TypeError(f"n_stored must be an int, got {type(n_stored).__name__}")
    if n_stored < 0:
        raise ValueError(f"n_stored must be >= 0, got {n_stored}")
    if n_stored == 0 and np.any(W != 0):
        raise ValueError("n_stored is 0 (an empty network) but weights is not all zero")
    if x.shape[-1] != W.shape[-1]:
        raise ValueError(
            f"new_patterns has {x.shape[-1]} neurons, weights is {W.shape[-1]}x{W.shape[-1]}"
        )
    k = x.shape[-2]
    outer_sum: FloatArray = _without_diagonal(np.matmul(np.swapaxes(x, -1, -2), x))
    total = int(n_stored) + k
    scaled: FloatArray = W * np.asarray(int(n_stored), dtype=W.dtype)  # back to Σ x xᵀ
    result: FloatArray = (scaled + outer_sum) / np.asarray(total, dtype=W.dtype)
    return result


def pseudo_inverse_weights(patterns: FloatArray) -> FloatArray:
    r"""Projection (pseudo-inverse) storage W = X⁺ X with the diagonal set to 0.

    Book: §8.6.1 mentions better learning rules than Hebb's; this is the
    projection rule (Personnaz, Guyon & Dreyfus 1985; Kanter & Sompolinsky 1987).
    Shapes: patterns X (..., N, M) of ±1, one per row -> weights (..., M, M).
    X⁺ X (M×M) is the orthogonal projection P onto the span of the patterns,
    so P x^(n) = x^(n) for every stored pattern, linearly dependent or not.
    # Note on the diagonal: we set w_ii = 0 (the book's hypothesis, and what
    # makes exercise 8-6 apply). The field of neuron i at a stored pattern is
    # then (1 − P_ii) x_i^(n), with P_ii = ‖P e_i‖² ≤ 1, so every stored
    # pattern stays a fixed point as long as every P_ii < 1 (i.e. no unit
    # vector e_i lies in the span); trace P = rank X, so the mean P_ii is
    # rank/M — the margin shrinks as the load approaches M. Keeping the
    # diagonal would make every state more self-stable, hence more spurious
    # fixed points and smaller basins.
    """
    x = _patterns(patterns)
    pinv: FloatArray = np.linalg.pinv(x)  # (..., M, N)
    projection: FloatArray = np.matmul(pinv, x)
    symmetric: FloatArray = (projection + np.swapaxes(projection, -1, -2)) / np.asarray(
        2, dtype=x.dtype
    )  # Note: exact symmetry in floating point (P is symmetric only up to rounding)
    return _without_diagonal(symmetric.astype(x.dtype))


def storkey_weights(patterns: FloatArray) -> FloatArray:
    r"""Storkey's incremental storage rule (Storkey 1997), diagonal kept at 0.

    Book: §8.6.1 mentions better learning rules than Hebb's; this one is local
    and incremental like Hebb's but has a higher capacity. Starting from W = 0,
    for each pattern ξ (in row order):
        h_ij = Σ_{k≠i,j} w_ik ξ_k,
        w_ij ← w_ij + (1/M)(ξ_i ξ_j − ξ_i h_ji − h_ij ξ_j).
    Shapes: patterns (..., N, M) of ±1 -> weights (..., M, M).
    # Note: the diagonal does not enter any h_ij (k ≠ i), so setting w_ii = 0
    # after each pattern changes no off-diagonal weight; it only keeps the
    # result within the hypotheses of exercise 8-6.
    """
    x = _patterns(patterns)
    m = x.shape[-1]
    batch = x.shape[:-2]
    W: FloatArray = np.zeros((*batch, m, m), dtype=x.dtype)
    inverse_m = np.asarray(1.0 / m, dtype=x.dtype)
    for n in range(x.shape[-2]):
        xi = x[..., n, :]  # (..., M)
        field: FloatArray = np.matmul(W, xi[..., None])[..., 0]  # Σ_k w_ik ξ_k (w_ii = 0)
        # h_ij = Σ_k w_ik ξ_k − w_ij ξ_j  (drop k = j; k = i vanishes as w_ii = 0)
        h: FloatArray = field[..., :, None] - W * xi[..., None, :]
        crossed: FloatArray = h * xi[..., None, :]  # [i, j] = h_ij ξ_j; its transpose is ξ_i h_ji
        # Note: summing ξ_i h_ji + h_ij ξ_j as crossed + crossedᵀ keeps W exactly symmetric.
        increment: FloatArray = xi[..., :, None] * xi[..., None, :] - (
            crossed + np.swapaxes(crossed, -1, -2)
        )
        W = _without_diagonal(W + inverse_m * increment)
    return W
