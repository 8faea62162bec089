"""Benchmarks: nndl8's implementations against references, timed in the same run.

Run with ``make bench`` (or ``python -m tests.benchmarks``). Each row times
our function and a reference on the same inputs (median of several repeats,
after a warm-up) and prints the ratio ours/reference: below 1 means we are
faster. The references are the naive formula in NumPy (what a reader would
write from the book) and, when the optional ``torch`` extra is installed,
PyTorch's CPU kernels. Speed is measured here, never asserted in tests.
"""

import importlib
import os
import statistics
import timeit
from collections.abc import Callable
from types import ModuleType
from typing import Any

import numpy as np
from numpy.typing import NDArray

from impl.attention import scaled_dot_product_attention
from impl.softmax import softmax

FloatArray = NDArray[np.floating[Any]]


def median_seconds(function: Callable[[], object], *, repeats: int = 7) -> float:
    """Median wall time of one call, over ``repeats`` timed batches after a warm-up."""
    function()
    timer = timeit.Timer(function)
    number, _ = timer.autorange()
    return statistics.median(t / number for t in timer.repeat(repeat=repeats, number=number))


def naive_softmax(x: FloatArray) -> FloatArray:
    """exp(x)/Σexp(x) without the max-subtraction (overflows for large x)."""
    e: FloatArray = np.exp(x)
    result: FloatArray = e / e.sum(axis=-1, keepdims=True)
    return result


def naive_attention(q: FloatArray, k: FloatArray, v: FloatArray) -> FloatArray:
    """softmax(QKᵀ/√d) V straight from the formula, with einsum."""
    scores = np.einsum("...ld,...nd->...ln", q, k) / np.sqrt(q.shape[-1])
    weights = np.exp(scores - scores.max(axis=-1, keepdims=True))
    weights /= weights.sum(axis=-1, keepdims=True)
    result: FloatArray = np.einsum("...ln,...nd->...ld", weights, v)
    return result


def _row(name: str, ours: float, reference_name: str, reference: float) -> None:
    print(
        f"{name:38} ours {ours * 1e3:9.3f} ms   {reference_name:18} {reference * 1e3:9.3f} ms"
        f"   ratio {ours / reference:6.2f}"
    )


def _load_torch() -> ModuleType | None:
    """The optional torch module (imported dynamically so mypy's view never depends on it)."""
    try:
        return importlib.import_module("torch")
    except ImportError:
        return None


def benchmark_dtype(dtype: type[np.floating[Any]], torch: ModuleType | None) -> None:
    """Softmax and SDPA rows for one dtype."""
    rng = np.random.default_rng(0)
    name = np.dtype(dtype).name
    logits = rng.normal(size=(64, 128, 128)).astype(dtype)
    _row(
        f"softmax (64,128,128) {name}",
        median_seconds(lambda: softmax(logits)),
        "naive numpy",
        median_seconds(lambda: naive_softmax(logits)),
    )
    q = rng.normal(size=(8, 4, 256, 64)).astype(dtype)
    k = rng.normal(size=(8, 4, 256, 64)).astype(dtype)
    v = rng.normal(size=(8, 4, 256, 64)).astype(dtype)
    ours = median_seconds(lambda: scaled_dot_product_attention(q, k, v))
    _row(
        f"SDPA (8,4,256,64) {name}",
        ours,
        "naive einsum",
        median_seconds(lambda: naive_attention(q, k, v)),
    )
    if torch is not None:
        tq, tk, tv = (torch.from_numpy(a) for a in (q, k, v))
        sdpa = torch.nn.functional.scaled_dot_product_attention
        _row(
            f"SDPA (8,4,256,64) {name}", ours, "torch CPU", median_seconds(lambda: sdpa(tq, tk, tv))
        )


def main() -> None:
    """Run every benchmark and print one row per comparison."""
    threads = os.environ.get("OPENBLAS_NUM_THREADS", "unset (OpenBLAS uses every core)")
    print(f"OPENBLAS_NUM_THREADS: {threads}; numpy {np.__version__}")
    print("(on a busy 2-core machine, multi-threaded BLAS can be 30x slower: compare ratios)")
    torch = _load_torch()
    if torch is None:
        print("(torch not installed: PyTorch comparisons skipped; pip install '.[torch]')")
    for dtype in (np.float32, np.float64):
        benchmark_dtype(dtype, torch)


if __name__ == "__main__":
    main()
