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

from dataclasses import dataclass

import numpy as np

from impl import _validation as check
from impl._typing import BoolArray, FloatArray


def bam_weights(x_patterns: FloatArray, y_patterns: FloatArray) -> FloatArray:
    r"""Correlation weights W = Σ_p y^(p) x^(p)ᵀ = Yᵀ X (Kosko 1988).

    Book: §8.6 (hetero-associative memory), the Hebbian outer-product rule of
    §8.6.1 between two layers (no 1/N average and no zeroed diagonal: the
    average only rescales, and there are no self-connections between layers).
    Shapes: x_patterns (P, M), y_patterns (P, K) -> W (K, M).
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
    W: FloatArray = Y.T @ X  # [k, m] = Σ_p y_k^(p) x_m^(p)
    return W


def _pair(x: object, y: object, weights: object) -> tuple[FloatArray, FloatArray, FloatArray]:
    xs = check.plus_minus_one_array(x, "x")
    ys = check.plus_minus_one_array(y, "y")
    W = check.float_array(weights, "weights", min_ndim=2)
    check.same_dtype(x=xs, y=ys, weights=W)
    if W.ndim != 2:
        raise ValueError(f"weights must be a (K, M) matrix, got shape {W.shape}")
    if xs.shape[-1] != W.shape[1]:
        raise ValueError(f"x has {xs.shape[-1]} features, weights expects M = {W.shape[1]}")
    if ys.shape[-1] != W.shape[0]:
        raise ValueError(f"y has {ys.shape[-1]} features, weights expects K = {W.shape[0]}")
    return xs, ys, W


def bam_energy(x: FloatArray, y: FloatArray, weights: FloatArray) -> FloatArray:
    r"""BAM energy E(x, y) = −yᵀ W x.

    Book: §8.6.1 (the Hopfield energy −½ sᵀWs for the two-layer state s = (x, y)
    with block weights [[0, Wᵀ], [W, 0]]: the ½ cancels against the two blocks).
    Shapes: x (..., M), y (..., K), weights (K, M) -> (...); batch axes broadcast.
    """
    xs, ys, W = _pair(x, y, weights)
    energy: FloatArray = np.asarray(-np.einsum("...k,km,...m->...", ys, W, xs))
    return energy


def _sign_keeping(field: FloatArray, previous: FloatArray) -> FloatArray:
    """sign(field), with the previous state where the field is exactly 0."""
    # Note: the book's tie rule is "field ≥ 0 → +1". Keeping the previous state instead makes
    # every change strictly lower −yᵀWx (by 2|field|), which rules out cycles (Kosko 1988);
    # both rules are energy non-increasing.
    new: FloatArray = np.where(field > 0, 1, np.where(field < 0, -1, previous)).astype(field.dtype)
    return new


@dataclass(frozen=True)
class BamRecall:
    """Result of ``bam_recall``.

    ``x`` (..., M) and ``y`` (..., K): the final states; ``energies`` (2T+1, ...):
    E(x, y) at the start and after every half step (y-update, then x-update) of
    the T rounds run; ``rounds`` = T; ``converged`` (...): whether each item
    reached a fixed point (a round that changed nothing) within the limit.
    """

    x: FloatArray
    y: FloatArray
    energies: FloatArray
    rounds: int
    converged: BoolArray


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
    Tie rule: a component whose field is exactly 0 keeps its previous value.
    Without an initial ``y``, the first y is sign(W x) with ties sent to +1
    (the book's "≥ 0 → +1"); the energy record starts from that y.
    Energy: each half step minimises −yᵀWx over one layer with the other fixed,
    so E never increases, and every change lowers it by 2|field| > 0; hence no
    cycles, and recall reaches a fixed point (at most 2^(M+K) states).
    Batch items run together; a converged item stays put while others finish.
    """
    xs = check.plus_minus_one_array(x, "x")
    W = check.float_array(weights, "weights", min_ndim=2)
    rounds_allowed = check.positive_int(max_rounds, "max_rounds")
    if y is None:
        check.same_dtype(x=xs, weights=W)
        if W.ndim != 2 or xs.shape[-1] != W.shape[1]:
            raise ValueError(
                f"x has shape {xs.shape}, weights {W.shape}: expected (..., M) and (K, M)"
            )
        forward: FloatArray = xs @ W.T
        ys: FloatArray = np.where(forward >= 0, 1, -1).astype(xs.dtype)
    else:
        ys = y
    xs, ys, W = _pair(xs, ys, W)
    batch = np.broadcast_shapes(xs.shape[:-1], ys.shape[:-1])
    xs = np.broadcast_to(xs, (*batch, xs.shape[-1])).copy()
    ys = np.broadcast_to(ys, (*batch, ys.shape[-1])).copy()
    energies = [bam_energy(xs, ys, W)]
    converged: BoolArray = np.zeros(batch, dtype=bool)
    rounds = 0
    while rounds < rounds_allowed and not converged.all():
        rounds += 1
        new_y = _sign_keeping(xs @ W.T, ys)  # y ← sign(W x)
        energies.append(bam_energy(xs, new_y, W))
        new_x = _sign_keeping(new_y @ W, xs)  # x ← sign(Wᵀ y)
        energies.append(bam_energy(new_x, new_y, W))
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
    if isinstance(num_flips, bool) or not isinstance(num_flips, int | np.integer):
        raise TypeError(f"num_flips must be an int, got {type(num_flips).__name__}")
    M = X.shape[-1]
    if not 0 <= num_flips <= M:
        raise ValueError(f"num_flips must be in [0, {M}] for patterns of {M} bits, got {num_flips}")
    # The ranks of i.i.d. uniforms pick a uniformly random subset of size num_flips per row.
    keys = gen.random(X.shape)
    ranks = np.argsort(np.argsort(keys, axis=-1), axis=-1)
    flips = ranks < num_flips
    corrupted: FloatArray = np.where(flips, -X, X).astype(X.dtype)
    return corrupted


__all__ = ["BamRecall", "bam_energy", "bam_recall", "bam_weights", "corrupt_patterns"]
