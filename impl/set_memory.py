"""Set memory: an unordered external memory read by key-value attention (exercise 8-4).

Book: exercise 8-4 (external memory organised as a set) and §8.2.1
(key-value attention); §8.5 (memory-augmented networks).

A set memory holds up to C (key, value) slots and an ``occupied`` mask. It
has no order: a read is key-value attention over the occupied slots,

    r(q) = Σ_n softmax_n(s(k_n, q)) v_n      (free slots masked out),

which is invariant under any permutation of the slots, so the order of
insertion never matters. It is a Deep Sets function (Zaheer et al. 2017,
f(X) = ρ(Σ_x φ(x))): for a fixed query, with φ(k, v) = (e^{s(k,q)} v, e^{s(k,q)})
and ρ(a, b) = a / b. A soft membership test is the largest similarity to a
stored key, ``contains(x) = max_n exp(−‖x − k_n‖² / h²)`` ∈ [0, 1], which is
1 exactly when x is stored and 0 for an empty memory.

Shapes (rows, not the book's columns): keys (..., C, D_k), values
(..., C, D_v), occupied (..., C) bool; queries (..., L, D_k). Leading axes
are batch axes. Every function returns new arrays and never modifies its input.

Extremes: an empty memory (no slot occupied) reads the zero vector (the
fully masked attention row of ``impl.softmax``) and ``contains`` gives 0;
writing to a full memory is a ``ValueError``.

Checked edges (issue 7). A ``SetMemory`` checks itself when built (float
keys/values of one dtype, finite, a bool ``occupied``, matching (..., C),
C ≥ 1) and keeps read-only private copies; the read functions only check its
type, the query and the ``score`` callable (its result must be a float array
of shape (..., L, C) in the query's dtype without NaN or +inf, else a named
error), then run the attention kernel of ``impl._numerics``. The bandwidth h
is checked in the query's dtype (positive, normal, finite); ``contains`` is
computed as exp(−4 Σ ((q − k)/2h)²) so that no finite input overflows to NaN
(a distance beyond the dtype's range gives similarity 0, the correct limit).
"""

from dataclasses import dataclass
from typing import Any

import numpy as np

from impl import _numerics as num
from impl import _validation as check
from impl._typing import BoolArray, FloatArray, Queries, Weights
from impl.scores import ScoreFunction, scaled_dot_product_score


@dataclass(frozen=True)
class SetMemory:
    """C slots of (key, value); ``occupied[..., n]`` says whether slot n holds an item."""

    keys: FloatArray
    values: FloatArray
    occupied: BoolArray

    def __post_init__(self) -> None:
        # Note: errors name the constructor's arguments (keys, values, occupied).
        k = check.float_array(self.keys, "keys", min_ndim=2)
        v = check.float_array(self.values, "values", min_ndim=2)
        check.same_dtype(keys=k, values=v)
        occupied: object = self.occupied
        if not isinstance(occupied, np.ndarray) or occupied.dtype != np.bool_:
            raise TypeError("occupied must be a numpy bool array")
        if k.shape[:-1] != v.shape[:-1] or occupied.shape != k.shape[:-1]:
            raise ValueError(
                f"keys {k.shape}, values {v.shape} and occupied {occupied.shape} must agree "
                "on (..., C)"
            )
        if k.shape[-2] == 0:
            raise ValueError("keys and values must hold at least one slot (C ≥ 1)")
        if k.shape[-1] == 0 or v.shape[-1] == 0:
            raise ValueError(f"keys and values need widths ≥ 1, got {k.shape} and {v.shape}")
        object.__setattr__(self, "keys", check.frozen(k))
        object.__setattr__(self, "values", check.frozen(v))
        frozen_occupied = np.array(occupied, copy=True)
        frozen_occupied.setflags(write=False)
        object.__setattr__(self, "occupied", frozen_occupied)

    @property
    def capacity(self) -> int:
        """C, the number of slots."""
        return int(self.keys.shape[-2])

    @property
    def size(self) -> FloatArray:
        """How many slots are occupied (..., ) (as the memory's float dtype)."""
        count: FloatArray = self.occupied.sum(axis=-1).astype(self.keys.dtype)
        return count


def empty_set_memory(
    capacity: int,
    key_width: int,
    value_width: int,
    *,
    batch_shape: tuple[int, ...] = (),
    dtype: type[np.floating[Any]] | np.dtype[Any] = np.float64,
) -> SetMemory:
    """A set memory with ``capacity`` free slots (keys and values zero, nothing occupied).

    Book: exercise 8-4.
    Shapes: keys (*batch, C, D_k), values (*batch, C, D_v), occupied (*batch, C).
    """
    c = check.size(capacity, "capacity", high=2**40)
    dk = check.size(key_width, "key_width", high=2**40)
    dv = check.size(value_width, "value_width", high=2**40)
    chosen = check.float_dtype(dtype)
    if not isinstance(batch_shape, tuple):
        raise TypeError(f"batch_shape must be a tuple of ints, got {type(batch_shape).__name__}")
    batch = tuple(check.size(size, "batch_shape", low=0, high=2**40) for size in batch_shape)
    elements = int(np.prod(batch, dtype=np.float64)) * c * (dk + dv)
    check.allocation(
        elements, chosen, "capacity, key_width, value_width and batch_shape", "keys and values"
    )
    return SetMemory(
        keys=np.zeros((*batch, c, dk), dtype=chosen),
        values=np.zeros((*batch, c, dv), dtype=chosen),
        occupied=np.zeros((*batch, c), dtype=np.bool_),
    )


def set_memory_from_items(keys: FloatArray, values: FloatArray) -> SetMemory:
    """A full set memory holding the given N items (every slot occupied).

    Shapes: keys (..., N, D_k), values (..., N, D_v) -> SetMemory with C = N.
    """
    k = check.float_array(keys, "keys", min_ndim=2)
    v = check.float_array(values, "values", min_ndim=2)
    check.same_dtype(keys=k, values=v)
    if k.shape[:-1] != v.shape[:-1]:
        raise ValueError(f"keys has shape {k.shape}, values {v.shape}: (..., N) must agree")
    if k.shape[-2] == 0:
        raise ValueError("a set memory needs at least one slot (N ≥ 1)")
    return SetMemory(keys=k.copy(), values=v.copy(), occupied=np.ones(k.shape[:-1], dtype=np.bool_))


def _memory(memory: object) -> SetMemory:
    # Note: a SetMemory checked itself when it was built (and is read-only since).
    if not isinstance(memory, SetMemory):
        raise TypeError(f"memory must be a SetMemory, got {type(memory).__name__}")
    return memory


def _query(query: object, m: SetMemory) -> FloatArray:
    q = check.float_array(query, "query", min_ndim=2)
    check.same_dtype(query=q, **{"memory.keys": m.keys})
    check.feature_match("query", q, "memory.keys", m.keys)
    check.batch_broadcast(query=q, **{"memory.keys": m.keys})
    return q


def _weights(m: SetMemory, q: FloatArray, score: ScoreFunction) -> FloatArray:
    """softmax over the occupied slots of score(q, keys): (..., L, C); checks what score returns."""
    scores = score(q, m.keys)
    batch = np.broadcast_shapes(q.shape[:-2], m.keys.shape[:-2])
    expected = (*batch, q.shape[-2], m.capacity)
    checked = check.returned_array(
        scores, "score (of query and memory.keys)", shape=expected, dtype=q.dtype
    )
    return num.softmax(checked, m.occupied[..., None, :])


def set_memory_write(memory: SetMemory, key: FloatArray, value: FloatArray) -> SetMemory:
    """Add one item (key, value) to the first free slot of every batch item.

    Book: exercise 8-4 (write = add a slot). Which slot is used does not
    affect any read (reads are permutation invariant).
    Shapes: key (..., D_k), value (..., D_v), broadcast with the memory's batch.
    Raises ``ValueError`` if some batch item has no free slot.
    """
    m = _memory(memory)
    k = check.float_array(key, "key", min_ndim=1)
    v = check.float_array(value, "value", min_ndim=1)
    check.same_dtype(key=k, value=v, **{"memory.keys": m.keys})
    check.feature_match("key", k, "memory.keys", m.keys)
    check.feature_match("value", v, "memory.values", m.values)
    try:
        batch = np.broadcast_shapes(m.occupied.shape[:-1], k.shape[:-1], v.shape[:-1])
    except ValueError:
        raise ValueError(
            f"batch axes do not broadcast: memory {m.occupied.shape[:-1]}, key {k.shape[:-1]}, "
            f"value {v.shape[:-1]}"
        ) from None
    occupied = np.broadcast_to(m.occupied, (*batch, m.capacity)).copy()
    if occupied.all(axis=-1).any():
        raise ValueError(f"the set memory is full (all {m.capacity} slots occupied)")
    keys = np.broadcast_to(m.keys, (*batch, *m.keys.shape[-2:])).copy()
    values = np.broadcast_to(m.values, (*batch, *m.values.shape[-2:])).copy()
    slot = np.argmin(occupied, axis=-1)[..., None]  # first False
    np.put_along_axis(
        keys, slot[..., None], np.broadcast_to(k, (*batch, k.shape[-1]))[..., None, :], axis=-2
    )
    np.put_along_axis(
        values, slot[..., None], np.broadcast_to(v, (*batch, v.shape[-1]))[..., None, :], axis=-2
    )
    np.put_along_axis(occupied, slot, True, axis=-1)
    return SetMemory(keys=keys, values=values, occupied=occupied)


def set_memory_weights(
    memory: SetMemory, query: Queries, *, score: ScoreFunction = scaled_dot_product_score
) -> Weights:
    """Attention weights over the slots, α_n = softmax_n(s(k_n, q)) on occupied slots, 0 elsewhere.

    Book: §8.2 (attention distribution), exercise 8-4. Shapes: query (..., L, D_k)
    -> (..., L, C). An empty memory gives all-zero weights.
    """
    m = _memory(memory)
    q = _query(query, m)
    return _weights(m, q, check.callable_(score, "score"))


def set_memory_read(
    memory: SetMemory, query: Queries, *, score: ScoreFunction = scaled_dot_product_score
) -> Queries:
    """Read r(q) = Σ_n softmax_n(s(k_n, q)) v_n over the occupied slots (key-value attention).

    Book: §8.2.1 (key-value attention) used as the read of a set-organised
    memory (exercise 8-4). Shapes: query (..., L, D_k) -> (..., L, D_v).
    Invariant under any permutation of the slots; an empty memory reads 0.
    """
    m = _memory(memory)
    q = _query(query, m)
    weights = _weights(m, q, check.callable_(score, "score"))
    read: FloatArray = weights @ m.values
    return read


def set_memory_contains(memory: SetMemory, query: Queries, *, bandwidth: float = 1.0) -> FloatArray:
    """Soft membership max_n exp(−‖q − k_n‖² / h²) over the occupied slots, in [0, 1].

    Book: exercise 8-4 (a set answers "is x in it?"). Shapes: query (..., L, D_k)
    -> (..., L). Equals 1 iff q is a stored key; 0 for an empty memory.
    # Note: a maximum, not a sum, so duplicates do not count twice (a set,
    # not a multiset); it is differentiable almost everywhere (not at ties).
    """
    m = _memory(memory)
    q = _query(query, m)
    h = check.positive_real_in_dtype(bandwidth, "bandwidth", q.dtype)
    half = np.asarray(0.5, dtype=q.dtype)
    # (q − k)/2 never overflows; dividing by h may, to inf, which gives similarity 0 (correct).
    difference = q[..., :, None, :] * half - m.keys[..., None, :, :] * half  # (..., L, C, D_k)
    with np.errstate(over="ignore"):
        scaled = difference / np.asarray(h, dtype=q.dtype)
        squared: FloatArray = 4 * np.sum(scaled * scaled, axis=-1)  # ‖q − k‖² / h²
    similarity: FloatArray = np.exp(-squared)
    masked = np.where(m.occupied[..., None, :], similarity, 0)
    result: FloatArray = masked.max(axis=-1).astype(q.dtype)
    return result
