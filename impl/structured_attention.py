"""Structured attention as a linear-chain CRF over selection variables (Kim et al. 2017).

Book: §8.2.1, structured attention (b), "attention as a graphical model".
Spec: ``spec.structured_attention`` (brute-force enumeration over all 2^N
assignments, the reference for small N).

The model. Each input x_n has a binary selection variable z_n ∈ {0, 1}; the
chain z_1 − z_2 − … − z_N is a conditional random field with

    p(z | X, q) = exp(Σ_n θ_n(z_n) + Σ_{n<N} θ_{n,n+1}(z_n, z_{n+1})) / Z,

unary log-potentials θ_n(z_n) (from x_n and q) and pairwise log-potentials
θ_{n,n+1}(z_n, z_{n+1}). The attention is the vector of marginals
p(z_n = 1 | X, q) — one probability per input, **not** a distribution over
inputs: the marginals need not sum to 1 — and the context is
c = Σ_n p(z_n = 1 | X, q) x_n = E[Σ_n z_n x_n].

Array conventions shared by every function here:

* ``unary`` has shape (..., N, 2): ``unary[..., n, z]`` = θ_{n+1}(z) (0-based n).
* ``pairwise`` has shape (..., N−1, 2, 2) — one 2×2 table per edge,
  ``pairwise[..., n, a, b]`` = θ_{n+1,n+2}(z_{n+1} = a, z_{n+2} = b) — or shape
  (2, 2): one table shared by every edge (exactly two axes means "shared").
  Leading batch axes of ``unary`` and ``pairwise`` broadcast.
* N = 1 is allowed (no edges: pass a (0, 2, 2) or a (2, 2) ``pairwise``).
* Potentials must be finite (NaN and ±inf are rejected). Everything runs in
  log space with the maximum subtracted before each exponential, so finite
  potentials of any size whose chain sums stay representable (e.g. ±1e3, or
  ±1e30 in float64) give finite results; a log partition that overflows the
  dtype raises ``ValueError`` instead of returning inf/NaN.
* Same dtype in and out (float32 or float64); mixing dtypes is a TypeError.
* Zero-size axes other than the edge axis of a one-position chain (N = 1
  has N − 1 = 0 edges) are a ValueError naming the argument.
* Checked once: public functions check and name their arguments, then call
  the kernels (``_forward_log_messages``, ``_backward_log_messages``,
  ``_marginals``, ``impl._numerics.logsumexp``); overflow is reported naming
  ``unary`` and ``pairwise`` (or ``inputs`` for the context sum).
"""

import math
from dataclasses import dataclass

import numpy as np

from impl import _numerics as kernels
from impl import _validation as check
from impl._typing import FloatArray, Vectors
from impl.attention import _AttentionOverflowError, _scores
from impl.scores import ScoreFunction, _kernel_for, _overflow_error, scaled_dot_product_score


def _checked_potentials(unary: object, pairwise: object) -> tuple[FloatArray, FloatArray]:
    """Validate the potentials and return (unary, pairwise broadcast to (..., N−1, 2, 2))."""
    theta = check.float_array(unary, "unary", min_ndim=2, nonempty=True)
    if theta.shape[-1] != 2:
        raise ValueError(
            f"unary must have shape (..., N, 2) (θ_n(0), θ_n(1)), got last axis {theta.shape[-1]}"
        )
    if theta.shape[-2] < 1:
        raise ValueError(f"unary must have N ≥ 1 positions, got shape {theta.shape}")
    edges = check.float_array(pairwise, "pairwise", min_ndim=2)
    check.same_dtype(unary=theta, pairwise=edges)
    if edges.shape[-2:] != (2, 2):
        raise ValueError(f"pairwise must end in a 2×2 table θ(z_n, z_n+1), got shape {edges.shape}")
    n = theta.shape[-2]
    if edges.ndim == 2:
        # Note: a bare (2, 2) table is shared by every edge (a homogeneous chain).
        edges = np.broadcast_to(edges, (n - 1, 2, 2))
    elif edges.shape[-3] != n - 1:
        raise ValueError(
            f"pairwise has {edges.shape[-3]} edge tables, unary has N = {n} positions "
            f"(expected N − 1 = {n - 1})"
        )
    try:
        batch = np.broadcast_shapes(theta.shape[:-2], edges.shape[:-3])
    except ValueError:
        raise ValueError(
            f"batch axes do not broadcast: unary {theta.shape} (batch = all but the last two), "
            f"pairwise {edges.shape} (batch = all but the last three)"
        ) from None
    if math.prod(batch) == 0:
        raise ValueError(f"pairwise must not have a zero-size batch axis, got {edges.shape}")
    theta = np.broadcast_to(theta, (*batch, n, 2))
    edges = np.broadcast_to(edges, (*batch, n - 1, 2, 2))
    return theta, edges


_logsumexp = kernels.logsumexp


def _forward_log_messages(unary: FloatArray, pairwise: FloatArray) -> FloatArray:
    """log α_n(z) = log Σ_{z_1..z_{n−1}} exp(score of z_1..z_{n−1}, z_n = z), shape (..., N, 2).

    Recursion: log α_1(z) = θ_1(z);
    log α_{n+1}(b) = θ_{n+1}(b) + logsumexp_a (log α_n(a) + θ_{n,n+1}(a, b)).
    """
    n = unary.shape[-2]
    log_alpha = np.empty_like(unary)
    log_alpha[..., 0, :] = unary[..., 0, :]
    # Note: overflow (potentials too large for the dtype) is reported by the caller's
    # finiteness check as a ValueError, so NumPy's warnings are silenced here.
    with np.errstate(over="ignore", invalid="ignore"):
        for i in range(1, n):
            # [..., a, b] = log α_i(a) + θ_{i,i+1}(a, b)   (0-based: edge i − 1 joins i − 1, i)
            incoming: FloatArray = log_alpha[..., i - 1, :, None] + pairwise[..., i - 1, :, :]
            log_alpha[..., i, :] = unary[..., i, :] + _logsumexp(incoming, axis=-2)
    return log_alpha


def _backward_log_messages(unary: FloatArray, pairwise: FloatArray) -> FloatArray:
    """log β_n(z) = log Σ_{z_{n+1}..z_N} exp(score of z_{n+1}..z_N given z_n = z), (..., N, 2).

    Recursion: log β_N(z) = 0;
    log β_n(a) = logsumexp_b (θ_{n,n+1}(a, b) + θ_{n+1}(b) + log β_{n+1}(b)).
    """
    n = unary.shape[-2]
    log_beta = np.zeros_like(unary)
    with np.errstate(over="ignore", invalid="ignore"):  # overflow: see _forward_log_messages
        for i in range(n - 2, -1, -1):
            # [..., a, b] = θ_{i,i+1}(a, b) + θ_{i+1}(b) + log β_{i+1}(b)
            following: FloatArray = unary[..., i + 1, :] + log_beta[..., i + 1, :]
            outgoing: FloatArray = pairwise[..., i, :, :] + following[..., None, :]
            log_beta[..., i, :] = _logsumexp(outgoing, axis=-1)
    return log_beta


def _require_finite(values: FloatArray, what: str) -> None:
    if not np.isfinite(values).all():
        raise ValueError(
            f"unary and pairwise are too large: {what} overflowed {values.dtype} (the sums of "
            "the potentials along the chain must stay representable)"
        )


def crf_log_partition(unary: FloatArray, pairwise: FloatArray) -> FloatArray:
    r"""Log partition function log Z = log Σ_{z ∈ {0,1}^N} exp(score(z)) by the forward algorithm.

    Book: §8.2.1 (b), structured attention: Z normalises the linear-chain CRF
    p(z | X, q) ∝ exp(Σ_n θ_n(z_n) + Σ_n θ_{n,n+1}(z_n, z_{n+1})).
    Shapes: unary (..., N, 2), pairwise (..., N−1, 2, 2) or shared (2, 2)
    -> (...). See the module docstring for the layout.
    Assumptions: finite potentials; computed in log space (logsumexp with the
    maximum subtracted), O(N) steps of 2×2 work.
    Spec: ``spec.structured_attention.enumerated_log_partition``.
    """
    theta, edges = _checked_potentials(unary, pairwise)
    return _log_partition(theta, edges)


def _log_partition(theta: FloatArray, edges: FloatArray) -> FloatArray:
    log_alpha = _forward_log_messages(theta, edges)
    with np.errstate(over="ignore", invalid="ignore"):  # overflow: reported just below
        log_z = _logsumexp(log_alpha[..., -1, :], axis=-1)  # log Z = log Σ_z α_N(z)
    _require_finite(log_z, "log Z")
    return log_z


def crf_marginals(unary: FloatArray, pairwise: FloatArray) -> FloatArray:
    r"""Selection marginals p(z_n = 1 | X, q) of the linear-chain CRF, by forward–backward.

    Book: §8.2.1 (b): the structured attention weights are the marginals
    p(z_n = 1 | X, q), computed by the forward–backward algorithm in log space.
    They lie in [0, 1] but need **not** sum to 1 over n (each is the
    probability that input n is selected; several or none may be).
    Shapes: unary (..., N, 2), pairwise (..., N−1, 2, 2) or shared (2, 2)
    -> (..., N); p(z_n = 0) is 1 minus the result.
    Assumptions: finite potentials (see the module docstring).
    Spec: ``spec.structured_attention.enumerated_marginal`` (and
    ``log_partition_gradient``: the marginals are ∂ log Z / ∂θ_n(1)).
    """
    theta, edges = _checked_potentials(unary, pairwise)
    return _marginals(theta, edges)


def _marginals(theta: FloatArray, edges: FloatArray) -> FloatArray:
    log_alpha = _forward_log_messages(theta, edges)
    log_beta = _backward_log_messages(theta, edges)
    # log α_n(z) + log β_n(z) = log Σ_{z with z_n = z} exp(score) = log Z + log p(z_n = z).
    with np.errstate(over="ignore", invalid="ignore"):  # overflow: reported just below
        joint: FloatArray = log_alpha + log_beta
    _require_finite(joint, "log α_n + log β_n")
    # Note: instead of exp(joint − log Z) we normalise at each position,
    # p(z_n = 1) = σ(joint(1) − joint(0)); it is the same number in exact
    # arithmetic (Z = exp joint(0) + exp joint(1) at every n), but rounding in
    # log Z does not leak in, and the result lies in [0, 1] with
    # p(z_n = 0) + p(z_n = 1) = 1 exactly.
    with np.errstate(over="ignore"):  # a log-odds of ±inf is fine: σ(±inf) = 1 or 0
        log_odds: FloatArray = joint[..., 1] - joint[..., 0]
    marginals: FloatArray = np.exp(-np.logaddexp(np.zeros_like(log_odds), -log_odds))  # σ(log_odds)
    return marginals


@dataclass(frozen=True)
class StructuredAttentionResult:
    """Output of ``structured_attention``.

    context: (..., D) — c = Σ_n p(z_n = 1) x_n.
    marginals: (..., N) — p(z_n = 1 | X, q), in [0, 1], not normalised over n.
    log_partition: (...) — log Z of the chain.
    """

    context: FloatArray
    marginals: FloatArray
    log_partition: FloatArray


def structured_attention(
    inputs: Vectors, unary: FloatArray, pairwise: FloatArray
) -> StructuredAttentionResult:
    r"""Structured (linear-chain CRF) attention context c = Σ_n p(z_n = 1 | X, q) x_n.

    Book: §8.2.1 (b), attention as a graphical model (Kim et al. 2017): the
    context is the expectation E_{z ∼ p(z|X,q)}[Σ_n z_n x_n] under the CRF.
    Shapes: inputs (..., N, D) — the book's columns x_n are our rows
    inputs[..., n, :]; unary (..., N, 2); pairwise (..., N−1, 2, 2) or a
    shared (2, 2) -> context (..., D), marginals (..., N), log_partition (...).
    Batch axes of all three broadcast.
    Note: unlike soft attention (§8.2) the weights do not sum to 1, so the
    context is not a convex combination of the x_n (it may even be 0, when
    every p(z_n = 1) ≈ 0).
    Spec: ``spec.structured_attention.enumerated_marginal``.
    """
    x = check.float_array(inputs, "inputs", min_ndim=2, nonempty=True)
    theta, edges = _checked_potentials(unary, pairwise)
    check.same_dtype(inputs=x, unary=theta)
    if x.shape[-2] != theta.shape[-2]:
        raise ValueError(f"inputs has N = {x.shape[-2]} positions, unary has {theta.shape[-2]}")
    try:
        np.broadcast_shapes(x.shape[:-2], theta.shape[:-2])
    except ValueError:
        raise ValueError(
            f"batch axes do not broadcast: inputs {x.shape}, unary {theta.shape}"
        ) from None
    marginals = _marginals(theta, edges)
    log_z = _log_partition(theta, edges)
    with np.errstate(over="ignore", invalid="ignore"):
        context: FloatArray = np.einsum("...n,...nd->...d", marginals, x)  # Σ_n p(z_n = 1) x_n
    if not np.isfinite(context).all():
        raise ValueError(
            "inputs are too large: the context Σ_n p(z_n = 1) x_n overflowed "
            f"{x.dtype}; keep |inputs| below its maximum divided by N = {x.shape[-2]}"
        )
    return StructuredAttentionResult(context=context, marginals=marginals, log_partition=log_z)


def unary_potentials_from_scores(scores: FloatArray) -> FloatArray:
    r"""Unary log-potentials θ_n(0) = 0, θ_n(1) = s_n from one score per input.

    Book: §8.2.1 (b): the unary potentials come from (x_n, q); we use the
    book's score s(x_n, q) of §8.2 as the log-odds of selecting x_n.
    Shapes: scores (..., N) -> (..., N, 2), same dtype.
    Note: only θ_n(1) − θ_n(0) matters for the marginals (adding a constant to
    both shifts log Z only), so fixing θ_n(0) = 0 loses no generality; with
    zero pairwise potentials the marginals are then σ(s_n).
    """
    s = check.float_array(scores, "scores", min_ndim=1, nonempty=True)
    return _from_scores(s)


def _from_scores(s: FloatArray) -> FloatArray:
    potentials: FloatArray = np.stack([np.zeros_like(s), s], axis=-1)
    return potentials


def unary_potentials(
    inputs: Vectors,
    query: FloatArray,
    score: ScoreFunction = scaled_dot_product_score,
) -> FloatArray:
    r"""Unary log-potentials (θ_n(0), θ_n(1)) = (0, s(x_n, q)) for one query.

    Book: §8.2 score functions, used as the unary potentials of §8.2.1 (b).
    Shapes: inputs (..., N, D_k), query (..., D_q) -> (..., N, 2). ``score``
    is any ``impl.scores.ScoreFunction`` (default: scaled dot product),
    called with the query as a single row (..., 1, D_q); it must return
    finite scores of shape (..., 1, N) in the inputs' dtype (else a named
    error). Scores that overflow are a ValueError naming inputs and query.
    """
    q = check.float_array(query, "query", min_ndim=1, nonempty=True)
    x = check.float_array(inputs, "inputs", min_ndim=2, nonempty=True)
    check.same_dtype(inputs=x, query=q)
    check.batch_broadcast(query=q[..., None, :], inputs=x)
    f = check.callable_(score, "score")
    if _kernel_for(f) is not None:
        check.feature_match("inputs", x, "query", q)
    try:
        scores = _scores(q[..., None, :], x, f)[..., 0, :]  # (..., N)
    except _AttentionOverflowError:
        raise _overflow_error("inputs and query", x.dtype) from None
    if np.isneginf(scores).any():
        raise ValueError("score returned −inf; unary potentials must be finite")
    return _from_scores(scores)
