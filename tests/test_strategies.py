"""Meta-tests: the shared strategies generate what they promise."""

from typing import Any

import numpy as np
from hypothesis import given
from hypothesis import strategies as st
from numpy.typing import NDArray

from impl.testing import strategies as nst


@given(nst.attention_inputs())
def test_attention_inputs_are_tied_and_bounded(inputs: nst.AttentionInputs) -> None:
    q, k, v = inputs.query, inputs.key, inputs.value
    assert q.dtype == k.dtype == v.dtype
    assert q.dtype in (np.float32, np.float64)
    assert q.shape[:-2] == k.shape[:-2] == v.shape[:-2]
    assert q.shape[-1] == k.shape[-1]
    assert k.shape[-2] == v.shape[-2] >= 1
    for a in (q, k, v):
        assert np.isfinite(a).all()
        assert (np.abs(a) <= nst.DEFAULT_MAGNITUDE).all()


@given(nst.symmetric_zero_diagonal(nst.sizes(6)))
def test_symmetric_zero_diagonal_strategy(w: NDArray[np.floating[Any]]) -> None:
    assert (w == w.T).all()
    assert (np.diag(w) == 0).all()


@given(st.integers(1, 8).flatmap(nst.stochastic_vectors))
def test_stochastic_vectors_strategy(p: NDArray[np.floating[Any]]) -> None:
    assert (p > 0).all()
    # A normalised float64 vector of ≤ 8 entries sums to 1 within a few ulps.
    np.testing.assert_allclose(p.sum(), 1.0, rtol=1e-12)


@given(nst.sign_vectors((3, 5)))
def test_sign_vectors_strategy(x: NDArray[np.floating[Any]]) -> None:
    assert set(np.unique(x)) <= {-1.0, 1.0}


@given(st.integers(1, 7).flatmap(nst.permutations_of))
def test_permutations_strategy(p: NDArray[np.intp]) -> None:
    assert sorted(p.tolist()) == list(range(len(p)))
