"""All hypothesis strategies of nndl8, in one place.

Values are kept sane by default (|x| ≤ ``DEFAULT_MAGNITUDE``, no subnormals,
no NaN/inf): tests of extreme input (±1e30, -inf, fully masked rows) are
separate, named tests. Dimensions are tied with ``st.shared(..., key=...)``
where several arrays must agree.

Shipped as ``impl.testing.strategies`` (the conformance kit's own strategies
for candidates in a declared precision live in ``impl.testing.cases``);
engineers using nndl8 as a test oracle can import these to drive their own
functions (see README, "Check your function against ours").
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from numpy.typing import NDArray

__all__ = [
    "DEFAULT_MAGNITUDE",
    "AttentionInputs",
    "CapacityBatches",
    "ChainPotentialArrays",
    "ContinuousHopfieldInputs",
    "DequeOperations",
    "HierarchicalDocuments",
    "HopfieldNetworks",
    "MapFn",
    "ModernHopfieldInputs",
    "NTMHeadInputs",
    "PointerInputs",
    "RecurrentInputs",
    "ScoresAndLosses",
    "SlotMemoryInputs",
    "StructureOperations",
    "attention_inputs",
    "batch_shapes",
    "bool_arrays",
    "capacity_batches",
    "chain_potential_arrays",
    "continuous_hopfield_inputs",
    "deque_operations",
    "distribution_arrays",
    "float_arrays",
    "float_dtypes",
    "generators",
    "hierarchical_documents",
    "hopfield_networks",
    "logits_arrays",
    "modern_hopfield_inputs",
    "ntm_head_inputs",
    "orthogonal_sign_patterns",
    "permutations_of",
    "pointer_inputs",
    "recurrent_inputs",
    "scores_and_losses",
    "sign_pattern_pairs",
    "sign_vectors",
    "sizes",
    "slot_memory_inputs",
    "stochastic_vectors",
    "structure_operations",
    "symmetric_zero_diagonal",
    "tied",
    "token_arrays",
    "unique_max_logits",
    "unit_strength_arrays",
]

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
    width: Literal[32, 64] = 32 if np.dtype(dtype) == np.float32 else 64
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


# --- Continuous Hopfield, BAM, modern Hopfield, dense associative memory (§8.6) ---


@dataclass(frozen=True)
class ContinuousHopfieldInputs:
    """A continuous Hopfield network and a batch of starting potentials.

    Shapes: weights (M, M) symmetric with a non-negative diagonal, biases (M,),
    potentials (*batch, M); ``gain`` > 0.
    """

    weights: NDArray[np.floating[Any]]
    biases: NDArray[np.floating[Any]]
    potentials: NDArray[np.floating[Any]]
    gain: float


@st.composite
def continuous_hopfield_inputs(
    draw: st.DrawFn,
    *,
    dtype: np.dtype[Any] | None = None,
    max_neurons: int = 5,
    magnitude: float = 1.0,
    max_gain: float = 3.0,
    zero_diagonal: bool = False,
) -> ContinuousHopfieldInputs:
    """Draw W symmetric (diagonal ≥ 0, or 0), b, u with |W|, |b| ≤ magnitude, |u| ≤ 3."""
    chosen = draw(float_dtypes) if dtype is None else dtype
    batch = draw(batch_shapes)
    M = draw(sizes(max_neurons))
    weights = draw(symmetric_zero_diagonal(M, dtype=chosen, magnitude=magnitude))
    if not zero_diagonal:
        diagonal = np.abs(draw(float_arrays(chosen, (M,), magnitude=magnitude)))
        weights = (weights + np.diag(diagonal)).astype(chosen)
    biases = draw(float_arrays(chosen, (M,), magnitude=magnitude))
    potentials = draw(float_arrays(chosen, (*batch, M), magnitude=3.0))
    gain = draw(st.floats(min_value=0.1, max_value=max_gain))
    return ContinuousHopfieldInputs(weights, biases, potentials, gain)


# --- Recurrent cells (§6.5, exercise 8-1) and the pointer network (§8.2.1) ---


@dataclass(frozen=True)
class RecurrentInputs:
    """An input and state batch for an LSTM/GRU cell, and a seed for its parameters.

    Shapes: x (*batch, n), h and c (*batch, m); ``seed`` feeds
    ``numpy.random.default_rng`` to draw the cell's parameters.
    """

    x: NDArray[np.floating[Any]]
    h: NDArray[np.floating[Any]]
    c: NDArray[np.floating[Any]]
    seed: int

    @property
    def input_size(self) -> int:
        """n."""
        return int(self.x.shape[-1])

    @property
    def hidden_size(self) -> int:
        """m."""
        return int(self.h.shape[-1])


@st.composite
def recurrent_inputs(
    draw: st.DrawFn,
    *,
    dtype: np.dtype[Any] | None = None,
    max_dim: int = 5,
    magnitude: float = DEFAULT_MAGNITUDE,
) -> RecurrentInputs:
    """Draw x (*batch, n), h, c (*batch, m) with n, m in 1..max_dim, and a seed."""
    chosen = draw(float_dtypes) if dtype is None else dtype
    batch = draw(batch_shapes)
    n, m = draw(sizes(max_dim)), draw(sizes(max_dim))
    x = draw(float_arrays(chosen, (*batch, n), magnitude=magnitude))
    h = draw(float_arrays(chosen, (*batch, m), magnitude=magnitude))
    c = draw(float_arrays(chosen, (*batch, m), magnitude=magnitude))
    seed = draw(st.integers(min_value=0, max_value=2**32 - 1))
    return RecurrentInputs(x, h, c, seed)


@dataclass(frozen=True)
class PointerInputs:
    """Inputs x_1..x_N (*batch, N, n) for a pointer network, with its sizes and a seed."""

    inputs: NDArray[np.floating[Any]]
    hidden_size: int
    attention_size: int
    seed: int


@st.composite
def pointer_inputs(
    draw: st.DrawFn,
    *,
    dtype: np.dtype[Any] | None = None,
    batch: tuple[int, ...] | None = None,
    max_len: int = 4,
    max_dim: int = 4,
    magnitude: float = 3.0,
) -> PointerInputs:
    """Draw inputs (*batch, N, n) with N in 1..max_len, and hidden/attention sizes."""
    chosen = draw(float_dtypes) if dtype is None else dtype
    leading = draw(batch_shapes) if batch is None else batch
    length, n = draw(sizes(max_len)), draw(sizes(max_dim))
    inputs = draw(float_arrays(chosen, (*leading, length, n), magnitude=magnitude))
    hidden, attention = draw(sizes(max_dim)), draw(sizes(max_dim))
    seed = draw(st.integers(min_value=0, max_value=2**32 - 1))
    return PointerInputs(inputs, hidden, attention, seed)


# --- Structured attention (§8.2.1): linear-chain CRF potentials, hierarchical documents ---


@dataclass(frozen=True)
class ChainPotentialArrays:
    """Unary and pairwise log-potentials of a batch of linear-chain CRFs.

    Shapes: unary (*batch, N, 2), pairwise (*batch, N − 1, 2, 2).
    """

    unary: NDArray[np.floating[Any]]
    pairwise: NDArray[np.floating[Any]]


@st.composite
def chain_potential_arrays(
    draw: st.DrawFn,
    *,
    dtype: np.dtype[Any] | type[np.floating[Any]] | None = None,
    min_len: int = 1,
    max_len: int = 6,
    magnitude: float = DEFAULT_MAGNITUDE,
    batched: bool = True,
    zero_pairwise: bool = False,
) -> ChainPotentialArrays:
    """Draw CRF potentials with |θ| ≤ magnitude, N in [min_len, max_len], optional batch axes."""
    chosen = draw(float_dtypes) if dtype is None else np.dtype(dtype)
    batch = draw(batch_shapes) if batched else ()
    n = draw(sizes(max_len, min_size=min_len))
    unary = draw(float_arrays(chosen, (*batch, n, 2), magnitude=magnitude))
    if zero_pairwise:
        pairwise = np.zeros((*batch, n - 1, 2, 2), dtype=chosen)
    else:
        pairwise = draw(float_arrays(chosen, (*batch, n - 1, 2, 2), magnitude=magnitude))
    return ChainPotentialArrays(unary, pairwise)


@dataclass(frozen=True)
class HierarchicalDocuments:
    """Word states of a batch of documents and their word mask (True = real word).

    Shapes: word_states (*batch, S, T, D), word_mask (*batch, S, T). Masked
    positions hold arbitrary finite values (padding garbage).
    """

    word_states: NDArray[np.floating[Any]]
    word_mask: NDArray[np.bool_]


@st.composite
def hierarchical_documents(
    draw: st.DrawFn,
    *,
    dtype: np.dtype[Any] | type[np.floating[Any]] | None = None,
    max_sentences: int = 4,
    max_words: int = 5,
    dim: int | None = None,
    max_dim: int = 4,
    magnitude: float = 3.0,
    batched: bool = True,
) -> HierarchicalDocuments:
    """Draw ragged documents: any word mask (empty sentences and documents included)."""
    chosen = draw(float_dtypes) if dtype is None else np.dtype(dtype)
    batch = draw(batch_shapes) if batched else ()
    s, t = draw(sizes(max_sentences)), draw(sizes(max_words))
    d = dim if dim is not None else draw(sizes(max_dim))
    states = draw(float_arrays(chosen, (*batch, s, t, d), magnitude=magnitude))
    mask = draw(bool_arrays((*batch, s, t)))
    return HierarchicalDocuments(states, mask)


# ------------------------------------------------------------------ discrete Hopfield (§8.6.1)


@dataclass(frozen=True)
class HopfieldNetworks:
    """A discrete Hopfield network and a start state.

    Shapes: weights (M, M) symmetric with zero diagonal (or any matrix when
    drawn with ``valid=False``), bias (M,) or None, state (M,) of ±1.
    """

    weights: NDArray[np.floating[Any]]
    bias: NDArray[np.floating[Any]] | None
    state: NDArray[np.floating[Any]]

    @property
    def size(self) -> int:
        """M, the number of neurons."""
        return int(self.weights.shape[-1])


@st.composite
def hopfield_networks(
    draw: st.DrawFn,
    *,
    dtype: np.dtype[Any] | type[np.floating[Any]] | None = None,
    max_size: int = 8,
    with_bias: bool | None = None,
    valid: bool = True,
    magnitude: float = 1.0,
) -> HopfieldNetworks:
    """Draw (W, b, s): W from ``symmetric_zero_diagonal`` (any square W if not ``valid``)."""
    chosen = draw(float_dtypes) if dtype is None else np.dtype(dtype)
    m = draw(sizes(max_size))
    if valid:
        weights = draw(symmetric_zero_diagonal(m, dtype=chosen, magnitude=magnitude))
    else:
        weights = draw(float_arrays(chosen, (m, m), magnitude=magnitude))
    use_bias = draw(st.booleans()) if with_bias is None else with_bias
    bias = draw(float_arrays(chosen, (m,), magnitude=magnitude)) if use_bias else None
    state = draw(sign_vectors((m,), dtype=chosen))
    return HopfieldNetworks(weights, bias, state)


# --- Softmax saturation and REINFORCE (§8.2, §8.2.1, exercise 8-2) ---


@st.composite
def unique_max_logits(
    draw: st.DrawFn, *, max_len: int = 6, min_gap: float = 0.1, magnitude: float = 5.0
) -> NDArray[np.float64]:
    """Float64 logits (N,) with N ≥ 2 whose maximum exceeds every other entry by ≥ ``min_gap``."""
    size = draw(sizes(max_len, min_size=2))
    raw = draw(float_arrays(np.float64, (size,), magnitude=magnitude))
    winner = draw(st.integers(min_value=0, max_value=size - 1))
    others = np.delete(raw, winner)
    result: NDArray[np.float64] = raw.astype(np.float64)
    result[winner] = max(float(others.max()) + min_gap, float(raw[winner]))
    return result


@dataclass(frozen=True)
class ScoresAndLosses:
    """Scores s (*batch, N) and per-choice losses L (*batch, N) of one dtype (REINFORCE)."""

    scores: NDArray[np.floating[Any]]
    losses: NDArray[np.floating[Any]]


@st.composite
def scores_and_losses(
    draw: st.DrawFn, *, dtype: np.dtype[Any] | None = None, max_len: int = 6
) -> ScoresAndLosses:
    """Draw scores (|s| ≤ 5) and losses (|L| ≤ 10) with a shared batch shape and N."""
    chosen = draw(float_dtypes) if dtype is None else dtype
    shape = (*draw(batch_shapes), draw(sizes(max_len)))
    scores = draw(float_arrays(chosen, shape, magnitude=5.0))
    losses = draw(float_arrays(chosen, shape))
    return ScoresAndLosses(scores, losses)


@st.composite
def orthogonal_sign_patterns(
    draw: st.DrawFn,
    count: int,
    *,
    dtype: np.dtype[Any] | type[np.floating[Any]] = np.float64,
    min_log2_width: int = 2,
    max_log2_width: int = 5,
) -> NDArray[np.floating[Any]]:
    """``count`` mutually orthogonal ±1 rows of width 2^k ≥ count (Sylvester–Hadamard rows,
    with random column signs and column order, which keep them orthogonal)."""
    low = max(min_log2_width, (count - 1).bit_length())
    width_log2 = draw(st.integers(min_value=low, max_value=max(low, max_log2_width)))
    hadamard = np.ones((1, 1))
    for _ in range(width_log2):
        hadamard = np.block([[hadamard, hadamard], [hadamard, -hadamard]])
    width = hadamard.shape[0]
    rows = draw(st.permutations(list(range(width))))[:count]
    columns = np.asarray(draw(st.permutations(list(range(width)))), dtype=np.intp)
    signs = draw(sign_vectors((width,)))
    result: NDArray[np.floating[Any]] = (hadamard[rows][:, columns] * signs).astype(dtype)
    return result


@st.composite
def sign_pattern_pairs(
    draw: st.DrawFn,
    *,
    dtype: np.dtype[Any] | None = None,
    max_pairs: int = 5,
    max_width: int = 12,
) -> tuple[NDArray[np.floating[Any]], NDArray[np.floating[Any]]]:
    """Random ±1 pattern pairs (x (P, M), y (P, K)) for a BAM, any load."""
    chosen = draw(float_dtypes) if dtype is None else dtype
    P = draw(sizes(max_pairs))
    x = draw(sign_vectors((P, draw(sizes(max_width))), dtype=chosen))
    y = draw(sign_vectors((P, draw(sizes(max_width))), dtype=chosen))
    return x, y


@dataclass(frozen=True)
class ModernHopfieldInputs:
    """Stored patterns (N, D) as rows, states (*batch, D), inverse temperature β > 0."""

    patterns: NDArray[np.floating[Any]]
    states: NDArray[np.floating[Any]]
    beta: float


@st.composite
def modern_hopfield_inputs(
    draw: st.DrawFn,
    *,
    dtype: np.dtype[Any] | None = None,
    max_patterns: int = 6,
    max_dim: int = 5,
    magnitude: float = 3.0,
    max_beta: float = 10.0,
) -> ModernHopfieldInputs:
    """Draw real patterns and states with |entries| ≤ magnitude and β in [0.01, max_beta]."""
    chosen = draw(float_dtypes) if dtype is None else dtype
    N, D = draw(sizes(max_patterns)), draw(sizes(max_dim))
    patterns = draw(float_arrays(chosen, (N, D), magnitude=magnitude))
    states = draw(float_arrays(chosen, (*draw(batch_shapes), D), magnitude=magnitude))
    beta = draw(st.floats(min_value=0.01, max_value=max_beta))
    return ModernHopfieldInputs(patterns, states, beta)


# --- Memory-augmented networks (§8.5): NTM addressing and MemN2N stories ---


@st.composite
def distribution_arrays(
    draw: st.DrawFn,
    dtype: np.dtype[Any] | type[np.floating[Any]],
    shape: tuple[int, ...],
    *,
    allow_zeros: bool = True,
) -> NDArray[np.floating[Any]]:
    """Arrays whose last axis is a probability distribution (some entries may be exactly 0)."""
    raw = np.abs(draw(float_arrays(np.float64, shape, magnitude=1.0)))
    if allow_zeros:
        raw = np.where(raw < 0.2, 0.0, raw)
    raw = raw + (raw.sum(axis=-1, keepdims=True) == 0)  # a row of zeros becomes uniform
    if not allow_zeros:
        raw = raw + 1e-3
    result: NDArray[np.floating[Any]] = (raw / raw.sum(axis=-1, keepdims=True)).astype(dtype)
    return result


@dataclass(frozen=True)
class NTMHeadInputs:
    """A memory and one head's addressing parameters with a shared batch shape.

    Shapes: memory (*batch, N, D), key (*batch, D), previous (*batch, N) and
    shift (*batch, S) distributions; key_strength β > 0, gate g ∈ [0, 1],
    sharpening γ ≥ 1 as floats.
    """

    memory: NDArray[np.floating[Any]]
    key: NDArray[np.floating[Any]]
    previous: NDArray[np.floating[Any]]
    shift: NDArray[np.floating[Any]]
    key_strength: float
    gate: float
    sharpening: float


@st.composite
def ntm_head_inputs(
    draw: st.DrawFn,
    *,
    dtype: np.dtype[Any] | None = None,
    batched: bool = True,
    max_slots: int = 6,
    max_width: int = 4,
    magnitude: float = 3.0,
    max_radius: int = 2,
) -> NTMHeadInputs:
    """Draw an NTM memory and head (β in [0.01, 20], γ in [1, 10], shift radius 0..max_radius)."""
    chosen = draw(float_dtypes) if dtype is None else dtype
    batch = draw(batch_shapes) if batched else ()
    n, d = draw(sizes(max_slots)), draw(sizes(max_width))
    radius = draw(st.integers(min_value=0, max_value=max_radius))
    return NTMHeadInputs(
        memory=draw(float_arrays(chosen, (*batch, n, d), magnitude=magnitude)),
        key=draw(float_arrays(chosen, (*batch, d), magnitude=magnitude)),
        previous=draw(distribution_arrays(chosen, (*batch, n))),
        shift=draw(distribution_arrays(chosen, (*batch, 2 * radius + 1))),
        key_strength=draw(st.floats(min_value=0.01, max_value=20.0)),
        gate=draw(st.floats(min_value=0.0, max_value=1.0)),
        sharpening=draw(st.floats(min_value=1.0, max_value=10.0)),
    )


@st.composite
def token_arrays(
    draw: st.DrawFn,
    shape: tuple[int, ...],
    vocabulary_size: int,
    *,
    allow_empty: bool = True,
) -> NDArray[np.intp]:
    """Word ids (..., J) in 1..V−1 followed by padding 0 (trailing), per sentence."""
    words = draw(
        hnp.arrays(np.intp, shape, elements=st.integers(min_value=1, max_value=vocabulary_size - 1))
    )
    low = 0 if allow_empty else 1
    lengths = draw(
        hnp.arrays(np.intp, shape[:-1], elements=st.integers(min_value=low, max_value=shape[-1]))
    )
    keep = np.arange(shape[-1]) < lengths[..., None]
    result: NDArray[np.intp] = np.where(keep, words, 0).astype(np.intp)
    return result


# --- Continuous stack/queue/deque, set and tree memories (exercise 8-4) ---


@dataclass(frozen=True)
class StructureOperations:
    """A push/pop/value sequence for a continuous stack or queue.

    Shapes: values (*batch, T, D), push (*batch, T), pop (*batch, T); strengths in [0, 1]
    (exactly 0 or 1 when drawn with ``discrete=True``).
    """

    values: NDArray[np.floating[Any]]
    push: NDArray[np.floating[Any]]
    pop: NDArray[np.floating[Any]]


def unit_strength_arrays(
    dtype: np.dtype[Any] | type[np.floating[Any]], shape: tuple[int, ...], *, discrete: bool
) -> st.SearchStrategy[NDArray[np.floating[Any]]]:
    """Strengths in [0, 1] (endpoints included on purpose), or only {0, 1} if ``discrete``."""
    if discrete:
        return hnp.arrays(dtype=dtype, shape=shape, elements=st.sampled_from([0.0, 1.0]))
    width: Literal[32, 64] = 32 if np.dtype(dtype) == np.float32 else 64
    elements = st.one_of(
        st.sampled_from([0.0, 1.0]),
        st.floats(0.0, 1.0, allow_subnormal=False, width=width),
    )
    return hnp.arrays(dtype=dtype, shape=shape, elements=elements)


@st.composite
def structure_operations(
    draw: st.DrawFn,
    *,
    discrete: bool = False,
    dtype: np.dtype[Any] | None = None,
    batched: bool = False,
    max_steps: int = 10,
    max_width: int = 3,
    magnitude: float = DEFAULT_MAGNITUDE,
) -> StructureOperations:
    """Draw T ≥ 1 steps of (value, push, pop) with a random D (and batch, if ``batched``)."""
    chosen = draw(float_dtypes) if dtype is None else dtype
    batch = draw(batch_shapes) if batched else ()
    steps, width = draw(sizes(max_steps)), draw(sizes(max_width))
    return StructureOperations(
        values=draw(float_arrays(chosen, (*batch, steps, width), magnitude=magnitude)),
        push=draw(unit_strength_arrays(chosen, (*batch, steps), discrete=discrete)),
        pop=draw(unit_strength_arrays(chosen, (*batch, steps), discrete=discrete)),
    )


@dataclass(frozen=True)
class DequeOperations:
    """A sequence for a continuous deque: two values and four strengths per step.

    Shapes: values_top, values_bottom (T, D); push_top, pop_top, push_bottom, pop_bottom (T,).
    """

    values_top: NDArray[np.floating[Any]]
    values_bottom: NDArray[np.floating[Any]]
    push_top: NDArray[np.floating[Any]]
    pop_top: NDArray[np.floating[Any]]
    push_bottom: NDArray[np.floating[Any]]
    pop_bottom: NDArray[np.floating[Any]]


@st.composite
def deque_operations(
    draw: st.DrawFn,
    *,
    discrete: bool = False,
    dtype: np.dtype[Any] | None = None,
    max_steps: int = 8,
    max_width: int = 3,
) -> DequeOperations:
    """Draw T ≥ 1 deque steps (unbatched)."""
    chosen = draw(float_dtypes) if dtype is None else dtype
    steps, width = draw(sizes(max_steps)), draw(sizes(max_width))
    strengths = [draw(unit_strength_arrays(chosen, (steps,), discrete=discrete)) for _ in range(4)]
    return DequeOperations(
        values_top=draw(float_arrays(chosen, (steps, width))),
        values_bottom=draw(float_arrays(chosen, (steps, width))),
        push_top=strengths[0],
        pop_top=strengths[1],
        push_bottom=strengths[2],
        pop_bottom=strengths[3],
    )


@dataclass(frozen=True)
class SlotMemoryInputs:
    """Keys, values and an occupancy mask of a slot memory, with queries.

    Shapes: keys (*batch, C, D_k), values (*batch, C, D_v), occupied (*batch, C),
    query (*batch, L, D_k). For a tree, C = branching**depth.
    """

    keys: NDArray[np.floating[Any]]
    values: NDArray[np.floating[Any]]
    occupied: NDArray[np.bool_]
    query: NDArray[np.floating[Any]]
    branching: int


@st.composite
def slot_memory_inputs(
    draw: st.DrawFn,
    *,
    tree: bool = False,
    dtype: np.dtype[Any] | None = None,
    magnitude: float = 3.0,
) -> SlotMemoryInputs:
    """Draw a set memory (C ∈ 1..6, random occupancy) or a complete tree (b ∈ 2..3, depth 1..3)."""
    chosen = draw(float_dtypes) if dtype is None else dtype
    batch = draw(batch_shapes)
    branching = draw(st.integers(2, 3)) if tree else 0
    slots = branching ** draw(st.integers(1, 3)) if tree else draw(sizes(6))
    d_k, d_v, length = draw(sizes(3)), draw(sizes(3)), draw(sizes(3))
    occupied = (
        np.ones((*batch, slots), dtype=np.bool_) if tree else draw(bool_arrays((*batch, slots)))
    )
    return SlotMemoryInputs(
        keys=draw(float_arrays(chosen, (*batch, slots, d_k), magnitude=magnitude)),
        values=draw(float_arrays(chosen, (*batch, slots, d_v), magnitude=magnitude)),
        occupied=occupied,
        query=draw(float_arrays(chosen, (*batch, length, d_k), magnitude=magnitude)),
        branching=branching,
    )


# --- Hopfield capacity experiments (§8.6.1; impl.hopfield_capacity) ---


@dataclass(frozen=True)
class CapacityBatches:
    """T networks of N stored ±1 patterns on M neurons, a storage rule and a noise level.

    ``patterns`` (T, N, M); ``seed`` seeds the Generator of the recall dynamics.
    """

    patterns: NDArray[np.floating[Any]]
    rule: str
    noise_fraction: float
    seed: int


@st.composite
def capacity_batches(
    draw: st.DrawFn,
    *,
    max_trials: int = 3,
    max_patterns: int = 4,
    max_neurons: int = 12,
    dtype: np.dtype[Any] | type[np.floating[Any]] | None = None,
) -> CapacityBatches:
    """Draw small pattern stacks (T, N, M) with M ≥ 2, a rule name and a noise fraction."""
    chosen = draw(float_dtypes) if dtype is None else np.dtype(dtype)
    shape = (
        draw(sizes(max_trials)),
        draw(sizes(max_patterns)),
        draw(sizes(max_neurons, min_size=2)),
    )
    return CapacityBatches(
        patterns=draw(sign_vectors(shape, dtype=chosen)),
        rule=draw(st.sampled_from(["hebbian", "pseudo_inverse", "storkey"])),
        noise_fraction=draw(st.sampled_from([0.0, 0.1, 0.25, 0.5])),
        seed=draw(st.integers(min_value=0, max_value=2**32 - 1)),
    )
