"""Hierarchical attention: words → sentences → document (Yang et al. 2016, HAN).

Book: §8.2.1, structured attention (a), hierarchical attention. Each level is
attention pooling with a learned context vector u:

    u_it = tanh(W h_it + b),   α_it = softmax_t(u_itᵀ u_w),   s_i = Σ_t α_it h_it   (words)
    u_i  = tanh(W' s_i + b'),  β_i  = softmax_i(u_iᵀ u_s),    v   = Σ_i β_i s_i     (sentences)

so the document vector v = Σ_i Σ_t β_i α_it h_it is a convex combination of
the word states with weights β_i α_it.

Note: the paper runs a bidirectional GRU over the words (giving h_it) and
another over the sentence vectors s_i before the sentence-level attention.
Here the word states h_it are an input (any encoder may produce them) and the
sentence level pools the s_i directly (the sentence encoder is the identity),
which keeps the document vector a convex combination of the word states.

Ragged documents use a word mask (True = real word):

* a padded word (mask False) gets weight exactly 0, whatever its state holds;
* an **empty sentence** (all its words masked) has word weights all 0 and
  sentence vector 0, and is itself masked at the sentence level (weight 0);
* an **empty document** (every word masked) has all weights 0 and document
  vector 0 (not NaN) — the convention of ``impl.softmax`` for fully masked rows.

Checked once: public functions check and name their arguments, then run the
kernels ``_logits`` → ``_pool`` → ``impl._numerics.softmax``. Zero-size axes
are a ValueError naming the argument (use the mask for empty sentences); a
mask must not enlarge the result. Finite states of any size give finite
weights (tanh saturates); a pooled vector that overflows, or a projection
W h that overflows to inf − inf, is a ValueError naming the states. The
parameter containers keep read-only private copies (an in-place edit raises;
``dataclasses.replace`` re-checks).
"""

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from impl import _numerics as kernels
from impl import _validation as check
from impl._typing import BoolArray, FloatArray, IntScalar


@dataclass(frozen=True)
class AttentionPoolingParameters:
    r"""Parameters of one attention-pooling level: u = tanh(W h + b), score = uᵀ context.

    Book shapes (columns): W ∈ R^{D_a×D}, b ∈ R^{D_a}, context u_w ∈ R^{D_a}.
    We store the same: ``W`` (D_a, D), ``b`` (D_a,), ``context`` (D_a,).
    """

    W: FloatArray
    b: FloatArray
    context: FloatArray

    def __post_init__(self) -> None:
        W = check.float_array(self.W, "W", min_ndim=2, nonempty=True)
        b = check.float_array(self.b, "b", min_ndim=1, nonempty=True)
        context = check.float_array(self.context, "context", min_ndim=1, nonempty=True)
        check.same_dtype(W=W, b=b, context=context)
        if W.ndim != 2 or b.ndim != 1 or context.ndim != 1:
            raise ValueError(
                f"W must be a matrix and b, context vectors, got W {W.shape}, b {b.shape}, "
                f"context {context.shape}"
            )
        if not W.shape[0] == b.shape[0] == context.shape[0]:
            raise ValueError(
                f"W, b and context must share the attention size D_a: W has {W.shape[0]} rows, "
                f"b has {b.shape[0]} entries, context has {context.shape[0]}"
            )
        check.frozen_fields(self, W=W, b=b, context=context)

    @property
    def input_dim(self) -> int:
        """D, the width of the vectors this level pools."""
        return int(self.W.shape[1])

    @classmethod
    def initialize(
        cls,
        rng: np.random.Generator,
        *,
        input_dim: IntScalar,
        attention_dim: IntScalar,
        dtype: type[np.floating[Any]] = np.float64,
    ) -> "AttentionPoolingParameters":
        """Draw W, context uniformly in ±1/√fan_in from ``rng``; b = 0."""
        gen = check.generator(rng)
        d, d_a, chosen = _dims(input_dim, attention_dim, dtype)
        w_bound, u_bound = 1.0 / math.sqrt(d), 1.0 / math.sqrt(d_a)
        return cls(
            W=gen.uniform(-w_bound, w_bound, size=(d_a, d)).astype(chosen),
            b=np.zeros(d_a, dtype=chosen),
            context=gen.uniform(-u_bound, u_bound, size=d_a).astype(chosen),
        )


@dataclass(frozen=True)
class HierarchicalAttentionParameters:
    """The word-level (u_w) and sentence-level (u_s) attention parameters of HAN."""

    word: AttentionPoolingParameters
    sentence: AttentionPoolingParameters

    def __post_init__(self) -> None:
        check.instance(self.word, AttentionPoolingParameters, "word")
        check.instance(self.sentence, AttentionPoolingParameters, "sentence")
        check.same_dtype(word=self.word.W, sentence=self.sentence.W)
        if self.word.input_dim != self.sentence.input_dim:
            raise ValueError(
                f"word level pools {self.word.input_dim}-dimensional states but the sentence "
                f"level expects {self.sentence.input_dim}; with the identity sentence encoder "
                "they must agree"
            )

    @classmethod
    def initialize(
        cls,
        rng: np.random.Generator,
        *,
        input_dim: IntScalar,
        attention_dim: IntScalar,
        dtype: type[np.floating[Any]] = np.float64,
    ) -> "HierarchicalAttentionParameters":
        """Draw both levels from ``rng`` (word level first)."""
        gen = check.generator(rng)
        _dims(input_dim, attention_dim, dtype)
        return cls(
            word=AttentionPoolingParameters.initialize(
                gen, input_dim=input_dim, attention_dim=attention_dim, dtype=dtype
            ),
            sentence=AttentionPoolingParameters.initialize(
                gen, input_dim=input_dim, attention_dim=attention_dim, dtype=dtype
            ),
        )


def _dims(input_dim: object, attention_dim: object, dtype: object) -> tuple[int, int, Any]:
    d = check.positive_int(input_dim, "input_dim")
    d_a = check.positive_int(attention_dim, "attention_dim")
    chosen = check.float_dtype(dtype)
    check.allocation(d_a * (d + 2), chosen, "input_dim and attention_dim", "W, b, context")
    return d, d_a, chosen


def _check_level(
    states: object, name: str, parameters: object, min_ndim: int
) -> tuple[FloatArray, AttentionPoolingParameters]:
    h = check.float_array(states, name, min_ndim=min_ndim, nonempty=True)
    p = check.instance(parameters, AttentionPoolingParameters, "parameters")
    check.same_dtype(**{name: h, "parameters": p.W})
    if h.shape[-1] != p.input_dim:
        raise ValueError(f"{name} has {h.shape[-1]} features, W expects {p.input_dim}")
    return h, p


class _PoolingOverflowError(Exception):
    """A projection or pooled vector overflowed; re-raised naming the states."""


def _overflowed(name: str, dtype: Any) -> ValueError:
    return ValueError(
        f"{name} are too large: W h + b or the pooled Σ_t α_t h_t overflowed {dtype}; keep "
        "|states| below the dtype's maximum divided by the number of pooled vectors"
    )


def _logits(h: FloatArray, p: AttentionPoolingParameters) -> FloatArray:
    with np.errstate(over="ignore", invalid="ignore"):
        pre: FloatArray = h @ p.W.T + p.b
    if np.isnan(pre).any():
        raise _PoolingOverflowError
    hidden: FloatArray = np.tanh(pre)  # rows u_tᵀ: (..., T, D_a); tanh(±inf) = ±1
    logits: FloatArray = hidden @ p.context  # (..., T)
    return logits


def _pool(
    h: FloatArray, p: AttentionPoolingParameters, allowed: BoolArray | None
) -> tuple[FloatArray, FloatArray]:
    logits = _logits(h, p)
    weights = kernels.softmax(logits, allowed)  # masked → 0; fully masked row → all 0
    # Note: a padded state is multiplied by an exact 0 weight, so any finite garbage it holds
    # contributes exactly 0; np.where makes that explicit (and shields against 0·huge).
    valid: BoolArray = np.broadcast_to(weights > 0, logits.shape)
    kept: FloatArray = np.where(valid[..., None], h, np.zeros((), dtype=h.dtype))
    with np.errstate(over="ignore", invalid="ignore"):
        pooled: FloatArray = np.einsum("...t,...td->...d", weights, kept)  # Σ_t α_t h_t
    if not np.isfinite(pooled).all():
        raise _PoolingOverflowError
    return pooled, weights


def attention_pooling_scores(
    states: FloatArray, parameters: AttentionPoolingParameters
) -> FloatArray:
    r"""Attention logits u_tᵀ u_w with u_t = tanh(W h_t + b), one per vector.

    Book: §8.2.1 (a), HAN: u_it = tanh(W_w h_it + b_w), logit u_itᵀ u_w.
    Shapes: states (..., T, D) -> (..., T). The book's columns h_t are our
    rows states[..., t, :]. Edges: see the module docstring.
    """
    h, p = _check_level(states, "states", parameters, 2)
    try:
        return _logits(h, p)
    except _PoolingOverflowError:
        raise _overflowed("states", h.dtype) from None


def attention_pooling(
    states: FloatArray,
    parameters: AttentionPoolingParameters,
    mask: BoolArray | None = None,
) -> tuple[FloatArray, FloatArray]:
    r"""One level of HAN: weights α_t = softmax_t(u_tᵀ u) and the pooled vector Σ_t α_t h_t.

    Book: §8.2.1 (a), hierarchical attention (word level:
    α_it = softmax_t(u_itᵀ u_w), s_i = Σ_t α_it h_it).
    Shapes: states (..., T, D), mask (..., T) broadcastable without enlarging
    the result, True = real -> (pooled (..., D), weights (..., T)).
    A fully masked row gives weights 0 and pooled vector 0 (see the module docstring).
    Spec: none; the weights are ``impl.softmax.softmax`` of ``attention_pooling_scores``.
    """
    h, p = _check_level(states, "states", parameters, 2)
    allowed = None if mask is None else check.bool_mask(mask, "mask", h.shape[:-1])
    try:
        return _pool(h, p, allowed)
    except _PoolingOverflowError:
        raise _overflowed("states", h.dtype) from None


@dataclass(frozen=True)
class HierarchicalAttentionResult:
    """Output of ``hierarchical_attention``.

    document: (..., D) — v = Σ_i β_i s_i.
    sentence_vectors: (..., S, D) — s_i = Σ_t α_it h_it (0 for an empty sentence).
    word_weights: (..., S, T) — α_it; each non-empty sentence's row sums to 1.
    sentence_weights: (..., S) — β_i; sums to 1 unless the document is empty.
    """

    document: FloatArray
    sentence_vectors: FloatArray
    word_weights: FloatArray
    sentence_weights: FloatArray

    @property
    def word_document_weights(self) -> FloatArray:
        """β_i α_it: the weight of word (i, t) in the document vector, shape (..., S, T)."""
        product: FloatArray = self.sentence_weights[..., :, None] * self.word_weights
        return product


def hierarchical_attention(
    word_states: FloatArray,
    parameters: HierarchicalAttentionParameters,
    word_mask: BoolArray | None = None,
) -> HierarchicalAttentionResult:
    r"""Document vector v = Σ_i β_i Σ_t α_it h_it by word-, then sentence-level attention.

    Book: §8.2.1 (a), hierarchical attention (Yang et al. 2016): word attention
    with context u_w pools each sentence's words into s_i, sentence attention
    with context u_s pools the s_i into the document vector.
    Shapes: word_states (..., S, T, D) — S sentences of T (padded) words, the
    book's columns h_it are our rows word_states[..., i, t, :]; word_mask
    (..., S, T) broadcastable, True = real word (None = all real)
    -> ``HierarchicalAttentionResult`` (document (..., D), sentence_vectors
    (..., S, D), word_weights (..., S, T), sentence_weights (..., S)).
    Assumptions: finite word states (padded positions may hold any finite
    value; they get weight exactly 0). Empty sentences are masked at the
    sentence level; an empty document gives zero weights and a zero vector.
    Note: the sentence encoder of the paper (a bidirectional GRU) is the identity here
    (see the module docstring).
    Spec: none (no symbolic twin); the tests compare with a float64 loop over the formula.
    """
    h = check.float_array(word_states, "word_states", min_ndim=3, nonempty=True)
    p = check.instance(parameters, HierarchicalAttentionParameters, "parameters")
    _check_level(h, "word_states", p.word, 3)
    word_shape = h.shape[:-1]  # (..., S, T)
    if word_mask is None:
        mask: BoolArray = np.ones(word_shape, dtype=np.bool_)
    else:
        mask = np.broadcast_to(check.bool_mask(word_mask, "word_mask", word_shape), word_shape)
    try:
        sentence_vectors, word_weights = _pool(h, p.word, mask)
        # An empty sentence (no real word) is masked one level up.
        sentence_mask: BoolArray = np.any(mask, axis=-1, keepdims=False)
        document, sentence_weights = _pool(sentence_vectors, p.sentence, sentence_mask)
    except _PoolingOverflowError:
        raise _overflowed("word_states", h.dtype) from None
    return HierarchicalAttentionResult(
        document=document,
        sentence_vectors=sentence_vectors,
        word_weights=word_weights,
        sentence_weights=sentence_weights,
    )
