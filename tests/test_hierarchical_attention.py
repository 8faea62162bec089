"""Properties of hierarchical attention (HAN), §8.2.1 (a) (Yang et al. 2016)."""

import math
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from numpy.typing import NDArray

from impl.hierarchical_attention import (
    AttentionPoolingParameters,
    HierarchicalAttentionParameters,
    attention_pooling,
    attention_pooling_scores,
    hierarchical_attention,
)
from impl.testing import strategies as hst
from impl.testing.tolerances import assert_close, default_rtol

Array = NDArray[np.floating[Any]]

GARBAGE_MAGNITUDE = 1e3
"""Padding values are arbitrary finite numbers; 1e3 makes any leak obvious."""


def summation_atol(states: Array) -> float:
    """Absolute slack for comparing two sums of the same terms in a different order or with
    extra exact zeros: a few ulps of the largest term (the weights are ≤ 1)."""
    scale = float(np.abs(states).max()) if states.size else 0.0
    return 16 * float(np.finfo(states.dtype).eps) * (1.0 + scale)


def draw_level(data: Any, dtype: np.dtype[Any], d: int) -> AttentionPoolingParameters:
    """Attention-pooling parameters with D_a ≤ 4 and entries up to 2 (non-uniform weights)."""
    d_a = data.draw(hst.sizes(4))
    return AttentionPoolingParameters(
        W=data.draw(hst.float_arrays(dtype, (d_a, d), magnitude=2.0)),
        b=data.draw(hst.float_arrays(dtype, (d_a,), magnitude=2.0)),
        context=data.draw(hst.float_arrays(dtype, (d_a,), magnitude=3.0)),
    )


def draw_parameters(data: Any, dtype: np.dtype[Any], d: int) -> HierarchicalAttentionParameters:
    """Word- and sentence-level parameters for D-dimensional word states."""
    return HierarchicalAttentionParameters(
        word=draw_level(data, dtype, d), sentence=draw_level(data, dtype, d)
    )


# --- reference formula ---------------------------------------------------------------------


@given(hst.hierarchical_documents(batched=False), st.data())
def test_attention_pooling_matches_han_formula(doc: hst.HierarchicalDocuments, data: Any) -> None:
    """§8.2.1 (a): α_t = exp(u_tᵀu_w) / Σ_j exp(u_jᵀu_w), u_t = tanh(W h_t + b), pooled Σ α_t h_t
    (plain per-vector loops over the unmasked words as the reference)."""
    states, mask = doc.word_states, doc.word_mask
    level = draw_level(data, states.dtype, states.shape[-1])
    pooled, weights = attention_pooling(states, level, mask)
    for i in range(states.shape[0]):
        real = [t for t in range(states.shape[1]) if mask[i, t]]
        logits = {
            t: float(np.tanh(level.W.astype(float) @ states[i, t] + level.b) @ level.context)
            for t in real
        }
        top = max(logits.values(), default=0.0)
        total = sum(math.exp(v - top) for v in logits.values())
        expected = np.zeros(states.shape[1])
        for t in real:
            expected[t] = math.exp(logits[t] - top) / total
        assert_close(weights[i], expected.astype(states.dtype), atol=default_rtol(states.dtype))
        expected_pooled = sum(
            (expected[t] * states[i, t].astype(float) for t in real), np.zeros(states.shape[-1])
        )
        assert_close(
            pooled[i],
            np.asarray(expected_pooled).astype(states.dtype),
            atol=default_rtol(states.dtype) * (1 + float(np.abs(states).max())),
        )


def softmax_pool_reference(
    vectors: list[Array], level: AttentionPoolingParameters, width: int
) -> tuple[list[float], Array]:
    """(weights, Σ weight·vector) of one HAN level, float64, by the formula (empty → [], 0)."""
    logits = [
        float(np.tanh(level.W.astype(float) @ v.astype(float) + level.b) @ level.context)
        for v in vectors
    ]
    top = max(logits, default=0.0)
    exps = [math.exp(v - top) for v in logits]
    weights = [e / sum(exps) for e in exps]
    pooled = sum(
        (w * v.astype(float) for w, v in zip(weights, vectors, strict=True)), np.zeros(width)
    )
    return weights, np.asarray(pooled)


@given(hst.hierarchical_documents(batched=False), st.data())
def test_hierarchical_attention_matches_two_level_formula(
    doc: hst.HierarchicalDocuments, data: Any
) -> None:
    """§8.2.1 (a): s_i = Σ_t α_it h_it with u_w, then v = Σ_i β_i s_i with u_s over the non-empty
    sentences (a float64 loop reference over the real words only)."""
    states, mask = doc.word_states, doc.word_mask
    s, _, d = states.shape
    params = draw_parameters(data, states.dtype, d)
    result = hierarchical_attention(states, params, mask)
    sentence_vectors, kept = [], []
    for i in range(s):
        words = [states[i, t] for t in np.flatnonzero(mask[i])]
        if words:
            _, vector = softmax_pool_reference(words, params.word, d)
            sentence_vectors.append(vector)
            kept.append(i)
    betas, document = softmax_pool_reference(sentence_vectors, params.sentence, d)
    expected_betas = np.zeros(s)
    expected_betas[kept] = betas
    rtol = default_rtol(states.dtype)
    scale = 1 + float(np.abs(states).max())
    assert_close(result.sentence_weights, expected_betas.astype(states.dtype), atol=rtol)
    assert_close(result.document, document.astype(states.dtype), atol=rtol * scale)


# --- convex combination and masks ----------------------------------------------------------


@given(hst.hierarchical_documents(), st.data())
def test_hierarchical_attention_document_is_convex_combination(
    doc: hst.HierarchicalDocuments, data: Any
) -> None:
    """§8.2.1 (a): v = Σ_i Σ_t β_i α_it h_it, weights ≥ 0, 0 on padding, summing to 1 over the
    real words (0 for an empty document); empty sentences have β_i = 0 and s_i = 0."""
    states, mask = doc.word_states, doc.word_mask
    result = hierarchical_attention(
        states, draw_parameters(data, states.dtype, states.shape[-1]), mask
    )
    weights = result.word_document_weights
    assert weights.dtype == states.dtype
    assert (weights >= 0).all()
    assert (weights[~mask] == 0).all()
    expected = np.einsum("...st,...std->...d", weights, states)
    assert_close(result.document, expected, atol=summation_atol(states))
    has_words = mask.any(axis=(-1, -2))
    totals = np.asarray(weights.sum(axis=(-1, -2)))
    rtol = default_rtol(states.dtype)
    assert_close(totals, np.where(has_words, 1.0, 0.0).astype(states.dtype), atol=rtol)
    sentence_has_words = mask.any(axis=-1)
    assert (result.sentence_weights[~sentence_has_words] == 0).all()
    assert (result.sentence_vectors[~sentence_has_words] == 0).all()
    word_totals = result.word_weights.sum(axis=-1)
    assert_close(word_totals, sentence_has_words.astype(states.dtype), atol=rtol)
    assert (result.document[~has_words] == 0).all()


def test_hierarchical_attention_empty_document_is_zero() -> None:
    """An all-masked document: zero vector, zero weights at both levels, no NaN or warning."""
    params = HierarchicalAttentionParameters.initialize(
        np.random.default_rng(0), input_dim=3, attention_dim=2
    )
    states = np.full((2, 4, 3), 7.0)
    with np.errstate(all="raise"):
        result = hierarchical_attention(states, params, np.zeros((2, 4), dtype=np.bool_))
    assert_close(result.document, np.zeros(3), rtol=0.0)
    assert_close(result.sentence_weights, np.zeros(2), rtol=0.0)
    assert_close(result.word_weights, np.zeros((2, 4)), rtol=0.0)
    assert_close(result.sentence_vectors, np.zeros((2, 3)), rtol=0.0)


@given(
    hst.hierarchical_documents(),
    st.integers(0, 3),
    st.integers(0, 3),
    st.data(),
)
def test_hierarchical_attention_padding_does_not_change_result(
    doc: hst.HierarchicalDocuments, extra_words: int, extra_sentences: int, data: Any
) -> None:
    """Appending padded words and padded sentences holding arbitrary garbage (mask False) leaves
    the document vector and the real words' weights unchanged; padding gets weight 0."""
    states, mask = doc.word_states, doc.word_mask
    *batch, s, t, d = states.shape
    params = draw_parameters(data, states.dtype, d)
    padded_shape = (*batch, s + extra_sentences, t + extra_words, d)
    padded = data.draw(hst.float_arrays(states.dtype, padded_shape, magnitude=GARBAGE_MAGNITUDE))
    padded[..., :s, :t, :] = states
    padded_mask = np.zeros(padded_shape[:-1], dtype=np.bool_)
    padded_mask[..., :s, :t] = mask
    base = hierarchical_attention(states, params, mask)
    result = hierarchical_attention(padded, params, padded_mask)
    assert_close(result.document, base.document, atol=summation_atol(states))
    rtol = default_rtol(states.dtype)
    assert_close(result.word_weights[..., :s, :t], base.word_weights, atol=rtol)
    assert_close(result.sentence_weights[..., :s], base.sentence_weights, atol=rtol)
    assert (result.word_weights[..., :, t:] == 0).all()
    assert (result.word_weights[..., s:, :] == 0).all()
    assert (result.sentence_weights[..., s:] == 0).all()


# --- permutations --------------------------------------------------------------------------


@given(hst.hierarchical_documents(batched=False), st.data())
def test_hierarchical_attention_sentence_permutation(
    doc: hst.HierarchicalDocuments, data: Any
) -> None:
    """Permuting the sentences permutes β (and the rows of α) and leaves v unchanged."""
    states, mask = doc.word_states, doc.word_mask
    params = draw_parameters(data, states.dtype, states.shape[-1])
    order = data.draw(hst.permutations_of(states.shape[0]))
    base = hierarchical_attention(states, params, mask)
    permuted = hierarchical_attention(states[order], params, mask[order])
    rtol = default_rtol(states.dtype)
    assert_close(permuted.sentence_weights, base.sentence_weights[order], atol=rtol)
    assert_close(permuted.word_weights, base.word_weights[order], atol=rtol)
    assert_close(permuted.document, base.document, atol=summation_atol(states))


@given(hst.hierarchical_documents(batched=False), st.data())
def test_hierarchical_attention_word_permutation(doc: hst.HierarchicalDocuments, data: Any) -> None:
    """Permuting the words within each sentence (a different order per sentence) permutes that
    sentence's α the same way and leaves β and v unchanged."""
    states, mask = doc.word_states, doc.word_mask
    s, t, _ = states.shape
    params = draw_parameters(data, states.dtype, states.shape[-1])
    orders = np.stack([data.draw(hst.permutations_of(t)) for _ in range(s)])
    rows = np.arange(s)[:, None]
    base = hierarchical_attention(states, params, mask)
    permuted = hierarchical_attention(states[rows, orders], params, mask[rows, orders])
    rtol = default_rtol(states.dtype)
    assert_close(permuted.word_weights, base.word_weights[rows, orders], atol=rtol)
    assert_close(permuted.sentence_weights, base.sentence_weights, atol=rtol)
    assert_close(permuted.document, base.document, atol=summation_atol(states))


# --- batches, dtypes, defaults -------------------------------------------------------------


@given(hst.hierarchical_documents(), st.data())
def test_hierarchical_attention_batch_consistency(
    doc: hst.HierarchicalDocuments, data: Any
) -> None:
    """A batched call equals the per-document calls."""
    states, mask = doc.word_states, doc.word_mask
    params = draw_parameters(data, states.dtype, states.shape[-1])
    result = hierarchical_attention(states, params, mask)
    assert result.document.shape == (*states.shape[:-3], states.shape[-1])
    for index in np.ndindex(*states.shape[:-3]):
        single = hierarchical_attention(states[index], params, mask[index])
        atol = summation_atol(states)
        assert_close(result.document[index], single.document, atol=atol)
        assert_close(result.word_weights[index], single.word_weights, atol=atol)
        assert_close(result.sentence_weights[index], single.sentence_weights, atol=atol)


@given(hst.hierarchical_documents(dtype=np.float32), st.data())
def test_hierarchical_attention_float32_matches_float64(
    doc: hst.HierarchicalDocuments, data: Any
) -> None:
    """float32 in → float32 out, equal to the float64 computation within float32's 4·√eps."""
    states, mask = doc.word_states, doc.word_mask
    params = draw_parameters(data, states.dtype, states.shape[-1])
    wide_params = HierarchicalAttentionParameters(
        *(
            AttentionPoolingParameters(
                level.W.astype(np.float64), level.b.astype(np.float64), level.context.astype(float)
            )
            for level in (params.word, params.sentence)
        )
    )
    result = hierarchical_attention(states, params, mask)
    wide = hierarchical_attention(states.astype(np.float64), wide_params, mask)
    rtol = default_rtol(np.float32)
    scale = 1 + float(np.abs(states).max())
    assert_close(result.document, wide.document.astype(np.float32), atol=rtol * scale)
    assert_close(result.word_weights, wide.word_weights.astype(np.float32), atol=rtol)
    assert_close(result.sentence_weights, wide.sentence_weights.astype(np.float32), atol=rtol)


@given(hst.hierarchical_documents(), st.data())
def test_hierarchical_attention_no_mask_means_all_words(
    doc: hst.HierarchicalDocuments, data: Any
) -> None:
    """word_mask=None is the all-True mask; a mask broadcast over the batch is allowed."""
    states = doc.word_states
    params = draw_parameters(data, states.dtype, states.shape[-1])
    full = np.ones(states.shape[-3:-1], dtype=np.bool_)  # (S, T), broadcast over the batch
    unmasked = hierarchical_attention(states, params)
    masked = hierarchical_attention(states, params, full)
    assert_close(unmasked.document, masked.document, rtol=0.0)
    assert_close(unmasked.word_weights, masked.word_weights, rtol=0.0)


def test_hierarchical_parameters_initialize() -> None:
    """initialize draws from the given Generator only: same seed, same parameters; dtype kept."""
    one = HierarchicalAttentionParameters.initialize(
        np.random.default_rng(5), input_dim=3, attention_dim=2, dtype=np.float32
    )
    two = HierarchicalAttentionParameters.initialize(
        np.random.default_rng(5), input_dim=3, attention_dim=2, dtype=np.float32
    )
    assert one.word.W.shape == (2, 3)
    assert one.word.W.dtype == np.float32
    assert one.sentence.context.shape == (2,)
    assert_close(one.word.W, two.word.W, rtol=0.0)
    assert_close(one.sentence.context, two.sentence.context, rtol=0.0)
    assert not np.array_equal(one.word.W, one.sentence.W)


# --- bad input -----------------------------------------------------------------------------


def test_hierarchical_attention_bad_input_errors() -> None:
    """Bad shapes, dtypes, masks and parameters raise errors naming the argument."""
    params = HierarchicalAttentionParameters.initialize(
        np.random.default_rng(0), input_dim=3, attention_dim=2
    )
    states = np.zeros((2, 4, 3))
    with pytest.raises(ValueError, match="word_states must have at least 3 axes"):
        hierarchical_attention(np.zeros((4, 3)), params)
    with pytest.raises(ValueError, match="word_states has 5 features, W expects 3"):
        hierarchical_attention(np.zeros((2, 4, 5)), params)
    with pytest.raises(TypeError, match="share one float dtype"):
        hierarchical_attention(states.astype(np.float32), params)
    with pytest.raises(ValueError, match="word_states contains NaN"):
        hierarchical_attention(np.full((2, 4, 3), np.nan), params)
    with pytest.raises(ValueError, match="word_states contains an infinite"):
        hierarchical_attention(np.full((2, 4, 3), np.inf), params)
    with pytest.raises(TypeError, match="word_mask must have dtype bool"):
        hierarchical_attention(states, params, np.ones((2, 4)))  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="word_mask has shape"):
        hierarchical_attention(states, params, np.ones((3, 4), dtype=np.bool_))
    with pytest.raises(ValueError, match="must not enlarge the result"):
        hierarchical_attention(states, params, np.ones((5, 2, 4), dtype=np.bool_))
    with pytest.raises(TypeError, match="word_states must be a numpy"):
        hierarchical_attention([[[0.0]]], params)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="share the attention size"):
        AttentionPoolingParameters(np.zeros((2, 3)), np.zeros(3), np.zeros(2))
    with pytest.raises(ValueError, match="W must be a matrix"):
        AttentionPoolingParameters(np.zeros((2, 3, 1)), np.zeros(2), np.zeros(2))
    with pytest.raises(ValueError, match="sentence level expects 4"):
        HierarchicalAttentionParameters(
            AttentionPoolingParameters(np.zeros((2, 3)), np.zeros(2), np.zeros(2)),
            AttentionPoolingParameters(np.zeros((2, 4)), np.zeros(2), np.zeros(2)),
        )
    with pytest.raises(TypeError, match=r"rng must be a numpy\.random\.Generator"):
        HierarchicalAttentionParameters.initialize(0, input_dim=3, attention_dim=2)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="attention_dim must be positive"):
        AttentionPoolingParameters.initialize(
            np.random.default_rng(0), input_dim=3, attention_dim=0
        )
    with pytest.raises(ValueError, match="states has 2 features, W expects 3"):
        attention_pooling_scores(np.zeros((4, 2)), params.word)
