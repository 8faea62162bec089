"""Array aliases shared by every impl module.

Shapes are written with ``Annotated`` strings in the jaxtyping style
(``Annotated[FloatArray, "... n d"]``): they document the shape statically and
cost nothing at run time. Every public function accepts float32 or float64
arrays and returns arrays of the same dtype as its inputs.
"""

from typing import Annotated, Any, TypeAlias

import numpy as np
from numpy.typing import NDArray

FloatArray: TypeAlias = NDArray[np.floating[Any]]
"""A float32 or float64 array (the dtypes impl supports)."""

BoolArray: TypeAlias = NDArray[np.bool_]
"""A boolean array; in masks True means "may attend" (PyTorch's convention)."""

IntArray: TypeAlias = NDArray[np.intp]
"""An array of indices."""

Vectors: TypeAlias = Annotated[FloatArray, "... n d"]
"""A set of N row vectors of width D (the book's columns x_1..x_N)."""

Queries: TypeAlias = Annotated[FloatArray, "... l d"]
"""L query row vectors of width D."""

Scores: TypeAlias = Annotated[FloatArray, "... l n"]
"""One score (logit) per query and memory position."""

Weights: TypeAlias = Annotated[FloatArray, "... l n"]
"""Attention weights: non-negative, each row sums to 1 (or 0 if fully masked)."""

Mask: TypeAlias = Annotated[BoolArray, "... l n"]
"""Boolean mask broadcastable to the scores; True = may attend."""

IntScalar: TypeAlias = int | np.integer[Any]
"""A size or index: a Python int or a NumPy integer (``np.int64(3)``); never a bool or float."""

RealScalar: TypeAlias = float | np.floating[Any]
"""A real scalar: a Python float or a NumPy float (``np.float32(0.95)``), checked in the
dtype of the arrays it is used with."""

SUPPORTED_DTYPES: tuple[type[np.floating[Any]], ...] = (np.float32, np.float64)
