"""A zoo of attention implementations for the conformance kit's tests: one correct, many wrong.

``sdpa`` is a plain NumPy SDPA with PyTorch's signature that computes in the
dtype of its inputs (float64, float32 or float16), i.e. a correct kernel "run in
that precision". Each other function plants one classic bug; the tests check
that the kit rejects it by the check that names the bug. Importable as
``tests.kit_zoo:NAME`` for the CLI tests.
"""

import math
from collections.abc import Callable
from typing import Any

import numpy as np
from numpy.typing import NDArray

from impl.testing.references import MultiheadParameters

A = NDArray[Any]


def _softmax(s: A, axis: int = -1, *, shift: bool = True, empty_zero: bool = True) -> A:
    with np.errstate(all="ignore"):
        m = np.max(s, axis=axis, keepdims=True)
        m = np.where(np.isfinite(m), m, 0) if shift else np.zeros_like(m)
        e = np.exp(s - m.astype(s.dtype))
        total = e.sum(axis=axis, keepdims=True)
        if empty_zero:
            total = np.where(total > 0, total, 1).astype(s.dtype)
        result: A = e / total
    return result


def make_sdpa(
    *,
    scale_rule: str = "sqrt",
    axis: int = -1,
    flip_mask: bool = False,
    causal: str = "top_left",
    fill: float = -np.inf,
    shift: bool = True,
    empty_zero: bool = True,
    epsilon: float = 0.0,
    compute: Any = None,
    use_scale: bool = True,
    gqa: bool = True,
) -> Callable[..., A]:
    """An SDPA with PyTorch's signature, with the given (possibly wrong) choices."""

    def sdpa(
        query: A,
        key: A,
        value: A,
        attn_mask: A | None = None,
        dropout_p: float = 0.0,
        is_causal: bool = False,
        scale: float | None = None,
        enable_gqa: bool = False,
    ) -> A:
        out_dtype = query.dtype
        dtype = out_dtype if compute is None else np.dtype(compute)
        q, k, v = (np.asarray(x).astype(dtype) for x in (query, key, value))
        if enable_gqa and gqa and k.shape[-3] != q.shape[-3]:
            group = q.shape[-3] // k.shape[-3]
            k, v = np.repeat(k, group, axis=-3), np.repeat(v, group, axis=-3)
        e = q.shape[-1]
        rule = {"sqrt": 1 / math.sqrt(e), "none": 1.0, "linear": 1 / e}[scale_rule]
        factor = scale if (scale is not None and use_scale) else rule
        s = (q @ np.swapaxes(k, -1, -2)) * np.asarray(factor, dtype=dtype)
        length, memory = q.shape[-2], k.shape[-2]
        allowed = None
        if is_causal:
            offset = 0 if causal == "top_left" else memory - length
            allowed = np.tri(length, memory, k=offset, dtype=bool)
        elif attn_mask is not None:
            if attn_mask.dtype == np.bool_:
                allowed = ~attn_mask if flip_mask else attn_mask
            else:
                s = s + np.asarray(attn_mask).astype(dtype)
        if allowed is not None:
            s = np.where(allowed, s, np.asarray(fill, dtype=dtype))
        with np.errstate(all="ignore"):
            w = _softmax(s, axis, shift=shift, empty_zero=empty_zero)
            if epsilon:
                w = np.exp(s - s.max(-1, keepdims=True))
                w = w / (w.sum(-1, keepdims=True) + np.asarray(epsilon, dtype=dtype))
        result: A = (w @ v).astype(out_dtype)
        return result

    return sdpa


sdpa = make_sdpa()
missing_scale = make_sdpa(scale_rule="none")
wrong_scale = make_sdpa(scale_rule="linear")
softmax_wrong_axis = make_sdpa(axis=-2)
flipped_mask = make_sdpa(flip_mask=True)
bottom_right_causal = make_sdpa(causal="bottom_right")
fill_minus_1e9 = make_sdpa(fill=-1e9)
no_max_subtraction = make_sdpa(shift=False)
nan_on_empty_rows = make_sdpa(empty_zero=False)
epsilon_denominator = make_sdpa(epsilon=1e-6)
ignores_scale = make_sdpa(use_scale=False)
sdpa_in_float16 = make_sdpa(compute=np.float16)

SDPA_ZOO: dict[str, tuple[Callable[..., A], str]] = {
    "missing_scale": (missing_scale, "sdpa.reference"),
    "wrong_scale": (wrong_scale, "sdpa.reference"),
    "softmax_wrong_axis": (softmax_wrong_axis, "sdpa.reference"),
    "flipped_mask": (flipped_mask, "sdpa.bool_mask"),
    "bottom_right_causal": (bottom_right_causal, "sdpa.causal"),
    "fill_minus_1e9": (fill_minus_1e9, "sdpa.fully_masked_rows"),
    "no_max_subtraction": (no_max_subtraction, "sdpa.large_scores"),
    "nan_on_empty_rows": (nan_on_empty_rows, "sdpa.fully_masked_rows"),
    "epsilon_denominator": (epsilon_denominator, "sdpa.reference"),
    "ignores_scale": (ignores_scale, "sdpa.scale"),
}
"""Wrong SDPA -> the check that must reject it (in float64 and float32)."""


def softmax(x: A) -> A:
    """A correct softmax computing in the input's dtype."""
    return _softmax(x)


def softmax_no_shift(x: A) -> A:
    """Softmax without subtracting the maximum: overflows for large logits."""
    return _softmax(x, shift=False)


def softmax_first_axis(x: A) -> A:
    """Softmax over the wrong axis."""
    return _softmax(x, axis=0)


def log_softmax_naive(x: A) -> A:
    """log(softmax(x)): −inf where the weight underflows."""
    with np.errstate(divide="ignore"):
        result: A = np.log(_softmax(x))
    return result


# --- nn.MultiheadAttention semantics in NumPy (batch_first), with planted bugs ---


def make_mha(
    *, transpose_heads: bool = False, drop_out_proj: bool = False, flip_padding: bool = False
) -> Callable[..., tuple[A, A | None]]:
    """An ``mha``-kind candidate in NumPy, with the given (possibly wrong) choices."""

    def mha(
        query: A,
        key: A,
        value: A,
        params: MultiheadParameters,
        *,
        key_padding_mask: A | None = None,
        need_weights: bool = True,
        attn_mask: A | None = None,
        average_attn_weights: bool = True,
    ) -> tuple[A, A | None]:
        dtype = query.dtype
        W_q, W_k, W_v, b_q, b_k, b_v = params.projections()
        h, e = params.num_heads, params.embed_dim
        d = e // h
        q = query @ W_q.T.astype(dtype) + b_q.astype(dtype)
        k = key @ W_k.T.astype(dtype) + b_k.astype(dtype)
        v = value @ W_v.T.astype(dtype) + b_v.astype(dtype)
        b, length, memory = q.shape[0], q.shape[1], k.shape[1]
        if params.bias_k is not None and params.bias_v is not None:
            k = np.concatenate([k, np.broadcast_to(params.bias_k, (b, 1, e))], 1)
            v = np.concatenate([v, np.broadcast_to(params.bias_v, (b, 1, e))], 1)

        def split(x: A) -> A:
            if transpose_heads:
                return np.swapaxes(x.reshape(b, x.shape[1], d, h), 2, 3).swapaxes(1, 2)
            return x.reshape(b, x.shape[1], h, d).swapaxes(1, 2)

        qh, kh, vh = split(q), split(k), split(v)
        if params.add_zero_attn:
            zeros = np.zeros((b, h, 1, d), dtype=dtype)
            kh, vh = np.concatenate([kh, zeros], 2), np.concatenate([vh, zeros], 2)
        total = np.zeros((b, h, length, kh.shape[2]), dtype=dtype)
        extra = kh.shape[2] - memory

        def additive(m: A) -> A:
            if m.dtype == np.bool_:
                return np.where(m, -np.inf, 0.0).astype(dtype)
            return m.astype(dtype)

        if key_padding_mask is not None:
            kpm = ~key_padding_mask if flip_padding else key_padding_mask
            pad = np.pad(additive(kpm), ((0, 0), (0, extra)))
            total = total + pad[:, None, None, :]
        if attn_mask is not None:
            am = np.pad(additive(attn_mask), [(0, 0)] * (attn_mask.ndim - 1) + [(0, extra)])
            total = total + (am if am.ndim == 2 else am.reshape(b, h, length, -1))
        s = (qh @ np.swapaxes(kh, -1, -2)) * np.asarray(1 / math.sqrt(d), dtype=dtype) + total
        w = _softmax(s)
        heads = (w @ vh).swapaxes(1, 2).reshape(b, length, e)
        out = heads
        if not drop_out_proj:
            out = heads @ np.asarray(params.out_proj_weight).T.astype(dtype)
            if params.out_proj_bias is not None:
                out = out + np.asarray(params.out_proj_bias).astype(dtype)
        weights = (w.mean(axis=1) if average_attn_weights else w) if need_weights else None
        return out.astype(dtype), None if weights is None else weights.astype(dtype)

    return mha


mha = make_mha()
MHA_ZOO: dict[str, tuple[Callable[..., tuple[A, A | None]], str]] = {
    "head_split_transposed": (make_mha(transpose_heads=True), "mha.reference"),
    "output_projection_dropped": (make_mha(drop_out_proj=True), "mha.reference"),
    "key_padding_flipped": (make_mha(flip_padding=True), "mha.key_padding_bool"),
}
"""Wrong multi-head attention -> the check that must reject it."""
