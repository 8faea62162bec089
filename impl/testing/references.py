"""Float64 references the attention checks compare against, and their derived bounds.

softmax, log-softmax and scaled dot-product attention are nndl8's own public
functions (``impl.softmax``, ``impl.attention``) evaluated in float64. Two
things they lack are written here on top of them:

* **grouped-query attention** (PyTorch's ``enable_gqa=True``): query head i
  attends with key/value head ⌊i / (H_q / H_kv)⌋; implemented by repeating each
  key/value head H_q / H_kv times (exact: a copy) and calling nndl8's SDPA;
* **``nn.MultiheadAttention`` semantics** (``multihead_reference``): separate
  ``q/k/v_proj_weight`` for kdim/vdim ≠ embed_dim, ``bias=False``,
  ``add_bias_kv``, ``add_zero_attn``, PyTorch's masks (True = *ignore*; float =
  added) and averaged or per-head weights. The heads are computed by
  ``impl.attention.scaled_dot_product_attention_with_weights`` in float64; only
  the projections, the appended key/value rows and the mask merging are here.
  Where ``impl.multihead.multi_head_attention_with_weights`` covers a case
  (boolean masks, no bias_kv/zero_attn) the tests check the two agree.

Each reference also returns the derived bound (``impl.testing.bounds``) for a
candidate computing in a given precision, already multiplied by the safety factor.
"""

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from impl.attention import scaled_dot_product_attention_with_weights
from impl.softmax import log_softmax, softmax
from impl.testing.bounds import (
    Arithmetic,
    attention_output_bound,
    dot_bound,
    log_softmax_bound,
    softmax_relative_bound,
)

__all__ = [
    "MultiheadParameters",
    "Reference",
    "log_softmax_reference",
    "multihead_reference",
    "sdpa_reference",
    "softmax_reference",
]

F64 = NDArray[np.float64]
BoolArray = NDArray[np.bool_]


@dataclass(frozen=True)
class Reference:
    """A float64 reference value and its tolerance (derived bound × safety factor)."""

    value: F64
    tolerance: F64
    weights: F64 | None = None
    weights_tolerance: F64 | None = None


def softmax_reference(logits: F64, arith: Arithmetic, safety: float) -> Reference:
    """nndl8's softmax of ``logits`` in float64, and the bound r_j·p_j for ``arith``."""
    p = np.asarray(softmax(logits), dtype=np.float64)
    r = softmax_relative_bound(logits, p, np.zeros_like(logits), arith)
    return Reference(p, safety * (_capped(r, p) + arith.underflow))


def log_softmax_reference(logits: F64, arith: Arithmetic, safety: float) -> Reference:
    """nndl8's log-softmax of ``logits`` in float64, and its absolute bound for ``arith``."""
    y = np.asarray(log_softmax(logits), dtype=np.float64)
    return Reference(y, safety * log_softmax_bound(logits, y, arith))


def _capped(r: F64, p: F64) -> F64:
    """r·p, at most 1 (a correct kernel's weights lie in [0, 1]); 0 where p = 0."""
    with np.errstate(invalid="ignore", over="ignore"):
        result: F64 = np.where(p > 0, np.minimum(r * p, 1.0), 0.0)
    return result


def _scores(q: F64, k: F64, scale: float) -> F64:
    s: F64 = (q @ np.swapaxes(k, -1, -2)) * scale
    return s


def sdpa_reference(
    query: F64,
    key: F64,
    value: F64,
    arith: Arithmetic,
    safety: float,
    *,
    attn_mask: F64 | BoolArray | None = None,
    is_causal: bool = False,
    scale: float | None = None,
    enable_gqa: bool = False,
) -> Reference:
    """PyTorch-semantics SDPA in float64 (nndl8's), its weights, and bounds for ``arith``.

    Shapes (…, H, L, E), (…, H_kv, S, E), (…, H_kv, S, E_v). ``attn_mask``: bool
    (True = may attend) or float (added). Fully masked rows give 0.
    """
    k, v = key, value
    if enable_gqa and key.shape[-3] != query.shape[-3]:
        group = query.shape[-3] // key.shape[-3]
        k, v = np.repeat(key, group, axis=-3), np.repeat(value, group, axis=-3)
    factor = 1.0 / math.sqrt(query.shape[-1]) if scale is None else scale
    result = scaled_dot_product_attention_with_weights(
        query, k, v, attn_mask, scale=factor, is_causal=is_causal
    )
    out, p = (np.asarray(x, dtype=np.float64) for x in result)
    s = _scores(query, k, factor)
    e = dot_bound(query, k, arith, scale=factor)
    if attn_mask is not None and attn_mask.dtype != np.bool_:
        with np.errstate(invalid="ignore"):
            s = s + attn_mask
            e = e + np.where(np.isfinite(s), arith.u * np.abs(s), 0.0)
    r = softmax_relative_bound(s, p, e, arith)
    bound = attention_output_bound(p, r, v, arith)
    return Reference(out, safety * bound, p, safety * (_capped(r, p) + arith.underflow))


@dataclass(frozen=True)
class MultiheadParameters:
    """``nn.MultiheadAttention``'s parameters in PyTorch's layout, as NumPy arrays.

    ``in_proj_weight`` (3E, E) when kdim = vdim = E, else ``q_proj_weight``
    (E, E), ``k_proj_weight`` (E, kdim), ``v_proj_weight`` (E, vdim);
    ``in_proj_bias`` (3E,) and ``out_proj_bias`` (E,) unless ``bias=False``;
    ``out_proj_weight`` (E, E); ``bias_k``, ``bias_v`` (E,) when
    ``add_bias_kv``; ``add_zero_attn``. Every map acts as x ↦ x Wᵀ + b (PyTorch's
    ``F.linear``). A candidate for ``--kind mha`` receives this object.
    """

    embed_dim: int
    num_heads: int
    out_proj_weight: NDArray[Any]
    in_proj_weight: NDArray[Any] | None = None
    q_proj_weight: NDArray[Any] | None = None
    k_proj_weight: NDArray[Any] | None = None
    v_proj_weight: NDArray[Any] | None = None
    in_proj_bias: NDArray[Any] | None = None
    out_proj_bias: NDArray[Any] | None = None
    bias_k: NDArray[Any] | None = None
    bias_v: NDArray[Any] | None = None
    add_zero_attn: bool = False

    @property
    def kdim(self) -> int:
        """Width of the key inputs."""
        return self.embed_dim if self.k_proj_weight is None else int(self.k_proj_weight.shape[1])

    @property
    def vdim(self) -> int:
        """Width of the value inputs."""
        return self.embed_dim if self.v_proj_weight is None else int(self.v_proj_weight.shape[1])

    def projections(self) -> tuple[F64, F64, F64, F64, F64, F64]:
        """(W_q, W_k, W_v, b_q, b_k, b_v) in float64, each W acting as x Wᵀ."""
        e = self.embed_dim
        f = np.float64
        if self.in_proj_weight is not None:
            w = np.asarray(self.in_proj_weight, dtype=f)
            W_q, W_k, W_v = w[:e], w[e : 2 * e], w[2 * e :]
        else:
            assert self.q_proj_weight is not None
            assert self.k_proj_weight is not None
            assert self.v_proj_weight is not None
            W_q, W_k, W_v = (
                np.asarray(x, dtype=f)
                for x in (self.q_proj_weight, self.k_proj_weight, self.v_proj_weight)
            )
        b = np.zeros(3 * e) if self.in_proj_bias is None else np.asarray(self.in_proj_bias, f)
        return W_q, W_k, W_v, b[:e], b[e : 2 * e], b[2 * e :]

    def as_dtype(self, dtype: np.dtype[Any]) -> "MultiheadParameters":
        """The same parameters with every array cast to ``dtype``."""

        def cast(x: NDArray[Any] | None) -> NDArray[Any] | None:
            return None if x is None else np.asarray(x).astype(dtype)

        out = cast(self.out_proj_weight)
        assert out is not None
        return MultiheadParameters(
            self.embed_dim,
            self.num_heads,
            out,
            cast(self.in_proj_weight),
            cast(self.q_proj_weight),
            cast(self.k_proj_weight),
            cast(self.v_proj_weight),
            cast(self.in_proj_bias),
            cast(self.out_proj_bias),
            cast(self.bias_k),
            cast(self.bias_v),
            self.add_zero_attn,
        )


def _additive(mask: NDArray[Any] | None) -> F64 | None:
    """A PyTorch MHA mask as an additive float mask (bool True = ignore → −inf)."""
    if mask is None:
        return None
    if mask.dtype == np.bool_:
        return np.where(mask, -np.inf, 0.0)
    result: F64 = np.asarray(mask, dtype=np.float64)
    return result


def _pad_column(mask: F64 | None, count: int) -> F64 | None:
    if mask is None or count == 0:
        return mask
    padding = np.zeros((*mask.shape[:-1], count))
    return np.concatenate([mask, padding], axis=-1)


def _heads(x: F64, heads: int) -> F64:
    """(B, N, E) -> (B, h, N, E/h)."""
    b, n, e = x.shape
    return np.swapaxes(x.reshape(b, n, heads, e // heads), 1, 2)


def multihead_reference(
    query: F64,
    key: F64,
    value: F64,
    params: MultiheadParameters,
    arith: Arithmetic,
    safety: float,
    *,
    key_padding_mask: NDArray[Any] | None = None,
    attn_mask: NDArray[Any] | None = None,
    average_attn_weights: bool = True,
) -> Reference:
    """``nn.MultiheadAttention(batch_first=True)`` forward in float64, with weights and bounds.

    query (B, L, E), key (B, S, kdim), value (B, S, vdim) -> output (B, L, E),
    weights (B, L, S') averaged over heads or (B, h, L, S') per head, where S'
    counts the appended bias_k and zero rows. Masks in PyTorch's convention:
    ``key_padding_mask`` (B, S), ``attn_mask`` (L, S) or (B·h, L, S); bool True
    = ignore, float = added. A query with every key masked gets attention 0,
    so its output is ``out_proj_bias`` (PyTorch's own result there is NaN; see
    its expected differences).
    """
    h, e = params.num_heads, params.embed_dim
    d = e // h
    u = arith.u
    W_q, W_k, W_v, b_q, b_k, b_v = params.projections()
    W_o = np.asarray(params.out_proj_weight, dtype=np.float64)
    b_o = np.zeros(e) if params.out_proj_bias is None else np.asarray(params.out_proj_bias, float)

    def project(x: F64, W: F64, b: F64) -> tuple[F64, F64]:
        y: F64 = x @ W.T + b
        err: F64 = arith.gamma(x.shape[-1] + 1) * (np.abs(x) @ np.abs(W).T + np.abs(b))
        return y, err

    q, dq = project(query, W_q, b_q)
    k, dk = project(key, W_k, b_k)
    v, dv = project(value, W_v, b_v)
    batch = query.shape[0]
    padding = _additive(key_padding_mask)  # (B, S)
    extra = _additive(attn_mask)  # (L, S) or (B·h, L, S)
    appended = 0
    if params.bias_k is not None and params.bias_v is not None:
        row_k = np.broadcast_to(np.asarray(params.bias_k, float), (batch, 1, e))
        row_v = np.broadcast_to(np.asarray(params.bias_v, float), (batch, 1, e))
        k, v = np.concatenate([k, row_k], 1), np.concatenate([v, row_v], 1)
        dk, dv = np.concatenate([dk, 0 * row_k], 1), np.concatenate([dv, 0 * row_v], 1)
        appended += 1
    q_h, k_h, v_h = _heads(q, h), _heads(k, h), _heads(v, h)
    dq_h, dk_h, dv_h = _heads(dq, h), _heads(dk, h), _heads(dv, h)
    if params.add_zero_attn:
        zeros = np.zeros((batch, h, 1, d))
        k_h, v_h = np.concatenate([k_h, zeros], 2), np.concatenate([v_h, zeros], 2)
        dk_h, dv_h = np.concatenate([dk_h, zeros], 2), np.concatenate([dv_h, zeros], 2)
        appended += 1
    padding, extra = _pad_column(padding, appended), _pad_column(extra, appended)
    length, memory = q_h.shape[-2], k_h.shape[-2]
    total = np.zeros((batch, h, length, memory))
    if padding is not None:
        total = total + padding[:, None, None, :]
    if extra is not None:
        total = total + (extra if extra.ndim == 2 else extra.reshape(batch, h, length, memory))
    scale = 1.0 / math.sqrt(d)
    result = scaled_dot_product_attention_with_weights(q_h, k_h, v_h, total, scale=scale)
    heads, p = (np.asarray(x, dtype=np.float64) for x in result)
    # Bounds: projected inputs carry dq, dk, dv; the merged float mask adds two roundings.
    with np.errstate(invalid="ignore"):
        s = _scores(q_h, k_h, scale) + total
        e_s = dot_bound(q_h, k_h, arith, da=dq_h, db=dk_h, scale=scale)
        e_s = e_s + np.where(np.isfinite(s), u * (np.abs(s) + np.abs(total)), 0.0)
    r = softmax_relative_bound(s, p, e_s, arith)
    d_heads = attention_output_bound(p, r, v_h, arith, value_error=dv_h)
    concat = np.swapaxes(heads, 1, 2).reshape(batch, length, e)
    d_concat = np.swapaxes(d_heads, 1, 2).reshape(batch, length, e)
    out: F64 = concat @ W_o.T + b_o
    d_out = d_concat @ np.abs(W_o).T + arith.gamma(e + 1) * (
        (np.abs(concat) + d_concat) @ np.abs(W_o).T + np.abs(b_o)
    )
    rp = _capped(r, p)
    per_head = rp * (1 + u) + u * p + arith.underflow
    if average_attn_weights:
        weights = p.mean(axis=1)
        w_bound = per_head.mean(axis=1) + arith.gamma(h + 1) * (p + rp).mean(axis=1)
    else:
        weights, w_bound = p, per_head
    return Reference(out, safety * (d_out + arith.underflow), weights, safety * w_bound)
