"""Tolerance helpers: compare arrays after checking shape and dtype.

The default tolerance follows scipy's convention for "equal up to rounding":
``rtol = 4·√eps`` of the dtype (≈ 6e-8 for float64, ≈ 1.4e-3 for float32),
i.e. half the significant digits survive a moderately conditioned computation.
Any looser tolerance used by a test is a named constant with its reason.
"""

import math
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray


def default_rtol(dtype: np.dtype[Any] | type[np.floating[Any]]) -> float:
    """4·√eps for the dtype (scipy's default for comparing computed results)."""
    return 4.0 * math.sqrt(float(np.finfo(dtype).eps))


def assert_close(
    actual: NDArray[Any],
    desired: ArrayLike,
    *,
    rtol: float | None = None,
    atol: float = 0.0,
    check_dtype: bool = True,
    err_msg: str = "",
) -> None:
    """Assert ``actual`` has ``desired``'s shape (and dtype), then values within tolerance.

    ``rtol`` defaults to ``default_rtol(actual.dtype)``. ``desired`` may be a
    Python scalar/list (then only the shape is checked, against its array).
    """
    desired_array = np.asarray(desired)
    assert isinstance(actual, np.ndarray), f"expected an ndarray, got {type(actual).__name__}"
    assert actual.shape == desired_array.shape, (
        f"shape mismatch: actual {actual.shape}, desired {desired_array.shape}. {err_msg}"
    )
    if check_dtype and isinstance(desired, np.ndarray):
        assert actual.dtype == desired.dtype, (
            f"dtype mismatch: actual {actual.dtype}, desired {desired.dtype}. {err_msg}"
        )
    tolerance = default_rtol(actual.dtype) if rtol is None else rtol
    np.testing.assert_allclose(actual, desired_array, rtol=tolerance, atol=atol, err_msg=err_msg)


def eps(dtype: np.dtype[Any] | type[np.floating[Any]]) -> float:
    """Machine epsilon of a float dtype."""
    return float(np.finfo(dtype).eps)
