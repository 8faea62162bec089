"""impl.attention / impl.multihead against spec.attention (lambdified).

Book: §8.2 (soft attention = E_{z∼α}[x_z]), §8.2.1 (key-value attention,
multi-head attention). spec computes the expectation with sympy.stats over a
finite attention variable z; impl computes ``softmax(scores) @ inputs``.
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

from impl.attention import key_value_attention, soft_attention
from impl.multihead import book_multi_head_attention
from impl.scores import dot_product_score, scaled_dot_product_score
from impl.testing.strategies import batch_shapes, float_arrays, float_dtypes, sizes
from impl.testing.tolerances import assert_close, eps
from spec import attention as spec
from spec import scores as spec_scores
from spec.softmax import softmax as spec_softmax

FloatArray = NDArray[np.floating[Any]]

OUTPUT_ATOL_ULPS = 64.0
"""An attention output is a convex combination of values of size ≤ 10; spec
(float64, naive exp) and impl (shifted exp, possibly float32) differ by
rounding of the weights (relative, a few ulps) times the values, and in the
scores, which are sums of D products (|score| ≤ 100·D); as e^{score} amplifies
an absolute score error δ into a relative weight error δ, we allow 64 ulps of
(1 + max|v|)·(1 + max|score|)."""

MAGNITUDE = 3.0
"""Entries in [−3, 3]: scores up to 9·D (≤ 27 for D = 3) saturate softmax
sometimes, yet float32 score errors stay far below the tolerance."""


@dataclass(frozen=True)
class AttentionCase:
    """queries (*batch, M, D), keys (*batch, N, D), values (*batch, N, D_v)."""

    queries: FloatArray
    keys: FloatArray
    values: FloatArray


@st.composite
def attention_cases(draw: st.DrawFn, *, max_queries: int = 3) -> AttentionCase:
    dtype = draw(float_dtypes)
    batch = draw(batch_shapes)
    m, n, d, d_v = draw(sizes(max_queries)), draw(sizes(4)), draw(sizes(3)), draw(sizes(3))
    return AttentionCase(
        queries=draw(float_arrays(dtype, (*batch, m, d), magnitude=MAGNITUDE)),
        keys=draw(float_arrays(dtype, (*batch, n, d), magnitude=MAGNITUDE)),
        values=draw(float_arrays(dtype, (*batch, n, d_v), magnitude=MAGNITUDE)),
    )


def _score(kind: str) -> spec.SymbolicScore:
    if kind == "dot":
        return spec_scores.dot_product_score
    return spec_scores.scaled_dot_product_score


@cache
def _lambdified(kind: str, what: str, n: int, d: int, d_v: int) -> Callable[..., Any]:
    """spec expression of one query (1×d) against n keys; args q, keys, (values) flattened."""
    symbols = spec.attention_symbols(1, n, d, d_v)
    q = symbols.queries.row(0).T
    if what == "expectation":
        row = spec.expected_input(q, symbols.keys, _score(kind))
        return sympy.lambdify([*q, *symbols.keys], list(row), modules="numpy")
    row = spec.key_value_attention(q, symbols.keys, symbols.values, _score(kind))
    return sympy.lambdify([*q, *symbols.keys, *symbols.values], list(row), modules="numpy")


def _spec_rows(kind: str, what: str, case: AttentionCase) -> FloatArray:
    """spec output for every query row: (*batch, M, D_out), cast to the case's dtype."""
    n, d = case.keys.shape[-2:]
    d_v = case.values.shape[-1]
    function = _lambdified(kind, what, n, d, d_v)
    query_parts = [case.queries[..., :, c].astype(np.float64) for c in range(d)]  # (*b, M)
    key_parts = [
        case.keys[..., r, c, None].astype(np.float64) for r in range(n) for c in range(d)
    ]  # (*b, 1) each: broadcast over the M queries
    args = query_parts + key_parts
    if what != "expectation":
        args += [
            case.values[..., r, c, None].astype(np.float64) for r in range(n) for c in range(d_v)
        ]
    out_shape = np.broadcast_shapes(case.queries.shape[:-1], (*case.keys.shape[:-2], 1))
    values = function(*args)
    result: FloatArray = np.stack([np.broadcast_to(v, out_shape) for v in values], axis=-1)
    return result.astype(case.queries.dtype)


def _atol(case: AttentionCase, *, with_values: bool) -> float:
    source = case.values if with_values else case.keys
    score_size = float(np.abs(case.queries).max() * np.abs(case.keys).max()) * case.keys.shape[-1]
    scale = (1.0 + float(np.abs(source).max())) * (1.0 + score_size)
    tolerance: float = OUTPUT_ATOL_ULPS * eps(case.queries.dtype) * scale
    return tolerance


@given(attention_cases(), st.sampled_from(["dot", "scaled"]))
def test_soft_attention_equals_spec_expectation(case: AttentionCase, kind: str) -> None:
    """§8.2: impl Σ_n α_n x_n = spec E_{z∼α}[x_z] (sympy.stats over z), dot and scaled scores."""
    score = dot_product_score if kind == "dot" else scaled_dot_product_score
    actual = soft_attention(case.queries, case.keys, score=score)
    assert_close(actual, _spec_rows(kind, "expectation", case), atol=_atol(case, with_values=False))


@given(attention_cases())
def test_key_value_attention_matches_spec(case: AttentionCase) -> None:
    """§8.2.1: impl key-value attention = spec Σ_n softmax_n(k_nᵀq/√D) v_n."""
    actual = key_value_attention(case.queries, case.keys, case.values)
    assert_close(actual, _spec_rows("scaled", "kv", case), atol=_atol(case, with_values=True))


@given(attention_cases(max_queries=1))
def test_book_multi_head_attention_one_query_is_key_value_attention(case: AttentionCase) -> None:
    """§8.2.1 (proofs.multi_head_single_query): ⊕ over one query = att((K,V), q), in impl.

    Also against spec: the single query's key-value attention, lambdified.
    """
    multi = book_multi_head_attention(case.queries, case.keys, case.values)
    single = key_value_attention(case.queries, case.keys, case.values)
    assert_close(multi, single[..., 0, :], rtol=0.0, atol=0.0)
    expected = _spec_rows("scaled", "kv", case)[..., 0, :]
    assert_close(multi, expected, atol=_atol(case, with_values=True))


@given(attention_cases())
def test_book_multi_head_attention_concatenates_spec_heads(case: AttentionCase) -> None:
    """§8.2.1: impl book multi-head = spec [att(q_1); …; att(q_M)] concatenated in query order."""
    multi = book_multi_head_attention(case.queries, case.keys, case.values)
    per_query = _spec_rows("scaled", "kv", case)
    expected = per_query.reshape(*per_query.shape[:-2], -1)
    assert_close(multi, expected, atol=_atol(case, with_values=True))


@pytest.mark.parametrize("size", [2, 3])
def test_spec_reinforce_closed_form_is_the_derivative_and_the_estimators_mean(size: int) -> None:
    """§8.2.1 at N = 2, 3: α_j (L_j − Σ α_n L_n) = ∂/∂s_j E[L] = E[L_z ∂/∂s_j log α_z],
    each residual simplifying to 0; dropping the mean (α_j L_j) is caught."""
    identity = spec.reinforce_identity(size)
    closed = identity.closed_form
    assert closed == spec.expected_loss_gradient(identity.scores, identity.losses)
    for derived in (identity.exact_gradient, identity.score_function_gradient):
        assert all(sympy.simplify(r) == 0 for r in derived - closed)
    alpha = spec_softmax(identity.scores)
    no_mean = sympy.Matrix([a * loss for a, loss in zip(alpha, identity.losses, strict=True)])
    assert any(sympy.simplify(r) != 0 for r in identity.exact_gradient - no_mean)
