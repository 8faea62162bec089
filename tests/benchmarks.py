"""Benchmarks: nndl8's implementations against references, timed in the same run.

Run with ``make bench`` (``python -m tests.benchmarks``; ``--quick`` for a
short run, ``--threads N`` to set the thread budget, ``--threshold`` to
re-measure the blocked-attention dispatch threshold, ``--with-proofs`` and
``--with-tests`` for the optional wall-time rows). Each row times our function
and a reference on the same inputs (best of several repeats after a warm-up)
and prints the ratio ours/reference (below 1: we are faster) and the peak
memory each allocated through NumPy (tracemalloc; PyTorch's own allocations
are invisible to it, shown as "—"). The references are the bare formula in
NumPy (what a reader would write from the book, with no checks) and, when
installed, PyTorch's CPU kernels and JAX. Every bare formula is first checked
to give our result (✓ in the last column), so the rows compare like with like.
NumPy's BLAS and PyTorch get the same number of threads (printed in the
header). Speed is measured here, never asserted in tests.
"""

import argparse
import contextlib
import importlib
import io
import math
import os
import platform
import subprocess
import sys
import time
import tracemalloc
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial
from types import ModuleType
from typing import Any

import numpy as np
from numpy.typing import NDArray
from threadpoolctl import threadpool_info, threadpool_limits

from impl import blocked_attention as blocked
from impl.attention import scaled_dot_product_attention, scaled_dot_product_attention_with_weights
from impl.hopfield import asynchronous_sweep, hebbian_weights, run_to_fixed_point
from impl.memory_network import MemN2NParameters, memn2n_forward
from impl.multihead import TransformerAttentionParameters, multi_head_attention
from impl.neural_turing_machine import HeadParameters, ntm_step
from impl.recurrent import GateParameters, LSTMParameters, lstm_sequence
from impl.softmax import softmax

FloatArray = NDArray[np.floating[Any]]
MiB = 1 << 20


# ---------------------------------------------------------------------------
# Measuring
# ---------------------------------------------------------------------------


def best_seconds(function: Callable[[], object], *, budget: float = 0.6, repeats: int = 5) -> float:
    """Best (minimum) wall time of one call: repeats of batches sized to ``budget``/repeats.

    The minimum, not the median: on a shared machine the noise only ever adds time.
    """
    start = time.perf_counter()
    function()  # warm-up (and the batch size)
    once = max(time.perf_counter() - start, 1e-7)
    number = max(1, int(budget / repeats / once))
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(number):
            function()
        times.append((time.perf_counter() - start) / number)
    return min(times)


def peak_bytes(function: Callable[[], object]) -> int:
    """Peak memory traced by tracemalloc (NumPy reports its array buffers) during one call."""
    tracemalloc.start()
    tracemalloc.reset_peak()
    baseline, _ = tracemalloc.get_traced_memory()
    try:
        function()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return max(0, peak - baseline)


@dataclass
class Measure:
    """One timed callable: its time (s) and peak NumPy memory (bytes, or None if invisible)."""

    seconds: float
    peak: int | None


def measure(function: Callable[[], object], *, budget: float, numpy_memory: bool = True) -> Measure:
    """Time ``function`` and (if it allocates through NumPy) its peak memory."""
    seconds = best_seconds(function, budget=budget)
    return Measure(seconds, peak_bytes(function) if numpy_memory else None)


def _ms(seconds: float) -> str:
    return f"{seconds * 1e3:10.3f}"


def _mib(peak: int | None) -> str:
    return "       —" if peak is None else f"{peak / MiB:8.1f}"


HEADER = (
    f"{'benchmark':44} {'ours ms':>10} {'MiB':>8}  {'reference':22} {'ref ms':>10} "
    f"{'MiB':>8} {'ratio':>7}  same"
)


def row(name: str, ours: Measure, reference: str, theirs: Measure | None, same: str = "") -> None:
    """Print one comparison: ours, the reference, ours/reference, peaks, and the sameness check."""
    if theirs is None:
        print(f"{name:44} {_ms(ours.seconds)} {_mib(ours.peak)}  {reference:22}")
        return
    ratio = ours.seconds / theirs.seconds
    print(
        f"{name:44} {_ms(ours.seconds)} {_mib(ours.peak)}  {reference:22} "
        f"{_ms(theirs.seconds)} {_mib(theirs.peak)} {ratio:7.2f}  {same}"
    )
    sys.stdout.flush()


def same_mark(ours: object, theirs: object, *, rtol: float, atol: float) -> str:
    """✓ if the two results agree within (rtol, atol) — a sanity check of the reference."""
    a = np.asarray(ours, dtype=np.float64)
    b = np.asarray(theirs, dtype=np.float64)
    return "✓" if a.shape == b.shape and np.allclose(a, b, rtol=rtol, atol=atol) else "≠ (!)"


def _tolerance(dtype: Any) -> tuple[float, float]:
    """A loose sanity tolerance (not a test): 1e-3 for float32, 1e-8 for float64."""
    return (1e-3, 1e-4) if np.dtype(dtype) == np.float32 else (1e-8, 1e-10)


# ---------------------------------------------------------------------------
# Optional libraries and the thread budget
# ---------------------------------------------------------------------------


def _optional(name: str) -> ModuleType | None:
    """An optional module (imported dynamically so mypy's view never depends on it)."""
    try:
        return importlib.import_module(name)
    except ImportError:
        return None


def _cpu_name() -> str:
    with contextlib.suppress(OSError), open("/proc/cpuinfo", encoding="utf-8") as info:
        for line in info:
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown CPU"


def _usable_cores() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def parallel_headroom(threads: int) -> float:
    """Speed-up of ``threads`` threads each running independent one-thread BLAS products over
    running them one after another: ``threads`` when the cores are free, ~1 when others use them.
    """
    matrix = np.random.default_rng(8).normal(size=(384, 384))

    def work(_: int = 0) -> None:
        for _ in range(20):
            matrix @ matrix

    with threadpool_limits(limits=1, user_api="blas"):
        work()
        start = time.perf_counter()
        for _ in range(threads):
            work()
        serial = time.perf_counter() - start
        with ThreadPoolExecutor(max_workers=threads) as pool:
            start = time.perf_counter()
            list(pool.map(work, range(threads)))
            parallel = time.perf_counter() - start
    return serial / parallel


def print_header(threads: int, torch: ModuleType | None, jax: ModuleType | None) -> None:
    """The machine, the libraries and the thread settings every row ran under."""
    load = os.getloadavg() if hasattr(os, "getloadavg") else (math.nan,) * 3
    print(
        f"CPU: {_cpu_name()}; usable cores {_usable_cores()}; load average "
        f"{load[0]:.2f} {load[1]:.2f} {load[2]:.2f} (other processes share these cores)"
    )
    blas = np.__config__.CONFIG.get("Build Dependencies", {}).get("blas", {})
    print(
        f"Python {platform.python_version()}; numpy {np.__version__} with BLAS "
        f"{blas.get('name', '?')} {blas.get('version', '')}"
    )
    for info in threadpool_info():
        print(
            f"  threadpoolctl: {info.get('internal_api')} ({info.get('user_api')}) "
            f"{info.get('num_threads')} threads, {os.path.basename(str(info.get('filepath')))}"
        )
    print(f"Thread budget for this run: {threads} (NumPy's BLAS and PyTorch alike)")
    if threads > 1:
        print(
            f"Parallel headroom now: {parallel_headroom(threads):.2f}x of {threads} "
            "(independent BLAS work on the threads vs serial; below it, other processes "
            "hold the cores and multi-thread rows are unreliable)"
        )
    if torch is not None:
        print(f"torch {torch.__version__}: torch.get_num_threads() = {torch.get_num_threads()}")
    else:
        print("torch not installed: PyTorch columns skipped (pip install torch)")
    print("jax not installed: JAX columns skipped" if jax is None else f"jax {jax.__version__}")
    print()


# ---------------------------------------------------------------------------
# Bare formulas (what a reader writes from the book; no checks)
# ---------------------------------------------------------------------------


def normal(rng: np.random.Generator, shape: tuple[int, ...], dtype: Any) -> FloatArray:
    """Standard normal samples of ``shape`` in ``dtype``."""
    result: FloatArray = rng.normal(size=shape).astype(dtype)
    return result


def bare_softmax(x: FloatArray) -> FloatArray:
    """exp(x − max)/Σ exp(x − max) over the last axis."""
    e: FloatArray = np.exp(x - x.max(axis=-1, keepdims=True))
    result: FloatArray = e / e.sum(axis=-1, keepdims=True)
    return result


def bare_attention(
    q: FloatArray, k: FloatArray, v: FloatArray, *, causal: bool = False
) -> FloatArray:
    """softmax(QKᵀ/√d [+ causal −∞]) V straight from the formula."""
    scores = (q @ np.swapaxes(k, -1, -2)) / np.asarray(math.sqrt(q.shape[-1]), dtype=q.dtype)
    if causal:
        scores = np.where(np.tri(q.shape[-2], k.shape[-2], dtype=bool), scores, -np.inf)
    result: FloatArray = bare_softmax(scores) @ v
    return result


def bare_multi_head(x: FloatArray, p: TransformerAttentionParameters) -> FloatArray:
    """[head_1 … head_h] W_o with head_i = softmax(x W_q^i (x W_k^i)ᵀ/√d) x W_v^i, plus biases."""
    h = p.num_heads

    def split(a: FloatArray) -> FloatArray:
        return np.swapaxes(a.reshape(*a.shape[:-1], h, a.shape[-1] // h), -2, -3)

    b_q, b_k, b_v, b_o = (
        np.zeros(n, x.dtype) if b is None else b
        for b, n in (
            (p.b_q, p.W_q.shape[1]),
            (p.b_k, p.W_k.shape[1]),
            (p.b_v, p.W_v.shape[1]),
            (p.b_o, p.W_o.shape[1]),
        )
    )
    q, k, v = split(x @ p.W_q + b_q), split(x @ p.W_k + b_k), split(x @ p.W_v + b_v)
    heads = np.swapaxes(bare_attention(q, k, v), -2, -3)
    result: FloatArray = heads.reshape(*x.shape[:-1], -1) @ p.W_o + b_o
    return result


def bare_lstm(xs: FloatArray, p: LSTMParameters) -> FloatArray:
    """h_t for t = 1..T by the book's §6.5 equations, gates stacked into one matmul."""
    gates = (p.input_gate, p.forget_gate, p.output_gate, p.candidate)
    W = np.concatenate([g.W for g in gates]).T
    U = np.concatenate([g.U for g in gates]).T
    b = np.concatenate([g.b for g in gates])
    m = p.hidden_size
    h = np.zeros((*xs.shape[:-2], m), xs.dtype)
    c = np.zeros_like(h)
    pre_x = xs @ W + b
    out = []
    for t in range(xs.shape[-2]):
        z = pre_x[..., t, :] + h @ U
        i, f, o = (1 / (1 + np.exp(-z[..., j * m : (j + 1) * m])) for j in range(3))
        c = f * c + i * np.tanh(z[..., 3 * m :])
        h = o * np.tanh(c)
        out.append(h)
    result: FloatArray = np.stack(out, axis=-2)
    return result


def bare_ntm_step(
    M: FloatArray, w_read: FloatArray, w_write: FloatArray, r: HeadParameters, w: HeadParameters
) -> tuple[FloatArray, FloatArray]:
    """Graves et al. (2014) eqs. 2–9 written out: (read vector, new memory)."""

    def address(head: HeadParameters, previous: FloatArray) -> FloatArray:
        unit_m = M / np.linalg.norm(M, axis=-1, keepdims=True)
        unit_k = head.key / np.linalg.norm(head.key, axis=-1, keepdims=True)
        cos = np.einsum("...nd,...d->...n", unit_m, unit_k)
        content = bare_softmax(head.key_strength[..., None] * cos)
        gated = head.gate[..., None] * content + (1 - head.gate[..., None]) * previous
        radius = head.shift.shape[-1] // 2
        shifted = sum(
            head.shift[..., radius + r_, None] * np.roll(gated, r_, axis=-1)
            for r_ in range(-radius, radius + 1)
        )
        powered = np.asarray(shifted) ** head.sharpening[..., None]
        result: FloatArray = powered / powered.sum(axis=-1, keepdims=True)
        return result

    read_w, write_w = address(r, w_read), address(w, w_write)
    read_vector: FloatArray = np.einsum("...n,...nd->...d", read_w, M)
    erased = M * (1 - write_w[..., None] * w.erase[..., None, :])
    memory: FloatArray = erased + write_w[..., None] * w.add[..., None, :]
    return read_vector, memory


def bare_memn2n(p: MemN2NParameters, story: NDArray[np.intp], question: NDArray[np.intp]) -> Any:
    """K hops of p = softmax(u·m_i), o = Σ p_i c_i, u ← u + o; â = softmax(W(u + o)).

    Stories here have no padding (every word id ≥ 1), so bags of words are plain sums.
    """
    u = p.query_embedding[question].sum(axis=-2)
    o = np.zeros_like(u)
    for k in range(p.hops):
        m = p.key_embeddings[k][story].sum(axis=-2)
        c = p.value_embeddings[k][story].sum(axis=-2)
        weights = bare_softmax(np.einsum("...nd,...d->...n", m, u))
        o = np.einsum("...n,...nd->...d", weights, c)
        if k < p.hops - 1:
            u = u + o
    return bare_softmax((u + o) @ p.output.T)


def bare_sweep(state: FloatArray, W: FloatArray, order: NDArray[np.intp]) -> FloatArray:
    """One asynchronous sweep, neuron by neuron: s_i ← +1 if Σ_j w_ij s_j ≥ 0 else −1."""
    s = state.copy()
    for i in order:
        s[i] = 1.0 if W[i] @ s >= 0 else -1.0
    return s


def bare_run(state: FloatArray, W: FloatArray, order: NDArray[np.intp], sweeps: int) -> FloatArray:
    """Asynchronous sweeps in a fixed order until nothing changes (at most ``sweeps``)."""
    s = state
    for _ in range(sweeps):
        new = bare_sweep(s, W, order)
        if (new == s).all():
            return new
        s = new
    return s


# ---------------------------------------------------------------------------
# Benchmarks
# ---------------------------------------------------------------------------


def _torch_sdpa(torch: ModuleType, math_backend: bool) -> Callable[..., Any]:
    sdpa = torch.nn.functional.scaled_dot_product_attention
    if not math_backend:
        return sdpa  # type: ignore[no-any-return]

    def run(*args: Any, **kwargs: Any) -> Any:
        with torch.nn.attention.sdpa_kernel(torch.nn.attention.SDPBackend.MATH):
            return sdpa(*args, **kwargs)

    return run


def bench_softmax(budget: float, torch: ModuleType | None) -> None:
    """Softmax over (64, 128, 128), both dtypes."""
    rng = np.random.default_rng(0)
    for dtype in (np.float32, np.float64):
        x = normal(rng, (64, 128, 128), dtype)
        name = f"softmax (64,128,128) {np.dtype(dtype).name}"
        ours = measure(partial(softmax, x), budget=budget)
        same = same_mark(softmax(x), bare_softmax(x), rtol=_tolerance(dtype)[0], atol=0)
        row(name, ours, "bare formula", measure(partial(bare_softmax, x), budget=budget), same)
        if torch is not None:
            theirs = measure(
                partial(torch.softmax, torch.from_numpy(x), -1), budget=budget, numpy_memory=False
            )
            row(name, ours, "torch.softmax", theirs)


def bench_sdpa(budget: float, torch: ModuleType | None, jax: ModuleType | None) -> None:
    """SDPA plain and blocked at (4, 8, 256, 64) and (1, 8, 2048, 64), causal or not, 2 dtypes."""
    rng = np.random.default_rng(1)
    for shape in ((4, 8, 256, 64), (1, 8, 2048, 64)):
        for dtype in (np.float32, np.float64):
            q, k, v = (normal(rng, shape, dtype) for _ in range(3))
            for causal in (False, True):
                label = f"{shape} {np.dtype(dtype).name}{' causal' if causal else ''}"
                _bench_sdpa_case(budget, label, q, k, v, causal, torch, jax)


def _plain_sdpa(q: FloatArray, k: FloatArray, v: FloatArray, causal: bool) -> FloatArray:
    return scaled_dot_product_attention_with_weights(q, k, v, is_causal=causal)[0]


def _blocked_sdpa(q: FloatArray, k: FloatArray, v: FloatArray, causal: bool) -> FloatArray:
    return blocked.blocked_scaled_dot_product_attention(q, k, v, is_causal=causal)


def _bench_sdpa_case(
    budget: float,
    label: str,
    q: FloatArray,
    k: FloatArray,
    v: FloatArray,
    causal: bool,
    torch: ModuleType | None,
    jax: ModuleType | None,
) -> None:
    expected = bare_attention(q, k, v, causal=causal)
    rtol, atol = _tolerance(q.dtype)
    bare = measure(partial(bare_attention, q, k, v, causal=causal), budget=budget)
    ours_plain = measure(partial(_plain_sdpa, q, k, v, causal), budget=budget)
    ours_blocked = measure(partial(_blocked_sdpa, q, k, v, causal), budget=budget)
    result = _blocked_sdpa(q, k, v, causal)
    same_plain = same_mark(_plain_sdpa(q, k, v, causal), expected, rtol=rtol, atol=atol)
    same_blocked = same_mark(result, expected, rtol=rtol, atol=atol)
    row(f"SDPA plain {label}", ours_plain, "bare formula", bare, same_plain)
    row(f"SDPA blocked {label}", ours_blocked, "bare formula", bare, same_blocked)
    if torch is not None:
        tq, tk, tv = (torch.from_numpy(a) for a in (q, k, v))
        for title, math_backend in (("torch default", False), ("torch math", True)):
            sdpa = _torch_sdpa(torch, math_backend)
            call = partial(sdpa, tq, tk, tv, is_causal=causal)
            theirs = measure(call, budget=budget, numpy_memory=False)
            mark = same_mark(result, call().numpy(), rtol=rtol, atol=atol)
            row(f"SDPA blocked {label}", ours_blocked, title, theirs, mark)
    if jax is not None:
        # Note: jax's layout is (batch, length, heads, dim): swap our heads axis in.
        jq, jk, jv = (jax.numpy.swapaxes(jax.numpy.asarray(a), -3, -2) for a in (q, k, v))
        jitted = jax.jit(partial(jax.nn.dot_product_attention, is_causal=causal))

        def run_jax() -> Any:
            return jitted(jq, jk, jv).block_until_ready()

        theirs = measure(run_jax, budget=budget, numpy_memory=False)
        mark = same_mark(result, np.swapaxes(np.asarray(run_jax()), -3, -2), rtol=rtol, atol=atol)
        row(f"SDPA blocked {label}", ours_blocked, "jax (jit)", theirs, mark)


def bench_models(budget: float, torch: ModuleType | None) -> None:
    """Multi-head attention, an LSTM sequence, an NTM step, a MemN2N forward (float32)."""
    rng = np.random.default_rng(2)
    dtype = np.float32
    # Multi-head self-attention, batch 4, L = 128, embedding 256, 8 heads.
    e, heads = 256, 8
    W_q, W_k, W_v, W_o = (normal(rng, (e, e), dtype) / dtype(math.sqrt(e)) for _ in range(4))
    params = TransformerAttentionParameters(W_q=W_q, W_k=W_k, W_v=W_v, W_o=W_o, num_heads=heads)
    x = normal(rng, (4, 128, e), dtype)
    ours = measure(lambda: multi_head_attention(x, x, x, params), budget=budget)
    same = same_mark(
        multi_head_attention(x, x, x, params), bare_multi_head(x, params), rtol=1e-3, atol=1e-4
    )
    name = "multi-head attention (4,128,256) h=8"
    row(
        name, ours, "bare formula", measure(lambda: bare_multi_head(x, params), budget=budget), same
    )
    if torch is not None:
        module = torch.nn.MultiheadAttention(e, heads, batch_first=True, bias=False)
        tx = torch.from_numpy(x)
        with torch.no_grad():
            theirs = measure(
                lambda: module(tx, tx, tx, need_weights=False), budget=budget, numpy_memory=False
            )
        row(name, ours, "torch MHA module", theirs)

    # LSTM over T = 64 steps, batch 16, n = 64 inputs, m = 128 hidden units.
    n, m = 64, 128

    def gate() -> GateParameters:
        return GateParameters(
            W=rng.normal(scale=0.1, size=(m, n)).astype(dtype),
            U=rng.normal(scale=0.1, size=(m, m)).astype(dtype),
            b=np.zeros(m, dtype),
        )

    lstm = LSTMParameters(gate(), gate(), gate(), gate())
    xs = rng.normal(size=(16, 64, n)).astype(dtype)
    ours = measure(lambda: lstm_sequence(xs, lstm), budget=budget)
    same = same_mark(lstm_sequence(xs, lstm)[0], bare_lstm(xs, lstm), rtol=1e-3, atol=1e-5)
    name = "LSTM sequence (16,64,64) m=128"
    row(name, ours, "bare formula", measure(lambda: bare_lstm(xs, lstm), budget=budget), same)
    if torch is not None:
        module = torch.nn.LSTM(n, m, batch_first=True)  # timing only (same sizes)
        txs = torch.from_numpy(xs)
        with torch.no_grad():
            theirs = measure(lambda: module(txs), budget=budget, numpy_memory=False)
        row(name, ours, "torch nn.LSTM", theirs)

    bench_ntm(budget, batch=32, slots=128, width=20, label="NTM step (32 × 128 × 20)")

    # MemN2N: batch 32, N = 50 sentences of J = 6 words, V = 100, d = 32, K = 3 hops.
    p = MemN2NParameters.initialize(
        rng, vocabulary_size=100, embedding_dim=32, hops=3, dtype=np.float32
    )
    story = rng.integers(1, 100, size=(32, 50, 6)).astype(np.intp)
    question = rng.integers(1, 100, size=(32, 6)).astype(np.intp)
    ours = measure(lambda: memn2n_forward(p, story, question), budget=budget)
    same = same_mark(
        memn2n_forward(p, story, question).answer_probabilities,
        bare_memn2n(p, story, question),
        rtol=1e-3,
        atol=1e-6,
    )
    row(
        "MemN2N forward (32,50,6) d=32 K=3",
        ours,
        "bare formula",
        measure(lambda: bare_memn2n(p, story, question), budget=budget),
        same,
    )


def _ntm_inputs(
    rng: np.random.Generator, batch: int, slots: int, width: int
) -> tuple[FloatArray, FloatArray, FloatArray, HeadParameters, HeadParameters]:
    dtype = np.float32
    memory = rng.normal(size=(batch, slots, width)).astype(dtype)
    previous = bare_softmax(rng.normal(size=(2, batch, slots)).astype(dtype))

    def head() -> HeadParameters:
        return HeadParameters(
            key=rng.normal(size=(batch, width)).astype(dtype),
            key_strength=rng.uniform(1, 5, size=batch).astype(dtype),
            gate=rng.uniform(0, 1, size=batch).astype(dtype),
            shift=bare_softmax(rng.normal(size=(batch, 3)).astype(dtype)),
            sharpening=rng.uniform(1, 3, size=batch).astype(dtype),
            erase=rng.uniform(0, 1, size=(batch, width)).astype(dtype),
            add=rng.normal(size=(batch, width)).astype(dtype),
        )

    return memory, previous[0], previous[1], head(), head()


def bench_ntm(budget: float, *, batch: int, slots: int, width: int, label: str) -> None:
    """One NTM step (read head + write head) against eqs. 2–9 written out."""
    rng = np.random.default_rng(3)
    M, w_r, w_w, read_head, write_head = _ntm_inputs(rng, batch, slots, width)
    ours = measure(lambda: ntm_step(M, w_r, w_w, read_head, write_head), budget=budget)
    result = ntm_step(M, w_r, w_w, read_head, write_head)
    bare = bare_ntm_step(M, w_r, w_w, read_head, write_head)
    same = same_mark(
        np.concatenate([result.read_vector.ravel(), result.memory.ravel()]),
        np.concatenate([bare[0].ravel(), bare[1].ravel()]),
        rtol=1e-3,
        atol=1e-5,
    )
    theirs = measure(lambda: bare_ntm_step(M, w_r, w_w, read_head, write_head), budget=budget)
    row(label, ours, "bare formula", theirs, same)


def bench_hopfield(budget: float, *, quick: bool) -> None:
    """Asynchronous sweeps at M = 1000 and the capacity experiment's wall time."""
    rng = np.random.default_rng(4)
    m = 1000
    # Note: an odd number of stored patterns keeps every Hebbian field odd·(1/M), never an
    # exact tie at 0, so the bare loop and ours agree bit for bit (ties are issue 7's).
    patterns = np.where(rng.random((51, m)) < 0.5, -1.0, 1.0)
    W = hebbian_weights(patterns)
    state = np.where(rng.random(m) < 0.5, -1.0, 1.0)
    order = rng.permutation(m)
    ours = measure(lambda: asynchronous_sweep(state, W, order=order), budget=budget)
    same = same_mark(
        asynchronous_sweep(state, W, order=order), bare_sweep(state, W, order), rtol=0, atol=0
    )
    row(
        f"Hopfield asynchronous sweep M={m}",
        ours,
        "bare O(M²) loop",
        measure(lambda: bare_sweep(state, W, order), budget=budget),
        same,
    )
    capacity = importlib.import_module("proofs.hopfield_capacity")
    start = time.perf_counter()
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        capacity.main(quick=quick)
    seconds = time.perf_counter() - start
    mode = "quick, M = 100" if quick else "full, M = 500"
    row(f"capacity experiment ({mode})", Measure(seconds, None), "(wall time, one run)", None)


def bench_small_calls(budget: float) -> None:
    """Per-call cost of the checks: tiny inputs, where the checks dominate (issue 7)."""
    rng = np.random.default_rng(5)
    dtype = np.float64
    W_q, W_k, W_v, W_o = (normal(rng, (8, 8), dtype) for _ in range(4))
    params = TransformerAttentionParameters(W_q=W_q, W_k=W_k, W_v=W_v, W_o=W_o, num_heads=2)
    x = normal(rng, (4, 8), dtype)
    ours = measure(lambda: multi_head_attention(x, x, x, params), budget=budget)
    same = same_mark(
        multi_head_attention(x, x, x, params), bare_multi_head(x, params), rtol=1e-8, atol=1e-10
    )
    row(
        "small: multi-head L=S=4 D=8 h=2",
        ours,
        "bare formula",
        measure(lambda: bare_multi_head(x, params), budget=budget),
        same,
    )
    bench_ntm(budget, batch=1, slots=8, width=4, label="small: one NTM step (N=8, D=4)")
    m = 400
    patterns = np.where(rng.random((21, m)) < 0.5, -1.0, 1.0)  # odd: no field ties
    W = hebbian_weights(patterns)
    start = np.where(rng.random(m) < 0.1, -patterns[0], patterns[0])
    order = rng.permutation(m)
    ours = measure(lambda: run_to_fixed_point(start, W, order=order), budget=budget)
    same = same_mark(
        run_to_fixed_point(start, W, order=order).states[-1],
        bare_run(start, W, order, 100),
        rtol=0,
        atol=0,
    )
    row(
        f"small: Hopfield run M={m}",
        ours,
        "bare loop",
        measure(lambda: bare_run(start, W, order, 100), budget=budget),
        same,
    )


def bench_long(length: int) -> None:
    """L = S = ``length``, D = 64, 8 heads, float32 through scaled_dot_product_attention.

    Peak extra memory (tracemalloc, beyond the inputs) must stay below 512 MiB (the plain
    kernel's weights alone would be 8·L²·4 bytes); the output is compared with the plain
    formula on 64 sampled queries per head, within the float32 bound of
    tests/test_blocked_attention.py (here a few 1e-6, asserted loosely at 1e-4).
    """
    rng = np.random.default_rng(6)
    heads, width = 8, 64
    q, k, v = (rng.normal(size=(heads, length, width)).astype(np.float32) for _ in range(3))
    tracemalloc.start()
    tracemalloc.reset_peak()
    baseline, _ = tracemalloc.get_traced_memory()
    start = time.perf_counter()
    out = scaled_dot_product_attention(q, k, v)
    seconds = time.perf_counter() - start
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    extra = peak - baseline
    plain_bytes = heads * length * length * 4
    sample = rng.choice(length, size=64, replace=False)
    expected = bare_attention(
        q[:, sample].astype(np.float64), k.astype(np.float64), v.astype(np.float64)
    )
    error = float(np.abs(out[:, sample] - expected).max())
    verdict = "✓" if extra < 512 * MiB and error < 1e-4 else "≠ (!)"
    print(
        f"{'SDPA L=S=' + str(length) + ' D=64 h=8 float32':44} {_ms(seconds)} "
        f"{extra / MiB:8.1f}  peak extra < 512 MiB (plain weights: {plain_bytes / MiB:.0f} MiB); "
        f"max |error| on 64 sampled queries/head vs float64 formula {error:.2e}  {verdict}"
    )


def bench_threshold(budget: float) -> None:
    """Plain vs blocked SDPA per score-matrix size: where the dispatch threshold belongs."""
    rng = np.random.default_rng(7)
    print(
        f"{'dtype':8} {'heads':>5} {'L=S':>5} {'entries':>9} {'plain ms':>10} "
        f"{'blocked ms':>10} {'blocked/plain':>13}"
    )
    for dtype in (np.float32, np.float64):
        for length in (16, 32, 64, 128, 256):
            for heads in (1, 8):
                q, k, v = (normal(rng, (heads, length, 64), dtype) for _ in range(3))
                plain = best_seconds(partial(_plain_sdpa, q, k, v, False), budget=budget)
                block = best_seconds(partial(_blocked_sdpa, q, k, v, False), budget=budget)
                print(
                    f"{np.dtype(dtype).name:8} {heads:5} {length:5} {heads * length**2:9} "
                    f"{_ms(plain)} {_ms(block)} {block / plain:13.2f}"
                )
    print(f"current BLOCKED_THRESHOLD = {blocked.BLOCKED_THRESHOLD} entries")


def wall_time_row(name: str, command: list[str]) -> None:
    """Wall time of a subprocess (python -m proofs, the test suite) as an optional row."""
    start = time.perf_counter()
    completed = subprocess.run(command, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - start
    status = "ok" if completed.returncode == 0 else f"exit {completed.returncode}"
    row(name, Measure(seconds, None), f"(wall time, {status})", None)


@contextlib.contextmanager
def thread_budget(threads: int, torch: ModuleType | None) -> Iterator[None]:
    """Give NumPy's BLAS (threadpoolctl) and PyTorch the same number of threads."""
    if torch is not None:
        torch.set_num_threads(threads)
    with threadpool_limits(limits=threads, user_api="blas"):
        yield


GROUPS = ("softmax", "sdpa", "models", "hopfield", "small", "long")
"""The groups of rows, in the order they run (``--only`` picks some)."""


def main(argv: list[str] | None = None) -> None:
    """Parse the options and run the benchmarks."""
    parser = argparse.ArgumentParser(prog="python -m tests.benchmarks", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="short timings, small long-run")
    parser.add_argument(
        "--threads",
        type=int,
        default=_usable_cores(),
        help="threads for NumPy's BLAS and PyTorch (default: usable cores)",
    )
    parser.add_argument(
        "--threshold",
        action="store_true",
        help="only re-measure the blocked-attention dispatch threshold",
    )
    parser.add_argument("--with-proofs", action="store_true", help="time python -m proofs")
    parser.add_argument("--with-tests", action="store_true", help="time the test suite")
    parser.add_argument("--skip-long", action="store_true", help="skip the L = 16384 run")
    parser.add_argument(
        "--only",
        nargs="+",
        choices=GROUPS,
        default=list(GROUPS),
        help="run only these groups of rows",
    )
    args = parser.parse_args(argv)
    budget = 0.15 if args.quick else 0.6
    torch, jax = _optional("torch"), _optional("jax")
    with thread_budget(args.threads, torch):
        print_header(args.threads, torch, jax)
        if args.threshold:
            bench_threshold(budget)
            return
        print(HEADER)
        groups: dict[str, Callable[[], None]] = {
            "softmax": partial(bench_softmax, budget, torch),
            "sdpa": partial(bench_sdpa, budget, torch, jax),
            "models": partial(bench_models, budget, torch),
            "hopfield": partial(bench_hopfield, budget, quick=args.quick),
            "small": partial(bench_small_calls, budget),
            "long": partial(bench_long, 4096 if args.quick else 16384),
        }
        for name in GROUPS:
            if name in args.only and not (name == "long" and args.skip_long):
                groups[name]()
        quick_flag = ["--quick"] if args.quick else []
        if args.with_proofs:
            wall_time_row(
                "python -m proofs" + (" --quick" if args.quick else ""),
                [sys.executable, "-m", "proofs", *quick_flag],
            )
        if args.with_tests:
            wall_time_row(
                "test suite (pytest -n auto)", [sys.executable, "-m", "pytest", "-q", "-n", "auto"]
            )


if __name__ == "__main__":
    main()
