"""Blocked (online-softmax) scaled dot-product attention: O((L + S)·block) extra memory.

Book: §8.3 (self-attention's H = V softmax(KᵀQ/√D_k), in rows softmax(QKᵀ/√D_k) V);
the blocking is Milakov & Gimelshein's online softmax (2018) as used by
FlashAttention (Dao et al. 2022). Spec: ``spec.online_softmax``; proof:
``python -m proofs online_softmax``.

The plain ``impl.attention.scaled_dot_product_attention`` builds the whole
(..., L, S) weight matrix. Here the keys are visited in blocks of ``key_block``
and the queries in blocks of ``query_block``; for every query row a partial
state (m, ℓ, o) — running maximum of the scores, sum of exp(score − m),
unnormalised output Σ exp(score − m) v — is merged with the next key block's
state by

    (m, ℓ, o) ⊕ (m′, ℓ′, o′) = (M, ℓ e^{m−M} + ℓ′ e^{m′−M}, o e^{m−M} + o′ e^{m′−M}),
    M = max(m, m′),

whose identity is (−∞, 0, 0) (a fully masked block). At the end the output is
o / ℓ and the log-sum-exp is m + log ℓ; a fully masked query keeps the
identity state and gets output 0 and log-sum-exp −∞ (the plain SDPA's
convention). Only one block of scores per worker is alive at a time.

Threads: NumPy releases the GIL inside BLAS calls and ufunc loops, so the
(batch item × query block) tasks run on a thread pool whose size is the BLAS
thread budget (the threads NumPy's BLAS was given, e.g. by
``OPENBLAS_NUM_THREADS``), capped by the cores this process may use and by
the number of tasks; while the pool runs, BLAS is held at one thread per worker
(threadpoolctl), so workers × BLAS threads never exceeds the budget.
"""

import contextlib
import math
import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import cache
from typing import Any, Literal, overload

import numpy as np
from numpy.typing import NDArray
from threadpoolctl import ThreadpoolController

from impl import _validation as check
from impl._typing import BoolArray, FloatArray, Queries, Vectors

DEFAULT_QUERY_BLOCK = 128
"""Queries per block (measured by ``make bench``: 64–256 are within a few per cent)."""

DEFAULT_KEY_BLOCK = 256
"""Keys per block; a (query_block × key_block) float64 score block is 256 KiB (fits L2)."""

SCORE_BLOCK_ELEMENTS = 1 << 18
"""Heads of one batch row are stacked into a task until its score block holds about
this many entries (so many small heads cost one NumPy call, not one each)."""


# ---------------------------------------------------------------------------
# Thread budget
# ---------------------------------------------------------------------------


@cache
def _controller() -> ThreadpoolController:
    """threadpoolctl's view of the loaded BLAS/OpenMP libraries (scanned once)."""
    return ThreadpoolController()


def _blas_thread_budget() -> int:
    """Threads NumPy's BLAS may use now (its own setting; 1 if it cannot be read)."""
    infos = [
        info for info in _controller().info() if info.get("user_api") == "blas"
    ]  # Note: torch may load a second BLAS; NumPy's lives under numpy.libs.
    own = [info for info in infos if "numpy" in str(info.get("filepath", ""))] or infos
    return max((int(info.get("num_threads", 1)) for info in own), default=1)


def _usable_cores() -> int:
    """Cores this process may run on (the affinity mask, not the machine's count)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def _worker_count(requested: int | None, tasks: int) -> int:
    """Workers for ``tasks`` tasks: the BLAS budget (or ``requested``), capped by cores."""
    budget = _blas_thread_budget() if requested is None else requested
    return max(1, min(budget, _usable_cores(), tasks))


def _run_tasks(tasks: list[Callable[[], None]], workers: int) -> None:
    """Run ``tasks`` on ``workers`` threads, BLAS held at one thread per worker.

    # Note: also when the tasks run serially: the block products are small
    # (query_block × key_block × E), and a multi-threaded BLAS only adds
    # synchronisation to them (measured: (1, 8, 2048, 64) float32 at one worker
    # took 410–890 ms with OpenBLAS at 2 threads, 120–170 ms at 2 workers of 1).
    """
    if workers <= 1 or len(tasks) <= 1:
        with contextlib.ExitStack() as stack:
            if _blas_thread_budget() > 1:
                stack.enter_context(_controller().limit(limits=1, user_api="blas"))
            for task in tasks:
                task()
        return
    with (
        _controller().limit(limits=1, user_api="blas"),
        ThreadPoolExecutor(max_workers=workers, thread_name_prefix="nndl8-attention") as pool,
    ):
        for future in [pool.submit(task) for task in tasks]:
            future.result()  # re-raises a worker's exception here


# ---------------------------------------------------------------------------
# Kernels (trust their inputs)
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class _Problem:
    """Validated, batch-broadcast views: q (*B, H, L, E), k (*B, H, S, E), v (*B, H, S, E_v).

    ``mask`` is a bool (True = may attend) or float (additive) view broadcast
    to (*B, H, L, S), or None; ``causal`` is the top-left causal mask.
    """

    q: FloatArray
    k: FloatArray
    v: FloatArray
    mask: NDArray[Any] | None  # bool or float
    causal: bool
    factor: float


State = tuple[FloatArray, FloatArray, FloatArray]
"""An online-softmax partial state (m, ℓ, o) per query row: m (..., L) the maximum
score seen, ℓ (..., L) = Σ exp(s_j − m), o (..., L, E_v) = Σ exp(s_j − m) v_j."""


def _safe_shift(m: FloatArray) -> FloatArray:
    """m, with −∞ (no allowed key yet) replaced by 0, so exp(x − shift) is never NaN."""
    shift: FloatArray = np.where(np.isneginf(m), m.dtype.type(0), m)
    return shift


def _identity_state(rows: tuple[int, ...], value_width: int, dtype: np.dtype[Any]) -> State:
    """The merge's identity (−∞, 0, 0): the state of a block whose keys are all masked."""
    m: FloatArray = np.full(rows, -np.inf, dtype=dtype)
    ell: FloatArray = np.zeros(rows, dtype=dtype)
    o: FloatArray = np.zeros((*rows, value_width), dtype=dtype)
    return m, ell, o


def _block_state(scores: FloatArray, values: FloatArray, m: FloatArray | None = None) -> State:
    """(max s, Σ exp(s − max s), Σ exp(s − max s) v) of one key block; −∞ scores are masked.

    Overwrites ``scores`` (the caller's scratch block) with exp(s − max s). ``m``,
    if given, is the caller's ``scores.max(axis=-1)`` (not computed twice).
    """
    if m is None:
        m = scores.max(axis=-1)
    scores -= _safe_shift(m)[..., None]
    np.exp(scores, out=scores)  # masked (−∞) entries become exactly 0
    ell: FloatArray = scores.sum(axis=-1)
    with np.errstate(over="ignore", invalid="ignore"):  # the public edge checks the output
        o: FloatArray = np.matmul(scores, values)
    return m, ell, o


def _merge(a: State, b: State) -> State:
    """(m, ℓ, o) ⊕ (m′, ℓ′, o′) = (M, ℓ e^{m−M} + ℓ′ e^{m′−M}, o e^{m−M} + o′ e^{m′−M}).

    M = max(m, m′). Spec: ``spec.online_softmax.merge``.
    """
    (m, ell, o), (m_b, ell_b, o_b) = a, b
    top: FloatArray = np.maximum(m, m_b)
    shift = _safe_shift(top)  # Note: M = −∞ only if both are −∞; then both rescales are 0
    rescale_a: FloatArray = np.exp(m - shift)  # e^{m − M} ≤ 1 (0 where m = −∞)
    rescale_b: FloatArray = np.exp(m_b - shift)
    merged_ell: FloatArray = ell * rescale_a + ell_b * rescale_b
    merged_o: FloatArray = o * rescale_a[..., None] + o_b * rescale_b[..., None]
    return top, merged_ell, merged_o


def _finish(state: State) -> tuple[FloatArray, FloatArray]:
    """(o / ℓ, m + log ℓ); a row with ℓ = 0 (no allowed key) gives (0, −∞)."""
    m, ell, o = state
    positive = ell > 0
    out: FloatArray = o / np.where(positive, ell, ell.dtype.type(1))[..., None]
    with np.errstate(divide="ignore"):
        lse: FloatArray = np.where(positive, m + np.log(ell), ell.dtype.type(-np.inf))
    return out, lse


def _overflow(dtype: np.dtype[Any]) -> ValueError:
    return ValueError(
        f"query·key·scale overflows {dtype} (a score, plus the mask, is ±inf or NaN); scale "
        f"query or key down so that |scores| stay below {np.finfo(dtype).max:.3g}"
    )


def _fold_key_blocks(
    problem: _Problem,
    outer: tuple[int, ...],
    heads: slice,
    rows: slice,
    key_block: int,
    out: FloatArray,
    lse: FloatArray,
) -> None:
    """Online softmax over the key blocks for one (batch row, head group, query block).

    Writes out[outer][heads, rows] = o/ℓ and lse[outer][heads, rows] = m + log ℓ.
    """
    dtype = problem.q.dtype
    neg_inf = dtype.type(-np.inf)
    qs: FloatArray = problem.q[outer][heads, rows] * dtype.type(problem.factor)  # (G, bq, E)
    k_all = problem.k[outer][heads]
    v_all = problem.v[outer][heads]
    state = _identity_state(qs.shape[:2], v_all.shape[-1], dtype)
    first_row, last_row = rows.start, rows.start + qs.shape[1] - 1
    # Top-left causal: query i sees keys j ≤ i, so keys past the block's last row are
    # never seen: skip key blocks wholly above the diagonal.
    key_end = min(k_all.shape[-2], last_row + 1) if problem.causal else k_all.shape[-2]
    for start in range(0, key_end, key_block):
        stop = min(start + key_block, key_end)
        # Note: a transposed view; BLAS takes it as a transposed operand (measured: as fast as
        # a contiguous copy of the block, which would cost a pass over it).
        kT = np.swapaxes(k_all[:, start:stop], -1, -2)  # (G, E, bk)
        with np.errstate(over="ignore", invalid="ignore"):  # overflow is checked below
            s: FloatArray = np.matmul(qs, kT)  # (G, bq, bk) scores of this block
        if not np.isfinite(s).all():  # before masking: an overflow to −inf is not a mask
            raise _overflow(dtype)
        if problem.causal and stop - 1 > first_row:  # the block crosses the diagonal
            above = np.arange(start, stop)[None, :] > np.arange(first_row, last_row + 1)[:, None]
            np.copyto(s, neg_inf, where=above)
        elif problem.mask is not None:
            block_mask = problem.mask[outer][heads, rows, start:stop]
            if block_mask.dtype == np.bool_:
                np.copyto(s, neg_inf, where=~block_mask)
            else:
                s += block_mask.astype(dtype, copy=False)
        block_max: FloatArray = s.max(axis=-1)
        if not (block_max < np.inf).all():  # +inf or NaN: the scores plus the mask overflowed
            raise _overflow(dtype)
        state = _merge(state, _block_state(s, v_all[:, start:stop], block_max))
    out[outer][heads, rows], lse[outer][heads, rows] = _finish(state)


def _blocked_attention(
    problem: _Problem, query_block: int, key_block: int, workers: int | None
) -> tuple[FloatArray, FloatArray]:
    """Blocked SDPA over validated inputs -> (output (*B, H, L, E_v), lse (*B, H, L))."""
    q, v = problem.q, problem.v
    batch, heads_count, length = q.shape[:-3], q.shape[-3], q.shape[-2]
    out: FloatArray = np.empty((*batch, heads_count, length, v.shape[-1]), dtype=q.dtype)
    lse: FloatArray = np.empty((*batch, heads_count, length), dtype=q.dtype)
    # Note: max(1, ·): L = 0 or S = 0 leave no work (S = 0: every query has no allowed key).
    bq, bk = max(1, min(query_block, length)), max(1, min(key_block, problem.k.shape[-2]))
    group = max(1, min(heads_count, SCORE_BLOCK_ELEMENTS // (bq * bk)))
    tasks: list[Callable[[], None]] = []
    for outer in np.ndindex(*batch):
        for h in range(0, heads_count, group):
            for i in range(0, length, bq):
                heads, rows = slice(h, min(h + group, heads_count)), slice(i, min(i + bq, length))

                def task(
                    outer: tuple[int, ...] = outer, heads: slice = heads, rows: slice = rows
                ) -> None:
                    _fold_key_blocks(problem, outer, heads, rows, bk, out, lse)

                tasks.append(task)
    _run_tasks(tasks, _worker_count(workers, len(tasks)))
    return out, lse


# ---------------------------------------------------------------------------
# Public edge
# ---------------------------------------------------------------------------


def _problem(
    q: FloatArray,
    k: FloatArray,
    v: FloatArray,
    mask: NDArray[Any] | None,
    causal: bool,
    factor: float,
    batch: tuple[int, ...],
) -> tuple[_Problem, tuple[int, ...]]:
    """Checked arrays as a ``_Problem`` with a head axis (*B, H, ...), and the batch shape.

    ``batch`` is the broadcast batch shape of q, k, v (and the mask); nothing is copied.
    """
    length, keys = q.shape[-2], k.shape[-2]
    shaped = (*batch, 1) if len(batch) == 0 else batch
    views = [
        np.broadcast_to(a, (*shaped, *a.shape[-2:])) for a in (q, k, v)
    ]  # Note: views with stride 0 on broadcast axes; nothing is copied.
    broadcast_mask: NDArray[Any] | None = None  # bool or float
    if mask is not None:
        broadcast_mask = np.broadcast_to(mask, (*shaped, length, keys))
    return _Problem(views[0], views[1], views[2], broadcast_mask, causal, factor), batch


def _blocked_kernel(
    q: FloatArray,
    k: FloatArray,
    v: FloatArray,
    mask: NDArray[Any] | None,
    causal: bool,
    factor: float,
) -> FloatArray:
    """The blocked output for arguments ``impl.attention`` has already checked (no checks here).

    ``mask`` is a bool (True = may attend) or an additive float mask broadcastable to
    (..., L, S), or None; ``causal`` the top-left causal mask (then ``mask`` is None).
    """
    problem, batch = _problem(q, k, v, mask, causal, factor, _batch(q, k, v, mask))
    out, _ = _blocked_attention(problem, DEFAULT_QUERY_BLOCK, DEFAULT_KEY_BLOCK, None)
    output: FloatArray = out.reshape(*batch, *out.shape[-2:])
    _check_output(output)
    return output


def _check_output(output: FloatArray) -> None:
    """The output is a convex combination of value's rows: it overflows only if value is huge."""
    if not np.isfinite(output).all():
        raise ValueError(
            f"value is too large: the output (a weighted sum of value's rows) overflowed "
            f"{output.dtype}; keep |value| below half the dtype's maximum"
        )


def _batch(
    q: FloatArray, k: FloatArray, v: FloatArray, mask: NDArray[Any] | None
) -> tuple[int, ...]:
    """The broadcast batch shape of checked q, k, v and mask."""
    shapes = [q.shape[:-2], k.shape[:-2], v.shape[:-2]]
    if mask is not None:
        shapes.append(mask.shape[:-2])
    return np.broadcast_shapes(*shapes)


def _large_enough(q: FloatArray, k: FloatArray, v: FloatArray, mask: NDArray[Any] | None) -> bool:
    """Whether checked SDPA arguments have at least ``BLOCKED_THRESHOLD`` score entries."""
    entries: int = math.prod(_batch(q, k, v, mask)) * q.shape[-2] * k.shape[-2]
    return entries >= BLOCKED_THRESHOLD


@overload
def blocked_scaled_dot_product_attention(
    query: Queries,
    key: Vectors,
    value: Vectors,
    mask: BoolArray | FloatArray | None = ...,
    *,
    scale: float | None = ...,
    is_causal: bool = ...,
    return_lse: Literal[False] = ...,
    query_block: int = ...,
    key_block: int = ...,
    workers: int | None = ...,
) -> Queries: ...


@overload
def blocked_scaled_dot_product_attention(
    query: Queries,
    key: Vectors,
    value: Vectors,
    mask: BoolArray | FloatArray | None = ...,
    *,
    scale: float | None = ...,
    is_causal: bool = ...,
    return_lse: Literal[True],
    query_block: int = ...,
    key_block: int = ...,
    workers: int | None = ...,
) -> tuple[Queries, FloatArray]: ...


def blocked_scaled_dot_product_attention(
    query: Queries,
    key: Vectors,
    value: Vectors,
    mask: BoolArray | FloatArray | None = None,
    *,
    scale: float | None = None,
    is_causal: bool = False,
    return_lse: bool = False,
    query_block: int = DEFAULT_QUERY_BLOCK,
    key_block: int = DEFAULT_KEY_BLOCK,
    workers: int | None = None,
) -> Queries | tuple[Queries, FloatArray]:
    r"""Scaled dot-product attention softmax(Q Kᵀ · scale + mask) V, computed in blocks.

    Book: §8.3, H = V softmax(KᵀQ/√D_k) (columns), in rows softmax(QKᵀ/√D_k) V.
    Shapes: query (..., L, E), key (..., S, E), value (..., S, E_v) -> output
    (..., L, E_v) (and, with ``return_lse``, the log-sum-exp (..., L) of each
    query's scores, log Σ_j exp(s_j), as PyTorch's flash kernels return it).
    The book's columns q, k_j, v_j are our rows.
    Semantics: those of ``impl.attention.scaled_dot_product_attention`` (and
    PyTorch's function of that name): ``scale`` defaults to 1/√E; a boolean
    ``mask`` (True = may attend) or a float ``mask`` (added to the scores,
    −inf forbids) broadcastable to (..., L, S); ``is_causal`` is the top-left
    causal mask; a query with no allowed key gets output 0 and log-sum-exp −∞.
    Results equal the plain formula up to rounding (different summation order).
    Edges: as the plain SDPA (its checks are reused), and scores that overflow
    (query·key·scale + mask) or an output that overflows (value) are a
    ValueError naming them; ``return_lse`` is a bool.
    Assumptions: ``query_block``, ``key_block`` ≥ 1 (any size; they need not
    divide L or S, and sizes beyond L or S mean one block); ``workers``
    threads (default: NumPy's BLAS thread budget, capped by the usable cores)
    with BLAS held at one thread each.
    Extra memory: O(workers · query_block · key_block + (L + S)·E) per call
    beyond the output, instead of the plain kernel's O(L·S) per batch item.
    # Note: causal key blocks wholly above the diagonal are skipped (about half
    # the work for L = S).
    Spec: ``spec.online_softmax`` (merge laws; folding any partition gives
    softmax(s)·V and log Σ exp s).
    """
    # The plain SDPA's own checks, so both edges accept and refuse exactly the same input.
    from impl.attention import _sdpa_checked

    q, k, v, allowed, additive, factor = _sdpa_checked(query, key, value, mask, scale, is_causal)
    rows = check.positive_int(query_block, "query_block")
    columns = check.positive_int(key_block, "key_block")
    threads = None if workers is None else check.positive_int(workers, "workers")
    causal = bool(is_causal)  # checked a bool by _sdpa_checked
    want_lse = check.boolean(return_lse, "return_lse")
    block_mask = additive if additive is not None else (None if causal else allowed)
    default = 1.0 / math.sqrt(q.shape[-1])
    problem, batch = _problem(
        q,
        k,
        v,
        block_mask,
        causal,
        default if factor is None else factor,
        _batch(q, k, v, block_mask),
    )
    out, lse = _blocked_attention(problem, rows, columns, threads)
    output: FloatArray = out.reshape(*batch, *out.shape[-2:])
    _check_output(output)
    if not want_lse:
        return output
    log_sum_exp: FloatArray = lse.reshape(*batch, lse.shape[-1])
    return output, log_sum_exp


BLOCKED_THRESHOLD = 1 << 16
"""Score-matrix entries (batch · L · S) from which the automatic dispatch uses the
blocked kernel. Measured (``python -m tests.benchmarks --threshold``, one BLAS thread,
E = 64, float32 and float64): the blocked kernel takes 1.06–1.10× the plain one's
time at 32 K entries, 0.92–0.98× at 64–128 K entries and 0.4–0.5× at 512 K; below
the crossover its per-block Python overhead dominates."""
