"""Tree memory: a hierarchical external memory read by top-down soft routing (exercise 8-4).

Book: exercise 8-4 (external memory organised as a tree); §8.2 (attention
distribution); §8.2.1 (hierarchical attention pools upwards; this routes
downwards). The read is a hierarchical softmax (Morin & Bengio 2005) over the
leaves.

Structure. A complete b-ary tree of depth L ≥ 1 with N = b^L leaves. Leaf n
holds a key and a value; every internal node holds a *summary key*, the mean
of its children's keys (so the root summarises everything). A query q is
routed from the root: at an internal node the probability of going to child
c is softmax_c(s(key_c, q)) over its b children. The weight of a leaf is the
product of the L routing probabilities on its root-to-leaf path, and

    read(q) = Σ_n w_n(q) v_n,   Σ_n w_n(q) = 1,   w_n ≥ 0.

Facts (tested): the weights sum to 1 (each routing step is a distribution);
a depth-1 tree (b = N) is flat key-value attention over the leaves; a write
to leaf n changes only the L + 1 nodes on n's path (O(b L D) work to
re-summarise); greedy routing (argmax at each node) touches b·L = b log_b N
keys instead of N. A soft read still evaluates every node (O(N) scores, like
flat attention), but every leaf weight depends on only L routing decisions.
# Note: in a learned hierarchical softmax the internal nodes have their own
# trained vectors; here a summary is the mean of its children's keys, so the
# memory works without training and a write keeps the summaries consistent.
# With mean summaries the tree read is not flat attention for L ≥ 2.

Shapes (rows): level ℓ of ``keys`` is (..., b^ℓ, D_k) for ℓ = 0..L (level 0
the root, level L the leaves); the node j of level ℓ has children
j·b .. j·b + b − 1 on level ℓ + 1. ``values`` (..., N, D_v). Queries
(..., Lq, D_k). Leading axes are batch axes. Functions return new arrays.
"""

from dataclasses import dataclass

import numpy as np

from impl import _validation as check
from impl._typing import FloatArray, IntArray, Queries, Vectors, Weights
from impl.scores import ScoreFunction, scaled_dot_product_score
from impl.softmax import softmax


@dataclass(frozen=True)
class TreeMemory:
    """Keys of every level (root first, leaves last), leaf values and the branching factor b."""

    keys: tuple[FloatArray, ...]
    values: FloatArray
    branching: int

    @property
    def depth(self) -> int:
        """L, the number of routing steps from the root to a leaf."""
        return len(self.keys) - 1

    @property
    def leaf_count(self) -> int:
        """N = b^L."""
        return int(self.values.shape[-2])


def _summaries(children: FloatArray, branching: int) -> FloatArray:
    """Mean of each group of b consecutive child keys: (..., M·b, D) -> (..., M, D)."""
    grouped = children.reshape(*children.shape[:-2], children.shape[-2] // branching, branching, -1)
    mean: FloatArray = grouped.mean(axis=-2).astype(children.dtype)
    return mean


def _depth_of(leaf_count: int, branching: int) -> int:
    if branching < 2:  # also guards the loop below, which would never end for b = 1
        raise ValueError(f"branching must be at least 2, got {branching}")
    depth, size = 0, 1
    while size < leaf_count:
        size *= branching
        depth += 1
    if size != leaf_count or depth == 0:
        raise ValueError(
            f"the number of leaves must be branching**L with L ≥ 1; got {leaf_count} leaves "
            f"and branching {branching}"
        )
    return depth


def build_tree_memory(
    leaf_keys: Vectors, leaf_values: Vectors, *, branching: int = 2
) -> TreeMemory:
    """Build the tree over N = b^L leaves: each internal key is the mean of its children's keys.

    Book: exercise 8-4. Shapes: leaf_keys (..., N, D_k), leaf_values (..., N, D_v).
    Assumptions: b ≥ 2 and N a power of b (b = N gives a depth-1 tree, i.e. flat attention).
    """
    k = check.float_array(leaf_keys, "leaf_keys", min_ndim=2)
    v = check.float_array(leaf_values, "leaf_values", min_ndim=2)
    check.same_dtype(leaf_keys=k, leaf_values=v)
    b = check.positive_int(branching, "branching")
    if b < 2:
        raise ValueError(f"branching must be at least 2, got {b}")
    if k.shape[:-1] != v.shape[:-1]:
        raise ValueError(
            f"leaf_keys has shape {k.shape}, leaf_values {v.shape}: (..., N) must agree"
        )
    depth = _depth_of(int(k.shape[-2]), b)
    levels = [k.copy()]
    for _ in range(depth):
        levels.append(_summaries(levels[-1], b))
    return TreeMemory(keys=tuple(reversed(levels)), values=v.copy(), branching=b)


def _memory(memory: object) -> TreeMemory:
    if not isinstance(memory, TreeMemory):
        raise TypeError(f"memory must be a TreeMemory, got {type(memory).__name__}")
    return memory


def routing_probabilities(
    memory: TreeMemory, query: Queries, *, score: ScoreFunction = scaled_dot_product_score
) -> tuple[Weights, ...]:
    """For each level ℓ = 1..L: p(child | parent, q) = softmax over the b siblings of s(key, q).

    Book: exercise 8-4 (top-down routing). Shapes: query (..., Lq, D_k) ->
    L arrays (..., Lq, b^ℓ); entry n of level ℓ is the probability of moving
    from node n // b (level ℓ − 1) to node n. Each sibling group sums to 1.
    """
    m = _memory(memory)
    q = check.float_array(query, "query", min_ndim=2)
    check.same_dtype(query=q, **{"memory.keys": m.keys[0]})
    check.feature_match("query", q, "memory keys", m.keys[0])
    result = []
    for level in m.keys[1:]:
        scores = score(q, level)  # (..., Lq, b^ℓ)
        grouped = scores.reshape(*scores.shape[:-1], -1, m.branching)
        probabilities: FloatArray = softmax(grouped).reshape(scores.shape)
        result.append(probabilities)
    return tuple(result)


def tree_leaf_weights(
    memory: TreeMemory, query: Queries, *, score: ScoreFunction = scaled_dot_product_score
) -> Weights:
    """Leaf weights w_n(q) = Π over n's path of the routing probabilities (hierarchical softmax).

    Book: exercise 8-4. Shapes: query (..., Lq, D_k) -> (..., Lq, N); ≥ 0, rows sum to 1.
    """
    m = _memory(memory)
    levels = routing_probabilities(m, query, score=score)
    weights = levels[0]
    for probabilities in levels[1:]:
        weights = np.repeat(weights, m.branching, axis=-1) * probabilities  # parent × p(child)
    return weights


def tree_read(
    memory: TreeMemory, query: Queries, *, score: ScoreFunction = scaled_dot_product_score
) -> Queries:
    """Soft read Σ_n w_n(q) v_n with the hierarchical-softmax leaf weights.

    Book: exercise 8-4. Shapes: query (..., Lq, D_k) -> (..., Lq, D_v).
    A depth-1 tree (b = N) gives exactly ``impl.attention.key_value_attention``.
    """
    m = _memory(memory)
    weights = tree_leaf_weights(m, query, score=score)
    read: FloatArray = weights @ m.values
    return read


def tree_greedy_path(
    memory: TreeMemory, query: Queries, *, score: ScoreFunction = scaled_dot_product_score
) -> IntArray:
    """Hard routing: at each node go to the child of highest score; node index per level.

    Book: exercise 8-4 (hard, O(b log_b N) access). Shapes: query (..., Lq, D_k)
    -> (..., Lq, L); entry ℓ − 1 is the chosen node on level ℓ (the last one is
    the leaf). Ties go to the lowest index. Scores only the b children of the
    nodes on the path: b·L keys in all.
    """
    m = _memory(memory)
    q = check.float_array(query, "query", min_ndim=2)
    check.same_dtype(query=q, **{"memory.keys": m.keys[0]})
    check.feature_match("query", q, "memory keys", m.keys[0])
    b = m.branching
    batch = np.broadcast_shapes(q.shape[:-2], m.keys[0].shape[:-2])
    node = np.zeros((*batch, q.shape[-2]), dtype=np.intp)
    chosen = []
    for level in m.keys[1:]:
        children = node[..., None] * b + np.arange(b)  # (..., Lq, b) indices on this level
        level_b = np.broadcast_to(level, (*batch, *level.shape[-2:]))
        child_keys = np.take_along_axis(
            level_b[..., None, :, :], children[..., None], axis=-2
        )  # (..., Lq, b, D)
        scores = score(q[..., :, None, :], child_keys)[..., 0, :]  # (..., Lq, b)
        node = np.take_along_axis(children, np.argmax(scores, axis=-1)[..., None], axis=-1)[..., 0]
        chosen.append(node)
    path: IntArray = np.stack(chosen, axis=-1).astype(np.intp)
    return path


def tree_path(leaf: int, branching: int, depth: int) -> tuple[int, ...]:
    """Node indices on the path root → leaf: level ℓ holds node leaf // b^(L − ℓ), ℓ = 0..L."""
    for name, value in (("leaf", leaf), ("branching", branching), ("depth", depth)):
        if isinstance(value, bool) or not isinstance(value, int | np.integer):
            raise TypeError(f"{name} must be an int, got {type(value).__name__}")
    if branching < 2 or depth < 0 or not 0 <= leaf < branching**depth:
        raise ValueError(
            f"need branching ≥ 2, depth ≥ 0 and 0 ≤ leaf < branching**depth, got "
            f"leaf={leaf}, branching={branching}, depth={depth}"
        )
    return tuple(leaf // branching ** (depth - level) for level in range(depth + 1))


def tree_write(memory: TreeMemory, leaf: int, key: FloatArray, value: FloatArray) -> TreeMemory:
    """Overwrite leaf ``leaf`` with (key, value) and re-summarise only the nodes on its path.

    Book: exercise 8-4. Shapes: key (..., D_k), value (..., D_v) (batch as the memory's).
    Cost O(b L D_k): each of the L ancestors re-averages its b children.
    """
    m = _memory(memory)
    index = int(leaf)
    if not 0 <= index < m.leaf_count:
        raise ValueError(f"leaf must be in 0..{m.leaf_count - 1}, got {leaf}")
    k = check.float_array(key, "key", min_ndim=1)
    v = check.float_array(value, "value", min_ndim=1)
    check.same_dtype(key=k, value=v, **{"memory.keys": m.keys[0]})
    check.feature_match("key", k, "memory keys", m.keys[0])
    check.feature_match("value", v, "memory.values", m.values)
    keys = [level.copy() for level in m.keys]
    values = m.values.copy()
    keys[-1][..., index, :] = k
    values[..., index, :] = v
    path = tree_path(index, m.branching, m.depth)
    b = m.branching
    for level in range(m.depth - 1, -1, -1):  # leaves' parents up to the root
        node = path[level]
        children = keys[level + 1][..., node * b : (node + 1) * b, :]
        keys[level][..., node, :] = children.mean(axis=-2)
    return TreeMemory(keys=tuple(keys), values=values, branching=b)
