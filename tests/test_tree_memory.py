"""Properties of impl.tree_memory: hierarchical-softmax reads of a b-ary tree memory (ex. 8-4)."""

from typing import Any

import numpy as np
import pytest
from hypothesis import given
from numpy.typing import NDArray

from impl.attention import key_value_attention
from impl.scores import scaled_dot_product_score
from impl.testing import strategies as nst
from impl.testing.tolerances import assert_close, eps
from impl.tree_memory import (
    TreeMemory,
    build_tree_memory,
    routing_probabilities,
    tree_greedy_path,
    tree_leaf_weights,
    tree_path,
    tree_read,
    tree_write,
)

FloatArray = NDArray[np.floating[Any]]


def _tree(inputs: nst.SlotMemoryInputs) -> TreeMemory:
    return build_tree_memory(inputs.keys, inputs.values, branching=inputs.branching)


def _atol(inputs: nst.SlotMemoryInputs) -> float:
    """N leaves, products of up to 3 routing factors and values |v| ≤ 3."""
    return 32.0 * int(inputs.keys.shape[-2]) * 3.0 * eps(inputs.keys.dtype)


@given(nst.slot_memory_inputs(tree=True))
def test_tree_leaf_weights_sum_to_one(inputs: nst.SlotMemoryInputs) -> None:
    """Ex. 8-4: hierarchical-softmax leaf weights are ≥ 0 and sum to 1 for every query."""
    weights = tree_leaf_weights(_tree(inputs), inputs.query)
    assert weights.shape == (*inputs.query.shape[:-1], inputs.keys.shape[-2])
    assert weights.dtype == inputs.keys.dtype
    assert (weights >= 0).all()
    np.testing.assert_allclose(weights.sum(axis=-1), 1.0, rtol=0, atol=_atol(inputs))


@given(nst.slot_memory_inputs(tree=True))
def test_tree_leaf_weight_is_product_along_its_path(inputs: nst.SlotMemoryInputs) -> None:
    """Ex. 8-4: w_n = Π_{ℓ=1}^{L} p(node_ℓ | node_{ℓ−1}) over the L = log_b N nodes of n's path."""
    tree = _tree(inputs)
    routing = routing_probabilities(tree, inputs.query)
    weights = tree_leaf_weights(tree, inputs.query)
    assert len(routing) == tree.depth
    assert tree.branching**tree.depth == tree.leaf_count
    for leaf in range(tree.leaf_count):
        path = tree_path(leaf, tree.branching, tree.depth)
        assert len(path) == tree.depth + 1
        assert path[0] == 0
        assert path[-1] == leaf
        product = np.ones(weights.shape[:-1], dtype=weights.dtype)
        for level in range(1, tree.depth + 1):
            assert path[level] // tree.branching == path[level - 1]  # child of the previous node
            product = product * routing[level - 1][..., path[level]]
        assert_close(weights[..., leaf], product, atol=_atol(inputs))
    for probabilities in routing:  # each sibling group is a distribution
        grouped = probabilities.reshape(*probabilities.shape[:-1], -1, tree.branching)
        np.testing.assert_allclose(grouped.sum(axis=-1), 1.0, rtol=0, atol=_atol(inputs))


@given(nst.slot_memory_inputs(tree=True))
def test_tree_depth_one_is_flat_attention(inputs: nst.SlotMemoryInputs) -> None:
    """Ex. 8-4: a depth-1 tree (b = N) reads exactly like key_value_attention over the leaves."""
    tree = build_tree_memory(inputs.keys, inputs.values, branching=int(inputs.keys.shape[-2]))
    assert tree.depth == 1
    expected = key_value_attention(inputs.query, inputs.keys, inputs.values)
    assert_close(tree_read(tree, inputs.query), expected, atol=_atol(inputs))


@given(nst.slot_memory_inputs(tree=True))
def test_tree_summaries_are_means_of_leaves_below(inputs: nst.SlotMemoryInputs) -> None:
    """Each internal key is the mean of the leaf keys below it (the root: of all leaves)."""
    tree = _tree(inputs)
    for level, keys in enumerate(tree.keys):
        span = tree.branching ** (tree.depth - level)  # leaves under one node of this level
        for node in range(keys.shape[-2]):
            below = inputs.keys[..., node * span : (node + 1) * span, :].mean(axis=-2)
            assert_close(keys[..., node, :], below.astype(keys.dtype), atol=_atol(inputs))


@given(nst.slot_memory_inputs(tree=True), nst.generators())
def test_tree_write_changes_only_the_path(
    inputs: nst.SlotMemoryInputs, rng: np.random.Generator
) -> None:
    """Ex. 8-4: writing leaf n changes only the L + 1 nodes on n's path, and equals a rebuild."""
    tree = _tree(inputs)
    leaf = int(rng.integers(tree.leaf_count))
    batch = inputs.keys.shape[:-2]
    key = (rng.standard_normal((*batch, inputs.keys.shape[-1])) + 10).astype(inputs.keys.dtype)
    value = rng.standard_normal((*batch, inputs.values.shape[-1])).astype(inputs.keys.dtype)
    written = tree_write(tree, leaf, key, value)
    path = tree_path(leaf, tree.branching, tree.depth)
    for level, (before, after) in enumerate(zip(tree.keys, written.keys, strict=True)):
        changed = set(
            np.flatnonzero((before != after).any(axis=-1).reshape(-1, before.shape[-2]).any(axis=0))
        )
        assert changed <= {path[level]}, (level, changed, path)
    keys, values = inputs.keys.copy(), inputs.values.copy()
    keys[..., leaf, :], values[..., leaf, :] = key, value
    rebuilt = build_tree_memory(keys, values, branching=tree.branching)
    for ours, reference in zip(written.keys, rebuilt.keys, strict=True):
        assert_close(ours, reference, atol=_atol(inputs))
    np.testing.assert_array_equal(written.values, rebuilt.values)
    np.testing.assert_array_equal(tree.values, inputs.values)  # the input is not modified


@given(nst.slot_memory_inputs(tree=True))
def test_tree_greedy_path_follows_argmax_and_scores_b_log_n_keys(
    inputs: nst.SlotMemoryInputs,
) -> None:
    """Ex. 8-4: greedy routing picks the most probable child at each level, scoring b·L keys."""
    tree = _tree(inputs)
    scored = []

    def counting_score(query: FloatArray, keys: FloatArray) -> FloatArray:
        scored.append(int(keys.shape[-2]))
        return scaled_dot_product_score(query, keys)

    path = tree_greedy_path(tree, inputs.query, score=counting_score)
    assert scored == [tree.branching] * tree.depth  # b keys per level, L levels
    routing = routing_probabilities(tree, inputs.query)
    parent = np.zeros(path.shape[:-1], dtype=np.intp)
    for level in range(tree.depth):
        node = path[..., level]
        np.testing.assert_array_equal(node // tree.branching, parent)
        siblings = routing[level].reshape(*routing[level].shape[:-1], -1, tree.branching)
        chosen = np.take_along_axis(siblings, parent[..., None, None], axis=-2)[..., 0, :]
        picked = np.take_along_axis(chosen, (node % tree.branching)[..., None], axis=-1)[..., 0]
        assert (picked >= chosen.max(axis=-1)).all()
        parent = node


@given(nst.slot_memory_inputs(tree=True), nst.generators())
def test_tree_read_invariant_under_sibling_permutations(
    inputs: nst.SlotMemoryInputs, rng: np.random.Generator
) -> None:
    """Ex. 8-4: permuting the children of any node (whole subtrees) leaves the read unchanged."""
    tree = _tree(inputs)
    b, depth = tree.branching, tree.depth
    order = np.arange(tree.leaf_count)
    # Permute the b subtrees under the root: the leaf blocks of size b^(L−1) move together.
    block = b ** (depth - 1)
    moved = rng.permutation(b)
    order = np.concatenate([order[j * block : (j + 1) * block] for j in moved])
    permuted = build_tree_memory(
        inputs.keys[..., order, :], inputs.values[..., order, :], branching=b
    )
    assert_close(
        tree_read(permuted, inputs.query), tree_read(tree, inputs.query), atol=_atol(inputs)
    )


@given(nst.slot_memory_inputs(tree=True))
def test_tree_batch_equals_per_item(inputs: nst.SlotMemoryInputs) -> None:
    """Batched read = per-item reads."""
    read = tree_read(_tree(inputs), inputs.query)
    for index in np.ndindex(inputs.keys.shape[:-2]):
        single = build_tree_memory(
            inputs.keys[index], inputs.values[index], branching=inputs.branching
        )
        assert_close(read[index], tree_read(single, inputs.query[index]), atol=_atol(inputs))


def test_tree_extremes_and_bad_input() -> None:
    """float32 kept; saturated scores still give weights summing to 1; bad shapes are rejected."""
    keys = np.array([[1e4, 0.0], [0.0, 1e4], [-1e4, 0.0], [0.0, -1e4]], dtype=np.float32)
    tree = build_tree_memory(keys, np.eye(4, dtype=np.float32), branching=2)
    weights = tree_leaf_weights(tree, np.array([[1e4, 0.0]], dtype=np.float32))
    assert weights.dtype == np.float32
    # float32 products of a few routing probabilities: ~10 ulps (eps32 ≈ 1.2e-7).
    np.testing.assert_allclose(weights.sum(axis=-1), 1.0, rtol=1e-6)
    assert np.isfinite(weights).all()
    with pytest.raises(ValueError, match="branching\\*\\*L"):
        build_tree_memory(np.ones((6, 2)), np.ones((6, 2)), branching=4)
    with pytest.raises(ValueError, match="branching\\*\\*L"):
        build_tree_memory(np.ones((1, 2)), np.ones((1, 2)), branching=2)
    with pytest.raises(ValueError, match="branching must be at least 2"):
        build_tree_memory(np.ones((4, 2)), np.ones((4, 2)), branching=1)
    with pytest.raises(ValueError, match="must agree"):
        build_tree_memory(np.ones((4, 2)), np.ones((2, 2)), branching=2)
    with pytest.raises(TypeError, match="share one float dtype"):
        build_tree_memory(np.ones((4, 2)), np.ones((4, 2), dtype=np.float32))
    small = build_tree_memory(np.ones((4, 2)), np.ones((4, 3)), branching=2)
    with pytest.raises(ValueError, match=r"leaf must be in \[0, 4\)"):
        tree_write(small, 4, np.ones(2), np.ones(3))
    with pytest.raises(TypeError, match="leaf must be an int index"):
        tree_write(small, 1.0, np.ones(2), np.ones(3))  # type: ignore[arg-type]  # issue 7: no int()
    # Issue 7: a hand-built tree is checked where it is built and stays read-only.
    with pytest.raises(ValueError, match=r"keys\[1\] must have shape"):
        TreeMemory(keys=(np.ones((1, 2)), np.ones((3, 2))), values=np.ones((2, 3)), branching=2)
    with pytest.raises(ValueError, match="read-only"):
        small.values[0, 0] = np.nan
    # Class 3: summaries of keys near the dtype's maximum do not overflow to inf.
    top = np.finfo(np.float64).max
    huge = build_tree_memory(np.full((2, 1), top), np.ones((2, 1)), branching=2)
    assert huge.keys[0][0, 0] == top
    with pytest.raises(ValueError, match="query has 3 features"):
        tree_read(small, np.ones((1, 3)))
    with pytest.raises(TypeError, match="memory must be a TreeMemory"):
        tree_read("tree", np.ones((1, 2)))  # type: ignore[arg-type]  # deliberate misuse
