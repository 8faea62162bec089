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
returns index −1 for it.
"""

import math

import numpy as np

from impl import _validation as check
from impl import blocked_attention as _blocked  # issue 11: blocked dispatch
from impl._typing import BoolArray, FloatArray, IntArray, Queries, Scores, Vectors, Weights
from impl.scores import ScoreFunction, scaled_dot_product_score, transposed_keys
from impl.softmax import log_softmax, softmax

NO_INDEX = -1
"""Index returned by hard attention for a query whose every position is masked."""


def _scores_and_mask(
    query: FloatArray, keys: FloatArray, score: ScoreFunction, mask: BoolArray | None
) -> tuple[FloatArray, BoolArray | None]:
    q = check.float_array(query, "query", min_ndim=2)
    k = check.float_array(keys, "keys", min_ndim=2)
    check.same_dtype(query=q, keys=k)
    if k.shape[-2] == 0:
        raise ValueError(f"keys must hold at least one vector (N ≥ 1), got shape {k.shape}")
    scores = score(q, k)
    expected = (*np.broadcast_shapes(q.shape[:-2], k.shape[:-2]), q.shape[-2], k.shape[-2])
    if scores.shape != expected:
        raise ValueError(f"score returned shape {scores.shape}, expected (..., L, N) = {expected}")
    if mask is not None:
        check.bool_mask(mask, "mask", scores.shape)
    return scores, mask


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
    a fully masked row has weights 0 (sums to 0, not 1).
    Spec: ``spec.attention.attention_distribution``.
    """
    scores, checked_mask = _scores_and_mask(query, keys, score, mask)
    return softmax(scores, checked_mask)


def _weighted_sum(weights: FloatArray, values: FloatArray) -> FloatArray:
    result: FloatArray = weights @ values  # Σ_n α_n v_n for each query row
    return result


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
    ``attention_distribution`` for masks.
    Spec: ``spec.attention.soft_attention``.
    """
    weights = attention_distribution(query, inputs, score=score, mask=mask)
    return _weighted_sum(weights, inputs)


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
    Spec: ``spec.attention.key_value_attention``.
    """
    q = check.float_array(query, "query", min_ndim=2)
    k = check.float_array(keys, "keys", min_ndim=2)
    v = check.float_array(values, "values", min_ndim=2)
    check.same_dtype(query=q, keys=k, values=v)
    if k.shape[-2] != v.shape[-2]:
        raise ValueError(f"keys has {k.shape[-2]} vectors, values has {v.shape[-2]}")
    check.batch_broadcast(query=q, keys=k, values=v)
    weights = attention_distribution(query, keys, score=score, mask=mask)
    return _weighted_sum(weights, v)


def sample_attention_index(weights: Weights, rng: np.random.Generator) -> IntArray:
    r"""Draw z ∼ α independently for every row of ``weights``.

    Book: §8.2.1, hard attention by random sampling.
    Shapes: weights (..., N) -> indices (...,), int. A row of all zeros (fully
    masked) gives ``NO_INDEX`` (−1).
    Assumptions: rows are distributions (non-negative, summing to 1 or all 0),
    as returned by ``attention_distribution``.
    """
    gen = check.generator(rng)
    w = check.float_array(weights, "weights", min_ndim=1)
    if (w < 0).any():
        raise ValueError("weights must be non-negative")
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


def _gather_rows(inputs: FloatArray, index: IntArray) -> FloatArray:
    """inputs (..., N, D), index (..., L) -> (..., L, D); index −1 gives a zero row."""
    batch = np.broadcast_shapes(inputs.shape[:-2], index.shape[:-1])
    expanded = np.broadcast_to(inputs, (*batch, *inputs.shape[-2:]))
    safe: IntArray = np.broadcast_to(np.maximum(index, 0), (*batch, index.shape[-1]))
    picked: FloatArray = np.take_along_axis(expanded, safe[..., None], axis=-2)
    empty = np.broadcast_to(index == NO_INDEX, safe.shape)[..., None]
    result: FloatArray = np.where(empty, 0, picked).astype(inputs.dtype)
    return result


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
    masked query gets index −1 and a zero output.
    """
    weights = attention_distribution(query, inputs, score=score, mask=mask)
    index: IntArray = np.argmax(weights, axis=-1).astype(np.intp)
    index = np.where(weights.sum(axis=-1) > 0, index, NO_INDEX).astype(np.intp)
    return _gather_rows(inputs, index), index


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
    weights = attention_distribution(query, inputs, score=score, mask=mask)
    index = sample_attention_index(weights, rng)
    return _gather_rows(inputs, index), index


def _scores_and_losses(scores: object, losses: object) -> tuple[FloatArray, FloatArray]:
    """Validate (scores, losses) of shape (..., N) and broadcast them to one shape."""
    s = check.float_array(scores, "scores", min_ndim=1)
    loss = check.float_array(losses, "losses", min_ndim=1)
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


def expected_loss_gradient(scores: Scores, losses: FloatArray) -> FloatArray:
    r"""Exact gradient ∂/∂s_j E_{z∼softmax(s)}[L_z] = α_j (L_j − Σ_n α_n L_n).

    Book: §8.2.1 (hard attention is trained with reinforcement learning; this
    is the exact gradient its estimator targets).
    Shapes: scores (..., N), losses (..., N) (L_n = L(x_n), the loss if input n
    is selected) -> (..., N).
    Spec: ``spec.attention.expected_loss_gradient``.
    """
    s, loss = _scores_and_losses(scores, losses)
    alpha = softmax(s)
    mean: FloatArray = (alpha * loss).sum(axis=-1, keepdims=True)
    gradient: FloatArray = alpha * (loss - mean)
    return gradient


def reinforce_gradient_estimate(
    scores: Scores, losses: FloatArray, rng: np.random.Generator, *, num_samples: int
) -> FloatArray:
    r"""Monte-Carlo (REINFORCE) estimate of ∇_s E_{z∼α}[L_z] = E[L_z ∇_s log α_z].

    Book: §8.2.1 (hard attention trained by reinforcement learning); Williams
    (1992). For α = softmax(s), ∇_s log α_z = e_z − α, so each sample
    contributes L_z (e_z − α); the estimate is their mean over ``num_samples``
    draws z ∼ α from ``rng``. It is unbiased; its variance falls as 1/num_samples.
    Shapes: scores (..., N), losses (..., N) -> (..., N).
    Spec: ``spec.attention.reinforce_identity``.
    """
    gen = check.generator(rng)
    count = check.positive_int(num_samples, "num_samples")
    s, loss = _scores_and_losses(scores, losses)
    shape = s.shape
    log_alpha = log_softmax(s)
    alpha: FloatArray = np.exp(log_alpha)
    repeated = np.broadcast_to(alpha, (count, *shape))
    z = sample_attention_index(repeated, gen)  # (S, ...)
    picked_loss: FloatArray = np.take_along_axis(
        np.broadcast_to(loss, (count, *shape)), z[..., None], axis=-1
    )  # L_z, (S, ..., 1)
    one_hot: FloatArray = (np.arange(shape[-1]) == z[..., None]).astype(s.dtype)
    score_function: FloatArray = one_hot - alpha  # ∇_s log α_z = e_z − α
    estimate: FloatArray = (picked_loss * score_function).mean(axis=0).astype(s.dtype)
    return estimate


def causal_mask(query_length: int, key_length: int) -> BoolArray:
    """Boolean (L, S) mask allowing position j for query i iff j ≤ i (top-left aligned).

    This is PyTorch's ``is_causal`` mask, ``ones(L, S).tril(0)``: for L ≠ S it
    is aligned at the top-left corner, not the bottom-right.
    """
    length = check.positive_int(query_length, "query_length")
    keys = check.positive_int(key_length, "key_length")
    mask: BoolArray = np.tri(length, keys, k=0, dtype=np.bool_)
    return mask


def scaled_dot_product_attention_with_weights(
    query: Queries,
    key: Vectors,
    value: Vectors,
    mask: BoolArray | FloatArray | None = None,
    *,
    scale: float | None = None,
    is_causal: bool = False,
) -> tuple[Queries, Weights]:
    r"""Scaled dot-product attention softmax(Q Kᵀ · scale + mask) V, and its weights.

    Book: §8.3, H = V softmax(Kᵀ Q / √D_k) in column form, which in rows is
    softmax(Q Kᵀ/√D_k) V with the softmax over the last axis.
    Shapes: query (..., L, E), key (..., S, E), value (..., S, E_v) ->
    (output (..., L, E_v), weights (..., L, S)); batch axes broadcast.
    Semantics equal PyTorch's ``torch.nn.functional.scaled_dot_product_attention``
    for the same arguments (without dropout):
      * ``scale`` defaults to 1/√E;
      * a boolean ``mask`` (broadcastable to (..., L, S)): True = may attend;
        a float ``mask`` is added to the scores (−inf entries forbid);
      * ``is_causal`` applies ``causal_mask(L, S)`` (top-left aligned);
        giving both ``mask`` and ``is_causal`` is a ``ValueError`` (as in PyTorch);
      * a query whose every position is forbidden gets weights 0 and output 0
        (PyTorch ≥ 2.5 does the same).
    # Note: PyTorch's ``dropout_p`` and ``enable_gqa`` are not supported:
    # nndl8 is a deterministic reference, and GQA is outside chapter 8.
    """
    q = check.float_array(query, "query", min_ndim=2)
    k = check.float_array(key, "key", min_ndim=2)
    v = check.float_array(value, "value", min_ndim=2)
    check.same_dtype(query=q, key=k, value=v)
    check.feature_match("key", k, "query", q)
    if k.shape[-2] != v.shape[-2]:
        raise ValueError(f"key has {k.shape[-2]} vectors, value has {v.shape[-2]}")
    check.batch_broadcast(query=q, key=k, value=v)
    if mask is not None and is_causal:
        raise ValueError("give either mask or is_causal=True, not both (as in PyTorch)")
    factor = 1.0 / math.sqrt(q.shape[-1]) if scale is None else check.finite_float(scale, "scale")
    scores: FloatArray = (q @ transposed_keys(k)) * np.asarray(factor, dtype=q.dtype)
    bool_mask: BoolArray | None = None
    if is_causal:
        bool_mask = causal_mask(q.shape[-2], k.shape[-2])
    elif mask is not None:
        if not isinstance(mask, np.ndarray):
            raise TypeError(f"mask must be a numpy bool or float array, got {type(mask).__name__}")
        if mask.dtype == np.bool_:
            bool_mask = check.bool_mask(mask, "mask", scores.shape)
        elif mask.dtype in (np.float32, np.float64):
            additive = check.float_array(mask, "mask", allow_inf=True)
            if np.isposinf(additive).any():
                raise ValueError("mask (float, additive) contains +inf")
            try:
                np.broadcast_shapes(additive.shape, scores.shape)
            except ValueError:
                raise ValueError(
                    f"mask has shape {additive.shape}, which does not broadcast to the "
                    f"scores' shape {scores.shape}"
                ) from None
            scores = (scores + additive).astype(q.dtype)
        else:
            raise TypeError(f"mask must have dtype bool or float, got {mask.dtype}")
    weights = softmax(scores, bool_mask)
    return _weighted_sum(weights, v), weights


def scaled_dot_product_attention(
    query: Queries,
    key: Vectors,
    value: Vectors,
    mask: BoolArray | FloatArray | None = None,
    *,
    scale: float | None = None,
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
    # issue 11 (blocked dispatch): same result, measured faster above the threshold.
    if _blocked._wants_blocked(query, key, value, mask):
        return _blocked.blocked_scaled_dot_product_attention(
            query, key, value, mask, scale=scale, is_causal=is_causal
        )
    output, _ = scaled_dot_product_attention_with_weights(
        query, key, value, mask, scale=scale, is_causal=is_causal
    )
    return output
