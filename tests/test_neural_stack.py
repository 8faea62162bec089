"""Properties of impl.neural_stack: the continuous stack, queue and deque (exercise 8-4).

Paper: Grefenstette et al. 2015, §3. The discrete limit is checked against
Python's list and ``collections.deque`` driven by the same operations; the
bookkeeping laws against ``spec.structured_memory``.
"""

import collections
import functools
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
import sympy
from hypothesis import given
from hypothesis import strategies as st
from numpy.typing import NDArray

from impl.neural_stack import (
    ContinuousMemoryState,
    deque_step,
    empty_memory,
    pop_from_bottom,
    pop_from_top,
    queue_step,
    read_weights_from_bottom,
    read_weights_from_top,
    run_queue,
    run_stack,
    stack_step,
)
from impl.testing import strategies as nst
from impl.testing.tolerances import assert_close, eps
from spec import structured_memory as sm

FloatArray = NDArray[np.floating[Any]]

HUGE = 2.0**99
"""≈ 6e29, exactly representable in float32: discrete reads must copy such values exactly."""

STEP_FUNCTIONS = {"stack": stack_step, "queue": queue_step}
READ_WEIGHTS = {"stack": read_weights_from_top, "queue": read_weights_from_bottom}
POPS = {"stack": pop_from_top, "queue": pop_from_bottom}


def _strength_atol(state: ContinuousMemoryState) -> float:
    """Sums of T strengths in [0, 1] are exact up to T roundings of size eps."""
    return 4.0 * (int(state.strengths.shape[-1]) + 1) * eps(state.dtype)


def _states(
    kind: str, ops: nst.StructureOperations
) -> list[tuple[ContinuousMemoryState, FloatArray]]:
    """Every (state, read) along the sequence, from empty."""
    step = STEP_FUNCTIONS[kind]
    batch = ops.values.shape[:-2]
    state = empty_memory(ops.values.shape[-1], batch_shape=batch, dtype=ops.values.dtype)
    history = []
    for t in range(ops.values.shape[-2]):
        state, read = step(state, ops.values[..., t, :], ops.push[..., t], ops.pop[..., t])
        history.append((state, read))
    return history


@functools.cache
def _total_strength_closed_form() -> Callable[..., Any]:
    """spec's max(0, C[1] − u) + d, lambdified once: (total, u, d) -> total after the step."""
    derivation = sm.total_strength_derivation()
    return sympy.lambdify(
        (derivation.cumulative[1], derivation.pop, derivation.push),
        derivation.closed_form,
        modules="numpy",
    )


@functools.cache
def _spec_step(kind: str, rows: int) -> Callable[..., Any]:
    """spec.stack_step/queue_step on ``rows`` rows, lambdified once: -> [read, *strengths]."""
    spec_step = sm.stack_step if kind == "stack" else sm.queue_step
    s_syms = sympy.symbols(f"s0:{rows}")
    v_syms = sympy.symbols(f"v0:{rows + 1}")
    d, u = sympy.symbols("d u")
    new, read = spec_step(sm.SymbolicState(tuple(v_syms[:-1]), tuple(s_syms)), v_syms[-1], d, u)
    return sympy.lambdify((*s_syms, *v_syms, d, u), [read, *new.strengths], modules="numpy")


@functools.cache
def _spec_deque_step(rows: int) -> Callable[..., Any]:
    """spec.deque_step on ``rows`` rows, lambdified once: -> [read_top, read_bottom, *strengths]."""
    s_syms = sympy.symbols(f"s0:{rows}")
    v_syms = sympy.symbols(f"v0:{rows}")
    vt, vb, dt, ut, db, ub = sympy.symbols("vt vb dt ut db ub")
    new, (read_top, read_bottom) = sm.deque_step(
        sm.SymbolicState(tuple(v_syms), tuple(s_syms)), (vt, vb), (dt, ut, db, ub)
    )
    args = (*s_syms, *v_syms, vt, vb, dt, ut, db, ub)
    return sympy.lambdify(args, [read_top, read_bottom, *new.strengths], modules="numpy")


# --- the discrete limit -----------------------------------------------------------------------


@given(nst.structure_operations(discrete=True, magnitude=HUGE))
def test_stack_discrete_limit_is_a_list_stack(ops: nst.StructureOperations) -> None:
    """Ex. 8-4: with d, u ∈ {0, 1} the continuous stack is exactly a Python list (LIFO)."""
    items: list[FloatArray] = []
    for t, (state, read) in enumerate(_states("stack", ops)):
        if ops.pop[t] == 1 and items:
            items.pop()
        if ops.push[t] == 1:
            items.append(ops.values[t])
        expected = items[-1] if items else np.zeros_like(ops.values[t])
        np.testing.assert_array_equal(read, expected)
        assert float(state.total_strength) == len(items)


@given(nst.structure_operations(discrete=True, magnitude=HUGE))
def test_queue_discrete_limit_is_a_fifo(ops: nst.StructureOperations) -> None:
    """Ex. 8-4: with d, u ∈ {0, 1} the continuous queue is exactly collections.deque (FIFO)."""
    items: collections.deque[FloatArray] = collections.deque()
    for t, (state, read) in enumerate(_states("queue", ops)):
        if ops.pop[t] == 1 and items:
            items.popleft()
        if ops.push[t] == 1:
            items.append(ops.values[t])
        expected = items[0] if items else np.zeros_like(ops.values[t])
        np.testing.assert_array_equal(read, expected)
        assert float(state.total_strength) == len(items)


@given(nst.deque_operations(discrete=True))
def test_deque_discrete_limit_is_collections_deque(ops: nst.DequeOperations) -> None:
    """Ex. 8-4: with strengths in {0, 1} the continuous deque is collections.deque.

    Per step: pop() and popleft() (each only if non-empty), appendleft(v_bot), append(v_top).
    """
    items: collections.deque[FloatArray] = collections.deque()
    state = empty_memory(ops.values_top.shape[-1], dtype=ops.values_top.dtype)
    for t in range(ops.values_top.shape[0]):
        state, reads = deque_step(
            state,
            value_top=ops.values_top[t],
            value_bottom=ops.values_bottom[t],
            push_top=ops.push_top[t],
            pop_top=ops.pop_top[t],
            push_bottom=ops.push_bottom[t],
            pop_bottom=ops.pop_bottom[t],
        )
        if ops.pop_top[t] == 1 and items:
            items.pop()
        if ops.pop_bottom[t] == 1 and items:
            items.popleft()
        if ops.push_bottom[t] == 1:
            items.appendleft(ops.values_bottom[t])
        if ops.push_top[t] == 1:
            items.append(ops.values_top[t])
        zero = np.zeros_like(ops.values_top[t])
        np.testing.assert_array_equal(reads.top, items[-1] if items else zero)
        np.testing.assert_array_equal(reads.bottom, items[0] if items else zero)


def test_spec_discrete_limit_three_steps_symbolic() -> None:
    """Ex. 8-4: spec's symbolic reads equal a list's for all 64 bit sequences of 3 steps."""
    for kind in ("stack", "queue"):
        tried, mismatch = sm.discrete_limit_mismatches(kind, 3)
        assert tried == 64
        assert mismatch == [], f"{kind}: first mismatch {mismatch}"


@given(
    nst.structure_operations(dtype=np.dtype(np.float64)),
    st.floats(0.0, 1.0),
    st.floats(0.0, 1.0),
)
def test_deque_pops_commute(
    ops: nst.StructureOperations, pop_top: float, pop_bottom: float
) -> None:
    """Ex. 8-4: popping from the top then the bottom = bottom then top (the deque's order is moot).

    In the cumulative form the two pops clip the strength profile from opposite
    ends; if u_top + u_bot exceeds the total both orders empty the deque.
    """
    *_, (state, _) = _states("stack", ops)
    s = state.strengths
    top_first = pop_from_bottom(pop_from_top(s, pop_top), pop_bottom)
    bottom_first = pop_from_top(pop_from_bottom(s, pop_bottom), pop_top)
    assert_close(top_first, bottom_first, rtol=0, atol=_strength_atol(state))
    removed = float(s.sum() - top_first.sum())
    assert abs(removed - min(float(s.sum()), pop_top + pop_bottom)) <= _strength_atol(state)


# --- bookkeeping laws -------------------------------------------------------------------------


@given(nst.structure_operations(batched=True), st.sampled_from(["stack", "queue"]))
def test_structure_strengths_stay_in_unit_interval(ops: nst.StructureOperations, kind: str) -> None:
    """Ex. 8-4: every strength stays in [0, 1] after any sequence of pushes and pops."""
    for state, _ in _states(kind, ops):
        assert ((state.strengths >= 0) & (state.strengths <= 1)).all()


@given(nst.structure_operations(batched=True), st.sampled_from(["stack", "queue"]))
def test_structure_total_strength_follows_spec(ops: nst.StructureOperations, kind: str) -> None:
    """Ex. 8-4 (spec.structured_memory): total after a step = max(0, total − u) + d."""
    closed = _total_strength_closed_form()
    previous = np.zeros(ops.values.shape[:-2], dtype=ops.values.dtype)
    for t, (state, _) in enumerate(_states(kind, ops)):
        expected = np.asarray(
            closed(previous, ops.pop[..., t], ops.push[..., t]),
            dtype=ops.values.dtype,
        )
        np.testing.assert_allclose(
            state.total_strength, expected, rtol=0, atol=_strength_atol(state)
        )
        previous = state.total_strength


@given(nst.structure_operations(batched=True), st.sampled_from(["stack", "queue"]))
def test_structure_read_weights_sum_to_min_one_total(
    ops: nst.StructureOperations, kind: str
) -> None:
    """Ex. 8-4: read weights are ≥ 0, sum to min(1, total strength), and give the read."""
    for state, read in _states(kind, ops):
        weights = READ_WEIGHTS[kind](state.strengths)
        assert (weights >= 0).all()
        assert (weights <= state.strengths).all()
        atol = _strength_atol(state)
        np.testing.assert_allclose(
            weights.sum(axis=-1), np.minimum(1, state.total_strength), rtol=0, atol=atol
        )
        expected = np.einsum("...t,...td->...d", weights, state.values)
        assert_close(read, expected, atol=atol * nst.DEFAULT_MAGNITUDE)
        bound = np.minimum(1, state.total_strength)[..., None] * np.abs(state.values).max(
            axis=-2, initial=0
        )
        assert (np.abs(read) <= bound + atol * nst.DEFAULT_MAGNITUDE).all()


@given(nst.structure_operations(), st.sampled_from(["stack", "queue"]))
def test_structure_pop_cumulative_form(ops: nst.StructureOperations, kind: str) -> None:
    """spec.structured_memory.cumulative_form: popping u maps C_i to max(0, C_i − u).

    C_i is the strength at or above row i (stack) or at or below row i (queue).
    """
    *_, (state, _) = _states(kind, ops)
    s = state.strengths
    u = float(ops.pop[-1])
    flip = kind == "stack"
    ordered = s[::-1] if flip else s
    cumulative = np.cumsum(ordered)
    clipped = np.maximum(0, cumulative - u)
    expected = np.diff(np.concatenate([[0.0], clipped])).astype(s.dtype)
    popped = POPS[kind](s, u)
    assert_close(popped[::-1] if flip else popped, expected, rtol=0, atol=_strength_atol(state))


def test_spec_total_strength_lemmas_hold() -> None:
    """spec: removal lemma, positive-part and min(1, ·) identities hold on every region."""
    for name, residual in (
        *sm.removal_lemma_residuals(),
        *sm.positive_part_identity_residuals(),
        *sm.min_one_identity_residuals(),
        *sm.cumulative_form_residuals(),
    ):
        assert residual == 0, name
    x = sympy.Symbol("x", real=True)
    assert sm.total_strength_residual() == x + sympy.Max(0, -x) - sympy.Max(0, x)


# --- continuity -------------------------------------------------------------------------------

LIPSCHITZ_READ = 2.0
"""One step: changing d or u by δ moves the read weights by at most 2δ in total (spec:
the read weights are differences of min(1, C_i), and the C_i move monotonically by ≤ δ)."""


SWEEP_POINTS = 65
"""Grid of push (or pop) strengths 0, 1/64, …, 1 swept in the continuity test."""


@given(
    nst.structure_operations(dtype=np.dtype(np.float64)),
    st.sampled_from(["stack", "queue"]),
    st.sampled_from(["push", "pop"]),
)
def test_structure_read_is_lipschitz_in_push_and_pop(
    ops: nst.StructureOperations, kind: str, which: str
) -> None:
    """Ex. 8-4 (differentiability): |r(d + δ) − r(d)| ≤ 2δ max|v|, and likewise in u.

    The strength is swept over a grid of [0, 1] with step δ = 1/64 from the
    state before the last step, so any jump (a threshold) anywhere shows.
    """
    history = _states(kind, ops)
    state = history[-2][0] if len(history) > 1 else empty_memory(ops.values.shape[-1])
    value, d, u = ops.values[-1], float(ops.push[-1]), float(ops.pop[-1])
    step = STEP_FUNCTIONS[kind]
    grid = np.linspace(0.0, 1.0, SWEEP_POINTS)
    reads = np.stack(
        [
            step(state, value, x, u)[1] if which == "push" else step(state, value, d, x)[1]
            for x in grid
        ]
    )
    scale = max(float(np.abs(state.values).max(initial=0)), float(np.abs(value).max()))
    bound = LIPSCHITZ_READ * float(grid[1] - grid[0]) * scale + 1e-12 * (1 + scale)
    jumps = np.abs(np.diff(reads, axis=0)).max(axis=-1)
    assert float(jumps.max()) <= bound


# --- spec twin, batching, dtypes --------------------------------------------------------------


@given(nst.structure_operations(dtype=np.dtype(np.float64), max_steps=5, max_width=1))
def test_stack_and_queue_step_equal_spec_twin(ops: nst.StructureOperations) -> None:
    """impl.stack_step / queue_step = spec.stack_step / queue_step (lambdified) on the last step."""
    for kind in ("stack", "queue"):
        history = _states(kind, ops)
        if len(history) < 2:
            continue
        state, _ = history[-2]
        numeric = (
            *state.strengths,
            *state.values[:, 0],
            ops.values[-1, 0],
            ops.push[-1],
            ops.pop[-1],
        )
        expected = _spec_step(kind, int(state.strengths.shape[-1]))(*numeric)
        last_state, last_read = history[-1]
        # float64 min/max/sums of ≤ 6 strengths and values ≤ 10: rounding ~1e-15.
        assert_close(last_read, np.asarray(expected[:1], np.float64), atol=1e-12)
        assert_close(last_state.strengths, np.asarray(expected[1:], np.float64), atol=1e-12)


@given(nst.deque_operations(dtype=np.dtype(np.float64), max_steps=3, max_width=1))
def test_deque_step_equals_spec_twin(ops: nst.DequeOperations) -> None:
    """impl.deque_step = spec.deque_step (lambdified) for every step of a short sequence."""
    state = empty_memory(1)
    for t in range(ops.values_top.shape[0]):
        strengths_in = (ops.push_top[t], ops.pop_top[t], ops.push_bottom[t], ops.pop_bottom[t])
        numeric = (
            *state.strengths,
            *state.values[:, 0],
            ops.values_top[t, 0],
            ops.values_bottom[t, 0],
            *strengths_in,
        )
        expected = _spec_deque_step(int(state.strengths.shape[-1]))(*numeric)
        state, reads = deque_step(
            state,
            value_top=ops.values_top[t],
            value_bottom=ops.values_bottom[t],
            push_top=ops.push_top[t],
            pop_top=ops.pop_top[t],
            push_bottom=ops.push_bottom[t],
            pop_bottom=ops.pop_bottom[t],
        )
        # float64 min/max/sums of a few strengths and values ≤ 10: rounding ~1e-15.
        assert_close(reads.top, np.asarray(expected[:1], np.float64), atol=1e-12)
        assert_close(reads.bottom, np.asarray(expected[1:2], np.float64), atol=1e-12)
        assert_close(state.strengths, np.asarray(expected[2:], np.float64), atol=1e-12)


@given(nst.structure_operations(batched=True), st.sampled_from(["stack", "queue"]))
def test_structure_batch_equals_per_item(ops: nst.StructureOperations, kind: str) -> None:
    """Batched run = one run per batch item (array-api-tests' stacks check)."""
    run = run_stack if kind == "stack" else run_queue
    batched = run(ops.values, ops.push, ops.pop)
    assert batched.dtype == ops.values.dtype
    for index in np.ndindex(ops.values.shape[:-2]):
        single = run(ops.values[index], ops.push[index], ops.pop[index])
        np.testing.assert_array_equal(batched[index], single)


@given(nst.structure_operations(batched=True), st.sampled_from(["stack", "queue"]))
def test_structure_run_equals_iterated_steps(ops: nst.StructureOperations, kind: str) -> None:
    """run_stack/run_queue = stack_step/queue_step iterated from the empty structure."""
    run = run_stack if kind == "stack" else run_queue
    reads = run(ops.values, ops.push, ops.pop)
    for t, (_, read) in enumerate(_states(kind, ops)):
        np.testing.assert_array_equal(reads[..., t, :], read)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_structure_dtype_preserved(dtype: type[np.floating[Any]]) -> None:
    """float32 in, float32 out (and float64); the state keeps the dtype."""
    state = empty_memory(2, dtype=dtype)
    for step in (stack_step, queue_step):
        new, read = step(state, np.ones(2, dtype=dtype), 0.5, 0.25)
        assert read.dtype == new.values.dtype == new.strengths.dtype == dtype
    new_deque, reads = deque_step(
        state,
        value_top=np.ones(2, dtype=dtype),
        value_bottom=np.ones(2, dtype=dtype),
        push_top=0.5,
        pop_top=0.5,
        push_bottom=0.5,
        pop_bottom=0.5,
    )
    assert reads.top.dtype == reads.bottom.dtype == new_deque.strengths.dtype == dtype


# --- extremes and bad input -------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["stack", "queue"])
def test_structure_empty_reads_zero(kind: str) -> None:
    """An empty structure (T = 0, or all strengths 0) reads 0; popping it is a no-op."""
    step = STEP_FUNCTIONS[kind]
    state = empty_memory(3)
    assert state.values.shape == (0, 3)
    state, read = step(state, np.full(3, 7.0), 0.0, 1.0)
    np.testing.assert_array_equal(read, np.zeros(3))
    state, read = step(state, np.full(3, 5.0), 0.0, 1.0)
    np.testing.assert_array_equal(read, np.zeros(3))
    np.testing.assert_array_equal(state.strengths, np.zeros(2))
    empty_weights = READ_WEIGHTS[kind](np.zeros(0))
    assert empty_weights.shape == (0,)


def test_stack_push_and_pop_together_replaces_the_top() -> None:
    """d = u = 1: the pop acts before the push, so the new value replaces the top."""
    state = empty_memory(1)
    state, _ = stack_step(state, np.array([1.0]), 1.0, 0.0)
    state, _ = stack_step(state, np.array([2.0]), 1.0, 0.0)
    state, read = stack_step(state, np.array([3.0]), 1.0, 1.0)
    np.testing.assert_array_equal(read, [3.0])
    np.testing.assert_array_equal(state.strengths, [1.0, 0.0, 1.0])
    state, read = stack_step(state, np.array([9.0]), 0.0, 1.0)
    np.testing.assert_array_equal(read, [1.0])


def test_stack_fractional_example() -> None:
    """Worked example: pushes 1, 0.5 then (d, u) = (0.9, 0.6) gives s = [0.9, 0, 0.9]."""
    state = empty_memory(1)
    state, _ = stack_step(state, np.array([1.0]), 1.0, 0.0)
    state, read = stack_step(state, np.array([2.0]), 0.5, 0.0)
    assert_close(read, np.array([1.5]))  # 0.5·v2 + 0.5·v1
    state, read = stack_step(state, np.array([3.0]), 0.9, 0.6)
    assert_close(state.strengths, np.array([0.9, 0.0, 0.9]))
    assert_close(read, np.array([0.9 * 3.0 + 0.1 * 1.0]))


def test_structure_bad_input_is_rejected() -> None:
    """Strengths outside [0, 1], wrong widths, mixed dtypes and non-states raise clear errors."""
    state = empty_memory(2)
    value = np.ones(2)
    with pytest.raises(ValueError, match=r"push must be at most 1, got 1\.5"):
        stack_step(state, value, 1.5, 0.0)
    with pytest.raises(ValueError, match=r"pop must be at least 0, got -0\.1"):
        queue_step(state, value, 0.0, -0.1)
    with pytest.raises(ValueError, match="pop must be finite"):
        stack_step(state, value, 0.0, float("nan"))
    with pytest.raises(TypeError, match="push must be a finite float, got bool"):
        stack_step(state, value, True, 0.0)
    with pytest.raises(ValueError, match="value has 3 features, the memory has 2"):
        stack_step(state, np.ones(3), 1.0, 0.0)
    with pytest.raises(TypeError, match="share one float dtype"):
        stack_step(state, np.ones(2, dtype=np.float32), 1.0, 0.0)
    with pytest.raises(TypeError, match="push has dtype float32"):
        stack_step(state, value, np.asarray(0.5, dtype=np.float32), 0.0)
    with pytest.raises(TypeError, match="state must be a ContinuousMemoryState"):
        stack_step("stack", value, 1.0, 0.0)  # type: ignore[arg-type]  # deliberate misuse
    # A hand-built state is checked when built (issue 7: records constructible only validated).
    with pytest.raises(ValueError, match=r"strengths must lie in \[0, 1\]"):
        ContinuousMemoryState(values=np.ones((1, 2)), strengths=np.array([1.5]))
    with pytest.raises(ValueError, match=r"so strengths must have shape"):
        ContinuousMemoryState(values=np.ones((2, 2)), strengths=np.array([1.0]))
    kept = ContinuousMemoryState(values=np.ones((1, 2)), strengths=np.array([1.0]))
    with pytest.raises(ValueError, match="read-only"):
        kept.strengths[0] = 2.0  # an in-place edit cannot make the state invalid
    with pytest.raises(ValueError, match="batch axes do not broadcast"):
        stack_step(empty_memory(2, batch_shape=(2,)), np.ones((3, 2)), 1.0, 0.0)
    with pytest.raises(ValueError, match="they must agree"):
        run_stack(np.ones((3, 2)), np.ones(2), np.ones(3))
    # Each argument's batch axes are shown as they are (values (..., T, D); push, pop (..., T)).
    with pytest.raises(
        ValueError,
        match=r"^batch axes do not broadcast: values \(2,\), push \(3,\), pop \(4,\)$",
    ):
        run_stack(np.ones((2, 3, 1)), np.ones((3, 3)), np.ones((4, 3)))
    with pytest.raises(ValueError, match="width must be at least 1"):
        empty_memory(0)
    with pytest.raises(TypeError, match="dtype must be float32 or float64"):
        empty_memory(2, dtype=np.float16)


def test_structure_edges_issue_7() -> None:
    """Issue 7: strengths outside [0, 1] in the public strength functions are named (they
    were unchecked); runs whose B·T²·D exceeds MAX_RUN_WORK are refused with the limit; T = 0
    and a batch of 0 give empty results; NumPy scalars work like Python floats."""
    with pytest.raises(ValueError, match=r"strengths must lie in \[0, 1\]"):
        pop_from_top(np.array([1.5, 0.5]), 0.5)
    with pytest.raises(ValueError, match="MAX_RUN_WORK"):
        run_stack(np.zeros((1, 10**5, 1)), np.zeros((1, 10**5)), np.zeros((1, 10**5)))
    assert run_queue(np.zeros((0, 2)), np.zeros(0), np.zeros(0)).shape == (0, 2)
    assert empty_memory(2, batch_shape=(0,)).values.shape == (0, 0, 2)
    state = empty_memory(2, dtype=np.float32)
    value = np.ones(2, np.float32)
    _, read_a = stack_step(state, value, np.float32(0.95), np.float64(0.5))
    _, read_b = stack_step(state, value, 0.95, 0.5)
    np.testing.assert_array_equal(read_a, read_b)
    with pytest.raises(ValueError, match="push = 1e\\+39 overflows float32"):
        stack_step(state, value, 1e39, 0.0)
