"""Continuous stack, queue and deque (Grefenstette et al. 2015), external memory for exercise 8-4.

Book: exercise 8-4 (external memory organised as a stack or a queue) and
§8.5 (memory-augmented networks). Paper: Grefenstette, Hermann, Suleyman &
Blunsom (2015), "Learning to transduce with unbounded memory", §3.
Spec: ``spec.structured_memory``.

The memory is a value matrix V_t whose rows are appended, one per step (two
for the deque), and a strength vector s_t ∈ [0, 1]^t saying how much of each
row is still "in" the structure. A step takes a push strength d_t ∈ [0, 1],
a pop strength u_t ∈ [0, 1] and a value v_t:

    pop (stack)  s_t[i] = max(0, s_{t−1}[i] − max(0, u_t − Σ_{j=i+1}^{t−1} s_{t−1}[j]))   i < t
    push         s_t[t] = d_t,  V_t[t] = v_t
    read (stack) r_t = Σ_{i=1}^{t} min(s_t[i], max(0, 1 − Σ_{j=i+1}^{t} s_t[j])) V_t[i]

The pop removes u_t units of strength starting from the top (newest row);
the read returns the top unit of strength. A **queue** pops and reads from
the bottom (oldest row; the sums run over j < i) and pushes at the top. A
**deque** pushes, pops and reads at both ends; per step it pops from the top,
then pops from the bottom of what is left, then prepends the bottom value and
appends the top value (the paper's order).

Equivalent cumulative form (``spec.structured_memory`` derives it): with
C_i = Σ_{j ≥ i} s[j] the strength at or above row i, a pop of u maps every
C_i to max(0, C_i − u), and the read weight of row i is
min(1, C_i) − min(1, C_{i+1}). Hence

* with every d_t, u_t ∈ {0, 1} the structure is exactly a discrete stack /
  queue / deque whose elements are the rows of strength 1 (a pop of an empty
  structure does nothing, a read of it is the zero vector);
* the total strength after a step is max(0, total − u_t) + d_t;
* the read weights are non-negative and sum to min(1, total strength).

Shapes (rows, not the paper's columns): ``values`` (..., T, D) with row 0 the
**bottom** (oldest) and row T − 1 the top (newest); ``strengths`` (..., T).
Push/pop strengths are Python floats or arrays of the batch shape (...,);
values pushed are (..., D). Leading axes are batch axes and broadcast.
Every function is pure: it returns a new state and never modifies its input.

Checked edges (issue 7). A ``ContinuousMemoryState`` checks itself when built
(float arrays of one dtype, matching shapes, finite values, strengths in
[0, 1]) and keeps read-only private copies, so the step functions only check
its type; ``run_stack``/``run_queue`` check the whole sequence once and loop
over private kernels. Strengths outside [0, 1] (including a Python or NumPy
scalar that rounds outside in the state's dtype) are a ``ValueError``; T = 0
(the empty structure) and batch axes of size 0 are allowed; D = 0 is refused.
A run's cost grows as B·T²·D (the state grows one row per step), so runs with
B·T²·D > ``MAX_RUN_WORK`` are refused with that limit stated.
"""

from dataclasses import dataclass
from typing import Any

import numpy as np

from impl import _validation as check
from impl._typing import FloatArray

MAX_RUN_WORK = 2**31
"""Largest B·T²·D (batch · steps² · width) ``run_stack``/``run_queue`` accept: each of the T
steps copies a state of up to T rows, so more would run for minutes."""

Strength = float | np.floating[Any] | FloatArray
"""A push or pop strength: a Python or NumPy float in [0, 1], or an array of the batch shape
(...,)."""


@dataclass(frozen=True)
class ContinuousMemoryState:
    """State (V_t, s_t) of a continuous stack, queue or deque.

    ``values`` (..., T, D): row 0 is the bottom (oldest), row T − 1 the top.
    ``strengths`` (..., T): s_t[i] ∈ [0, 1], how much of row i is present.
    """

    values: FloatArray
    strengths: FloatArray

    def __post_init__(self) -> None:
        # Note: errors name the constructor's arguments (values, strengths) of the state.
        values = check.float_array(self.values, "values", min_ndim=2)
        strengths = check.unit_interval(self.strengths, "strengths", min_ndim=1)
        check.same_dtype(values=values, strengths=strengths)
        if values.shape[:-1] != strengths.shape:
            raise ValueError(
                f"state values has shape {values.shape}, so strengths must have shape "
                f"{values.shape[:-1]}, got {strengths.shape}"
            )
        if values.shape[-1] == 0:
            raise ValueError("state values must have width D ≥ 1, got D = 0")
        object.__setattr__(self, "values", check.frozen(values))
        object.__setattr__(self, "strengths", check.frozen(strengths))

    @property
    def dtype(self) -> np.dtype[Any]:
        """The float dtype of values and strengths."""
        return self.values.dtype

    @property
    def total_strength(self) -> FloatArray:
        """Σ_i s_t[i] (..., ): how many units of strength the structure holds."""
        total: FloatArray = self.strengths.sum(axis=-1)
        return total


def empty_memory(
    width: int,
    *,
    batch_shape: tuple[int, ...] = (),
    dtype: type[np.floating[Any]] | np.dtype[Any] = np.float64,
) -> ContinuousMemoryState:
    """The empty structure: no rows (T = 0), values of width D = ``width``.

    Book: exercise 8-4. Reading it gives the zero vector.
    Shapes: values (*batch_shape, 0, D), strengths (*batch_shape, 0).
    ``width`` ≥ 1; ``batch_shape`` a tuple of ints ≥ 0 (a batch of 0 is allowed).
    """
    d = check.size(width, "width", high=2**24, reason="a row wider than 16 Mi entries")
    chosen = check.float_dtype(dtype)
    if not isinstance(batch_shape, tuple):
        raise TypeError(f"batch_shape must be a tuple of ints, got {type(batch_shape).__name__}")
    batch = tuple(check.size(size, "batch_shape", low=0, high=2**40) for size in batch_shape)
    return ContinuousMemoryState(
        values=np.zeros((*batch, 0, d), dtype=chosen),
        strengths=np.zeros((*batch, 0), dtype=chosen),
    )


# --- validation -----------------------------------------------------------------------------


def _state(state: object) -> ContinuousMemoryState:
    # Note: the state checked itself when it was built (and is read-only since).
    if not isinstance(state, ContinuousMemoryState):
        raise TypeError(f"state must be a ContinuousMemoryState, got {type(state).__name__}")
    return state


def _strength(value: object, name: str, dtype: np.dtype[Any]) -> FloatArray:
    """A push/pop strength in [0, 1] as an array of ``dtype`` (scalar or batch-shaped)."""
    if isinstance(value, np.ndarray):
        array = check.unit_interval(value, name)
        if array.dtype != dtype:
            raise TypeError(f"{name} has dtype {array.dtype}, the memory has {dtype}")
        return array
    return np.asarray(check.real_in_dtype(value, name, dtype, low=0, high=1), dtype=dtype)


def _value(value: object, name: str, state: ContinuousMemoryState) -> FloatArray:
    v = check.float_array(value, name, min_ndim=1)
    check.same_dtype(**{name: v, "state.values": state.values})
    if v.shape[-1] != state.values.shape[-1]:
        raise ValueError(
            f"{name} has {v.shape[-1]} features, the memory has {state.values.shape[-1]}"
        )
    return v


def _batch_shape(
    state: ContinuousMemoryState, *arrays: tuple[str, FloatArray, int]
) -> tuple[int, ...]:
    """Broadcast the state's batch axes with each (name, array, trailing core axes) given."""
    shapes = [state.strengths.shape[:-1]]
    for _, array, core in arrays:
        shapes.append(array.shape[: array.ndim - core])
    try:
        return np.broadcast_shapes(*shapes)
    except ValueError:
        listing = ", ".join(f"{name} {a.shape}" for name, a, _ in arrays)
        raise ValueError(
            f"batch axes do not broadcast: state batch {state.strengths.shape[:-1]}, {listing}"
        ) from None


# --- the strength arithmetic (shared by stack, queue and deque) ------------------------------


def _exclusive_sum_above(strengths: FloatArray) -> FloatArray:
    """A_i = Σ_{j>i} s[j] (strength strictly above row i), summed from the top down."""
    from_top: FloatArray = np.cumsum(strengths[..., ::-1], axis=-1)
    shifted = np.concatenate([np.zeros_like(from_top[..., :1]), from_top[..., :-1]], axis=-1)
    above: FloatArray = shifted[..., ::-1]
    return above


def _exclusive_sum_below(strengths: FloatArray) -> FloatArray:
    """B_i = Σ_{j<i} s[j] (strength strictly below row i), summed from the bottom up."""
    from_bottom: FloatArray = np.cumsum(strengths, axis=-1)
    below: FloatArray = np.concatenate(
        [np.zeros_like(from_bottom[..., :1]), from_bottom[..., :-1]], axis=-1
    )
    return below


def _removed(strengths: FloatArray, pop: FloatArray, before: FloatArray) -> FloatArray:
    """s[i] − max(0, u − before_i), clipped at 0: what is left of row i after popping u."""
    p = pop[..., None]
    left: FloatArray = np.maximum(0, strengths - np.maximum(0, p - before)).astype(strengths.dtype)
    return left


def _checked_pop(strengths: FloatArray, pop: Strength) -> tuple[FloatArray, FloatArray]:
    s = check.unit_interval(strengths, "strengths", min_ndim=1)
    u = _strength(pop, "pop", s.dtype)
    try:
        np.broadcast_shapes(u.shape, s.shape[:-1])
    except ValueError:
        raise ValueError(
            f"pop has shape {u.shape}, which does not broadcast to the batch shape "
            f"{s.shape[:-1]} of strengths {s.shape}"
        ) from None
    return s, u


def pop_from_top(strengths: FloatArray, pop: Strength) -> FloatArray:
    r"""Strengths after popping u units from the top: max(0, s[i] − max(0, u − Σ_{j>i} s[j])).

    Book: exercise 8-4 (stack pop). Paper: Grefenstette et al. 2015, eq. (1).
    Shapes: strengths (..., T), pop scalar or (...,) -> (..., T), same dtype.
    Assumptions: strengths and pop in [0, 1].
    Spec: ``spec.structured_memory.pop_from_top``.
    """
    s, u = _checked_pop(strengths, pop)
    return _removed(s, u, _exclusive_sum_above(s))


def pop_from_bottom(strengths: FloatArray, pop: Strength) -> FloatArray:
    r"""Strengths after popping u units from the bottom: max(0, s[i] − max(0, u − Σ_{j<i} s[j])).

    Book: exercise 8-4 (queue pop). Paper: Grefenstette et al. 2015, §3.2.
    Shapes: strengths (..., T), pop scalar or (...,) -> (..., T), same dtype.
    Spec: ``spec.structured_memory.pop_from_bottom``.
    """
    s, u = _checked_pop(strengths, pop)
    return _removed(s, u, _exclusive_sum_below(s))


def read_weights_from_top(strengths: FloatArray) -> FloatArray:
    r"""Read weights of the top unit of strength: min(s[i], max(0, 1 − Σ_{j>i} s[j])).

    Book: exercise 8-4 (stack read). Paper: Grefenstette et al. 2015, eq. (3).
    Shapes: strengths (..., T) -> (..., T). They are ≥ 0 and sum to
    min(1, Σ_i s[i]); all 0 for an empty structure (T = 0 or all s = 0).
    Spec: ``spec.structured_memory.read_weights_from_top``.
    """
    return _weights_from_top(check.unit_interval(strengths, "strengths", min_ndim=1))


def read_weights_from_bottom(strengths: FloatArray) -> FloatArray:
    r"""Read weights of the bottom unit of strength: min(s[i], max(0, 1 − Σ_{j<i} s[j])).

    Book: exercise 8-4 (queue read: the front of the queue is its oldest row).
    Shapes: strengths (..., T) -> (..., T); ≥ 0, summing to min(1, Σ_i s[i]).
    Spec: ``spec.structured_memory.read_weights_from_bottom``.
    """
    return _weights_from_bottom(check.unit_interval(strengths, "strengths", min_ndim=1))


def _weights_from_top(s: FloatArray) -> FloatArray:
    weights: FloatArray = np.minimum(s, np.maximum(0, 1 - _exclusive_sum_above(s))).astype(s.dtype)
    return weights


def _weights_from_bottom(s: FloatArray) -> FloatArray:
    weights: FloatArray = np.minimum(s, np.maximum(0, 1 - _exclusive_sum_below(s))).astype(s.dtype)
    return weights


def _read(values: FloatArray, weights: FloatArray) -> FloatArray:
    read: FloatArray = np.einsum("...t,...td->...d", weights, values)  # Σ_i w_i V[i]
    return read


def _append(
    state_values: FloatArray,
    strengths: FloatArray,
    value: FloatArray,
    push: FloatArray,
    *,
    top: bool,
) -> tuple[FloatArray, FloatArray]:
    batch = np.broadcast_shapes(strengths.shape[:-1], value.shape[:-1], push.shape)
    width, rows = state_values.shape[-1], strengths.shape[-1]
    old_values = np.broadcast_to(state_values, (*batch, rows, width))
    old_strengths = np.broadcast_to(strengths, (*batch, rows))
    new_row = np.broadcast_to(value, (*batch, width))[..., None, :]
    new_strength = np.broadcast_to(push, batch)[..., None].astype(strengths.dtype)
    parts_v = (old_values, new_row) if top else (new_row, old_values)
    parts_s = (old_strengths, new_strength) if top else (new_strength, old_strengths)
    values: FloatArray = np.concatenate(parts_v, axis=-2)
    new_strengths: FloatArray = np.concatenate(parts_s, axis=-1)
    return values, new_strengths


# --- the three structures ------------------------------------------------------------------------


def _step(
    state_values: FloatArray,
    state_strengths: FloatArray,
    v: FloatArray,
    d: FloatArray,
    u: FloatArray,
    *,
    queue: bool,
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """One stack (queue) step on raw arrays: pop from the top (bottom), push on top, read."""
    before = _exclusive_sum_below if queue else _exclusive_sum_above
    popped = _removed(state_strengths, u, before(state_strengths))
    values, strengths = _append(state_values, popped, v, d, top=True)
    weights = _weights_from_bottom(strengths) if queue else _weights_from_top(strengths)
    return values, strengths, _read(values, weights)


def stack_step(
    state: ContinuousMemoryState, value: FloatArray, push: Strength, pop: Strength
) -> tuple[ContinuousMemoryState, FloatArray]:
    r"""One step of the continuous stack: pop u_t from the top, push v_t with d_t, read the top.

    Book: exercise 8-4 (a stack-organised external memory).
    Paper: Grefenstette et al. 2015, §3.1, eqs. (1)–(3).
    Shapes: state (values (..., T, D), strengths (..., T)), value (..., D),
    push d_t and pop u_t scalars or (...,) -> (new state with T + 1 rows,
    read r_t (..., D)). Batch axes broadcast.
    Assumptions: d_t, u_t ∈ [0, 1] (else ``ValueError``); the pop acts on the
    rows before the push (the new row is never popped in its own step).
    Extremes: T = 0 (empty) is allowed; reading a structure of total strength
    0 gives the zero vector; with all strengths in {0, 1} this is exactly a
    discrete stack (``spec.structured_memory.discrete_reads``).
    Spec: ``spec.structured_memory.stack_step``.
    """
    current = _state(state)
    v = _value(value, "value", current)
    d = _strength(push, "push", current.dtype)
    u = _strength(pop, "pop", current.dtype)
    _batch_shape(current, ("value", v, 1), ("push", d, 0), ("pop", u, 0))
    values, strengths, read = _step(current.values, current.strengths, v, d, u, queue=False)
    return ContinuousMemoryState(values, strengths), read


def queue_step(
    state: ContinuousMemoryState, value: FloatArray, push: Strength, pop: Strength
) -> tuple[ContinuousMemoryState, FloatArray]:
    r"""One step of the continuous queue: pop u_t from the front, enqueue v_t, read the front.

    Book: exercise 8-4 (a queue-organised external memory).
    Paper: Grefenstette et al. 2015, §3.2 (the stack's sums over j > i become sums over j < i).
    Shapes and assumptions: as ``stack_step``; the front is the bottom (oldest)
    row, new values are appended at the top (back). With strengths in {0, 1}
    this is exactly a FIFO queue (``collections.deque`` with popleft/append).
    Spec: ``spec.structured_memory.queue_step``.
    """
    current = _state(state)
    v = _value(value, "value", current)
    d = _strength(push, "push", current.dtype)
    u = _strength(pop, "pop", current.dtype)
    _batch_shape(current, ("value", v, 1), ("push", d, 0), ("pop", u, 0))
    values, strengths, read = _step(current.values, current.strengths, v, d, u, queue=True)
    return ContinuousMemoryState(values, strengths), read


@dataclass(frozen=True)
class DequeRead:
    """The two reads of a deque step: the top unit and the bottom unit of strength."""

    top: FloatArray
    bottom: FloatArray

    def __post_init__(self) -> None:
        check.seal(self)  # fresh arrays of the deque kernel, made read-only


def deque_step(
    state: ContinuousMemoryState,
    *,
    value_top: FloatArray,
    value_bottom: FloatArray,
    push_top: Strength,
    pop_top: Strength,
    push_bottom: Strength,
    pop_bottom: Strength,
) -> tuple[ContinuousMemoryState, DequeRead]:
    r"""One step of the continuous deque: pop at both ends, push at both ends, read both ends.

    Book: exercise 8-4 (a double-ended queue). Paper: Grefenstette et al. 2015, §3.3:
    s^top = pop u^top from the top of s_{t−1}; s^both = pop u^bot from the
    bottom of s^top; then the bottom value (strength d^bot) is prepended and
    the top value (strength d^top) appended, so T grows by 2 per step.
    Shapes: as ``stack_step``, with two values, four strengths and two reads
    (``DequeRead.top``, ``DequeRead.bottom``, each (..., D)).
    With strengths in {0, 1} this is exactly ``collections.deque`` doing
    pop(), popleft() (each only if non-empty), appendleft(v_bot), append(v_top).
    The two pops commute (they clip the strength profile from opposite ends,
    and remove min(total, u^top + u^bot) in all), so their order is immaterial.
    Spec: ``spec.structured_memory.deque_step``.
    """
    current = _state(state)
    v_top = _value(value_top, "value_top", current)
    v_bot = _value(value_bottom, "value_bottom", current)
    strengths_in = {
        name: _strength(x, name, current.dtype)
        for name, x in (
            ("push_top", push_top),
            ("pop_top", pop_top),
            ("push_bottom", push_bottom),
            ("pop_bottom", pop_bottom),
        )
    }
    _batch_shape(
        current,
        ("value_top", v_top, 1),
        ("value_bottom", v_bot, 1),
        *((name, x, 0) for name, x in strengths_in.items()),
    )
    s = current.strengths
    after_top = _removed(s, strengths_in["pop_top"], _exclusive_sum_above(s))
    after_both = _removed(after_top, strengths_in["pop_bottom"], _exclusive_sum_below(after_top))
    values, strengths = _append(
        current.values, after_both, v_bot, strengths_in["push_bottom"], top=False
    )
    values, strengths = _append(values, strengths, v_top, strengths_in["push_top"], top=True)
    reads = DequeRead(
        top=_read(values, _weights_from_top(strengths)),
        bottom=_read(values, _weights_from_bottom(strengths)),
    )
    return ContinuousMemoryState(values, strengths), reads


def _sequence(
    values: object, push: object, pop: object
) -> tuple[FloatArray, FloatArray, FloatArray, tuple[int, ...]]:
    v = check.float_array(values, "values", min_ndim=2)
    d = check.unit_interval(push, "push", min_ndim=1)
    u = check.unit_interval(pop, "pop", min_ndim=1)
    check.same_dtype(values=v, push=d, pop=u)
    steps = v.shape[-2]
    if d.shape[-1] != steps or u.shape[-1] != steps:
        raise ValueError(
            f"values has {steps} steps, push has {d.shape[-1]}, pop has {u.shape[-1]}; "
            "they must agree"
        )
    if v.shape[-1] == 0:
        raise ValueError("values must have width D ≥ 1, got D = 0")
    try:
        batch = np.broadcast_shapes(v.shape[:-2], d.shape[:-1], u.shape[:-1])
    except ValueError:
        raise ValueError(
            f"batch axes do not broadcast: values {v.shape[:-2]}, push {d.shape[:-1]}, "
            f"pop {u.shape[:-1]}"
        ) from None
    work = int(np.prod(batch, dtype=np.float64)) * steps * steps * v.shape[-1]
    if work > MAX_RUN_WORK:
        raise ValueError(
            f"values asks for B·T²·D = {work} (T = {steps} steps); at most MAX_RUN_WORK = "
            f"{MAX_RUN_WORK} (the state grows one row per step, so longer runs take minutes)"
        )
    return v, d, u, batch


def _run(
    v: FloatArray, d: FloatArray, u: FloatArray, batch: tuple[int, ...], queue: bool
) -> FloatArray:
    width = v.shape[-1]
    state_values = np.zeros((*batch, 0, width), dtype=v.dtype)
    state_strengths = np.zeros((*batch, 0), dtype=v.dtype)
    reads = []
    for t in range(v.shape[-2]):
        state_values, state_strengths, read = _step(
            state_values, state_strengths, v[..., t, :], d[..., t], u[..., t], queue=queue
        )
        reads.append(read)
    stacked: FloatArray = (
        np.stack(reads, axis=-2) if reads else np.zeros((*batch, 0, width), v.dtype)
    )
    return stacked


def run_stack(values: FloatArray, push: FloatArray, pop: FloatArray) -> FloatArray:
    r"""Reads r_1..r_T of a continuous stack driven by a whole sequence, from empty.

    Book: exercise 8-4. Shapes: values (..., T, D), push (..., T), pop (..., T)
    -> reads (..., T, D). Step t is ``stack_step`` with values[..., t, :],
    push[..., t], pop[..., t] (run as its kernel after one check of the whole
    sequence). T = 0 gives (..., 0, D); B·T²·D ≤ ``MAX_RUN_WORK``.
    """
    v, d, u, batch = _sequence(values, push, pop)
    return _run(v, d, u, batch, queue=False)


def run_queue(values: FloatArray, push: FloatArray, pop: FloatArray) -> FloatArray:
    r"""Reads r_1..r_T of a continuous queue driven by a whole sequence, from empty.

    Book: exercise 8-4. Shapes and limits: as ``run_stack``.
    """
    v, d, u, batch = _sequence(values, push, pop)
    return _run(v, d, u, batch, queue=True)
