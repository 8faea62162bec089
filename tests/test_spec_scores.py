"""impl.scores against spec.scores (lambdified): the four score functions of §8.2.

Book: §8.2, score functions. spec scores one column key x against one column
query q; impl scores L queries against N keys at once, entry [l, n] =
s(keys[n], query[l]). The spec expression is evaluated with the key
components broadcast along axis −2 (N) and the query components along −1.
"""

from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Any

import numpy as np
import pytest
import sympy
from hypothesis import given
from hypothesis import strategies as st
from numpy.typing import NDArray

from impl.scores import (
    AdditiveScoreParameters,
    BilinearScoreParameters,
    additive_score,
    bilinear_score,
    dot_product_score,
    scaled_dot_product_score,
)
from impl.testing.strategies import batch_shapes, float_arrays, float_dtypes, sizes
from impl.testing.tolerances import assert_close, eps
from spec import scores as spec

FloatArray = NDArray[np.floating[Any]]

SCORE_ATOL_ULPS = 64.0
"""Scores are sums of D products q_d x_d (bounded by max|q|·max|x| each) or of
D_a terms v_a·tanh(·) (bounded by |v_a|): rounding leaves an absolute error of
a few ulps of the sum of the terms' sizes (``_atol``), and float32 tanh may be
off by a few ulps more; 64 ulps of that scale covers both."""


@dataclass(frozen=True)
class ScoreCase:
    """query (*batch, L, D_q), keys (*batch, N, D_k) and parameters W, U, v (additive), B."""

    query: FloatArray
    keys: FloatArray
    W: FloatArray
    U: FloatArray
    v: FloatArray
    B: FloatArray


@st.composite
def score_cases(draw: st.DrawFn, *, same_dims: bool) -> ScoreCase:
    dtype = draw(float_dtypes)
    batch = draw(batch_shapes)
    length, memory = draw(sizes(3)), draw(sizes(4))
    d_k = draw(sizes(4))
    d_q = d_k if same_dims else draw(sizes(4))
    d_a = draw(sizes(3))
    return ScoreCase(
        query=draw(float_arrays(dtype, (*batch, length, d_q))),
        keys=draw(float_arrays(dtype, (*batch, memory, d_k))),
        W=draw(float_arrays(dtype, (d_a, d_k), magnitude=1.0)),
        U=draw(float_arrays(dtype, (d_a, d_q), magnitude=1.0)),
        v=draw(float_arrays(dtype, (d_a,))),
        B=draw(float_arrays(dtype, (d_k, d_q), magnitude=1.0)),
    )


@cache
def _lambdified(kind: str, d_k: int, d_q: int, d_a: int) -> Callable[..., Any]:
    s = spec.score_symbols(d_k, d_q, d_a)
    params: list[sympy.Expr] = []
    if kind == "dot":
        expr = spec.dot_product_score(s.x, s.q)
    elif kind == "scaled":
        expr = spec.scaled_dot_product_score(s.x, s.q)
    elif kind == "additive":
        expr = spec.additive_score(s.x, s.q, s.W, s.U, s.v)
        params = [*s.W, *s.U, *s.v]
    else:
        expr, params = spec.bilinear_score(s.x, s.q, s.B), [*s.B]
    return sympy.lambdify([*s.x, *s.q, *params], expr, modules="numpy")


def _spec_scores(kind: str, case: ScoreCase) -> FloatArray:
    """spec s(x_n, q_l) for every (l, n), in float64, cast to the case's dtype."""
    d_a = case.v.shape[0]
    function = _lambdified(kind, case.keys.shape[-1], case.query.shape[-1], d_a)
    key_parts = [case.keys[..., None, :, d].astype(np.float64) for d in range(case.keys.shape[-1])]
    query_parts = [
        case.query[..., :, None, d].astype(np.float64) for d in range(case.query.shape[-1])
    ]
    params: list[FloatArray] = []
    if kind == "additive":
        params = [*case.W.astype(np.float64).ravel(), *case.U.ravel(), *case.v.ravel()]
    elif kind == "bilinear":
        params = [*case.B.astype(np.float64).ravel()]
    values = function(*key_parts, *query_parts, *(np.float64(p) for p in params))
    # query parts (*batch, L, 1) and key parts (*batch, 1, N) broadcast to (*batch, L, N)
    shape = np.broadcast_shapes(
        (*case.query.shape[:-1], 1), (*case.keys.shape[:-2], 1, case.keys.shape[-2])
    )
    result: FloatArray = np.broadcast_to(values, shape).astype(case.query.dtype)
    return result


def _atol(case: ScoreCase) -> float:
    scale = 1.0 + float(np.abs(case.query).max()) * float(np.abs(case.keys).max()) * max(
        case.keys.shape[-1], case.v.shape[0]
    )
    scale = max(scale, 1.0 + float(np.abs(case.v).sum()))
    tolerance: float = SCORE_ATOL_ULPS * eps(case.query.dtype) * scale
    return tolerance


@given(score_cases(same_dims=True))
def test_dot_product_score_matches_spec(case: ScoreCase) -> None:
    """§8.2 dot product model: impl = spec xᵀq."""
    assert_close(
        dot_product_score(case.query, case.keys), _spec_scores("dot", case), atol=_atol(case)
    )


@given(score_cases(same_dims=True))
def test_scaled_dot_product_score_matches_spec(case: ScoreCase) -> None:
    """§8.2 scaled dot product: impl = spec xᵀq/√D."""
    assert_close(
        scaled_dot_product_score(case.query, case.keys),
        _spec_scores("scaled", case),
        atol=_atol(case),
    )


@given(score_cases(same_dims=False))
def test_additive_score_matches_spec(case: ScoreCase) -> None:
    """§8.2 additive model: impl = spec vᵀtanh(Wx + Uq)."""
    parameters = AdditiveScoreParameters(W=case.W, U=case.U, v=case.v)
    assert_close(
        additive_score(case.query, case.keys, parameters),
        _spec_scores("additive", case),
        atol=_atol(case),
    )


@given(score_cases(same_dims=False))
def test_bilinear_score_matches_spec(case: ScoreCase) -> None:
    """§8.2 bilinear model: impl = spec xᵀWq."""
    parameters = BilinearScoreParameters(W=case.B)
    assert_close(
        bilinear_score(case.query, case.keys, parameters),
        _spec_scores("bilinear", case),
        atol=_atol(case),
    )


@pytest.mark.parametrize("d", [1, 2, 3, 4])
def test_spec_bilinear_with_identity_is_dot_product(d: int) -> None:
    """§8.2: spec bilinear xᵀIq reduces to spec xᵀq (sympy, exactly)."""
    s = spec.score_symbols(d, d, 1)
    residual = spec.bilinear_score(s.x, s.q, sympy.eye(d)) - spec.dot_product_score(s.x, s.q)
    assert sympy.expand(residual) == 0


def test_spec_score_symbols_use_the_books_letters_and_never_share_one() -> None:
    """x, q, W, U, v as in §8.2 (B = the bilinear W), each real; no symbol is shared between
    two fields (a shared name would make two sympy Symbols one, silently tying parameters)."""
    s = spec.score_symbols(2, 3, 2)
    fields = {"x": s.x, "q": s.q, "W": s.W, "U": s.U, "v": s.v, "B": s.B}
    for letter, matrix in fields.items():
        assert all(str(entry).startswith(f"{letter}_") for entry in matrix)
        assert all(entry == sympy.Symbol(str(entry), real=True) for entry in matrix)
    symbols = [entry for matrix in fields.values() for entry in matrix]
    assert len(set(symbols)) == len(symbols) == 2 + 3 + 4 + 6 + 2 + 6
