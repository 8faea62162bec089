"""Properties of impl.set_memory: a permutation-invariant memory read by attention (ex. 8-4)."""

from typing import Any

import numpy as np
import pytest
from hypothesis import given
from numpy.typing import NDArray

from impl.attention import key_value_attention
from impl.set_memory import (
    SetMemory,
    empty_set_memory,
    set_memory_contains,
    set_memory_from_items,
    set_memory_read,
    set_memory_weights,
    set_memory_write,
)
from impl.testing import strategies as nst
from impl.testing.tolerances import assert_close, eps

FloatArray = NDArray[np.floating[Any]]


def _memory(inputs: nst.SlotMemoryInputs) -> SetMemory:
    return SetMemory(keys=inputs.keys, values=inputs.values, occupied=inputs.occupied)


def _atol(inputs: nst.SlotMemoryInputs) -> float:
    """Σ_n α_n v_n: C products of |v| ≤ 3, each rounded (a few eps of the largest term)."""
    return 16.0 * int(inputs.keys.shape[-2]) * 3.0 * eps(inputs.keys.dtype)


@given(nst.slot_memory_inputs(), nst.generators())
def test_set_memory_read_is_permutation_invariant(
    inputs: nst.SlotMemoryInputs, rng: np.random.Generator
) -> None:
    """Ex. 8-4: permuting the slots (keys, values, occupancy together) leaves reads unchanged."""
    permutation = rng.permutation(inputs.keys.shape[-2])
    permuted = SetMemory(
        keys=inputs.keys[..., permutation, :],
        values=inputs.values[..., permutation, :],
        occupied=inputs.occupied[..., permutation],
    )
    memory = _memory(inputs)
    assert_close(
        set_memory_read(permuted, inputs.query),
        set_memory_read(memory, inputs.query),
        atol=_atol(inputs),
    )
    np.testing.assert_array_equal(
        set_memory_contains(permuted, inputs.query), set_memory_contains(memory, inputs.query)
    )
    # Equivariance of the weights: they move with the slots.
    assert_close(
        set_memory_weights(permuted, inputs.query),
        set_memory_weights(memory, inputs.query)[..., permutation],
        atol=_atol(inputs),
    )


@given(nst.slot_memory_inputs(), nst.generators())
def test_set_memory_insertion_order_does_not_matter(
    inputs: nst.SlotMemoryInputs, rng: np.random.Generator
) -> None:
    """Ex. 8-4: writing the same items in any order gives the same reads and memberships."""
    batch_index = (0,) * (inputs.keys.ndim - 2)
    keys, values = inputs.keys[batch_index], inputs.values[batch_index]
    query = inputs.query[batch_index]
    count = keys.shape[0]
    reads, contains = [], []
    for order in (np.arange(count), rng.permutation(count)):
        memory = empty_set_memory(count, keys.shape[-1], values.shape[-1], dtype=keys.dtype)
        for n in order:
            memory = set_memory_write(memory, keys[n], values[n])
        reads.append(set_memory_read(memory, query))
        contains.append(set_memory_contains(memory, query))
    assert_close(reads[1], reads[0], atol=_atol(inputs))
    np.testing.assert_array_equal(contains[1], contains[0])


@given(nst.slot_memory_inputs())
def test_set_memory_read_is_attention_over_occupied_slots(inputs: nst.SlotMemoryInputs) -> None:
    """Ex. 8-4 / §8.2.1: read = key_value_attention over the occupied slots only; empty → 0.

    Free slots may hold anything (garbage keys and values) without effect.
    """
    memory = _memory(inputs)
    garbage = SetMemory(
        keys=np.where(inputs.occupied[..., None], inputs.keys, 1e3).astype(inputs.keys.dtype),
        values=np.where(inputs.occupied[..., None], inputs.values, -1e3).astype(inputs.keys.dtype),
        occupied=inputs.occupied,
    )
    read = set_memory_read(memory, inputs.query)
    assert_close(set_memory_read(garbage, inputs.query), read, atol=_atol(inputs))
    for index in np.ndindex(inputs.keys.shape[:-2]):
        kept = inputs.occupied[index]
        if kept.any():
            expected = key_value_attention(
                inputs.query[index], inputs.keys[index][kept], inputs.values[index][kept]
            )
        else:
            expected = np.zeros_like(read[index])
        assert_close(read[index], expected, atol=_atol(inputs))


@given(nst.slot_memory_inputs())
def test_set_memory_weights_are_a_distribution_over_occupied(inputs: nst.SlotMemoryInputs) -> None:
    """§8.2: weights ≥ 0, 0 on free slots, summing to 1 (0 for an empty memory)."""
    weights = set_memory_weights(_memory(inputs), inputs.query)
    assert (weights >= 0).all()
    free = ~np.broadcast_to(inputs.occupied[..., None, :], weights.shape)
    assert (weights[free] == 0).all()
    any_occupied: NDArray[np.bool_] = np.asarray(inputs.occupied.any(axis=-1))
    expected = np.broadcast_to(any_occupied[..., None], weights.shape[:-1])
    np.testing.assert_allclose(weights.sum(axis=-1), expected.astype(float), atol=_atol(inputs))


@given(nst.slot_memory_inputs())
def test_set_memory_read_is_deep_sets_ratio(inputs: nst.SlotMemoryInputs) -> None:
    """Deep Sets form: read = ρ(Σ_n φ(k_n, v_n)) with φ = (e^{s_n} v_n, e^{s_n}), ρ(a, b) = a/b."""
    memory = _memory(inputs)
    scale = 1 / np.sqrt(inputs.keys.shape[-1])
    scores = (inputs.query @ np.swapaxes(inputs.keys, -1, -2)) * scale  # (..., L, C)
    occupied = np.broadcast_to(inputs.occupied[..., None, :], scores.shape)
    shift = np.max(np.where(occupied, scores, -np.inf), axis=-1, keepdims=True, initial=-np.inf)
    shift = np.where(np.isfinite(shift), shift, 0)
    e = np.where(occupied, np.exp(scores - shift), 0)
    a = e @ inputs.values  # Σ φ_1
    b = e.sum(axis=-1, keepdims=True)  # Σ φ_2
    expected = np.where(b > 0, a / np.where(b > 0, b, 1), 0).astype(inputs.keys.dtype)
    assert_close(set_memory_read(memory, inputs.query), expected, atol=_atol(inputs))


@given(nst.slot_memory_inputs())
def test_set_memory_contains_is_soft_membership(inputs: nst.SlotMemoryInputs) -> None:
    """Ex. 8-4: contains ∈ [0, 1]; 1 for each stored key; 0 when empty; adding never lowers it."""
    memory = _memory(inputs)
    contains = set_memory_contains(memory, inputs.query)
    assert ((contains >= 0) & (contains <= 1)).all()
    stored = set_memory_contains(memory, inputs.keys)  # each slot's own key
    np.testing.assert_array_equal(stored[inputs.occupied], 1)
    empty = SetMemory(inputs.keys, inputs.values, np.zeros_like(inputs.occupied))
    np.testing.assert_array_equal(set_memory_contains(empty, inputs.query), 0)
    full = SetMemory(inputs.keys, inputs.values, np.ones_like(inputs.occupied))
    assert (set_memory_contains(full, inputs.query) >= contains).all()


@given(nst.slot_memory_inputs())
def test_set_memory_batch_equals_per_item(inputs: nst.SlotMemoryInputs) -> None:
    """Batched read = per-item reads."""
    read = set_memory_read(_memory(inputs), inputs.query)
    for index in np.ndindex(inputs.keys.shape[:-2]):
        single = SetMemory(inputs.keys[index], inputs.values[index], inputs.occupied[index])
        assert_close(read[index], set_memory_read(single, inputs.query[index]), atol=_atol(inputs))


def test_set_memory_write_fills_first_free_slot_and_refuses_when_full() -> None:
    """A write uses the first free slot; a full memory is a ValueError; batches write per item."""
    memory = empty_set_memory(2, 1, 1, batch_shape=(2,))
    memory = SetMemory(memory.keys, memory.values, np.array([[True, False], [False, False]]))
    written = set_memory_write(memory, np.array([[5.0], [6.0]]), np.array([[7.0], [8.0]]))
    np.testing.assert_array_equal(written.occupied, [[True, True], [True, False]])
    np.testing.assert_array_equal(written.keys[..., 0], [[0.0, 5.0], [6.0, 0.0]])
    np.testing.assert_array_equal(memory.occupied, [[True, False], [False, False]])  # unchanged
    with pytest.raises(ValueError, match="full"):
        set_memory_write(written, np.array([1.0]), np.array([1.0]))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_set_memory_dtype_and_empty(dtype: type[np.floating[Any]]) -> None:
    """Same dtype out; an empty memory reads exactly 0 and contains nothing."""
    memory = empty_set_memory(3, 2, 4, dtype=dtype)
    query = np.ones((5, 2), dtype=dtype)
    read = set_memory_read(memory, query)
    assert read.dtype == dtype
    np.testing.assert_array_equal(read, np.zeros((5, 4)))
    np.testing.assert_array_equal(set_memory_contains(memory, query), np.zeros(5))
    assert set_memory_contains(memory, query).dtype == dtype
    assert set_memory_weights(memory, query).dtype == dtype
    full = set_memory_from_items(np.ones((1, 2), dtype=dtype), np.ones((1, 4), dtype=dtype))
    assert set_memory_read(full, query).dtype == dtype
    assert float(full.size) == 1


def test_set_memory_bad_input_is_rejected() -> None:
    """Wrong widths, mixed dtypes, non-memories and bad sizes raise clear errors."""
    memory = empty_set_memory(2, 2, 3)
    with pytest.raises(ValueError, match=r"key has 3 features, memory\.keys has 2"):
        set_memory_write(memory, np.ones(3), np.ones(3))
    with pytest.raises(ValueError, match=r"value has 2 features, memory\.values has 3"):
        set_memory_write(memory, np.ones(2), np.ones(2))
    with pytest.raises(TypeError, match="share one float dtype"):
        set_memory_write(memory, np.ones(2, dtype=np.float32), np.ones(3, dtype=np.float32))
    # A float32 query against a float64 memory is refused (never silently promoted), by name.
    query32 = np.ones((1, 2), dtype=np.float32)
    for reading in (set_memory_read, set_memory_weights, set_memory_contains):
        with pytest.raises(TypeError, match=r"query float32, memory\.keys float64$"):
            reading(memory, query32)
    with pytest.raises(TypeError, match="memory must be a SetMemory"):
        set_memory_read("memory", np.ones((1, 2)))  # type: ignore[arg-type]  # deliberate misuse
    with pytest.raises(ValueError, match="capacity must be at least 1"):
        empty_set_memory(0, 2, 2)
    with pytest.raises(ValueError, match="bandwidth must be finite and positive"):
        set_memory_contains(memory, np.ones((1, 2)), bandwidth=0.0)
    # Issue 7: a hand-built memory is checked where it is built, and stays read-only.
    with pytest.raises(ValueError, match="must agree"):
        SetMemory(np.ones((2, 2)), np.ones((3, 3)), np.ones(2, dtype=bool))
    with pytest.raises(TypeError, match="occupied must be a numpy bool array"):
        SetMemory(np.ones((2, 2)), np.ones((2, 3)), np.ones(2))  # type: ignore[arg-type]  # deliberate misuse
    with pytest.raises(ValueError, match="read-only"):
        memory.keys[0, 0] = np.nan
    # Class 2: a bandwidth that underflows float32, or whose square would underflow in
    # float64 (1e-200), no longer gives NaN: refused, resp. a similarity in [0, 1].
    with pytest.raises(ValueError, match="bandwidth"):
        set_memory_contains(
            empty_set_memory(2, 2, 3, dtype=np.float32),
            np.ones((1, 2), np.float32),
            bandwidth=1e-50,
        )
    full = set_memory_from_items(np.array([[0.0, 0.0], [1e300, -1e300]]), np.ones((2, 3)))
    near = set_memory_contains(full, np.array([[1e-200, 0.0], [-1e300, 1e300]]), bandwidth=1e-200)
    np.testing.assert_array_equal(near, [np.exp(-1.0), 0.0])  # exact: ‖q − k‖/h = 1, resp. huge
    with pytest.raises(ValueError, match="at least one slot"):
        set_memory_from_items(np.ones((0, 2)), np.ones((0, 3)))
