"""Properties of impl.softmax (§8.2 attention distribution, exercise 8-2)."""

from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from numpy.typing import NDArray

from impl.softmax import log_softmax, softmax, softmax_jacobian
from impl.testing import strategies as nst
from impl.testing.tolerances import assert_close, default_rtol, eps

FloatArray = NDArray[np.floating[Any]]


def _sum_tolerance(x: FloatArray) -> float:
    """Rounding bound for a sum of N weights in [0, 1]: N·eps (each add rounds once)."""
    return int(x.shape[-1]) * eps(x.dtype)


@given(nst.logits_arrays())
def test_softmax_weights_are_a_distribution(logits: FloatArray) -> None:
    """§8.2: α_n ≥ 0 and Σ_n α_n = 1 (up to N·eps of rounding)."""
    alpha = softmax(logits)
    assert alpha.dtype == logits.dtype
    assert alpha.shape == logits.shape
    assert (alpha >= 0).all()
    np.testing.assert_allclose(alpha.sum(axis=-1), 1.0, rtol=0, atol=_sum_tolerance(alpha))


@given(nst.logits_arrays(), st.floats(-100, 100))
def test_softmax_shift_invariance(logits: FloatArray, shift: float) -> None:
    """softmax(s + c) = softmax(s): the normalisation cancels exp(c)."""
    shifted = (logits + np.asarray(shift, dtype=logits.dtype)).astype(logits.dtype)
    # Adding c rounds each logit by up to |s + c|·eps; exp turns that into a
    # relative error of the same size in the weights.
    magnitude = float(np.abs(shifted).max(initial=0.0)) + 1.0
    atol = 4 * magnitude * eps(logits.dtype)
    assert_close(softmax(shifted), softmax(logits), rtol=default_rtol(logits.dtype), atol=atol)


@given(st.data())
def test_softmax_masked_positions_get_exactly_zero(data: st.DataObject) -> None:
    """A masked position has weight exactly 0; the rest renormalise to sum 1."""
    logits = data.draw(nst.logits_arrays())
    mask = data.draw(nst.bool_arrays(logits.shape))
    alpha = softmax(logits, mask)
    assert (alpha[~mask] == 0).all()
    rows_with_any = mask.any(axis=-1)
    np.testing.assert_allclose(
        alpha.sum(axis=-1)[rows_with_any], 1.0, rtol=0, atol=_sum_tolerance(alpha)
    )
    assert (alpha.sum(axis=-1)[~rows_with_any] == 0).all()


@given(st.data())
def test_softmax_mask_equals_minus_infinity(data: st.DataObject) -> None:
    """Masking a position is the same as setting its logit to −inf."""
    logits = data.draw(nst.logits_arrays())
    mask = data.draw(nst.bool_arrays(logits.shape))
    as_inf = np.where(mask, logits, -np.inf).astype(logits.dtype)
    assert_close(softmax(logits, mask), softmax(as_inf))


@given(st.data())
def test_softmax_permutation_equivariance(data: st.DataObject) -> None:
    """Permuting the inputs permutes their weights (softmax treats the memory as a set)."""
    logits = data.draw(nst.logits_arrays())
    perm = data.draw(nst.permutations_of(logits.shape[-1]))
    assert_close(softmax(logits[..., perm]), softmax(logits)[..., perm])


@given(nst.logits_arrays())
def test_log_softmax_is_log_of_softmax(logits: FloatArray) -> None:
    """log_softmax = log ∘ softmax (computed without forming the quotient)."""
    # exp(log α) has relative error ≈ |log α|·eps; |log α| ≤ 2·magnitude + log N.
    atol = (2 * nst.DEFAULT_MAGNITUDE + 3) * 4 * eps(logits.dtype)
    assert_close(np.exp(log_softmax(logits)), softmax(logits), atol=atol)


@given(nst.logits_arrays())
def test_softmax_batch_consistency(logits: FloatArray) -> None:
    """A batched call equals the per-row calls."""
    rows = logits.reshape(-1, logits.shape[-1])
    stacked = np.stack([softmax(row) for row in rows]).reshape(logits.shape)
    assert_close(softmax(logits), stacked, rtol=0)


@given(nst.logits_arrays())
def test_softmax_jacobian_rows_sum_to_zero(logits: FloatArray) -> None:
    """Σ_j ∂α_i/∂s_j = 0: adding a constant to all logits changes nothing."""
    jacobian = softmax_jacobian(logits)
    assert jacobian.shape == (*logits.shape, logits.shape[-1])
    np.testing.assert_allclose(jacobian.sum(axis=-1), 0.0, atol=4 * _sum_tolerance(logits))
    assert_close(jacobian, np.swapaxes(jacobian, -1, -2), rtol=0)  # symmetric


# --- extreme input: defined, documented behaviour -------------------------------------------


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_softmax_huge_logits(dtype: type[np.floating[Any]]) -> None:
    """Logits of ±1e30 do not overflow: the max is subtracted first."""
    logits = np.array([[1e30, -1e30, 0.0], [1e30, 1e30, -1e30]], dtype=dtype)
    alpha = softmax(logits)
    assert_close(alpha, np.array([[1.0, 0.0, 0.0], [0.5, 0.5, 0.0]], dtype=dtype), rtol=0)
    assert np.isfinite(log_softmax(logits)).all()


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_softmax_fully_masked_row_is_zero(dtype: type[np.floating[Any]]) -> None:
    """A row with every position masked (or −inf) has weights 0 and log-weights −inf."""
    logits = np.array([[1.0, 2.0], [-np.inf, -np.inf]], dtype=dtype)
    mask = np.array([[False, False], [True, True]])
    for alpha in (softmax(logits, mask), softmax(np.full((2, 2), -np.inf, dtype=dtype))):
        assert_close(alpha, np.zeros((2, 2), dtype=dtype), rtol=0)
    assert np.isneginf(log_softmax(logits, mask)).all()
    assert (softmax_jacobian(logits, mask) == 0).all()


def test_softmax_single_position_and_minus_inf() -> None:
    """N = 1 gives weight 1; −inf logits get weight 0 alongside finite ones."""
    assert_close(softmax(np.array([[-5.0]])), np.array([[1.0]]), rtol=0)
    assert_close(softmax(np.array([0.0, -np.inf])), np.array([1.0, 0.0]), rtol=0)


def test_softmax_float32_extremes_near_overflow() -> None:
    """float32 logits near its maximum (±3e38) still give exact one-hot weights."""
    logits = np.array([3e38, -3e38], dtype=np.float32)
    assert_close(softmax(logits), np.array([1.0, 0.0], dtype=np.float32), rtol=0)


@pytest.mark.parametrize(
    ("logits", "mask", "error", "match"),
    [
        ([1.0, 2.0], None, TypeError, "logits must be a numpy"),
        (np.array([1, 2]), None, TypeError, "float32 or float64"),
        (np.array([np.nan, 1.0]), None, ValueError, "logits contains NaN"),
        (np.array([np.inf, 1.0]), None, ValueError, r"logits contains \+inf"),
        (np.array(1.0), None, ValueError, "at least 1 axes"),
        (np.array([1.0, 2.0]), np.array([1, 0]), TypeError, "mask must have dtype bool"),
        (np.array([1.0, 2.0]), np.array([True, False, True]), ValueError, "does not broadcast"),
    ],
)
def test_softmax_bad_input_errors(
    logits: object, mask: object, error: type[Exception], match: str
) -> None:
    """Bad input raises an error naming the argument."""
    with pytest.raises(error, match=match):
        softmax(logits, mask)  # type: ignore[arg-type]
