"""Properties of impl.attention (§8.2 soft/hard/key-value attention, §8.3 SDPA)."""

import math
import warnings
from functools import partial
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from numpy.typing import NDArray

from impl.attention import (
    NO_INDEX,
    attention_distribution,
    causal_mask,
    hard_attention_argmax,
    hard_attention_sample,
    key_value_attention,
    sample_attention_index,
    scaled_dot_product_attention,
    scaled_dot_product_attention_with_weights,
    soft_attention,
)
from impl.scores import (
    AdditiveScoreParameters,
    BilinearScoreParameters,
    dot_product_score,
    scaled_dot_product_score,
)
from impl.softmax import softmax
from impl.testing import strategies as nst
from impl.testing.tolerances import assert_close, default_rtol, eps

FloatArray = NDArray[np.floating[Any]]


def _output_atol(inputs: nst.AttentionInputs) -> float:
    """Absolute tolerance for Σ_n α_n v_n: N products of |v| ≤ magnitude, each rounded."""
    n = int(inputs.key.shape[-2])
    return 4 * n * nst.DEFAULT_MAGNITUDE * eps(inputs.dtype)


@given(nst.attention_inputs())
def test_attention_distribution_rows_sum_to_one(inputs: nst.AttentionInputs) -> None:
    """§8.2: α over the N inputs is a distribution for every query."""
    alpha = attention_distribution(inputs.query, inputs.key)
    assert alpha.shape == (*inputs.query.shape[:-1], inputs.key.shape[-2])
    assert alpha.dtype == inputs.dtype
    assert (alpha >= 0).all()
    atol = inputs.key.shape[-2] * eps(inputs.dtype)
    np.testing.assert_allclose(alpha.sum(axis=-1), 1.0, rtol=0, atol=atol)


@given(nst.attention_inputs())
def test_soft_attention_is_convex_combination(inputs: nst.AttentionInputs) -> None:
    """att(X, q) = Σ α_n x_n lies in the coordinate-wise hull of the inputs."""
    out = soft_attention(inputs.query, inputs.key)
    slack = _output_atol(inputs)
    assert (out <= inputs.key.max(axis=-2, keepdims=True) + slack).all()
    assert (out >= inputs.key.min(axis=-2, keepdims=True) - slack).all()


@given(nst.attention_inputs(), st.data())
def test_key_value_attention_memory_permutation_invariance(
    inputs: nst.AttentionInputs, data: st.DataObject
) -> None:
    """Permuting the (key, value) pairs together leaves the output unchanged (a set memory)."""
    perm = data.draw(nst.permutations_of(inputs.key.shape[-2]))
    out = key_value_attention(inputs.query, inputs.key, inputs.value)
    permuted = key_value_attention(
        inputs.query, inputs.key[..., perm, :], inputs.value[..., perm, :]
    )
    assert_close(permuted, out, atol=_output_atol(inputs))


@given(nst.attention_inputs(), st.data())
def test_key_value_attention_query_permutation_equivariance(
    inputs: nst.AttentionInputs, data: st.DataObject
) -> None:
    """Permuting the queries permutes the outputs (each query attends independently)."""
    perm = data.draw(nst.permutations_of(inputs.query.shape[-2]))
    out = key_value_attention(inputs.query, inputs.key, inputs.value)
    permuted = key_value_attention(inputs.query[..., perm, :], inputs.key, inputs.value)
    # BLAS may block permuted rows differently: allow rounding, not exact equality.
    assert_close(permuted, out[..., perm, :], atol=_output_atol(inputs))


@given(nst.attention_inputs(), st.data())
def test_key_value_attention_masked_values_are_ignored(
    inputs: nst.AttentionInputs, data: st.DataObject
) -> None:
    """Changing the value at a masked position does not change the output."""
    shape = (*inputs.query.shape[:-1], inputs.key.shape[-2])
    mask = data.draw(nst.bool_arrays(shape[-2:]))
    garbage = data.draw(nst.float_arrays(inputs.dtype, inputs.value.shape))
    column_masked = np.asarray(~mask.any(axis=-2))  # keys no query may see
    altered = np.where(column_masked[:, None], garbage, inputs.value).astype(inputs.dtype)
    out = key_value_attention(inputs.query, inputs.key, inputs.value, mask=mask)
    assert_close(key_value_attention(inputs.query, inputs.key, altered, mask=mask), out, rtol=0)
    fully_masked = ~mask.any(axis=-1)
    assert (out[..., fully_masked, :] == 0).all()


@given(nst.attention_inputs())
def test_soft_attention_equals_key_value_with_keys_as_values(inputs: nst.AttentionInputs) -> None:
    """§8.2.1: soft attention is key-value attention with K = V = X."""
    assert_close(
        soft_attention(inputs.query, inputs.key),
        key_value_attention(inputs.query, inputs.key, inputs.key),
        rtol=0,
    )


@given(nst.attention_inputs())
def test_attention_batch_consistency(inputs: nst.AttentionInputs) -> None:
    """A batched call equals the per-item calls (array-api-tests' stacking check)."""
    q, k, v = inputs.query, inputs.key, inputs.value
    batch = q.shape[:-2]
    out = key_value_attention(q, k, v)
    for index in np.ndindex(*batch):
        # A single item uses a different BLAS path than the batch: allow rounding.
        assert_close(
            key_value_attention(q[index], k[index], v[index]), out[index], atol=_output_atol(inputs)
        )


@given(nst.attention_inputs(), st.sampled_from(["dot", "scaled", "additive", "bilinear"]))
def test_attention_with_every_score_function(inputs: nst.AttentionInputs, name: str) -> None:
    """Each of §8.2's four score functions yields a distribution of shape (..., L, N)."""
    rng = np.random.default_rng(0)
    d_k, d_q = inputs.key.shape[-1], inputs.query.shape[-1]
    dtype = inputs.dtype.type
    score = {
        "dot": dot_product_score,
        "scaled": scaled_dot_product_score,
        "additive": AdditiveScoreParameters.initialize(
            rng, key_dim=d_k, query_dim=d_q, hidden_dim=3, dtype=dtype
        ).score_function(),
        "bilinear": BilinearScoreParameters.initialize(
            rng, key_dim=d_k, query_dim=d_q, dtype=dtype
        ).score_function(),
    }[name]
    alpha = attention_distribution(inputs.query, inputs.key, score=score)
    assert alpha.dtype == inputs.dtype
    np.testing.assert_allclose(alpha.sum(-1), 1.0, atol=inputs.key.shape[-2] * eps(inputs.dtype))


@given(nst.attention_inputs())
def test_bilinear_identity_equals_dot_product(inputs: nst.AttentionInputs) -> None:
    """§8.2: the bilinear score with W = I is the dot-product score."""
    d = inputs.key.shape[-1]
    identity = BilinearScoreParameters(np.eye(d, dtype=inputs.dtype))
    assert_close(
        attention_distribution(inputs.query, inputs.key, score=identity.score_function()),
        attention_distribution(inputs.query, inputs.key, score=dot_product_score),
        rtol=default_rtol(inputs.dtype),
        atol=eps(inputs.dtype),
    )


# --- hard attention ------------------------------------------------------------------------


@given(nst.attention_inputs())
def test_hard_attention_argmax_picks_the_most_probable_input(inputs: nst.AttentionInputs) -> None:
    """§8.2.1 (1): n̂ = argmax α_n and att = x_n̂."""
    out, index = hard_attention_argmax(inputs.query, inputs.key)
    alpha = attention_distribution(inputs.query, inputs.key)
    picked = np.take_along_axis(alpha, index[..., None], axis=-1)[..., 0]
    assert (picked == alpha.max(axis=-1)).all()
    expected = np.take_along_axis(
        np.broadcast_to(inputs.key, (*index.shape[:-1], *inputs.key.shape[-2:])),
        index[..., None],
        axis=-2,
    )
    assert_close(out, expected, rtol=0)


# Statistical test of z ∼ α: with n draws, each empirical frequency f_n has SD
# sqrt(α_n(1 − α_n)/n) ≤ 0.5/sqrt(n). A 5-SD bound has two-sided false-alarm
# rate 5.7e-7 per component; over ≤ 8 components and the cases below the
# family-wise rate stays below 1e-5. The seed is fixed, so the test is reproducible.
SAMPLES = 200_000
SD_BOUND = 5.0


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_hard_attention_sample_frequencies_match_alpha(seed: int) -> None:
    """§8.2.1 (2): sampled indices z ∼ α have empirical frequencies ≈ α."""
    rng = np.random.default_rng(seed)
    logits = rng.normal(0, 2, size=8)
    alpha = softmax(logits)
    z = sample_attention_index(np.broadcast_to(alpha, (SAMPLES, 8)).copy(), rng)
    freq = np.bincount(z, minlength=8) / SAMPLES
    sd = np.sqrt(alpha * (1 - alpha) / SAMPLES)
    assert (np.abs(freq - alpha) <= SD_BOUND * sd + 1e-12).all(), (freq, alpha)


def test_hard_attention_sample_never_picks_masked_and_mean_is_soft_attention() -> None:
    """Masked inputs are never sampled; the sample mean approaches soft attention."""
    rng = np.random.default_rng(3)
    query = rng.normal(size=(1, 4))
    inputs = rng.normal(size=(6, 4))
    mask = np.array([[True, False, True, True, False, True]])
    query_many = np.broadcast_to(query, (SAMPLES // 10, 4)).copy()
    out, index = hard_attention_sample(query_many, inputs, rng, mask=mask)
    assert not np.isin(index, [1, 4]).any()
    expected = soft_attention(query, inputs, mask=mask)[0]
    # Per-coordinate SD of the mean ≤ max|x| / sqrt(n); 5-SD bound as above.
    bound = SD_BOUND * np.abs(inputs).max() / math.sqrt(query_many.shape[0])
    assert np.abs(out.mean(axis=0) - expected).max() <= bound


def test_hard_attention_fully_masked_query_gets_no_index() -> None:
    """A query with every input masked gets index −1 and a zero output (documented)."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(3, 2))
    mask = np.array([[False, False, False], [True, True, True]])
    for out, index in (
        hard_attention_argmax(x[:2], x, mask=mask),
        hard_attention_sample(x[:2], x, rng, mask=mask),
    ):
        assert index[0] == NO_INDEX
        assert (out[0] == 0).all()
        assert index[1] != NO_INDEX


# --- scaled dot-product attention (PyTorch semantics) ---------------------------------------


def _reference_sdpa(
    q: FloatArray, k: FloatArray, v: FloatArray, scale: float, mask: NDArray[np.bool_] | None
) -> FloatArray:
    """Straight from the formula softmax(QKᵀ·scale) V, in float64, row by row."""
    scores = np.einsum("...ld,...nd->...ln", q.astype(np.float64), k.astype(np.float64)) * scale
    if mask is not None:
        scores = np.where(mask, scores, -np.inf)
    result = np.zeros((*scores.shape[:-1], v.shape[-1]))
    for index in np.ndindex(*scores.shape[:-1]):
        row = scores[index]
        if np.isneginf(row).all():
            continue
        w = np.exp(row - row.max())
        w /= w.sum()
        result[index] = w @ v.astype(np.float64)[index[:-1]]
    return result


@given(nst.attention_inputs(), st.booleans())
def test_scaled_dot_product_attention_matches_formula(
    inputs: nst.AttentionInputs, causal: bool
) -> None:
    """§8.3: SDPA = softmax(QKᵀ/√E) V, with PyTorch's top-left causal mask."""
    q, k, v = inputs.query, inputs.key, inputs.value
    mask = causal_mask(q.shape[-2], k.shape[-2]) if causal else None
    expected = _reference_sdpa(q, k, v, 1 / math.sqrt(q.shape[-1]), mask).astype(inputs.dtype)
    out = scaled_dot_product_attention(q, k, v, is_causal=causal)
    by_key_value = key_value_attention(q, k, v, mask=mask)
    # float32: scores up to D·magnitude² = 500 lose ~500·eps32 ≈ 6e-5 absolute in the
    # exponent; outputs of size ≤ magnitude inherit that relative error.
    atol = 64 * q.shape[-1] * nst.DEFAULT_MAGNITUDE**3 * eps(inputs.dtype)
    assert_close(out, expected, atol=atol)
    assert_close(by_key_value, expected, atol=atol)  # §8.2.1 key-value form, same formula


@given(nst.attention_inputs(), st.data())
def test_scaled_dot_product_attention_float_mask_equals_bool_mask(
    inputs: nst.AttentionInputs, data: st.DataObject
) -> None:
    """A float mask of 0/−inf is the same as the boolean mask it encodes."""
    q, k, v = inputs.query, inputs.key, inputs.value
    mask = data.draw(nst.bool_arrays((q.shape[-2], k.shape[-2])))
    additive = np.where(mask, 0.0, -np.inf).astype(inputs.dtype)
    assert_close(
        scaled_dot_product_attention(q, k, v, additive),
        scaled_dot_product_attention(q, k, v, mask),
        rtol=0,
    )


@given(nst.attention_inputs(), st.floats(0.01, 2.0))
def test_scaled_dot_product_attention_scale(inputs: nst.AttentionInputs, scale: float) -> None:
    """An explicit scale c replaces 1/√E: SDPA(q, k, v, scale=c) = SDPA(c√E·q, k, v)."""
    q, k, v = inputs.query, inputs.key, inputs.value
    rescaled = (q * np.asarray(scale * math.sqrt(q.shape[-1]), dtype=q.dtype)).astype(q.dtype)
    atol = 64 * q.shape[-1] * nst.DEFAULT_MAGNITUDE**3 * eps(inputs.dtype)
    assert_close(
        scaled_dot_product_attention(q, k, v, scale=scale),
        scaled_dot_product_attention(rescaled, k, v),
        atol=atol,
    )


def test_causal_mask_is_top_left_aligned() -> None:
    """PyTorch's is_causal: query i sees keys j ≤ i, aligned top-left for L ≠ S."""
    expected = np.array([[True, False, False, False], [True, True, False, False]])
    assert (causal_mask(2, 4) == expected).all()
    assert (causal_mask(3, 2) == np.array([[True, False], [True, True], [True, True]])).all()


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_scaled_dot_product_attention_extremes(dtype: type[np.floating[Any]]) -> None:
    """D = 1, N = 1, huge scores and fully masked rows have defined results."""
    q = np.array([[1e15], [1.0]], dtype=dtype)
    k = np.array([[1e15], [-1e15]], dtype=dtype)
    v = np.array([[1.0, 2.0], [3.0, 4.0]], dtype=dtype)
    out, weights = scaled_dot_product_attention_with_weights(q, k, v)
    assert np.isfinite(out).all()
    assert_close(out[0], v[0], rtol=0)  # score 1e30 vs −1e30: one-hot
    single = scaled_dot_product_attention(q[:1], k[:1], v[:1])
    assert_close(single, v[:1], rtol=0)  # N = 1: weight 1
    masked = scaled_dot_product_attention(q, k, v, np.array([[False, False], [True, False]]))
    assert (masked[0] == 0).all()
    assert_close(masked[1], v[0], rtol=0)
    assert_close(weights.sum(-1), np.ones(2, dtype=dtype))


def test_scaled_dot_product_attention_overflow_is_one_named_error_and_no_warning() -> None:
    """Scores of +inf meeting an additive −inf give inf − inf: the caller sees only the
    named ValueError, never NumPy's "invalid value" RuntimeWarning from inside the kernel."""
    q = np.full((2, 3), 1e200)  # q·k = 3e400 overflows float64
    mask = np.array([[0.0, -np.inf], [0.0, 0.0]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(ValueError, match="overflow float64"):
            scaled_dot_product_attention(q, q, np.ones((2, 1)), mask=mask)


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"query": np.zeros((2, 3)), "key": np.zeros((4, 2))}, ValueError, "key has 2 features"),
        ({"value": np.zeros((5, 2))}, ValueError, "key has 4 vectors, value has 5"),
        ({"query": np.zeros((2, 3), dtype=np.float32)}, TypeError, "query float32, key float64"),
        ({"query": np.full((2, 3), np.nan)}, ValueError, "query contains NaN"),
        ({"key": np.full((4, 3), np.inf)}, ValueError, "key contains an infinite"),
        ({"query": [[0.0, 0.0, 0.0]]}, TypeError, "query must be a numpy"),
        ({"query": np.zeros(3)}, ValueError, "query must have at least 2 axes"),
        ({"mask": np.ones((2, 4), dtype=np.int64)}, TypeError, "mask must have dtype bool"),
        ({"mask": np.ones((3, 4), dtype=bool)}, ValueError, "does not broadcast"),
        (
            {"mask": np.ones((2, 4), dtype=bool), "is_causal": True},
            ValueError,
            "mask or is_causal=True, not both",
        ),
        ({"scale": float("nan")}, ValueError, "scale must be finite"),
        ({"scale": "1"}, TypeError, "scale must be a real number"),
        (
            {
                "query": np.zeros((2, 2, 3)),
                "key": np.zeros((3, 4, 3)),
                "value": np.zeros((3, 4, 2)),
            },
            ValueError,
            "batch axes",
        ),
    ],
)
def test_scaled_dot_product_attention_bad_input_errors(
    kwargs: dict[str, Any], error: type[Exception], match: str
) -> None:
    """Bad input raises an error naming the argument and what was expected."""
    arguments: dict[str, Any] = {
        "query": np.zeros((2, 3)),
        "key": np.zeros((4, 3)),
        "value": np.zeros((4, 2)),
    }
    arguments.update(kwargs)
    with pytest.raises(error, match=match):
        scaled_dot_product_attention(**arguments)


def test_attention_bad_input_errors() -> None:
    """Mismatched memories, empty memories, bad generators and bad scores are named."""
    q, x = np.zeros((2, 3)), np.zeros((4, 3))
    with pytest.raises(ValueError, match="keys has 4 vectors, values has 5"):
        key_value_attention(q, x, np.zeros((5, 2)))
    with pytest.raises(ValueError, match="inputs must not have a zero-size axis"):
        soft_attention(q, np.zeros((0, 3)))
    with pytest.raises(ValueError, match="inputs has 2 features, query has 3"):
        soft_attention(q, np.zeros((4, 2)))
    with pytest.raises(TypeError, match=r"numpy\.random\.Generator"):
        hard_attention_sample(q, x, 0)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="score returned shape"):
        soft_attention(q, x, score=lambda a, b: np.zeros((1,)))
    bad_score = partial(dot_product_score)
    with pytest.raises(ValueError, match=r"mask has shape \(3,\)"):
        soft_attention(q, x, score=bad_score, mask=np.ones(3, dtype=bool))
