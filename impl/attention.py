"""The attention mechanism of §8.2: distribution, soft/hard/key-value attention.

Book: §8.2 (attention distribution, soft attention) and §8.2.1 (hard
attention, key-value attention); PyTorch-compatible
``scaled_dot_product_attention`` (Vaswani et al. 2017, eq. 1).
Spec: ``spec.attention``.

Shape mapping. The book attends with one column query q over columns
X = [x_1, …, x_N] ∈ R^{D×N}. Here a query set is (..., L, D) — L queries at
once, one per row — and the inputs are (..., N, D); the weights are
(..., L, N) with row l the distribution α over the N inputs for query l, and
the book's Σ_n α_n x_n is the matrix product ``weights @ inputs``. Leading
batch axes broadcast.

Masks are boolean, broadcastable to (..., L, N), True = may attend (as in
PyTorch's ``scaled_dot_product_attention``). A query whose every position is
masked gets weights 0 and output 0 (see ``impl.softmax``); hard attention
returns index −1 for it. A mask must not enlarge the result (more or longer
axes than the scores is a ValueError); float, list and 0-d masks are a
TypeError (except the additive float mask of ``scaled_dot_product_attention``,
which must have the inputs' dtype).

Checked once. Each public function checks and names its arguments, then calls
the kernels ``_scores`` → ``_distribution`` → ``impl._numerics.softmax``
(``_key_value``, ``_sdpa`` likewise); other modules (multi-head attention,
the memories) call these kernels, never the checking functions. Edge cases:

* zero-size axes (L, N, D, a batch of 0) are a ValueError naming the argument
  (no distribution over zero inputs; empty query sets are refused too);
* a user ``score`` must be callable and return a float array of shape
  (..., L, N) in the inputs' dtype without NaN or +inf (−inf = masked), else
  a ValueError/TypeError naming ``score``;
* finite inputs whose scores overflow are a ValueError naming the query and
  key arguments; the softmax itself is stable, and a weighted sum that
  overflows (values near the dtype's maximum) is a ValueError naming the
  value argument. Every other finite input gives a finite result.
"""

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from impl import _numerics as kernels
from impl import _validation as check
from impl import blocked_attention as _blocked  # issue 11: blocked dispatch
from impl._typing import (
    BoolArray,
    FloatArray,
    IntArray,
    IntScalar,
    Queries,
    RealScalar,
    Scores,
    Vectors,
    Weights,
)
from impl.scores import (
    ScoreFunction,
    _kernel_for,
    _overflow_error,
    _scaled_dot,
    _transposed,
    scaled_dot_product_score,
)

NO_INDEX = kernels.NO_INDEX
"""Index returned by hard attention for a query whose every position is masked."""

ATTENTION_SAMPLE_LIMIT = 10**6
"""The most samples ``reinforce_gradient_estimate`` draws per call (more would run for minutes)."""


class _AttentionOverflowError(Exception):
    """Scores or outputs overflowed; the public function re-raises it naming its arguments."""


# --------------------------------------------------------------------------- kernels


def _scores(q: FloatArray, k: FloatArray, score: Callable[..., Any]) -> FloatArray:
    """Scores (..., L, N) from an impl kernel or a user callable (whose result is checked)."""
    kernel = _kernel_for(score)
    if kernel is not None:
        scores = kernel(q, k)
        if not np.isfinite(scores).all():
            raise _AttentionOverflowError
        return scores
    expected = (*np.broadcast_shapes(q.shape[:-2], k.shape[:-2]), q.shape[-2], k.shape[-2])
    return check.returned_array(score(q, k), "score", shape=expected, dtype=q.dtype)


def _distribution(
    q: FloatArray, k: FloatArray, score: Callable[..., Any], allowed: BoolArray | None
) -> FloatArray:
    """softmax_n(s(k_n, q_l)) with masked positions 0: the attention distribution kernel."""
    return kernels.softmax(_scores(q, k, score), allowed)


def _weighted_sum(weights: FloatArray, values: FloatArray) -> FloatArray:
    with np.errstate(over="ignore", invalid="ignore"):
        result: FloatArray = weights @ values  # Σ_n α_n v_n for each query row
    if not np.isfinite(result).all():
        raise _AttentionOverflowError
    return result


def _key_value(
    q: FloatArray,
    k: FloatArray,
    v: FloatArray,
    score: Callable[..., Any],
    allowed: BoolArray | None,
) -> FloatArray:
    """Σ_n softmax_n(s(k_n, q)) v_n: the key-value attention kernel."""
    return _weighted_sum(_distribution(q, k, score, allowed), v)


def _sdpa(
    q: FloatArray,
    k: FloatArray,
    v: FloatArray,
    allowed: BoolArray | None,
    additive: FloatArray | None,
    factor: float | None,
) -> tuple[FloatArray, FloatArray]:
    """softmax(Q Kᵀ · factor + additive, allowed) V and the weights (factor None: 1/√E)."""
    # Note: one errstate for the whole kernel (entering one costs microseconds); overflow
    # is detected from the values below and re-raised by the caller as a named error.
    with np.errstate(over="ignore", invalid="ignore"):
        if factor is None:
            scores = _scaled_dot(q, k)
        else:
            scores = (q @ _transposed(k)) * np.asarray(factor, dtype=q.dtype)
        if additive is None:
            overflowed = not np.isfinite(scores).all()
        else:
            scores = (scores + additive).astype(q.dtype)
            overflowed = not (scores < np.inf).all()  # NaN or +inf (−inf = forbidden)
        if overflowed:
            raise _AttentionOverflowError
        weights = kernels.softmax(scores, allowed)
        return _weighted_sum(weights, v), weights


# --------------------------------------------------------------------------- checks


def _query_keys_mask(
    query: object,
    keys: object,
    score: object,
    mask: object,
    keys_name: str,
    query_name: str = "query",
) -> tuple[FloatArray, FloatArray, Callable[..., Any], BoolArray | None]:
    """Check query, keys, score and mask once (the caller's names); return the mask's target."""
    q = check.float_array(query, query_name, min_ndim=2, nonempty=True)
    k = check.float_array(keys, keys_name, min_ndim=2, nonempty=True)
    check.same_dtype(**{query_name: q, keys_name: k})
    batch = check.batch_broadcast(**{query_name: q, keys_name: k})
    f = check.callable_(score, "score")
    if _kernel_for(f) is not None:
        check.feature_match(keys_name, k, query_name, q)
    target = (*batch, q.shape[-2], k.shape[-2])
    allowed = None if mask is None else check.bool_mask(mask, "mask", target)
    return q, k, f, allowed


def attention_distribution(
    query: Queries,
    keys: Vectors,
    *,
    score: ScoreFunction = scaled_dot_product_score,
    mask: BoolArray | None = None,
) -> Weights:
    r"""Attention distribution α_n = p(z = n | X, q) = softmax_n(s(x_n, q)).

    Book: §8.2, attention distribution (first step of attention).
    Shapes: query (..., L, D_q), keys (..., N, D_k) -> weights (..., L, N);
    row l is the distribution over the N inputs for the book's query q_l.
    Assumptions: ``score`` returns (..., L, N); ``mask`` True = may attend;
    a fully masked row has weights 0 (sums to 0, not 1). Edges: see the
    module docstring.
    Spec: ``spec.attention.attention_distribution``.
    """
    q, k, f, allowed = _query_keys_mask(query, keys, score, mask, "keys")
    try:
        return _distribution(q, k, f, allowed)
    except _AttentionOverflowError:
        raise _overflow_error("query and keys", q.dtype) from None


def soft_attention(
    query: Queries,
    inputs: Vectors,
    *,
    score: ScoreFunction = scaled_dot_product_score,
    mask: BoolArray | None = None,
) -> Queries:
    r"""Soft attention att(X, q) = Σ_n α_n x_n = E_{z∼p(z|X,q)}[x_z].

    Book: §8.2, soft attention (weighted average of the inputs).
    Shapes: query (..., L, D_q), inputs (..., N, D) -> (..., L, D).
    Assumptions: the inputs serve as keys and values alike; see
    ``attention_distribution`` for masks, and the module docstring for edges
    (errors name ``query`` and ``inputs``).
    Spec: ``spec.attention.soft_attention``.
    """
    q, x, f, allowed = _query_keys_mask(query, inputs, score, mask, "inputs")
    try:
        return _key_value(q, x, x, f, allowed)
    except _AttentionOverflowError:
        raise _overflow_error("query and inputs", q.dtype) from None


def key_value_attention(
    query: Queries,
    keys: Vectors,
    values: Vectors,
    *,
    score: ScoreFunction = scaled_dot_product_score,
    mask: BoolArray | None = None,
) -> Queries:
    r"""Key-value attention att((K, V), q) = Σ_n softmax_n(s(k_n, q)) v_n.

    Book: §8.2.1, key-value attention (keys make the distribution, values are summed).
    Shapes: query (..., L, D_q), keys (..., N, D_k), values (..., N, D_v) -> (..., L, D_v).
    The book's columns k_n, v_n are our rows keys[..., n, :], values[..., n, :].
    Edges: see the module docstring (an overflow names query, keys and values).
    Spec: ``spec.attention.key_value_attention``.
    """
    q, k, v, f, allowed = _key_value_checked(query, keys, values, score, mask, "query")
    try:
        return _key_value(q, k, v, f, allowed)
    except _AttentionOverflowError:
        raise _overflow_error("query, keys and values", q.dtype) from None


def _key_value_checked(
    query: object, keys: object, values: object, score: object, mask: object, query_name: str
) -> tuple[FloatArray, FloatArray, FloatArray, Callable[..., Any], BoolArray | None]:
    """The checks of key-value attention, naming the query argument ``query_name``."""
    q, k, f, allowed = _query_keys_mask(query, keys, score, mask, "keys", query_name)
    v = check.float_array(values, "values", min_ndim=2, nonempty=True)
    check.same_dtype(**{query_name: q, "values": v})
    if k.shape[-2] != v.shape[-2]:
        raise ValueError(f"keys has {k.shape[-2]} vectors, values has {v.shape[-2]}")
    check.batch_broadcast(**{query_name: q, "keys": k, "values": v})
    return q, k, v, f, allowed


def _sample_index(w: FloatArray, gen: np.random.Generator) -> IntArray:
    """Inverse-CDF draws z ∼ w per row; all-zero rows give NO_INDEX."""
    cumulative: FloatArray = np.cumsum(w.astype(np.float64), axis=-1)
    total: FloatArray = cumulative[..., -1:]
    # Inverse-CDF sampling: u ∼ U[0, total); z = #{n : F_n ≤ u}.
    u: FloatArray = gen.random(size=total.shape) * total
    index: IntArray = (cumulative <= u).sum(axis=-1).astype(np.intp)
    # Note: guard the u ≈ total rounding case, and fully masked rows.
    index = np.minimum(index, w.shape[-1] - 1)
    empty: BoolArray = total[..., 0] <= 0
    result: IntArray = np.where(empty, NO_INDEX, index).astype(np.intp)
    return result


def sample_attention_index(weights: Weights, rng: np.random.Generator) -> IntArray:
    r"""Draw z ∼ α independently for every row of ``weights``.

    Book: §8.2.1, hard attention by random sampling.
    Shapes: weights (..., N) -> indices (...,), int. A row of all zeros (fully
    masked) gives ``NO_INDEX`` (−1).
    Assumptions: rows are distributions (non-negative, summing to 1 within
    2N·eps, or all 0), as returned by ``attention_distribution``; anything
    else is a ValueError naming ``weights``. Zero-size axes are a ValueError.
    """
    gen = check.generator(rng)
    w = check.float_array(weights, "weights", min_ndim=1, nonempty=True)
    # tolerance: a softmax row's sum is off by at most γ_{N−1} + N·u ≤ N·eps (eps = 2u); ×2 safety
    check.distribution(
        w, "weights", allow_zero_rows=True, tolerance=2 * w.shape[-1] * float(np.finfo(w.dtype).eps)
    )
    return _sample_index(w, gen)


def hard_attention_argmax(
    query: Queries,
    inputs: Vectors,
    *,
    score: ScoreFunction = scaled_dot_product_score,
    mask: BoolArray | None = None,
) -> tuple[Queries, IntArray]:
    r"""Hard attention by max selection: att = x_n̂ with n̂ = argmax_n α_n.

    Book: §8.2.1, hard attention (1).
    Shapes: query (..., L, D_q), inputs (..., N, D) -> (outputs (..., L, D),
    indices (..., L)). Ties go to the lowest index (NumPy's argmax). A fully
    masked query gets index −1 and a zero output. Edges: module docstring.
    """
    q, x, f, allowed = _query_keys_mask(query, inputs, score, mask, "inputs")
    try:
        weights = _distribution(q, x, f, allowed)
    except _AttentionOverflowError:
        raise _overflow_error("query and inputs", q.dtype) from None
    index: IntArray = np.argmax(weights, axis=-1).astype(np.intp)
    index = np.where(weights.sum(axis=-1) > 0, index, NO_INDEX).astype(np.intp)
    return kernels.gather_rows(x, index), index


def hard_attention_sample(
    query: Queries,
    inputs: Vectors,
    rng: np.random.Generator,
    *,
    score: ScoreFunction = scaled_dot_product_score,
    mask: BoolArray | None = None,
) -> tuple[Queries, IntArray]:
    r"""Hard attention by random sampling: att = x_z with z ∼ α.

    Book: §8.2.1, hard attention (2). Its expectation over z is soft attention.
    Shapes: as ``hard_attention_argmax``. ``rng`` is the only source of randomness.
    """
    gen = check.generator(rng)
    q, x, f, allowed = _query_keys_mask(query, inputs, score, mask, "inputs")
    try:
        weights = _distribution(q, x, f, allowed)
    except _AttentionOverflowError:
        raise _overflow_error("query and inputs", q.dtype) from None
    index = _sample_index(weights, gen)
    return kernels.gather_rows(x, index), index


def _scores_and_losses(scores: object, losses: object) -> tuple[FloatArray, FloatArray]:
    """Validate (scores, losses) of shape (..., N) and broadcast them to one shape."""
    s = check.float_array(scores, "scores", min_ndim=1, nonempty=True)
    loss = check.float_array(losses, "losses", min_ndim=1, nonempty=True)
    check.same_dtype(scores=s, losses=loss)
    try:
        shape = np.broadcast_shapes(s.shape, loss.shape)
    except ValueError:
        raise ValueError(
            f"scores {s.shape} and losses {loss.shape} must broadcast to one shape (..., N)"
        ) from None
    if shape[-1] != s.shape[-1]:
        raise ValueError(f"losses has {loss.shape[-1]} entries per row, scores has {s.shape[-1]}")
    return np.broadcast_to(s, shape), np.broadcast_to(loss, shape)


def _losses_overflow(dtype: np.dtype[Any]) -> ValueError:
    return ValueError(
        f"losses are too large: L_n − Σ α L overflows {dtype}; keep |losses| below half the "
        f"dtype's maximum ({float(np.finfo(dtype).max) / 2:.3g})"
    )


def expected_loss_gradient(scores: Scores, losses: FloatArray) -> FloatArray:
    r"""Exact gradient ∂/∂s_j E_{z∼softmax(s)}[L_z] = α_j (L_j − Σ_n α_n L_n).

    Book: §8.2.1 (hard attention is trained with reinforcement learning; this
    is the exact gradient its estimator targets).
    Shapes: scores (..., N), losses (..., N) (L_n = L(x_n), the loss if input n
    is selected) -> (..., N). Finite scores of any size are fine (stable
    softmax); losses whose differences overflow are a ValueError naming
    ``losses``; zero-size axes are a ValueError.
    Spec: ``spec.attention.expected_loss_gradient``.
    """
    s, loss = _scores_and_losses(scores, losses)
    alpha = kernels.softmax(s)
    with np.errstate(over="ignore", invalid="ignore"):
        mean: FloatArray = (alpha * loss).sum(axis=-1, keepdims=True)
        gradient: FloatArray = alpha * (loss - mean)
    if not np.isfinite(gradient).all():
        raise _losses_overflow(s.dtype)
    return gradient


def reinforce_gradient_estimate(
    scores: Scores, losses: FloatArray, rng: np.random.Generator, *, num_samples: IntScalar
) -> FloatArray:
    r"""Monte-Carlo (REINFORCE) estimate of ∇_s E_{z∼α}[L_z] = E[L_z ∇_s log α_z].

    Book: §8.2.1 (hard attention trained by reinforcement learning); Williams
    (1992). For α = softmax(s), ∇_s log α_z = e_z − α, so each sample
    contributes L_z (e_z − α); the estimate is their mean over ``num_samples``
    draws z ∼ α from ``rng``. It is unbiased; its variance falls as 1/num_samples.
    Shapes: scores (..., N), losses (..., N) -> (..., N).
    Limits: ``num_samples`` ≤ ``ATTENTION_SAMPLE_LIMIT`` (10⁶), and the
    (num_samples, ..., N) draws must fit ``ALLOCATION_LIMIT_BYTES``; larger is
    a ValueError naming ``num_samples``. Overflowing losses: as
    ``expected_loss_gradient``.
    Spec: ``spec.attention.reinforce_identity``.
    """
    gen = check.generator(rng)
    count = check.size(num_samples, "num_samples", high=ATTENTION_SAMPLE_LIMIT)
    s, loss = _scores_and_losses(scores, losses)
    check.allocation(count * s.size, np.dtype(np.float64), "num_samples", "the samples")
    shape = s.shape
    log_alpha = kernels.log_softmax(s)
    alpha: FloatArray = np.exp(log_alpha)
    repeated = np.broadcast_to(alpha, (count, *shape))
    z = _sample_index(repeated, gen)  # (S, ...)
    picked_loss: FloatArray = np.take_along_axis(
        np.broadcast_to(loss, (count, *shape)), z[..., None], axis=-1
    )  # L_z, (S, ..., 1)
    one_hot: FloatArray = (np.arange(shape[-1]) == z[..., None]).astype(s.dtype)
    score_function: FloatArray = one_hot - alpha  # ∇_s log α_z = e_z − α
    with np.errstate(over="ignore", invalid="ignore"):
        estimate: FloatArray = (picked_loss * score_function).mean(axis=0).astype(s.dtype)
    if not np.isfinite(estimate).all():
        raise _losses_overflow(s.dtype)
    return estimate


def _causal(length: int, keys: int) -> BoolArray:
    mask: BoolArray = np.tri(length, keys, k=0, dtype=np.bool_)
    return mask


def causal_mask(query_length: IntScalar, key_length: IntScalar) -> BoolArray:
    """Boolean (L, S) mask allowing position j for query i iff j ≤ i (top-left aligned).

    This is PyTorch's ``is_causal`` mask, ``ones(L, S).tril(0)``: for L ≠ S it
    is aligned at the top-left corner, not the bottom-right. Sizes must be
    positive ints (NumPy ints accepted) and L·S bytes must fit
    ``ALLOCATION_LIMIT_BYTES``.
    """
    length = check.positive_int(query_length, "query_length")
    keys = check.positive_int(key_length, "key_length")
    check.allocation(length * keys, np.dtype(np.bool_), "query_length and key_length", "the mask")
    return _causal(length, keys)


def _sdpa_checked(
    query: object,
    key: object,
    value: object,
    mask: object,
    scale: object,
    is_causal: object,
) -> tuple[FloatArray, FloatArray, FloatArray, BoolArray | None, FloatArray | None, float | None]:
    q = check.float_array(query, "query", min_ndim=2, nonempty=True)
    k = check.float_array(key, "key", min_ndim=2, nonempty=True)
    v = check.float_array(value, "value", min_ndim=2, nonempty=True)
    check.same_dtype(query=q, key=k, value=v)
    check.feature_match("key", k, "query", q)
    if k.shape[-2] != v.shape[-2]:
        raise ValueError(f"key has {k.shape[-2]} vectors, value has {v.shape[-2]}")
    check.batch_broadcast(query=q, key=k, value=v)
    causal = check.boolean(is_causal, "is_causal")
    if mask is not None and causal:
        raise ValueError("give either mask or is_causal=True, not both (as in PyTorch)")
    factor = None if scale is None else check.positive_real_in_dtype(scale, "scale", q.dtype)
    target = (*np.broadcast_shapes(q.shape[:-2], k.shape[:-2]), q.shape[-2], k.shape[-2])
    allowed: BoolArray | None = _causal(q.shape[-2], k.shape[-2]) if causal else None
    additive: FloatArray | None = None
    if mask is not None:
        if isinstance(mask, np.ndarray) and mask.dtype.kind == "f":
            if mask.dtype != q.dtype:
                raise TypeError(
                    f"mask (an additive float mask) has dtype {mask.dtype}, query has {q.dtype}; "
                    "mixing float32 and float64 is a TypeError"
                )
            additive = check.float_array(mask, "mask", min_ndim=1, allow_inf=True)
            if np.isposinf(additive).any():
                raise ValueError("mask (float, additive) contains +inf")
            check.broadcast_to_target(additive, "mask", target, what="the scores' shape")
        else:
            allowed = check.bool_mask(mask, "mask", target)
    return q, k, v, allowed, additive, factor


def scaled_dot_product_attention_with_weights(
    query: Queries,
    key: Vectors,
    value: Vectors,
    mask: BoolArray | FloatArray | None = None,
    *,
    scale: RealScalar | None = None,
    is_causal: bool = False,
) -> tuple[Queries, Weights]:
    r"""Scaled dot-product attention softmax(Q Kᵀ · scale + mask) V, and its weights.

    Book: §8.3, H = V softmax(Kᵀ Q / √D_k) in column form, which in rows is
    softmax(Q Kᵀ/√D_k) V with the softmax over the last axis.
    Shapes: query (..., L, E), key (..., S, E), value (..., S, E_v) ->
    (output (..., L, E_v), weights (..., L, S)); batch axes broadcast.
    Semantics equal PyTorch's ``torch.nn.functional.scaled_dot_product_attention``
    for the same arguments (without dropout):
      * ``scale`` defaults to 1/√E; given, it must be a positive real (Python
        or NumPy scalar) that is a normal number in the inputs' dtype
        (1e39 with float32 inputs, 0, negatives and 1e-320 are ValueErrors);
      * a boolean ``mask`` (broadcastable to (..., L, S) without enlarging it):
        True = may attend; a float ``mask`` of the inputs' dtype is added to
        the scores (−inf entries forbid; the other float dtype is a TypeError);
      * ``is_causal`` (a bool) applies ``causal_mask(L, S)`` (top-left aligned);
        giving both ``mask`` and ``is_causal`` is a ``ValueError`` (as in PyTorch);
      * a query whose every position is forbidden gets weights 0 and output 0
        (PyTorch ≥ 2.5 does the same).
    Edges: zero-size axes and scores that overflow (naming query, key, scale
    and mask) or outputs that overflow are ValueErrors; see the module docstring.
    # Note: PyTorch's ``dropout_p`` and ``enable_gqa`` are not supported:
    # nndl8 is a deterministic reference, and GQA is outside chapter 8.
    """
    q, k, v, allowed, additive, factor = _sdpa_checked(query, key, value, mask, scale, is_causal)
    try:
        return _sdpa(q, k, v, allowed, additive, factor)
    except _AttentionOverflowError:
        raise _overflow_error("query, key, value, scale and mask", q.dtype) from None


def scaled_dot_product_attention(
    query: Queries,
    key: Vectors,
    value: Vectors,
    mask: BoolArray | FloatArray | None = None,
    *,
    scale: RealScalar | None = None,
    is_causal: bool = False,
) -> Queries:
    r"""Scaled dot-product attention softmax(Q Kᵀ · scale + mask) V.

    Book: §8.3 (self-attention's H = V softmax(KᵀQ/√D_k), in rows).
    Shapes and semantics: see ``scaled_dot_product_attention_with_weights``
    (this returns only the output (..., L, E_v)), equal to PyTorch's function
    of the same name. Above ``impl.blocked_attention.BLOCKED_THRESHOLD`` score
    entries it computes the same result in blocks (online softmax), without
    building the (..., L, S) weights: O((L + S)·block) memory instead of O(L·S).
    """
    q, k, v, allowed, additive, factor = _sdpa_checked(query, key, value, mask, scale, is_causal)
    # issue 11: above the measured threshold the same result comes from the blocked kernel
    # (online softmax), without building the (..., L, S) weights.
    causal = bool(is_causal)  # checked to be a bool by _sdpa_checked
    block_mask = additive if additive is not None else (None if causal else allowed)
    if _blocked._large_enough(q, k, v, block_mask):
        default = 1.0 / math.sqrt(q.shape[-1])
        return _blocked._blocked_kernel(
            q, k, v, block_mask, causal, default if factor is None else factor
        )
    try:
        return _sdpa(q, k, v, allowed, additive, factor)[0]
    except _AttentionOverflowError:
        raise _overflow_error("query, key, value, scale and mask", q.dtype) from None
