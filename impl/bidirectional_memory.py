"""Bidirectional associative memory (Kosko 1988) and corruption of stored patterns.

Book: §8.6 (hetero-associative memory: input and output in different
spaces) and §8.6.1 (recall of a stored pattern from a corrupted cue). A BAM
stores pairs (x^(p), y^(p)), x ∈ {±1}^M, y ∈ {±1}^K, and recalls one side from
the other by alternating sign updates, a two-layer Hopfield network without
connections inside a layer.

Orientation: ``weights`` W has shape (K, M), W = Σ_p y^(p) x^(p)ᵀ, so the
forward field is W x (K values) and the backward field Wᵀ y (M values).
Patterns are rows: x (..., M), y (..., K); the book's columns are our rows.
States are float arrays with entries exactly ±1.
"""

import math
from dataclasses import dataclass

import numpy as np

from impl import _validation as check
from impl._typing import BoolArray, FloatArray
from impl.hopfield import MAX_WEIGHT_ENTRIES, _read_only

MAX_ROUND_ENTRIES = 10**8
"""``bam_recall`` keeps an energy per half step: max_rounds · batch is refused above
this / 2."""


def bam_weights(x_patterns: FloatArray, y_patterns: FloatArray) -> FloatArray:
    r"""Correlation weights W = Σ_p y^(p) x^(p)ᵀ = Yᵀ X (Kosko 1988).

    Book: §8.6 (hetero-associative memory), the Hebbian outer-product rule of
    §8.6.1 between two layers (no 1/N average and no zeroed diagonal: the
    average only rescales, and there are no self-connections between layers).
    Shapes: x_patterns (P, M), y_patterns (P, K) -> W (K, M). The entries are
    integers, exact in floating point. P = 0 pairs give W = 0 (nothing stored);
    K · M ≤ ``impl.hopfield.MAX_WEIGHT_ENTRIES``.
    """
    X = check.plus_minus_one_array(x_patterns, "x_patterns", min_ndim=2)
    Y = check.plus_minus_one_array(y_patterns, "y_patterns", min_ndim=2)
    check.same_dtype(x_patterns=X, y_patterns=Y)
    if X.ndim != 2 or Y.ndim != 2:
        raise ValueError(
            f"x_patterns and y_patterns must be (P, M) and (P, K), got {X.shape}, {Y.shape}"
        )
    if X.shape[0] != Y.shape[0]:
        raise ValueError(f"x_patterns has {X.shape[0]} patterns, y_patterns has {Y.shape[0]}")
    if X.shape[1] * Y.shape[1] > MAX_WEIGHT_ENTRIES:
        raise ValueError(
            f"x_patterns and y_patterns: K · M = {X.shape[1] * Y.shape[1]} weights exceed "
            "MAX_WEIGHT_ENTRIES = 2**28"
        )
    W: FloatArray = Y.T @ X  # [k, m] = Σ_p y_k^(p) x_m^(p)
    return W


def _check_weights(weights: object) -> FloatArray:
    W = check.float_array(weights, "weights", min_ndim=2)
    if W.ndim != 2:
        raise ValueError(f"weights must be a (K, M) matrix, got shape {W.shape}")
    limit = float(np.finfo(W.dtype).max) / 4
    with np.errstate(over="ignore"):
        total = float(np.abs(W).sum(dtype=np.float64))
    if not total <= limit:
        raise ValueError(
            f"weights is too large for {W.dtype}: Σ|w_km| = {total!r} exceeds finfo.max / 4 = "
            f"{limit!r}, above which fields and energies can overflow"
        )
    return W


def _pair(x: object, y: object, weights: object) -> tuple[FloatArray, FloatArray, FloatArray]:
    xs = check.plus_minus_one_array(x, "x")
    ys = check.plus_minus_one_array(y, "y")
    W = _check_weights(weights)
    check.same_dtype(x=xs, y=ys, weights=W)
    if xs.shape[-1] != W.shape[1]:
        raise ValueError(f"x has {xs.shape[-1]} features, weights expects M = {W.shape[1]}")
    if ys.shape[-1] != W.shape[0]:
        raise ValueError(f"y has {ys.shape[-1]} features, weights expects K = {W.shape[0]}")
    try:
        np.broadcast_shapes(xs.shape[:-1], ys.shape[:-1])
    except ValueError:
        raise ValueError(f"batch axes of x {xs.shape} and y {ys.shape} do not broadcast") from None
    return xs, ys, W


def _energy(xs: FloatArray, ys: FloatArray, W: FloatArray) -> FloatArray:
    """E = −yᵀ W x (trusted)."""
    energy: FloatArray = np.asarray(-np.einsum("...k,km,...m->...", ys, W, xs))
    return energy


def bam_energy(x: FloatArray, y: FloatArray, weights: FloatArray) -> FloatArray:
    r"""BAM energy E(x, y) = −yᵀ W x.

    Book: §8.6.1 (the Hopfield energy −½ sᵀWs for the two-layer state s = (x, y)
    with block weights [[0, Wᵀ], [W, 0]]: the ½ cancels against the two blocks).
    Shapes: x (..., M), y (..., K), weights (K, M) -> (...); batch axes broadcast.
    """
    xs, ys, W = _pair(x, y, weights)
    return _energy(xs, ys, W)


def _band(W: FloatArray, axis: int) -> FloatArray:
    """δ = γ_{n+2} Σ|w| along ``axis``: a computed field within δ of 0 may be an exact tie."""
    n = W.shape[axis] + 2
    u = float(np.finfo(W.dtype).eps) / 2
    gamma = n * u / (1 - n * u)
    band: FloatArray = (gamma * np.abs(W).sum(axis=axis, dtype=np.float64)).astype(W.dtype)
    return band


def _sign_keeping(field: FloatArray, previous: FloatArray, band: FloatArray) -> FloatArray:
    """sign(field), with the previous state where the exact field may be 0 (|ĥ| ≤ δ)."""
    # Note: the book's tie rule is "field ≥ 0 → +1". Keeping the previous state instead makes
    # every change strictly lower −yᵀWx (by 2|field|), which rules out cycles (Kosko 1988);
    # both rules are energy non-increasing. The band δ (a derived rounding bound) makes an
    # exact zero field a tie whatever the rounding; for integer weights (bam_weights) every
    # nonzero field is ≥ 1 > δ, so the decisions are exact.
    new: FloatArray = np.where(field > band, 1, np.where(field < -band, -1, previous)).astype(
        field.dtype
    )
    return new


@dataclass(frozen=True)
class BamRecall:
    """Result of ``bam_recall``.

    ``x`` (..., M) and ``y`` (..., K): the final states; ``energies`` (2T+1, ...):
    E(x, y) at the start and after every half step (y-update, then x-update) of
    the T rounds run; ``rounds`` = T; ``converged`` (...): whether each item
    reached a fixed point (a round that changed nothing) within the limit.
    The arrays are read-only copies.
    """

    x: FloatArray
    y: FloatArray
    energies: FloatArray
    rounds: int
    converged: BoolArray

    def __post_init__(self) -> None:
        for name in ("x", "y", "energies", "converged"):
            object.__setattr__(self, name, _read_only(getattr(self, name)))


def bam_recall(
    x: FloatArray,
    weights: FloatArray,
    *,
    y: FloatArray | None = None,
    max_rounds: int = 100,
) -> BamRecall:
    r"""Recall by alternating y ← sign(W x), x ← sign(Wᵀ y) until nothing changes.

    Book: §8.6 (hetero-associative recall); Kosko (1988), bidirectional
    stability.
    Shapes: x (..., M), weights (K, M), optional y (..., K) -> ``BamRecall``.
    Tie rule: a component whose exact field is 0 keeps its previous value
    (decided with a derived rounding band, so exact for any rounding).
    Without an initial ``y``, the first y is sign(W x) with ties sent to +1
    (the book's "≥ 0 → +1"); the energy record starts from that y.
    Energy: each half step minimises −yᵀWx over one layer with the other fixed,
    so E never increases, and every change lowers it by 2|field| > 0; hence no
    cycles, and recall reaches a fixed point (at most 2^(M+K) states).
    Batch items run together; a converged item stays put while others finish.
    Checked once (1 ≤ max_rounds, max_rounds · batch ≤ ``MAX_ROUND_ENTRIES`` / 2);
    the rounds run kernels.
    """
    xs = check.plus_minus_one_array(x, "x")
    W = _check_weights(weights)
    check.same_dtype(x=xs, weights=W)
    if xs.shape[-1] != W.shape[1]:
        raise ValueError(f"x has {xs.shape[-1]} features, weights expects M = {W.shape[1]}")
    forward_band = _band(W, 1)  # (K,): for fields W x
    backward_band = _band(W, 0)  # (M,): for fields Wᵀ y
    if y is None:
        forward: FloatArray = xs @ W.T
        ys: FloatArray = np.where(forward >= -forward_band, 1, -1).astype(xs.dtype)
    else:
        xs, ys, W = _pair(xs, y, W)
    batch = np.broadcast_shapes(xs.shape[:-1], ys.shape[:-1])
    rounds_allowed = check.int_in_range(
        max_rounds,
        "max_rounds",
        low=1,
        high=max(1, MAX_ROUND_ENTRIES // (2 * max(1, math.prod(batch)))),
        reason="an energy is kept per half step and batch item",
    )
    xs = np.broadcast_to(xs, (*batch, xs.shape[-1])).copy()
    ys = np.broadcast_to(ys, (*batch, ys.shape[-1])).copy()
    energies = [_energy(xs, ys, W)]
    converged: BoolArray = np.zeros(batch, dtype=bool)
    rounds = 0
    while rounds < rounds_allowed and not converged.all():
        rounds += 1
        new_y = _sign_keeping(xs @ W.T, ys, forward_band)  # y ← sign(W x)
        energies.append(_energy(xs, new_y, W))
        new_x = _sign_keeping(new_y @ W, xs, backward_band)  # x ← sign(Wᵀ y)
        energies.append(_energy(new_x, new_y, W))
        unchanged: BoolArray = np.all(new_y == ys, axis=-1) & np.all(new_x == xs, axis=-1)
        converged = converged | unchanged
        xs, ys = new_x, new_y
    return BamRecall(xs, ys, np.stack(energies), rounds, converged)


def corrupt_patterns(patterns: FloatArray, num_flips: int, rng: np.random.Generator) -> FloatArray:
    r"""Flip exactly ``num_flips`` distinct, uniformly chosen bits of every ±1 pattern.

    Book: §8.6.1 (content-addressed recall from a partial or noisy cue).
    Shapes: patterns (..., M) -> (..., M), same dtype; each row is at Hamming
    distance exactly ``num_flips`` from its original. ``num_flips = 0`` returns a copy.
    """
    X = check.plus_minus_one_array(patterns, "patterns")
    gen = check.generator(rng)
    M = X.shape[-1]
    flips_wanted = check.int_in_range(
        num_flips, "num_flips", low=0, high=M, reason=f"patterns have M = {M} bits"
    )
    # The ranks of i.i.d. uniforms pick a uniformly random subset of size num_flips per row.
    keys = gen.random(X.shape)
    ranks = np.argsort(np.argsort(keys, axis=-1), axis=-1)
    flips = ranks < flips_wanted
    corrupted: FloatArray = np.where(flips, -X, X).astype(X.dtype)
    return corrupted


__all__ = ["BamRecall", "bam_energy", "bam_recall", "bam_weights", "corrupt_patterns"]
