"""Argument checks that turn bad input into errors naming the argument.

Every public impl function validates its arguments with these helpers before
computing, so a caller sees ``ValueError: keys has 3 features, query has 4``
instead of a broadcasting traceback deep inside NumPy, or a silent NaN.

Check once (issue 7): a public function calls these once per argument, with
the caller's argument names, and then calls private kernels (``_name``, and
``impl._numerics``) that trust their inputs; kernels never call back into a
checking public function. This is the one home of every generic check (no
module keeps a private copy); family-specific sections are appended at the
end under a comment naming the family. ``tests/test_multihead.py`` counts
the calls made here during one ``multi_head_attention`` call.
"""

import math
from typing import Any, TypeVar

import numpy as np

from impl._typing import BoolArray, FloatArray, IntArray

T = TypeVar("T")


def float_array(
    x: object, name: str, *, min_ndim: int = 0, allow_inf: bool = False, nonempty: bool = False
) -> FloatArray:
    """Return ``x`` if it is a float32/float64 ndarray without NaN, else raise.

    ``min_ndim`` is the least number of axes (e.g. 2 for ``(..., N, D)``).
    ``+inf``/``-inf`` are rejected unless ``allow_inf`` (softmax logits allow
    ``-inf`` as "masked"; see ``impl.softmax``). With ``nonempty`` a zero-size
    axis is a ValueError.
    """
    if not isinstance(x, np.ndarray):
        raise TypeError(f"{name} must be a numpy float32 or float64 array, got {type(x).__name__}")
    if x.dtype not in (np.float32, np.float64):
        raise TypeError(f"{name} must have dtype float32 or float64, got {x.dtype}")
    if x.ndim < min_ndim:
        raise ValueError(f"{name} must have at least {min_ndim} axes, got shape {x.shape}")
    if nonempty and x.size == 0:
        raise ValueError(f"{name} must not have a zero-size axis, got shape {x.shape}")
    # One pass in the common case (all finite); the second only to word the error.
    if not allow_inf and not np.isfinite(x).all():
        if np.isnan(x).any():
            raise ValueError(f"{name} contains NaN")
        raise ValueError(f"{name} contains an infinite value; finite values are required")
    if allow_inf and np.isnan(x).any():
        raise ValueError(f"{name} contains NaN")
    return x


def same_dtype(**arrays: FloatArray) -> np.dtype[Any]:
    """Check that all named arrays share one dtype and return it.

    impl never silently promotes float32 to float64: mixing them is a
    ``TypeError`` naming each argument's dtype.
    """
    dtypes = {name: a.dtype for name, a in arrays.items()}
    if len(set(dtypes.values())) > 1:
        listing = ", ".join(f"{name} {dtype}" for name, dtype in dtypes.items())
        raise TypeError(f"arguments must share one float dtype, got {listing}")
    return next(iter(dtypes.values()))


def bool_mask(mask: object, name: str, target_shape: tuple[int, ...]) -> BoolArray:
    """Return ``mask`` if it is a boolean array that broadcasts to ``target_shape`` unchanged.

    A mask may have fewer or size-1 axes (it is broadcast), but it must not
    enlarge the result: a mask whose broadcast with ``target_shape`` is larger
    than ``target_shape`` would silently turn one call into a batch of calls,
    so it is a ValueError. Lists and 0-d arrays are a TypeError (a 0-d mask
    masks everything or nothing; pass ``None`` for "no mask").
    """
    if not isinstance(mask, np.ndarray):
        raise TypeError(f"{name} must be a numpy bool array, got {type(mask).__name__}")
    if mask.dtype != np.bool_:
        raise TypeError(f"{name} must have dtype bool (True = may attend), got {mask.dtype}")
    if mask.ndim == 0:
        raise TypeError(f"{name} must have at least one axis, got a 0-d array (use None)")
    broadcast_to_target(mask, name, target_shape, what="the scores' shape")
    return mask


def broadcast_to_target(
    x: np.ndarray[Any, Any], name: str, target_shape: tuple[int, ...], *, what: str
) -> None:
    """Raise unless ``x`` broadcasts to ``target_shape`` WITHOUT enlarging it."""
    try:
        shape = np.broadcast_shapes(x.shape, target_shape)
    except ValueError:
        shape = None
    if shape != tuple(target_shape):
        raise ValueError(
            f"{name} has shape {x.shape}, which does not broadcast to {what} "
            f"{tuple(target_shape)} (it may have fewer or size-1 axes, but must not "
            "enlarge the result)"
        )


def feature_match(a_name: str, a: FloatArray, b_name: str, b: FloatArray) -> None:
    """Check that the last axes of ``a`` and ``b`` agree (same feature width)."""
    if a.shape[-1] != b.shape[-1]:
        raise ValueError(f"{a_name} has {a.shape[-1]} features, {b_name} has {b.shape[-1]}")


def batch_broadcast(**arrays: FloatArray) -> tuple[int, ...]:
    """Check that the leading batch axes (all but the last two) broadcast."""
    try:
        return np.broadcast_shapes(*(a.shape[:-2] for a in arrays.values()))
    except ValueError:
        listing = ", ".join(f"{name} {a.shape}" for name, a in arrays.items())
        raise ValueError(f"batch axes (all but the last two) do not broadcast: {listing}") from None


def positive_int(value: object, name: str) -> int:
    """Return ``value`` if it is a positive ``int`` (not ``bool``)."""
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise TypeError(f"{name} must be an int, got {type(value).__name__}")
    if value <= 0:
        raise ValueError(f"{name} must be positive, got {value}")
    return int(value)


def generator(rng: object, name: str = "rng") -> np.random.Generator:
    """Return ``rng`` if it is a ``numpy.random.Generator`` (no global state)."""
    if not isinstance(rng, np.random.Generator):
        raise TypeError(
            f"{name} must be a numpy.random.Generator (e.g. numpy.random.default_rng(0)), "
            f"got {type(rng).__name__}"
        )
    return rng


def positive_real(value: object, name: str) -> float:
    """Return ``value`` as a float if it is a finite positive real number (not ``bool``)."""
    if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
        raise TypeError(f"{name} must be a real number, got {type(value).__name__}")
    as_float = float(value)
    if not np.isfinite(as_float) or as_float <= 0:
        raise ValueError(f"{name} must be finite and positive, got {value}")
    return as_float


def plus_minus_one_array(x: object, name: str, *, min_ndim: int = 1) -> FloatArray:
    """Return ``x`` if it is a float32/float64 array whose entries are all ±1.

    The error names the first offending entry and its index.
    """
    array = float_array(x, name, min_ndim=min_ndim)
    bad = np.abs(array) != 1
    if bad.any():
        position = tuple(int(p) for p in np.argwhere(bad)[0])
        raise ValueError(
            f"{name} must contain only +1 and -1 entries, found {array[position]!r} "
            f"at index {position}"
        )
    return array


def permutation(order: object, size: int, name: str = "order") -> IntArray:
    """Return ``order`` as an index array if it is a permutation of range(size)."""
    if not isinstance(order, np.ndarray | list | tuple):
        raise TypeError(f"{name} must be a sequence of indices, got {type(order).__name__}")
    indices = np.asarray(order)
    if indices.size and indices.dtype.kind not in "iu":
        raise TypeError(f"{name} must contain integer indices, got dtype {indices.dtype}")
    if indices.shape != (size,) or not np.array_equal(np.sort(indices), np.arange(size)):
        raise ValueError(
            f"{name} must be a permutation of range({size}) (each index exactly once), "
            f"got {order!r}"
        )
    result: IntArray = indices.astype(np.intp)
    return result


def finite_float(value: object, name: str) -> float:
    """Return ``value`` as a float if it is a finite real number (not ``bool``)."""
    if isinstance(value, bool) or not isinstance(value, int | float | np.floating | np.integer):
        raise TypeError(f"{name} must be a finite float, got {type(value).__name__}")
    result = float(value)
    if not math.isfinite(result):
        raise ValueError(f"{name} must be finite, got {result}")
    return result


def instance(value: object, cls: type[T], name: str) -> T:
    """Return ``value`` if it is a ``cls`` (e.g. a parameter container), else a TypeError."""
    if not isinstance(value, cls):
        raise TypeError(f"{name} must be a {cls.__name__}, got {type(value).__name__}")
    return value


def bool_array(x: object, name: str) -> BoolArray:
    """Return ``x`` if it is a numpy bool array."""
    if not isinstance(x, np.ndarray) or x.dtype != np.bool_:
        raise TypeError(f"{name} must be a bool array, got {type(x).__name__}")
    return x


# Generic checks (helper A, issue 7): every module uses these; none keeps a private copy.

ALLOCATION_LIMIT_BYTES = 2**31
"""The largest single array a call may allocate (2 GiB): a size argument that would need more is
refused with a ValueError naming it, rather than left to exhaust memory."""

LOOP_LIMIT = 10**6
"""The largest number of Python-level steps (output lengths, beam steps × width, sample counts)
a call may run: beyond it a call would take minutes, so the size argument is refused."""


def allocation(elements: int, dtype: np.dtype[Any], name: str, what: str) -> None:
    """Raise naming ``name`` if ``elements`` entries of ``dtype`` exceed the allocation limit."""
    needed = int(elements) * int(np.dtype(dtype).itemsize)
    if needed > ALLOCATION_LIMIT_BYTES:
        raise ValueError(
            f"{name} asks for {what} of {needed / 2**30:.3g} GiB; at most "
            f"{ALLOCATION_LIMIT_BYTES / 2**30:.3g} GiB is allowed (ALLOCATION_LIMIT_BYTES)"
        )


def size(
    value: object, name: str, *, low: int = 1, high: int = LOOP_LIMIT, reason: str = ""
) -> int:
    """An integer size or count in [low, high]: ``int_in_range`` with the loop limit as default."""
    return int_in_range(
        value, name, low=low, high=high, reason=reason or "larger values would run for minutes"
    )


def real_in_dtype(
    value: object,
    name: str,
    dtype: np.dtype[Any],
    *,
    low: float | None = None,
    high: float | None = None,
) -> float:
    """Return a real scalar (Python or NumPy; not bool) that is finite in ``dtype`` and in range.

    A value finite in float64 but infinite in float32 (1e39) is a ValueError
    when ``dtype`` is float32. Returns the value rounded to ``dtype``.
    """
    as_float = finite_float(value, name)
    with np.errstate(over="ignore"):
        rounded = float(np.asarray(as_float, dtype=dtype))
    if not math.isfinite(rounded):
        raise ValueError(
            f"{name} = {value} overflows {np.dtype(dtype)}: its magnitude must be at most "
            f"{float(np.finfo(dtype).max)}"
        )
    if low is not None and rounded < low:
        raise ValueError(f"{name} must be at least {low}, got {value}")
    if high is not None and rounded > high:
        raise ValueError(f"{name} must be at most {high}, got {value}")
    return rounded


def unit_interval(x: object, name: str, *, min_ndim: int = 0) -> FloatArray:
    """Return ``x`` if it is a float array with every entry in [0, 1] (strengths, probabilities)."""
    array = float_array(x, name, min_ndim=min_ndim)
    if array.size and (float(array.min()) < 0 or float(array.max()) > 1):
        raise ValueError(
            f"{name} must lie in [0, 1], got values in [{float(array.min())}, {float(array.max())}]"
        )
    return array


def distribution(
    x: object, name: str, *, allow_zero_rows: bool = False, tolerance: float | None = None
) -> FloatArray:
    """Return ``x`` if every row (last axis) is non-negative and sums to 1 (or 0 if allowed).

    ``tolerance`` defaults to N·eps of the dtype (the rounding of an N-term sum).
    """
    array = float_array(x, name, min_ndim=1)
    if array.shape[-1] == 0:
        raise ValueError(f"{name} must have at least one entry per row, got shape {array.shape}")
    if (array < 0).any():
        raise ValueError(f"{name} must be non-negative (a probability distribution)")
    totals: FloatArray = array.sum(axis=-1, dtype=np.float64)
    tol = array.shape[-1] * float(np.finfo(array.dtype).eps) if tolerance is None else tolerance
    ok = np.abs(totals - 1) <= tol
    if allow_zero_rows:
        ok = ok | (totals == 0)
    if not ok.all():
        worst = float(totals.ravel()[int(np.argmax(~ok.ravel()))])
        allowed = "1 (or 0 for a fully masked row)" if allow_zero_rows else "1"
        raise ValueError(
            f"each row of {name} must sum to {allowed}, found a row summing to {worst}"
        )
    return array


def index_array(
    x: object, name: str, size: int, *, min_ndim: int = 1, allow_no_index: bool = False
) -> IntArray:
    """Return ``x`` as an intp array if it is an integer ndarray with entries in [0, size).

    Floats, bools and lists are a TypeError (never coerced). With
    ``allow_no_index`` the entry −1 ("nothing selected") is allowed too.
    """
    if not isinstance(x, np.ndarray):
        raise TypeError(f"{name} must be a numpy integer array, got {type(x).__name__}")
    if x.dtype.kind not in "iu":
        raise TypeError(f"{name} must have an integer dtype, got {x.dtype}")
    if x.ndim < min_ndim:
        raise ValueError(f"{name} must have at least {min_ndim} axes, got shape {x.shape}")
    low = -1 if allow_no_index else 0
    if x.size and (int(x.min()) < low or int(x.max()) >= size):
        raise ValueError(
            f"{name} must lie in [{low}, {size - 1}] (indices into {size} entries), "
            f"got values in [{int(x.min())}, {int(x.max())}]"
        )
    result: IntArray = x.astype(np.intp)
    return result


def callable_(value: object, name: str) -> Any:
    """Return ``value`` if it is callable (a user score function), else a TypeError."""
    if not callable(value):
        raise TypeError(f"{name} must be callable, got {type(value).__name__}")
    return value


def returned_array(
    result: object, name: str, *, shape: tuple[int, ...], dtype: np.dtype[Any]
) -> FloatArray:
    """Check what a user callable ``name`` returned: a finite float array of ``shape``, ``dtype``.

    ``-inf`` entries are allowed (a score of −inf means "masked", as in
    ``impl.softmax``); NaN and +inf are a ValueError naming the callable.
    """
    if not isinstance(result, np.ndarray):
        raise TypeError(f"{name} must return a numpy array, returned {type(result).__name__}")
    if result.dtype != dtype:
        raise TypeError(f"{name} returned dtype {result.dtype}, expected {np.dtype(dtype)}")
    if result.shape != tuple(shape):
        raise ValueError(f"{name} returned shape {result.shape}, expected {tuple(shape)}")
    if np.isnan(result).any() or np.isposinf(result).any():
        raise ValueError(f"{name} returned NaN or +inf scores")
    return result


def pair(value: object, name: str) -> tuple[object, object]:
    """Unpack a 2-tuple (e.g. an LSTM state (h, c)), or raise naming the argument."""
    if not isinstance(value, tuple) or len(value) != 2:
        raise TypeError(f"{name} must be a tuple of two arrays, got {type(value).__name__}")
    return value[0], value[1]


def finite_result(x: FloatArray, name: str, safe: str) -> FloatArray:
    """Raise naming ``name`` if an intermediate ``x`` overflowed; ``safe`` states the safe range."""
    if not np.isfinite(x).all():
        raise ValueError(f"{name} is too large: an intermediate overflowed {x.dtype}; {safe}")
    return x


def frozen(x: FloatArray) -> FloatArray:
    """A private, read-only copy of ``x`` (parameter containers keep these).

    An in-place edit of the container's array then raises NumPy's
    "assignment destination is read-only"; to change a parameter, build a new
    container (``dataclasses.replace`` re-runs the checks).
    """
    copy: FloatArray = np.array(x, copy=True)
    copy.setflags(write=False)
    return copy


def frozen_fields(container: object, **arrays: FloatArray | None) -> None:
    """Store read-only private copies of ``arrays`` on a frozen dataclass ``container``.

    For ``__post_init__``: after the checks, each named field is replaced by
    ``frozen(array)`` (``None`` stays ``None``), so later in-place edits raise.
    """
    for field, array in arrays.items():
        object.__setattr__(container, field, None if array is None else frozen(array))


# Hopfield family (helper B1; generic checks the Hopfield modules use — may move)


def boolean(value: object, name: str) -> bool:
    """Return ``value`` if it is a ``bool`` (or ``numpy.bool_``), else a TypeError.

    Options such as ``allow_asymmetric`` are flags: a truthy string or 1 is refused,
    not silently read as True.
    """
    if not isinstance(value, bool | np.bool_):
        raise TypeError(f"{name} must be a bool, got {type(value).__name__}")
    return bool(value)


def index(value: object, size: int, name: str) -> int:
    """Return ``value`` as an ``int`` if it is an integer in [0, size), else raise.

    Python and NumPy integers are accepted; ``bool``, floats and strings are a
    TypeError (never ``int()``-coerced); out of range is a ValueError.
    """
    if isinstance(value, bool | np.bool_) or not isinstance(value, int | np.integer):
        raise TypeError(f"{name} must be an int index, got {type(value).__name__}")
    if not 0 <= int(value) < size:
        raise ValueError(f"{name} must be in [0, {size}) (an index), got {value}")
    return int(value)


def int_in_range(value: object, name: str, *, low: int, high: int, reason: str = "") -> int:
    """Return ``value`` as an ``int`` if low ≤ value ≤ high, else raise (the limit stated).

    For sizes and counts (sweeps, flips, patterns): ``bool``, floats and strings
    are a TypeError; values outside the range a ValueError that names the range
    and, for the upper limit, ``reason`` (e.g. why larger values are refused).
    """
    if isinstance(value, bool | np.bool_) or not isinstance(value, int | np.integer):
        raise TypeError(f"{name} must be an int, got {type(value).__name__}")
    result = int(value)
    if result < low:
        raise ValueError(f"{name} must be at least {low}, got {result}")
    if result > high:
        because = f" ({reason})" if reason else ""
        raise ValueError(f"{name} must be at most {high}{because}, got {result}")
    return result


def positive_real_in_dtype(
    value: object, name: str, dtype: np.dtype[Any], *, reciprocal: bool = False
) -> float:
    """Return ``value`` if it is a positive real number that stays positive and finite in ``dtype``.

    Checks the scalar in the dtype it will be used in: 1e39 is finite in float64
    but inf in float32; 1e-50 is positive in float64 but 0 in float32. With
    ``reciprocal`` the check also requires 1/value to be finite in ``dtype``
    (β = 1e-320 is positive, but 1/β overflows even float64). Returns the value
    as a Python float (rounded to ``dtype``).
    """
    as_float = positive_real(value, name)
    info = np.finfo(dtype)
    with np.errstate(over="ignore"):  # an overflow to inf is reported below, by name
        rounded = float(np.asarray(as_float, dtype=dtype))
    if not math.isfinite(rounded):
        raise ValueError(
            f"{name} = {value} overflows {dtype}: it must be at most {float(info.max)}"
        )
    if rounded < float(info.tiny):
        raise ValueError(
            f"{name} = {value} is below the smallest normal {dtype} ({float(info.tiny)}); "
            "it would lose all precision or round to 0"
        )
    if reciprocal and 1.0 / rounded > float(info.max):
        raise ValueError(
            f"{name} = {value} is so small that 1/{name} overflows {dtype}; "
            f"it must be at least {1.0 / float(info.max)}"
        )
    return rounded


def symmetric_matrix(matrix: FloatArray, name: str, *, tolerance: float, remedy: str) -> None:
    """Raise unless |m_ij − m_ji| ≤ tolerance everywhere in the (..., M, M) ``matrix``.

    The error names the largest asymmetry and its index; ``remedy`` says how to
    opt out or symmetrise (the caller's words). ``tolerance = 0`` is exact symmetry.
    """
    if tolerance == 0 and np.array_equal(matrix, np.swapaxes(matrix, -1, -2)):
        return  # Note: the exact test first (one comparison pass); the report only on failure
    asymmetry: FloatArray = np.abs(matrix - np.swapaxes(matrix, -1, -2))
    if asymmetry.size and float(asymmetry.max()) > tolerance:
        where = tuple(int(p) for p in np.unravel_index(int(asymmetry.argmax()), matrix.shape))
        within = "" if tolerance == 0 else f" (tolerance {tolerance!r})"
        raise ValueError(
            f"{name} must be symmetric (w_ij = w_ji): largest |w_ij - w_ji| = "
            f"{float(asymmetry.max())!r} at index {where}{within}; {remedy}"
        )


# Memory networks (helper B2; generic checks the memory modules use — may move)


def float_dtype(dtype: object, name: str = "dtype") -> np.dtype[Any]:
    """Return ``np.dtype(dtype)`` if it is float32 or float64, else a TypeError naming ``name``.

    ``None`` is refused (``np.dtype(None)`` would silently mean float64).
    """
    if dtype is None:
        raise TypeError(f"{name} must be float32 or float64, got None")
    try:
        chosen: np.dtype[Any] = np.dtype(dtype)  # type: ignore[call-overload]
    except TypeError:
        raise TypeError(f"{name} must be float32 or float64, got {dtype!r}") from None
    if chosen not in (np.float32, np.float64):
        raise TypeError(f"{name} must be float32 or float64, got {chosen}")
    return chosen


def seal(record: object) -> None:
    """Make every ndarray field of a freshly built result record read-only, in place.

    For records whose arrays the impl function has just created (never the
    caller's arrays): no copy is needed, and the record cannot be edited later.
    """
    for value in vars(record).values():
        if isinstance(value, np.ndarray):
            value.setflags(write=False)
        elif isinstance(value, tuple):
            for item in value:
                if isinstance(item, np.ndarray):
                    item.setflags(write=False)
