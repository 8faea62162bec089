r"""Forward rounding-error bounds for softmax, log-softmax and attention, on the actual inputs.

These are the tolerances of the conformance kit. Each bounds |computed − exact|
entrywise for a kernel that computes in a declared precision with unit
roundoff u, under the standard model fl(a op b) = (a op b)(1 + δ), |δ| ≤ u
(Higham, *Accuracy and Stability of Numerical Algorithms*, 2nd ed., §2.2),
with γ_n = nu/(1 − nu) (Lemma 3.1). The derivation, step by step, is
``spec.rounding_error``; this module evaluates it with NumPy in float64 on the
exact (rounded-to-precision) inputs and the float64 reference values.

Assumptions, stated once:

* Inputs are exact: the candidate receives numbers of its precision, and the
  reference is evaluated on the same numbers.
* Elementary functions exp and log return their result with relative error at
  most ``ELEMENTARY_ULPS[precision]`` · u (a correctly rounded exp has 1/2 ulp;
  vectorised libraries trade accuracy for speed: PyTorch's CPU attention uses a
  float32 exp with 20 correct bits, 2⁻²⁰ = 16u).
* Softmax subtracts the row maximum (Blanchard, Higham & Higham, "Accurately
  computing the log-sum-exp and softmax functions", IMA J. Numer. Anal. 41(4),
  2021, Algorithm 2.1/"shifted" softmax): fl(s_j − max) has error u|s_j − max|;
  the sum of N exponentials any order γ_{N−1}; the final division (or
  reciprocal and product) γ_2. A kernel that does not shift fails the extreme
  logit checks regardless of this bound.
* Dot products of length n, in any order, with or without a fused multiply-add,
  and with the scale applied to the product or to both factors: γ_{n+4}
  (n products and sums, and up to 4 roundings of the scale and its square root).
* Underflow: Higham's model fl(x) = x(1 + δ) + η adds |η| ≤ the precision's
  smallest normal number per operation; ``UNDERFLOW_OPS`` of those per entry.

The returned bound is multiplied by ``SAFETY_FACTOR`` (for orders of evaluation
this model does not enumerate, such as an online softmax's rescaling).
"""

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from impl.testing.tolerances import Precision, as_precision, gamma, precision_dtype, unit_roundoff

__all__ = [
    "ELEMENTARY_ULPS",
    "SAFETY_FACTOR",
    "Arithmetic",
    "attention_output_bound",
    "dot_bound",
    "log_softmax_bound",
    "softmax_relative_bound",
]

F64 = NDArray[np.float64]

SAFETY_FACTOR = 2.0
"""Every derived bound is multiplied by this before use as a tolerance: it covers
evaluation orders the model does not enumerate (online softmax's rescaling by
exp(m_old − m_new), two-pass normalisation) at a cost of one bit of sharpness."""

ELEMENTARY_ULPS: dict[Precision, float] = {
    "float64": 4.0,  # glibc / SLEEF u10 exp and log: ≤ 1 ulp = 2u; twice that for headroom
    "float32": 16.0,  # PyTorch's vectorised exp_u20: 20 correct bits = 2⁻²⁰ = 16u
    "float16": 2.0,  # computed in float32 and rounded: ≤ u + 16·2⁻²⁴ < 2u
    "bfloat16": 2.0,  # likewise
}
"""Relative accuracy of exp and log per precision, in units of u."""

UNDERFLOW_OPS = 8
"""Operations per entry whose underflow may each add the smallest normal number."""


@dataclass(frozen=True)
class Arithmetic:
    """The rounding constants of one precision: u, exp/log accuracy, underflow floor."""

    precision: Precision
    u: float
    u_elementary: float
    underflow: float

    @classmethod
    def of(cls, precision: Precision | str) -> "Arithmetic":
        """The constants of ``precision``."""
        name = as_precision(precision)
        u = unit_roundoff(name)
        # bfloat16 has float32's exponent range, hence its smallest normal number.
        holder = np.float32 if name == "bfloat16" else precision_dtype(name)
        tiny = float(np.finfo(holder).smallest_normal)
        return cls(name, u, ELEMENTARY_ULPS[name] * u, UNDERFLOW_OPS * tiny)

    def gamma(self, n: int) -> float:
        """γ_n in this precision (``ValueError`` when nu ≥ 1)."""
        return gamma(n, self.precision)


def dot_bound(
    a: F64,
    b: F64,
    arith: Arithmetic,
    *,
    da: F64 | float = 0.0,
    db: F64 | float = 0.0,
    scale: float = 1.0,
    extra: int = 4,
) -> F64:
    r"""Bound on |fl(scale · a bᵀ) − scale · a bᵀ| when a, b carry absolute errors da, db.

    a (..., L, n), b (..., S, n) -> (..., L, S):
    scale·(da|b|ᵀ + |a|dbᵀ + da dbᵀ) + γ_{n+extra}·scale·(|a| + da)(|b| + db)ᵀ
    (Higham §3.1: a computed inner product of length n has relative error γ_n
    in Σ|a_i b_i|; ``extra`` roundings for the scale).
    """
    n = a.shape[-1]
    abs_a, abs_b = np.abs(a), np.abs(b)
    da_ = np.broadcast_to(np.asarray(da, dtype=np.float64), a.shape)
    db_ = np.broadcast_to(np.asarray(db, dtype=np.float64), b.shape)
    propagated: F64 = (da_ @ np.swapaxes(abs_b, -1, -2)) + (abs_a @ np.swapaxes(db_, -1, -2))
    propagated = propagated + da_ @ np.swapaxes(db_, -1, -2)
    rounding: F64 = arith.gamma(n + extra) * ((abs_a + da_) @ np.swapaxes(abs_b + db_, -1, -2))
    result: F64 = abs(scale) * (propagated + rounding)
    return result


def softmax_relative_bound(scores: F64, weights: F64, score_error: F64, arith: Arithmetic) -> F64:
    r"""Bound r_j on |p̂_j − p_j| / p_j for a shifted softmax of scores known to ± e_j.

    scores s (..., N) (−inf = masked), exact weights p = softmax(s) (..., N),
    score_error e (..., N) ≥ 0. With m = max s and
    a_j = e_j + u(|s_j − m| + e_j + max_k e_k) (error of the shifted score),
    p̂_j / p_j lies between
    e^{−a_j}(1 − u_exp)(1 − γ_2) / [Σ_k p_k e^{a_k}(1 + u_exp)(1 + γ_{N−1})] and
    e^{a_j}(1 + u_exp)(1 + γ_2) / [Σ_k p_k e^{−a_k}(1 − u_exp)(1 − γ_{N−1})]
    (``spec.rounding_error.softmax_ratio_bounds``; cf. Blanchard, Higham & Higham
    2021, §3). r_j is the larger distance of those from 1; 0 where p_j = 0.
    """
    n = scores.shape[-1]
    valid = weights > 0
    e = np.where(valid, score_error, 0.0)
    with np.errstate(invalid="ignore"):
        m = np.max(np.where(valid, scores, -np.inf), axis=-1, keepdims=True)
        spread = np.where(valid, np.abs(scores - m), 0.0)
    a = e + arith.u * (spread + e + np.max(e, axis=-1, keepdims=True))
    a = np.minimum(a, 700.0)  # exp stays finite; such a bound is void anyway
    g_sum, g_div, ue = arith.gamma(max(n - 1, 0)), arith.gamma(2), arith.u_elementary
    low_den = np.sum(weights * np.exp(-a), axis=-1, keepdims=True) * (1 - ue) * (1 - g_sum)
    high_den = np.sum(weights * np.exp(a), axis=-1, keepdims=True) * (1 + ue) * (1 + g_sum)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        upper = np.exp(a) * (1 + ue) * (1 + g_div) / low_den - 1
        lower = 1 - np.exp(-a) * (1 - ue) * (1 - g_div) / high_den
    result: F64 = np.where(valid, np.maximum(upper, lower), 0.0)
    return result


def log_softmax_bound(logits: F64, log_weights: F64, arith: Arithmetic) -> F64:
    r"""Bound on |computed − exact| log-softmax of exact logits x (..., N) (−inf = masked).

    y_j = (x_j − m) − log S with S = Σ_k e^{x_k − m} ∈ [1, N]. The computed
    sum Ŝ = S(1 + η) with |η| ≤ η̄ = Σ_k p_k e^{a_k}(1 + u_exp)(1 + γ_{N−1}) − 1,
    a_k = u|x_k − m| (Blanchard, Higham & Higham 2021, §2, for the shifted
    log-sum-exp). Bound: u|x_j − m| + |log(1 − η̄)| + u_exp(log S + η̄) +
    u|m + log S| + u|y_j| (both orders: (x_j − m) − log S, and x_j − (m + log S)).
    0 where y_j = −inf (must be matched exactly).
    """
    n = logits.shape[-1]
    finite = np.isfinite(log_weights)
    weights = np.where(finite, np.exp(np.where(finite, log_weights, 0.0)), 0.0)
    with np.errstate(invalid="ignore"):
        m = np.max(np.where(finite, logits, -np.inf), axis=-1, keepdims=True)
        m = np.where(np.isfinite(m), m, 0.0)
        spread = np.where(finite, np.abs(logits - m), 0.0)
    a = np.minimum(arith.u * spread, 700.0)
    eta = (
        np.sum(weights * np.exp(a), axis=-1, keepdims=True)
        * (1 + arith.u_elementary)
        * (1 + arith.gamma(max(n - 1, 0)))
        - 1
    )
    eta = np.minimum(eta, 0.5)  # beyond this the bound is void anyway
    x = np.where(finite, logits, 0.0)
    y = np.where(finite, log_weights, 0.0)
    log_sum = np.where(finite, (x - m) - y, 0.0)  # log S (the same for every j of a row)
    bound = (
        arith.u * spread  # fl(x_j − m)
        + np.abs(np.log1p(-eta))  # log Ŝ − log S
        + arith.u_elementary * (np.abs(log_sum) + eta)  # fl(log Ŝ)
        + arith.u * np.abs(m + log_sum)  # fl(m + log S) when added first
        + arith.u * np.abs(y)  # the final subtraction
        + arith.underflow
    )
    result: F64 = np.where(finite, bound, 0.0)
    return result


def attention_output_bound(
    weights: F64, relative: F64, values: F64, arith: Arithmetic, *, value_error: F64 | float = 0.0
) -> F64:
    r"""Bound on |ô − o| for o = Σ_j p_j v_j with p̂_j = p_j(1 ± r_j), v̂ = v ± dv.

    weights p (..., L, S), relative r (..., L, S), values v (..., S, E_v) -> (..., L, E_v):
    (r p)|v| + (p(1 + r)) dv + γ_{S+1}(p(1 + r))(|v| + dv) + underflow
    (a length-S inner product, Higham §3.1, plus the rounding of the stored output).
    """
    s = weights.shape[-1]
    dv = np.broadcast_to(np.asarray(value_error, dtype=np.float64), values.shape)
    with np.errstate(invalid="ignore", over="ignore"):
        # A correct kernel's weights lie in [0, 1], so |p̂_j − p_j| ≤ 1 whatever r_j says.
        rp = np.where(weights > 0, np.minimum(relative * weights, 1.0), 0.0)
    upper = weights + rp
    abs_v = np.abs(values)
    bound: F64 = rp @ abs_v + upper @ dv + arith.gamma(s + 1) * (upper @ (abs_v + dv))
    result: F64 = bound + arith.underflow
    return result


def describe(arith: Arithmetic, what: str, safety: float) -> str:
    """One line saying how a tolerance was computed (for failure reports)."""
    return (
        f"{safety:g} × derived forward bound ({what}) for {arith.precision}: "
        f"u = 2^{round(math.log2(arith.u))}, exp/log to {arith.u_elementary / arith.u:g}u, "
        "γ_n = nu/(1 − nu); evaluated on these inputs (impl.testing.bounds, "
        "spec.rounding_error)"
    )
