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
* **Checked once.** Each public function validates its arguments once (the
  O(M²) symmetry and overflow checks included) and then runs private kernels
  that trust them; a run of many sweeps checks W once, not once per sweep.
* The **tie rule** is the book's: a neuron whose field is ≥ 0 becomes +1, and
  it holds wherever the *exact* field is 0. The field is computed in floating
  point, where an exact 0 (common: Hebbian weights of ±1 patterns give fields
  that are multiples of 1/N) comes out as ±(a few ulps). So the update decides
  with a derived rounding band: +1 iff the computed field ĥ_i ≥ −δ_i, where
  δ_i = γ_n · (Σ_j |w_ij| + |b_i|), γ_n = n·u/(1 − n·u), u the unit roundoff
  and n = (R + 2)·M + 4 with R = ``_REFRESH_FLIPS_PER_NEURON``. This δ_i bounds
  |ĥ_i − h_i| on every path here (a BLAS product: M additions; an incremental
  field after up to R·M flips: one rounding each; the rounding of the weights
  and bias themselves from the reals they stand for: one more; the rest covers
  the rounding of δ_i itself). Consequences, all tested: (1) an exact tie
  always goes to +1; (2) a field with |h_i| > 2δ_i, or any positive one, is
  decided by its exact sign; (3) so asynchronous, batched and synchronous
  updates agree with exact rational arithmetic whenever no exact field lies in
  [−2δ_i, 0) — true for Hebbian weights of ±1 patterns (fields are multiples of
  1/N) when 2·max_i δ_i < 1/N; as |w_ij| ≤ 1 gives δ_i ≤ γ_n·M, it suffices
  that 20·M²·N·u < 1: float64 up to M = N = 76 000, float32 up to M = N = 94
  (``tests/test_hopfield.py`` checks it against ``fractions.Fraction``).
  # Note: the one departure from the book: a nonzero field in [−δ_i, 0),
  # which floating point cannot tell from a tie, is also sent to +1.
* Extremes: M = 1 works (w_11 = 0, so the field is b_1 and with b = 0 the
  tie sends the neuron to +1); M = 0 (no neurons) is allowed and trivial
  (energy 0, a run converges after one empty sweep); a batch of 0 states
  gives an empty result; ±inf and NaN weights are rejected; finite weights are
  accepted while Σ_ij |w_ij| + Σ_i |b_i| ≤ finfo(dtype).max / 4 (≈ 8.5e37 in
  float32, 4.5e307 in float64) — the bound under which no field, energy or
  field increment can overflow; beyond it a ``ValueError`` names the weights.
* Storage rules take patterns (..., N, M) of ±1 (the book's x^(1..N), one per
  row) and return (..., M, M) weights, symmetric with zero diagonal.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal, TypeVar

import numpy as np

from impl import _validation as check
from impl._typing import BoolArray, FloatArray, IntArray

ArrayT = TypeVar("ArrayT", bound=np.ndarray[Any, Any])

UpdateMode = Literal["asynchronous", "synchronous"]
"""How ``run_to_fixed_point`` updates the neurons."""

MAX_TRAJECTORY_ENTRIES = 10**8
"""``run_to_fixed_point`` keeps every state: max_sweeps · M is refused above this
(10⁸ entries, 800 MB in float64)."""

_REFRESH_FLIPS_PER_NEURON = 8
"""R: incremental fields are recomputed from scratch before R·M flips accumulate
(their rounding error grows by one rounding per flip; δ_i covers R·M of them)."""


# --------------------------------------------------------------------------- validation


def _check_weights(
    weights: object, name: str, *, allow_asymmetric: bool, allow_nonzero_diagonal: bool
) -> FloatArray:
    W = check.float_array(weights, name, min_ndim=2)
    if W.shape[-1] != W.shape[-2]:
        raise ValueError(f"{name} must be square (..., M, M), got shape {W.shape}")
    if not allow_asymmetric:
        check.symmetric_matrix(
            W,
            name,
            tolerance=0.0,
            remedy="pass allow_asymmetric=True to study asymmetric networks, or symmetrise "
            "with (W + W.T) / 2",
        )
    if not allow_nonzero_diagonal:
        diagonal: FloatArray = np.abs(np.diagonal(W, axis1=-2, axis2=-1))
        if diagonal.size and diagonal.max() > 0:
            where = tuple(int(p) for p in np.unravel_index(int(diagonal.argmax()), diagonal.shape))
            raise ValueError(
                f"{name} must have a zero diagonal (w_ii = 0): largest |w_ii| = "
                f"{float(diagonal.max())!r} at (batch, i) = {where}; pass "
                f"allow_nonzero_diagonal=True to study self-coupled networks"
            )
    return W


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
    return _check_weights(
        weights,
        "weights",
        allow_asymmetric=check.boolean(allow_asymmetric, "allow_asymmetric"),
        allow_nonzero_diagonal=check.boolean(allow_nonzero_diagonal, "allow_nonzero_diagonal"),
    )


@dataclass(frozen=True)
class _Network:
    """A validated network: state s, weights W, bias b (filled in) and the tie band δ."""

    s: FloatArray
    W: FloatArray
    b: FloatArray
    band: FloatArray  # δ_i, broadcast shape of W's and b's batch axes + (M,)
    batch: tuple[int, ...]
    symmetric: bool  # W = Wᵀ exactly (then column i of W is row i)


def _rounding_band(row_sums: FloatArray, dtype: np.dtype[Any]) -> FloatArray:
    """δ_i = γ_n (Σ_j |w_ij| + |b_i|), n = (R + 2)M + 4 (see the module docstring)."""
    m = row_sums.shape[-1]
    u = float(np.finfo(dtype).eps) / 2
    n = (_REFRESH_FLIPS_PER_NEURON + 2) * m + 4
    gamma = n * u / (1 - n * u)
    band: FloatArray = (gamma * row_sums).astype(dtype)
    return band


def _network(
    state: object,
    weights: object,
    bias: object,
    *,
    allow_asymmetric: object,
    allow_nonzero_diagonal: object,
    state_name: str = "state",
) -> _Network:
    """Validate (state, weights, bias) once; fill in the bias; derive the tie band.

    ``state_name`` is the caller's name for the states (``starts``, ``patterns``).
    """
    s = check.plus_minus_one_array(state, state_name)
    allow_asymmetric = check.boolean(allow_asymmetric, "allow_asymmetric")
    W = _check_weights(
        weights,
        "weights",
        allow_asymmetric=allow_asymmetric,
        allow_nonzero_diagonal=check.boolean(allow_nonzero_diagonal, "allow_nonzero_diagonal"),
    )
    m = W.shape[-1]
    if s.shape[-1] != m:
        raise ValueError(f"{state_name} has {s.shape[-1]} neurons, weights is {m}x{m}")
    if bias is None:
        b: FloatArray = np.zeros(m, dtype=W.dtype)
    else:
        b = check.float_array(bias, "bias", min_ndim=1)
        if b.shape[-1] != m:
            raise ValueError(f"bias has {b.shape[-1]} entries, weights is {m}x{m}")
    check.same_dtype(**{state_name: s, "weights": W, "bias": b})
    try:
        batch = np.broadcast_shapes(s.shape[:-1], W.shape[:-2], b.shape[:-1])
    except ValueError:
        raise ValueError(
            f"batch axes do not broadcast: {state_name} {s.shape}, weights {W.shape}, "
            f"bias {b.shape}"
        ) from None
    info = np.finfo(W.dtype)
    n = (_REFRESH_FLIPS_PER_NEURON + 2) * m + 4
    if n * float(info.eps) / 2 >= 0.5:
        raise ValueError(f"weights has M = {m} neurons, too many for {W.dtype} (n·u ≥ ½)")
    with np.errstate(over="ignore"):
        # Σ_j |w_ij| + |b_i| in float64 (exact enough for float32; a relative γ_M for float64,
        # which the spare M + 2 in the band's n absorbs).
        row_sums: FloatArray = np.abs(W).sum(axis=-1, dtype=np.float64) + np.abs(b)
        total: FloatArray = row_sums.sum(axis=-1)
    limit = float(info.max) / 4
    if total.size and not float(total.max()) <= limit:
        raise ValueError(
            f"weights and bias are too large for {W.dtype}: Σ_ij |w_ij| + Σ_i |b_i| = "
            f"{float(total.max())!r} exceeds finfo.max / 4 = {limit!r}, above which fields "
            "and energies can overflow; scale the weights and bias down (the dynamics "
            "does not change under a positive scale)"
        )
    symmetric = not allow_asymmetric or bool(np.array_equal(W, np.swapaxes(W, -1, -2)))
    return _Network(s, W, b, _rounding_band(row_sums, W.dtype), batch, symmetric)


# --------------------------------------------------------------------------- kernels


def _fields(s: FloatArray, W: FloatArray, b: FloatArray) -> FloatArray:
    """h = W s + b (trusted inputs; batch axes broadcast)."""
    product: FloatArray = np.matmul(W, s[..., None])[..., 0]  # (W s)_i
    field: FloatArray = product + b
    return field


def _decide(field: FloatArray, band: FloatArray) -> FloatArray:
    """The book's threshold with ties exact: +1 where field ≥ −δ (exact field ≥ 0), else −1."""
    one = np.asarray(1, dtype=field.dtype)
    result: FloatArray = np.where(field >= -band, one, -one)
    return result


def _energy(s: FloatArray, W: FloatArray, b: FloatArray) -> FloatArray:
    """E = −½ sᵀWs − bᵀs (trusted inputs)."""
    product: FloatArray = np.matmul(W, s[..., None])[..., 0]
    quadratic: FloatArray = np.sum(s * product, axis=-1)  # sᵀ W s
    linear: FloatArray = np.sum(b * s, axis=-1)  # bᵀ s
    result: FloatArray = np.asarray(-0.5 * quadratic - linear).astype(W.dtype)
    return result


class _AsynchronousDynamics:
    """Asynchronous sweeps of B states with incremental local fields (trusted inputs).

    Keeps s (B, M) and h = W s + b (B, M). Visiting neuron i costs O(B) (compare
    h[:, i] with −δ_i); a flip of s_i by Δ = ±2 costs O(M): h_j += Δ w_ji for
    every j (column i of W, i.e. row i of Wᵀ). A sweep is O(B·M + flips·M)
    instead of O(B·M²). Network of item k: weights ``W[w_index[k]]``. Fields are
    recomputed from scratch before R·M flips accumulate in an item, which keeps
    their rounding error within the band δ (module docstring).
    """

    def __init__(
        self,
        s: FloatArray,
        W: FloatArray,
        w_index: IntArray,
        b: FloatArray,
        band: FloatArray,
        *,
        symmetric: bool,
    ) -> None:
        self.s = s  # (B, M), owned and modified in place
        self.W = W  # (G, M, M)
        self.columns = W if symmetric else np.ascontiguousarray(np.swapaxes(W, -1, -2))
        self.w_index = w_index  # (B,)
        self.b = b  # (B, M)
        self.band = band  # (B, M)
        m = s.shape[-1]
        self.h: FloatArray = np.empty_like(s)
        self.flips: IntArray = np.zeros(s.shape[0], dtype=np.intp)  # since the last refresh
        self.budget = (_REFRESH_FLIPS_PER_NEURON - 1) * m
        self.refresh(np.arange(s.shape[0]))

    def refresh(self, rows: IntArray) -> None:
        """h[rows] ← W s + b from scratch, one BLAS product per network."""
        for g in np.unique(self.w_index[rows]):
            these = rows[self.w_index[rows] == g]
            self.h[these] = self.s[these] @ self.W[g].T + self.b[these]
        self.flips[rows] = 0

    def sweep(self, order: Iterable[int]) -> BoolArray:
        """One sweep in ``order`` for every item; returns which items changed."""
        stale = np.flatnonzero(self.flips > self.budget)
        if stale.size:
            self.refresh(stale)
        if self.s.shape[0] == 1:
            return self._sweep_one(order)
        # Note: as in _sweep_one, no field of an item changes between two of its flips, so
        # each round finds every item's next flip (the first visit, from where the item
        # is in the order, whose decision differs from its state) and makes it: one round
        # per flip of the busiest item, O(B·M) each, instead of M visits per sweep.
        s, h, columns, w_index = self.s, self.h, self.columns, self.w_index
        threshold = -self.band  # +1 iff ĥ_i ≥ −δ_i
        sequence = np.asarray(order, dtype=np.intp)
        steps = np.arange(sequence.size)
        position = np.zeros(s.shape[0], dtype=np.intp)  # next visit of each item
        changed: BoolArray = np.zeros(s.shape[0], dtype=bool)
        active = np.arange(s.shape[0])
        while active.size and sequence.size:
            up = h[active][:, sequence] >= threshold[active][:, sequence]
            mismatch = (up != (s[active][:, sequence] > 0)) & (steps >= position[active][:, None])
            moving = mismatch.any(axis=1)
            active, up, mismatch = active[moving], up[moving], mismatch[moving]
            if not active.size:
                break
            first = mismatch.argmax(axis=1)  # the item's next flip, as a step of the order
            i = sequence[first]
            value = np.where(up[np.arange(active.size), first], 1.0, -1.0).astype(s.dtype)
            s[active, i] = value
            # h_j += Δ w_ji for every j: Δ = 2 s_new, 2·w is exact, one rounding per entry.
            h[active] += (value + value)[:, None] * columns[w_index[active], i, :]
            self.flips[active] += 1
            changed[active] = True
            position[active] = first + 1
        return changed

    def _sweep_one(self, order: Iterable[int]) -> BoolArray:
        """``sweep`` for a single item: the same decisions, found a flip at a time.

        Between two flips no field changes, so every visit in between keeps its
        neuron; one vectorised comparison over the rest of the order finds the next
        neuron whose decision differs from its state. A sweep costs O(M) per flip
        (plus O(M) to find it), and O(M) in all when nothing flips.
        """
        s, h, columns = self.s[0], self.h[0], self.columns[self.w_index[0]]
        threshold = -self.band[0]  # +1 iff ĥ_i ≥ −δ_i
        sequence = np.asarray(order, dtype=np.intp)
        position, flips = 0, 0
        while position < sequence.size:
            rest = sequence[position:]
            up = h[rest] >= threshold[rest]
            mismatch = np.flatnonzero(up != (s[rest] > 0))
            if not mismatch.size:
                break
            first = int(mismatch[0])
            i = int(rest[first])
            value = 1.0 if up[first] else -1.0
            s[i] = value
            h += (2 * value) * columns[i]  # h_j += Δ w_ji; 2·w exact, one rounding
            flips += 1
            position += first + 1
        self.flips[0] += flips
        result: BoolArray = np.array([flips > 0])
        return result

    def compact(self, keep: IntArray) -> None:
        """Keep only the items ``keep`` (e.g. those still moving)."""
        self.s, self.h = self.s[keep], self.h[keep]
        self.w_index, self.b, self.band = self.w_index[keep], self.b[keep], self.band[keep]
        self.flips = self.flips[keep]


def _flatten(net: _Network) -> _AsynchronousDynamics:
    """Lay a validated network out as B = prod(batch) items, without copying W per item."""
    m = net.W.shape[-1]
    batch = net.batch
    items = int(np.prod(batch, dtype=np.intp))
    s = np.array(np.broadcast_to(net.s, (*batch, m)).reshape(items, m))
    networks = int(np.prod(net.W.shape[:-2], dtype=np.intp))
    W = np.ascontiguousarray(net.W.reshape(networks, m, m))
    network_of_item = np.arange(W.shape[0]).reshape(net.W.shape[:-2])
    w_index: IntArray = np.broadcast_to(network_of_item, batch).reshape(items).astype(np.intp)
    b = np.broadcast_to(net.b, (*batch, m)).reshape(items, m)
    band = np.broadcast_to(net.band, (*batch, m)).reshape(items, m)
    return _AsynchronousDynamics(s, W, w_index, b, band, symmetric=net.symmetric)


def _asynchronous_sweep(net: _Network, order: IntArray) -> FloatArray:
    """One sweep of a validated network; returns the new states (batch..., M)."""
    dynamics = _flatten(net)
    dynamics.sweep(order)
    result: FloatArray = dynamics.s.reshape(*net.batch, net.W.shape[-1])
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
    batch axes broadcast. The value is the floating-point field ĥ (within δ_i
    of the exact one; see the tie rule in the module docstring).
    Spec: ``spec.hopfield.local_field_sum``.
    """
    net = _network(
        state,
        weights,
        bias,
        allow_asymmetric=allow_asymmetric,
        allow_nonzero_diagonal=allow_nonzero_diagonal,
    )
    return _fields(net.s, net.W, net.b)


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
    net = _network(
        state,
        weights,
        bias,
        allow_asymmetric=allow_asymmetric,
        allow_nonzero_diagonal=allow_nonzero_diagonal,
    )
    return _energy(net.s, net.W, net.b)


# --------------------------------------------------------------------------- updates


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

    Book: §8.6.1, update rule of the discrete Hopfield network (ties go to +1,
    exactly: see the module docstring).
    Shapes: state (..., M), weights (..., M, M), bias (..., M) -> (..., M), a
    new array (the input is not modified); every other neuron is unchanged.
    Spec: ``spec.hopfield.update_rule``; the energy change it causes is
    ``spec.hopfield.energy_change_closed_form``.
    """
    net = _network(
        state,
        weights,
        bias,
        allow_asymmetric=allow_asymmetric,
        allow_nonzero_diagonal=allow_nonzero_diagonal,
    )
    index = check.index(i, net.W.shape[-1], "i")
    new: FloatArray = np.array(np.broadcast_to(net.s, (*net.batch, net.s.shape[-1])))
    h: FloatArray = np.sum(net.s * net.W[..., index, :], axis=-1) + net.b[..., index]
    new[..., index] = _decide(h, net.band[..., index])
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
    Cost: O(M²) per item to set up the fields, then O(M) per flip
    (incremental fields), not O(M) per visit.
    Spec: exercise 8-6: E never increases along the sweep
    (``spec.hopfield.energy_change_closed_form``).
    """
    net = _network(
        state,
        weights,
        bias,
        allow_asymmetric=allow_asymmetric,
        allow_nonzero_diagonal=allow_nonzero_diagonal,
    )
    indices = _sweep_order(order, rng, net.W.shape[-1])
    return _asynchronous_sweep(net, indices)


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
    net = _network(
        state,
        weights,
        bias,
        allow_asymmetric=allow_asymmetric,
        allow_nonzero_diagonal=allow_nonzero_diagonal,
    )
    return _decide(_fields(net.s, net.W, net.b), net.band)


# --------------------------------------------------------------------------- dynamics


def _read_only(array: ArrayT) -> ArrayT:
    """A read-only copy (records keep arrays nobody can edit behind their back)."""
    copy = array.copy()
    copy.setflags(write=False)
    return copy


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
    The arrays are read-only copies (a record, not a workspace).
    """

    states: FloatArray
    energies: FloatArray
    converged: bool
    cycle_length: int | None
    sweeps: int

    def __post_init__(self) -> None:
        object.__setattr__(self, "states", _read_only(self.states))
        object.__setattr__(self, "energies", _read_only(self.energies))

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
    batch with ``asynchronous_sweep`` or ``impl.hopfield_capacity.recall``).
    Asynchronous mode: each sweep uses ``order`` if given, else a fresh random
    permutation from ``rng``. Synchronous mode: neither is needed.
    Checks W once (not once per sweep); asynchronous sweeps update the fields
    incrementally, O(M) per flip. ``max_sweeps`` ≥ 1 with
    max_sweeps · M ≤ ``MAX_TRAJECTORY_ENTRIES`` (every state is kept).
    Spec: ``spec.hopfield`` (energy lemma and two-step Lyapunov function).
    """
    net = _network(
        state,
        weights,
        bias,
        allow_asymmetric=allow_asymmetric,
        allow_nonzero_diagonal=allow_nonzero_diagonal,
    )
    s, W, b = net.s, net.W, net.b
    if s.ndim != 1 or W.ndim != 2 or b.ndim != 1:
        raise ValueError(
            f"run_to_fixed_point takes one state (M,), weights (M, M) and bias (M,), got "
            f"state {s.shape}, weights {W.shape}, bias {b.shape}; batch with asynchronous_sweep"
        )
    m = W.shape[-1]
    limit = check.int_in_range(
        max_sweeps,
        "max_sweeps",
        low=1,
        high=MAX_TRAJECTORY_ENTRIES // max(m, 1),
        reason=f"every state is kept: max_sweeps · M ≤ {MAX_TRAJECTORY_ENTRIES:.0e}",
    )
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
    fixed_order = None if order is None else check.permutation(order, m)
    generator = None if rng is None else check.generator(rng)
    dynamics = _flatten(net) if mode == "asynchronous" else None
    states = [s.copy()]
    seen: dict[bytes, int] = {s.tobytes(): 0}
    converged, cycle_length = False, None
    for sweep in range(1, limit + 1):
        if dynamics is None:
            new = _decide(_fields(states[-1], W, b), net.band)
            moved = not np.array_equal(new, states[-1])
        else:
            indices = fixed_order if generator is None else generator.permutation(m)
            assert indices is not None  # asynchronous mode has exactly one of order and rng
            moved = bool(dynamics.sweep(indices)[0])
            new = dynamics.s[0].copy()
        states.append(new)
        if not moved:
            converged, cycle_length = True, 1
            break
        key = new.tobytes()
        if deterministic and key in seen:
            cycle_length = sweep - seen[key]
            break
        seen[key] = sweep
    trajectory: FloatArray = np.stack(states)
    return HopfieldRun(
        states=trajectory,
        energies=_energy(trajectory, W, b),
        converged=converged,
        cycle_length=cycle_length,
        sweeps=len(states) - 1,
    )


# --------------------------------------------------------------------------- storage rules

MAX_WEIGHT_ENTRIES = 2**28
"""Storage rules refuse to build more than 2²⁸ weights (batch · M², 2 GiB in float64)."""

_STORKEY_BLOCK = 128
"""Patterns per block of the blocked Storkey rule (growth factor (1 + 2/M)^block ≤ e^(2·128/M))."""


def _patterns(patterns: object, name: str = "patterns") -> FloatArray:
    x = check.plus_minus_one_array(patterns, name)
    if x.ndim < 2:
        raise ValueError(f"{name} must be (..., N, M), one pattern per row, got shape {x.shape}")
    if x.shape[-2] == 0 or x.shape[-1] == 0:
        raise ValueError(
            f"{name} must hold at least one pattern of at least one neuron, got {x.shape}"
        )
    entries = int(np.prod(x.shape[:-2], dtype=np.int64)) * x.shape[-1] ** 2
    if entries > MAX_WEIGHT_ENTRIES:
        raise ValueError(
            f"{name} of shape {x.shape} would need {entries} weights (batch · M²), more than "
            f"MAX_WEIGHT_ENTRIES = 2**28 (2 GiB in float64)"
        )
    return x


def _without_diagonal(W: FloatArray) -> FloatArray:
    mask = np.eye(W.shape[-1], dtype=bool)
    result: FloatArray = np.where(mask, np.asarray(0, dtype=W.dtype), W)
    return result


def _hebbian_sum(x: FloatArray) -> FloatArray:
    """C = Σ_n x^(n) x^(n)ᵀ with the diagonal 0: integer entries, exact in floating point."""
    outer_sum: FloatArray = np.matmul(np.swapaxes(x, -1, -2), x)
    return _without_diagonal(outer_sum)


def hebbian_weights(patterns: FloatArray) -> FloatArray:
    r"""Hebbian storage, the average outer product w_ij = (1/N) Σ_n x_i^(n) x_j^(n), w_ii = 0.

    Book: §8.6.1, learning rule "neurons that fire together wire together".
    Shapes: patterns (..., N, M) of ±1 (row n = the book's column x^(n)) ->
    weights (..., M, M). The book normalises by the number of patterns N;
    many texts use 1/M instead — the dynamics (no bias) is the same, only the
    energy scale differs.
    Exactness: Σ_n x_i x_j is an integer, exact in floating point (|sum| ≤ N ≤ 2²⁴
    in float32); w_ij is its correctly rounded quotient by N, so every field at
    a ±1 state is within the tie band of a multiple of 1/N (module docstring).
    Assumptions: N ≥ 1 (``ValueError`` for zero patterns, where 1/N is undefined);
    batch · M² ≤ ``MAX_WEIGHT_ENTRIES``.
    Spec: ``spec.hopfield.hebbian_weight``.
    """
    x = _patterns(patterns)
    n = x.shape[-2]
    W: FloatArray = _hebbian_sum(x) / np.asarray(n, dtype=x.dtype)
    return W


def hebbian_add(weights: FloatArray, new_patterns: FloatArray, n_stored: int) -> FloatArray:
    r"""Add patterns to a Hebbian network that stores ``n_stored`` patterns.

    Book: §8.6.1, Hebbian rule (the average is updated incrementally:
    W' = (n W + Σ_new x xᵀ − k I) / (n + k) for k new patterns).
    Shapes: weights (..., M, M), new_patterns (..., K, M) -> (..., M, M).
    Result equals ``hebbian_weights`` of all n + K patterns (up to rounding).
    ``n_stored = 0`` means an empty network, whose weights must be all zero;
    n_stored ≤ 2²⁴ (float32) or 2⁵³ (float64), the counts the dtype holds exactly.
    """
    W = _check_weights(weights, "weights", allow_asymmetric=False, allow_nonzero_diagonal=False)
    x = _patterns(new_patterns, "new_patterns")
    check.same_dtype(weights=W, new_patterns=x)
    exact = 2**24 if W.dtype == np.float32 else 2**53
    n_old = check.int_in_range(
        n_stored, "n_stored", low=0, high=exact, reason=f"counts above it are inexact in {W.dtype}"
    )
    if n_old == 0 and np.any(W != 0):
        raise ValueError("n_stored is 0 (an empty network) but weights is not all zero")
    if x.shape[-1] != W.shape[-1]:
        raise ValueError(
            f"new_patterns has {x.shape[-1]} neurons, weights is {W.shape[-1]}x{W.shape[-1]}"
        )
    k = x.shape[-2]
    total = n_old + k
    scaled: FloatArray = W * np.asarray(n_old, dtype=W.dtype)  # back to Σ x xᵀ
    result: FloatArray = (scaled + _hebbian_sum(x)) / np.asarray(total, dtype=W.dtype)
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


def _storkey_block(W: FloatArray, xi: FloatArray, m: int) -> FloatArray:
    """Apply Storkey's rule for the patterns ``xi`` (..., B, M) to W (..., M, M), zero diagonal.

    One pattern ξ with f = W ξ (w_ii = 0) maps W to
        W' = a W + (1/M)(ξξᵀ − fξᵀ − ξfᵀ) − diag(d),  a = 1 + 2/M,  d_i = (1 − 2 f_i ξ_i)/M
    (h_ij ξ_j = f_i ξ_j − w_ij, as ξ_j² = 1; d removes the new diagonal). Unrolled over
    the block, W_k = a^k W + Σ_{l≤k} a^{k−l} [(1/M)(ξ_l ξ_lᵀ − f_l ξ_lᵀ − ξ_l f_lᵀ) − diag(d_l)],
    so f_k = W_{k−1} ξ_k needs only G = W Ξᵀ (one BLAS-3 product), the earlier f_l and
    the inner products ξ_lᵀ ξ_k, f_lᵀ ξ_k: O(k·M) each, O(B²·M) for the block; the
    block's W is then one rank-2B product, instead of B passes over M² entries.
    """
    dtype = W.dtype
    b = xi.shape[-2]
    a = 1.0 + 2.0 / m
    inverse_m = np.asarray(1.0 / m, dtype=dtype)
    given: FloatArray = np.matmul(xi, W)  # row k = (W ξ_k)ᵀ (W symmetric)
    gram: FloatArray = np.matmul(xi, np.swapaxes(xi, -1, -2))  # ξ_lᵀ ξ_k, exact integers
    f: FloatArray = np.zeros_like(xi)  # row l = f_lᵀ
    diagonal_sum: FloatArray = np.zeros((*xi.shape[:-2], m), dtype=dtype)  # Σ a^{k−1−l} d_l
    for k in range(b):
        powers = np.asarray(a ** np.arange(k - 1, -1, -1.0), dtype=dtype)  # a^{k−1−l}, l < k
        x_k = xi[..., k, :]
        e: FloatArray = np.matmul(f[..., :k, :], x_k[..., None])[..., 0]  # f_lᵀ ξ_k
        c: FloatArray = gram[..., :k, k]  # ξ_lᵀ ξ_k
        weight_u = powers * c * inverse_m  # coefficients of (ξ_l − f_l)
        weight_x = powers * e * inverse_m  # coefficients of ξ_l
        u = xi[..., :k, :] - f[..., :k, :]
        low_rank: FloatArray = (
            np.matmul(weight_u[..., None, :], u)[..., 0, :]
            - np.matmul(weight_x[..., None, :], xi[..., :k, :])[..., 0, :]
        )
        f[..., k, :] = (
            np.asarray(a**k, dtype=dtype) * given[..., k, :] + low_rank - (diagonal_sum * x_k)
        )
        d: FloatArray = (1 - 2 * f[..., k, :] * x_k) * inverse_m
        diagonal_sum = np.asarray(a, dtype=dtype) * diagonal_sum + d
    # W_B = a^B W + (1/M) Σ_l a^{B−l} [(ξ_l − f_l)(ξ_l − f_l)ᵀ − f_l f_lᵀ] − diag(...)
    scale = np.asarray(a ** np.arange(b - 1, -1, -1.0), dtype=dtype) * inverse_m  # a^{B−1−l}/M
    u = xi - f
    left = np.concatenate([u, f], axis=-2)  # (..., 2B, M)
    signed = np.concatenate([scale, -scale])[:, None] * left
    update: FloatArray = np.matmul(np.swapaxes(signed, -1, -2), left)
    result: FloatArray = np.asarray(a**b, dtype=dtype) * W + update
    return _without_diagonal(result)


def storkey_weights(patterns: FloatArray) -> FloatArray:
    r"""Storkey's incremental storage rule (Storkey 1997), diagonal kept at 0.

    Book: §8.6.1 mentions better learning rules than Hebb's; this one is local
    and incremental like Hebb's but has a higher capacity. Starting from W = 0,
    for each pattern ξ (in row order):
        h_ij = Σ_{k≠i,j} w_ik ξ_k,
        w_ij ← w_ij + (1/M)(ξ_i ξ_j − ξ_i h_ji − h_ij ξ_j).
    Shapes: patterns (..., N, M) of ±1 -> weights (..., M, M).
    Computed in blocks of ``_STORKEY_BLOCK`` patterns with BLAS-3 products
    (``_storkey_block``): the same rule, rounded differently from the
    one-pattern-at-a-time loop (the tests compare them), about 12× faster at
    N = 300, M = 500 (8 networks: 3.7 s → 0.3 s on one core).
    # Note: the diagonal does not enter any h_ij (k ≠ i), so setting w_ii = 0
    # after each pattern changes no off-diagonal weight; it only keeps the
    # result within the hypotheses of exercise 8-6. The result is symmetrised,
    # (W + Wᵀ)/2, so that it is exactly symmetric in floating point.
    """
    x = _patterns(patterns)
    m = x.shape[-1]
    W: FloatArray = np.zeros((*x.shape[:-2], m, m), dtype=x.dtype)
    for start in range(0, x.shape[-2], _STORKEY_BLOCK):
        W = _storkey_block(W, x[..., start : start + _STORKEY_BLOCK, :], m)
    symmetric: FloatArray = (W + np.swapaxes(W, -1, -2)) / np.asarray(2, dtype=x.dtype)
    return symmetric
