"""Private numerical kernels shared by the impl modules: no checks, only the mathematics.

Every function here trusts its inputs: the public function that calls it has
already checked and named its arguments (``impl._validation``). They keep the
dtype of their float inputs (float32 stays float32) and never warn for the
documented edge cases (fully masked rows, saturated sigmoids).

This is the one copy of each kernel; modules must not keep their own
(issue 7: there used to be two ``_sigmoid`` and two ``_gather_rows``).
The attention kernels built on these live beside their public functions:
``impl.scores._dot``/``_scaled_dot``/``_additive``/``_bilinear`` (and
``_kernel_for(score)``), ``impl.attention._scores``/``_distribution``/
``_key_value``/``_sdpa``, ``impl.multihead._multi_head``,
``impl.recurrent._affine``/``_lstm_step``/``_gru_step``/``_lstm_run``.
"""

import numpy as np

from impl._typing import BoolArray, FloatArray, IntArray

NO_INDEX = -1
"""Index meaning "nothing selected" (a fully masked row); ``gather_rows`` gives a zero row."""


def sigmoid(x: FloatArray) -> FloatArray:
    """σ(x) = 1/(1 + e^{−x}) for any finite or infinite x, without overflow.

    Evaluated as 1/(1 + e^{−|x|}) for x ≥ 0 and e^{−|x|}/(1 + e^{−|x|}) for
    x < 0, so the exponential lies in (0, 1]; the result lies in [0, 1]
    (exactly 0 or 1 only when saturated). σ(±inf) = 1 resp. 0.
    """
    e: FloatArray = np.exp(-np.abs(x))
    one = np.asarray(1, dtype=x.dtype)
    result: FloatArray = np.where(x >= 0, one / (one + e), e / (one + e)).astype(x.dtype)
    return result


def softplus(x: FloatArray) -> FloatArray:
    """log(1 + eˣ), overflow-free (``np.logaddexp(0, x)``), in the dtype of ``x``."""
    result: FloatArray = np.logaddexp(np.zeros((), dtype=x.dtype), x).astype(x.dtype)
    return result


def logsumexp(x: FloatArray, axis: int = -1) -> FloatArray:
    """log Σ exp(x) along ``axis`` (removed), with the maximum subtracted first.

    Finite inputs give a finite result unless the true value overflows the
    dtype. An axis holding only −inf gives −inf (log 0), without warnings.
    The axis must not be empty (callers check).
    """
    m: FloatArray = np.max(x, axis=axis, keepdims=True)
    safe_m: FloatArray = np.where(np.isfinite(m), m, np.zeros((), dtype=x.dtype)).astype(x.dtype)
    with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
        total: FloatArray = np.sum(np.exp(x - safe_m), axis=axis, keepdims=True)  # in [1, size]
        result: FloatArray = np.squeeze(safe_m + np.log(total), axis=axis).astype(x.dtype)
    return result


def masked_valid(logits: FloatArray, allowed: BoolArray | None) -> BoolArray:
    """Positions that take part in a softmax: finite logits (−inf = masked) and ``allowed``."""
    valid: BoolArray = np.isfinite(logits)
    if allowed is not None:
        valid = valid & allowed
    return valid


def _shifted(logits: FloatArray, valid: BoolArray) -> FloatArray:
    """logits − max over valid positions; −inf at invalid positions."""
    row_max: FloatArray = np.max(logits, axis=-1, keepdims=True, where=valid, initial=-np.inf)
    # Note: a fully masked row has no maximum; shift it by 0 (its result is all-masked anyway).
    row_max = np.where(np.isfinite(row_max), row_max, 0).astype(logits.dtype)
    with np.errstate(over="ignore", invalid="ignore"):
        shifted: FloatArray = np.where(valid, logits - row_max, -np.inf).astype(logits.dtype)
    return shifted


def softmax(logits: FloatArray, allowed: BoolArray | None = None) -> FloatArray:
    """Softmax over the last axis; masked or −inf positions get 0; a fully masked row is all 0.

    Trusts: float logits without NaN or +inf; ``allowed`` broadcasts to the
    logits without enlarging them. The differences logits − max are ≤ 0, so
    exp never overflows; a difference that overflows to −inf (logits of
    opposite signs near the dtype's maximum) gives weight 0, which is the
    correctly rounded value.
    """
    valid = masked_valid(logits, allowed)
    e: FloatArray = np.exp(_shifted(logits, valid))  # exp(s_n − max s) in (0, 1]; masked → 0
    total: FloatArray = e.sum(axis=-1, keepdims=True)
    # Note: the division by 1 for a fully masked row gives weights 0, not 0/0.
    weights: FloatArray = e / np.where(total > 0, total, 1).astype(logits.dtype)
    return weights


def log_softmax(logits: FloatArray, allowed: BoolArray | None = None) -> FloatArray:
    """log softmax over the last axis; masked positions and fully masked rows give −inf."""
    valid = masked_valid(logits, allowed)
    shifted = _shifted(logits, valid)
    total: FloatArray = np.exp(shifted).sum(axis=-1, keepdims=True)
    with np.errstate(divide="ignore"):
        log_total: FloatArray = np.log(total)  # ≥ 0 unless the row is fully masked (−inf)
    safe_log_total = np.where(np.isfinite(log_total), log_total, 0).astype(logits.dtype)
    result: FloatArray = np.where(valid, shifted - safe_log_total, -np.inf).astype(logits.dtype)
    return result


def gather_rows(inputs: FloatArray, index: IntArray) -> FloatArray:
    """inputs (..., N, D), index (..., L) -> (..., L, D); ``NO_INDEX`` (−1) gives a zero row.

    Batch axes broadcast. Trusts: indices in [−1, N).
    """
    batch = np.broadcast_shapes(inputs.shape[:-2], index.shape[:-1])
    expanded = np.broadcast_to(inputs, (*batch, *inputs.shape[-2:]))
    safe: IntArray = np.broadcast_to(np.maximum(index, 0), (*batch, index.shape[-1]))
    picked: FloatArray = np.take_along_axis(expanded, safe[..., None], axis=-2)
    empty = np.broadcast_to(index == NO_INDEX, safe.shape)[..., None]
    result: FloatArray = np.where(empty, np.zeros((), dtype=inputs.dtype), picked).astype(
        inputs.dtype
    )
    return result


def gather_row(inputs: FloatArray, index: IntArray) -> FloatArray:
    """inputs[..., index[...], :] for inputs (..., N, D), index (...) -> (..., D)."""
    return gather_rows(inputs, index[..., None])[..., 0, :]


def finite_or_none(x: FloatArray) -> bool:
    """True when every entry of ``x`` is finite (used to detect overflowed intermediates)."""
    return bool(np.isfinite(x).all())
