"""End-to-end memory network (MemN2N): multi-hop key-value reads of a read-only memory.

Book: §8.5.1 (Sukhbaatar, Szlam, Weston & Fergus 2015, "End-To-End Memory
Networks", §2 and §4.1). Spec: ``spec.memory_network``.

The book's single read is r = Σ_n softmax_n(a_nᵀ q) c_n, y = f(q + r); the
paper names the pieces: sentences x_i (bags of word ids) are embedded by A into
memory keys m_i (the book's a_n) and by C into values c_i, the question by B
into the first query u^1 (the book's q), and each hop k reads

    p^k_i = softmax_i(u^{kᵀ} m^k_i),  o^k = Σ_i p^k_i c^k_i,
    u^{k+1} = u^k + o^k   (or H u^k + o^k, layer-wise tying),

with the answer â = softmax(W (u^K + o^K)) after K hops (the book's
y = f(q + r) with f = softmax ∘ W).

Conventions shared by every function here:

* **Tokens.** A sentence is an integer array of word ids of length J (a bag of
  words with an order). ``PADDING_ID`` = 0 marks "no word": every real word
  id is in 1..V−1, the padding may only come after the last real word of a
  sentence, and padded positions contribute nothing (whatever row 0 of an
  embedding holds). A story is (..., N, J): N sentences = N memory slots.
  A sentence of padding only is an **empty slot**: it is masked out of every
  softmax (weight exactly 0), so padding a story with empty sentences changes
  nothing. If every slot is empty the read is 0 (``impl.softmax``'s fully
  masked convention).
* **Shapes.** Embeddings are (V, d) arrays whose row v is the paper's column
  of A, B, C for word v (A ∈ R^{d×V} in the paper); the output matrix W is
  also (V, d) (the paper's W ∈ R^{V×d}), so the paper's adjacent tying
  Wᵀ = C^K is the identity of arrays W = C^K here. Queries are (..., d),
  memories (..., N, d). H is (d, d) and acts as u ↦ H u (``u @ H.T``).
* **Position encoding** (paper §4.1): m_i = Σ_j l_j ∘ A x_ij with
  l_kj = (1 − j/J) − (k/d)(1 − 2j/J), j = 1..J over the sentence's words and
  k = 1..d over embedding dims, J = the number of real words of *that*
  sentence. Without it, m_i = Σ_j A x_ij (bag of words).
  # Note: several public implementations use the padded length as J for every
  # sentence; the paper defines J as the number of words in the sentence, which
  # we follow (the two agree for unpadded sentences).
* **Temporal encoding** (paper §4.1): m_i = Σ_j A x_ij + T_A(i),
  c_i = Σ_j C x_ij + T_C(i), with T_A, T_C (N_max, d) learned. Slot i of the
  story (row i) gets row i of T. The paper numbers sentences from the most
  recent one; here the caller orders the slots (put the latest first to match).
* **Read-only memory.** Nothing here writes to its arguments; reading the
  memory any number of times leaves it unchanged (tested with read-only arrays).

Checked edges (issue 7). Public functions check and name their arguments
once and call private kernels (``_sentences``, ``_memory_vectors``, ``_hop``,
``_forward``); a hop is the shared softmax kernel of ``impl._numerics``.

* **Zero-size axes.** N = 0 sentences (every slot empty) reads 0 with
  weights of shape (..., 0); J = 0 words gives zero sentence vectors (empty
  slots); a question of J_q = 0 words gives u^1 = 0; a batch of 0 gives empty
  outputs. d ≥ 1 and V ≥ 2 are required (an embedding needs a padding row and
  a word).
* **Sizes.** ``position_encoding`` and ``MemN2NParameters.initialize`` refuse
  sizes whose arrays would exceed ``impl._validation.ALLOCATION_LIMIT_BYTES``;
  K is at most ``MAX_HOPS``.
* **Overflow.** Embedding entries so large that a sentence vector, a score
  u·m or the answer logits overflow the dtype are a ``ValueError`` naming the
  embeddings (or ``parameters``), never an inf or NaN in the output.
* **Containers.** ``MemN2NParameters`` checks itself when built and keeps
  read-only private copies of its arrays (tied entries stay one shared
  object): an in-place edit raises NumPy's "assignment destination is
  read-only", and ``dataclasses.replace`` runs the checks again.
"""

from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from impl import _numerics as num
from impl import _validation as check
from impl._typing import BoolArray, FloatArray, IntArray

PADDING_ID = 0
"""Word id meaning "no word" (the paper's nil word); real word ids are 1..V−1."""

Tying = Literal["adjacent", "layer_wise", "none"]
"""Weight-tying schemes of the paper (§2.2) and "none" (every array distinct)."""

INITIAL_STD = 0.1
"""Standard deviation of the Gaussian initialisation (paper §4.2: σ = 0.1)."""

MAX_HOPS = 1000
"""The largest K accepted: the paper uses K = 3; a forward pass loops over the hops in Python."""


# --- validation (at the public edge only) ---------------------------------------------------


def _tokens(tokens: object, name: str, vocabulary_size: int, *, min_ndim: int) -> IntArray:
    """Check an integer token array: ids in [0, V), padding only after the last real word."""
    if not isinstance(tokens, np.ndarray):
        raise TypeError(
            f"{name} must be a numpy integer array of word ids, got {type(tokens).__name__}"
        )
    if not np.issubdtype(tokens.dtype, np.integer) or tokens.dtype == np.bool_:
        raise TypeError(f"{name} must have an integer dtype (word ids), got {tokens.dtype}")
    if tokens.ndim < min_ndim:
        raise ValueError(f"{name} must have at least {min_ndim} axes, got shape {tokens.shape}")
    if tokens.size and (tokens.min() < 0 or tokens.max() >= vocabulary_size):
        bad = tokens[(tokens < 0) | (tokens >= vocabulary_size)].ravel()[0]
        raise ValueError(
            f"{name} has word id {bad}, outside 0..{vocabulary_size - 1} "
            f"(vocabulary size V = {vocabulary_size}; {PADDING_ID} is padding)"
        )
    real = tokens != PADDING_ID
    if np.any(real[..., 1:] & ~real[..., :-1]):
        raise ValueError(
            f"{name} has a word after padding: padding ({PADDING_ID}) may only follow the last "
            "real word of a sentence"
        )
    result: IntArray = tokens.astype(np.intp)
    return result


def _embedding(matrix: object, name: str) -> FloatArray:
    e = check.float_array(matrix, name, min_ndim=2)
    if e.ndim != 2 or e.shape[0] < 2 or e.shape[1] < 1:
        raise ValueError(
            f"{name} must be a (V, d) matrix with V ≥ 2 (padding + a word) and d ≥ 1, got {e.shape}"
        )
    return e


def _temporal(temporal: object, name: str, n: int, d: int, dtype: np.dtype[Any]) -> FloatArray:
    t = check.float_array(temporal, name, min_ndim=2)
    if t.dtype != dtype:
        raise TypeError(f"{name} has dtype {t.dtype}, the embedding has {dtype}")
    if t.ndim != 2 or t.shape[1] != d or t.shape[0] < n:
        raise ValueError(
            f"{name} must be (N_max, d) with N_max ≥ N = {n} and d = {d}, got {t.shape}"
        )
    return t


_SUM_SAFE = "keep J · max |entry| (plus the temporal rows) below the dtype's maximum"


# --- sentence representations ---------------------------------------------------------------


def position_encoding(
    num_words: int | np.integer[Any],
    dim: int | np.integer[Any],
    *,
    dtype: type[np.floating[Any]] = np.float64,
) -> FloatArray:
    r"""Position-encoding weights l_kj = (1 − j/J) − (k/d)(1 − 2j/J), as a (J, d) array.

    Book: §8.5.1 (Sukhbaatar et al. 2015, §4.1, position encoding).
    Shapes: -> (J, d); entry [j − 1, k − 1] is l_kj (1-based j ≤ J, k ≤ d).
    Properties (derived in the spec): l_kJ = k/d at the last word (so J = 1
    gives l_k1 = k/d); l_kj + l_{d−k, j} = 1 for 1 ≤ k < d; l_kj = 1/2 at
    j = J/2.
    Assumptions: J, d ≥ 1 ints; J·d entries must fit
    ``impl._validation.ALLOCATION_LIMIT_BYTES`` (else ``ValueError``).
    Spec: ``spec.memory_network.position_weight``.
    """
    chosen = check.float_dtype(dtype)
    J = check.size(num_words, "num_words", high=2**40)
    d = check.size(dim, "dim", high=2**40)
    check.allocation(J * d, np.dtype(np.float64), "num_words and dim", "a (J, d) table")
    j = np.arange(1, J + 1, dtype=np.float64)[:, None]
    k = np.arange(1, d + 1, dtype=np.float64)[None, :]
    weights: FloatArray = ((1 - j / J) - (k / d) * (1 - 2 * j / J)).astype(chosen)
    return weights


def _position_weights(real: BoolArray, dim: int, dtype: np.dtype[Any]) -> FloatArray:
    """l_kj for every word of every sentence with the sentence's own J; 0 at padding.

    real (..., J_max) -> (..., J_max, d).
    """
    lengths = real.sum(axis=-1, keepdims=True).astype(np.float64)  # J of each sentence
    safe = np.where(lengths > 0, lengths, 1.0)
    j = np.arange(1, real.shape[-1] + 1, dtype=np.float64)
    k = np.arange(1, dim + 1, dtype=np.float64)
    ratio = (j / safe)[..., None]  # j / J, (..., J_max, 1)
    weights = (1 - ratio) - (k / dim) * (1 - 2 * ratio)
    result: FloatArray = np.where(real[..., None], weights, 0).astype(dtype)
    return result


def _sentences(ids: IntArray, e: FloatArray, use_position_encoding: bool) -> FloatArray:
    """Σ_j (l_j ∘) A x_j: ids (..., J), e (V, d) -> (..., d); may overflow (callers check)."""
    real: BoolArray = ids != PADDING_ID
    vectors: FloatArray = e[ids]  # (..., J, d): row j is A x_j
    if use_position_encoding:
        weights = _position_weights(real, e.shape[1], e.dtype)
    else:
        weights = np.broadcast_to(real[..., None], vectors.shape).astype(e.dtype)
    with np.errstate(over="ignore", invalid="ignore"):
        summed: FloatArray = np.sum(weights * vectors, axis=-2).astype(e.dtype)
    return summed


def embed_sentences(
    tokens: IntArray, embedding: FloatArray, *, use_position_encoding: bool = False
) -> FloatArray:
    r"""Sentence vectors Σ_j A x_j (bag of words) or Σ_j l_j ∘ A x_j (position encoding).

    Book: §8.5.1 (Sukhbaatar et al. 2015, §2.1 and §4.1).
    Shapes: tokens (..., J) integer word ids, embedding (V, d) -> (..., d).
    Assumptions: see the module docstring (padding id 0, trailing padding;
    J in l_kj is the sentence's number of real words). An all-padding
    sentence (or J = 0) gives the zero vector. A sum that overflows the
    dtype is a ``ValueError`` naming ``embedding``.
    Spec: ``spec.memory_network.sentence_vector``.
    """
    e = _embedding(embedding, "embedding")
    ids = _tokens(tokens, "tokens", e.shape[0], min_ndim=1)
    pe = check.boolean(use_position_encoding, "use_position_encoding")
    return check.finite_result(_sentences(ids, e, pe), "embedding", _SUM_SAFE)


def _memory_vectors(
    ids: IntArray, e: FloatArray, t: FloatArray | None, use_position_encoding: bool
) -> FloatArray:
    """m_i = Σ_j (l_j ∘) A x_ij (+ T(i)): ids (..., N, J) -> (..., N, d)."""
    sentences = _sentences(ids, e, use_position_encoding)
    if t is None:
        return sentences
    n = sentences.shape[-2]
    with np.errstate(over="ignore", invalid="ignore"):
        encoded: FloatArray = (sentences + t[:n]).astype(sentences.dtype)  # + T_A(i)
    return encoded


def embed_memory(
    story: IntArray,
    embedding: FloatArray,
    temporal: FloatArray | None = None,
    *,
    use_position_encoding: bool = False,
) -> FloatArray:
    r"""Memory vectors m_i = Σ_j (l_j ∘) A x_ij + T_A(i) of every sentence of a story.

    Book: §8.5.1 (Sukhbaatar et al. 2015, §2.1, §4.1 temporal encoding).
    Shapes: story (..., N, J) word ids, embedding (V, d), temporal (N_max, d)
    with N ≤ N_max or None -> (..., N, d). N = 0 gives (..., 0, d).
    A sum that overflows the dtype is a ``ValueError`` naming the embedding.
    Spec: ``spec.memory_network.sentence_vector``.
    """
    e = _embedding(embedding, "embedding")
    ids = _tokens(story, "story", e.shape[0], min_ndim=2)
    pe = check.boolean(use_position_encoding, "use_position_encoding")
    t = (
        None
        if temporal is None
        else _temporal(temporal, "temporal", ids.shape[-2], e.shape[1], e.dtype)
    )
    vectors = _memory_vectors(ids, e, t, pe)
    return check.finite_result(vectors, "embedding (with temporal)", _SUM_SAFE)


def _slot_mask(ids: IntArray) -> BoolArray:
    mask: BoolArray = np.any(ids != PADDING_ID, axis=-1)
    return mask


def memory_mask(story: IntArray) -> BoolArray:
    """True for every memory slot whose sentence has a real word: (..., N, J) -> (..., N).

    Book: §8.5.1 (empty slots of a padded story are masked out of the softmax).
    """
    return _slot_mask(_tokens(story, "story", np.iinfo(np.intp).max, min_ndim=2))


# --- one hop --------------------------------------------------------------------------------


@dataclass(frozen=True)
class HopResult:
    """One read: o = Σ_i p_i c_i (..., d) and the attention p (..., N) (read-only arrays)."""

    read: FloatArray
    weights: FloatArray

    def __post_init__(self) -> None:
        check.seal(self)  # fresh arrays of the hop kernel, made read-only


def _hop(
    u: FloatArray, keys: FloatArray, values: FloatArray, mask: BoolArray | None
) -> tuple[FloatArray, FloatArray, bool]:
    """(read, weights, scores finite?) of one hop: p = softmax(m_iᵀ u), o = Σ p_i c_i."""
    with np.errstate(over="ignore", invalid="ignore"):
        scores: FloatArray = (keys @ u[..., :, None])[..., 0]  # m_iᵀ u: (..., N)
    finite = num.finite_or_none(scores)
    if not finite:
        # The caller raises; map ±inf/NaN to finite values so the kernel runs quietly.
        scores = np.nan_to_num(scores, nan=0.0)
    weights = num.softmax(scores, mask)
    with np.errstate(over="ignore", invalid="ignore"):  # the caller names an overflowed read
        read: FloatArray = (weights[..., None, :] @ values)[..., 0, :]  # Σ_i p_i c_i
    return read, weights, finite


_SCORE_SAFE = "keep |query| · |keys| (the scores m_iᵀ u) below the dtype's maximum"


def memory_hop(
    query: FloatArray, keys: FloatArray, values: FloatArray, mask: BoolArray | None = None
) -> HopResult:
    r"""One read of the memory: o = Σ_i softmax_i(m_iᵀ u) c_i.

    Book: §8.5.1, r = Σ_n softmax_n(a_nᵀ q) c_n — key-value attention
    (§8.2.1) with the dot-product score.
    Shapes: query u (..., d), keys m (..., N, d), values c (..., N, d_v),
    mask (..., N) True = occupied slot, or None -> read (..., d_v), weights (..., N).
    Assumptions: a fully masked memory (or N = 0) reads 0 with weights 0. The
    mask must not enlarge the batch. Scores m_iᵀ u that overflow the dtype are
    a ``ValueError`` naming query and keys. The memory is only read.
    Spec: ``spec.memory_network.read``.
    """
    q = check.float_array(query, "query", min_ndim=1)
    k = check.float_array(keys, "keys", min_ndim=2)
    v = check.float_array(values, "values", min_ndim=2)
    check.same_dtype(query=q, keys=k, values=v)
    check.feature_match("keys", k, "query", q)
    if k.shape[-2] != v.shape[-2]:
        raise ValueError(f"keys has {k.shape[-2]} slots, values has {v.shape[-2]}")
    batch = check.batch_broadcast(query=q[..., None, :], keys=k, values=v)
    allowed = None
    if mask is not None:
        allowed = check.bool_mask(mask, "mask", (*batch, k.shape[-2]))
    read, weights, finite = _hop(q, k, v, allowed)
    if not finite:
        raise ValueError(
            f"query and keys are too large: a score overflowed {q.dtype}; {_SCORE_SAFE}"
        )
    check.finite_result(read, "values", "keep max |values| below the dtype's maximum / 2")
    return HopResult(read, weights)


# --- the model ------------------------------------------------------------------------------


@dataclass(frozen=True)
class MemN2NParameters:
    r"""Embeddings and maps of a K-hop MemN2N (Sukhbaatar et al. 2015, §2).

    ``query_embedding`` B (V, d); ``key_embeddings`` A^1..A^K and
    ``value_embeddings`` C^1..C^K, tuples of (V, d); ``output`` W (V, d);
    ``hop_map`` H (d, d) or None (then u^{k+1} = u^k + o^k);
    ``temporal_keys`` T_A^1..T_A^K and ``temporal_values`` T_C^1..T_C^K,
    tuples of (N_max, d), or None (no temporal encoding).
    Tying is expressed by **identity**: tied entries are the same array object
    (``initialize`` builds them so); ``parameter_count`` counts distinct arrays.
    Checked when built (1 ≤ K ≤ ``MAX_HOPS``, shapes, one dtype, finite
    entries of any magnitude: a forward pass whose intermediates overflow is
    a ``ValueError`` naming ``parameters``); the
    arrays are kept as read-only private copies (tied entries remain one
    object), so an in-place edit raises NumPy's read-only error;
    ``dataclasses.replace`` checks the new values again.
    """

    query_embedding: FloatArray
    key_embeddings: tuple[FloatArray, ...]
    value_embeddings: tuple[FloatArray, ...]
    output: FloatArray
    hop_map: FloatArray | None = None
    temporal_keys: tuple[FloatArray, ...] | None = None
    temporal_values: tuple[FloatArray, ...] | None = None

    def __post_init__(self) -> None:
        B = _embedding(self.query_embedding, "query_embedding")
        V, d = B.shape
        for name in ("key_embeddings", "value_embeddings", "temporal_keys", "temporal_values"):
            value = getattr(self, name)
            optional = name.startswith("temporal")
            if not (optional and value is None) and not isinstance(value, tuple):
                raise TypeError(f"{name} must be a tuple of arrays, got {type(value).__name__}")
        hops = len(self.key_embeddings)
        if hops == 0 or len(self.value_embeddings) != hops:
            raise ValueError(
                f"need K ≥ 1 key_embeddings and value_embeddings of equal number, got "
                f"{hops} and {len(self.value_embeddings)}"
            )
        if hops > MAX_HOPS:
            raise ValueError(f"key_embeddings has K = {hops} hops; at most MAX_HOPS = {MAX_HOPS}")
        arrays: dict[str, FloatArray] = {"query_embedding": B}
        arrays["output"] = _embedding(self.output, "output")
        for k in range(hops):
            arrays[f"key_embeddings[{k}]"] = self.key_embeddings[k]
            arrays[f"value_embeddings[{k}]"] = self.value_embeddings[k]
        for name, array in arrays.items():
            if _embedding(array, name).shape != (V, d):
                raise ValueError(f"{name} has shape {array.shape}, query_embedding has {(V, d)}")
        if self.hop_map is not None:
            arrays["hop_map"] = check.float_array(self.hop_map, "hop_map", min_ndim=2)
            if self.hop_map.shape != (d, d):
                raise ValueError(f"hop_map must be (d, d) = {(d, d)}, got {self.hop_map.shape}")
        if (self.temporal_keys is None) != (self.temporal_values is None):
            raise ValueError("give both temporal_keys and temporal_values, or neither")
        if self.temporal_keys is not None and self.temporal_values is not None:
            if not len(self.temporal_keys) == len(self.temporal_values) == hops:
                raise ValueError(
                    f"need K = {hops} temporal_keys and temporal_values matrices, got "
                    f"{len(self.temporal_keys)} and {len(self.temporal_values)}"
                )
            first = check.float_array(self.temporal_keys[0], "temporal_keys[0]", min_ndim=2)
            size = first.shape[0]
            if size == 0:
                raise ValueError("temporal_keys[0] must have N_max ≥ 1 rows, got 0")
            pairs = [("temporal_keys", t) for t in self.temporal_keys]
            pairs += [("temporal_values", t) for t in self.temporal_values]
            for index, (name, t) in enumerate(pairs):
                k = index % hops
                arrays[f"{name}[{k}]"] = check.float_array(t, f"{name}[{k}]", min_ndim=2)
                if t.shape != (size, d):
                    raise ValueError(f"{name}[{k}] has shape {t.shape}, expected {(size, d)}")
        check.same_dtype(**arrays)
        # Read-only private copies, one per distinct array, so tying (identity) survives.
        copies: dict[int, FloatArray] = {}

        def frozen(x: FloatArray) -> FloatArray:
            if id(x) not in copies:
                copies[id(x)] = check.frozen(x)
            return copies[id(x)]

        def frozen_tuple(xs: tuple[FloatArray, ...] | None) -> tuple[FloatArray, ...] | None:
            return None if xs is None else tuple(frozen(x) for x in xs)

        object.__setattr__(self, "query_embedding", frozen(self.query_embedding))
        object.__setattr__(self, "key_embeddings", frozen_tuple(self.key_embeddings))
        object.__setattr__(self, "value_embeddings", frozen_tuple(self.value_embeddings))
        object.__setattr__(self, "output", frozen(self.output))
        if self.hop_map is not None:
            object.__setattr__(self, "hop_map", frozen(self.hop_map))
        object.__setattr__(self, "temporal_keys", frozen_tuple(self.temporal_keys))
        object.__setattr__(self, "temporal_values", frozen_tuple(self.temporal_values))

    @property
    def hops(self) -> int:
        """K, the number of memory hops."""
        return len(self.key_embeddings)

    @property
    def vocabulary_size(self) -> int:
        """V (including the padding id 0)."""
        return int(self.query_embedding.shape[0])

    @property
    def embedding_dim(self) -> int:
        """d."""
        return int(self.query_embedding.shape[1])

    @property
    def dtype(self) -> np.dtype[Any]:
        """The dtype shared by all arrays."""
        return self.query_embedding.dtype

    @property
    def memory_size(self) -> int | None:
        """N_max (rows of the temporal matrices), or None without temporal encoding."""
        return None if self.temporal_keys is None else int(self.temporal_keys[0].shape[0])

    def distinct_arrays(self) -> tuple[FloatArray, ...]:
        """Every parameter array once (tied entries are the same object, counted once)."""
        candidates: list[FloatArray] = [
            self.query_embedding,
            *self.key_embeddings,
            *self.value_embeddings,
            self.output,
        ]
        if self.hop_map is not None:
            candidates.append(self.hop_map)
        candidates += [*(self.temporal_keys or ()), *(self.temporal_values or ())]
        seen: dict[int, FloatArray] = {}
        for array in candidates:
            seen.setdefault(id(array), array)
        return tuple(seen.values())

    def parameter_count(self) -> int:
        """Number of scalars in the distinct arrays.

        Spec: ``spec.memory_network.parameter_count`` (as a function of V, d, K, N_max).
        """
        return sum(int(array.size) for array in self.distinct_arrays())

    @classmethod
    def initialize(
        cls,
        rng: np.random.Generator,
        *,
        vocabulary_size: int,
        embedding_dim: int,
        hops: int,
        tying: Tying = "adjacent",
        memory_size: int | None = None,
        dtype: type[np.floating[Any]] = np.float64,
    ) -> "MemN2NParameters":
        r"""Draw a MemN2N with the given tying from ``rng`` (entries N(0, 0.1²), row 0 = 0).

        ``tying`` (paper §2.2):
          * "adjacent": A^{k+1} = C^k, Wᵀ = C^K (here W = C^K), B = A^1 — and
            likewise T_A^{k+1} = T_C^k; no H.
          * "layer_wise": A^1 = … = A^K, C^1 = … = C^K (and T_A, T_C shared),
            B and W separate, and H (d, d) with u^{k+1} = H u^k + o^k.
          * "none": every array distinct, no H.
        ``memory_size`` N_max turns on temporal encoding.
        Sizes: 1 ≤ hops ≤ ``MAX_HOPS``; all arrays together must fit
        ``impl._validation.ALLOCATION_LIMIT_BYTES`` (else ``ValueError``).
        # Note: row PADDING_ID of each embedding is set to 0 (the paper's nil
        # word); it is never used (padding is masked), but it is counted.
        """
        gen = check.generator(rng)
        V = check.size(vocabulary_size, "vocabulary_size", low=2, high=2**40)
        d = check.size(embedding_dim, "embedding_dim", high=2**40)
        K = check.size(hops, "hops", high=MAX_HOPS, reason="a forward pass loops over the hops")
        chosen_tying: object = tying
        if not isinstance(chosen_tying, str) or chosen_tying not in (
            "adjacent",
            "layer_wise",
            "none",
        ):
            raise ValueError(f"tying must be 'adjacent', 'layer_wise' or 'none', got {tying!r}")
        n_max = None if memory_size is None else check.size(memory_size, "memory_size", high=2**40)
        chosen = check.float_dtype(dtype)
        total = (2 * K + 2) * V * d + d * d + (0 if n_max is None else 2 * K * n_max * d)
        check.allocation(
            total, chosen, "vocabulary_size, embedding_dim, hops and memory_size", "parameters"
        )

        def embedding() -> FloatArray:
            e = gen.normal(0.0, INITIAL_STD, size=(V, d)).astype(chosen)
            e[PADDING_ID] = 0
            return e

        def temporal() -> FloatArray:
            assert n_max is not None
            return gen.normal(0.0, INITIAL_STD, size=(n_max, d)).astype(chosen)

        t_keys: tuple[FloatArray, ...] | None = None
        t_values: tuple[FloatArray, ...] | None = None
        if tying == "adjacent":
            chain = [embedding() for _ in range(K + 1)]  # E_0 = B = A^1, E_k = C^k = A^{k+1}
            if n_max is not None:
                t_chain = [temporal() for _ in range(K + 1)]
                t_keys, t_values = tuple(t_chain[:K]), tuple(t_chain[1:])
            return cls(
                chain[0], tuple(chain[:K]), tuple(chain[1:]), chain[K], None, t_keys, t_values
            )
        if tying == "layer_wise":
            A, C = embedding(), embedding()
            B, W = embedding(), embedding()
            H = gen.normal(0.0, INITIAL_STD, size=(d, d)).astype(chosen)
            if n_max is not None:
                t_a, t_c = temporal(), temporal()
                t_keys, t_values = (t_a,) * K, (t_c,) * K
            return cls(B, (A,) * K, (C,) * K, W, H, t_keys, t_values)
        keys = tuple(embedding() for _ in range(K))
        values = tuple(embedding() for _ in range(K))
        if n_max is not None:
            t_keys = tuple(temporal() for _ in range(K))
            t_values = tuple(temporal() for _ in range(K))
        return cls(embedding(), keys, values, embedding(), None, t_keys, t_values)


@dataclass(frozen=True)
class MemN2NOutput:
    r"""A forward pass: queries u^1..u^K, reads o^1..o^K (..., d), attention p^1..p^K
    (..., N), and the answer logits W(u^K + o^K) and probabilities â (..., V)
    (read-only arrays)."""

    queries: tuple[FloatArray, ...]
    reads: tuple[FloatArray, ...]
    weights: tuple[FloatArray, ...]
    answer_logits: FloatArray
    answer_probabilities: FloatArray

    def __post_init__(self) -> None:
        check.seal(self)  # fresh arrays of the forward kernel, made read-only


def _forward(
    p: MemN2NParameters, story_ids: IntArray, question_ids: IntArray, pe: bool
) -> MemN2NOutput | None:
    """K hops and the answer; None if an intermediate overflowed (the caller raises)."""
    mask = _slot_mask(story_ids)
    u = _sentences(question_ids, p.query_embedding, pe)
    queries: list[FloatArray] = []
    reads: list[FloatArray] = []
    weights: list[FloatArray] = []
    for k in range(p.hops):
        t_a = None if p.temporal_keys is None else p.temporal_keys[k]
        t_c = None if p.temporal_values is None else p.temporal_values[k]
        keys = _memory_vectors(story_ids, p.key_embeddings[k], t_a, pe)
        values = _memory_vectors(story_ids, p.value_embeddings[k], t_c, pe)
        if not (num.finite_or_none(u) and num.finite_or_none(keys) and num.finite_or_none(values)):
            return None
        read, p_k, finite = _hop(u, keys, values, mask)
        if not (finite and num.finite_or_none(read)):
            return None
        hop = HopResult(read, p_k)
        queries.append(u)
        reads.append(hop.read)
        weights.append(hop.weights)
        if k < p.hops - 1:
            with np.errstate(over="ignore", invalid="ignore"):
                mapped: FloatArray = u if p.hop_map is None else u @ p.hop_map.T  # u or H u
                u = (mapped + hop.read).astype(p.dtype)  # u^{k+1} = (H) u^k + o^k
    with np.errstate(over="ignore", invalid="ignore"):
        final: FloatArray = (queries[-1] + reads[-1]).astype(p.dtype)  # u^K + o^K
        logits: FloatArray = final @ p.output.T  # W (u^K + o^K): (..., V)
    if not num.finite_or_none(logits):
        return None
    probabilities = num.softmax(logits)
    return MemN2NOutput(tuple(queries), tuple(reads), tuple(weights), logits, probabilities)


def memn2n_forward(
    parameters: MemN2NParameters,
    story: IntArray,
    question: IntArray,
    *,
    use_position_encoding: bool = False,
) -> MemN2NOutput:
    r"""K hops over the story's memory and the answer â = softmax(W (u^K + o^K)).

    Book: §8.5.1, r = Σ_n softmax_n(a_nᵀ q) c_n, multi-hop q^{(k+1)} = q^{(k)} +
    r^{(k)} (or H q^{(k)} + r^{(k)}), y = f(q + r) (Sukhbaatar et al. 2015, eqs. 1–3).
    Shapes: story (..., N, J) word ids, question (..., J_q) word ids (batch
    axes broadcast) -> ``MemN2NOutput``.
    Assumptions: see the module docstring (padding, empty slots masked,
    J per sentence, temporal rows 0..N−1; N = 0 reads 0). Every hop is the
    key-value attention read of ``memory_hop`` (run as its kernel); the story
    is never modified. Parameters so large that a sentence vector, a score or
    a logit overflows the dtype are a ``ValueError`` naming ``parameters``.
    # Note: the paper's final layer is â = softmax(W(o^K + u^K)) even with
    # layer-wise tying; we follow it literally (H is only applied between hops).
    Spec: ``spec.memory_network`` (read, sentence_vector).
    """
    p = check.instance(parameters, MemN2NParameters, "parameters")
    V = p.vocabulary_size
    story_ids = _tokens(story, "story", V, min_ndim=2)
    question_ids = _tokens(question, "question", V, min_ndim=1)
    pe = check.boolean(use_position_encoding, "use_position_encoding")
    try:
        np.broadcast_shapes(story_ids.shape[:-2], question_ids.shape[:-1])
    except ValueError:
        raise ValueError(
            f"batch axes of story {story_ids.shape[:-2]} and question {question_ids.shape[:-1]} "
            "do not broadcast"
        ) from None
    n = story_ids.shape[-2]
    if p.memory_size is not None and n > p.memory_size:
        raise ValueError(
            f"story has N = {n} sentences, temporal encoding covers N_max = {p.memory_size}"
        )
    output = _forward(p, story_ids, question_ids, pe)
    if output is None:
        raise ValueError(
            f"parameters are too large: a sentence vector, score or logit overflowed {p.dtype} "
            "(keep the embeddings' entries of the order of 1, as initialize draws them)"
        )
    return output
