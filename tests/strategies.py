"""All hypothesis strategies of nndl8, in one place.

Values are kept sane by default (|x| ≤ ``DEFAULT_MAGNITUDE``, no subnormals,
no NaN/inf): tests of extreme input (±1e30, -inf, fully masked rows) are
separate, named tests. Dimensions are tied with ``st.shared(..., key=...)``
where several arrays must agree.

Engineers using nndl8 as a test oracle can import these strategies to drive
their own functions (see README, "Check your function against ours").
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from numpy.typing import NDArray

DEFAULT_MAGNITUDE = 10.0
"""Bound on generated float values: large enough to saturate softmax, small
enough that float32 sums of a few hundred products stay far from overflow."""

float_dtypes: st.SearchStrategy[np.dtype[Any]] = st.sampled_from(
    [np.dtype(np.float32), np.dtype(np.float64)]
)
"""The two dtypes impl supports."""

batch_shapes: st.SearchStrategy[tuple[int, ...]] = hnp.array_shapes(
    min_dims=0, max_dims=2, min_side=1, max_side=3
)
"""Leading batch axes: none, one or two, each of size 1..3."""


def sizes(max_size: int = 6, *, min_size: int = 1) -> st.SearchStrategy[int]:
    """A length N, L or width D (1 is included on purpose: N = 1, D = 1)."""
    return st.integers(min_value=min_size, max_value=max_size)


def float_arrays(
    dtype: np.dtype[Any] | type[np.floating[Any]],
    shape: tuple[int, ...] | st.SearchStrategy[tuple[int, ...]],
    *,
    magnitude: float = DEFAULT_MAGNITUDE,
) -> st.SearchStrategy[NDArray[np.floating[Any]]]:
    """Float arrays with finite entries in [-magnitude, magnitude]."""
    width = 32 if np.dtype(dtype) == np.float32 else 64
    elements = st.floats(
        min_value=-magnitude,
        max_value=magnitude,
        allow_nan=False,
        allow_infinity=False,
        allow_subnormal=False,
        width=width,
    )
    return hnp.arrays(dtype=dtype, shape=shape, elements=elements)


def bool_arrays(shape: tuple[int, ...]) -> st.SearchStrategy[NDArray[np.bool_]]:
    """Boolean arrays (e.g. attention masks, True = may attend)."""
    return hnp.arrays(dtype=np.bool_, shape=shape)


@dataclass(frozen=True)
class AttentionInputs:
    """Query, key and value arrays with tied dimensions.

    Shapes: query (*batch, L, D_k), key (*batch, N, D_k), value (*batch, N, D_v).
    """

    query: NDArray[np.floating[Any]]
    key: NDArray[np.floating[Any]]
    value: NDArray[np.floating[Any]]

    @property
    def dtype(self) -> np.dtype[Any]:
        """The shared dtype."""
        return self.query.dtype


@st.composite
def attention_inputs(
    draw: st.DrawFn,
    *,
    dtype: np.dtype[Any] | None = None,
    max_len: int = 6,
    max_dim: int = 5,
    magnitude: float = DEFAULT_MAGNITUDE,
) -> AttentionInputs:
    """Draw (query, key, value) for attention with a random batch, L, N, D_k, D_v."""
    chosen = draw(float_dtypes) if dtype is None else dtype
    batch = draw(batch_shapes)
    length, memory, d_k, d_v = (
        draw(sizes(max_len)),
        draw(sizes(max_len)),
        draw(sizes(max_dim)),
        draw(sizes(max_dim)),
    )
    query = draw(float_arrays(chosen, (*batch, length, d_k), magnitude=magnitude))
    key = draw(float_arrays(chosen, (*batch, memory, d_k), magnitude=magnitude))
    value = draw(float_arrays(chosen, (*batch, memory, d_v), magnitude=magnitude))
    return AttentionInputs(query, key, value)


@st.composite
def logits_arrays(
    draw: st.DrawFn,
    *,
    dtype: np.dtype[Any] | None = None,
    max_len: int = 8,
    magnitude: float = DEFAULT_MAGNITUDE,
) -> NDArray[np.floating[Any]]:
    """Logits of shape (*batch, N) for softmax tests."""
    chosen = draw(float_dtypes) if dtype is None else dtype
    shape = (*draw(batch_shapes), draw(sizes(max_len)))
    return draw(float_arrays(chosen, shape, magnitude=magnitude))


@st.composite
def stochastic_vectors(
    draw: st.DrawFn, size: int, *, dtype: np.dtype[Any] | type[np.floating[Any]] = np.float64
) -> NDArray[np.floating[Any]]:
    """A probability vector of the given size (non-negative, sums to 1)."""
    raw = draw(float_arrays(dtype, (size,), magnitude=1.0))
    weights = np.abs(raw) + np.asarray(1e-3, dtype=dtype)
    result: NDArray[np.floating[Any]] = (weights / weights.sum()).astype(dtype)
    return result


@st.composite
def symmetric_zero_diagonal(
    draw: st.DrawFn,
    size: int | st.SearchStrategy[int],
    *,
    dtype: np.dtype[Any] | type[np.floating[Any]] = np.float64,
    magnitude: float = 1.0,
) -> NDArray[np.floating[Any]]:
    """A symmetric matrix with zero diagonal (a valid Hopfield weight matrix)."""
    n = size if isinstance(size, int) else draw(size)
    raw = draw(float_arrays(dtype, (n, n), magnitude=magnitude))
    upper = np.triu(raw, k=1)
    result: NDArray[np.floating[Any]] = (upper + upper.T).astype(dtype)
    return result


def sign_vectors(
    shape: tuple[int, ...], *, dtype: np.dtype[Any] | type[np.floating[Any]] = np.float64
) -> st.SearchStrategy[NDArray[np.floating[Any]]]:
    """Arrays of ±1 (Hopfield states or a set of stored patterns, one per row)."""
    return hnp.arrays(dtype=dtype, shape=shape, elements=st.sampled_from([-1.0, 1.0]))


def generators() -> st.SearchStrategy[np.random.Generator]:
    """Seeded ``numpy.random.Generator`` s (shrinkable through their seed)."""
    return st.integers(min_value=0, max_value=2**32 - 1).map(np.random.default_rng)


def permutations_of(size: int) -> st.SearchStrategy[NDArray[np.intp]]:
    """A permutation of range(size), as an index array."""
    return st.permutations(list(range(size))).map(lambda p: np.asarray(p, dtype=np.intp))


def tied(key: str, strategy: st.SearchStrategy[int]) -> st.SearchStrategy[int]:
    """A dimension shared by every strategy drawing with the same ``key``."""
    return st.shared(strategy, key=key)


MapFn = Callable[[NDArray[np.floating[Any]]], NDArray[np.floating[Any]]]
