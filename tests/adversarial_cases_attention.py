"""Adversarial cases for the attention family (softmax … recurrent); see test_adversarial.py.

Each factory returns the arguments of one small valid call (fresh arrays and a
fresh seeded generator every time). ``DOCUMENTED`` lists the perturbations
whose non-error result the callable's docstring documents, with a predicate.
"""

import dataclasses
from collections.abc import Callable
from typing import Any

import numpy as np

from impl.hierarchical_attention import (
    AttentionPoolingParameters,
    HierarchicalAttentionParameters,
)
from impl.multihead import SelfAttentionParameters, TransformerAttentionParameters
from impl.pointer_network import PointerNetworkParameters
from impl.recurrent import GateParameters, GRUParameters, LSTMParameters, TorchRNNWeights
from impl.scores import AdditiveScoreParameters, BilinearScoreParameters, scaled_dot_product_score

Factory = Callable[[], dict[str, object]]


def _rng(seed: int = 0) -> np.random.Generator:
    return np.random.default_rng(seed)


def _normal(*shape: int, seed: int = 0, dtype: Any = np.float64) -> np.ndarray[Any, Any]:
    drawn: np.ndarray[Any, Any] = _rng(seed).normal(size=shape).astype(dtype)
    return drawn


def _mask(*shape: int) -> np.ndarray[Any, Any]:
    """A mask with True on and below the diagonal (no fully masked row)."""
    mask: np.ndarray[Any, Any] = np.broadcast_to(
        np.tri(shape[-2], shape[-1], dtype=np.bool_), shape
    )
    return mask.copy()


def _weights() -> np.ndarray[Any, Any]:
    return np.array([[0.2, 0.3, 0.5], [1.0, 0.0, 0.0]])


def _lstm(seed: int = 1, n: int = 3, m: int = 4) -> LSTMParameters:
    return LSTMParameters.initialize(_rng(seed), input_size=n, hidden_size=m)


def _gru(seed: int = 2, n: int = 3, m: int = 4) -> GRUParameters:
    return GRUParameters.initialize(_rng(seed), input_size=n, hidden_size=m)


def _gate(seed: int = 3) -> GateParameters:
    return GateParameters.initialize(_rng(seed), input_size=3, hidden_size=4)


def _pointer() -> PointerNetworkParameters:
    return PointerNetworkParameters.initialize(
        _rng(4), input_size=2, hidden_size=3, attention_size=3
    )


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


def _pooling(seed: int = 6) -> AttentionPoolingParameters:
    return AttentionPoolingParameters.initialize(_rng(seed), input_dim=3, attention_dim=2)


def _han() -> HierarchicalAttentionParameters:
    return HierarchicalAttentionParameters.initialize(_rng(7), input_dim=3, attention_dim=2)


def _torch_weights(gates: int = 4) -> TorchRNNWeights:
    rng = _rng(8)
    return TorchRNNWeights(
        weight_ih=rng.normal(size=(gates * 2, 3)),
        weight_hh=rng.normal(size=(gates * 2, 2)),
        bias_ih=rng.normal(size=gates * 2),
        bias_hh=rng.normal(size=gates * 2),
    )


def _uniform_next(prefix: tuple[int, ...]) -> np.ndarray[Any, Any]:
    """A next-step distribution for ``beam_search``: a fixed, prefix-dependent softmax."""
    logits = np.array([0.1, 0.7, 0.2]) * (1 + len(prefix))
    result: np.ndarray[Any, Any] = logits - np.log(np.exp(logits).sum())
    return result


VALID_CALLS: dict[str, Factory] = {
    # ---------------------------------------------------------------- softmax
    "impl.softmax.softmax": lambda: {"logits": _normal(3, 4), "mask": _mask(3, 4)},
    "impl.softmax.log_softmax": lambda: {"logits": _normal(3, 4), "mask": _mask(3, 4)},
    "impl.softmax.softmax_jacobian": lambda: {"logits": _normal(3, 4), "mask": _mask(3, 4)},
    # ---------------------------------------------------------------- scores
    "impl.scores.transposed_keys": lambda: {"keys": _normal(3, 2)},
    "impl.scores.dot_product_score": lambda: {
        "query": _normal(2, 3),
        "keys": _normal(4, 3, seed=1),
    },
    "impl.scores.scaled_dot_product_score": lambda: {
        "query": _normal(2, 3),
        "keys": _normal(4, 3, seed=1),
    },
    "impl.scores.AdditiveScoreParameters": lambda: {
        "W": _normal(2, 3),
        "U": _normal(2, 4, seed=1),
        "v": _normal(2, seed=2),
    },
    "impl.scores.AdditiveScoreParameters.initialize": lambda: {
        "rng": _rng(),
        "key_dim": 3,
        "query_dim": 4,
        "hidden_dim": 2,
        "dtype": np.float32,
    },
    "impl.scores.AdditiveScoreParameters.score_function": lambda: {
        "self": AdditiveScoreParameters.initialize(_rng(), key_dim=3, query_dim=4, hidden_dim=2)
    },
    "impl.scores.additive_score": lambda: {
        "query": _normal(2, 4),
        "keys": _normal(5, 3, seed=1),
        "parameters": AdditiveScoreParameters.initialize(
            _rng(), key_dim=3, query_dim=4, hidden_dim=2
        ),
    },
    "impl.scores.BilinearScoreParameters": lambda: {"W": _normal(3, 4)},
    "impl.scores.BilinearScoreParameters.initialize": lambda: {
        "rng": _rng(),
        "key_dim": 3,
        "query_dim": 4,
        "dtype": np.float32,
    },
    "impl.scores.BilinearScoreParameters.score_function": lambda: {
        "self": BilinearScoreParameters.initialize(_rng(), key_dim=3, query_dim=4)
    },
    "impl.scores.bilinear_score": lambda: {
        "query": _normal(2, 4),
        "keys": _normal(5, 3, seed=1),
        "parameters": BilinearScoreParameters.initialize(_rng(), key_dim=3, query_dim=4),
    },
    # ---------------------------------------------------------------- attention
    "impl.attention.attention_distribution": lambda: {
        "query": _normal(3, 2),
        "keys": _normal(4, 2, seed=1),
        "score": scaled_dot_product_score,
        "mask": _mask(3, 4),
    },
    "impl.attention.soft_attention": lambda: {
        "query": _normal(3, 2),
        "inputs": _normal(4, 2, seed=1),
        "score": scaled_dot_product_score,
        "mask": _mask(3, 4),
    },
    "impl.attention.key_value_attention": lambda: {
        "query": _normal(3, 2),
        "keys": _normal(4, 2, seed=1),
        "values": _normal(4, 5, seed=2),
        "score": scaled_dot_product_score,
        "mask": _mask(3, 4),
    },
    "impl.attention.sample_attention_index": lambda: {"weights": _weights(), "rng": _rng()},
    "impl.attention.hard_attention_argmax": lambda: {
        "query": _normal(3, 2),
        "inputs": _normal(4, 2, seed=1),
        "score": scaled_dot_product_score,
        "mask": _mask(3, 4),
    },
    "impl.attention.hard_attention_sample": lambda: {
        "query": _normal(3, 2),
        "inputs": _normal(4, 2, seed=1),
        "rng": _rng(),
        "score": scaled_dot_product_score,
        "mask": _mask(3, 4),
    },
    "impl.attention.expected_loss_gradient": lambda: {
        "scores": _normal(2, 3),
        "losses": _normal(2, 3, seed=1),
    },
    "impl.attention.reinforce_gradient_estimate": lambda: {
        "scores": _normal(2, 3),
        "losses": _normal(2, 3, seed=1),
        "rng": _rng(),
        "num_samples": 50,
    },
    "impl.attention.causal_mask": lambda: {"query_length": 3, "key_length": 4},
    "impl.attention.scaled_dot_product_attention_with_weights": lambda: {
        "query": _normal(3, 4, dtype=np.float32),
        "key": _normal(5, 4, seed=1, dtype=np.float32),
        "value": _normal(5, 2, seed=2, dtype=np.float32),
        "mask": _mask(3, 5),
        "scale": 0.5,
        "is_causal": False,
    },
    "impl.attention.scaled_dot_product_attention": lambda: {
        "query": _normal(3, 4, dtype=np.float32),
        "key": _normal(5, 4, seed=1, dtype=np.float32),
        "value": _normal(5, 2, seed=2, dtype=np.float32),
        "mask": _mask(3, 5),
        "scale": 0.5,
        "is_causal": False,
    },
    # ---------------------------------------------------------------- multihead
    "impl.multihead.book_multi_head_attention": lambda: {
        "queries": _normal(3, 2),
        "keys": _normal(4, 2, seed=1),
        "values": _normal(4, 5, seed=2),
        "score": scaled_dot_product_score,
        "mask": _mask(3, 4),
    },
    "impl.multihead.TransformerAttentionParameters": lambda: {
        "W_q": _normal(4, 4),
        "W_k": _normal(4, 4, seed=1),
        "W_v": _normal(4, 4, seed=2),
        "W_o": _normal(4, 4, seed=3),
        "num_heads": 2,
        "b_q": _normal(4, seed=4),
        "b_k": _normal(4, seed=5),
        "b_v": _normal(4, seed=6),
        "b_o": _normal(4, seed=7),
    },
    "impl.multihead.TransformerAttentionParameters.initialize": lambda: {
        "rng": _rng(),
        "model_dim": 4,
        "num_heads": 2,
        "head_dim": 3,
        "dtype": np.float32,
    },
    "impl.multihead.TransformerAttentionParameters.from_torch_layout": lambda: {
        "in_proj_weight": _normal(12, 4),
        "out_proj_weight": _normal(4, 4, seed=1),
        "num_heads": 2,
        "in_proj_bias": _normal(12, seed=2),
        "out_proj_bias": _normal(4, seed=3),
    },
    "impl.multihead.multi_head_attention_with_weights": lambda: {
        "query": _normal(3, 4),
        "key": _normal(5, 4, seed=1),
        "value": _normal(5, 4, seed=2),
        "parameters": _transformer(),
        "key_padding_mask": np.array([True, True, True, False, True]),
        "mask": _mask(3, 5),
        "is_causal": False,
    },
    "impl.multihead.multi_head_attention": lambda: {
        "query": _normal(3, 4),
        "key": _normal(5, 4, seed=1),
        "value": _normal(5, 4, seed=2),
        "parameters": _transformer(),
        "key_padding_mask": np.array([True, True, True, False, True]),
        "mask": _mask(3, 5),
        "is_causal": False,
    },
    "impl.multihead.SelfAttentionParameters": lambda: {
        "W_q": _normal(3, 2),
        "W_k": _normal(3, 2, seed=1),
        "W_v": _normal(3, 4, seed=2),
    },
    "impl.multihead.SelfAttentionParameters.initialize": lambda: {
        "rng": _rng(),
        "input_dim": 3,
        "key_dim": 2,
        "value_dim": 4,
        "dtype": np.float32,
    },
    "impl.multihead.self_attention": lambda: {
        "inputs": _normal(4, 3),
        "parameters": SelfAttentionParameters.initialize(
            _rng(), input_dim=3, key_dim=2, value_dim=4
        ),
        "mask": _mask(4, 4),
        "is_causal": False,
    },
    # ---------------------------------------------------------------- structured attention
    "impl.structured_attention.crf_log_partition": lambda: {
        "unary": _normal(4, 2),
        "pairwise": _normal(3, 2, 2, seed=1),
    },
    "impl.structured_attention.crf_marginals": lambda: {
        "unary": _normal(4, 2),
        "pairwise": _normal(3, 2, 2, seed=1),
    },
    "impl.structured_attention.structured_attention": lambda: {
        "inputs": _normal(4, 3, seed=2),
        "unary": _normal(4, 2),
        "pairwise": _normal(2, 2, seed=1),
    },
    "impl.structured_attention.unary_potentials_from_scores": lambda: {"scores": _normal(2, 4)},
    "impl.structured_attention.unary_potentials": lambda: {
        "inputs": _normal(4, 3),
        "query": _normal(3, seed=1),
        "score": scaled_dot_product_score,
    },
    # ---------------------------------------------------------------- hierarchical attention
    "impl.hierarchical_attention.AttentionPoolingParameters": lambda: {
        "W": _normal(2, 3),
        "b": _normal(2, seed=1),
        "context": _normal(2, seed=2),
    },
    "impl.hierarchical_attention.AttentionPoolingParameters.initialize": lambda: {
        "rng": _rng(),
        "input_dim": 3,
        "attention_dim": 2,
        "dtype": np.float32,
    },
    "impl.hierarchical_attention.HierarchicalAttentionParameters": lambda: {
        "word": _pooling(6),
        "sentence": _pooling(7),
    },
    "impl.hierarchical_attention.HierarchicalAttentionParameters.initialize": lambda: {
        "rng": _rng(),
        "input_dim": 3,
        "attention_dim": 2,
        "dtype": np.float32,
    },
    "impl.hierarchical_attention.attention_pooling_scores": lambda: {
        "states": _normal(4, 3),
        "parameters": _pooling(),
    },
    "impl.hierarchical_attention.attention_pooling": lambda: {
        "states": _normal(2, 4, 3),
        "parameters": _pooling(),
        "mask": np.array([[True, True, False, True], [True, False, False, False]]),
    },
    "impl.hierarchical_attention.hierarchical_attention": lambda: {
        "word_states": _normal(2, 4, 3),
        "parameters": _han(),
        "word_mask": np.array([[True, True, False, True], [True, False, False, False]]),
    },
    # ---------------------------------------------------------------- pointer network
    "impl.pointer_network.PointerNetworkParameters": lambda: {
        "encoder": _lstm(1, n=2, m=3),
        "decoder": _lstm(2, n=2, m=3),
        "attention": AdditiveScoreParameters.initialize(
            _rng(3), key_dim=3, query_dim=3, hidden_dim=2
        ),
        "start": _normal(2, seed=4),
    },
    "impl.pointer_network.PointerNetworkParameters.initialize": lambda: {
        "rng": _rng(),
        "input_size": 2,
        "hidden_size": 3,
        "attention_size": 2,
        "dtype": np.float32,
    },
    "impl.pointer_network.encode": lambda: {"inputs": _normal(4, 2), "params": _pointer()},
    "impl.pointer_network.pointer_step_log_probs": lambda: {
        "inputs": _normal(4, 2),
        "previous_indices": np.array([2, 0]),
        "params": _pointer(),
        "mask_chosen": True,
    },
    "impl.pointer_network.sequence_log_probability": lambda: {
        "inputs": _normal(4, 2),
        "output_indices": np.array([2, 0, 3]),
        "params": _pointer(),
        "mask_chosen": True,
    },
    "impl.pointer_network.greedy_decode": lambda: {
        "inputs": _normal(4, 2),
        "params": _pointer(),
        "output_length": 3,
        "mask_chosen": True,
    },
    "impl.pointer_network.beam_search": lambda: {
        "next_log_probs": _uniform_next,
        "output_length": 3,
        "beam_width": 2,
    },
    "impl.pointer_network.beam_search_decode": lambda: {
        "inputs": _normal(4, 2),
        "params": _pointer(),
        "output_length": 3,
        "beam_width": 2,
        "mask_chosen": True,
    },
    # ---------------------------------------------------------------- recurrent
    "impl.recurrent.GateParameters": lambda: {
        "W": _normal(4, 3),
        "U": _normal(4, 4, seed=1),
        "b": _normal(4, seed=2),
    },
    "impl.recurrent.GateParameters.affine": lambda: {
        "self": _gate(),
        "x": _normal(2, 3),
        "h": _normal(2, 4, seed=1),
    },
    "impl.recurrent.GateParameters.initialize": lambda: {
        "rng": _rng(),
        "input_size": 3,
        "hidden_size": 4,
        "dtype": np.float32,
    },
    "impl.recurrent.LSTMParameters": lambda: {
        "input_gate": _gate(1),
        "forget_gate": _gate(2),
        "output_gate": _gate(3),
        "candidate": _gate(4),
    },
    "impl.recurrent.LSTMParameters.arrays": lambda: {"self": _lstm()},
    "impl.recurrent.LSTMParameters.initialize": lambda: {
        "rng": _rng(),
        "input_size": 3,
        "hidden_size": 4,
        "dtype": np.float32,
    },
    "impl.recurrent.GRUParameters": lambda: {
        "reset_gate": _gate(1),
        "update_gate": _gate(2),
        "candidate": _gate(3),
        "candidate_recurrent_bias": _normal(4),
    },
    "impl.recurrent.GRUParameters.arrays": lambda: {"self": _gru()},
    "impl.recurrent.GRUParameters.initialize": lambda: {
        "rng": _rng(),
        "input_size": 3,
        "hidden_size": 4,
        "dtype": np.float32,
    },
    "impl.recurrent.TorchRNNWeights": lambda: {
        "weight_ih": _normal(8, 3),
        "weight_hh": _normal(8, 2, seed=1),
        "bias_ih": _normal(8, seed=2),
        "bias_hh": _normal(8, seed=3),
    },
    "impl.recurrent.TorchRNNWeights.arrays": lambda: {"self": _torch_weights()},
    "impl.recurrent.TorchRNNWeights.blocks": lambda: {
        "self": _torch_weights(),
        "name": "LSTM",
        "gate_count": 4,
    },
    "impl.recurrent.lstm_cell": lambda: {
        "x": _normal(2, 3),
        "state": (_normal(2, 4, seed=1), _normal(2, 4, seed=2)),
        "params": _lstm(),
    },
    "impl.recurrent.gru_cell": lambda: {
        "x": _normal(2, 3),
        "h": _normal(2, 4, seed=1),
        "params": _gru(),
    },
    "impl.recurrent.lstm_sequence": lambda: {
        "xs": _normal(5, 3),
        "params": _lstm(),
        "initial": (_normal(4, seed=1), _normal(4, seed=2)),
    },
    "impl.recurrent.lstm_to_torch": lambda: {"params": _lstm()},
    "impl.recurrent.lstm_from_torch": lambda: {"weights": _torch_weights(4)},
    "impl.recurrent.gru_to_torch": lambda: {"params": _gru()},
    "impl.recurrent.gru_from_torch": lambda: {"weights": _torch_weights(3)},
    "impl.recurrent.parameter_count": lambda: {"params": _lstm()},
    "impl.recurrent.lstm_parameter_count": lambda: {
        "input_size": 3,
        "hidden_size": 4,
        "biases_per_gate": 2,
    },
    "impl.recurrent.gru_parameter_count": lambda: {
        "input_size": 3,
        "hidden_size": 4,
        "biases_per_gate": 1,
        "reset_after": True,
    },
}

OUTPUT_RECORDS: dict[str, str] = {
    "impl.structured_attention.StructuredAttentionResult": "returned by structured_attention",
    "impl.hierarchical_attention.HierarchicalAttentionResult": "returned by hierarchical_attention",
    "impl.pointer_network.DecodedSequence": "returned by the decoders",
}


def _floats(value: object) -> list[np.ndarray[Any, Any]]:
    if isinstance(value, np.ndarray):
        return [value] if value.dtype.kind == "f" else []
    if isinstance(value, tuple | list):
        return [a for item in value for a in _floats(item)]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return [a for f in dataclasses.fields(value) for a in _floats(getattr(value, f.name))]
    return []


def _finite(result: object) -> bool:
    """Every float array in the result is finite (the documented stable computation)."""
    return all(bool(np.isfinite(a).all()) for a in _floats(result))


def _no_nan(result: object) -> bool:
    """No NaN (−inf is a documented log-probability / masked value)."""
    return not any(bool(np.isnan(a).any()) for a in _floats(result))


def _empty_sequence(result: object) -> bool:
    """M = 0: empty indices and log-probability 0 (the empty sequence has probability 1)."""
    records: tuple[Any, ...] = result if isinstance(result, tuple) else (result,)
    return all(r.indices.shape[-1] == 0 and bool(np.all(r.log_probability == 0)) for r in records)


def _zero(result: object) -> bool:
    return bool(np.all(np.asarray(result) == 0))


def _empty_run(result: object) -> bool:
    """T = 0: no hidden states; the final state is the initial one (finite)."""
    assert isinstance(result, tuple)
    hs: np.ndarray[Any, Any] = result[0]
    return bool(hs.shape[-2] == 0) and _finite(result)


def _exact_int(result: object) -> bool:
    """Parameter counts are exact Python ints for any size (no array is allocated)."""
    return isinstance(result, int) and result > 0


_LOG_PROBABILITIES = {
    "impl.softmax.log_softmax",
    "impl.pointer_network.pointer_step_log_probs",
    "impl.pointer_network.sequence_log_probability",
    "impl.pointer_network.greedy_decode",
    "impl.pointer_network.beam_search_decode",
}
"""Callables whose results may hold −inf (log 0) legitimately: masked or underflowed weights."""

# Every module of this family documents: finite inputs of any size give a finite result
# (a stable computation, e.g. saturated gates, max-shifted softmax) or a ValueError naming
# the arguments whose intermediate overflowed. Containers hold any finite values.
DOCUMENTED: dict[tuple[str, str, str], Callable[[object], bool]] = {
    **{
        (key, "*", size): _no_nan if key in _LOG_PROBABILITIES else _finite
        for key in VALID_CALLS
        for size in ("*huge", "*large")
    },
    ("impl.pointer_network.beam_search", "next_log_probs", "returns_other_dtype"): _no_nan,
    **{
        (key, "logits", "neginf"): _no_nan
        for key in (
            "impl.softmax.softmax",
            "impl.softmax.log_softmax",
            "impl.softmax.softmax_jacobian",
        )
    },
    ("impl.attention.scaled_dot_product_attention", "mask", "as_float32"): _finite,
    ("impl.attention.scaled_dot_product_attention_with_weights", "mask", "as_float32"): _finite,
    ("impl.pointer_network.greedy_decode", "output_length", "zero"): _empty_sequence,
    ("impl.pointer_network.beam_search", "output_length", "zero"): _empty_sequence,
    ("impl.pointer_network.beam_search_decode", "output_length", "zero"): _empty_sequence,
    ("impl.pointer_network.sequence_log_probability", "output_indices", "empty_axis0"): _zero,
    ("impl.pointer_network.pointer_step_log_probs", "previous_indices", "empty_axis0"): _no_nan,
    ("impl.recurrent.lstm_sequence", "xs", "empty_axis0"): _empty_run,
    **{
        (key, size_argument, size): _exact_int
        for key in ("impl.recurrent.lstm_parameter_count", "impl.recurrent.gru_parameter_count")
        for size_argument in ("input_size", "hidden_size")
        for size in ("huge", "overflow")
    },
}
