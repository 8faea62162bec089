"""The four score functions s(x, q) of §8.2, with typed parameter containers.

Book: §8.2, score functions (additive, dot product, scaled dot product,
bilinear). Spec: ``spec.scores``.

Shape mapping: the book scores one column input x_n against one column query
q. Here ``query`` is (..., L, D_q) — L queries at once — and ``keys`` is
(..., N, D_k), our rows being the book's columns; every score function returns
(..., L, N), entry [..., l, n] = s(keys[..., n, :], query[..., l, :]). Batch
axes broadcast. A ``ScoreFunction`` is any callable ``(query, keys) -> scores``
of that shape; parameterised scores are bound with ``functools.partial`` or
with the ``score_function`` method of their parameter container.

Checked once. Each public function checks and names its arguments, then calls
a private kernel (``_dot``, ``_scaled_dot``, ``_additive``, ``_bilinear``) that
trusts them; ``impl.attention`` calls the kernels directly (``_kernel_for``).
Edge cases, the same for every score here:

* zero-size axes (L, N, D or a batch axis of 0) are a ``ValueError`` naming the
  argument (the scaled score divides by √D; empty sets of queries or keys are
  refused too, so every score matrix has at least one entry);
* finite inputs whose scores overflow the dtype (|q|·|x| near the dtype's
  maximum) are a ``ValueError`` naming ``query`` and ``keys`` (and the
  parameters), with the safe range; the additive score's tanh saturates, so
  only its projections W x, U q can overflow;
* parameter containers keep read-only private copies of their arrays: an
  in-place edit raises NumPy's "assignment destination is read-only";
  ``dataclasses.replace`` builds a new, re-checked container.
"""

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeAlias

import numpy as np

from impl import _validation as check
from impl._typing import FloatArray, IntScalar, Queries, Scores, Vectors

ScoreFunction: TypeAlias = Callable[[FloatArray, FloatArray], FloatArray]
"""``score(query (..., L, D_q), keys (..., N, D_k)) -> scores (..., L, N)``."""


# --------------------------------------------------------------------------- kernels


def _transposed(keys: FloatArray) -> FloatArray:
    # Note: NumPy's stacked matmul with a transposed *view* can take a much
    # slower path than with a contiguous copy (measured by ``make bench``).
    result: FloatArray = np.ascontiguousarray(np.swapaxes(keys, -1, -2))
    return result


def _dot(q: FloatArray, k: FloatArray) -> FloatArray:
    with np.errstate(over="ignore", invalid="ignore"):
        scores: FloatArray = q @ _transposed(k)  # [l, n] = q_lᵀ x_n
    return scores


def _scaled_dot(q: FloatArray, k: FloatArray) -> FloatArray:
    scaled: FloatArray = _dot(q, k) / np.asarray(math.sqrt(q.shape[-1]), dtype=q.dtype)
    return scaled


def _additive(
    q: FloatArray, k: FloatArray, W: FloatArray, U: FloatArray, v: FloatArray
) -> FloatArray:
    with np.errstate(over="ignore", invalid="ignore"):
        projected_keys: FloatArray = k @ W.T  # rows (W x_n)ᵀ: (..., N, D_a)
        projected_queries: FloatArray = q @ U.T  # rows (U q_l)ᵀ: (..., L, D_a)
    if not (np.isfinite(projected_keys).all() and np.isfinite(projected_queries).all()):
        raise _ScoreOverflowError
    with np.errstate(over="ignore"):
        # a sum of two finite projections may overflow to ±inf: tanh(±inf) = ±1, no NaN
        hidden: FloatArray = np.tanh(
            projected_queries[..., :, None, :] + projected_keys[..., None, :, :]
        )
    scores: FloatArray = hidden @ v  # (..., L, N), |s| ≤ Σ|v|
    return scores


def _bilinear(q: FloatArray, k: FloatArray, W: FloatArray) -> FloatArray:
    with np.errstate(over="ignore", invalid="ignore"):
        transformed: FloatArray = q @ W.T  # rows (W q_l)ᵀ: (..., L, D_k)
        scores: FloatArray = transformed @ _transposed(k)  # [l, n] = x_nᵀ W q_l
    return scores


class _ScoreOverflowError(Exception):
    """An intermediate overflowed; the public function re-raises it naming its arguments."""


def _require_finite(scores: FloatArray, names: str) -> FloatArray:
    if not np.isfinite(scores).all():
        raise _ScoreOverflowError
    return scores


def _overflow_error(names: str, dtype: np.dtype[Any]) -> ValueError:
    """The named error for scores (or attention outputs) that overflowed the dtype."""
    safe = math.sqrt(float(np.finfo(dtype).max))
    return ValueError(
        f"{names} are too large: the scores (or the attention's weighted sum) overflow {dtype}; "
        f"keep every |entry| below about √max/√D = {safe:.3g}/√D (D = the feature width)"
    )


# --------------------------------------------------------------------------- checks


def _query_and_keys(query: object, keys: object) -> tuple[FloatArray, FloatArray]:
    q = check.float_array(query, "query", min_ndim=2, nonempty=True)
    k = check.float_array(keys, "keys", min_ndim=2, nonempty=True)
    check.same_dtype(query=q, keys=k)
    check.batch_broadcast(query=q, keys=k)
    return q, k


def transposed_keys(keys: FloatArray) -> FloatArray:
    """Kᵀ over the last two axes, as a contiguous array (same dtype; any finite values).

    Shapes: keys (..., N, D) -> (..., D, N).
    """
    k = check.float_array(keys, "keys", min_ndim=2, nonempty=True)
    return _transposed(k)


def dot_product_score(query: Queries, keys: Vectors) -> Scores:
    r"""Dot-product scores s(x_n, q) = x_nᵀ q.

    Book: §8.2, score functions (dot product model).
    Shapes: query (..., L, D), keys (..., N, D) -> (..., L, N).
    Edges: see the module docstring (overflow is a ValueError naming both).
    Spec: ``spec.scores.dot_product_score``.
    """
    q, k = _query_and_keys(query, keys)
    check.feature_match("keys", k, "query", q)
    try:
        return _require_finite(_dot(q, k), "query and keys")
    except _ScoreOverflowError:
        raise _overflow_error("query and keys", q.dtype) from None


def scaled_dot_product_score(query: Queries, keys: Vectors) -> Scores:
    r"""Scaled dot-product scores s(x_n, q) = x_nᵀ q / √D.

    Book: §8.2, score functions (scaled dot product); exercise 8-2 explains the
    √D: for independent unit-variance components x_nᵀq has variance D.
    Shapes: query (..., L, D), keys (..., N, D) -> (..., L, N).
    Edges: see the module docstring (D = 0 and overflow are ValueErrors).
    Spec: ``spec.scores.scaled_dot_product_score``.
    """
    q, k = _query_and_keys(query, keys)
    check.feature_match("keys", k, "query", q)
    try:
        return _require_finite(_scaled_dot(q, k), "query and keys")
    except _ScoreOverflowError:
        raise _overflow_error("query and keys", q.dtype) from None


def _kernel_for(score: object) -> Callable[[FloatArray, FloatArray], FloatArray] | None:
    """The trusting kernel of an impl score function, or None for any other callable."""
    if score is dot_product_score:
        return _dot
    if score is scaled_dot_product_score:
        return _scaled_dot
    return None


def _initial_dims(**dims: object) -> dict[str, int]:
    return {name: check.positive_int(value, name) for name, value in dims.items()}


@dataclass(frozen=True)
class AdditiveScoreParameters:
    r"""Parameters of the additive score vᵀ tanh(W x + U q).

    Book shapes (columns): W ∈ R^{D_a×D_k}, U ∈ R^{D_a×D_q}, v ∈ R^{D_a}.
    We store the same matrices: ``W`` (D_a, D_k), ``U`` (D_a, D_q), ``v`` (D_a,).
    The container keeps read-only private copies (an in-place edit raises;
    ``dataclasses.replace`` re-runs these checks).
    """

    W: FloatArray
    U: FloatArray
    v: FloatArray

    def __post_init__(self) -> None:
        W = check.float_array(self.W, "W", min_ndim=2, nonempty=True)
        U = check.float_array(self.U, "U", min_ndim=2, nonempty=True)
        v = check.float_array(self.v, "v", min_ndim=1, nonempty=True)
        check.same_dtype(W=W, U=U, v=v)
        if W.ndim != 2 or U.ndim != 2 or v.ndim != 1:
            raise ValueError(
                f"W, U must be matrices and v a vector, got W {W.shape}, U {U.shape}, v {v.shape}"
            )
        if not W.shape[0] == U.shape[0] == v.shape[0]:
            raise ValueError(
                f"W, U and v must share the hidden size D_a: W has {W.shape[0]} rows, "
                f"U has {U.shape[0]}, v has {v.shape[0]} entries"
            )
        check.frozen_fields(self, W=W, U=U, v=v)

    @classmethod
    def initialize(
        cls,
        rng: np.random.Generator,
        *,
        key_dim: IntScalar,
        query_dim: IntScalar,
        hidden_dim: IntScalar,
        dtype: type[np.floating[Any]] = np.float64,
    ) -> "AdditiveScoreParameters":
        """Draw W, U, v uniformly in ±1/√fan_in (Glorot-style) from ``rng``.

        Sizes whose arrays would exceed ``impl._validation.ALLOCATION_LIMIT_BYTES``
        are a ValueError naming them.
        """
        gen = check.generator(rng)
        d = _initial_dims(key_dim=key_dim, query_dim=query_dim, hidden_dim=hidden_dim)
        chosen = check.float_dtype(dtype)
        d_k, d_q, d_a = d["key_dim"], d["query_dim"], d["hidden_dim"]
        check.allocation(
            d_a * (d_k + d_q + 1), chosen, "key_dim, query_dim and hidden_dim", "W, U, v"
        )

        def uniform(shape: tuple[int, ...], fan_in: int) -> FloatArray:
            bound = 1.0 / math.sqrt(fan_in)
            return gen.uniform(-bound, bound, size=shape).astype(chosen)

        return cls(W=uniform((d_a, d_k), d_k), U=uniform((d_a, d_q), d_q), v=uniform((d_a,), d_a))

    def score_function(self) -> ScoreFunction:
        """This parameterisation as a ``ScoreFunction`` (query, keys) -> scores (checked)."""
        return lambda query, keys: additive_score(query, keys, self)


def additive_score(query: Queries, keys: Vectors, parameters: AdditiveScoreParameters) -> Scores:
    r"""Additive (Bahdanau) scores s(x_n, q) = vᵀ tanh(W x_n + U q).

    Book: §8.2, score functions (additive model).
    Shapes: query (..., L, D_q), keys (..., N, D_k) -> (..., L, N);
    parameters W (D_a, D_k), U (D_a, D_q), v (D_a,).
    Edges: the tanh saturates, so large finite inputs give finite scores
    (|s| ≤ Σ|v|); projections W x or U q that overflow are a ValueError naming
    ``query``, ``keys`` and ``parameters``.
    Spec: ``spec.scores.additive_score``.
    """
    p = check.instance(parameters, AdditiveScoreParameters, "parameters")
    q, k = _query_and_keys(query, keys)
    check.same_dtype(query=q, parameters=p.W)
    if k.shape[-1] != p.W.shape[1]:
        raise ValueError(f"keys has {k.shape[-1]} features, W expects {p.W.shape[1]}")
    if q.shape[-1] != p.U.shape[1]:
        raise ValueError(f"query has {q.shape[-1]} features, U expects {p.U.shape[1]}")
    try:
        return _additive(q, k, p.W, p.U, p.v)
    except _ScoreOverflowError:
        raise _overflow_error("query, keys and parameters", q.dtype) from None


@dataclass(frozen=True)
class BilinearScoreParameters:
    r"""Parameters of the bilinear score xᵀ W q: ``W`` of shape (D_k, D_q).

    Keeps a read-only private copy of ``W`` (see ``AdditiveScoreParameters``).
    """

    W: FloatArray

    def __post_init__(self) -> None:
        W = check.float_array(self.W, "W", min_ndim=2, nonempty=True)
        if W.ndim != 2:
            raise ValueError(f"W must be a matrix (D_k, D_q), got shape {W.shape}")
        check.frozen_fields(self, W=W)

    @classmethod
    def initialize(
        cls,
        rng: np.random.Generator,
        *,
        key_dim: IntScalar,
        query_dim: IntScalar,
        dtype: type[np.floating[Any]] = np.float64,
    ) -> "BilinearScoreParameters":
        """Draw W with i.i.d. N(0, 1/(D_k D_q)) entries (so scores have O(1) variance)."""
        gen = check.generator(rng)
        d = _initial_dims(key_dim=key_dim, query_dim=query_dim)
        chosen = check.float_dtype(dtype)
        d_k, d_q = d["key_dim"], d["query_dim"]
        check.allocation(d_k * d_q, chosen, "key_dim and query_dim", "W")
        std = 1.0 / math.sqrt(d_k * d_q)
        return cls(W=gen.normal(0.0, std, size=(d_k, d_q)).astype(chosen))

    def score_function(self) -> ScoreFunction:
        """This parameterisation as a ``ScoreFunction`` (query, keys) -> scores (checked)."""
        return lambda query, keys: bilinear_score(query, keys, self)


def bilinear_score(query: Queries, keys: Vectors, parameters: BilinearScoreParameters) -> Scores:
    r"""Bilinear scores s(x_n, q) = x_nᵀ W q.

    Book: §8.2, score functions (bilinear model); with W = I it is the dot product.
    Shapes: query (..., L, D_q), keys (..., N, D_k), W (D_k, D_q) -> (..., L, N).
    Edges: overflow is a ValueError naming ``query``, ``keys`` and ``parameters``.
    Spec: ``spec.scores.bilinear_score``.
    """
    p = check.instance(parameters, BilinearScoreParameters, "parameters")
    q, k = _query_and_keys(query, keys)
    W = p.W
    check.same_dtype(query=q, parameters=W)
    if k.shape[-1] != W.shape[0]:
        raise ValueError(f"keys has {k.shape[-1]} features, W has {W.shape[0]} rows")
    if q.shape[-1] != W.shape[1]:
        raise ValueError(f"query has {q.shape[-1]} features, W has {W.shape[1]} columns")
    try:
        return _require_finite(_bilinear(q, k, W), "")
    except _ScoreOverflowError:
        raise _overflow_error("query, keys and parameters", q.dtype) from None
