"""Adversarial cases for the memory family (issue 7): one valid call per public callable.

Modules: ``impl.memory_network``, ``impl.neural_turing_machine``,
``impl.neural_stack``, ``impl.set_memory``, ``impl.tree_memory``. The harness
(``tests/test_adversarial.py``) perturbs one argument of each call at a time and
requires a named error or one of the ``DOCUMENTED`` results below.

The factories use float32 arrays where a scalar is involved, so that scalars
are checked in the dtype they are used in (β, g, γ, push/pop strengths,
bandwidth of 1e39 or 1e-320). Each ``DOCUMENTED`` entry cites the docstring
sentence that defines the result.
"""

import dataclasses
from collections.abc import Callable
from typing import Any

import numpy as np

from impl import memory_network as mn
from impl import neural_stack as ns
from impl import neural_turing_machine as ntm
from impl import set_memory as sm
from impl import tree_memory as tm
from impl.scores import scaled_dot_product_score

F32 = np.float32
F64 = np.float64
Array = np.ndarray[Any, Any]


def _normal(shape: tuple[int, ...], seed: int, dtype: Any = F32, scale: float = 1.0) -> Array:
    return (scale * np.random.default_rng(seed).normal(size=shape)).astype(dtype)


def _distribution(n: int, seed: int, dtype: Any = F32) -> Array:
    w = np.random.default_rng(seed).random(n) + 0.1
    result: Array = (w / w.sum()).astype(dtype)
    return result


def _unit(shape: tuple[int, ...], seed: int, dtype: Any = F32) -> Array:
    return np.random.default_rng(seed).random(shape).astype(dtype)


# --------------------------------------------------------------------------- predicates


def _held(result: object) -> list[Array]:
    if isinstance(result, tuple | list):
        return [a for item in result for a in _held(item)]
    if dataclasses.is_dataclass(result) and not isinstance(result, type):
        return [a for f in dataclasses.fields(result) for a in _held(getattr(result, f.name))]
    return [result] if isinstance(result, np.ndarray) else []


def _finite(result: object) -> bool:
    """The documented result: the call succeeds and every float it returns is finite."""
    return all(bool(np.isfinite(a).all()) for a in _held(result) if a.dtype.kind == "f") and bool(
        _held(result) or isinstance(result, int | tuple)
    )


def _distributions(result: object) -> bool:
    """Finite, non-negative rows summing to 1 (an NTM weighting)."""
    arrays = _held(result)
    return _finite(result) and all(
        bool((a >= 0).all()) and bool(np.allclose(a.sum(axis=-1), 1, atol=1e-3)) for a in arrays
    )


def _empty(result: object) -> bool:
    """A zero-size result (a batch or sequence axis of 0)."""
    return any(a.size == 0 for a in _held(result))


def _unit_interval(result: object) -> bool:
    return _finite(result) and all(bool(((a >= 0) & (a <= 1)).all()) for a in _held(result))


# --------------------------------------------------------------------------- memory_network

V, D, N, J = 6, 3, 4, 3


def _params() -> mn.MemN2NParameters:
    return mn.MemN2NParameters.initialize(
        np.random.default_rng(0), vocabulary_size=V, embedding_dim=D, hops=2, memory_size=N
    )


def _story() -> Array:
    return np.array([[1, 2, 0], [3, 0, 0], [4, 5, 1], [0, 0, 0]], dtype=np.int64)


def _question() -> Array:
    return np.array([2, 3, 0], dtype=np.int64)


def _mn_params_args() -> dict[str, object]:
    e = [_normal((V, D), s, F64, 0.1) for s in range(4)]
    return {
        "query_embedding": e[0],
        "key_embeddings": (e[0], e[1]),
        "value_embeddings": (e[1], e[2]),
        "output": e[3],
        "hop_map": _normal((D, D), 9, F64, 0.1),
        "temporal_keys": (_normal((N, D), 10, F64, 0.1), _normal((N, D), 11, F64, 0.1)),
        "temporal_values": (_normal((N, D), 12, F64, 0.1), _normal((N, D), 13, F64, 0.1)),
    }


# --------------------------------------------------------------------------- neural_turing_machine

NM, DM = 4, 3  # memory slots and width


def _memory() -> Array:
    return _normal((NM, DM), 20)


def _head(seed: int) -> ntm.HeadParameters:
    args: dict[str, Any] = _head_args(seed)
    return ntm.HeadParameters(**args)


def _head_args(seed: int = 30) -> dict[str, object]:
    return {
        "key": _normal((DM,), seed),
        "key_strength": np.asarray(2.0, F32),
        "gate": np.asarray(0.7, F32),
        "shift": np.array([0.1, 0.8, 0.1], F32),
        "sharpening": np.asarray(1.5, F32),
        "erase": _unit((DM,), seed + 1),
        "add": _normal((DM,), seed + 2),
    }


def _controller() -> ntm.FeedForwardController:
    return ntm.FeedForwardController.initialize(
        np.random.default_rng(1), input_size=2, memory_width=DM, dtype=F32
    )


def _controller_args() -> dict[str, object]:
    rows = 3 * DM + 3 + 3
    return {
        "W": _normal((rows, 2), 40, F32, 0.5),
        "b": np.zeros(rows, F32),
        "memory_width": DM,
        "shift_radius": 1,
    }


def _addressing() -> dict[str, object]:
    return {
        "key": _normal((DM,), 21),
        "memory": _memory(),
        "previous_weights": _distribution(NM, 22),
        "key_strength": 2.0,
        "gate": 0.7,
        "shift": np.array([0.1, 0.8, 0.1], F32),
        "sharpening": 1.5,
    }


# --------------------------------------------------------------------------- neural_stack


def _state() -> ns.ContinuousMemoryState:
    return ns.ContinuousMemoryState(
        values=_normal((3, 2), 50), strengths=np.array([1.0, 0.5, 0.25], F32)
    )


def _sequence() -> dict[str, object]:
    return {
        "values": _normal((4, 2), 51),
        "push": np.array([1.0, 0.5, 1.0, 0.0], F32),
        "pop": np.array([0.0, 0.25, 0.5, 1.0], F32),
    }


# --------------------------------------------------------------------------- set_memory / tree


def _set_memory() -> sm.SetMemory:
    return sm.SetMemory(
        keys=_normal((3, 2), 60),
        values=_normal((3, 4), 61),
        occupied=np.array([True, True, False]),
    )


def _tree() -> tm.TreeMemory:
    return tm.build_tree_memory(_normal((4, 2), 70), _normal((4, 3), 71), branching=2)


def _tree_query() -> dict[str, object]:
    return {"memory": _tree(), "query": _normal((2, 2), 72), "score": scaled_dot_product_score}


VALID_CALLS: dict[str, Callable[[], dict[str, object]]] = {
    # memory_network
    "impl.memory_network.MemN2NParameters": _mn_params_args,
    "impl.memory_network.MemN2NParameters.initialize": lambda: {
        "rng": np.random.default_rng(0),
        "vocabulary_size": V,
        "embedding_dim": D,
        "hops": 2,
        "tying": "layer_wise",
        "memory_size": N,
        "dtype": F32,
    },
    "impl.memory_network.MemN2NParameters.distinct_arrays": lambda: {"self": _params()},
    "impl.memory_network.MemN2NParameters.parameter_count": lambda: {"self": _params()},
    "impl.memory_network.position_encoding": lambda: {"num_words": 3, "dim": 4, "dtype": F32},
    "impl.memory_network.embed_sentences": lambda: {
        "tokens": _story(),
        "embedding": _normal((V, D), 80),
        "use_position_encoding": True,
    },
    "impl.memory_network.embed_memory": lambda: {
        "story": _story(),
        "embedding": _normal((V, D), 81),
        "temporal": _normal((N, D), 82),
        "use_position_encoding": False,
    },
    "impl.memory_network.memory_mask": lambda: {"story": _story()},
    "impl.memory_network.memory_hop": lambda: {
        "query": _normal((D,), 83),
        "keys": _normal((N, D), 84),
        "values": _normal((N, 2), 85),
        "mask": np.array([True, True, False, True]),
    },
    "impl.memory_network.memn2n_forward": lambda: {
        "parameters": _params(),
        "story": _story(),
        "question": _question(),
        "use_position_encoding": True,
    },
    # neural_turing_machine
    "impl.neural_turing_machine.distribution_tolerance": lambda: {"dtype": F32},
    "impl.neural_turing_machine.cosine_score": lambda: {
        "query": _normal((2, DM), 23),
        "keys": _memory(),
    },
    "impl.neural_turing_machine.content_addressing": lambda: {
        "key": _normal((DM,), 24),
        "memory": _memory(),
        "key_strength": 2.0,
    },
    "impl.neural_turing_machine.interpolate": lambda: {
        "content_weights": _distribution(NM, 25),
        "previous_weights": _distribution(NM, 26),
        "gate": 0.3,
    },
    "impl.neural_turing_machine.circular_shift": lambda: {
        "weights": _distribution(NM, 27),
        "shift": np.array([0.2, 0.5, 0.3], F32),
    },
    "impl.neural_turing_machine.sharpen": lambda: {
        "weights": _distribution(NM, 28),
        "sharpening": 2.5,
    },
    "impl.neural_turing_machine.address_stages": _addressing,
    "impl.neural_turing_machine.address": _addressing,
    "impl.neural_turing_machine.read": lambda: {
        "memory": _memory(),
        "weights": _distribution(NM, 29),
    },
    "impl.neural_turing_machine.write": lambda: {
        "memory": _memory(),
        "weights": _distribution(NM, 31),
        "erase": _unit((DM,), 32),
        "add": _normal((DM,), 33),
    },
    "impl.neural_turing_machine.write_heads": lambda: {
        "memory": _memory(),
        "weights": _unit((2, NM), 34),
        "erase": _unit((2, DM), 35),
        "add": _normal((2, DM), 36),
    },
    "impl.neural_turing_machine.HeadParameters": _head_args,
    "impl.neural_turing_machine.FeedForwardController": _controller_args,
    "impl.neural_turing_machine.FeedForwardController.initialize": lambda: {
        "rng": np.random.default_rng(2),
        "input_size": 2,
        "memory_width": DM,
        "shift_radius": 1,
        "dtype": F32,
    },
    "impl.neural_turing_machine.FeedForwardController.heads": lambda: {
        "self": _controller(),
        "x": _normal((2,), 41),
    },
    "impl.neural_turing_machine.ntm_step": lambda: {
        "memory": _memory(),
        "previous_read_weights": _distribution(NM, 42),
        "previous_write_weights": _distribution(NM, 43),
        "read_head": _head(44),
        "write_head": _head(47),
    },
    # neural_stack
    "impl.neural_stack.ContinuousMemoryState": lambda: {
        "values": _normal((3, 2), 52),
        "strengths": np.array([1.0, 0.5, 0.25], F32),
    },
    "impl.neural_stack.empty_memory": lambda: {"width": 2, "batch_shape": (2,), "dtype": F32},
    "impl.neural_stack.pop_from_top": lambda: {
        "strengths": np.array([1.0, 0.5, 0.25], F32),
        "pop": 0.6,
    },
    "impl.neural_stack.pop_from_bottom": lambda: {
        "strengths": np.array([1.0, 0.5, 0.25], F32),
        "pop": 0.6,
    },
    "impl.neural_stack.read_weights_from_top": lambda: {
        "strengths": np.array([1.0, 0.5, 0.25], F32)
    },
    "impl.neural_stack.read_weights_from_bottom": lambda: {
        "strengths": np.array([1.0, 0.5, 0.25], F32)
    },
    "impl.neural_stack.stack_step": lambda: {
        "state": _state(),
        "value": _normal((2,), 53),
        "push": 0.75,
        "pop": 0.5,
    },
    "impl.neural_stack.queue_step": lambda: {
        "state": _state(),
        "value": _normal((2,), 54),
        "push": 0.75,
        "pop": 0.5,
    },
    "impl.neural_stack.deque_step": lambda: {
        "state": _state(),
        "value_top": _normal((2,), 55),
        "value_bottom": _normal((2,), 56),
        "push_top": 0.75,
        "pop_top": 0.5,
        "push_bottom": 0.25,
        "pop_bottom": 0.5,
    },
    "impl.neural_stack.run_stack": _sequence,
    "impl.neural_stack.run_queue": _sequence,
    # set_memory
    "impl.set_memory.SetMemory": lambda: {
        "keys": _normal((3, 2), 62),
        "values": _normal((3, 4), 63),
        "occupied": np.array([True, False, True]),
    },
    "impl.set_memory.empty_set_memory": lambda: {
        "capacity": 3,
        "key_width": 2,
        "value_width": 4,
        "batch_shape": (2,),
        "dtype": F32,
    },
    "impl.set_memory.set_memory_from_items": lambda: {
        "keys": _normal((3, 2), 64),
        "values": _normal((3, 4), 65),
    },
    "impl.set_memory.set_memory_write": lambda: {
        "memory": _set_memory(),
        "key": _normal((2,), 66),
        "value": _normal((4,), 67),
    },
    "impl.set_memory.set_memory_weights": lambda: {
        "memory": _set_memory(),
        "query": _normal((2, 2), 68),
        "score": scaled_dot_product_score,
    },
    "impl.set_memory.set_memory_read": lambda: {
        "memory": _set_memory(),
        "query": _normal((2, 2), 69),
        "score": scaled_dot_product_score,
    },
    "impl.set_memory.set_memory_contains": lambda: {
        "memory": _set_memory(),
        "query": _normal((2, 2), 59),
        "bandwidth": 1.5,
    },
    # tree_memory
    "impl.tree_memory.TreeMemory": lambda: {
        "keys": (_normal((1, 2), 73), _normal((2, 2), 74), _normal((4, 2), 75)),
        "values": _normal((4, 3), 76),
        "branching": 2,
    },
    "impl.tree_memory.build_tree_memory": lambda: {
        "leaf_keys": _normal((4, 2), 77),
        "leaf_values": _normal((4, 3), 78),
        "branching": 2,
    },
    "impl.tree_memory.routing_probabilities": _tree_query,
    "impl.tree_memory.tree_leaf_weights": _tree_query,
    "impl.tree_memory.tree_read": _tree_query,
    "impl.tree_memory.tree_greedy_path": _tree_query,
    "impl.tree_memory.tree_path": lambda: {"leaf": 3, "branching": 2, "depth": 2},
    "impl.tree_memory.tree_write": lambda: {
        "memory": _tree(),
        "leaf": 2,
        "key": _normal((2,), 79),
        "value": _normal((3,), 58),
    },
}

OUTPUT_RECORDS: dict[str, str] = {
    "impl.memory_network.HopResult": "returned by memory_hop only",
    "impl.memory_network.MemN2NOutput": "returned by memn2n_forward only",
    "impl.neural_turing_machine.AddressingStages": "returned by address_stages only",
    "impl.neural_turing_machine.StepResult": "returned by ntm_step only",
    "impl.neural_stack.DequeRead": "returned by deque_step only",
}

DOCUMENTED: dict[tuple[str, str, str], Callable[[object], bool]] = {}


def _document(where: str, predicate: Callable[[object], bool], /, **labels: str) -> None:
    """Declare documented results of ``impl.<where>``: per argument, space-separated labels."""
    for argument, listed in labels.items():
        for label in listed.split():
            DOCUMENTED[(f"impl.{where}", argument, label)] = predicate


def _kind(cls: type) -> Callable[[object], bool]:
    """A container built from finite values of any magnitude (its docstring: finite, any size)."""
    return lambda result: isinstance(result, cls)


BIG = "huge large"  # finite extremes: a finite result (the docstrings' overflow sentences)
# fnmatch: "[[]" matches a literal "[" (a bare "[0]" would be a character class).
BIG_ITEMS = " ".join(f"[[]{i}].{label}" for i in range(3) for label in ("huge", "large"))
EMPTY = "empty_axis*"
LOW = "zero tiny"  # 0 and 1e-320 (which rounds to 0 in float32) are valid strengths / gates

# memory_network: "MemN2NParameters ... finite"; embeddings/hops: "a sum that overflows ... is a
# ValueError" (so a finite result otherwise); "N = 0 reads 0"; d_v = 0 gives reads of width 0.
_document(
    "memory_network.MemN2NParameters",
    _kind(mn.MemN2NParameters),
    query_embedding=BIG,
    output=BIG,
    hop_map=BIG,
    key_embeddings=BIG_ITEMS,
    value_embeddings=BIG_ITEMS,
    temporal_keys=BIG_ITEMS,
    temporal_values=BIG_ITEMS,
)
_document("memory_network.embed_sentences", _finite, embedding="large")
_document("memory_network.embed_memory", _finite, embedding=BIG, temporal=BIG)
_document("memory_network.memory_hop", _finite, query="large", keys="large", values="large")
_document("memory_network.memory_hop", _empty, values="empty_axis1")

# neural_turing_machine: "Addressing never overflows for finite inputs"; read/write overflow is
# a ValueError (else finite); the containers accept finite values of any size and scalars.
for _key in ("content_addressing", "address", "address_stages"):
    _document(f"neural_turing_machine.{_key}", _distributions, key=BIG, memory=BIG)
for _key in ("interpolate", "address", "address_stages"):
    _document(f"neural_turing_machine.{_key}", _distributions, gate=LOW)
_document("neural_turing_machine.cosine_score", _finite, query=BIG, keys=BIG)
_document("neural_turing_machine.cosine_score", _empty, query="empty_axis0", keys="empty_axis0")
_document("neural_turing_machine.sharpen", _distributions, weights="large")
_document("neural_turing_machine.read", _finite, memory=BIG, weights="large")
_document("neural_turing_machine.write", _finite, memory=BIG, add=BIG)
_document("neural_turing_machine.write_heads", _finite, memory=BIG, add=BIG)
_document("neural_turing_machine.ntm_step", _finite, memory=BIG)
_document(
    "neural_turing_machine.HeadParameters",
    _kind(ntm.HeadParameters),
    key=BIG,
    add=BIG,
    key_strength=BIG + " int list",
    sharpening=BIG + " int list",
    gate="int list",
)
_document(
    "neural_turing_machine.FeedForwardController", _kind(ntm.FeedForwardController), W=BIG, b=BIG
)
_document(
    "neural_turing_machine.FeedForwardController.initialize",
    _kind(ntm.FeedForwardController),
    shift_radius="zero",
)
_document("neural_turing_machine.FeedForwardController.heads", _finite, x="large")

# neural_stack: "T = 0 (empty) is allowed"; strengths 0 are valid; reads are convex
# combinations of the values (finite); a batch_shape of () is the unbatched structure.
for _key in ("stack_step", "queue_step"):
    _document(f"neural_stack.{_key}", _finite, value=BIG, push=LOW, pop=LOW)
_document(
    "neural_stack.deque_step",
    _finite,
    value_top=BIG,
    value_bottom=BIG,
    push_top=LOW,
    pop_top=LOW,
    push_bottom=LOW,
    pop_bottom=LOW,
)
for _key in ("pop_from_top", "pop_from_bottom"):
    _document(f"neural_stack.{_key}", _finite, pop=LOW)
for _key in (
    "pop_from_top",
    "pop_from_bottom",
    "read_weights_from_top",
    "read_weights_from_bottom",
):
    _document(f"neural_stack.{_key}", _empty, strengths="empty_axis0")
for _key in ("run_stack", "run_queue"):
    _document(f"neural_stack.{_key}", _finite, values=BIG)
_document("neural_stack.ContinuousMemoryState", _kind(ns.ContinuousMemoryState), values=BIG)
_document("neural_stack.empty_memory", _kind(ns.ContinuousMemoryState), batch_shape="short")

# set_memory: containers accept finite values; "contains ... in [0, 1]" for any finite input;
# reads with a finite score are finite; L = 0 queries give an empty membership (the default
# score refuses zero-size axes, naming query).
_document("set_memory.SetMemory", _kind(sm.SetMemory), keys=BIG, values=BIG)
_document("set_memory.set_memory_from_items", _kind(sm.SetMemory), keys=BIG, values=BIG)
_document("set_memory.set_memory_write", _kind(sm.SetMemory), key=BIG, value=BIG)
_document("set_memory.empty_set_memory", _kind(sm.SetMemory), batch_shape="short")
_document("set_memory.set_memory_contains", _unit_interval, query=BIG)
_document("set_memory.set_memory_contains", _empty, query="empty_axis0")
for _key in ("set_memory_weights", "set_memory_read"):
    _document(f"set_memory.{_key}", _finite, query="large")

# tree_memory: containers accept finite values ("summaries ... cannot overflow"); reads with a
# finite score are finite; leaf 0 and any branching ≥ 2 are valid paths.
_document("tree_memory.TreeMemory", _kind(tm.TreeMemory), keys=BIG_ITEMS, values=BIG)
_document("tree_memory.build_tree_memory", _kind(tm.TreeMemory), leaf_keys=BIG, leaf_values=BIG)
_document("tree_memory.tree_write", _kind(tm.TreeMemory), leaf="zero", key=BIG, value=BIG)
for _key in ("routing_probabilities", "tree_leaf_weights", "tree_read", "tree_greedy_path"):
    _document(f"tree_memory.{_key}", _finite, query="large")
_document(
    "tree_memory.tree_path",
    lambda r: isinstance(r, tuple) and len(r) == 3,
    leaf="zero",
    branching="huge overflow",
)
