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
"""

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeAlias

import numpy as np

from impl import _validation as check
from impl._typing import FloatArray, Queries, Scores, Vectors

ScoreFunction: TypeAlias = Callable[[FloatArray, FloatArray], FloatArray]
"""``score(query (..., L, D_q), keys (..., N, D_k)) -> scores (..., L, N)``."""


def transposed_keys(keys: FloatArray) -> FloatArray:
    """Kᵀ over the last two axes, as a contiguous array.

    # Note: NumPy's stacked matmul with a transposed *view* can take a much
    # slower path than with a contiguous copy (measured by ``make bench``).
    """
    if keys.ndim < 2:
        raise ValueError(f"keys must have at least 2 axes (..., N, D), got shape {keys.shape}")
    result: FloatArray = np.ascontiguousarray(np.swapaxes(keys, -1, -2))
    return result


def _query_and_keys(query: object, keys: object) -> tuple[FloatArray, FloatArray]:
    q = check.float_array(query, "query", min_ndim=2)
    k = check.float_array(keys, "keys", min_ndim=2)
    check.same_dtype(query=q, keys=k)
    check.batch_broadcast(query=q, keys=k)
    return q, k


def dot_product_score(query: Queries, keys: Vectors) -> Scores:
    r"""Dot-product scores s(x_n, q) = x_nᵀ q.

    Book: §8.2, score functions (dot product model).
    Shapes: query (..., L, D), keys (..., N, D) -> (..., L, N).
    Spec: ``spec.scores.dot_product_score``.
    """
    q, k = _query_and_keys(query, keys)
    check.feature_match("keys", k, "query", q)
    scores: FloatArray = q @ transposed_keys(k)  # [l, n] = q_lᵀ x_n
    return scores


def scaled_dot_product_score(query: Queries, keys: Vectors) -> Scores:
    r"""Scaled dot-product scores s(x_n, q) = x_nᵀ q / √D.

    Book: §8.2, score functions (scaled dot product); exercise 8-2 explains the
    √D: for independent unit-variance components x_nᵀq has variance D.
    Shapes: query (..., L, D), keys (..., N, D) -> (..., L, N).
    Spec: ``spec.scores.scaled_dot_product_score``.
    """
    scores = dot_product_score(query, keys)
    scaled: FloatArray = scores / np.asarray(math.sqrt(query.shape[-1]), dtype=scores.dtype)
    return scaled


@dataclass(frozen=True)
class AdditiveScoreParameters:
    r"""Parameters of the additive score vᵀ tanh(W x + U q).

    Book shapes (columns): W ∈ R^{D_a×D_k}, U ∈ R^{D_a×D_q}, v ∈ R^{D_a}.
    We store the same matrices: ``W`` (D_a, D_k), ``U`` (D_a, D_q), ``v`` (D_a,).
    """

    W: FloatArray
    U: FloatArray
    v: FloatArray

    def __post_init__(self) -> None:
        W = check.float_array(self.W, "W", min_ndim=2)
        U = check.float_array(self.U, "U", min_ndim=2)
        v = check.float_array(self.v, "v", min_ndim=1)
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

    @classmethod
    def initialize(
        cls,
        rng: np.random.Generator,
        *,
        key_dim: int,
        query_dim: int,
        hidden_dim: int,
        dtype: type[np.floating[Any]] = np.float64,
    ) -> "AdditiveScoreParameters":
        """Draw W, U, v uniformly in ±1/√fan_in (Glorot-style) from ``rng``."""
        gen = check.generator(rng)
        d_k = check.positive_int(key_dim, "key_dim")
        d_q = check.positive_int(query_dim, "query_dim")
        d_a = check.positive_int(hidden_dim, "hidden_dim")

        def uniform(shape: tuple[int, ...], fan_in: int) -> FloatArray:
            bound = 1.0 / math.sqrt(fan_in)
            return gen.uniform(-bound, bound, size=shape).astype(dtype)

        return cls(W=uniform((d_a, d_k), d_k), U=uniform((d_a, d_q), d_q), v=uniform((d_a,), d_a))

    def score_function(self) -> ScoreFunction:
        """This parameterisation as a ``ScoreFunction`` (query, keys) -> scores."""
        return lambda query, keys: additive_score(query, keys, self)


def additive_score(query: Queries, keys: Vectors, parameters: AdditiveScoreParameters) -> Scores:
    r"""Additive (Bahdanau) scores s(x_n, q) = vᵀ tanh(W x_n + U q).

    Book: §8.2, score functions (additive model).
    Shapes: query (..., L, D_q), keys (..., N, D_k) -> (..., L, N);
    parameters W (D_a, D_k), U (D_a, D_q), v (D_a,).
    Spec: ``spec.scores.additive_score``.
    """
    check.instance(parameters, AdditiveScoreParameters, "parameters")
    q, k = _query_and_keys(query, keys)
    check.same_dtype(query=q, W=parameters.W)
    if k.shape[-1] != parameters.W.shape[1]:
        raise ValueError(f"keys has {k.shape[-1]} features, W expects {parameters.W.shape[1]}")
    if q.shape[-1] != parameters.U.shape[1]:
        raise ValueError(f"query has {q.shape[-1]} features, U expects {parameters.U.shape[1]}")
    projected_keys: FloatArray = k @ parameters.W.T  # rows (W x_n)ᵀ: (..., N, D_a)
    projected_queries: FloatArray = q @ parameters.U.T  # rows (U q_l)ᵀ: (..., L, D_a)
    hidden: FloatArray = np.tanh(
        projected_queries[..., :, None, :] + projected_keys[..., None, :, :]
    )
    scores: FloatArray = hidden @ parameters.v  # (..., L, N)
    return scores


@dataclass(frozen=True)
class BilinearScoreParameters:
    r"""Parameters of the bilinear score xᵀ W q: ``W`` of shape (D_k, D_q)."""

    W: FloatArray

    def __post_init__(self) -> None:
        W = check.float_array(self.W, "W", min_ndim=2)
        if W.ndim != 2:
            raise ValueError(f"W must be a matrix (D_k, D_q), got shape {W.shape}")

    @classmethod
    def initialize(
        cls,
        rng: np.random.Generator,
        *,
        key_dim: int,
        query_dim: int,
        dtype: type[np.floating[Any]] = np.float64,
    ) -> "BilinearScoreParameters":
        """Draw W with i.i.d. N(0, 1/(D_k D_q)) entries (so scores have O(1) variance)."""
        gen = check.generator(rng)
        d_k = check.positive_int(key_dim, "key_dim")
        d_q = check.positive_int(query_dim, "query_dim")
        std = 1.0 / math.sqrt(d_k * d_q)
        return cls(W=gen.normal(0.0, std, size=(d_k, d_q)).astype(dtype))

    def score_function(self) -> ScoreFunction:
        """This parameterisation as a ``ScoreFunction`` (query, keys) -> scores."""
        return lambda query, keys: bilinear_score(query, keys, self)


def bilinear_score(query: Queries, keys: Vectors, parameters: BilinearScoreParameters) -> Scores:
    r"""Bilinear scores s(x_n, q) = x_nᵀ W q.

    Book: §8.2, score functions (bilinear model); with W = I it is the dot product.
    Shapes: query (..., L, D_q), keys (..., N, D_k), W (D_k, D_q) -> (..., L, N).
    Spec: ``spec.scores.bilinear_score``.
    """
    check.instance(parameters, BilinearScoreParameters, "parameters")
    q, k = _query_and_keys(query, keys)
    W = parameters.W
    check.same_dtype(query=q, W=W)
    if k.shape[-1] != W.shape[0]:
        raise ValueError(f"keys has {k.shape[-1]} features, W has {W.shape[0]} rows")
    if q.shape[-1] != W.shape[1]:
        raise ValueError(f"query has {q.shape[-1]} features, W has {W.shape[1]} columns")
    transformed: FloatArray = q @ W.T  # rows (W q_l)ᵀ: (..., L, D_k)
    scores: FloatArray = transformed @ transposed_keys(k)  # [l, n] = x_nᵀ W q_l
    return scores
