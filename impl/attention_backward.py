"""Backward passes (vector–Jacobian products) of softmax, attention and multi-head attention.

Book: §8.2 (attention distribution, soft and key-value attention, score
functions), §8.2.1 (multi-head attention), §8.3 (self-attention
softmax(QKᵀ/√D_k)V); the training of all of them is backpropagation (§4.4).
Spec: ``spec.attention_backward`` derives every formula here by differentiating
the forward definitions with sympy.

A VJP takes the forward inputs and the upstream gradient ḡ = ∂ℓ/∂(output) of
some scalar loss ℓ and returns ∂ℓ/∂(each input) = Jᵀ ḡ, without forming J.

Formulas (rows: the book's columns q_l, k_n, v_n are our rows):

* softmax α = softmax(s):       s̄ = α ∘ (ḡ − ⟨α, ḡ⟩)
* log-softmax:                  s̄ = ḡ − α Σ ḡ
* log-sum-exp:                  s̄ = ḡ α
* SDPA O = P V, P = softmax(S), S = s·QKᵀ + M:
  dV = Pᵀ dO,  dP = dO Vᵀ,  dS = P ∘ (dP − rowsum(dP ∘ P)),
  dQ = s·dS K, dK = s·dSᵀ Q, dM = dS (float mask only), and
  rowsum(dP ∘ P) = rowsum(dO ∘ O), which lets a memory-efficient kernel
  recompute P = exp(S − lse) from the stored log-sum-exp and never store P.

Masks follow ``impl.attention`` (boolean True = may attend; a float mask is
added to the scores). A masked position has P = 0, so it gets exactly zero
gradient; a fully masked row has P = 0 and output 0, so every gradient of
that row is exactly 0 (no NaN).

Broadcast batch axes are summed back to each input's own shape (the gradient
of a broadcast is a sum). Every public function checks and names its
arguments once, then calls the private kernels (``_name``), which trust them.

Edges (issue 7), for every public function here:

* arrays must be float32/float64 ndarrays of one dtype, without NaN and
  without zero-size axes (a ValueError naming the argument); ``−inf`` is
  allowed only where it means "masked" (logits, a float mask, and the
  log-sum-exp of a fully masked row);
* finite inputs of any size give finite results (the softmax is max-shifted,
  so huge logits saturate), or a ValueError naming the arguments whose
  product overflowed the dtype (scores s·QKᵀ, the output P V, or a gradient);
* ``scale`` is a positive real that is a normal number in the inputs' dtype
  (as ``impl.attention``); ``is_causal``/``enable_gqa`` are bools (NumPy's
  ``bool_`` accepted);
* the stored ``logsumexp``/``output`` given to the VJP are checked against the
  scores (each row of exp(S − lse) must sum to 1, and |O| must not exceed
  max |V|), so a stale or mismatched one is a ValueError, not wrong gradients;
* result records hold read-only arrays.
"""

import math
from dataclasses import dataclass, fields
from typing import Any

import numpy as np

from impl import _validation as check
from impl._typing import BoolArray, FloatArray
from impl.multihead import TransformerAttentionParameters
from impl.scores import AdditiveScoreParameters, BilinearScoreParameters

# --------------------------------------------------------------------------- kernels


class _OverflowError(ArithmeticError):
    """An intermediate of a kernel overflowed; the public caller re-raises it naming arguments."""


def _overflow_error(names: str, dtype: Any) -> ValueError:
    return ValueError(
        f"{names} are too large: an intermediate (scores, output or a gradient) overflowed "
        f"{np.dtype(dtype)}; keep the products of their magnitudes within the dtype's range"
    )


def _all_finite(*arrays: FloatArray | None) -> bool:
    return all(a is None or bool(np.isfinite(a).all()) for a in arrays)


def _unbroadcast(grad: FloatArray, shape: tuple[int, ...]) -> FloatArray:
    """Sum ``grad`` over the axes along which an array of ``shape`` was broadcast."""
    extra = grad.ndim - len(shape)
    summed: FloatArray = grad.sum(axis=tuple(range(extra))) if extra > 0 else grad
    axes = tuple(i for i, size in enumerate(shape) if size == 1 and summed.shape[i] != 1)
    if axes:
        summed = summed.sum(axis=axes, keepdims=True)
    result: FloatArray = summed.reshape(shape).astype(grad.dtype, copy=False)
    return result


def _softmax_weights(scores: FloatArray, valid: BoolArray) -> tuple[FloatArray, FloatArray]:
    """(α, log-sum-exp) over the last axis of ``scores`` at ``valid`` positions.

    Fully masked rows get α = 0 and log-sum-exp −inf (the convention of
    ``impl.softmax``: weights 0, output 0).
    """
    row_max: FloatArray = np.max(scores, axis=-1, keepdims=True, where=valid, initial=-np.inf)
    shift = np.where(np.isfinite(row_max), row_max, 0).astype(scores.dtype)
    with np.errstate(over="ignore", invalid="ignore"):
        e: FloatArray = np.where(valid, np.exp(scores - shift), 0).astype(scores.dtype)
    total: FloatArray = e.sum(axis=-1, keepdims=True)
    alpha: FloatArray = e / np.where(total > 0, total, 1).astype(scores.dtype)
    with np.errstate(divide="ignore"):
        lse: FloatArray = (np.log(total) + shift)[..., 0].astype(scores.dtype)
    return alpha, lse


def _softmax_vjp(alpha: FloatArray, g: FloatArray) -> FloatArray:
    """s̄ = α ∘ (ḡ − ⟨α, ḡ⟩) (rows of α all zero give s̄ = 0)."""
    inner: FloatArray = (alpha * g).sum(axis=-1, keepdims=True)  # ⟨α, ḡ⟩ per row
    grad: FloatArray = alpha * (g - inner)
    return grad


def _log_softmax_vjp(alpha: FloatArray, g: FloatArray, valid: BoolArray) -> FloatArray:
    """s̄ = ḡ − α Σ ḡ over valid positions (masked positions: 0)."""
    g_valid: FloatArray = np.where(valid, g, 0).astype(g.dtype)
    total: FloatArray = g_valid.sum(axis=-1, keepdims=True)
    grad: FloatArray = np.where(valid, g_valid - alpha * total, 0).astype(g.dtype)
    return grad


@dataclass(frozen=True)
class _AttentionInputs:
    """Checked SDPA inputs with the key/value heads repeated for grouped-query attention."""

    q: FloatArray
    k: FloatArray  # repeated to the query heads when grouped
    v: FloatArray
    scale: float
    valid: BoolArray  # broadcast to the scores' shape
    additive: FloatArray | None
    groups: int  # query heads per key/value head (1 unless grouped-query)
    key_shape: tuple[int, ...]  # the caller's key shape (before repeating heads)
    value_shape: tuple[int, ...]


def _repeat_heads(x: FloatArray, groups: int) -> FloatArray:
    if groups == 1:
        return x
    repeated: FloatArray = np.repeat(x, groups, axis=-3)  # PyTorch's repeat_interleave(dim=-3)
    return repeated


def _sum_heads(grad: FloatArray, groups: int) -> FloatArray:
    """Gradient of ``_repeat_heads``: sum each group of ``groups`` consecutive heads."""
    if groups == 1:
        return grad
    shape = grad.shape
    grouped = grad.reshape(*shape[:-3], shape[-3] // groups, groups, *shape[-2:])
    summed: FloatArray = grouped.sum(axis=-3)
    return summed


def _scores(inputs: _AttentionInputs) -> FloatArray:
    """S = s·QKᵀ (+ M for a float mask), the pre-softmax logits."""
    q, k = inputs.q, inputs.k
    with np.errstate(over="ignore", invalid="ignore"):
        scores: FloatArray = (q @ np.swapaxes(k, -1, -2)) * np.asarray(inputs.scale, dtype=q.dtype)
        if not np.isfinite(scores).all():
            raise _OverflowError
        if inputs.additive is not None:
            scores = (scores + inputs.additive).astype(q.dtype)
            if np.isnan(scores).any() or np.isposinf(scores).any():
                raise _OverflowError
    return scores


def _sdpa_forward(inputs: _AttentionInputs) -> tuple[FloatArray, FloatArray, FloatArray]:
    """(O, P, log-sum-exp) of scaled dot-product attention."""
    scores = _scores(inputs)
    valid = inputs.valid & np.isfinite(scores)
    alpha, lse = _softmax_weights(scores, valid)
    with np.errstate(over="ignore", invalid="ignore"):
        output: FloatArray = alpha @ inputs.v
    if not np.isfinite(output).all():
        raise _OverflowError
    return output, alpha, lse


def _recomputed_weights(inputs: _AttentionInputs, lse: FloatArray) -> FloatArray:
    """P = exp(S − lse) at valid positions, 0 elsewhere and in fully masked rows (lse = −inf)."""
    scores = _scores(inputs)
    valid = inputs.valid & np.isfinite(scores) & np.isfinite(lse)[..., None]
    safe_lse = np.where(np.isfinite(lse), lse, 0).astype(scores.dtype)[..., None]
    with np.errstate(over="ignore", invalid="ignore"):
        weights: FloatArray = np.where(valid, np.exp(scores - safe_lse), 0).astype(scores.dtype)
    return weights


def _sdpa_backward(
    inputs: _AttentionInputs,
    weights: FloatArray,
    grad_output: FloatArray,
    output: FloatArray | None,
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
    """(dQ, dK, dV, dS) with K, V still repeated over the query heads.

    ``output`` given: the row correction is rowsum(dO ∘ O) (the identity a
    memory-efficient kernel uses); otherwise rowsum(dP ∘ P).
    """
    q, k, v = inputs.q, inputs.k, inputs.v
    dtype = q.dtype
    d_v: FloatArray = np.swapaxes(weights, -1, -2) @ grad_output  # dV = Pᵀ dO
    d_p: FloatArray = grad_output @ np.swapaxes(v, -1, -2)  # dP = dO Vᵀ
    if output is None:
        delta: FloatArray = (d_p * weights).sum(axis=-1, keepdims=True)  # rowsum(dP ∘ P)
    else:
        delta = (grad_output * output).sum(axis=-1, keepdims=True)  # rowsum(dO ∘ O)
    d_s: FloatArray = (weights * (d_p - delta)).astype(dtype)  # dS = P ∘ (dP − δ)
    factor = np.asarray(inputs.scale, dtype=dtype)
    d_q: FloatArray = (d_s @ k) * factor  # dQ = s·dS K
    d_k: FloatArray = (np.swapaxes(d_s, -1, -2) @ q) * factor  # dK = s·dSᵀ Q
    return d_q, d_k, d_v, d_s


# --------------------------------------------------------------------------- checks


def _checked_logits(logits: object, mask: object) -> tuple[FloatArray, BoolArray]:
    x = check.float_array(logits, "logits", min_ndim=1, allow_inf=True, nonempty=True)
    if np.isposinf(x).any():
        raise ValueError("logits contains +inf; softmax is undefined there (use a finite logit)")
    valid: BoolArray = np.isfinite(x)
    if mask is not None:
        valid = valid & check.bool_mask(mask, "mask", x.shape)
    return x, valid


def _checked_upstream(
    grad: object,
    name: str,
    shape: tuple[int, ...],
    dtype: Any,
    inputs: str,
    *,
    allow_inf: bool = False,
) -> FloatArray:
    """An upstream gradient (or stored forward result) ``name`` of ``shape`` and ``dtype``.

    ``inputs`` names the forward arguments that fix the shape and dtype (for the error).
    """
    g = check.float_array(grad, name, allow_inf=allow_inf)
    if g.dtype != dtype:
        raise TypeError(
            f"{name} has dtype {g.dtype}, {inputs} have {np.dtype(dtype)} (mixing float32 and "
            "float64 is a TypeError)"
        )
    if g.shape != shape:
        raise ValueError(
            f"{name} has shape {g.shape}, but {inputs} give the forward output shape {shape}"
        )
    return g


def _check_attention(
    query: object,
    key: object,
    value: object,
    mask: object,
    scale: object,
    is_causal: object,
    enable_gqa: object,
) -> _AttentionInputs:
    q = check.float_array(query, "query", min_ndim=2, nonempty=True)
    k = check.float_array(key, "key", min_ndim=2, nonempty=True)
    v = check.float_array(value, "value", min_ndim=2, nonempty=True)
    check.same_dtype(query=q, key=k, value=v)
    check.feature_match("key", k, "query", q)
    if k.shape[-2] != v.shape[-2]:
        raise ValueError(f"key has {k.shape[-2]} vectors, value has {v.shape[-2]}")
    is_causal = check.boolean(is_causal, "is_causal")
    enable_gqa = check.boolean(enable_gqa, "enable_gqa")
    if mask is not None and is_causal:
        raise ValueError("give either mask or is_causal=True, not both (as in PyTorch)")
    groups = 1
    if enable_gqa:
        if q.ndim < 3 or k.ndim < 3 or v.ndim < 3:
            raise ValueError(
                "enable_gqa needs a head axis: query, key, value of shape (..., H, L, E)"
            )
        if k.shape[-3] != v.shape[-3] or q.shape[-3] % k.shape[-3]:
            raise ValueError(
                f"query has {q.shape[-3]} heads; key and value must share a head count that "
                f"divides it, got {k.shape[-3]} and {v.shape[-3]}"
            )
        groups = q.shape[-3] // k.shape[-3]
    k_rep, v_rep = _repeat_heads(k, groups), _repeat_heads(v, groups)
    batch = check.batch_broadcast(query=q, key=k_rep, value=v_rep)
    score_shape = (*batch, q.shape[-2], k.shape[-2])
    factor = (
        1.0 / math.sqrt(q.shape[-1])
        if scale is None
        else check.positive_real_in_dtype(scale, "scale", q.dtype)
    )
    valid: BoolArray = np.ones(score_shape, dtype=np.bool_)
    additive: FloatArray | None = None
    if is_causal:
        valid = np.broadcast_to(np.tri(q.shape[-2], k.shape[-2], k=0, dtype=np.bool_), score_shape)
    elif mask is not None:
        if not isinstance(mask, np.ndarray):
            raise TypeError(f"mask must be a numpy bool or float array, got {type(mask).__name__}")
        if mask.dtype == np.bool_:
            valid = np.broadcast_to(check.bool_mask(mask, "mask", score_shape), score_shape)
        else:
            additive = check.float_array(mask, "mask", min_ndim=1, allow_inf=True)
            check.same_dtype(query=q, mask=additive)
            if np.isposinf(additive).any():
                raise ValueError("mask (float, additive) contains +inf")
            try:
                broadcast = np.broadcast_shapes(additive.shape, score_shape)
            except ValueError:
                broadcast = ()
            if broadcast != score_shape:
                raise ValueError(
                    f"mask has shape {additive.shape}, which does not broadcast to the "
                    f"scores' shape {score_shape}"
                )
    return _AttentionInputs(q, k_rep, v_rep, factor, valid, additive, groups, k.shape, v.shape)


def _gamma(n: int, dtype: Any) -> float:
    """Higham's γ_n = nu/(1 − nu) for the unit roundoff u of ``dtype``."""
    nu = n * float(np.finfo(dtype).eps) / 2
    return nu / (1 - nu)


def _weights_tolerance(p: FloatArray) -> float:
    """How far a stored row of P may sum from 1: 2γ_{S+2}.

    Each P_n = e_n / Σ e carries a relative error of at most γ_{S+1} (an S-term
    sum and a division), so Σ_n P_n is within γ_{S+1} + γ_S ≤ 2γ_{S+2} of 1.
    """
    return 2 * _gamma(p.shape[-1] + 2, p.dtype)


def _checked_recomputation(inputs: _AttentionInputs, lse: FloatArray) -> FloatArray:
    """P = exp(S − lse), refusing a ``logsumexp`` that does not normalise the scores.

    Each row with an unmasked position must give Σ_n P_n = 1 within 4δ, where
    δ = γ_{S+3} + γ_{E+3}·(2·max_n A_ln + log S) and A = s|Q||K|ᵀ (+ |M|):
    the exponent S − lse carries an absolute error of at most γ_{E+2}(A + |lse|)
    (the E-term dot products, the scaling, the subtraction; any forward that
    computed lse had the same), and a true lse has |lse| ≤ max_n A_ln + log S;
    that error becomes exp's relative error, and the S-term sums add γ_{S+3};
    the factor 4 is a safety margin. A fully masked row must have lse = −inf
    (its P is 0).
    """
    if np.isposinf(lse).any():
        raise ValueError("logsumexp contains +inf")
    weights = _recomputed_weights(inputs, lse)
    scores = _scores(inputs)
    valid = inputs.valid & np.isfinite(scores)
    live = valid.any(axis=-1)
    with np.errstate(over="ignore", invalid="ignore"):
        magnitude = inputs.scale * (np.abs(inputs.q) @ np.swapaxes(np.abs(inputs.k), -1, -2))
        if inputs.additive is not None:
            magnitude = magnitude + np.where(
                np.isfinite(inputs.additive), np.abs(inputs.additive), 0
            )
        memory = inputs.k.shape[-2]
        reach = 2 * np.max(np.where(valid, magnitude, 0), axis=-1) + math.log(memory)
        tolerance = 4 * (
            _gamma(memory + 3, lse.dtype) + _gamma(inputs.q.shape[-1] + 3, lse.dtype) * reach
        )
        totals = np.sum(np.where(valid, np.exp(scores - np.where(live, lse, 0)[..., None]), 0), -1)
    bad = live & ~(np.abs(totals - 1) <= tolerance)
    if bad.any():
        where = tuple(int(i) for i in np.argwhere(bad)[0])
        raise ValueError(
            "logsumexp does not match the scores of query, key, scale and mask: at row "
            f"{where} exp(S − logsumexp) sums to {float(totals[where])!r}, not 1 (pass the "
            "log-sum-exp of this forward, scaled_dot_product_attention_forward's second result)"
        )
    return weights


def _check_stored_weights(inputs: _AttentionInputs, weights: FloatArray) -> None:
    """Refuse stored ``weights`` that weigh a position the mask forbids (P is exactly 0 there)."""
    forbidden = ~inputs.valid
    if inputs.additive is not None:
        forbidden = forbidden | np.isneginf(inputs.additive)
    if (np.where(forbidden, weights, 0) != 0).any():
        raise ValueError(
            "weights gives nonzero weight to a position that mask (or is_causal) forbids, so it "
            "is not this forward's attention distribution"
        )


def _check_stored_output(inputs: _AttentionInputs, output: FloatArray) -> None:
    """Refuse an ``output`` that no attention over ``value`` can give: |O_le| ≤ max_n |V_ne|.

    O is a convex combination of the rows of V, computed with weights summing
    to 1 within 2γ_{S+2} and an S-term sum (γ_S); 1 + 4γ_{S+3} covers both
    with a safety factor of 2 (the bound is checked per batch and column).
    """
    largest = np.max(np.abs(inputs.v), axis=-2, keepdims=True)
    bound = largest * (1 + 4 * _gamma(inputs.v.shape[-2] + 3, output.dtype))
    if (np.abs(output) > bound).any():
        raise ValueError(
            "output has entries larger than any row of value, so it is not this forward's "
            "output (an attention output is a convex combination of the rows of value)"
        )


# --------------------------------------------------------------------------- public: softmax


def softmax_vjp(
    logits: FloatArray, grad_output: FloatArray, mask: BoolArray | None = None
) -> FloatArray:
    r"""Gradient of ℓ through α = softmax(s): s̄ = Jᵀḡ = α ∘ (ḡ − αᵀḡ).

    Book: §8.2 (attention distribution) and exercise 8-2 (its Jacobian
    diag(α) − ααᵀ, which is symmetric, so Jᵀḡ = Jḡ).
    Shapes: logits (..., N), grad_output (..., N) -> (..., N), same dtype.
    Masked positions (``mask`` False or logit −inf) get 0; a fully masked row 0.
    Edges: any finite logits give a finite result (max-shifted softmax); a
    grad_output so large that ḡ − ⟨α, ḡ⟩ overflows (|ḡ| beyond a quarter of
    the dtype's maximum) is a ValueError naming it.
    Spec: ``spec.attention_backward.softmax_vjp`` (derived by sympy.diff).
    """
    x, valid = _checked_logits(logits, mask)
    g = _checked_upstream(grad_output, "grad_output", x.shape, x.dtype, "logits")
    alpha, _ = _softmax_weights(x, valid)
    with np.errstate(over="ignore", invalid="ignore"):
        grad = _softmax_vjp(alpha, g)
    return check.finite_result(grad, "grad_output", "keep |grad_output| within max/4 of the dtype")


def log_softmax_vjp(
    logits: FloatArray, grad_output: FloatArray, mask: BoolArray | None = None
) -> FloatArray:
    r"""Gradient of ℓ through log α = log_softmax(s): s̄ = ḡ − α Σ_n ḡ_n.

    Book: §8.2.1 (log α is what REINFORCE differentiates).
    Shapes: logits (..., N), grad_output (..., N) -> (..., N).
    Masked positions have log α = −inf and no influence: their upstream
    entries are ignored and their gradient is 0.
    Edges: any finite logits give a finite result; a grad_output whose row sum
    overflows (N·|ḡ| beyond half the dtype's maximum) is a ValueError naming it.
    Spec: ``spec.attention_backward.log_softmax_vjp``.
    """
    x, valid = _checked_logits(logits, mask)
    g = _checked_upstream(grad_output, "grad_output", x.shape, x.dtype, "logits")
    alpha, _ = _softmax_weights(x, valid)
    with np.errstate(over="ignore", invalid="ignore"):
        grad = _log_softmax_vjp(alpha, g, valid)
    return check.finite_result(
        grad, "grad_output", "keep N·|grad_output| within max/2 of the dtype"
    )


def logsumexp(logits: FloatArray, mask: BoolArray | None = None) -> FloatArray:
    r"""log Σ_n exp(s_n) over the last axis (−inf for a fully masked row).

    Book: §8.2 (the log of the softmax's partition function).
    Shapes: logits (..., N) -> (...,). Computed with the row maximum
    subtracted, so finite logits of any size give a finite result (a logit
    of −inf is masked; only a fully masked row gives −inf).
    """
    x, valid = _checked_logits(logits, mask)
    _, lse = _softmax_weights(x, valid)
    return lse


def logsumexp_vjp(
    logits: FloatArray, grad_output: FloatArray, mask: BoolArray | None = None
) -> FloatArray:
    r"""Gradient of ℓ through LSE(s) = log Σ exp(s_n): s̄ = ḡ · softmax(s).

    Shapes: logits (..., N), grad_output (...,) -> (..., N). Finite inputs of
    any size give a finite result (|s̄| ≤ |ḡ|, as softmax(s) ≤ 1).
    Spec: ``spec.attention_backward.logsumexp_vjp``.
    """
    x, valid = _checked_logits(logits, mask)
    g = _checked_upstream(grad_output, "grad_output", x.shape[:-1], x.dtype, "logits")
    alpha, _ = _softmax_weights(x, valid)
    grad: FloatArray = g[..., None] * alpha
    return grad


# --------------------------------------------------------------------------- public: SDPA


@dataclass(frozen=True)
class AttentionGradients:
    """Gradients of scaled dot-product attention, each of its input's shape.

    ``mask`` is the gradient with respect to a float (additive) mask, or
    ``None`` for a boolean mask, ``is_causal`` or no mask (they are not
    differentiable).
    """

    query: FloatArray
    key: FloatArray
    value: FloatArray
    mask: FloatArray | None = None

    def __post_init__(self) -> None:
        check.seal(self)  # fresh arrays of the VJP kernels, made read-only


def scaled_dot_product_attention_forward(
    query: FloatArray,
    key: FloatArray,
    value: FloatArray,
    mask: BoolArray | FloatArray | None = None,
    *,
    scale: float | None = None,
    is_causal: bool = False,
    enable_gqa: bool = False,
) -> tuple[FloatArray, FloatArray]:
    r"""SDPA output O and the log-sum-exp of each score row (what a memory-efficient kernel stores).

    Book: §8.3, softmax(QKᵀ/√D_k)V in rows. Semantics as
    ``impl.attention.scaled_dot_product_attention`` plus PyTorch's
    ``enable_gqa`` (key/value heads (..., H_kv, S, E) repeated to the query's
    H_q heads, H_kv dividing H_q).
    Shapes: query (..., L, E), key (..., S, E), value (..., S, E_v) ->
    (output (..., L, E_v), logsumexp (..., L)); a fully masked row has
    output 0 and log-sum-exp −inf.
    """
    inputs = _check_attention(query, key, value, mask, scale, is_causal, enable_gqa)
    try:
        output, _, lse = _sdpa_forward(inputs)
    except _OverflowError:
        raise _overflow_error("query, key, value, scale and mask", inputs.q.dtype) from None
    return output, lse


def scaled_dot_product_attention_vjp(
    query: FloatArray,
    key: FloatArray,
    value: FloatArray,
    grad_output: FloatArray,
    mask: BoolArray | FloatArray | None = None,
    *,
    scale: float | None = None,
    is_causal: bool = False,
    enable_gqa: bool = False,
    weights: FloatArray | None = None,
    logsumexp: FloatArray | None = None,
    output: FloatArray | None = None,
) -> AttentionGradients:
    r"""Gradients of O = softmax(s·QKᵀ + M) V with respect to Q, K, V (and a float mask M).

    Book: §8.3 (self-attention's softmax(QKᵀ/√D_k)V), trained by backpropagation.
    dV = Pᵀ dO, dP = dO Vᵀ, dS = P ∘ (dP − rowsum(dP ∘ P)), dQ = s·dS K,
    dK = s·dSᵀ Q, dM = dS (summed to M's shape).
    Shapes: query (..., L, E), key (..., S, E), value (..., S, E_v),
    grad_output (..., L, E_v) -> gradients of the inputs' own shapes.
    The forward's weights may be given three ways:
      * ``weights`` (..., L, S): the stored P (as a math kernel keeps it);
      * ``logsumexp`` (..., L) (and optionally ``output``): P is recomputed as
        exp(S − lse), as memory-efficient/Flash kernels do; with ``output``
        the row correction is rowsum(dO ∘ O) instead of rowsum(dP ∘ P);
      * neither: the forward is recomputed here.
    Masked keys get exactly zero gradient; fully masked rows give zero
    gradients everywhere (their output is 0). Semantics of the other
    arguments as ``scaled_dot_product_attention_forward``.
    Spec: ``spec.attention_backward.sdpa_vjp``.
    """
    inputs = _check_attention(query, key, value, mask, scale, is_causal, enable_gqa)
    q = inputs.q
    batch = np.broadcast_shapes(q.shape[:-2], inputs.k.shape[:-2], inputs.v.shape[:-2])
    out_shape = (*batch, q.shape[-2], inputs.v.shape[-1])
    forward = "query, key and value"
    g = _checked_upstream(grad_output, "grad_output", out_shape, q.dtype, forward)
    score_shape = (*batch, q.shape[-2], inputs.k.shape[-2])
    if weights is not None and logsumexp is not None:
        raise ValueError("give weights or logsumexp, not both")
    if output is not None and logsumexp is None:
        raise ValueError("output is used only with logsumexp (the recomputation path)")
    names = "query, key, value, grad_output, scale and mask"
    stored_output: FloatArray | None = None
    try:
        if weights is not None:
            p = _checked_upstream(weights, "weights", score_shape, q.dtype, forward)
            check.distribution(p, "weights", allow_zero_rows=True, tolerance=_weights_tolerance(p))
            _check_stored_weights(inputs, p)
            names = "query, key, value, grad_output, scale and weights"
        elif logsumexp is not None:
            lse = _checked_upstream(
                logsumexp, "logsumexp", score_shape[:-1], q.dtype, forward, allow_inf=True
            )
            p = _checked_recomputation(inputs, lse)
            if output is not None:
                stored_output = _checked_upstream(output, "output", out_shape, q.dtype, forward)
                _check_stored_output(inputs, stored_output)
            names = "query, key, value, grad_output, scale, mask and logsumexp"
        else:
            _, p, _ = _sdpa_forward(inputs)
    except _OverflowError:
        raise _overflow_error("query, key, value, scale and mask", q.dtype) from None
    with np.errstate(over="ignore", invalid="ignore"):
        d_q, d_k, d_v, d_s = _sdpa_backward(inputs, p, g, stored_output)
    if not _all_finite(d_q, d_k, d_v, d_s):
        raise _overflow_error(names, q.dtype)
    d_mask = None if inputs.additive is None else _unbroadcast(d_s, inputs.additive.shape)
    return AttentionGradients(
        query=_unbroadcast(d_q, q.shape),
        key=_unbroadcast(_sum_heads(d_k, inputs.groups), inputs.key_shape),
        value=_unbroadcast(_sum_heads(d_v, inputs.groups), inputs.value_shape),
        mask=d_mask,
    )


# --------------------------------------------------------------------------- public: scores


def _score_inputs(query: object, keys: object, grad_scores: object) -> tuple[FloatArray, ...]:
    q = check.float_array(query, "query", min_ndim=2, nonempty=True)
    k = check.float_array(keys, "keys", min_ndim=2, nonempty=True)
    check.same_dtype(query=q, keys=k)
    batch = check.batch_broadcast(query=q, keys=k)
    shape = (*batch, q.shape[-2], k.shape[-2])
    g = _checked_upstream(grad_scores, "grad_scores", shape, q.dtype, "query and keys")
    return q, k, g


_SCORE_NAMES = "query, keys, parameters and grad_scores"


@dataclass(frozen=True)
class AdditiveScoreGradients:
    """Gradients of the additive score: query, keys, and W, U, v (their shapes)."""

    query: FloatArray
    keys: FloatArray
    W: FloatArray
    U: FloatArray
    v: FloatArray

    def __post_init__(self) -> None:
        check.seal(self)  # fresh arrays of the VJP kernels, made read-only


def additive_score_vjp(
    query: FloatArray,
    keys: FloatArray,
    parameters: AdditiveScoreParameters,
    grad_scores: FloatArray,
) -> AdditiveScoreGradients:
    r"""Gradients of s_ln = vᵀ tanh(W k_n + U q_l) with respect to q, k, W, U, v.

    Book: §8.2, additive model. With H_lna = tanh(·)_a and
    Ā_lna = s̄_ln v_a (1 − H_lna²): q̄_l = Σ_n Ā_ln U, k̄_n = Σ_l Ā_ln W,
    W̄ = Σ Ā k_nᵀ, Ū = Σ Ā q_lᵀ, v̄ = Σ s̄_ln H_ln.
    Shapes: query (..., L, D_q), keys (..., N, D_k), grad_scores (..., L, N).
    Spec: ``spec.attention_backward.additive_score_vjp``.
    """
    p = check.instance(parameters, AdditiveScoreParameters, "parameters")
    q, k, g = _score_inputs(query, keys, grad_scores)
    check.same_dtype(query=q, W=p.W)
    if k.shape[-1] != p.W.shape[1] or q.shape[-1] != p.U.shape[1]:
        raise ValueError(
            f"keys/query have {k.shape[-1]}/{q.shape[-1]} features, W/U expect "
            f"{p.W.shape[1]}/{p.U.shape[1]}"
        )
    with np.errstate(over="ignore", invalid="ignore"):
        pre = (k @ p.W.T)[..., None, :, :] + (q @ p.U.T)[..., :, None, :]
        if np.isnan(pre).any():  # inf − inf: the pre-activation itself overflowed
            raise _overflow_error(_SCORE_NAMES, q.dtype)
        hidden: FloatArray = np.tanh(pre)  # ±inf saturates to ±1 (the stable evaluation)
        d_pre: FloatArray = g[..., None] * p.v * (1 - hidden * hidden)  # (..., L, N, D_a)
        d_q: FloatArray = d_pre.sum(axis=-2) @ p.U
        d_k: FloatArray = d_pre.sum(axis=-3) @ p.W
        batch = d_pre.shape[:-3]
        flat = d_pre.reshape(-1, *d_pre.shape[-3:])  # (B, L, N, D_a), batch axes flattened
        keys_flat = np.broadcast_to(k, (*batch, *k.shape[-2:])).reshape(-1, *k.shape[-2:])
        queries_flat = np.broadcast_to(q, (*batch, *q.shape[-2:])).reshape(-1, *q.shape[-2:])
        d_w: FloatArray = np.einsum("blna,bnd->ad", flat, keys_flat)  # W̄ = Σ Ā k_nᵀ
        d_u: FloatArray = np.einsum("blna,bld->ad", flat, queries_flat)  # Ū = Σ Ā q_lᵀ
        d_v: FloatArray = np.einsum(
            "bln,blna->a", g.reshape(-1, *g.shape[-2:]), hidden.reshape(flat.shape)
        )
    if not _all_finite(d_q, d_k, d_w, d_u, d_v):
        raise _overflow_error(_SCORE_NAMES, q.dtype)
    return AdditiveScoreGradients(
        query=_unbroadcast(d_q, q.shape),
        keys=_unbroadcast(d_k, k.shape),
        W=d_w.astype(q.dtype),
        U=d_u.astype(q.dtype),
        v=d_v.astype(q.dtype),
    )


@dataclass(frozen=True)
class BilinearScoreGradients:
    """Gradients of the bilinear score: query, keys, W (their shapes)."""

    query: FloatArray
    keys: FloatArray
    W: FloatArray

    def __post_init__(self) -> None:
        check.seal(self)  # fresh arrays of the VJP kernels, made read-only


def bilinear_score_vjp(
    query: FloatArray,
    keys: FloatArray,
    parameters: BilinearScoreParameters,
    grad_scores: FloatArray,
) -> BilinearScoreGradients:
    r"""Gradients of s_ln = k_nᵀ W q_l: q̄ = s̄ K W, k̄ = s̄ᵀ Q Wᵀ, W̄ = Σ Kᵀ s̄ᵀ Q.

    Book: §8.2, bilinear model. Shapes as ``impl.scores.bilinear_score``.
    Spec: ``spec.attention_backward.bilinear_score_vjp``.
    """
    p = check.instance(parameters, BilinearScoreParameters, "parameters")
    q, k, g = _score_inputs(query, keys, grad_scores)
    check.same_dtype(query=q, W=p.W)
    if k.shape[-1] != p.W.shape[0] or q.shape[-1] != p.W.shape[1]:
        raise ValueError(f"keys/query have {k.shape[-1]}/{q.shape[-1]} features, W is {p.W.shape}")
    with np.errstate(over="ignore", invalid="ignore"):
        d_q: FloatArray = g @ k @ p.W  # q̄_l = Σ_n s̄_ln Wᵀ k_n, in rows
        d_k: FloatArray = np.swapaxes(g, -1, -2) @ q @ p.W.T  # k̄_n = Σ_l s̄_ln W q_l
        d_w_batched: FloatArray = np.swapaxes(k, -1, -2) @ np.swapaxes(g, -1, -2) @ q
        d_w: FloatArray = d_w_batched.reshape(-1, *p.W.shape).sum(axis=0)
    if not _all_finite(d_q, d_k, d_w):
        raise _overflow_error(_SCORE_NAMES, q.dtype)
    return BilinearScoreGradients(
        query=_unbroadcast(d_q, q.shape),
        keys=_unbroadcast(d_k, k.shape),
        W=d_w.astype(q.dtype),
    )


# --------------------------------------------------------------------------- public: MHA


@dataclass(frozen=True)
class MultiHeadGradients:
    """Gradients of Transformer multi-head attention, each of its argument's shape.

    Biases absent from the parameters (``None``) still get a gradient: the
    gradient of a zero bias (what the forward used).
    """

    query: FloatArray
    key: FloatArray
    value: FloatArray
    W_q: FloatArray
    W_k: FloatArray
    W_v: FloatArray
    W_o: FloatArray
    b_q: FloatArray
    b_k: FloatArray
    b_v: FloatArray
    b_o: FloatArray

    def __post_init__(self) -> None:
        check.seal(self)  # fresh arrays of the VJP kernels, made read-only

    def torch_layout(self) -> dict[str, FloatArray]:
        """The parameter gradients named and shaped as ``nn.MultiheadAttention``'s.

        ``in_proj_weight`` (3E, E) = [W̄_qᵀ; W̄_kᵀ; W̄_vᵀ], ``out_proj.weight``
        = W̄_oᵀ, ``in_proj_bias`` = [b̄_q; b̄_k; b̄_v], ``out_proj.bias`` = b̄_o
        (PyTorch stores the transposes of our row-convention matrices).
        """
        return {
            "in_proj_weight": np.concatenate([self.W_q.T, self.W_k.T, self.W_v.T], axis=0),
            "in_proj_bias": np.concatenate([self.b_q, self.b_k, self.b_v]),
            "out_proj.weight": self.W_o.T.copy(),
            "out_proj.bias": self.b_o.copy(),
        }


def _split_heads(x: FloatArray, heads: int) -> FloatArray:
    split = x.reshape(*x.shape[:-1], heads, x.shape[-1] // heads)
    per_head: FloatArray = np.swapaxes(split, -2, -3)
    return per_head


def _merge_heads(x: FloatArray) -> FloatArray:
    merged = np.swapaxes(x, -2, -3)
    result: FloatArray = merged.reshape(*merged.shape[:-2], -1)
    return result


def _zero_bias(b: FloatArray | None, size: int, dtype: Any) -> FloatArray:
    return np.zeros(size, dtype=dtype) if b is None else b


def _matmul_grad(x: FloatArray, d_y: FloatArray) -> FloatArray:
    """Ḡ for y = x W over all batch rows: Σ xᵀ dy (..., N, D) × (..., N, E) -> (D, E)."""
    grad: FloatArray = x.reshape(-1, x.shape[-1]).T @ d_y.reshape(-1, d_y.shape[-1])
    return grad


def multi_head_attention_vjp(
    query: FloatArray,
    key: FloatArray,
    value: FloatArray,
    parameters: TransformerAttentionParameters,
    grad_output: FloatArray,
    *,
    key_padding_mask: BoolArray | None = None,
    mask: BoolArray | None = None,
    is_causal: bool = False,
) -> MultiHeadGradients:
    r"""Gradients of MHA = [head_1 ⊕ … ⊕ head_h] W_o + b_o through every projection.

    Book: §8.2.1 (multi-head attention, Transformer form); the chain rule:
    Ȳ = dO, W̄_o = Cᵀ dO, b̄_o = Σ dO, C̄ = dO W_oᵀ split into heads, the SDPA
    VJP per head, then for Q_h = X W_q + b_q: W̄_q = Xᵀ Q̄, b̄_q = Σ Q̄,
    X̄ = Q̄ W_qᵀ (likewise for K and V).
    Shapes: as ``impl.multihead.multi_head_attention``; grad_output
    (..., L, D_out). Masks: True = may attend, as there.
    Spec: ``spec.attention_backward.multi_head_vjp``.
    """
    p = check.instance(parameters, TransformerAttentionParameters, "parameters")
    q = check.float_array(query, "query", min_ndim=2, nonempty=True)
    k = check.float_array(key, "key", min_ndim=2, nonempty=True)
    v = check.float_array(value, "value", min_ndim=2, nonempty=True)
    causal = check.boolean(is_causal, "is_causal")
    dtype = check.same_dtype(query=q, key=k, value=v, parameters=p.W_q)
    if q.ndim != k.ndim or k.ndim != v.ndim or q.shape[:-2] != k.shape[:-2] != v.shape[:-2]:
        raise ValueError(
            f"query, key, value must share their batch axes, got {q.shape}, {k.shape}, {v.shape}"
        )
    for name, x, W in (("query", q, p.W_q), ("key", k, p.W_k), ("value", v, p.W_v)):
        if x.shape[-1] != W.shape[0]:
            raise ValueError(
                f"{name} has {x.shape[-1]} features, its projection expects {W.shape[0]}"
            )
    if k.shape[-2] != v.shape[-2]:
        raise ValueError(f"key has {k.shape[-2]} vectors, value has {v.shape[-2]}")
    if mask is not None and causal:
        raise ValueError("give either mask or is_causal=True, not both")
    h = p.num_heads
    length, memory = q.shape[-2], k.shape[-2]
    g = _checked_upstream(
        grad_output, "grad_output", (*q.shape[:-1], p.W_o.shape[1]), dtype, "query and parameters"
    )
    b_q = _zero_bias(p.b_q, p.W_q.shape[1], dtype)
    b_k = _zero_bias(p.b_k, p.W_k.shape[1], dtype)
    b_v = _zero_bias(p.b_v, p.W_v.shape[1], dtype)
    score_shape = (*q.shape[:-2], h, length, memory)
    valid: BoolArray = np.ones(score_shape, dtype=np.bool_)
    if causal:
        valid = valid & np.tri(length, memory, k=0, dtype=np.bool_)
    if mask is not None:
        valid = valid & check.bool_mask(mask, "mask", score_shape)
    if key_padding_mask is not None:
        padding = check.bool_mask(key_padding_mask, "key_padding_mask", (*k.shape[:-2], memory))
        valid = valid & padding[..., None, None, :]
    names = "query, key, value, parameters and grad_output"
    with np.errstate(over="ignore", invalid="ignore"):
        qp: FloatArray = q @ p.W_q + b_q
        kp: FloatArray = k @ p.W_k + b_k
        vp: FloatArray = v @ p.W_v + b_v
    if not _all_finite(qp, kp, vp):
        raise _overflow_error("query, key, value and parameters", dtype)
    inputs = _AttentionInputs(
        _split_heads(qp, h),
        _split_heads(kp, h),
        _split_heads(vp, h),
        1.0 / math.sqrt(p.head_key_dim),
        valid,
        None,
        1,
        kp.shape,
        vp.shape,
    )
    try:
        attended, weights, _ = _sdpa_forward(inputs)
    except _OverflowError:
        raise _overflow_error("query, key, value and parameters", dtype) from None
    concatenated = _merge_heads(attended)
    with np.errstate(over="ignore", invalid="ignore"):
        d_w_o = _matmul_grad(concatenated, g)  # W̄_o = Cᵀ dO
        d_b_o: FloatArray = g.reshape(-1, g.shape[-1]).sum(axis=0)
        d_concat: FloatArray = g @ p.W_o.T
        d_qh, d_kh, d_vh, _ = _sdpa_backward(inputs, weights, _split_heads(d_concat, h), None)
        d_qp, d_kp, d_vp = _merge_heads(d_qh), _merge_heads(d_kh), _merge_heads(d_vh)
        grads = MultiHeadGradients(
            query=(d_qp @ p.W_q.T).astype(dtype),
            key=(d_kp @ p.W_k.T).astype(dtype),
            value=(d_vp @ p.W_v.T).astype(dtype),
            W_q=_matmul_grad(q, d_qp),
            W_k=_matmul_grad(k, d_kp),
            W_v=_matmul_grad(v, d_vp),
            W_o=d_w_o,
            b_q=d_qp.reshape(-1, d_qp.shape[-1]).sum(axis=0),
            b_k=d_kp.reshape(-1, d_kp.shape[-1]).sum(axis=0),
            b_v=d_vp.reshape(-1, d_vp.shape[-1]).sum(axis=0),
            b_o=d_b_o,
        )
    if not _all_finite(*(getattr(grads, f.name) for f in fields(grads))):
        raise _overflow_error(names, dtype)
    return grads
