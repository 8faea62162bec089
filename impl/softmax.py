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
  because the row maximum is subtracted before exponentiating (a stable
  computation: every finite input gives a finite result).
* A zero-size axis is a ``ValueError`` naming ``logits`` (a softmax over no
  positions has no distribution; empty batches are refused too, so every
  result has at least one entry).
* Masks must not enlarge the result: a mask with more or longer axes than the
  logits is a ``ValueError``; a float, list or 0-d mask is a ``TypeError``.

Each public function checks its arguments once and calls the kernels of
``impl._numerics``; other modules call those kernels directly.
"""

import numpy as np

from impl import _numerics as kernels
from impl import _validation as check
from impl._typing import BoolArray, FloatArray


def _checked(logits: object, mask: object) -> tuple[FloatArray, BoolArray | None]:
    x = check.float_array(logits, "logits", min_ndim=1, allow_inf=True, nonempty=True)
    if np.isposinf(x).any():
        raise ValueError("logits contains +inf; softmax is undefined there (use a finite logit)")
    allowed = None if mask is None else check.bool_mask(mask, "mask", x.shape)
    return x, allowed


def softmax(logits: FloatArray, mask: BoolArray | None = None) -> FloatArray:
    r"""Softmax over the last axis: α_n = exp(s_n) / Σ_j exp(s_j).

    Book: §8.2, attention distribution (formula 8.3 in the book's numbering of
    the chapter): α_n = p(z = n | X, q) = softmax_n(s(x_n, q)).
    Shapes: logits (..., N) -> (..., N), same dtype. The book's N inputs x_n
    are our last axis.
    Assumptions: see the module docstring (mask semantics, fully masked rows
    give 0, ``-inf`` = masked, ``+inf``/NaN rejected, zero-size axes refused).
    Spec: ``spec.softmax.softmax``.
    """
    x, allowed = _checked(logits, mask)
    return kernels.softmax(x, allowed)


def log_softmax(logits: FloatArray, mask: BoolArray | None = None) -> FloatArray:
    r"""Log-softmax over the last axis: log α_n = s_n − log Σ_j exp(s_j).

    Book: §8.2 (the log of the attention distribution, as used by the
    REINFORCE gradient of hard attention, §8.2.1).
    Shapes: logits (..., N) -> (..., N), same dtype.
    Masked positions and fully masked rows give ``-inf`` (log 0).
    Spec: ``spec.softmax.log_softmax``.
    """
    x, allowed = _checked(logits, mask)
    return kernels.log_softmax(x, allowed)


def _jacobian(alpha: FloatArray) -> FloatArray:
    outer: FloatArray = alpha[..., :, None] * alpha[..., None, :]  # α αᵀ
    diag: FloatArray = alpha[..., :, None] * np.eye(alpha.shape[-1], dtype=alpha.dtype)
    jacobian: FloatArray = diag - outer
    return jacobian


def softmax_jacobian(logits: FloatArray, mask: BoolArray | None = None) -> FloatArray:
    r"""Jacobian of the softmax, ∂α_i/∂s_j = α_i (δ_ij − α_j) = (diag(α) − ααᵀ)_ij.

    Book: exercise 8-2 (why scaling matters: the Jacobian tends to 0 when the
    softmax saturates to one-hot).
    Shapes: logits (..., N) -> (..., N, N), same dtype; entry [..., i, j] is
    ∂α_i/∂s_j. Rows and columns of masked positions are 0 (a masked logit
    does not influence the weights), and so is the whole matrix of a fully
    masked row. The result has N times as many entries as ``logits``: more
    than ``impl._validation.ALLOCATION_LIMIT_BYTES`` is a ValueError.
    Spec: ``spec.softmax.softmax_jacobian``.
    """
    x, allowed = _checked(logits, mask)
    check.allocation(x.size * x.shape[-1], x.dtype, "logits", "an (..., N, N) Jacobian")
    return _jacobian(kernels.softmax(x, allowed))
