"""Blocked (online-softmax) SDPA equals the plain SDPA; the merge's laws on random states.

Book: §8.3 (softmax(QKᵀ/√D) V); the blocking is the online softmax of
``spec.online_softmax`` (proof: ``python -m proofs online_softmax``).

Tolerance. Blocked and plain compute the same formula in different orders, in
the inputs' dtype. Each differs from the exact result by a rounding error that
``online_error_bound`` bounds (Higham's γ_n = nu/(1 − nu)): a score
s = scale·Σ_e q_e k_e (+ mask) is off by at most
Δ = γ_{E+2}·|scale|·Σ_e |q_e||k_e| + 2u(|s| + |mask|) (dot product, scale, the
max-shift and the mask's addition); exp turns that into a relative error
e^Δ − 1 of each weight, and the exponential itself, the merges' rescales (one
per key block) and the sum over S terms add γ_{S + blocks + 4}. If every weight
has relative error ≤ η, the normalised weights are off by ≤ 2η/(1 − η) of
themselves, so the output is off by ≤ (2η/(1 − η) + γ_{S+2})·max|v|. Two
computations differ by at most twice that. Safety factor 1: the bound is
already pessimistic (worst-case signs); ``test_online_error_bound_is_useful``
shows it still catches a merge that forgets to rescale ℓ.
"""

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from numpy.typing import NDArray

from impl import attention as attention_module
from impl import blocked_attention as blocked
from impl.attention import scaled_dot_product_attention, scaled_dot_product_attention_with_weights
from impl.blocked_attention import blocked_scaled_dot_product_attention
from impl.testing import strategies as nst
from impl.testing.tolerances import assert_close

FloatArray = NDArray[np.floating[Any]]


def gamma(n: int, dtype: np.dtype[Any]) -> float:
    """Higham's γ_n = n·u/(1 − n·u), u the unit roundoff of ``dtype``."""
    u = float(np.finfo(dtype).eps) / 2
    return n * u / (1 - n * u)


def score_error(q: FloatArray, k: FloatArray, scale: float) -> FloatArray:
    """Δ (…, L, S): bound on the rounding error of each computed score (module docstring)."""
    u = float(np.finfo(q.dtype).eps) / 2
    q64, k64 = q.astype(np.float64), k.astype(np.float64)
    magnitude = np.abs(q64) @ np.swapaxes(np.abs(k64), -1, -2) * abs(scale)  # Σ_e |q_e||k_e|
    scores = np.abs(q64 @ np.swapaxes(k64, -1, -2) * scale)
    delta: FloatArray = gamma(q.shape[-1] + 2, q.dtype) * magnitude + 2 * u * scores
    return delta


def weight_error(delta: FloatArray, keys: int, blocks: int, dtype: np.dtype[Any]) -> FloatArray:
    """η (…, L, 1): bound on each unnormalised weight's relative error, e^Δ(1 + γ_{S+blocks+4}) − 1
    (exp counted as 4 roundings: NumPy's exp is accurate to a few ulp)."""
    eta: FloatArray = (
        np.exp(delta.max(axis=-1, keepdims=True)) * (1 + gamma(keys + blocks + 4, dtype)) - 1
    )
    return eta


def output_error(eta: FloatArray, v: FloatArray, dtype: np.dtype[Any]) -> FloatArray:
    """(2η/(1 − η) + γ_{S+2})·max|v|: one computation's error in softmax(s)·V."""
    v_max = np.abs(v.astype(np.float64)).max(axis=(-2, -1), keepdims=True)
    bound: FloatArray = (2 * eta / (1 - eta) + gamma(v.shape[-2] + 2, dtype)) * v_max
    return bound


def online_error_bound(
    q: FloatArray, k: FloatArray, v: FloatArray, scale: float, key_block: int
) -> FloatArray:
    """Bound (…, L, 1) on |blocked − plain|: twice one computation's error (module docstring)."""
    keys = k.shape[-2]
    eta = weight_error(score_error(q, k, scale), keys, math.ceil(keys / key_block), q.dtype)
    return 2 * output_error(eta, v, q.dtype)


@st.composite
def blocked_cases(draw: st.DrawFn) -> dict[str, Any]:
    """Attention inputs, a mask kind (none/bool/float/causal), block sizes 1..9 and workers."""
    inputs = draw(nst.attention_inputs(max_len=9, magnitude=3.0))
    q, k = inputs.query, inputs.key
    length, keys = q.shape[-2], k.shape[-2]
    kind = draw(st.sampled_from(["none", "bool", "float", "causal"]))
    mask: Any = None
    if kind in ("bool", "float"):
        allowed = draw(nst.bool_arrays((length, keys)))
        if draw(st.booleans()):  # a fully masked query row, on purpose
            allowed[draw(st.integers(0, length - 1))] = False
        mask = allowed if kind == "bool" else np.where(allowed, 0.0, -np.inf).astype(q.dtype)
    return {
        "inputs": inputs,
        "mask": mask,
        "causal": kind == "causal",
        "scale": draw(st.none() | st.floats(0.1, 2.0)),
        "query_block": draw(st.integers(1, 9)),
        "key_block": draw(st.integers(1, 9)),
        "workers": draw(st.sampled_from([1, 2])),
    }


def _plain(case: dict[str, Any]) -> FloatArray:
    inputs = case["inputs"]
    output, _ = scaled_dot_product_attention_with_weights(
        inputs.query,
        inputs.key,
        inputs.value,
        case["mask"],
        scale=case["scale"],
        is_causal=case["causal"],
    )
    return output


def _scale(case: dict[str, Any]) -> float:
    scale: float | None = case["scale"]
    return 1 / math.sqrt(case["inputs"].query.shape[-1]) if scale is None else scale


@given(blocked_cases())
def test_blocked_attention_equals_plain(case: dict[str, Any]) -> None:
    """§8.3: the blocked SDPA equals softmax(QKᵀ·scale + mask) V for any block sizes
    (1, non-divisors of L and S), masks, causal with L ≠ S, fully masked rows, both dtypes."""
    inputs = case["inputs"]
    q, k, v = inputs.query, inputs.key, inputs.value
    ours = blocked_scaled_dot_product_attention(
        q,
        k,
        v,
        case["mask"],
        scale=case["scale"],
        is_causal=case["causal"],
        query_block=case["query_block"],
        key_block=case["key_block"],
        workers=case["workers"],
    )
    plain = _plain(case)
    assert ours.shape == plain.shape
    assert ours.dtype == plain.dtype
    bound = online_error_bound(q, k, v, _scale(case), case["key_block"])
    difference = np.abs(ours.astype(np.float64) - plain.astype(np.float64))
    assert (difference <= bound).all(), f"max excess {(difference - bound).max()}"


@given(blocked_cases())
def test_blocked_attention_log_sum_exp(case: dict[str, Any]) -> None:
    """return_lse gives log Σ_j exp(s_j) over the allowed keys (float64 reference); −∞ for a
    query with no allowed key. Tolerance: |Δ lse| ≤ max Δ + γ_{S+blocks+4} (module docstring)."""
    inputs = case["inputs"]
    q, k, v = inputs.query, inputs.key, inputs.value
    _, lse = blocked_scaled_dot_product_attention(
        q,
        k,
        v,
        case["mask"],
        scale=case["scale"],
        is_causal=case["causal"],
        query_block=case["query_block"],
        key_block=case["key_block"],
        return_lse=True,
    )
    scale = _scale(case)
    scores = q.astype(np.float64) @ np.swapaxes(k.astype(np.float64), -1, -2) * scale
    length, keys = q.shape[-2], k.shape[-2]
    allowed = np.ones((length, keys), dtype=bool)
    if case["causal"]:
        allowed = np.tri(length, keys, dtype=bool)
    elif case["mask"] is not None:
        allowed = np.isfinite(case["mask"]) if case["mask"].dtype != bool else case["mask"]
    scores = np.where(allowed, scores, -np.inf)
    top = np.max(scores, axis=-1, keepdims=True)
    safe = np.where(np.isfinite(top), top, 0)
    with np.errstate(divide="ignore"):
        expected = (np.log(np.exp(scores - safe).sum(axis=-1)) + safe[..., 0]).astype(q.dtype)
    assert lse.shape == scores.shape[:-1]
    assert lse.dtype == q.dtype
    assert (np.isneginf(lse) == np.isneginf(expected)).all()
    finite = np.isfinite(expected)
    # |Δ lse| ≤ max Δ (scores) + γ_{S+blocks+4} (ℓ's relative error, through log) + the
    # rounding of m + log ℓ and of the reference to the dtype, u each of |lse| + 1.
    blocks = math.ceil(keys / case["key_block"])
    u = float(np.finfo(q.dtype).eps) / 2
    bound = (
        score_error(q, k, scale).max(axis=-1)
        + gamma(keys + blocks + 4, q.dtype)
        + 2 * u * (np.abs(expected.astype(np.float64)) + 1)
    )
    assert (np.abs(lse[finite] - expected[finite]) <= bound[finite]).all()


def test_blocked_attention_fully_masked_rows_give_zero() -> None:
    """A query with no allowed key: output 0 and log-sum-exp −∞ (the plain SDPA's convention),
    never NaN — in a first, middle or last key block, bool and float masks."""
    rng = np.random.default_rng(0)
    q, k, v = (rng.normal(size=(5, n, 3)) for n in (4, 7, 7))
    mask = np.ones((4, 7), dtype=bool)
    mask[1] = False
    mask[2, :3] = False  # the first key blocks (size 2) of row 2 are fully masked
    for m in (mask, np.where(mask, 0.0, -np.inf)):
        out, lse = blocked_scaled_dot_product_attention(q, k, v, m, key_block=2, return_lse=True)
        assert (out[:, 1] == 0).all()
        assert np.isneginf(lse[:, 1]).all()
        assert np.isfinite(out).all()
        assert_close(out, scaled_dot_product_attention_with_weights(q, k, v, m)[0])


@pytest.mark.parametrize(("length", "keys"), [(3, 7), (7, 3), (5, 5), (1, 4)])
@pytest.mark.parametrize("block", [1, 2, 3])
def test_blocked_attention_causal_diagonal(length: int, keys: int, block: int) -> None:
    """Top-left causal with L ≠ S: query i sees exactly keys j ≤ i. One-hot values make each
    output the weight vector itself, so a key seen too few or too many shows as a nonzero
    weight where the causal mask forbids it (or a missing one where it allows)."""
    rng = np.random.default_rng(1)
    q = rng.normal(size=(length, 4))
    k = rng.normal(size=(keys, 4))
    weights = blocked_scaled_dot_product_attention(
        q, k, np.eye(keys), is_causal=True, query_block=block, key_block=block
    )
    allowed = np.tri(length, keys, dtype=bool)
    assert (weights[~allowed] == 0).all()
    assert (weights[allowed] > 0).all()
    assert_close(weights.sum(axis=-1), np.ones(length))


@pytest.mark.parametrize(("block", "computed"), [(1, 10), (2, 3), (3, 3)])
def test_blocked_causal_skips_key_blocks_above_the_diagonal(
    block: int, computed: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Documented: causal key blocks wholly above the diagonal are never computed. L = S = 4:
    query block [a, b] folds the key blocks up to key b only, so block 1 computes
    1 + 2 + 3 + 4 = 10 of the 16 score blocks, block 2 computes 1 + 2 and block 3 computes
    1 + 2 (rows 0-2 see keys 0-2; row 3 sees keys 0-3)."""
    calls: list[int] = []
    state = blocked._block_state

    def spy(scores: FloatArray, values: FloatArray, m: FloatArray | None = None) -> blocked.State:
        calls.append(scores.shape[-1])
        return state(scores, values, m)

    monkeypatch.setattr(blocked, "_block_state", spy)
    x = np.random.default_rng(2).normal(size=(4, 3))
    blocked_scaled_dot_product_attention(
        x, x, x, is_causal=True, query_block=block, key_block=block, workers=1
    )
    assert len(calls) == computed


def test_automatic_choice_is_invisible(monkeypatch: pytest.MonkeyPatch) -> None:
    """scaled_dot_product_attention gives the plain result (within the derived bound), dtype and
    shape whichever kernel it picks, and the blocked one is picked above the threshold."""
    rng = np.random.default_rng(2)
    calls: list[int] = []
    original = blocked._blocked_kernel

    def spy(*args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        return original(*args, **kwargs)

    monkeypatch.setattr(blocked, "_blocked_kernel", spy)
    for dtype in (np.float32, np.float64):
        arrays: list[FloatArray] = [
            rng.normal(size=(2, 3, n, 8)).astype(dtype) for n in (9, 11, 11)
        ]
        q, k, v = arrays
        mask = rng.random((9, 11)) < 0.7
        for kwargs in ({}, {"is_causal": True}, {"mask": mask}, {"scale": 0.3}):
            plain, _ = scaled_dot_product_attention_with_weights(q, k, v, **kwargs)
            monkeypatch.setattr(blocked, "BLOCKED_THRESHOLD", 1)
            chosen = scaled_dot_product_attention(q, k, v, **kwargs)
            assert chosen.dtype == plain.dtype
            assert chosen.shape == plain.shape
            scale = kwargs.get("scale", 1 / math.sqrt(8))
            bound = online_error_bound(q, k, v, float(scale), blocked.DEFAULT_KEY_BLOCK)
            assert (np.abs(chosen - plain) <= bound).all()
            monkeypatch.setattr(blocked, "BLOCKED_THRESHOLD", 10**9)
            assert (scaled_dot_product_attention(q, k, v, **kwargs) == plain).all()
    assert len(calls) == 8  # the blocked kernel ran exactly for the 8 low-threshold calls
    assert attention_module.scaled_dot_product_attention is scaled_dot_product_attention


@pytest.mark.parametrize(
    ("arguments", "error", "match"),
    [
        ({"key": np.zeros((5, 3), dtype=np.float32)}, TypeError, "share one float dtype"),
        ({"key": np.zeros((5, 2))}, ValueError, "key has 2 features, query has 3"),
        ({"value": np.zeros((4, 3))}, ValueError, "key has 5 vectors, value has 4"),
        ({"mask": np.ones((4, 5), dtype=bool), "is_causal": True}, ValueError, "not both"),
        ({"mask": np.ones((4, 5), dtype=np.int64)}, TypeError, "mask must have dtype bool"),
        ({"mask": np.full((4, 5), np.inf)}, ValueError, r"contains \+inf"),
        ({"mask": np.ones((3, 5), dtype=bool)}, ValueError, "does not broadcast"),
        ({"scale": math.nan}, ValueError, "scale must be finite"),
        ({"query": np.full((4, 3), np.nan)}, ValueError, "query contains NaN"),
    ],
)
def test_blocked_attention_bad_input_names_the_argument(
    arguments: dict[str, Any], error: type[Exception], match: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The blocked kernel's edge raises what the plain SDPA raises, so the dispatch is invisible
    for bad input too (checked through scaled_dot_product_attention with threshold 1)."""
    values: dict[str, Any] = {"query": np.zeros((4, 3)), "key": np.zeros((5, 3))}
    values["value"] = np.zeros((5, 2))
    values.update(arguments)
    call: Callable[..., Any] = blocked_scaled_dot_product_attention
    with pytest.raises(error, match=match):
        call(**values)
    monkeypatch.setattr(blocked, "BLOCKED_THRESHOLD", 1)
    with pytest.raises(error, match=match):
        scaled_dot_product_attention(**values)


def test_blocked_attention_block_arguments_checked() -> None:
    """query_block, key_block, workers must be positive ints; is_causal a bool."""
    x = np.zeros((2, 2))
    with pytest.raises(ValueError, match="key_block must be positive"):
        blocked_scaled_dot_product_attention(x, x, x, key_block=0)
    with pytest.raises(TypeError, match="query_block must be an int"):
        blocked_scaled_dot_product_attention(x, x, x, query_block=2.0)  # type: ignore[call-overload]
    with pytest.raises(TypeError, match="is_causal must be a bool"):
        blocked_scaled_dot_product_attention(x, x, x, is_causal=1)  # type: ignore[call-overload]
    with pytest.raises(ValueError, match="workers must be positive"):
        blocked_scaled_dot_product_attention(x, x, x, workers=0)


def test_blocked_attention_score_overflow_is_named() -> None:
    """Scores that overflow the dtype raise a ValueError naming query and key, not NaN."""
    big = np.full((2, 4), 1e20, dtype=np.float32)
    with pytest.raises(ValueError, match="query·key·scale overflows float32"):
        blocked_scaled_dot_product_attention(big, big, big)


def test_blocked_attention_score_overflow_to_minus_inf_is_not_a_mask() -> None:
    """A score that overflows to −inf is an error, not a silently masked key (found by the
    adversarial harness: the row's other keys got all the weight)."""
    query = np.array([[3e19, 1.0]], dtype=np.float32)
    key = np.array([[-3e19, 0.0], [0.0, 1.0]], dtype=np.float32)  # q·k₀·scale ≈ −6e38
    with pytest.raises(ValueError, match="query·key·scale overflows float32"):
        blocked_scaled_dot_product_attention(query, key, key)


def test_worker_count_never_oversubscribes(monkeypatch: pytest.MonkeyPatch) -> None:
    """Workers = min(BLAS budget or request, usable cores, tasks), at least 1."""
    monkeypatch.setattr(blocked, "_blas_thread_budget", lambda: 4)
    monkeypatch.setattr(blocked, "_usable_cores", lambda: 2)
    assert blocked._worker_count(None, 100) == 2
    assert blocked._worker_count(None, 1) == 1
    assert blocked._worker_count(8, 100) == 2
    monkeypatch.setattr(blocked, "_blas_thread_budget", lambda: 1)
    assert blocked._worker_count(None, 100) == 1


# ---------------------------------------------------------------------------
# The merge's laws on random states (impl._merge; spec twin: spec.online_softmax)
# ---------------------------------------------------------------------------


@st.composite
def states(draw: st.DrawFn, count: int) -> list[blocked.State]:
    """``count`` random float64 states (m, ℓ, o) over 3 rows × 2 value columns, built as the
    block states of random scores (so ℓ ≥ 1 where m is finite); some rows are the identity."""
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    result = []
    for _ in range(count):
        size = draw(st.integers(1, 4))
        scores = rng.normal(scale=5.0, size=(3, size))
        scores[rng.random(3) < 0.25] = -np.inf  # a fully masked row: the identity state
        result.append(blocked._block_state(scores, rng.normal(size=(size, 2))))
    return result


def _assert_states_close(
    a: blocked.State, b: blocked.State, rtol: float, o_scale: FloatArray | None = None
) -> None:
    """Maxima equal exactly; ℓ (a sum of positive terms) within ``rtol`` relative; o within
    ``rtol``·``o_scale``, the same sums of |terms| (o's terms have both signs and may cancel,
    so its rounding error is bounded relative to Σ|terms|, not to |o|)."""
    assert (a[0] == b[0]).all()  # the maxima are exact (max is exact in floating point)
    np.testing.assert_allclose(a[1], b[1], rtol=rtol, atol=0)
    scale = np.abs(a[2]) if o_scale is None else o_scale
    assert (np.abs(a[2] - b[2]) <= rtol * scale).all()


def _magnitudes(state: blocked.State) -> blocked.State:
    """The state with |o|: merging such states gives Σ|terms| for o's error bound."""
    return state[0], state[1], np.abs(state[2])


# Associativity: each side rounds every ℓ, o entry through at most 2 rescales, 2 products and
# one sum per merge, and exp's own error (NumPy's is < 4 ulp): 2·γ_10 covers both sides.
MERGE_RTOL = 2 * gamma(10, np.dtype(np.float64)) * 4


@given(states(3))
def test_merge_is_associative(three: list[blocked.State]) -> None:
    """(a ⊕ b) ⊕ c = a ⊕ (b ⊕ c) up to rounding (spec.online_softmax: exact)."""
    a, b, c = three
    left = blocked._merge(blocked._merge(a, b), c)
    right = blocked._merge(a, blocked._merge(b, c))
    sizes = blocked._merge(blocked._merge(*map(_magnitudes, (a, b))), _magnitudes(c))[2]
    _assert_states_close(left, right, MERGE_RTOL, sizes)


@given(states(2))
def test_merge_is_commutative_exactly(two: list[blocked.State]) -> None:
    """a ⊕ b = b ⊕ a bit for bit (max and + commute in floating point)."""
    a, b = two
    _assert_states_close(blocked._merge(a, b), blocked._merge(b, a), rtol=0)


@given(states(1))
def test_merge_identity_exactly(one: list[blocked.State]) -> None:
    """(−∞, 0, 0) ⊕ a = a ⊕ (−∞, 0, 0) = a bit for bit (e^0 = 1, 0·e^{−∞} = 0)."""
    (a,) = one
    identity = blocked._identity_state((3,), 2, np.dtype(np.float64))
    _assert_states_close(blocked._merge(identity, a), a, rtol=0)
    _assert_states_close(blocked._merge(a, identity), a, rtol=0)


@given(st.integers(0, 2**32 - 1), st.integers(1, 12))
def test_fold_of_any_partition_is_softmax_times_values(seed: int, keys: int) -> None:
    """Folding the block states of any partition of the keys (random cut points) gives
    softmax(s)·V and log Σ exp s (float64; bound: module docstring, Δ = 0 for exact scores)."""
    rng = np.random.default_rng(seed)
    scores = rng.normal(scale=4.0, size=(3, keys))
    values = rng.normal(size=(keys, 2))
    cuts = np.sort(rng.choice(np.arange(1, keys), size=rng.integers(0, keys), replace=False))
    state = blocked._identity_state((3,), 2, np.dtype(np.float64))
    for part_s, part_v in zip(
        np.split(scores, cuts, axis=-1), np.split(values, cuts, axis=0), strict=True
    ):
        state = blocked._merge(state, blocked._block_state(part_s.copy(), part_v))
    out, lse = blocked._finish(state)
    weights = np.exp(scores - scores.max(axis=-1, keepdims=True))
    weights /= weights.sum(axis=-1, keepdims=True)
    dtype = np.dtype(np.float64)
    eta = weight_error(np.zeros((3, 1)), keys, len(cuts) + 1, dtype)  # Δ = 0: exact scores
    bound = 2 * output_error(eta, values, dtype)  # ours and the reference formula
    assert (np.abs(out - weights @ values) <= bound).all()
    expected_lse = np.logaddexp.reduce(scores, axis=-1)  # NumPy's own, pairwise log-add-exp
    # Each side: ≤ S + blocks + 6 roundings of numbers of size ≤ |lse| + 1 (shift, exp, sums).
    bound_lse = 2 * gamma(keys + len(cuts) + 6, dtype) * (np.abs(expected_lse) + 1)
    assert (np.abs(lse - expected_lse) <= bound_lse).all()


@pytest.mark.parametrize(
    ("q_shape", "k_shape"),
    [((0, 3), (4, 3)), ((2, 3), (0, 3)), ((0, 2, 3), (0, 4, 3)), ((2, 0, 3), (2, 4, 3))],
)
def test_blocked_attention_zero_size_axes(
    q_shape: tuple[int, ...], k_shape: tuple[int, ...]
) -> None:
    """L = 0, S = 0 or a batch of 0: the blocked edge refuses exactly what the plain SDPA
    refuses (it runs the plain edge's checks), a ValueError naming the argument."""
    q, k = np.ones(q_shape), np.ones(k_shape)
    v = np.ones((*k_shape[:-1], 2))
    with pytest.raises(ValueError, match="zero-size axis") as blocked_error:
        blocked_scaled_dot_product_attention(q, k, v, return_lse=True)
    with pytest.raises(ValueError, match="zero-size axis") as plain_error:
        scaled_dot_product_attention_with_weights(q, k, v)
    assert str(blocked_error.value) == str(plain_error.value)


def test_blocked_attention_zero_features_refused() -> None:
    """E = 0 features: a named error from both edges (the plain SDPA's own check)."""
    q, k, v = np.ones((2, 0)), np.ones((3, 0)), np.arange(6.0).reshape(3, 2)
    for scale in (None, 1.0):
        with pytest.raises(ValueError, match="query must not have a zero-size axis"):
            blocked_scaled_dot_product_attention(q, k, v, scale=scale)


def test_online_error_bound_is_useful(monkeypatch: pytest.MonkeyPatch) -> None:
    """The derived bound is tight enough to see a real bug: with a merge that sums ℓ without
    rescaling it, the blocked output leaves the bound on an ordinary input (float32 and
    float64), while the correct merge stays inside it."""
    rng = np.random.default_rng(3)
    right_merge = blocked._merge

    def wrong_merge(a: blocked.State, b: blocked.State) -> blocked.State:
        top, _, o = right_merge(a, b)
        return top, a[1] + b[1], o  # ℓ + ℓ′: the rescaling of ℓ forgotten

    for dtype in (np.float32, np.float64):
        arrays: list[FloatArray] = [rng.normal(size=(2, 16, 8)).astype(dtype) for _ in range(3)]
        q, k, v = arrays
        plain, _ = scaled_dot_product_attention_with_weights(q, k, v)
        bound = online_error_bound(q, k, v, 1 / math.sqrt(8), key_block=4)
        good = blocked_scaled_dot_product_attention(q, k, v, key_block=4)
        assert (np.abs(good - plain) <= bound).all()
        monkeypatch.setattr(blocked, "_merge", wrong_merge)
        bad = blocked_scaled_dot_product_attention(q, k, v, key_block=4)
        monkeypatch.undo()
        assert (np.abs(bad - plain) > bound).any()
