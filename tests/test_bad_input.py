"""Wrong argument types and shapes found by a signature-driven fuzz of impl's public API.

Each call used to fail deep inside NumPy or with an AttributeError; it now
raises a TypeError/ValueError naming the argument.
"""

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from impl.hierarchical_attention import (
    AttentionPoolingParameters,
    attention_pooling,
    hierarchical_attention,
)
from impl.multihead import multi_head_attention, self_attention
from impl.neural_stack import pop_from_bottom, pop_from_top
from impl.neural_turing_machine import ntm_step
from impl.scores import additive_score, bilinear_score
from impl.tree_memory import tree_path

X = np.ones((2, 3))
W: Any = np.eye(3)  # a matrix where a parameter container belongs (an untyped caller)
NOT_AN_INT: Any = 1.5


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: additive_score(X, X, W), "parameters must be a AdditiveScoreParameters"),
        (lambda: bilinear_score(X, X, W), "parameters must be a BilinearScoreParameters"),
        (lambda: attention_pooling(X, W), "parameters must be a AttentionPoolingParameters"),
        (
            lambda: hierarchical_attention(np.ones((1, 2, 3)), W),
            "parameters must be a HierarchicalAttentionParameters",
        ),
        (lambda: multi_head_attention(X, X, X, W), "parameters must be a TransformerAttention"),
        (lambda: self_attention(X, W), "parameters must be a SelfAttentionParameters"),
        (
            lambda: ntm_step(X, np.full(2, 0.5), np.full(2, 0.5), W, W),
            "read_head must be a HeadParameters",
        ),
        (lambda: tree_path(NOT_AN_INT, 2, 2), "leaf must be an int"),
    ],
)
def test_parameter_containers_are_type_checked(call: Callable[[], Any], match: str) -> None:
    with pytest.raises(TypeError, match=match):
        call()


def test_attention_pooling_accepts_its_container() -> None:
    params = AttentionPoolingParameters.initialize(
        np.random.default_rng(0), input_dim=3, attention_dim=2
    )
    pooled, weights = attention_pooling(X, params)
    assert pooled.shape == (3,)
    np.testing.assert_allclose(weights.sum(), 1.0, rtol=1e-12)  # float64, 2 terms


@pytest.mark.parametrize("pop", [pop_from_top, pop_from_bottom])
def test_pop_batch_mismatch_names_pop(pop: Callable[[Any, Any], Any]) -> None:
    strengths = np.full((2, 3), 0.5)
    with pytest.raises(ValueError, match=r"pop has shape \(3,\)"):
        pop(strengths, np.full(3, 0.5))


def test_tree_path_range_checked() -> None:
    assert tree_path(3, 2, 2) == (0, 1, 3)
    with pytest.raises(ValueError, match="0 ≤ leaf < branching"):
        tree_path(4, 2, 2)
    with pytest.raises(ValueError, match="branching ≥ 2"):
        tree_path(0, 1, 2)


@pytest.mark.parametrize(
    ("scores", "losses", "match"),
    [
        (np.ones((2, 3)), np.ones(4), r"scores \(2, 3\) and losses \(4,\) must broadcast"),
        (np.ones((2, 1)), np.ones(4), "losses has 4 entries per row, scores has 1"),
    ],
)
def test_reinforce_shapes_are_named(scores: Any, losses: Any, match: str) -> None:
    from impl.attention import expected_loss_gradient, reinforce_gradient_estimate

    with pytest.raises(ValueError, match=match):
        expected_loss_gradient(scores, losses)
    with pytest.raises(ValueError, match=match):
        reinforce_gradient_estimate(scores, losses, np.random.default_rng(0), num_samples=2)


def test_summarise_recalls_names_bad_arguments() -> None:
    from impl.hopfield_capacity import summarise_recalls

    states = np.ones((3, 2, 4))
    options: dict[str, Any] = {
        "rule": "hebbian",
        "load": 0.5,
        "n_patterns": 2,
        "noise_fraction": 0.0,
        "sweeps": 1,
    }
    with pytest.raises(TypeError, match="converged must be a bool array"):
        summarise_recalls(states, states, converged=NOT_AN_INT, **options)
    with pytest.raises(ValueError, match="final_states"):
        summarise_recalls(states[0], states[0], converged=np.ones(2, dtype=bool), **options)


def _attention_containers() -> list[Any]:
    from impl.multihead import TransformerAttentionParameters
    from impl.pointer_network import PointerNetworkParameters
    from impl.recurrent import GRUParameters, lstm_to_torch
    from impl.scores import AdditiveScoreParameters, BilinearScoreParameters

    rng = np.random.default_rng(0)
    pointer = PointerNetworkParameters.initialize(
        rng, input_size=2, hidden_size=3, attention_size=2
    )
    return [
        AdditiveScoreParameters.initialize(rng, key_dim=2, query_dim=3, hidden_dim=2),
        BilinearScoreParameters.initialize(rng, key_dim=2, query_dim=3),
        TransformerAttentionParameters.initialize(rng, model_dim=4, num_heads=2),
        AttentionPoolingParameters.initialize(rng, input_dim=3, attention_dim=2),
        GRUParameters.initialize(rng, input_size=2, hidden_size=3),
        lstm_to_torch(pointer.encoder),
        pointer,
        pointer.encoder.input_gate,
    ]


@pytest.mark.parametrize("container", _attention_containers(), ids=lambda c: type(c).__name__)
def test_container_arrays_cannot_be_edited_in_place(container: Any) -> None:
    """Issue 7, class 1: an in-place edit (as a training step would do) raises, not corrupts.

    The container keeps read-only private copies, so ``W[0, 0] = nan`` raises
    NumPy's read-only error; the value the checks accepted stays in force.
    """
    import dataclasses

    arrays = [
        (f.name, getattr(container, f.name))
        for f in dataclasses.fields(container)
        if isinstance(getattr(container, f.name), np.ndarray)
    ]
    assert arrays, "the container holds at least one array"
    for name, array in arrays:
        with pytest.raises(ValueError, match="read-only"):
            array.flat[0] = np.nan
        assert np.isfinite(getattr(container, name)).all()


def test_containers_copy_the_callers_arrays_and_replace_rechecks() -> None:
    """The container's copy is private (editing the caller's array changes nothing), and
    ``dataclasses.replace`` runs the checks again."""
    import dataclasses

    from impl.scores import AdditiveScoreParameters

    W, U, v = np.ones((2, 3)), np.ones((2, 4)), np.ones(2)
    params = AdditiveScoreParameters(W=W, U=U, v=v)
    W[0, 0] = np.nan  # the caller's array stays writable and is not shared
    assert np.isfinite(params.W).all()
    bad = params.W.copy()
    bad[0, 0] = np.inf
    with pytest.raises(ValueError, match="W contains an infinite value"):
        dataclasses.replace(params, W=bad)
    with pytest.raises(ValueError, match="W, U and v must share the hidden size"):
        dataclasses.replace(params, v=np.ones(3))
    with pytest.raises(TypeError, match="W float32, U float64, v float64"):
        dataclasses.replace(params, W=params.W.astype(np.float32))


def test_score_overflow_is_one_named_error_and_no_warning() -> None:
    """Scores that overflow (q·x = 3e400) or a projection whose sum is inf − inf (W x =
    1e309 − 1e309) raise the named ValueError; NumPy's RuntimeWarnings stay inside."""
    import warnings

    from impl.scores import AdditiveScoreParameters, dot_product_score

    big = np.full((2, 3), 1e200)
    cancelling = AdditiveScoreParameters(W=np.array([[10.0, -10.0]]), U=np.eye(1), v=np.ones(1))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(ValueError, match="query and keys are too large"):
            dot_product_score(big, big)
        with pytest.raises(ValueError, match="query, keys and parameters are too large"):
            additive_score(np.ones((1, 1)), np.full((1, 2), 1e308), cancelling)


def test_scale_is_checked_in_the_inputs_dtype() -> None:
    """Issue 7, class 2: scale = 1e39 is finite in float64 but inf in float32: refused there."""
    from impl.attention import scaled_dot_product_attention

    q32 = np.ones((2, 3), dtype=np.float32)
    q64 = q32.astype(np.float64)
    with pytest.raises(ValueError, match="scale = 1e\\+39 overflows float32"):
        scaled_dot_product_attention(q32, q32, q32, scale=1e39)
    with pytest.raises(ValueError, match="scale = 1e-320 is below the smallest normal"):
        scaled_dot_product_attention(q64, q64, q64, scale=1e-320)
    with pytest.raises(ValueError, match="scores"):  # 1e39 is fine in float64, the scores not
        scaled_dot_product_attention(np.full((2, 3), 1e300), q64, q64, scale=1e39)
    out = scaled_dot_product_attention(q32, q32, q32, scale=np.float32(0.5))  # NumPy scalar
    assert out.dtype == np.float32


def test_masks_that_would_enlarge_the_result_are_refused() -> None:
    """Issue 7, class 5: a mask with more axes than the scores, a float mask of the other
    dtype, a 0-d or list mask, and a non-bool is_causal are named errors."""
    from impl.attention import scaled_dot_product_attention
    from impl.softmax import softmax

    x = np.ones((3, 4))
    with pytest.raises(ValueError, match="must not enlarge the result"):
        softmax(x, np.ones((2, 3, 4), dtype=bool))
    with pytest.raises(TypeError, match="0-d"):
        softmax(x, np.array(True))
    with pytest.raises(TypeError, match="mask must be a numpy bool array, got list"):
        softmax(x, [[True] * 4] * 3)  # type: ignore[arg-type]  # deliberately wrong
    q = np.ones((3, 2))
    with pytest.raises(TypeError, match="mixing float32 and float64"):
        scaled_dot_product_attention(q, q, q, np.zeros((3, 3), dtype=np.float32))
    with pytest.raises(TypeError, match="is_causal must be a bool"):
        scaled_dot_product_attention(q, q, q, is_causal=1)  # type: ignore[arg-type]


def test_sizes_that_would_run_for_minutes_are_refused() -> None:
    """Issue 7, class 6: beam widths, output lengths and sample counts have stated limits;
    float and str sizes are a TypeError, NumPy ints are accepted."""
    from impl.attention import causal_mask, reinforce_gradient_estimate
    from impl.pointer_network import beam_search

    def uniform(prefix: tuple[int, ...]) -> Any:
        return np.log(np.full(2, 0.5))

    with pytest.raises(ValueError, match="beam_width must be at most 10000"):
        beam_search(uniform, output_length=2, beam_width=10**9)
    with pytest.raises(ValueError, match="output_length must be at most 100000"):
        beam_search(uniform, output_length=10**9, beam_width=2)
    with pytest.raises(ValueError, match="num_samples must be at most 1000000"):
        reinforce_gradient_estimate(
            np.zeros(2), np.zeros(2), np.random.default_rng(0), num_samples=10**12
        )
    with pytest.raises(ValueError, match="query_length and key_length asks for"):
        causal_mask(10**6, 10**6)
    with pytest.raises(TypeError, match="output_length must be an int, got float"):
        beam_search(uniform, output_length=2.0, beam_width=2)  # type: ignore[arg-type]
    assert len(beam_search(uniform, output_length=np.int64(2), beam_width=np.int32(2))) == 2
