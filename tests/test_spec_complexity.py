"""Exercise 8-3 (spec.complexity) against brute force: counted loops, convolution index sets.

Vaswani et al. 2017, table 1: self-attention O(n²d), O(1), O(1); recurrent
O(nd²), O(n), O(n); convolutional O(knd²), O(1), O(n/k) (contiguous) or
O(log_k n) (dilated). Each derived entry is checked against a simulation
that does not use the formula.
"""

import functools
import math
from collections import deque
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pytest
import sympy
from hypothesis import given
from hypothesis import strategies as st
from numpy.typing import NDArray

from impl.attention import scaled_dot_product_attention_with_weights
from impl.testing import strategies as nst
from impl.testing.tolerances import assert_close
from spec import complexity as cx

FloatArray = NDArray[np.floating[Any]]


# --- brute force ------------------------------------------------------------------------------


def _inputs_reaching(output: int, kernel: int, depth: int, *, dilated: bool) -> set[int]:
    """Input positions that output position ``output`` depends on after ``depth`` causal convs.

    Layer l reads positions p, p − δ_l, …, p − (k − 1)δ_l with δ_l = k^l
    (dilated) or 1 (contiguous); positions below 0 are padding, not inputs.
    """
    reached = {output}
    for layer in range(depth):
        step = kernel**layer if dilated else 1
        reached = {p - tap * step for p in reached for tap in range(kernel)}
    return {p for p in reached if p >= 0}


def _least_depth_to_cover(length: int, kernel: int, *, dilated: bool) -> int:
    """Least L such that the last output depends on all ``length`` inputs (the longest path)."""
    depth = 0
    while _inputs_reaching(length - 1, kernel, depth, dilated=dilated) != set(range(length)):
        depth += 1
    return depth


def _convolve_causal(signal: FloatArray, weights: FloatArray, step: int) -> FloatArray:
    """out[p] = Σ_tap weights[tap] · signal[p − tap·step] (zero padding), an actual convolution."""
    out = np.zeros_like(signal)
    for tap, w in enumerate(weights):
        shift = tap * step
        out[shift:] += w * signal[: len(signal) - shift] if shift else w * signal
    return out


@functools.cache
def _lambdified(expr: sympy.Expr) -> Callable[..., Any]:
    return sympy.lambdify((cx.n, cx.d, cx.k, cx.layers), expr, modules="numpy")


def _evaluate(expr: sympy.Expr, *, n: int = 1, d: int = 1, k: int = 2, layers: int = 0) -> float:
    return float(_lambdified(expr)(n, d, k, layers))


# --- receptive field and maximum path length of convolutions ----------------------------------


@pytest.mark.parametrize("dilated", [False, True])
def test_convolution_receptive_field_matches_actual_convolution(dilated: bool) -> None:
    """Ex. 8-3: an impulse through L stacked causal convolutions spreads over r(L) positions.

    r(L) = L(k − 1) + 1 (contiguous) or k^L (dilated), derived in spec; here
    measured by convolving a unit impulse with positive weights (no cancellation).
    """
    rng = np.random.default_rng(0)
    field = cx.receptive_field(dilated=dilated)
    for kernel in range(2, 6):
        for depth in range(4):
            size = 2 + 2 * kernel**depth
            signal = np.zeros(size)
            signal[0] = 1.0
            for layer in range(depth):
                weights = rng.uniform(0.5, 1.5, size=kernel)
                signal = _convolve_causal(signal, weights, kernel**layer if dilated else 1)
            measured = int(np.count_nonzero(signal))
            assert measured == round(_evaluate(field, k=kernel, layers=depth)), (kernel, depth)
            reached = _inputs_reaching(size - 1, kernel, depth, dilated=dilated)
            assert len(reached) == measured


@pytest.mark.parametrize("dilated", [False, True])
def test_convolution_path_length_matches_index_sets(dilated: bool) -> None:
    """Ex. 8-3: least L covering n inputs = ⌈(n − 1)/(k − 1)⌉ (contiguous), ⌈log_k n⌉ (dilated).

    Brute force over n ∈ 1..40, k ∈ 2..5 with the index sets of stacked causal convolutions.
    """
    path = cx.convolution_path_length(dilated=dilated)
    for kernel in range(2, 6):
        for length in range(1, 41):
            brute = _least_depth_to_cover(length, kernel, dilated=dilated)
            if dilated:
                # Note: ⌈log n / log k⌉ in floating point can land one above an exact power
                # (log 125 / log 5 = 3.0000000000000004); sympy evaluates it exactly.
                derived = int(path.subs({cx.n: length, cx.k: kernel}))
            else:
                derived = math.ceil(_evaluate(path, n=length, k=kernel) - 1e-9)
            assert brute == derived, (length, kernel)


def test_spec_receptive_field_recurrence_and_limits() -> None:
    """r(L) = r(L − 1) + (k − 1) (rsolve); path/(n/k) → k/(k − 1); dilated path/log_k n → 1."""
    assert cx.receptive_field_recurrence_residual() == 0
    ratio = cx.contiguous_path_ratio_limit()
    for kernel in range(2, 10):
        assert 1 < float(ratio.subs(cx.k, kernel)) <= 2
    assert cx.dilated_path_ratio_limit() == 1


# --- self-attention and recurrence path lengths via their graphs ------------------------------


def _longest_shortest_path(edges: dict[str, set[str]], sources: list[str], sinks: list[str]) -> int:
    """Max over (source, sink) of the BFS distance in edges; −1 if a sink is unreachable."""
    longest = 0
    for source in sources:
        distance = {source: 0}
        frontier = deque([source])
        while frontier:
            node = frontier.popleft()
            for nxt in edges.get(node, set()):
                if nxt not in distance:
                    distance[nxt] = distance[node] + 1
                    frontier.append(nxt)
        for sink in sinks:
            if sink not in distance:
                return -1
            longest = max(longest, distance[sink])
    return longest


@given(nst.attention_inputs(dtype=np.dtype(np.float64), magnitude=2.0, max_len=6))
def test_self_attention_path_length_is_one(inputs: nst.AttentionInputs) -> None:
    """Ex. 8-3: in the attention graph (edge j → i iff α_ij > 0) every input reaches every output.

    The weights come from impl.attention; all are > 0 for finite scores, so the
    longest shortest path is 1 = spec.complexity.SELF_ATTENTION_PATH.
    """
    x = inputs.key[(0,) * (inputs.key.ndim - 2)]
    _, weights = scaled_dot_product_attention_with_weights(x, x, x)
    size = x.shape[0]
    edges = {f"x{j}": {f"h{i}" for i in range(size) if weights[i, j] > 0} for j in range(size)}
    path = _longest_shortest_path(
        edges, [f"x{j}" for j in range(size)], [f"h{i}" for i in range(size)]
    )
    assert path == int(cx.SELF_ATTENTION_PATH)


@pytest.mark.parametrize("length", [1, 2, 3, 7, 16])
def test_recurrent_path_length_and_sequential_operations_are_n(length: int) -> None:
    """Ex. 8-3: in h_t = f(W h_{t−1} + U x_t), x_1 → h_n takes n edges; the h-chain has n links."""
    edges: dict[str, set[str]] = {}
    for t in range(1, length + 1):
        edges.setdefault(f"x{t}", set()).add(f"h{t}")
        if t > 1:
            edges.setdefault(f"h{t - 1}", set()).add(f"h{t}")
    sources = [f"x{t}" for t in range(1, length + 1)]
    # Only outputs at or after an input can depend on it: the farthest pair is (x_1, h_n).
    path = _longest_shortest_path(edges, sources[:1], [f"h{length}"])
    assert path == round(_evaluate(cx.recurrent_path_length(), n=length))
    # Sequential operations: longest chain of h's, each needing the previous one.
    chain = 1 + _longest_shortest_path(edges, ["h1"], [f"h{length}"])
    assert chain == round(_evaluate(cx.recurrent_sequential_operations(), n=length))


# --- operation counts against instrumented loops ----------------------------------------------


class _Counter:
    """Counts multiply-adds performed by the naive loops below."""

    def __init__(self) -> None:
        self.count = 0

    def dot(self, a: FloatArray, b: FloatArray) -> float:
        total = 0.0
        for x, y in zip(a, b, strict=True):
            total += float(x) * float(y)
            self.count += 1
        return total


def _naive_self_attention(x: FloatArray, w: Sequence[FloatArray], counter: _Counter) -> FloatArray:
    """Q, K, V projections, scores QKᵀ/√d, softmax, weighted sum — counting every multiply-add."""
    size, width = x.shape
    q, k_, v = (
        np.array([[counter.dot(m[o], x[i]) for o in range(width)] for i in range(size)]) for m in w
    )
    scores = np.array([[counter.dot(q[i], k_[j]) for j in range(size)] for i in range(size)])
    scores = scores / math.sqrt(width)
    alpha = np.exp(scores - scores.max(axis=1, keepdims=True))
    alpha /= alpha.sum(axis=1, keepdims=True)
    return np.array([[counter.dot(alpha[i], v[:, f]) for f in range(width)] for i in range(size)])


@given(st.integers(1, 5), st.integers(1, 4), st.integers(2, 4), nst.generators())
def test_operation_counts_match_instrumented_loops(
    length: int, width: int, kernel: int, rng: np.random.Generator
) -> None:
    """Ex. 8-3: spec's Σ-counts = multiply-adds performed by naive loops (attention, RNN, conv).

    The naive attention's output is checked against impl.attention, so the
    counted loops are the real computation.
    """
    x = rng.standard_normal((length, width))
    weights = [rng.standard_normal((width, width)) for _ in range(3)]
    counter = _Counter()
    out = _naive_self_attention(x, weights, counter)
    q, k_, v = (x @ m.T for m in weights)
    assert_close(out, scaled_dot_product_attention_with_weights(q, k_, v)[0])
    attention = cx.self_attention_count()
    assert counter.count == _evaluate(
        attention.projections + attention.attention, n=length, d=width
    )

    counter = _Counter()
    w_h, w_x = rng.standard_normal((width, width)), rng.standard_normal((width, width))
    h = np.zeros(width)
    for t in range(length):
        h = np.tanh([counter.dot(w_h[o], h) + counter.dot(w_x[o], x[t]) for o in range(width)])
    assert counter.count == _evaluate(cx.recurrent_count(), n=length, d=width)

    counter = _Counter()
    kernel_weights = rng.standard_normal((width, kernel, width))  # (out, tap, in)
    padded = np.concatenate([np.zeros((kernel - 1, width)), x])
    for p in range(length):
        window = padded[p : p + kernel][::-1]  # taps 0..k−1 = positions p, p−1, …
        for o in range(width):
            sum(counter.dot(kernel_weights[o, tap], window[tap]) for tap in range(kernel))
    assert counter.count == _evaluate(cx.convolution_count(), n=length, d=width, k=kernel)


# --- crossover, big-O and the table -----------------------------------------------------------


def test_crossover_is_n_equals_d() -> None:
    """Ex. 8-3: n²d = nd² ⇔ n = d; self-attention is cheaper exactly when n < d (brute force)."""
    assert cx.crossover() == [cx.d]
    difference = cx.crossover_difference()
    for length in range(1, 30):
        for width in range(1, 30):
            value = _evaluate(difference, n=length, d=width)
            assert (value < 0) == (length < width)
            assert (value == 0) == (length == width)


def test_big_o_keeps_undominated_monomials() -> None:
    """big_o drops coefficients and dominated monomials only."""
    n, d, k = cx.n, cx.d, cx.k
    assert cx.big_o(3 * n * d**2 + 2 * n**2 * d) == n**2 * d + n * d**2
    assert cx.big_o(2 * n * d**2 + n * d + 7) == n * d**2
    assert cx.big_o(k * n * d**2 + n * d**2) == k * n * d**2


def test_complexity_table_matches_vaswani_table_1() -> None:
    """Ex. 8-3: the derived table equals Vaswani et al. 2017, table 1 (n, d, k symbolic)."""
    n, d, k = cx.n, cx.d, cx.k
    rows = {row.layer: row for row in cx.table()}
    assert rows["self-attention"].per_layer == n**2 * d
    assert rows["self-attention"].sequential == 1
    assert rows["self-attention"].path_length == 1
    assert rows["recurrent"].per_layer == n * d**2
    assert rows["recurrent"].sequential == n
    assert rows["recurrent"].path_length == n
    contiguous = rows["convolutional (contiguous)"]
    assert contiguous.per_layer == k * n * d**2
    assert contiguous.sequential == 1
    assert contiguous.path_length == sympy.ceiling((n - 1) / (k - 1))
    dilated = rows["convolutional (dilated)"]
    assert dilated.path_length == sympy.ceiling(sympy.log(n) / sympy.log(k))
