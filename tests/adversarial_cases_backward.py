"""Adversarial cases for the backward family (the VJP modules); see test_adversarial.py.

``impl.attention_backward`` and ``impl.recurrent_backward``. Each factory
returns the arguments of one small valid call (fresh arrays, a fresh seeded
generator every time). ``DOCUMENTED`` lists the perturbations whose non-error
result the callable's docstring documents, with a predicate.
"""

import dataclasses
from collections.abc import Callable
from typing import Any

import numpy as np

from impl.attention_backward import multi_head_attention_vjp
from impl.multihead import TransformerAttentionParameters
from impl.scores import AdditiveScoreParameters, BilinearScoreParameters

# The shared factories of the attention family's cases (one copy for every case file).
from tests.adversarial_cases_attention import Factory, _gru, _lstm, _mask, _normal, _rng


def _transformer() -> TransformerAttentionParameters:
    rng = _rng(5)
    return TransformerAttentionParameters(
        W_q=rng.normal(size=(4, 4)),
        W_k=rng.normal(size=(4, 4)),
        W_v=rng.normal(size=(4, 4)),
        W_o=rng.normal(size=(4, 4)),
        num_heads=4,  # not 2: a mask "broadcast up" to (2, L, S) must not pass as per-head
        b_q=rng.normal(size=4),
        b_k=rng.normal(size=4),
        b_v=rng.normal(size=4),
        b_o=rng.normal(size=4),
    )


def _mha_arguments() -> dict[str, object]:
    return {
        "query": _normal(3, 4),
        "key": _normal(5, 4, seed=1),
        "value": _normal(5, 4, seed=2),
        "parameters": _transformer(),
        "grad_output": _normal(3, 4, seed=3),
        "key_padding_mask": np.array([True, True, False, True, True]),
        "mask": _mask(3, 5),
        "is_causal": False,
    }


def _sdpa_forward_arguments() -> dict[str, object]:
    """Grouped-query attention: 4 query heads over 2 key/value heads, a boolean mask."""
    return {
        "query": _normal(4, 3, 2, dtype=np.float32),
        "key": _normal(2, 5, 2, seed=1, dtype=np.float32),
        "value": _normal(2, 5, 3, seed=2, dtype=np.float32),
        "mask": _mask(3, 5),
        "scale": 0.5,
        "is_causal": False,
        "enable_gqa": True,
    }


def _sdpa_vjp_arguments() -> dict[str, object]:
    """A float (additive) mask and the memory-efficient path (stored log-sum-exp and output)."""
    query, key, value = _normal(3, 2), _normal(5, 2, seed=1), _normal(5, 3, seed=2)
    additive = np.where(_mask(3, 5), 0.0, -1.0) + _normal(3, 5, seed=4)
    scores = 0.5 * query @ key.T + additive
    top = scores.max(axis=-1, keepdims=True)
    weights = np.exp(scores - top)
    total = weights.sum(axis=-1, keepdims=True)
    return {
        "query": query,
        "key": key,
        "value": value,
        "grad_output": _normal(3, 3, seed=3),
        "mask": additive,
        "scale": 0.5,
        "is_causal": False,
        "enable_gqa": False,
        "logsumexp": (np.log(total) + top)[..., 0],
        "output": (weights / total) @ value,
    }


VALID_CALLS: dict[str, Factory] = {
    # ---------------------------------------------------------------- attention_backward
    "impl.attention_backward.softmax_vjp": lambda: {
        "logits": _normal(3, 4),
        "grad_output": _normal(3, 4, seed=1),
        "mask": _mask(3, 4),
    },
    "impl.attention_backward.log_softmax_vjp": lambda: {
        "logits": _normal(3, 4, dtype=np.float32),
        "grad_output": _normal(3, 4, seed=1, dtype=np.float32),
        "mask": _mask(3, 4),
    },
    "impl.attention_backward.logsumexp": lambda: {"logits": _normal(3, 4), "mask": _mask(3, 4)},
    "impl.attention_backward.logsumexp_vjp": lambda: {
        "logits": _normal(3, 4),
        "grad_output": _normal(3, seed=1),
        "mask": _mask(3, 4),
    },
    "impl.attention_backward.scaled_dot_product_attention_forward": _sdpa_forward_arguments,
    "impl.attention_backward.scaled_dot_product_attention_vjp": _sdpa_vjp_arguments,
    "impl.attention_backward.additive_score_vjp": lambda: {
        "query": _normal(2, 4),
        "keys": _normal(5, 3, seed=1),
        "parameters": AdditiveScoreParameters.initialize(
            _rng(), key_dim=3, query_dim=4, hidden_dim=2
        ),
        "grad_scores": _normal(2, 5, seed=2),
    },
    "impl.attention_backward.bilinear_score_vjp": lambda: {
        "query": _normal(2, 4),
        "keys": _normal(5, 3, seed=1),
        "parameters": BilinearScoreParameters.initialize(_rng(), key_dim=3, query_dim=4),
        "grad_scores": _normal(2, 5, seed=2),
    },
    "impl.attention_backward.multi_head_attention_vjp": _mha_arguments,
    "impl.attention_backward.MultiHeadGradients.torch_layout": lambda: {
        "self": multi_head_attention_vjp(**_mha_arguments())  # type: ignore[arg-type]
    },
    # ---------------------------------------------------------------- recurrent_backward
    "impl.recurrent_backward.lstm_cell_vjp": lambda: {
        "x": _normal(2, 3),
        "state": (_normal(2, 4, seed=1), _normal(2, 4, seed=2)),
        "params": _lstm(),
        "grad_h": _normal(2, 4, seed=3),
        "grad_c": _normal(2, 4, seed=4),
    },
    "impl.recurrent_backward.lstm_sequence_vjp": lambda: {
        "xs": _normal(5, 3),
        "params": _lstm(),
        "grad_hs": _normal(5, 4, seed=3),
        "initial": (_normal(4, seed=1), _normal(4, seed=2)),
        "grad_final": (_normal(4, seed=4), _normal(4, seed=5)),
    },
    "impl.recurrent_backward.gru_cell_vjp": lambda: {
        "x": _normal(2, 3),
        "h": _normal(2, 4, seed=1),
        "params": _gru(),
        "grad_h": _normal(2, 4, seed=3),
    },
    "impl.recurrent_backward.gru_sequence": lambda: {
        "xs": _normal(5, 3),
        "params": _gru(),
        "initial": _normal(4, seed=1),
    },
    "impl.recurrent_backward.gru_sequence_vjp": lambda: {
        "xs": _normal(5, 3),
        "params": _gru(),
        "grad_hs": _normal(5, 4, seed=3),
        "initial": _normal(4, seed=1),
    },
    "impl.recurrent_backward.lstm_gradients_to_torch": lambda: {"grads": _lstm()},
    "impl.recurrent_backward.gru_gradients_to_torch": lambda: {"grads": _gru()},
}

OUTPUT_RECORDS: dict[str, str] = {
    "impl.attention_backward.AttentionGradients": "returned by scaled_dot_product_attention_vjp",
    "impl.attention_backward.AdditiveScoreGradients": "returned by additive_score_vjp",
    "impl.attention_backward.BilinearScoreGradients": "returned by bilinear_score_vjp",
    "impl.attention_backward.MultiHeadGradients": "returned by multi_head_attention_vjp",
    "impl.recurrent_backward.LSTMStepGradients": "returned by lstm_cell_vjp",
    "impl.recurrent_backward.LSTMSequenceGradients": "returned by lstm_sequence_vjp",
    "impl.recurrent_backward.GRUStepGradients": "returned by gru_cell_vjp",
    "impl.recurrent_backward.GRUSequenceGradients": "returned by gru_sequence_vjp",
}


def _floats(value: object) -> list[np.ndarray[Any, Any]]:
    if isinstance(value, np.ndarray):
        return [value] if value.dtype.kind == "f" else []
    if isinstance(value, tuple | list):
        return [a for item in value for a in _floats(item)]
    if isinstance(value, dict):
        return [a for item in value.values() for a in _floats(item)]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return [a for f in dataclasses.fields(value) for a in _floats(getattr(value, f.name))]
    return []


def _finite(result: object) -> bool:
    """Every float array in the result is finite (the documented stable computation)."""
    return all(bool(np.isfinite(a).all()) for a in _floats(result))


def _no_nan(result: object) -> bool:
    """No NaN (−inf is the documented log-sum-exp of a fully masked row)."""
    return not any(bool(np.isnan(a).any()) for a in _floats(result))


_SOFTMAX_KEYS = tuple(
    f"impl.attention_backward.{name}"
    for name in ("softmax_vjp", "log_softmax_vjp", "logsumexp", "logsumexp_vjp")
)

# Both modules document: finite inputs of any size give a finite result (max-shifted softmax,
# saturating tanh/σ) or a ValueError naming the arguments whose product overflowed.
DOCUMENTED: dict[tuple[str, str, str], Callable[[object], bool]] = {
    **{(key, "*", size): _finite for key in VALID_CALLS for size in ("*huge", "*large")},
    # A logit of −inf is a masked position (its gradient is 0).
    **{(key, "logits", "neginf"): _finite for key in _SOFTMAX_KEYS},
    ("impl.attention_backward.logsumexp", "logits", "neginf"): _no_nan,
    # A float mask of the inputs' dtype is an additive mask (0/1 added to the scores).
    ("impl.attention_backward.scaled_dot_product_attention_forward", "mask", "as_float32"): (
        _finite
    ),
}
