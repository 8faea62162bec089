"""Numerically stable softmax, log-softmax and the softmax Jacobian.

Book: §8.2, the attention distribution α_n = softmax_n(s(x_n, q)), and
exercise 8-2 (the Jacobian diag(α) − ααᵀ vanishes when softmax saturates).
Spec: ``spec.softmax``.

Conventions shared by every function here:

* The softmax is taken over the **last axis**; leading axes are batch axes.
* ``mask`` is an optional boolean array broadcastable to ``logits``;
  ``True`` means "may attend", as in PyTorch's ``scaled_dot_product_attention``.
  A masked position gets weight exactly 0 (log-weight ``-inf``).
* A logit of ``-inf`` is treated exactly like a masked position.
* **Fully masked rows** (every position masked or ``-inf``) have weights all 0
  (log-weights all ``-inf``), not NaN. This matches PyTorch ≥ 2.5, whose
  attention kernels return 0 for such rows. The weights of such a row sum to 0,
  not 1; every other row sums to 1.
* ``+inf`` and NaN logits are rejected with ``ValueError`` (their softmax is
  undefined); finite logits of any size (±1e30, ±3e38 in float32) are fine,
  because the row maximum is subtracted before exponentiating.
"""

import numpy as np

from impl import _validation as check
from impl._typing import BoolArray, FloatArray


def _valid_positions(logits: FloatArray, mask: BoolArray | None) -> BoolArray:
    valid: BoolArray = np.isfinite(logits)
    if mask is not None:
        check.bool_mask(mask, "mask", logits.shape)
        valid = valid & mask
    return valid


def _checked_logits(logits: object) -> FloatArray:
    x = check.float_array(logits, "logits", min_ndim=1, allow_inf=True)
    if np.isposinf(x).any():
        raise ValueError("logits contains +inf; softmax is undefined there (use a finite logit)")
    return x


def _shifted(logits: FloatArray, valid: BoolArray) -> FloatArray:
    """logits − max over valid positions; −inf at invalid positions."""
    row_max: FloatArray = np.max(logits, axis=-1, keepdims=True, where=valid, initial=-np.inf)
    # Note: a fully masked row has no maximum; shift it by 0 (its result is all-masked anyway).
    row_max = np.where(np.isfinite(row_max), row_max, 0).astype(logits.dtype)
    with np.errstate(over="ignore", invalid="ignore"):
        shifted: FloatArray = np.where(valid, logits - row_max, -np.inf).astype(logits.dtype)
    return shifted


def softmax(logits: FloatArray, mask: BoolArray | None = None) -> FloatArray:
    r"""Softmax over the last axis: α_n = exp(s_n) / Σ_j exp(s_j).

    Book: §8.2, attention distribution (formula 8.3 in the book's numbering of
    the chapter): α_n = p(z = n | X, q) = softmax_n(s(x_n, q)).
    Shapes: logits (..., N) -> (..., N), same dtype. The book's N inputs x_n
    are our last axis.
    Assumptions: see the module docstring (mask semantics, fully masked rows
    give 0, ``-inf`` = masked, ``+inf``/NaN rejected).
    Spec: ``spec.softmax.softmax``.
    """
    x = _checked_logits(logits)
    valid = _valid_positions(x, mask)
    e: FloatArray = np.exp(_shifted(x, valid))  # exp(s_n − max s), in (0, 1]; masked → 0
    total: FloatArray = e.sum(axis=-1, keepdims=True)
    # Note: the division by 1 for a fully masked row gives weights 0, not 0/0.
    weights: FloatArray = e / np.where(total > 0, total, 1).astype(x.dtype)
    return weights


def log_softmax(logits: FloatArray, mask: BoolArray | None = None) -> FloatArray:
    r"""Log-softmax over the last axis: log α_n = s_n − log Σ_j exp(s_j).

    Book: §8.2 (the log of the attention distribution, as used by the
    REINFORCE gradient of hard attention, §8.2.1).
    Shapes: logits (..., N) -> (..., N), same dtype.
    Masked positions and fully masked rows give ``-inf`` (log 0).
    Spec: ``spec.softmax.log_softmax``.
    """
    x = _checked_logits(logits)
    valid = _valid_positions(x, mask)
    shifted = _shifted(x, valid)
    total: FloatArray = np.exp(shifted).sum(axis=-1, keepdims=True)
    with np.errstate(divide="ignore"):
        log_total: FloatArray = np.log(total)  # ≥ 0 unless the row is fully masked (−inf)
    safe_log_total = np.where(np.isfinite(log_total), log_total, 0).astype(x.dtype)
    result: FloatArray = np.where(valid, shifted - safe_log_total, -np.inf).astype(x.dtype)
    return result


def softmax_jacobian(logits: FloatArray, mask: BoolArray | None = None) -> FloatArray:
    r"""Jacobian of the softmax, ∂α_i/∂s_j = α_i (δ_ij − α_j) = (diag(α) − ααᵀ)_ij.

    Book: exercise 8-2 (why scaling matters: the Jacobian tends to 0 when the
    softmax saturates to one-hot).
    Shapes: logits (..., N) -> (..., N, N), same dtype; entry [..., i, j] is
    ∂α_i/∂s_j. Rows and columns of masked positions are 0 (a masked logit
    does not influence the weights), and so is the whole matrix of a fully
    masked row.
    Spec: ``spec.softmax.softmax_jacobian``.
    """
    alpha = softmax(logits, mask)
    outer: FloatArray = alpha[..., :, None] * alpha[..., None, :]  # α αᵀ
    diag: FloatArray = alpha[..., :, None] * np.eye(alpha.shape[-1], dtype=alpha.dtype)
    jacobian: FloatArray = diag - outer
    return jacobian
