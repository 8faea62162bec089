"""External memory as a stack, queue, deque, set or tree: how they differ (exercise 8-4, §8.5).

The book leaves exercise 8-4 open; this is our answer. Five organisations are
built in ``impl`` (``neural_stack``: stack/queue/deque after Grefenstette et
al. 2015; ``set_memory``: masked key-value attention; ``tree_memory``:
hierarchical softmax over a b-ary tree) and compared on five axes: access
discipline, which slots a read can reach, invariances, cost per operation and
differentiability. Every cell of the final table is checked on concrete runs
of the implementations (small sizes, said so), and the cost formulas are
summed by sympy and compared with counted work.
"""

from collections.abc import Callable

import numpy as np
import sympy

from impl._typing import FloatArray
from impl.neural_stack import (
    ContinuousMemoryState,
    deque_step,
    empty_memory,
    queue_step,
    read_weights_from_top,
    stack_step,
)
from impl.scores import scaled_dot_product_score
from impl.set_memory import (
    empty_set_memory,
    set_memory_read,
    set_memory_weights,
    set_memory_write,
)
from impl.tree_memory import (
    build_tree_memory,
    tree_greedy_path,
    tree_leaf_weights,
    tree_read,
    tree_write,
)
from proofs._narrate import Derivation

_A, _B, _C = (np.array([1.0, 0.0]), np.array([0.0, 1.0]), np.array([-1.0, 0.0]))


def _counting(counter: list[int]) -> Callable[[FloatArray, FloatArray], FloatArray]:
    """A scaled dot-product score that records how many keys each call scores."""

    def score(query: FloatArray, keys: FloatArray) -> FloatArray:
        counter.append(int(keys.shape[-2]))
        return scaled_dot_product_score(query, keys)

    return score


def _pushed(step: Callable[..., tuple[object, FloatArray]], values: list[FloatArray]) -> FloatArray:
    state = empty_memory(2)
    read = np.zeros(2)
    for value in values:
        state, read = step(state, value, 1.0, 0.0)  # type: ignore[assignment]  # same state type
    return read


UNIT = 8
"""Strengths in the enumeration checks are multiples of 1/8: exact in binary floating point,
so the continuous structures can be compared with a unit-by-unit count by equality."""


def _pop_units(units: list[int], count: int, *, from_top: bool) -> list[int]:
    """Remove ``count`` units of strength one at a time from the newest (oldest) row holding any."""
    rows = list(units)
    order = range(len(rows) - 1, -1, -1) if from_top else range(len(rows))
    for _ in range(count):
        for i in order:
            if rows[i] > 0:
                rows[i] -= 1
                break
    return rows


def _read_units(units: list[int], *, from_top: bool) -> list[float]:
    """The weights of the one unit of strength nearest the top (bottom), gathered row by row."""
    weights, need = [0] * len(units), UNIT
    order = range(len(units) - 1, -1, -1) if from_top else range(len(units))
    for i in order:
        weights[i] = min(units[i], need)
        need -= weights[i]
    return [w / UNIT for w in weights]


def _state_of(units: list[int], width: int) -> ContinuousMemoryState:
    """A continuous state whose row i holds the one-hot value e_i with strength units[i]/8."""
    return ContinuousMemoryState(
        values=np.eye(len(units), width), strengths=np.array(units, dtype=float) / UNIT
    )


def _padded(weights: list[float], width: int) -> FloatArray:
    return np.array(weights + [0.0] * (width - len(weights)))


def _enumerated_step(
    units: list[int], pop: int, push: int, *, queue: bool
) -> tuple[list[int], list[float]]:
    """Stack (queue) step in units: pop at the top (bottom), push on top, read the top (bottom)."""
    after = [*_pop_units(units, pop, from_top=not queue), push]
    return after, _read_units(after, from_top=not queue)


def _discipline_cases_hold(step: Callable[..., tuple[object, FloatArray]], *, queue: bool) -> bool:
    """Compare ``step`` (stack_step or queue_step) with ``_enumerated_step`` on fixed cases."""
    width = 8
    for units, pop, push in STACK_CASES:
        try:
            state, read = step(
                _state_of(units, width), np.eye(width)[len(units)], push / UNIT, pop / UNIT
            )
        except ValueError:  # e.g. a strength outside [0, 1]: not the enumerated result
            return False
        after, weights = _enumerated_step(units, pop, push, queue=queue)
        strengths = state.strengths  # type: ignore[attr-defined]  # a ContinuousMemoryState
        if not (
            np.array_equal(strengths, np.array(after) / UNIT)
            and np.array_equal(read, _padded(weights, width))
        ):
            return False
    return True


STACK_CASES: tuple[tuple[list[int], int, int], ...] = (
    ([6, 8, 3, 2, 1], 7, 5),  # the pop spans four rows
    ([6, 8, 3, 2, 1], 8, 0),  # a whole unit popped, nothing pushed
    ([6, 8, 3, 2, 1], 3, 8),
    ([8, 8, 8], 0, 2),  # the read takes part of the new row, the rest from below
    ([1, 2], 8, 4),  # popping more than there is empties the structure
)
"""(strengths in eighths, bottom → top; pop and push in eighths) for the enumeration checks."""

DEQUE_CASES: tuple[tuple[list[int], int, int, int, int], ...] = (
    ([6, 8, 3, 2, 1], 7, 5, 4, 8),
    ([6, 8, 3, 2, 1], 8, 8, 0, 0),
    ([2, 8, 3], 2, 0, 8, 3),
)
"""(strengths, pop top, pop bottom, push top, push bottom), all in eighths."""


def _deque_cases_hold() -> bool:
    """deque_step against the unit-by-unit deque: pops at both ends, pushes at both ends."""
    width = 8
    for units, pop_top, pop_bottom, push_top, push_bottom in DEQUE_CASES:
        eye = np.eye(width)
        try:
            state, reads = deque_step(
                _state_of(units, width),
                value_top=eye[len(units) + 1],
                value_bottom=eye[len(units)],
                push_top=push_top / UNIT,
                pop_top=pop_top / UNIT,
                push_bottom=push_bottom / UNIT,
                pop_bottom=pop_bottom / UNIT,
            )
        except ValueError:  # e.g. a strength outside [0, 1]: not the enumerated result
            return False
        popped = _pop_units(_pop_units(units, pop_top, from_top=True), pop_bottom, from_top=False)
        after = [push_bottom, *popped, push_top]
        # Row i of the new state holds value e_{order[i]}: the bottom push is e_T, the rest shift.
        order = [len(units), *range(len(units)), len(units) + 1]
        expected_top = np.zeros(width)
        expected_bottom = np.zeros(width)
        for row, (top_w, bottom_w) in enumerate(
            zip(_read_units(after, from_top=True), _read_units(after, from_top=False), strict=True)
        ):
            expected_top[order[row]] += top_w
            expected_bottom[order[row]] += bottom_w
        if not (
            np.array_equal(state.strengths, np.array(after) / UNIT)
            and np.array_equal(reads.top, expected_top)
            and np.array_equal(reads.bottom, expected_bottom)
        ):
            return False
    return True


def main() -> None:
    """Compare the five organisations and check each claim on concrete runs."""
    proof = Derivation(
        "Exercise 8-4: external memories organised as a stack, queue, deque, set and tree",
        "exercise 8-4 (left open by the book), §8.5; Grefenstette et al. 2015",
    )
    T, C, N, b, D = sympy.symbols("T C N b D", positive=True, integer=True)
    level, depth = sympy.symbols("l L", positive=True, integer=True)
    proof.claim(
        sympy.Matrix(
            [
                [sympy.Symbol(label) for label in ("memory", "read", "write")],
                [sympy.Symbol("stack/queue"), T * D, T * D],
                [sympy.Symbol("deque"), T * D, T * D],
                [sympy.Symbol("set"), C * D, D + C],
                [sympy.Symbol("tree"), b * (N - 1) / (b - 1) * D, b * sympy.log(N, b) * D],
            ]
        ),
        "work per read and per write, row by row: stack/queue "
        "(T rows after T steps; read and write are one step), deque (the same, 2 rows a "
        "step), set (C slots: attention read, write into a free slot), tree (N = b^L leaves: "
        "soft read over all nodes; the write re-summarises one path; a greedy read costs "
        "b·L·D). The access disciplines differ (LIFO, FIFO, both ends, none, coarse-to-fine).",
    )

    # ---- 1. Access discipline -------------------------------------------------------------
    proof.step("Access discipline: push a, b, c (strength 1) and read")
    proof.check_true(
        "stack (LIFO): reads c, the last pushed",
        np.array_equal(_pushed(stack_step, [_A, _B, _C]), _C),
        strength="numeric",
    )
    proof.check_true(
        "queue (FIFO): reads a, the first pushed",
        np.array_equal(_pushed(queue_step, [_A, _B, _C]), _A),
        strength="numeric",
    )
    state = empty_memory(2)
    top_reads, bottom_reads = [], []
    for value in (_A, _B):
        state, reads = deque_step(
            state,
            value_top=value,
            value_bottom=np.zeros(2),
            push_top=1.0,
            pop_top=0.0,
            push_bottom=0.0,
            pop_bottom=0.0,
        )
        top_reads.append(reads.top)
        bottom_reads.append(reads.bottom)
    proof.check_true(
        "deque (both ends): top read b, bottom read a",
        np.array_equal(top_reads[-1], _B) and np.array_equal(bottom_reads[-1], _A),
        strength="numeric",
    )
    set_mem = empty_set_memory(4, 2, 2)  # one slot stays free
    for value in (_A, _B, _C):
        set_mem = set_memory_write(set_mem, value, value)
    query = 8 * _B[None, :]
    proof.check_true(
        "set (no order, by content): a query near b reads mostly b, whatever the write order",
        float(set_memory_read(set_mem, query)[0] @ _B) > 0.9,
        strength="numeric",
    )
    proof.check_true(
        "set write fills the first free slot: after writing a, b, c into 4 empty slots, slots "
        "0-2 hold a, b, c and slot 3 is free",
        np.array_equal(set_mem.keys[:3], np.stack([_A, _B, _C]))
        and np.array_equal(set_mem.occupied, [True, True, True, False]),
        strength="numeric",
    )
    by_hand = np.exp(set_mem.keys[:3] @ query[0] / np.sqrt(2))
    proof.check_true(
        "set weights = softmax of q·k_n/√D over the occupied slots only, computed by hand "
        "(exp and sum), 0 on the free slot; to 1e-12 (two evaluations of one 3-term softmax: a "
        "few roundings, γ_8 ≈ 1e-15)",
        np.allclose(
            set_memory_weights(set_mem, query)[0],
            np.append(by_hand / by_hand.sum(), 0.0),
            rtol=0,
            atol=1e-12,
        ),
        strength="numeric",
    )
    rng = np.random.default_rng(0)
    leaf_keys = rng.standard_normal((8, 2))
    leaf_values = np.eye(8)
    tree = build_tree_memory(leaf_keys, leaf_values, branching=2)
    sharp = 50 * leaf_keys[5:6]
    path = tree_greedy_path(tree, sharp)
    proof.check_true(
        "tree (coarse to fine): greedy routing descends root → subtree → leaf; each chosen "
        "node is a child of the previous one",
        bool(np.all(path[0, 1:] // 2 == path[0, :-1])),
        strength="numeric",
    )

    proof.check_true(
        "tree keys: the root summarises all 8 leaves (their mean), to 1e-12 (means of 8 "
        "numbers, γ_8 ≈ 1e-15)",
        np.allclose(tree.keys[0][0], leaf_keys.mean(axis=0), rtol=0, atol=1e-12),
        strength="numeric",
    )
    by_hand_path, node = [], 0
    for level_keys in tree.keys[1:]:
        children = node * 2 + np.arange(2)
        node = int(children[np.argmax(level_keys[children] @ sharp[0] / np.sqrt(2))])
        by_hand_path.append(node)
    proof.check_true(
        f"tree greedy read: the path {path[0].tolist()} is the one found by hand, taking at "
        "each node the child (2n, 2n + 1) of larger q·k/√D",
        path[0].tolist() == by_hand_path,
        strength="numeric",
    )

    proof.step(
        "Pops and reads, against a unit-by-unit enumeration: strength is a pile of units "
        "(here eighths); a stack pops units one at a time from the newest row that has any "
        "and reads the unit nearest the top; a queue pops and reads at the oldest end; a "
        "deque pops at both ends and pushes at both (Grefenstette et al. 2015, §3)"
    )
    proof.check_true(
        "stack_step equals the enumeration (new strengths and read) on "
        f"{len(STACK_CASES)} cases: pops spanning several rows, over-pops, partial reads",
        _discipline_cases_hold(stack_step, queue=False),
        strength="finite",
    )
    proof.check_true(
        f"queue_step equals the enumeration (popped and read at the oldest end) on the same "
        f"{len(STACK_CASES)} cases",
        _discipline_cases_hold(queue_step, queue=True),
        strength="finite",
    )
    proof.check_true(
        f"deque_step equals the enumeration (pop top, pop bottom, push both, read both ends) "
        f"on {len(DEQUE_CASES)} cases",
        _deque_cases_hold(),
        strength="finite",
    )

    # ---- 2. What a read can reach -------------------------------------------------------------
    proof.step("Which slots can a read see? (weights of a read on concrete states)")
    stack_weights = read_weights_from_top(np.array([1.0, 1.0, 1.0]))
    proof.check_true(
        "stack with three full rows: only the top row has read weight (the top unit of "
        "strength); deeper rows are unreachable until popped",
        np.array_equal(stack_weights, [0.0, 0.0, 1.0]),
        strength="numeric",
    )
    set_weights = set_memory_weights(set_mem, query)
    proof.check_true(
        "set (3 items in 4 slots): every occupied slot has weight > 0 (softmax), the free "
        "slot exactly 0",
        bool((set_weights[:, :3] > 0).all()) and bool((set_weights[:, 3] == 0).all()),
        strength="numeric",
    )
    soft = tree_leaf_weights(tree, sharp)
    proof.check_true(
        "tree, soft read: every leaf has weight > 0, and the weights sum to 1",
        bool((soft > 0).all()) and abs(float(soft.sum()) - 1) < 1e-12,
        strength="numeric",
    )
    probe_query = rng.standard_normal(2)
    product = np.ones(8)
    for leaf in range(8):
        for ell in range(1, 4):  # level ℓ of depth L = 3: the ancestor leaf // 2^(3 − ℓ)
            ancestor = leaf // 2 ** (3 - ell)
            siblings = ancestor // 2 * 2 + np.arange(2)
            scores = tree.keys[ell][siblings] @ probe_query / np.sqrt(2)
            product[leaf] *= np.exp(scores[ancestor % 2]) / np.exp(scores).sum()
    proof.check_true(
        "tree, soft read: each leaf's weight is the product, root to leaf, of the softmax over "
        "siblings of q·k/√D at each ancestor (computed by hand), to 1e-12 (products of 3 "
        "softmaxes of 2 terms: a few dozen roundings, ≲ 1e-14)",
        np.allclose(tree_leaf_weights(tree, probe_query[None, :])[0], product, rtol=0, atol=1e-12),
        strength="numeric",
    )
    proof.check_true(
        "tree, greedy read: exactly one leaf (a hard, O(log N) access)",
        path.shape == (1, 3),
        strength="numeric",
    )

    # ---- 3. Invariances -----------------------------------------------------------------------
    proof.step("Invariances: reorder the items and compare the reads")
    proof.check_true(
        "stack and queue are order-sensitive: pushing a, b or b, a reads differently",
        not np.array_equal(_pushed(stack_step, [_A, _B]), _pushed(stack_step, [_B, _A]))
        and not np.array_equal(_pushed(queue_step, [_A, _B]), _pushed(queue_step, [_B, _A])),
        strength="numeric",
    )
    reversed_set = empty_set_memory(4, 2, 2)
    for value in (_C, _B, _A):
        reversed_set = set_memory_write(reversed_set, value, value)
    probe = rng.standard_normal((4, 2))
    proof.check_true(
        "set: writing a, b, c or c, b, a gives the same reads (permutation invariant); the "
        "weights move with the slots (equivariant)",
        np.allclose(set_memory_read(set_mem, probe), set_memory_read(reversed_set, probe))
        and np.allclose(
            set_memory_weights(set_mem, probe)[:, :3],
            set_memory_weights(reversed_set, probe)[:, 2::-1],
        ),
        strength="numeric",
    )
    swapped_subtrees = build_tree_memory(
        np.concatenate([leaf_keys[4:], leaf_keys[:4]]),
        np.concatenate([leaf_values[4:], leaf_values[:4]]),
        branching=2,
    )
    proof.check_true(
        "tree: swapping the two subtrees of the root moves the weights with the leaves, so "
        "the read is unchanged",
        np.allclose(tree_read(tree, probe), tree_read(swapped_subtrees, probe)),
        strength="numeric",
    )
    crossed = np.arange(8)
    crossed[[0, 4]] = crossed[[4, 0]]  # exchange leaves across the root's subtrees
    crossed_tree = build_tree_memory(leaf_keys[crossed], leaf_values[crossed], branching=2)
    proof.check_true(
        "tree: exchanging two leaves across subtrees changes the summaries and the read — "
        "a tree is invariant only under permutations of siblings",
        not np.allclose(tree_read(tree, probe), tree_read(crossed_tree, probe)),
        strength="numeric",
    )

    # ---- 4. Cost per operation ----------------------------------------------------------------
    proof.step("Cost: count the keys scored and rows touched, and sum the formulas with sympy")
    m = sympy.Symbol("m", integer=True, nonnegative=True)  # b = m + 2 ≥ 2: no b = 1 case
    soft_nodes = sympy.simplify(sympy.Sum((m + 2) ** level, (level, 1, depth)).doit()).subs(
        m, b - 2
    )
    proof.check_equal(
        "nodes scored by a soft read: Σ_{ℓ=1}^{L} b^ℓ = b(N − 1)/(b − 1) with N = b^L (sympy Sum)",
        soft_nodes,
        b * (b**depth - 1) / (b - 1),
        strength="symbolic",
    )
    counter: list[int] = []
    tree_leaf_weights(tree, sharp, score=_counting(counter))
    proof.check_true(
        "tree soft read, b = 2, L = 3 (concrete run): 14 keys scored, as the sum gives",
        sum(counter) == int(soft_nodes.subs({b: 2, depth: 3})) == 14,
        strength="finite",
    )
    counter.clear()
    tree_greedy_path(tree, sharp, score=_counting(counter))
    proof.check_true(
        "tree greedy read: b·L = 2·3 = 6 keys scored", sum(counter) == 6, strength="finite"
    )
    new_tree = tree_write(tree, 3, np.ones(2), np.zeros(8))
    rebuilt_keys, rebuilt_values = leaf_keys.copy(), leaf_values.copy()
    rebuilt_keys[3], rebuilt_values[3] = np.ones(2), np.zeros(8)
    rebuilt = build_tree_memory(rebuilt_keys, rebuilt_values, branching=2)
    proof.check_true(
        "tree write of leaf 3 gives the tree built from scratch with that leaf replaced (every "
        "level's keys to 1e-12, means of ≤ 8 numbers; values equal)",
        all(
            np.allclose(a, b, rtol=0, atol=1e-12)
            for a, b in zip(new_tree.keys, rebuilt.keys, strict=True)
        )
        and np.array_equal(new_tree.values, rebuilt.values),
        strength="numeric",
    )
    changed = sum(
        int((before != after).any(axis=-1).sum())
        for before, after in zip(tree.keys, new_tree.keys, strict=True)
    )
    proof.check_true(
        "tree write: L + 1 = 4 nodes change (one path)", changed == 4, strength="finite"
    )
    counter.clear()
    set_memory_weights(set_mem, query, score=_counting(counter))
    proof.check_true(
        "set read: all C = 4 slots scored (free ones masked after)",
        counter == [4],
        strength="finite",
    )
    stack_state = empty_memory(2)
    rows = []
    for t in range(6):
        stack_state, _ = stack_step(stack_state, np.full(2, float(t)), 0.7, 0.2)
        rows.append(int(stack_state.strengths.shape[-1]))
    total_rows = sympy.Sum(level, (level, 1, T)).doit()
    proof.check_true(
        "stack: step t touches t rows (T grows by one per step, never shrinks), Σ_{t=1}^{T} t "
        "= T(T + 1)/2 over T = 6 steps (sympy Sum)",
        rows == [1, 2, 3, 4, 5, 6] and sum(rows) == int(total_rows.subs(T, 6)),
        strength="finite",
    )

    # ---- 5. Differentiability -----------------------------------------------------------------
    proof.step("Differentiability: finite differences on concrete runs")
    base_state = empty_memory(2)
    for value in (_A, _B):
        base_state, _ = stack_step(base_state, value, 0.6, 0.0)
    grid = np.linspace(0.0, 1.0, 201)
    stack_reads = np.array([stack_step(base_state, _C, x, 0.3)[1] for x in grid])
    steps = np.abs(np.diff(stack_reads, axis=0)).max()
    kinks = np.abs(np.diff(stack_reads, n=2, axis=0)).max()
    proof.check_true(
        "stack: read is Lipschitz in d (max change 2·δ·max|v| on a 201-point sweep) but has "
        "kinks (piecewise linear: max/min) — differentiable almost everywhere",
        steps <= 2 * (grid[1] - grid[0]) + 1e-12 and kinks > 1e-6,
        strength="numeric",
    )
    directions = np.linspace(0.0, 2 * np.pi, 400)
    sweep = 4 * np.stack([np.cos(directions), np.sin(directions)], axis=-1)
    set_sweep = set_memory_read(set_mem, sweep)
    soft_sweep = tree_read(tree, sweep)
    greedy_leaf = tree_greedy_path(tree, sweep)[:, -1]
    proof.check_true(
        "set and soft tree reads are smooth in the query (softmax): small steps on a circle "
        "of queries give small changes",
        np.abs(np.diff(set_sweep, axis=0)).max() < 0.2
        and np.abs(np.diff(soft_sweep, axis=0)).max() < 0.2,
        strength="numeric",
    )
    greedy_sweep = leaf_values[greedy_leaf]  # the greedy read: the chosen leaf's value
    proof.check_true(
        "greedy tree read jumps (argmax): along the same circle the read changes by ≥ 1 in one "
        "small step (a new leaf is chosen), so it has no useful gradient — train the soft "
        "read, use the greedy one at inference",
        np.abs(np.diff(greedy_sweep, axis=0)).max() >= 1,
        strength="numeric",
    )

    proof.note("")
    header = (
        "organisation",
        "discipline",
        "a read sees",
        "invariant under",
        "read / write",
        "smooth",
    )
    table = [
        ("stack", "LIFO", "top unit of strength", "nothing", "O(TD) / O(TD)", "a.e. (max/min)"),
        ("queue", "FIFO", "bottom unit", "nothing", "O(TD) / O(TD)", "a.e. (max/min)"),
        ("deque", "both ends", "top and bottom units", "nothing", "O(TD) / O(TD)", "a.e."),
        ("set", "none (content)", "all occupied slots", "any permutation", "O(CD) / O(C+D)", "yes"),
        (
            "tree, soft",
            "coarse→fine",
            "all leaves, L routings",
            "sibling perms",
            "O(ND) / O(bDL)",
            "yes",
        ),
        (
            "tree, greedy",
            "coarse→fine",
            "one leaf",
            "sibling perms",
            "O(bDL) / O(bDL)",
            "no (argmax)",
        ),
    ]
    widths = [max(len(row[i]) for row in (header, *table)) for i in range(len(header))]
    for row in (header, *table):
        proof.note("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)))
    proof.note("")
    proof.note(
        "T = steps so far (the stack family never frees rows), C = slots, N = b^L leaves "
        "(L = log_b N), D = width; 'nothing' = order matters."
    )
    proof.qed()


if __name__ == "__main__":
    main()
