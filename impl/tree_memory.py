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

Checked edges (issue 7). A ``TreeMemory`` checks itself when built (a tuple
of L + 1 ≥ 2 float key levels of shapes (..., b^ℓ, D_k), leaf values
(..., b^L, D_v), one dtype, finite, b ≥ 2) and keeps read-only private
copies; reads then check only its type, the query and the ``score`` callable
(whose result must be (..., Lq, b^ℓ) in the query's dtype without NaN or +inf,
else a named error). The internal keys of a hand-built tree need not be
means (a learned hierarchical softmax). Summaries of keys near the dtype's
maximum are computed as Σ x/b so the mean cannot overflow. ``tree_path``
accepts depths up to ``MAX_DEPTH``.
"""

from dataclasses import dataclass

import numpy as np

from impl import _numerics as num
from impl import _validation as check
from impl._typing import FloatArray, IntArray, Queries, Vectors, Weights
from impl.scores import ScoreFunction, scaled_dot_product_score

MAX_DEPTH = 64
"""Deepest tree ``tree_path`` accepts: b^64 ≥ 2^64 leaves already exceeds any array."""


@dataclass(frozen=True)
class TreeMemory:
    """Keys of every level (root first, leaves last), leaf values and the branching factor b."""

    keys: tuple[FloatArray, ...]
    values: FloatArray
    branching: int

    def __post_init__(self) -> None:
        b = check.size(self.branching, "branching", low=2, high=2**40)
        given: object = self.keys
        if not isinstance(given, tuple):
            raise TypeError(
                f"keys must be a tuple of key levels (root first), got {type(given).__name__}"
            )
        if len(given) < 2:
            raise ValueError(f"keys must hold L + 1 ≥ 2 levels (root first), got {len(given)}")
        levels = [
            check.float_array(level, f"keys[{i}]", min_ndim=2) for i, level in enumerate(self.keys)
        ]
        v = check.float_array(self.values, "values", min_ndim=2)
        check.same_dtype(**{f"keys[{i}]": k for i, k in enumerate(levels)}, values=v)
        batch, width = levels[0].shape[:-2], levels[0].shape[-1]
        for i, level in enumerate(levels):
            if level.shape != (*batch, b**i, width):
                raise ValueError(
                    f"keys[{i}] must have shape {(*batch, b**i, width)} (b^ℓ nodes of "
                    f"width D_k with branching b = {b}), got {level.shape}"
                )
        if v.shape[:-1] != (*batch, b ** (len(levels) - 1)):
            raise ValueError(
                f"values must have shape (..., N, D_v) with N = b^L for the {len(levels)} "
                f"levels of keys: {(*batch, b ** (len(levels) - 1))} + (D_v,), got {v.shape}"
            )
        if width == 0 or v.shape[-1] == 0:
            raise ValueError(
                f"keys and values need widths ≥ 1, got D_k = {width}, D_v = {v.shape[-1]}"
            )
        object.__setattr__(self, "keys", tuple(check.frozen(level) for level in levels))
        object.__setattr__(self, "values", check.frozen(v))
        object.__setattr__(self, "branching", b)

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
    return _mean_of_children(grouped)


def _mean_of_children(grouped: FloatArray) -> FloatArray:
    """Mean over axis −2; for keys near the dtype's maximum Σ x/b, which cannot overflow."""
    with np.errstate(over="ignore", invalid="ignore"):
        mean: FloatArray = grouped.mean(axis=-2).astype(grouped.dtype)
    if not num.finite_or_none(mean):
        # Note: the sum overflowed; divide first (each term ≤ max/b, so the sum ≤ max).
        mean = (grouped / np.asarray(grouped.shape[-2], grouped.dtype)).sum(axis=-2)
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
    b = check.size(branching, "branching", low=2, high=2**40)
    if k.shape[:-1] != v.shape[:-1]:
        raise ValueError(
            f"leaf_keys has shape {k.shape}, leaf_values {v.shape}: (..., N) must agree"
        )
    if k.shape[-1] == 0 or v.shape[-1] == 0:
        raise ValueError(f"leaf_keys and leaf_values need widths ≥ 1, got {k.shape} and {v.shape}")
    depth = _depth_of(int(k.shape[-2]), b)
    levels = [k.copy()]
    for _ in range(depth):
        levels.append(_summaries(levels[-1], b))
    return TreeMemory(keys=tuple(reversed(levels)), values=v.copy(), branching=b)


def _memory(memory: object) -> TreeMemory:
    # Note: a TreeMemory checked itself when it was built (and is read-only since).
    if not isinstance(memory, TreeMemory):
        raise TypeError(f"memory must be a TreeMemory, got {type(memory).__name__}")
    return memory


def _query(query: object, m: TreeMemory) -> FloatArray:
    q = check.float_array(query, "query", min_ndim=2)
    check.same_dtype(query=q, **{"memory.keys": m.keys[0]})
    check.feature_match("query", q, "memory keys", m.keys[0])
    check.batch_broadcast(query=q, **{"memory.keys": m.keys[0]})
    return q


def _routing(m: TreeMemory, q: FloatArray, score: ScoreFunction) -> tuple[FloatArray, ...]:
    batch = np.broadcast_shapes(q.shape[:-2], m.keys[0].shape[:-2])
    result = []
    for level in m.keys[1:]:
        expected = (*batch, q.shape[-2], level.shape[-2])
        scores = check.returned_array(
            score(q, level), "score (of query and memory keys)", shape=expected, dtype=q.dtype
        )  # (..., Lq, b^ℓ)
        grouped = scores.reshape(*scores.shape[:-1], -1, m.branching)
        probabilities: FloatArray = num.softmax(grouped).reshape(scores.shape)
        result.append(probabilities)
    return tuple(result)


def _leaf_weights(m: TreeMemory, q: FloatArray, score: ScoreFunction) -> FloatArray:
    levels = _routing(m, q, score)
    weights = levels[0]
    for probabilities in levels[1:]:
        weights = np.repeat(weights, m.branching, axis=-1) * probabilities  # parent × p(child)
    return weights


def routing_probabilities(
    memory: TreeMemory, query: Queries, *, score: ScoreFunction = scaled_dot_product_score
) -> tuple[Weights, ...]:
    """For each level ℓ = 1..L: p(child | parent, q) = softmax over the b siblings of s(key, q).

    Book: exercise 8-4 (top-down routing). Shapes: query (..., Lq, D_k) ->
    L arrays (..., Lq, b^ℓ); entry n of level ℓ is the probability of moving
    from node n // b (level ℓ − 1) to node n. Each sibling group sums to 1.
    """
    m = _memory(memory)
    return _routing(m, _query(query, m), check.callable_(score, "score"))


def tree_leaf_weights(
    memory: TreeMemory, query: Queries, *, score: ScoreFunction = scaled_dot_product_score
) -> Weights:
    """Leaf weights w_n(q) = Π over n's path of the routing probabilities (hierarchical softmax).

    Book: exercise 8-4. Shapes: query (..., Lq, D_k) -> (..., Lq, N); ≥ 0, rows sum to 1.
    """
    m = _memory(memory)
    return _leaf_weights(m, _query(query, m), check.callable_(score, "score"))


def tree_read(
    memory: TreeMemory, query: Queries, *, score: ScoreFunction = scaled_dot_product_score
) -> Queries:
    """Soft read Σ_n w_n(q) v_n with the hierarchical-softmax leaf weights.

    Book: exercise 8-4. Shapes: query (..., Lq, D_k) -> (..., Lq, D_v).
    A depth-1 tree (b = N) gives exactly ``impl.attention.key_value_attention``.
    """
    m = _memory(memory)
    weights = _leaf_weights(m, _query(query, m), check.callable_(score, "score"))
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
    q = _query(query, m)
    score = check.callable_(score, "score")
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
        scores = check.returned_array(
            score(q[..., :, None, :], child_keys),
            "score (of query and memory keys)",
            shape=(*batch, q.shape[-2], 1, b),
            dtype=q.dtype,
        )[..., 0, :]  # (..., Lq, b)
        node = np.take_along_axis(children, np.argmax(scores, axis=-1)[..., None], axis=-1)[..., 0]
        chosen.append(node)
    path: IntArray = np.stack(chosen, axis=-1).astype(np.intp)
    return path


def tree_path(leaf: int, branching: int, depth: int) -> tuple[int, ...]:
    """Node indices on the path root → leaf: level ℓ holds node leaf // b^(L − ℓ), ℓ = 0..L.

    Book: exercise 8-4. Assumptions: ints (floats and strings are a
    ``TypeError``), branching ≥ 2, 0 ≤ depth ≤ ``MAX_DEPTH``,
    0 ≤ leaf < branching**depth (else ``ValueError``).
    """
    for name, value in (("leaf", leaf), ("branching", branching), ("depth", depth)):
        if isinstance(value, bool | np.bool_) or not isinstance(value, int | np.integer):
            raise TypeError(f"{name} must be an int, got {type(value).__name__}")
    if depth > MAX_DEPTH:
        raise ValueError(f"depth must be at most MAX_DEPTH = {MAX_DEPTH}, got {depth}")
    if branching < 2 or depth < 0 or not 0 <= leaf < branching**depth:
        raise ValueError(
            f"need branching ≥ 2, depth ≥ 0 and 0 ≤ leaf < branching**depth, got "
            f"leaf={leaf}, branching={branching}, depth={depth}"
        )
    b, L = int(branching), int(depth)
    return _path(int(leaf), b, L)


def _path(leaf: int, b: int, depth: int) -> tuple[int, ...]:
    return tuple(leaf // b ** (depth - level) for level in range(depth + 1))


def tree_write(memory: TreeMemory, leaf: int, key: FloatArray, value: FloatArray) -> TreeMemory:
    """Overwrite leaf ``leaf`` with (key, value) and re-summarise only the nodes on its path.

    Book: exercise 8-4. Shapes: key (..., D_k), value (..., D_v) (batch as the memory's).
    Cost O(b L D_k): each of the L ancestors re-averages its b children.
    """
    m = _memory(memory)
    index = check.index(leaf, m.leaf_count, "leaf")
    k = check.float_array(key, "key", min_ndim=1)
    v = check.float_array(value, "value", min_ndim=1)
    check.same_dtype(key=k, value=v, **{"memory.keys": m.keys[0]})
    check.feature_match("key", k, "memory keys", m.keys[0])
    check.feature_match("value", v, "values", m.values)
    batch = m.values.shape[:-2]
    check.broadcast_to_target(k[..., None, :], "key", (*batch, 1, k.shape[-1]), what="the memory")
    check.broadcast_to_target(v[..., None, :], "value", (*batch, 1, v.shape[-1]), what="the memory")
    keys = [level.copy() for level in m.keys]
    values = m.values.copy()
    keys[-1][..., index, :] = k
    values[..., index, :] = v
    path = _path(index, m.branching, m.depth)
    b = m.branching
    for level in range(m.depth - 1, -1, -1):  # leaves' parents up to the root
        node = path[level]
        children = keys[level + 1][..., node * b : (node + 1) * b, :]
        keys[level][..., node, :] = _mean_of_children(children)
    return TreeMemory(keys=tuple(keys), values=values, branching=b)
