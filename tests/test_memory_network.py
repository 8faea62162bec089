"""Properties of the end-to-end memory network (MemN2N), §8.5.1 (Sukhbaatar et al. 2015)."""

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

from impl import memory_network as mn
from impl.attention import key_value_attention
from impl.scores import dot_product_score
from impl.testing import strategies as hst
from impl.testing.tolerances import assert_close, default_rtol
from spec import memory_network as spec

Array = NDArray[np.floating[Any]]
TYINGS: tuple[mn.Tying, ...] = ("adjacent", "layer_wise", "none")


def model_atol(dtype: np.dtype[Any]) -> float:
    """Absolute slack for probabilities and reads built from a few sums of O(1) terms: 4·√eps
    (used absolutely since probabilities near 0 have no meaningful relative error)."""
    return default_rtol(dtype)


@st.composite
def models(
    draw: st.DrawFn, *, dtype: np.dtype[Any] | None = None, temporal: bool | None = None
) -> tuple[mn.MemN2NParameters, NDArray[np.intp], NDArray[np.intp]]:
    """A MemN2N (any tying, 1–3 hops, V ≤ 8, d ≤ 4, optional temporal) with a story and question."""
    chosen = draw(hst.float_dtypes) if dtype is None else dtype
    rng = draw(hst.generators())
    V, d, K = draw(hst.sizes(8, min_size=2)), draw(hst.sizes(4)), draw(hst.sizes(3))
    n, words = draw(hst.sizes(4)), draw(hst.sizes(4))
    use_temporal = draw(st.booleans()) if temporal is None else temporal
    params = mn.MemN2NParameters.initialize(
        rng,
        vocabulary_size=V,
        embedding_dim=d,
        hops=K,
        tying=draw(st.sampled_from(TYINGS)),
        memory_size=n + draw(st.integers(0, 2)) if use_temporal else None,
        dtype=chosen.type,
    )
    # Scale the embeddings up so attention is far from uniform (σ = 0.1 makes it nearly flat).
    params = scaled(params, 10.0)
    batch = draw(hst.batch_shapes)
    story = draw(hst.token_arrays((*batch, n, words), V))
    question = draw(hst.token_arrays((*batch, words), V, allow_empty=False))
    return params, story, question


def scaled(params: mn.MemN2NParameters, factor: float) -> mn.MemN2NParameters:
    """The same model with every array multiplied by ``factor``, keeping the tying (identity)."""
    memo: dict[int, Array] = {}

    def scale(a: Array) -> Array:
        return memo.setdefault(id(a), (a * np.asarray(factor, a.dtype)).astype(a.dtype))

    def scale_all(arrays: tuple[Array, ...] | None) -> tuple[Array, ...] | None:
        return None if arrays is None else tuple(scale(a) for a in arrays)

    return mn.MemN2NParameters(
        scale(params.query_embedding),
        tuple(scale(a) for a in params.key_embeddings),
        tuple(scale(a) for a in params.value_embeddings),
        scale(params.output),
        None
        if params.hop_map is None
        else scale(params.hop_map) / np.asarray(factor, params.dtype),
        scale_all(params.temporal_keys),
        scale_all(params.temporal_values),
    )


# --- reference: the paper's equations with loops -------------------------------------------


def reference_forward(
    params: mn.MemN2NParameters, story: NDArray[np.intp], question: NDArray[np.intp], pe: bool
) -> tuple[Array, list[Array]]:
    """Eqs. 1–3 of the paper for one story (N, J) and question (J_q,), in float64 loops."""
    d = params.embedding_dim

    def sentence(embedding: Array, tokens: NDArray[np.intp]) -> Array:
        words = [int(t) for t in tokens if t != mn.PADDING_ID]
        total = np.zeros(d)
        for j, word in enumerate(words, start=1):
            weights = np.ones(d)
            if pe:
                weights = np.array(
                    [
                        (1 - j / len(words)) - (k / d) * (1 - 2 * j / len(words))
                        for k in range(1, d + 1)
                    ]
                )
            total += weights * embedding[word].astype(np.float64)
        return total

    slots = [i for i in range(story.shape[0]) if np.any(story[i] != mn.PADDING_ID)]
    u = sentence(params.query_embedding, question)
    all_p: list[Array] = []
    o = np.zeros(d)
    for k in range(params.hops):
        m, c = [], []
        for i in slots:
            m_i = sentence(params.key_embeddings[k], story[i])
            c_i = sentence(params.value_embeddings[k], story[i])
            if params.temporal_keys is not None and params.temporal_values is not None:
                m_i = m_i + params.temporal_keys[k][i]
                c_i = c_i + params.temporal_values[k][i]
            m.append(m_i)
            c.append(c_i)
        p = np.zeros(story.shape[0])
        o = np.zeros(d)
        if slots:
            logits = np.array([float(m_i @ u) for m_i in m])
            probs = np.exp(logits - logits.max())
            probs /= probs.sum()
            for weight, i, c_i in zip(probs, slots, c, strict=True):
                p[i] = weight
                o = o + weight * c_i
        all_p.append(p)
        if k < params.hops - 1:
            u = (u if params.hop_map is None else params.hop_map.astype(float) @ u) + o
    logits = params.output.astype(float) @ (u + o)
    answer = np.exp(logits - logits.max())
    return answer / answer.sum(), all_p


@given(models(), st.booleans())
def test_memn2n_forward_matches_paper_equations(model: Any, pe: bool) -> None:
    """§8.5.1 (paper eqs. 1–3, §4.1): hops, tying, position/temporal encoding and â = softmax(W(u^K
    + o^K)) against a float64 loop over slots and words, story by story."""
    params, story, question = model
    out = mn.memn2n_forward(params, story, question, use_position_encoding=pe)
    batch = np.broadcast_shapes(story.shape[:-2], question.shape[:-1])
    for index in np.ndindex(*batch):
        s = np.broadcast_to(story, (*batch, *story.shape[-2:]))[index]
        q = np.broadcast_to(question, (*batch, question.shape[-1]))[index]
        answer, weights = reference_forward(params, s, q, pe)
        dtype = params.dtype
        assert_close(out.answer_probabilities[index], answer.astype(dtype), atol=model_atol(dtype))
        for k in range(params.hops):
            assert_close(out.weights[k][index], weights[k].astype(dtype), atol=model_atol(dtype))


# --- a hop is key-value attention ----------------------------------------------------------


@given(hst.attention_inputs(magnitude=1.0))  # |entries| ≤ 1: an unsaturated softmax
def test_memory_hop_is_key_value_attention(inputs: hst.AttentionInputs) -> None:
    """§8.5.1: r = Σ_n softmax_n(a_nᵀ q) c_n is key-value attention (§8.2.1) with the dot score,
    and its weights are softmax(M u) (one query: the first row of the drawn queries)."""
    q = inputs.query[..., 0, :]
    hop = mn.memory_hop(q, inputs.key, inputs.value)
    expected = key_value_attention(
        inputs.query[..., :1, :], inputs.key, inputs.value, score=dot_product_score
    )
    assert_close(hop.read, expected[..., 0, :])
    logits = np.einsum("...nd,...d->...n", inputs.key.astype(float), q.astype(float))
    probs = np.exp(logits - logits.max(axis=-1, keepdims=True))
    probs /= probs.sum(axis=-1, keepdims=True)
    assert_close(hop.weights, probs.astype(q.dtype), atol=model_atol(q.dtype))


@cache
def spec_read(n: int, d_k: int, d_v: int) -> Any:
    u = sympy.Matrix(d_k, 1, lambda a, _: sympy.Symbol(f"u_{a}", real=True))
    m = sympy.Matrix(n, d_k, lambda a, b: sympy.Symbol(f"m_{a}_{b}", real=True))
    c = sympy.Matrix(n, d_v, lambda a, b: sympy.Symbol(f"c_{a}_{b}", real=True))
    return sympy.lambdify((list(u), list(m), list(c)), spec.read(u, m, c), "numpy")


@given(hst.attention_inputs(max_dim=3, magnitude=1.0))
def test_memory_hop_matches_spec(inputs: hst.AttentionInputs) -> None:
    """§8.5.1: impl's hop = spec.memory_network.read (lambdified), o = Σ_i softmax_i(m_iᵀu) c_i
    (first batch item, first query)."""
    u = inputs.query.reshape(-1, *inputs.query.shape[-2:])[0, 0]
    keys = inputs.key.reshape(-1, *inputs.key.shape[-2:])[0]
    values = inputs.value.reshape(-1, *inputs.value.shape[-2:])[0]
    fn = spec_read(keys.shape[0], keys.shape[1], values.shape[1])
    expected = np.asarray(fn(list(u), list(keys.ravel()), list(values.ravel())), dtype=np.float64)
    assert_close(
        mn.memory_hop(u, keys, values).read, expected[0].astype(u.dtype), atol=model_atol(u.dtype)
    )


@cache
def spec_sentence(tokens: tuple[int, ...], vocabulary: int, d: int, pe: bool) -> Any:
    embedding = sympy.Matrix(vocabulary, d, lambda a, b: sympy.Symbol(f"A_{a}_{b}", real=True))
    expr = spec.sentence_vector(embedding, tokens, use_position_encoding=pe)
    return sympy.lambdify([list(embedding)], expr, "numpy")


@given(hst.sizes(4), hst.sizes(3), st.booleans(), hst.generators())
def test_embed_sentences_matches_spec(
    words: int, d: int, pe: bool, rng: np.random.Generator
) -> None:
    """§8.5.1: Σ_j (l_j ∘) A x_j against spec.memory_network.sentence_vector (lambdified)."""
    tokens = tuple(int(t) for t in rng.integers(1, 5, size=words))
    embedding = rng.normal(size=(5, d))
    expected = np.asarray(
        spec_sentence(tokens, 5, d, pe)(list(embedding.ravel())), dtype=np.float64
    )
    actual = mn.embed_sentences(np.array(tokens), embedding, use_position_encoding=pe)
    assert_close(actual, expected[0])


@given(models())
def test_memn2n_each_hop_is_key_value_attention_of_embedded_memory(model: Any) -> None:
    """§8.5.1: o^k = key_value_attention(u^k, m^k = A^k-embedded, c^k = C^k-embedded story)."""
    params, story, question = model
    out = mn.memn2n_forward(params, story, question)
    mask = mn.memory_mask(story)
    for k in range(params.hops):
        t_a = None if params.temporal_keys is None else params.temporal_keys[k]
        t_c = None if params.temporal_values is None else params.temporal_values[k]
        keys = mn.embed_memory(story, params.key_embeddings[k], t_a)
        values = mn.embed_memory(story, params.value_embeddings[k], t_c)
        expected = key_value_attention(
            out.queries[k][..., None, :],
            keys,
            values,
            score=dot_product_score,
            mask=mask[..., None, :],
        )
        assert_close(out.reads[k], expected[..., 0, :])


@given(hst.attention_inputs())
def test_memory_hop_single_slot_reads_its_value(inputs: hst.AttentionInputs) -> None:
    """§8.5.1: with one memory slot the softmax is 1, so r = c_1 whatever the query."""
    keys, values = inputs.key[..., :1, :], inputs.value[..., :1, :]
    hop = mn.memory_hop(inputs.query[..., 0, :], keys, values)
    batch = np.broadcast_shapes(inputs.query.shape[:-2], keys.shape[:-2])
    assert_close(hop.read, np.broadcast_to(values[..., 0, :], (*batch, values.shape[-1])))


def test_memory_hop_fully_masked_reads_zero() -> None:
    """Documented extreme: a story of empty sentences only reads 0 with weights 0."""
    hop = mn.memory_hop(np.ones(2), np.ones((3, 2)), np.ones((3, 2)), np.zeros(3, dtype=bool))
    assert_close(hop.read, np.zeros(2))
    assert_close(hop.weights, np.zeros(3))


# --- permutation (in)variance and empty slots ----------------------------------------------


@given(models(temporal=False), st.data(), st.booleans())
def test_memn2n_permutation_invariant_without_temporal_encoding(
    model: Any, data: Any, pe: bool
) -> None:
    """§8.5.1: without temporal encoding the memory is a set: permuting the story's sentences
    permutes the attention and leaves the answer unchanged."""
    params, story, question = model
    order = data.draw(hst.permutations_of(story.shape[-2]))
    base = mn.memn2n_forward(params, story, question, use_position_encoding=pe)
    permuted = mn.memn2n_forward(params, story[..., order, :], question, use_position_encoding=pe)
    atol = model_atol(params.dtype)
    assert_close(permuted.answer_probabilities, base.answer_probabilities, atol=atol)
    for k in range(params.hops):
        assert_close(permuted.weights[k], base.weights[k][..., order], atol=atol)


def test_memn2n_temporal_encoding_breaks_permutation_invariance() -> None:
    """§8.5.1 (paper §4.1): with T_A, T_C the same sentences in another order read differently."""
    params = mn.MemN2NParameters.initialize(
        np.random.default_rng(3), vocabulary_size=6, embedding_dim=4, hops=2, memory_size=3
    )
    params = scaled(params, 10.0)
    story = np.array([[1, 2], [3, 0], [4, 5]])
    question = np.array([1, 3])
    base = mn.memn2n_forward(params, story, question)
    swapped = mn.memn2n_forward(params, story[[2, 0, 1]], question)
    # A difference above 1e-6 is far beyond float64 rounding (~1e-16): a real change.
    assert not np.allclose(base.answer_probabilities, swapped.answer_probabilities, atol=1e-6)
    assert not np.allclose(base.weights[0][[2, 0, 1]], swapped.weights[0], atol=1e-6)


@given(models(temporal=False), hst.sizes(3))
def test_memn2n_empty_sentences_change_nothing(model: Any, extra: int) -> None:
    """Documented convention: appending all-padding sentences (empty slots) leaves the answer and
    the weights of the real slots unchanged; empty slots get weight exactly 0."""
    params, story, question = model
    padded = np.concatenate(
        [story, np.zeros((*story.shape[:-2], extra, story.shape[-1]), dtype=story.dtype)], axis=-2
    )
    base = mn.memn2n_forward(params, story, question)
    more = mn.memn2n_forward(params, padded, question)
    assert_close(
        more.answer_probabilities, base.answer_probabilities, atol=model_atol(params.dtype)
    )
    assert np.all(more.weights[0][..., story.shape[-2] :] == 0)


# --- position encoding ---------------------------------------------------------------------


@given(hst.sizes(8), hst.sizes(8))
def test_position_encoding_matches_formula_and_spec(words: int, dims: int) -> None:
    """§8.5.1 (paper §4.1): l_kj = (1 − j/J) − (k/d)(1 − 2j/J) by an explicit 1-based loop and by
    the spec's exact rationals (spec.position_matrix)."""
    table = mn.position_encoding(words, dims)
    loop = np.array(
        [
            [(1 - j / words) - (k / dims) * (1 - 2 * j / words) for k in range(1, dims + 1)]
            for j in range(1, words + 1)
        ]
    )
    exact = np.array(spec.position_matrix(words, dims).tolist(), dtype=np.float64)
    assert_close(table, loop)
    assert_close(table, exact)


@cache
def spec_position() -> Any:
    return sympy.lambdify((spec.j, spec.k, spec.J, spec.d), spec.position_weight(), "numpy")


@given(hst.sizes(8), hst.sizes(8))
def test_position_encoding_derived_properties(words: int, dims: int) -> None:
    """§8.5.1: the spec's derived laws — last word l_kJ = k/d (J = 1: l_k1 = k/d), complementary
    dimensions l_kj + l_{d−k,j} = 1, middle word (J even) l = 1/2 — and lambdified agreement."""
    table = mn.position_encoding(words, dims)
    k = np.arange(1, dims + 1)
    assert_close(table[-1], k / dims)
    if dims > 1:
        assert_close(table[:, : dims - 1] + table[:, dims - 2 :: -1], np.ones((words, dims - 1)))
    if words % 2 == 0:
        assert_close(table[words // 2 - 1], np.full(dims, 0.5))
    j_grid, k_grid = np.meshgrid(np.arange(1, words + 1), k, indexing="ij")
    assert_close(table, spec_position()(j_grid, k_grid, words, dims).astype(np.float64))


@given(hst.sizes(4), hst.sizes(5), hst.generators())
def test_embed_sentences_position_encoding_uses_each_sentences_length(
    words: int, extra: int, rng: np.random.Generator
) -> None:
    """§8.5.1: J in l_kj is the sentence's own word count, so trailing padding changes nothing;
    the sentence vector equals Σ_j l_j ∘ A x_j computed with position_encoding(J, d)."""
    embedding = rng.normal(size=(7, 3))
    tokens = rng.integers(1, 7, size=words)
    padded = np.concatenate([tokens, np.zeros(extra, dtype=tokens.dtype)])
    vector = mn.embed_sentences(padded, embedding, use_position_encoding=True)
    expected = (mn.position_encoding(words, 3) * embedding[tokens]).sum(axis=0)
    assert_close(vector, expected)
    assert_close(mn.embed_sentences(tokens, embedding, use_position_encoding=True), expected)
    bag = mn.embed_sentences(padded, embedding)
    assert_close(bag, embedding[tokens].sum(axis=0))


@pytest.mark.filterwarnings("error")
def test_embed_sentences_empty_sentence_is_zero() -> None:
    """Documented extreme: an all-padding sentence is the zero vector (J = 0: no division by 0,
    so not even a RuntimeWarning)."""
    embedding = np.arange(12.0).reshape(4, 3)
    for pe in (False, True):
        assert_close(
            mn.embed_sentences(np.zeros(3, dtype=np.intp), embedding, use_position_encoding=pe),
            np.zeros(3),
        )


# --- tying and parameter counts ------------------------------------------------------------


@pytest.mark.parametrize("temporal", [False, True])
@pytest.mark.parametrize("hops", [1, 2, 3])
def test_memn2n_adjacent_tying_shares_arrays(hops: int, temporal: bool) -> None:
    """§8.5.1 (paper §2.2): adjacent tying A^{k+1} = C^k, W = C^K (our Wᵀ = C^K), B = A^1, and
    T_A^{k+1} = T_C^k — as the same array objects, so training one trains the other."""
    p = mn.MemN2NParameters.initialize(
        np.random.default_rng(0),
        vocabulary_size=5,
        embedding_dim=3,
        hops=hops,
        memory_size=4 if temporal else None,
    )
    assert p.query_embedding is p.key_embeddings[0]
    assert p.output is p.value_embeddings[-1]
    for k in range(hops - 1):
        assert p.key_embeddings[k + 1] is p.value_embeddings[k]
        if temporal:
            assert p.temporal_keys is not None
            assert p.temporal_values is not None
            assert p.temporal_keys[k + 1] is p.temporal_values[k]
    assert p.key_embeddings[0] is not p.value_embeddings[0]
    assert p.hop_map is None


@pytest.mark.parametrize("hops", [1, 2, 3])
def test_memn2n_layer_wise_tying_shares_arrays(hops: int) -> None:
    """§8.5.1 (paper §2.2): layer-wise A^1 = … = A^K, C^1 = … = C^K, with a (d, d) map H."""
    p = mn.MemN2NParameters.initialize(
        np.random.default_rng(0), vocabulary_size=5, embedding_dim=3, hops=hops, tying="layer_wise"
    )
    assert all(a is p.key_embeddings[0] for a in p.key_embeddings)
    assert all(c is p.value_embeddings[0] for c in p.value_embeddings)
    assert p.key_embeddings[0] is not p.value_embeddings[0]
    assert p.hop_map is not None
    assert p.hop_map.shape == (3, 3)


@pytest.mark.parametrize("tying", TYINGS)
@pytest.mark.parametrize("temporal", [False, True])
def test_memn2n_parameter_count_matches_spec(tying: mn.Tying, temporal: bool) -> None:
    """§8.5.1: the number of distinct scalars equals spec.parameter_count(V, d, K, N_max) (derived
    by a Sum over hops) and the spec's union-find count of tied arrays, for K = 1..4."""
    formula = sympy.lambdify(
        (spec.V, spec.d, spec.K, spec.N_max),
        spec.parameter_count(tying, temporal=temporal),
        "numpy",
    )
    for hops in range(1, 5):
        for V, d in ((2, 1), (7, 3), (11, 5)):
            n_max = 4 if temporal else None
            p = mn.MemN2NParameters.initialize(
                np.random.default_rng(hops),
                vocabulary_size=V,
                embedding_dim=d,
                hops=hops,
                tying=tying,
                memory_size=n_max,
            )
            assert p.parameter_count() == int(formula(V, d, hops, 4))
            kinds = spec.tied_array_count(tying, hops, temporal=temporal)
            expected = (
                kinds["embedding"] * V * d + kinds["temporal"] * 4 * d + kinds["hop_map"] * d * d
            )
            assert p.parameter_count() == expected


def test_memn2n_tying_is_what_forward_uses() -> None:
    """Adjacent tying is real: C^1 and A^2 are one (read-only) array, also after the
    container's private copy; an in-place edit raises (issue 7, class 1) and
    ``dataclasses.replace`` re-runs the checks."""
    p = mn.MemN2NParameters.initialize(
        np.random.default_rng(1), vocabulary_size=5, embedding_dim=3, hops=2
    )
    assert p.key_embeddings[1] is p.value_embeddings[0]
    with pytest.raises(ValueError, match="read-only"):
        p.value_embeddings[0][1] += 1.0
    shared = p.value_embeddings[0] + 1.0
    changed = replace(
        p, key_embeddings=(p.key_embeddings[0], shared), value_embeddings=(shared, p.output)
    )
    assert changed.key_embeddings[1] is changed.value_embeddings[0]
    assert not np.array_equal(changed.key_embeddings[1], p.key_embeddings[1])
    nan = p.output.copy()
    nan[1, 0] = np.nan
    with pytest.raises(ValueError, match="output contains NaN"):
        replace(p, output=nan)


# --- read-only memory, batching, dtypes ----------------------------------------------------


def frozen(params: mn.MemN2NParameters) -> None:
    """Make every parameter array read-only (a write would raise)."""
    for array in params.distinct_arrays():
        array.flags.writeable = False


@given(models())
def test_memn2n_reading_never_modifies_memory_or_parameters(model: Any) -> None:
    """§8.5.1, exercise 8-5: MemN2N's memory is read-only: with every input array read-only the
    forward pass runs, and the story and parameters equal their copies afterwards."""
    params, story, question = model
    copies = [a.copy() for a in params.distinct_arrays()]
    story_copy = story.copy()
    frozen(params)
    story.flags.writeable = False
    question.flags.writeable = False
    mn.memn2n_forward(params, story, question, use_position_encoding=True)
    mn.memn2n_forward(params, story, question)
    np.testing.assert_array_equal(story, story_copy)
    for array, copy in zip(params.distinct_arrays(), copies, strict=True):
        np.testing.assert_array_equal(array, copy)


@given(models())
def test_memn2n_batch_consistency(model: Any) -> None:
    """A batch of stories gives the per-story results."""
    params, story, question = model
    out = mn.memn2n_forward(params, story, question, use_position_encoding=True)
    batch = np.broadcast_shapes(story.shape[:-2], question.shape[:-1])
    full_story = np.broadcast_to(story, (*batch, *story.shape[-2:]))
    full_question = np.broadcast_to(question, (*batch, question.shape[-1]))
    for index in np.ndindex(*batch):
        single = mn.memn2n_forward(
            params, full_story[index], full_question[index], use_position_encoding=True
        )
        assert_close(
            out.answer_probabilities[index],
            single.answer_probabilities,
            atol=model_atol(params.dtype),
        )


@given(models())
def test_memn2n_answer_is_distribution_of_dtype(model: Any) -> None:
    """â = softmax(W(u^K + o^K)) is a distribution over the V words, in the parameters' dtype."""
    params, story, question = model
    out = mn.memn2n_forward(params, story, question)
    assert out.answer_probabilities.dtype == params.dtype
    assert out.answer_probabilities.shape[-1] == params.vocabulary_size
    np.testing.assert_allclose(
        out.answer_probabilities.sum(axis=-1), 1.0, atol=model_atol(params.dtype)
    )


# --- bad input -----------------------------------------------------------------------------


def test_memn2n_bad_input_rejected() -> None:
    """Token ids outside 0..V−1, non-integer tokens, padding before a word, too many sentences
    for the temporal encoding, mismatched parameter shapes or dtypes: errors name the argument."""
    p = mn.MemN2NParameters.initialize(
        np.random.default_rng(0), vocabulary_size=5, embedding_dim=3, hops=2, memory_size=2
    )
    story, question = np.array([[1, 2], [3, 0]]), np.array([1, 4])
    with pytest.raises(ValueError, match=r"story has word id 5, outside 0\.\.4"):
        mn.memn2n_forward(p, np.array([[1, 5]]), question)
    with pytest.raises(ValueError, match="question has word id -1"):
        mn.memn2n_forward(p, story, np.array([1, -1]))
    with pytest.raises(TypeError, match="story must have an integer dtype"):
        mn.memn2n_forward(p, story.astype(float), question)
    with pytest.raises(ValueError, match="story has a word after padding"):
        mn.memn2n_forward(p, np.array([[0, 2]]), question)
    with pytest.raises(ValueError, match="N = 3 sentences, temporal encoding covers N_max = 2"):
        mn.memn2n_forward(p, np.array([[1], [2], [3]]), question)
    with pytest.raises(ValueError, match="story must have at least 2 axes"):
        mn.memn2n_forward(p, np.array([1, 2]), question)
    with pytest.raises(ValueError, match="do not broadcast"):
        mn.memn2n_forward(p, np.ones((2, 2, 2), dtype=int), np.ones((3, 2), dtype=int))
    with pytest.raises(ValueError, match="output has shape"):
        replace(p, output=np.zeros((4, 3)))
    with pytest.raises(TypeError, match="share one float dtype"):
        replace(p, output=p.output.astype(np.float32))
    with pytest.raises(ValueError, match="hop_map must be"):
        replace(p, hop_map=np.eye(2))
    with pytest.raises(ValueError, match="give both temporal_keys and temporal_values"):
        replace(p, temporal_values=None)
    assert p.temporal_keys is not None
    with pytest.raises(
        ValueError, match=r"need K = 2 temporal_keys and temporal_values matrices, got 1 and 2"
    ):
        replace(p, temporal_keys=p.temporal_keys[:1])
    with pytest.raises(ValueError, match=r"^keys has 3 features, query has 2$"):
        mn.memory_hop(np.ones(2), np.ones((4, 3)), np.ones((4, 5)))
    with pytest.raises(ValueError, match="tying must be"):
        mn.MemN2NParameters.initialize(
            np.random.default_rng(0),
            vocabulary_size=5,
            embedding_dim=3,
            hops=2,
            tying="bogus",  # type: ignore[arg-type]
        )
    with pytest.raises(TypeError, match="Generator"):
        mn.MemN2NParameters.initialize(0, vocabulary_size=5, embedding_dim=3, hops=2)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="num_words must be at least 1"):
        mn.position_encoding(0, 3)


# --- the strategies themselves -------------------------------------------------------------


@given(hst.batch_shapes, hst.sizes(5), hst.sizes(8, min_size=2), st.data())
def test_token_arrays_strategy(batch: tuple[int, ...], words: int, V: int, data: Any) -> None:
    """Meta-test: ids in 0..V−1, padding (0) only after the last real word; allow_empty=False
    gives at least one word per sentence."""
    tokens = data.draw(hst.token_arrays((*batch, words), V))
    assert tokens.min() >= 0
    assert tokens.max() < V
    real = tokens != mn.PADDING_ID
    assert not np.any(real[..., 1:] & ~real[..., :-1])
    nonempty = data.draw(hst.token_arrays((*batch, words), V, allow_empty=False))
    assert np.all(nonempty[..., 0] != mn.PADDING_ID)


def test_spec_position_laws_are_derived_zero() -> None:
    """§8.5.1: the spec's derived residuals vanish: l_kJ − k/d, l_kj + l_{d−k,j} − 1,
    l_{k,J/2} − 1/2; ∂l/∂j = (2k − d)/(J d) and ∂²l/∂j∂k = 2/(J d) (l is bilinear in j, k)."""
    assert spec.last_word_residual() == 0
    assert spec.complement_residual() == 0
    assert spec.middle_word_residual() == 0
    first, mixed = spec.position_gradients()
    assert sympy.simplify(first - (2 * spec.k - spec.d) / (spec.J * spec.d)) == 0
    assert sympy.simplify(mixed - 2 / (spec.J * spec.d)) == 0


def test_spec_parameter_counts_closed_forms() -> None:
    """§8.5.1: the hop-by-hop sums reduce to (2K + 2)Vd (none), (K + 1)Vd (adjacent) and
    4Vd + d² (layer-wise); temporal encoding adds 2K, K + 1 or 2 matrices N_max × d. None
    depends on the number of memory slots N without temporal encoding."""
    V, d, K, N = spec.V, spec.d, spec.K, spec.N_max
    expected: dict[spec.Tying, tuple[Any, Any]] = {
        "none": ((2 * K + 2) * V * d, 2 * K * N * d),
        "adjacent": ((K + 1) * V * d, (K + 1) * N * d),
        "layer_wise": (4 * V * d + d * d, 2 * N * d),
    }
    for tying, (plain, temporal) in expected.items():
        assert sympy.expand(spec.parameter_count(tying) - plain) == 0
        assert sympy.expand(spec.parameter_count(tying, temporal=True) - plain - temporal) == 0
        assert N not in spec.parameter_count(tying).free_symbols


# --- issue 7: edges ------------------------------------------------------------------------


def _small_params(dtype: Any = np.float64) -> mn.MemN2NParameters:
    return mn.MemN2NParameters.initialize(
        np.random.default_rng(3), vocabulary_size=5, embedding_dim=3, hops=2, dtype=dtype
    )


def test_memn2n_zero_size_axes_are_defined() -> None:
    """Issue 7, class 4: N = 0 sentences read 0 with weights (..., 0) (every slot empty);
    a batch of 0 gives empty outputs; J = 0 words make every slot empty."""
    p = _small_params()
    question = np.array([1, 2], dtype=np.intp)
    no_sentences = mn.memn2n_forward(p, np.zeros((0, 3), dtype=np.intp), question)
    assert no_sentences.weights[0].shape == (0,)
    np.testing.assert_array_equal(no_sentences.reads[0], np.zeros(3))
    no_words = mn.memn2n_forward(p, np.zeros((2, 0), dtype=np.intp), question)
    np.testing.assert_array_equal(no_words.weights[0], np.zeros(2))
    batch = mn.memn2n_forward(p, np.ones((0, 2, 3), dtype=np.intp), np.ones((0, 2), np.intp))
    assert batch.answer_probabilities.shape == (0, 5)


def test_memn2n_overflow_and_sizes_are_named() -> None:
    """Issue 7, classes 3 and 6: embeddings whose scores overflow float32 are a ValueError
    naming parameters (never NaN); sizes beyond the limits are refused with the limit;
    flags must be bools and indices ints."""
    p = _small_params(np.float32)
    big = replace(p, query_embedding=np.full_like(p.output, 3e38))  # u = 2 words · 3e38
    with pytest.raises(ValueError, match="parameters are too large"):
        mn.memn2n_forward(big, np.array([[1, 2]]), np.array([3, 4]))
    with pytest.raises(ValueError, match="query and keys are too large"):
        mn.memory_hop(
            np.full(2, 3e38, np.float32),
            np.full((2, 2), 3e38, np.float32),
            np.ones((2, 2), np.float32),
        )
    # Values at the maximum overflow the read Σ p_i c_i when the rounded weights sum above 1
    # (11 slots of weight fl(1/11) in float64); the error names values and the safe range,
    # and no RuntimeWarning comes first (warnings are errors here).
    safe = r"keep max \|values\| below the dtype's maximum / 2$"
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(ValueError, match=r"^values is too large: .*float64; " + safe):
            mn.memory_hop(np.zeros(2), np.ones((11, 2)), np.full((11, 1), np.finfo(np.float64).max))
    # Scores that are NaN (∞ − ∞ inside m_iᵀ u), not just ∞, are the same named error and
    # raise no RuntimeWarning on the way (warnings are errors here).
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(ValueError, match="query and keys are too large"):
            mn.memory_hop(np.array([1e200, 1e200]), np.array([[1e200, -1e200]]), np.ones((1, 2)))
    # The vocabulary is never looped over, so only the allocation limit bounds it (not the
    # loop limit 10⁶ of sizes that are loops): V = 10⁶ + 1 with d = 1 is a few MiB.
    large = mn.MemN2NParameters.initialize(
        np.random.default_rng(0),
        vocabulary_size=10**6 + 1,
        embedding_dim=1,
        hops=1,
        dtype=np.float32,
    )
    assert large.query_embedding.shape == (10**6 + 1, 1)
    with pytest.raises(ValueError, match=r"vocabulary_size must be at most 1099511627776"):
        mn.MemN2NParameters.initialize(
            np.random.default_rng(0), vocabulary_size=2**40 + 1, embedding_dim=1, hops=1
        )
    with pytest.raises(ValueError, match="num_words and dim asks for"):
        mn.position_encoding(10**6, 10**6)
    with pytest.raises(ValueError, match="hops must be at most 1000"):
        mn.MemN2NParameters.initialize(
            np.random.default_rng(0), vocabulary_size=5, embedding_dim=3, hops=10**9
        )
    with pytest.raises(TypeError, match="use_position_encoding must be a bool"):
        mn.memn2n_forward(p, np.array([[1, 2]]), np.array([3, 4]), use_position_encoding=1)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="num_words must be an int"):
        mn.position_encoding(3.0, 2)  # type: ignore[arg-type]
    assert mn.position_encoding(np.int64(3), np.int32(2)).shape == (3, 2)  # NumPy ints accepted
