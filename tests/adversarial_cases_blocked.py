"""Adversarial cases for the blocked family (``impl.blocked_attention``); see test_adversarial.py.

Each factory returns the arguments of one small valid call (fresh arrays every
time). The blocks are smaller than L and S (and do not divide them), so the
online-softmax merge runs; ``workers=2`` runs the thread pool.
"""

import dataclasses
from collections.abc import Callable
from typing import Any

import numpy as np

# The shared factories of the attention family's cases (one copy for every case file).
from tests.adversarial_cases_attention import Factory, _mask, _normal

VALID_CALLS: dict[str, Factory] = {
    "impl.blocked_attention.blocked_scaled_dot_product_attention": lambda: {
        # batch 3, not 2: a mask "broadcast up" to (2, L, S) must not pass as per-batch
        "query": _normal(3, 5, 4, dtype=np.float32),
        "key": _normal(3, 7, 4, seed=1, dtype=np.float32),
        "value": _normal(3, 7, 3, seed=2, dtype=np.float32),
        "mask": _mask(5, 7),
        "scale": 0.5,
        "is_causal": False,
        "return_lse": True,
        "query_block": 2,
        "key_block": 3,
        "workers": 2,
    },
}


def _floats(value: object) -> list[np.ndarray[Any, Any]]:
    if isinstance(value, np.ndarray):
        return [value] if value.dtype.kind == "f" else []
    if isinstance(value, tuple | list):
        return [a for item in value for a in _floats(item)]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return [a for f in dataclasses.fields(value) for a in _floats(getattr(value, f.name))]
    return []


def _finite(result: object) -> bool:
    """Every float array in the result is finite (the documented stable computation)."""
    return all(bool(np.isfinite(a).all()) for a in _floats(result))


_KEY = "impl.blocked_attention.blocked_scaled_dot_product_attention"

# Semantics of impl.attention.scaled_dot_product_attention: finite inputs of any size give a
# finite result (max-shifted online softmax) or a ValueError naming the arguments whose scores
# overflowed; a float mask of the inputs' dtype is an additive mask.
DOCUMENTED: dict[tuple[str, str, str], Callable[[object], bool]] = {
    **{(_KEY, "*", size): _finite for size in ("*huge", "*large")},
    (_KEY, "mask", "as_float32"): _finite,
    # Block sizes of any size (beyond L or S: one block) and any worker count (capped by the
    # cores and the number of tasks) are documented: the same result.
    **{
        (_KEY, size_argument, size): _finite
        for size_argument in ("query_block", "key_block", "workers")
        for size in ("huge", "overflow")
    },
}
