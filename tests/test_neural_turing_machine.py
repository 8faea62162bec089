"""Properties of NTM addressing, read and write, §8.5.2 (Graves, Wayne & Danihelka 2014)."""

import warnings
from dataclasses import replace
from functools import cache
from typing import Any

import numpy as np
import pytest
import sympy
from hypothesis import given
from hypothesis import strategies as st
from numpy.typing import NDArray

from impl import neural_turing_machine as ntm
from impl.testing import strategies as hst
from impl.testing.tolerances import assert_close, default_rtol, eps
from spec import neural_turing_machine as spec
from tests._introspection import is_mutation_artifact

Array = NDArray[np.floating[Any]]
LambdaFn = Any


def weights_atol(dtype: np.dtype[Any]) -> float:
    """Absolute slack for weights in [0, 1] computed by a few roundings: 4·√eps (the default
    relative tolerance, used absolutely because tiny weights have no meaningful relative error)."""
    return default_rtol(dtype)


def assert_distribution(weights: Array, what: str) -> None:
    """Non-negative, each row sums to 1 within 4·√eps·(1 + N·eps) (a sum of N rounded terms)."""
    assert np.all(weights >= 0), f"{what}: negative weight {weights.min()}"
    n = weights.shape[-1]
    tolerance = default_rtol(weights.dtype) * (1 + n * eps(weights.dtype))
    np.testing.assert_allclose(weights.sum(axis=-1), 1.0, rtol=0, atol=tolerance, err_msg=what)


def summation_atol(*arrays: Array) -> float:
    """Absolute slack when two sums of N products (weights ≤ 1 times entries) are compared after
    regrouping: 16·N·eps·(1 + Σ max |entries|), i.e. a few ulps per term of the largest size."""
    n = max(int(a.shape[-2]) for a in arrays)
    scale = sum(float(np.abs(a).max()) for a in arrays)
    return 16 * n * eps(arrays[0].dtype) * (1 + scale)


def as_float64(value: Any) -> Array:
    """A lambdified spec result (list, scalar, or int for N = 1) as a float64 array."""
    return np.asarray(value, dtype=np.float64)


def scalars(dtype: np.dtype[Any], batch: tuple[int, ...], value: float) -> Array:
    """A per-batch-item head scalar array holding ``value``."""
    return np.full(batch, value, dtype=dtype)


# --- spec agreement -------------------------------------------------------------------------


@cache
def spec_content(n: int, d: int) -> LambdaFn:
    key, memory = spec.real_matrix("k", d, 1), spec.real_matrix("M", n, d)
    expr = spec.content_weights(key, memory)
    return sympy.lambdify((list(key), list(memory), spec.beta), list(expr), modules="numpy")


@given(hst.ntm_head_inputs(batched=False))
def test_content_addressing_matches_spec(h: hst.NTMHeadInputs) -> None:
    """§8.5.2, eq. 5: w^c = softmax(β cos(k, M(i))), against spec.content_weights (lambdified),
    for keys and memory rows away from 0 (where the spec's cos is defined)."""
    memory = np.where(np.abs(h.memory) < 0.1, 0.5, h.memory).astype(h.memory.dtype)
    key = np.where(np.abs(h.key) < 0.1, 0.5, h.key).astype(h.key.dtype)
    n, d = memory.shape
    fn = spec_content(n, d)
    expected = as_float64(
        fn(list(key.astype(float)), list(memory.astype(float).ravel()), h.key_strength)
    )
    actual = ntm.content_addressing(key, memory, h.key_strength)
    assert_close(actual, expected.astype(memory.dtype), atol=weights_atol(memory.dtype))


@cache
def spec_convolution(n: int, radius: int) -> LambdaFn:
    weights = spec.nonnegative_symbols("w", n)
    offsets = spec.nonnegative_symbols("s", 2 * radius + 1)
    ring = spec.ring_shift({r - radius: offsets[r] for r in range(2 * radius + 1)}, n)
    expr = spec.circular_convolution(weights, ring)
    return sympy.lambdify((list(weights), list(offsets)), list(expr), modules="numpy")


@given(hst.ntm_head_inputs(batched=False))
def test_circular_shift_matches_spec(h: hst.NTMHeadInputs) -> None:
    """§8.5.2, eq. 8: w̃(i) = Σ_j w(j) s((i − j) mod N) written with Mod in the spec, with the
    centred offsets folded onto Z_N (several offsets per residue when 2R + 1 > N)."""
    n, radius = h.previous.shape[-1], h.shift.shape[-1] // 2
    expected = as_float64(spec_convolution(n, radius)(list(h.previous), list(h.shift)))
    actual = ntm.circular_shift(h.previous, h.shift)
    assert_close(actual, expected.astype(h.previous.dtype), atol=weights_atol(h.previous.dtype))


@cache
def spec_sharpen(n: int) -> LambdaFn:
    weights = tuple(sympy.Symbol(f"w_{k}", positive=True) for k in range(n))
    return sympy.lambdify((list(weights), spec.gamma), list(spec.sharpen(weights)), "numpy")


@given(hst.ntm_head_inputs(batched=False, dtype=np.dtype(np.float64)))
def test_sharpen_matches_spec(h: hst.NTMHeadInputs) -> None:
    """§8.5.2, eq. 9: w^γ / Σ w^γ (spec, direct powers) = impl's softmax(γ log w) (float64)."""
    weights = h.previous + 1e-3  # positive entries: the spec's direct form is defined
    expected = as_float64(spec_sharpen(weights.shape[-1])(list(weights), h.sharpening))
    assert_close(ntm.sharpen(weights, h.sharpening), expected, atol=weights_atol(weights.dtype))


@cache
def spec_write(n: int, d: int) -> LambdaFn:
    memory = spec.real_matrix("M", n, d)
    weights, erase = spec.nonnegative_symbols("w", n), spec.nonnegative_symbols("e", d)
    add = [sympy.Symbol(f"a_{k}", real=True) for k in range(d)]
    expr = spec.write(memory, weights, erase, add)
    return sympy.lambdify((list(memory), list(weights), list(erase), add), expr, "numpy")


@given(hst.ntm_head_inputs(batched=False), st.data())
def test_write_matches_spec(h: hst.NTMHeadInputs, data: Any) -> None:
    """§8.5.2: m'_n = m_n ∘ (1 − w_n e) + w_n a against spec.write (lambdified)."""
    n, d = h.memory.shape
    dtype = h.memory.dtype
    erase = np.abs(data.draw(hst.float_arrays(dtype, (d,), magnitude=1.0)))
    add = data.draw(hst.float_arrays(dtype, (d,), magnitude=3.0))
    expected = as_float64(spec_write(n, d)(list(h.memory.ravel()), list(h.previous), erase, add))
    actual = ntm.write(h.memory, h.previous, erase, add)
    assert_close(actual, expected.astype(dtype), atol=weights_atol(dtype) * 4)


def test_cosine_score_defined_as_zero_for_zero_vectors() -> None:
    """§8.5.2, eq. 6 with the documented convention cos(0, m) = cos(k, 0) = 0."""
    query = np.array([[0.0, 0.0], [3.0, 4.0]])
    keys = np.array([[0.0, 0.0], [6.0, 8.0], [-4.0, 3.0]])
    expected = np.array([[0.0, 0.0, 0.0], [0.0, 1.0, 0.0]])
    assert_close(ntm.cosine_score(query, keys), expected, atol=weights_atol(expected.dtype))


# --- simplex laws ---------------------------------------------------------------------------


@given(hst.ntm_head_inputs())
def test_address_stages_are_distributions(h: hst.NTMHeadInputs) -> None:
    """§8.5.2: content, interpolation, shift and sharpening each map weights to a distribution
    (non-negative, sum 1 within 4·√eps·(1 + N·eps)); spec.*_simplex_law derives it."""
    stages = ntm.address_stages(
        h.key,
        h.memory,
        h.previous,
        key_strength=h.key_strength,
        gate=h.gate,
        shift=h.shift,
        sharpening=h.sharpening,
    )
    for name in ("content", "gated", "shifted", "weights"):
        weights = getattr(stages, name)
        assert weights.shape == h.previous.shape
        assert weights.dtype == h.memory.dtype
        assert_distribution(weights, name)


# --- content addressing ---------------------------------------------------------------------


@given(hst.ntm_head_inputs(), st.floats(min_value=1e-3, max_value=1e3))
def test_content_addressing_invariant_to_positive_key_scaling(
    h: hst.NTMHeadInputs, scale: float
) -> None:
    """§8.5.2: cos(c k, m) = cos(k, m) for c > 0 (spec.key_scaling_residual): w^c invariant."""
    scaled_key = (h.key * np.asarray(scale, h.key.dtype)).astype(h.key.dtype)
    assert_close(
        ntm.content_addressing(scaled_key, h.memory, h.key_strength),
        ntm.content_addressing(h.key, h.memory, h.key_strength),
        atol=weights_atol(h.memory.dtype),
    )


@given(hst.ntm_head_inputs(), st.data())
def test_content_addressing_invariant_to_memory_row_scaling(
    h: hst.NTMHeadInputs, data: Any
) -> None:
    """§8.5.2: scaling each memory row by its own c_i > 0 leaves every cosine, hence w^c."""
    n = h.memory.shape[-2]
    factors = data.draw(hst.float_arrays(np.float64, (n,), magnitude=1.0))
    scales = (10.0 ** (3 * factors)).astype(h.memory.dtype)  # in [1e-3, 1e3]
    scaled = (h.memory * scales[:, None]).astype(h.memory.dtype)
    assert_close(
        ntm.content_addressing(h.key, scaled, h.key_strength),
        ntm.content_addressing(h.key, h.memory, h.key_strength),
        atol=weights_atol(h.memory.dtype),
    )


@given(hst.ntm_head_inputs(batched=False), st.integers(min_value=-7, max_value=7))
def test_content_addressing_rotation_equivariant(h: hst.NTMHeadInputs, offset: int) -> None:
    """§8.5.2: content addressing is location-free: rotating the memory's slots rotates w^c."""
    rotated = np.roll(h.memory, offset, axis=-2)
    assert_close(
        ntm.content_addressing(h.key, rotated, h.key_strength),
        np.roll(ntm.content_addressing(h.key, h.memory, h.key_strength), offset, axis=-1),
        atol=weights_atol(h.memory.dtype),
    )


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_content_addressing_large_strength_is_argmax(dtype: type[np.floating[Any]]) -> None:
    """§8.5.2: as β → ∞, w^c → one-hot on the slot of maximal cosine (β = 1e6: to rounding)."""
    memory = np.array([[1.0, 0.0], [0.8, 0.6], [-1.0, 0.0], [0.0, 0.0]], dtype=dtype)
    key = np.array([0.9, 0.5], dtype=dtype)
    weights = ntm.content_addressing(key, memory, 1e6)
    assert_close(weights, np.array([0.0, 1.0, 0.0, 0.0], dtype=dtype))
    assert np.all(np.isfinite(weights))


def test_content_addressing_ties_share_weight_in_the_limit() -> None:
    """§8.5.2: with two slots of equal maximal cosine, β = 1e6 splits the weight 1/2, 1/2
    (the limit needs a unique maximum, as spec.sharpen_limit shows for sharpening)."""
    memory = np.array([[1.0, 0.0], [2.0, 0.0], [0.0, 1.0]])
    weights = ntm.content_addressing(np.array([1.0, 0.0]), memory, 1e6)
    assert_close(weights, np.array([0.5, 0.5, 0.0]))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_content_addressing_zero_key_and_zero_rows(dtype: type[np.floating[Any]]) -> None:
    """Documented extreme: cos with a zero vector is 0, so a zero key gives uniform weights and a
    zero memory row scores like an orthogonal one."""
    memory = np.array([[1.0, 0.0], [0.0, 0.0], [0.0, 1.0]], dtype=dtype)
    uniform = ntm.content_addressing(np.zeros(2, dtype=dtype), memory, 5.0)
    assert_close(uniform, np.full(3, 1 / 3, dtype=dtype))
    weights = ntm.content_addressing(np.array([1.0, 0.0], dtype=dtype), memory, 2.0)
    expected = np.exp(np.array([2.0, 0.0, 0.0])) / np.exp(np.array([2.0, 0.0, 0.0])).sum()
    assert_close(weights, expected.astype(dtype))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_content_addressing_huge_and_tiny_entries(dtype: type[np.floating[Any]]) -> None:
    """Extreme: entries near the dtype's max or min normal do not overflow/underflow the norms."""
    big, small = float(np.finfo(dtype).max) / 4, float(np.finfo(dtype).tiny) * 4
    memory = np.array([[big, big], [small, 0.0]], dtype=dtype)
    weights = ntm.content_addressing(np.array([small, small], dtype=dtype), memory, 10.0)
    # cos = 1 for the first row, 1/√2 for the second
    logits = 10.0 * np.array([1.0, 1 / np.sqrt(2)])
    assert_close(weights, (np.exp(logits) / np.exp(logits).sum()).astype(dtype))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_addressing_single_slot_and_single_feature(dtype: type[np.floating[Any]]) -> None:
    """Extremes N = 1 (every stage gives [1]) and D = 1 (cos ∈ {−1, 0, 1})."""
    one = np.ones(1, dtype=dtype)
    w = ntm.address(
        np.array([2.0], dtype=dtype),
        np.array([[-3.0]], dtype=dtype),
        one,
        key_strength=3.0,
        gate=0.3,
        shift=np.array([0.2, 0.5, 0.3], dtype=dtype),
        sharpening=50.0,
    )
    assert_close(w, one)
    column = np.array([[2.0], [-1.0], [0.0]], dtype=dtype)
    assert_close(
        ntm.cosine_score(np.array([[5.0]], dtype=dtype), column),
        np.array([[1.0, -1.0, 0.0]], dtype=dtype),
    )


# --- location addressing --------------------------------------------------------------------


@given(hst.ntm_head_inputs())
def test_interpolate_endpoints(h: hst.NTMHeadInputs) -> None:
    """§8.5.2, eq. 7: g = 1 keeps the content weights, g = 0 the previous weights (exactly)."""
    content = ntm.content_addressing(h.key, h.memory, h.key_strength)
    batch = np.broadcast_shapes(content.shape, h.previous.shape)
    np.testing.assert_array_equal(
        ntm.interpolate(content, h.previous, 1.0), np.broadcast_to(content, batch)
    )
    np.testing.assert_array_equal(
        ntm.interpolate(content, h.previous, 0.0), np.broadcast_to(h.previous, batch)
    )


@given(hst.ntm_head_inputs())
def test_circular_shift_delta_is_identity(h: hst.NTMHeadInputs) -> None:
    """§8.5.2: convolution with δ_0 (all mass at offset 0) is the identity (spec residual 0)."""
    for radius in (0, 1, 2):
        delta = np.zeros(2 * radius + 1, dtype=h.previous.dtype)
        delta[radius] = 1
        assert_close(ntm.circular_shift(h.previous, delta), h.previous)


@given(hst.ntm_head_inputs(), st.integers(min_value=-2, max_value=2))
def test_circular_shift_one_hot_rotates(h: hst.NTMHeadInputs, offset: int) -> None:
    """§8.5.2: a one-hot shift at offset r moves the focus r slots forward, w̃(i) = w(i − r mod N)
    (spec.rotation_residual_symbolic derives it for symbolic N with r = +1)."""
    one_hot = np.zeros(5, dtype=h.previous.dtype)
    one_hot[2 + offset] = 1
    assert_close(ntm.circular_shift(h.previous, one_hot), np.roll(h.previous, offset, axis=-1))


def test_circular_shift_forward_direction() -> None:
    """§8.5.2: the layout [s(−1), s(0), s(+1)]: s = [0, 0, 1] moves weight from slot 0 to slot 1."""
    w = np.array([1.0, 0.0, 0.0, 0.0])
    assert_close(ntm.circular_shift(w, np.array([0.0, 0.0, 1.0])), np.array([0.0, 1.0, 0.0, 0.0]))
    assert_close(ntm.circular_shift(w, np.array([1.0, 0.0, 0.0])), np.array([0.0, 0.0, 0.0, 1.0]))


@given(hst.ntm_head_inputs())
def test_sharpen_gamma_one_is_identity(h: hst.NTMHeadInputs) -> None:
    """§8.5.2, eq. 9: γ = 1 returns the (normalised) weights (spec.sharpen_identity_residual)."""
    assert_close(ntm.sharpen(h.previous, 1.0), h.previous, atol=weights_atol(h.previous.dtype))


@given(hst.ntm_head_inputs(), st.floats(min_value=1.0, max_value=20.0))
def test_sharpen_concentrates_monotonically(h: hst.NTMHeadInputs, extra: float) -> None:
    """§8.5.2: raising γ never lowers the largest weight (w_max^γ/Σ w^γ = 1/Σ (w_j/w_max)^γ,
    and each ratio ≤ 1 shrinks as γ grows); slack 4·√eps for rounding."""
    low = ntm.sharpen(h.previous, h.sharpening)
    high = ntm.sharpen(h.previous, h.sharpening + extra)
    slack = weights_atol(h.previous.dtype)
    assert np.all(high.max(axis=-1) >= low.max(axis=-1) - slack)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_sharpen_large_gamma_tends_to_one_hot(dtype: type[np.floating[Any]]) -> None:
    """§8.5.2: γ → ∞ gives the one-hot on a unique maximum (spec.sharpen_limit); γ = 50 and
    γ = 1e6 stay finite (log space), and zero weights stay exactly 0."""
    w = np.array([0.2, 0.45, 0.35, 0.0], dtype=dtype)
    at_50 = ntm.sharpen(w, 50.0)
    assert_distribution(at_50, "γ = 50")
    assert at_50[3] == 0
    assert at_50[1] > 0.99999
    assert_close(ntm.sharpen(w, 1e6), np.array([0.0, 1.0, 0.0, 0.0], dtype=dtype))


# --- read and write -------------------------------------------------------------------------


@given(hst.ntm_head_inputs(), st.data())
def test_read_is_linear_in_memory(h: hst.NTMHeadInputs, data: Any) -> None:
    """§8.5.2, eq. 2: r = Σ_i w(i) M(i) is linear in M (spec.read_linearity_residual)."""
    other = data.draw(hst.float_arrays(h.memory.dtype, h.memory.shape, magnitude=3.0))
    x, y = 1.5, -0.5
    combined = (x * h.memory + y * other).astype(h.memory.dtype)
    expected = x * ntm.read(h.memory, h.previous) + y * ntm.read(other, h.previous)
    assert_close(
        ntm.read(combined, h.previous),
        expected.astype(h.memory.dtype),
        atol=summation_atol(h.memory, other),
    )


@given(hst.ntm_head_inputs(batched=False))
def test_read_matches_weighted_sum_loop(h: hst.NTMHeadInputs) -> None:
    """§8.5.2, eq. 2 by an explicit loop over slots."""
    expected = sum(
        (float(h.previous[n]) * h.memory[n].astype(float) for n in range(h.memory.shape[0])),
        np.zeros(h.memory.shape[1]),
    )
    assert_close(
        ntm.read(h.memory, h.previous),
        np.asarray(expected).astype(h.memory.dtype),
        atol=default_rtol(h.memory.dtype) * 3,
    )


@given(hst.ntm_head_inputs(), st.data())
def test_write_zero_weight_leaves_slot_and_unit_weight_full_erase_replaces(
    h: hst.NTMHeadInputs, data: Any
) -> None:
    """§8.5.2 (book form of eqs. 3–4): a slot with w = 0 is unchanged (exactly); a slot with
    w = 1 and e = 1 becomes a (exactly); spec.write_entry derives both."""
    dtype = h.memory.dtype
    n, d = h.memory.shape[-2:]
    weights = np.zeros(h.memory.shape[:-1], dtype=dtype)
    target = data.draw(st.integers(min_value=0, max_value=n - 1))
    weights[..., target] = 1
    add = data.draw(hst.float_arrays(dtype, (d,), magnitude=3.0))
    written = ntm.write(h.memory, weights, np.ones(d, dtype=dtype), add)
    np.testing.assert_array_equal(
        written[..., target, :], np.broadcast_to(add, (*written.shape[:-2], d))
    )
    others = [k for k in range(n) if k != target]
    np.testing.assert_array_equal(written[..., others, :], h.memory[..., others, :])


@given(hst.ntm_head_inputs(), st.data())
def test_write_changes_each_slot_in_proportion_to_its_weight(
    h: hst.NTMHeadInputs, data: Any
) -> None:
    """§8.5.2, exercise 8-5: with e = 0 slot i changes by w(i) a, every slot at once."""
    dtype = h.memory.dtype
    d = h.memory.shape[-1]
    add = data.draw(hst.float_arrays(dtype, (d,), magnitude=3.0))
    written = ntm.write(h.memory, h.previous, np.zeros(d, dtype=dtype), add)
    change = written - h.memory
    assert_close(
        change, (h.previous[..., :, None] * add).astype(dtype), atol=default_rtol(dtype) * 8
    )


@given(hst.ntm_head_inputs(batched=False), st.data())
def test_write_heads_order_of_heads_irrelevant(h: hst.NTMHeadInputs, data: Any) -> None:
    """§8.5.2 (paper §3.2): all erases then all adds, so permuting the heads changes nothing; one
    head of write_heads equals write."""
    dtype = h.memory.dtype
    n, d = h.memory.shape
    heads = data.draw(hst.sizes(3))
    weights = data.draw(hst.distribution_arrays(dtype, (heads, n)))
    erase = np.abs(data.draw(hst.float_arrays(dtype, (heads, d), magnitude=1.0)))
    add = data.draw(hst.float_arrays(dtype, (heads, d), magnitude=3.0))
    order = data.draw(hst.permutations_of(heads))
    assert_close(
        ntm.write_heads(h.memory, weights[order], erase[order], add[order]),
        ntm.write_heads(h.memory, weights, erase, add),
        atol=default_rtol(dtype) * 8,
    )
    assert_close(
        ntm.write_heads(h.memory, weights[:1], erase[:1], add[:1]),
        ntm.write(h.memory, weights[0], erase[0], add[0]),
    )


def test_write_heads_is_not_sequential_write() -> None:
    """§8.5.2: the paper's order differs from 'head 1 erases and adds, then head 2' — head 2's
    erase would wipe head 1's add (spec.write_heads_sequentially)."""
    memory = np.zeros((1, 1))
    weights, erase, add = np.ones((2, 1)), np.ones((2, 1)), np.array([[1.0], [2.0]])
    assert_close(ntm.write_heads(memory, weights, erase, add), np.array([[3.0]]))
    sequential = ntm.write(
        ntm.write(memory, weights[0], erase[0], add[0]), weights[1], erase[1], add[1]
    )
    assert_close(sequential, np.array([[2.0]]))


def test_spec_write_heads_is_the_papers_order_and_matches_impl() -> None:
    """§8.5.2 with H heads: spec.write_heads is M ∘ Π_h (1 − w_h e_h) + Σ_h w_h a_h entry by
    entry, one head reduces to spec.write, and impl.write_heads agrees on exact inputs."""
    n, d, heads = 3, 2, 2
    memory = spec.real_matrix("M", n, d)
    w = [spec.nonnegative_symbols(f"w{h}", n) for h in range(heads)]
    e = [spec.nonnegative_symbols(f"e{h}", d) for h in range(heads)]
    a = [[sympy.Symbol(f"a{h}_{k}", real=True) for k in range(d)] for h in range(heads)]
    one = spec.write_heads(memory, w[:1], e[:1], a[:1])
    assert sympy.expand(one - spec.write(memory, w[0], e[0], a[0])) == sympy.zeros(n, d)
    two = spec.write_heads(memory, w, e, a)
    entry = memory[1, 0] * (1 - w[0][1] * e[0][0]) * (1 - w[1][1] * e[1][0])
    assert sympy.expand(two[1, 0] - entry - w[0][1] * a[0][0] - w[1][1] * a[1][0]) == 0
    # Dyadic values: every product and sum below is exact in float64.
    M = np.array([[0.5, -1.0], [2.0, 0.25], [-0.75, 1.5]])
    W = np.array([[0.5, 0.25, 0.25], [0.0, 0.5, 0.5]])
    E = np.array([[1.0, 0.5], [0.25, 0.0]])
    A = np.array([[1.0, -2.0], [0.5, 0.125]])
    values: dict[Any, Any] = {
        memory[i, k]: sympy.Rational(M[i, k]) for i in range(n) for k in range(d)
    }
    for h in range(heads):
        values |= {w[h][i]: sympy.Rational(W[h, i]) for i in range(n)}
        values |= {e[h][k]: sympy.Rational(E[h, k]) for k in range(d)}
        values |= {a[h][k]: sympy.Rational(A[h, k]) for k in range(d)}
    expected = np.array(two.xreplace(values).tolist(), dtype=np.float64)
    np.testing.assert_array_equal(ntm.write_heads(M, W, E, A), expected)


def test_spec_read_is_linear_in_memory() -> None:
    """§8.5.2, eq. 2: spec.read_linearity_residual is the zero 1×D row for several (N, D)."""
    for size, width in ((1, 1), (2, 3), (4, 2)):
        assert spec.read_linearity_residual(size, width) == sympy.zeros(1, width)


@given(hst.ntm_head_inputs(), st.data())
def test_write_and_read_never_modify_arguments(h: hst.NTMHeadInputs, data: Any) -> None:
    """§8.5.2: read and write return new arrays; the memory argument stays as it was."""
    d = h.memory.shape[-1]
    memory = h.memory.copy()
    memory.flags.writeable = False
    erase = np.full(d, 0.5, dtype=memory.dtype)
    ntm.read(memory, h.previous)
    ntm.write(memory, h.previous, erase, np.ones(d, dtype=memory.dtype))
    np.testing.assert_array_equal(memory, h.memory)


# --- batching, dtypes -----------------------------------------------------------------------


@given(hst.ntm_head_inputs(), st.data())
def test_address_batch_consistency(h: hst.NTMHeadInputs, data: Any) -> None:
    """A batched address/write equals per-item calls (per-item β, g, γ arrays included)."""
    batch = np.broadcast_shapes(h.memory.shape[:-2], h.key.shape[:-1], h.previous.shape[:-1])
    dtype = h.memory.dtype
    betas = np.asarray(
        data.draw(
            st.lists(
                st.floats(0.1, 10.0), min_size=int(np.prod(batch)), max_size=int(np.prod(batch))
            )
        )
        or [1.0],
        dtype=dtype,
    ).reshape(batch)
    batched = ntm.address(
        h.key,
        h.memory,
        h.previous,
        key_strength=betas,
        gate=h.gate,
        shift=h.shift,
        sharpening=h.sharpening,
    )
    for index in np.ndindex(*batch):
        single = ntm.address(
            h.key[index],
            h.memory[index],
            h.previous[index],
            key_strength=float(betas[index]),
            gate=h.gate,
            shift=h.shift[index],
            sharpening=h.sharpening,
        )
        assert_close(batched[index], single, atol=weights_atol(dtype))
    erase = np.full(h.memory.shape[-1], 0.5, dtype=dtype)
    written = ntm.write(h.memory, batched, erase, h.key)
    for index in np.ndindex(*batch):
        assert_close(
            written[index], ntm.write(h.memory[index], batched[index], erase, h.key[index])
        )


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_dtype_preserved_and_mixing_rejected(dtype: type[np.floating[Any]]) -> None:
    """float32 in → float32 out (and float64); a float32 key with float64 memory is a TypeError."""
    memory = np.eye(3, dtype=dtype)
    prev = np.full(3, 1 / 3, dtype=dtype)
    shift = np.array([0.1, 0.8, 0.1], dtype=dtype)
    w = ntm.address(
        np.ones(3, dtype=dtype),
        memory,
        prev,
        key_strength=2.0,
        gate=0.5,
        shift=shift,
        sharpening=2.0,
    )
    assert w.dtype == dtype
    assert ntm.read(memory, w).dtype == dtype
    assert ntm.write(memory, w, np.ones(3, dtype=dtype), np.ones(3, dtype=dtype)).dtype == dtype
    other = np.float64 if dtype == np.float32 else np.float32
    with pytest.raises(TypeError, match="dtype"):
        ntm.content_addressing(np.ones(3, dtype=other), memory, 1.0)
    with pytest.raises(TypeError, match="dtype"):
        ntm.interpolate(w, prev.astype(other), 0.5)


# --- bad input ------------------------------------------------------------------------------


def test_bad_head_parameters_rejected() -> None:
    """β ≤ 0, g ∉ [0, 1], γ < 1, non-finite values, s not a distribution or of even length,
    e ∉ [0, 1]^D and mismatched shapes raise errors naming the argument."""
    memory = np.eye(3)
    key, prev = np.ones(3), np.full(3, 1 / 3)
    shift = np.array([0.0, 1.0, 0.0])
    good: dict[str, Any] = {"key_strength": 1.0, "gate": 0.5, "shift": shift, "sharpening": 1.0}
    bad: list[tuple[dict[str, Any], type[Exception], str]] = [
        ({"key_strength": 0.0}, ValueError, "key_strength must satisfy β > 0"),
        ({"key_strength": -1.0}, ValueError, "key_strength"),
        ({"key_strength": np.inf}, ValueError, "key_strength must be finite"),
        ({"gate": 1.5}, ValueError, "gate must satisfy 0 ≤ g ≤ 1"),
        ({"gate": -0.1}, ValueError, "gate"),
        ({"sharpening": 0.5}, ValueError, "sharpening must satisfy γ ≥ 1"),
        ({"shift": np.array([0.5, 0.6, 0.0])}, ValueError, "each row of shift must sum to 1"),
        ({"shift": np.array([-0.5, 1.5, 0.0])}, ValueError, "shift must be non-negative"),
        ({"shift": np.array([0.5, 0.5])}, ValueError, "odd length"),
        ({"gate": True}, TypeError, "gate must be a finite float, got bool"),
        ({"key_strength": "1"}, TypeError, "key_strength"),
    ]
    for change, error, message in bad:
        with pytest.raises(error, match=message):
            ntm.address(key, memory, prev, **{**good, **change})
    with pytest.raises(ValueError, match="each row of previous_weights must sum to 1"):
        ntm.address(key, memory, np.array([0.5, 0.5, 0.5]), **good)
    with pytest.raises(ValueError, match="previous_weights has 2 entries, memory has N = 3"):
        ntm.address(key, memory, np.array([0.5, 0.5]), **good)
    with pytest.raises(ValueError, match="key has 2 features, memory has width D = 3"):
        ntm.content_addressing(np.ones(2), memory, 1.0)
    with pytest.raises(ValueError, match="erase must lie in \\[0, 1\\]"):
        ntm.write(memory, prev, np.array([0.5, 1.5, 0.0]), np.ones(3))
    with pytest.raises(ValueError, match="weights must lie in \\[0, 1\\]"):
        ntm.write(memory, np.array([2.0, 0.0, 0.0]), np.ones(3), np.ones(3))
    with pytest.raises(ValueError, match="add has 2 features, memory has width D = 3"):
        ntm.write(memory, prev, np.ones(3), np.ones(2))
    with pytest.raises(ValueError, match="weights has 2 entries, memory has N = 3"):
        ntm.read(memory, np.array([0.5, 0.5]))
    with pytest.raises(ValueError, match="memory contains NaN"):
        ntm.read(np.full((3, 3), np.nan), prev)
    with pytest.raises(ValueError, match="memory must have N ≥ 1"):
        ntm.read(np.zeros((0, 3)), np.zeros(0))
    with pytest.raises(ValueError, match="gate has shape \\(3,\\), which does not broadcast"):
        ntm.interpolate(np.full((2, 3), 1 / 3), np.full((2, 3), 1 / 3), np.full(3, 0.5))
    with pytest.raises(ValueError, match=r"batch axes do not broadcast: key \(2,\), memory \(3,\)"):
        ntm.content_addressing(np.ones((2, 3)), np.ones((3, 4, 3)), 1.0)
    with pytest.raises(ValueError, match="sharpened"):
        ntm.sharpen(np.zeros(3), 2.0)
    # Every row needs a positive entry, not just the batch as a whole (a zero row is 0/0).
    with pytest.raises(ValueError, match="positive entry in every row"):
        ntm.sharpen(np.array([[0.5, 0.5, 0.0], [0.0, 0.0, 0.0]]), 2.0)
    # The erase vector's width is checked under its own name in write_heads too.
    with pytest.raises(ValueError, match=r"^erase has 2 features, memory has width D = 3$"):
        ntm.write_heads(memory, prev[None, :], np.ones((1, 2)), np.ones((1, 3)))
    with pytest.raises(ValueError, match=r"batch axes .*do not broadcast: .*weights \(3, 1, 3\)"):
        ntm.write_heads(
            np.ones((2, 3, 3)), np.full((3, 1, 3), 1 / 3), np.ones((1, 3)), np.ones((1, 3))
        )
    # A memory with D = 0 is refused whatever its batch axes; a batch axis of size 0 is fine.
    with pytest.raises(ValueError, match="memory must have N ≥ 1 slots of width D ≥ 1"):
        ntm.read(np.zeros((2, 3, 0)), np.full((2, 3), 1 / 3))
    assert ntm.read(np.zeros((1, 0, 3, 2)), np.full(3, 1 / 3)).shape == (1, 0, 2)


# --- controller -----------------------------------------------------------------------------


@given(hst.generators(), hst.sizes(4), hst.sizes(4), hst.batch_shapes)
def test_controller_heads_in_range_and_step_runs(
    rng: np.random.Generator, n: int, d: int, batch: tuple[int, ...]
) -> None:
    """The feed-forward controller's activations put every head parameter in its range
    (β > 0, g ∈ [0, 1], s a distribution, γ ≥ 1, e ∈ [0, 1]), so ntm_step accepts them."""
    controller = ntm.FeedForwardController.initialize(rng, input_size=3, memory_width=d)
    x = rng.normal(scale=5.0, size=(*batch, 3))
    head = controller.heads(x)
    assert np.all(head.key_strength > 0)
    assert np.all((head.gate >= 0) & (head.gate <= 1))
    assert np.all(head.sharpening >= 1)
    assert np.all((head.erase >= 0) & (head.erase <= 1))
    assert_distribution(head.shift, "shift")
    memory = rng.normal(size=(*batch, n, d))
    previous = np.full((*batch, n), 1 / n)
    result = ntm.ntm_step(memory, previous, previous, head, head)
    assert result.read_vector.shape == (*batch, d)
    assert result.memory.shape == (*batch, n, d)
    assert_close(result.read_vector, ntm.read(memory, result.read_weights))


# --- the strategies themselves --------------------------------------------------------------


@given(hst.ntm_head_inputs())
def test_ntm_head_inputs_strategy(h: hst.NTMHeadInputs) -> None:
    """Meta-test: distributions sum to 1 (4·√eps), shift has odd length, β > 0, g ∈ [0, 1], γ ≥ 1,
    one dtype, tied N and D."""
    assert_distribution(h.previous, "previous")
    assert_distribution(h.shift, "shift")
    assert h.shift.shape[-1] % 2 == 1
    assert h.key_strength > 0
    assert 0 <= h.gate <= 1
    assert h.sharpening >= 1
    assert h.memory.dtype == h.key.dtype == h.previous.dtype == h.shift.dtype
    assert h.previous.shape[-1] == h.memory.shape[-2]
    assert h.key.shape[-1] == h.memory.shape[-1]


# --- issue 7: check once at the edge, kernels below ------------------------------------------


def _step_inputs(dtype: Any = np.float64) -> tuple[Any, ...]:
    rng = np.random.default_rng(5)
    memory = rng.normal(size=(6, 4)).astype(dtype)
    previous = np.full(6, 1 / 6, dtype=dtype)

    def head(seed: int) -> ntm.HeadParameters:
        g = np.random.default_rng(seed)
        return ntm.HeadParameters(
            key=g.normal(size=4).astype(dtype),
            key_strength=np.asarray(3.0, dtype),
            gate=np.asarray(0.5, dtype),
            shift=np.array([0.25, 0.5, 0.25], dtype),
            sharpening=np.asarray(2.0, dtype),
            erase=np.full(4, 0.5, dtype),
            add=g.normal(size=4).astype(dtype),
        )

    return memory, previous, previous.copy(), head(1), head(2)


def test_ntm_step_batch_axes_are_checked_for_every_argument() -> None:
    """The read head's batch axes are checked with the others and named when they clash."""
    memory, previous, _, read_head, write_head = _step_inputs()
    stacked = ntm.HeadParameters(
        key=np.stack([read_head.key] * 3),
        key_strength=np.full(3, 3.0),
        gate=np.full(3, 0.5),
        shift=np.stack([read_head.shift] * 3),
        sharpening=np.full(3, 2.0),
        erase=np.stack([read_head.erase] * 3),
        add=np.stack([read_head.add] * 3),
    )
    two = np.stack([memory, memory])
    with pytest.raises(ValueError, match=r"^batch axes do not broadcast: .*read_head \(3,\)"):
        ntm.ntm_step(two, previous, previous, stacked, write_head)
    batched = ntm.ntm_step(memory, previous, previous, stacked, write_head)
    single = ntm.ntm_step(memory, previous, previous, read_head, write_head)
    assert batched.read_vector.shape == (3, 4)
    assert_close(batched.read_vector[2], single.read_vector)


def test_controller_bias_is_added() -> None:
    """z = W x + b: with W = 0 the head parameters are the activations of b alone."""
    d = 2
    rows = 3 * d + 3 + 3
    b = np.linspace(-1.0, 1.0, rows)
    controller = ntm.FeedForwardController(W=np.zeros((rows, 1)), b=b, memory_width=d)
    head = controller.heads(np.ones(1))
    assert_close(head.key, np.tanh(b[:d]))
    assert_close(head.gate, np.asarray(1 / (1 + np.exp(-b[d + 1]))))
    assert_close(head.add, np.tanh(b[-d:]))


def test_ntm_step_validates_the_memory_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue 7: one NTM step checks the memory once (it used to be scanned eight times:
    two addressings with their content, read and write each re-checking it); every other
    call into ``impl._validation`` is about a different argument."""
    import impl._validation as validation

    memory, *rest = _step_inputs()
    seen: list[str] = []
    for name, function in list(vars(validation).items()):
        if is_mutation_artifact(name):
            continue
        if callable(function) and not name.startswith("_") and not isinstance(function, type):

            def counting(*args: Any, _f: Any = function, _n: str = name, **kwargs: Any) -> Any:
                if any(a is memory for a in (*args, *kwargs.values())):
                    seen.append(_n)
                return _f(*args, **kwargs)

            monkeypatch.setattr(validation, name, counting)
    result = ntm.ntm_step(memory, *rest)
    assert seen == ["float_array"], f"the memory went through {seen}"
    assert result.memory.shape == memory.shape


def test_ntm_containers_and_results_are_read_only() -> None:
    """Issue 7, class 1: in-place edits of a head, a controller or a result raise; replace
    re-checks."""
    memory, previous, _, head, _ = _step_inputs()
    with pytest.raises(ValueError, match="read-only"):
        head.gate[...] = 2.0  # would make g > 1 unseen
    with pytest.raises(ValueError, match=r"gate must satisfy 0 ≤ g ≤ 1"):
        replace(head, gate=np.asarray(2.0))
    controller = ntm.FeedForwardController.initialize(
        np.random.default_rng(0), input_size=2, memory_width=4
    )
    with pytest.raises(ValueError, match="read-only"):
        controller.W[0, 0] = np.nan
    step = ntm.ntm_step(memory, previous, previous, head, head)
    with pytest.raises(ValueError, match="read-only"):
        step.memory[0, 0] = 0.0


def test_ntm_scalars_checked_in_the_memory_dtype() -> None:
    """Issue 7, classes 2 and 7: β = 1e39 overflows float32 and β = 1e-50 rounds to 0 there
    (both named); NumPy scalars are accepted like Python floats."""
    key = np.ones(3, np.float32)
    memory = np.eye(3, dtype=np.float32)
    with pytest.raises(ValueError, match="key_strength = 1e\\+39 overflows float32"):
        ntm.content_addressing(key, memory, 1e39)
    with pytest.raises(ValueError, match="key_strength must satisfy β > 0"):
        ntm.content_addressing(key, memory, 1e-50)
    assert_close(
        ntm.content_addressing(key, memory, np.float32(2.0)),
        ntm.content_addressing(key, memory, 2.0),
    )


def test_sharpen_any_finite_gamma_gives_a_distribution() -> None:
    """Issue 7, class 3: γ up to the dtype's maximum concentrates on the largest entries
    instead of underflowing every γ·log w to −inf (an all-zero row)."""
    # every log w < −1, so γ·log w overflows to −inf for all entries unless shifted first
    w = np.array([0.2, 0.3, 0.25, 0.25], np.float32)
    top = float(np.finfo(np.float32).max)
    np.testing.assert_array_equal(ntm.sharpen(w, top), [0.0, 1.0, 0.0, 0.0])  # exact one-hot
    tie = np.array([0.3, 0.3, 0.2, 0.2])
    np.testing.assert_array_equal(
        ntm.sharpen(tie, float(np.finfo(np.float64).max)), [0.5, 0.5, 0.0, 0.0]
    )


def test_long_shift_folds_onto_the_slots(monkeypatch: pytest.MonkeyPatch) -> None:
    """Offsets are taken mod N: a shift of length 2R + 1 > N equals its folded form
    (summed probabilities of offsets with the same residue), and runs min(S, N) rolls
    (issue 7, class 6: a long shift vector must not loop S times)."""
    rolls: list[int] = []
    real_roll = np.roll

    def counted_roll(*args: Any, **kwargs: Any) -> Any:
        rolls.append(1)
        return real_roll(*args, **kwargs)

    monkeypatch.setattr(np, "roll", counted_roll)
    ntm.circular_shift(np.full(4, 0.25), np.full(2001, 1 / 2001))
    assert len(rolls) == 4
    rng = np.random.default_rng(3)
    w = rng.dirichlet(np.ones(4))
    s = rng.dirichlet(np.ones(11))  # offsets −5..5 on N = 4 slots
    folded = np.zeros(7)  # offsets −3..3; residues r mod 4 → offset r ∈ {0, 1, 2, 3}
    for offset, p in zip(range(-5, 6), s, strict=True):
        folded[3 + offset % 4] += p
    assert_close(ntm.circular_shift(w, s), ntm.circular_shift(w, folded))


def test_ntm_zero_size_and_overflow_are_named() -> None:
    """Issue 7, classes 3 and 4: N = 0 or D = 0 memories and overflowing writes/reads are
    named errors; a batch of 0 gives empty results."""
    with pytest.raises(ValueError, match="memory must have N ≥ 1 slots"):
        ntm.read(np.zeros((0, 3)), np.zeros(0))
    with pytest.raises(ValueError, match="memory must have N ≥ 1 slots of width D ≥ 1"):
        ntm.content_addressing(np.zeros(0), np.zeros((3, 0)), 1.0)
    top = np.finfo(np.float64).max
    with pytest.raises(ValueError, match="memory and add is too large"):
        ntm.write(np.full((2, 2), top), np.array([1.0, 0.0]), np.zeros(2), np.full(2, top))
    with pytest.raises(ValueError, match="memory and weights is too large"):
        ntm.read(np.full((2, 2), top), np.array([2.0, 2.0]))
    # The single-head write names the safe range too.
    with pytest.raises(ValueError, match=r"; keep max \|memory\| \+ H · max \|add\| below"):
        ntm.write(np.full((2, 2), top), np.array([1.0, 0.0]), np.zeros(2), np.full(2, top))
    # Eight heads adding ±max: the pairwise sum over the heads meets ∞ − ∞ (NaN); still the
    # named error, with no RuntimeWarning first (warnings are errors here).
    add = np.array([top, top, -top, -top, 0.0, 0.0, 0.0, 0.0])[:, None]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(ValueError, match="memory and add is too large"):
            ntm.write_heads(np.zeros((1, 1)), np.ones((8, 1)), np.zeros((8, 1)), add)
    empty = ntm.content_addressing(np.ones((0, 3)), np.ones((0, 2, 3)), 1.0)
    assert empty.shape == (0, 2)
