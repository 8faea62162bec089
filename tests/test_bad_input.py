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
    with pytest.raises(ValueError, match=r"must have shape \(T, K, M\)"):
        summarise_recalls(states[0], states[0], converged=np.ones(2, dtype=bool), **options)
