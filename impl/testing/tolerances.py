"""Tolerance helpers: unit roundoff and γ_n per precision; compare arrays.

Two kinds of tolerance live here:

* **Rounding-error bounds** for judging someone else's kernel (the conformance
  kit): a candidate declares the precision it computes in (``Precision``:
  float64, float32, float16, bfloat16), whose unit roundoff u is 2⁻⁵³, 2⁻²⁴,
  2⁻¹¹, 2⁻⁸ (Higham, *Accuracy and Stability of Numerical Algorithms*, 2nd ed.,
  §2.1, Table 2.1; bfloat16 keeps 8 significand bits, u = 2⁻⁸). Under the
  standard model fl(a op b) = (a op b)(1 + δ), |δ| ≤ u, a sum or product of n
  terms carries relative error at most γ_n = nu/(1 − nu) (Higham Lemma 3.1).
  The bounds built from these are derived in ``spec.rounding_error`` and
  evaluated in ``impl.testing.bounds``.
* **"Equal up to rounding"** for nndl8's own tests (``assert_close``), below.

The default tolerance follows scipy's convention for "equal up to rounding":
``rtol = 4·√eps`` of the dtype (≈ 6e-8 for float64, ≈ 1.4e-3 for float32),
i.e. half the significant digits survive a moderately conditioned computation.
Any looser tolerance used by a test is a named constant with its reason.
"""

import contextlib
import math
from typing import Any, Literal, get_args

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = [
    "PRECISIONS",
    "Precision",
    "as_precision",
    "assert_close",
    "default_rtol",
    "eps",
    "gamma",
    "precision_dtype",
    "precision_of",
    "round_to",
    "unit_roundoff",
]

Precision = Literal["float64", "float32", "float16", "bfloat16"]
"""The precision a candidate kernel declares it computes in."""

PRECISIONS: tuple[Precision, ...] = get_args(Precision)

_UNIT_ROUNDOFF: dict[Precision, float] = {
    "float64": 2.0**-53,  # 53-bit significand (IEEE binary64)
    "float32": 2.0**-24,  # 24-bit significand (IEEE binary32)
    "float16": 2.0**-11,  # 11-bit significand (IEEE binary16)
    "bfloat16": 2.0**-8,  # 8-bit significand (bfloat16: float32's exponent, 7 stored bits)
}


def as_precision(precision: object) -> Precision:
    """Validate a precision name (or NumPy dtype) and return it as a ``Precision``."""
    for name in PRECISIONS:
        if precision == name:
            return name
    if isinstance(precision, np.dtype | type):
        with contextlib.suppress(TypeError, ValueError):
            return precision_of(np.dtype(precision))
    raise ValueError(f"precision must be one of {', '.join(PRECISIONS)}, got {precision!r}")


def unit_roundoff(precision: Precision | str) -> float:
    """Unit roundoff u of a precision: 2⁻⁵³, 2⁻²⁴, 2⁻¹¹ or 2⁻⁸ (Higham Table 2.1)."""
    return _UNIT_ROUNDOFF[as_precision(precision)]


def gamma(n: int, precision: Precision | str) -> float:
    """Higham's γ_n = nu/(1 − nu) (Lemma 3.1), the relative error of n chained roundings.

    Raises ``ValueError`` when nu ≥ 1 (the bound is void: too many operations for
    the precision, e.g. n ≥ 256 in bfloat16).
    """
    if n < 0:
        raise ValueError(f"n must be ≥ 0, got {n}")
    nu = n * unit_roundoff(precision)
    if nu >= 1:
        raise ValueError(f"γ_{n} is undefined in {precision}: n·u = {nu} ≥ 1")
    return nu / (1.0 - nu)


def precision_dtype(precision: Precision | str) -> np.dtype[Any]:
    """The NumPy dtype that holds a precision's numbers (bfloat16 from ``ml_dtypes``)."""
    name = as_precision(precision)
    if name == "bfloat16":
        import ml_dtypes  # only bfloat16 needs it (a core dependency, imported lazily)

        bfloat16: np.dtype[Any] = np.dtype(ml_dtypes.bfloat16)
        return bfloat16
    return np.dtype(name)


def precision_of(dtype: np.dtype[Any]) -> Precision:
    """The ``Precision`` of a float dtype (float64, float32, float16 or bfloat16)."""
    name = np.dtype(dtype).name
    for precision in PRECISIONS:
        if name == precision:
            return precision
    raise ValueError(f"no precision for dtype {name}; expected one of {', '.join(PRECISIONS)}")


def round_to(x: ArrayLike, precision: Precision | str) -> NDArray[np.float64]:
    """Round float64 values to a precision and back (round to nearest), as float64.

    Inputs handed to a candidate are first rounded so that the float64 reference
    sees exactly the numbers the candidate sees.
    """
    result: NDArray[np.float64] = (
        np.asarray(x, dtype=np.float64).astype(precision_dtype(precision)).astype(np.float64)
    )
    return result


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
