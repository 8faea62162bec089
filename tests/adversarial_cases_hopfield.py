"""Adversarial cases for the Hopfield family (issue 7): one valid call per public callable.

Modules: ``impl.hopfield``, ``impl.continuous_hopfield``, ``impl.modern_hopfield``,
``impl.bidirectional_memory``, ``impl.hopfield_capacity``. The harness
(``tests/test_adversarial.py``) perturbs one argument of each call at a time and
requires a named error or one of the ``DOCUMENTED`` results below.

Most factories use float32 arrays, so that scalars are checked in the dtype they
are used in: a gain or β of 1e39 (finite in float64) is an error naming it.
"""

import dataclasses
from collections.abc import Callable
from typing import Any

import numpy as np

from impl import hopfield as hop

F32 = np.float32


def _rng() -> np.random.Generator:
    return np.random.default_rng(7)


def _signs(shape: tuple[int, ...], seed: int = 0, dtype: Any = F32) -> np.ndarray[Any, Any]:
    return np.where(np.random.default_rng(seed).random(shape) < 0.5, -1.0, 1.0).astype(dtype)


def _hebbian(m: int = 5, n: int = 2, dtype: Any = F32) -> np.ndarray[Any, Any]:
    return hop.hebbian_weights(_signs((n, m), 1, dtype))


def _continuous_weights(m: int = 4) -> np.ndarray[Any, Any]:
    a = np.random.default_rng(3).normal(size=(m, m))
    return ((a + a.T) / 2).astype(F32)


def _finite(result: object) -> bool:
    """The documented result: the call succeeds and returns only finite numbers."""
    if dataclasses.is_dataclass(result) and not isinstance(result, type):
        held = [getattr(result, f.name) for f in dataclasses.fields(result)]
    else:
        held = [result]
    values = [a for a in held if isinstance(a, np.ndarray) and a.dtype.kind == "f"]
    return all(bool(np.isfinite(a).all()) for a in values)


def _is_array(result: object) -> bool:
    return isinstance(result, np.ndarray)


def _empty(result: object) -> bool:
    return isinstance(result, np.ndarray) and result.size == 0


# --------------------------------------------------------------------------- impl.hopfield


def _network() -> dict[str, object]:
    return {"state": _signs((5,), 2), "weights": _hebbian(), "bias": np.full(5, 0.25, dtype=F32)}


VALID_CALLS: dict[str, Callable[[], dict[str, object]]] = {
    "impl.hopfield.validate_weights": lambda: {"weights": _hebbian(), "allow_asymmetric": False},
    "impl.hopfield.local_field": lambda: {**_network(), "allow_nonzero_diagonal": False},
    "impl.hopfield.energy": lambda: {**_network(), "allow_asymmetric": False},
    "impl.hopfield.update_neuron": lambda: {**_network(), "i": 2},
    "impl.hopfield.asynchronous_sweep": lambda: {**_network(), "order": np.array([4, 0, 3, 1, 2])},
    "impl.hopfield.synchronous_update": _network,
    "impl.hopfield.run_to_fixed_point": lambda: {
        **_network(),
        "rng": _rng(),
        "max_sweeps": 20,
    },
    "impl.hopfield.hebbian_weights": lambda: {"patterns": _signs((3, 5), 4)},
    "impl.hopfield.hebbian_add": lambda: {
        "weights": _hebbian(),
        "new_patterns": _signs((2, 5), 5),
        "n_stored": 2,
    },
    "impl.hopfield.pseudo_inverse_weights": lambda: {"patterns": _signs((3, 6), 4)},
    "impl.hopfield.storkey_weights": lambda: {"patterns": _signs((3, 6), 4)},
    # ----------------------------------------------------------------- continuous
    "impl.continuous_hopfield.continuous_hopfield_activation": lambda: {
        "potentials": np.linspace(-2, 2, 4, dtype=F32),
        "gain": 1.5,
    },
    "impl.continuous_hopfield.artanh_antiderivative": lambda: {
        "states": np.array([-0.5, 0.0, 0.9], dtype=F32)
    },
    "impl.continuous_hopfield.continuous_hopfield_energy": lambda: {
        "states": np.array([0.5, -0.2, 0.1, 0.9], dtype=F32),
        "weights": _continuous_weights(),
        "biases": np.full(4, 0.1, dtype=F32),
        "gain": 2.0,
    },
    "impl.continuous_hopfield.continuous_hopfield_update_neuron": lambda: {
        "states": np.array([0.5, -0.2, 0.1, 0.9], dtype=F32),
        "index": 1,
        "weights": _continuous_weights(),
        "gain": 2.0,
    },
    "impl.continuous_hopfield.continuous_hopfield_asynchronous_sweep": lambda: {
        "states": np.array([0.5, -0.2, 0.1, 0.9], dtype=F32),
        "weights": _continuous_weights(),
        "gain": 2.0,
        "order": np.array([3, 1, 0, 2]),
    },
    "impl.continuous_hopfield.continuous_hopfield_synchronous_update": lambda: {
        "states": np.array([0.5, -0.2, 0.1, 0.9], dtype=F32),
        "weights": _continuous_weights(),
        "gain": 2.0,
    },
    "impl.continuous_hopfield.continuous_hopfield_velocity": lambda: {
        "potentials": np.array([0.5, -0.2, 0.1, 0.9], dtype=F32),
        "weights": _continuous_weights(),
        "gain": 2.0,
        "time_constant": 0.5,
    },
    "impl.continuous_hopfield.integrate_continuous_hopfield": lambda: {
        "potentials": np.array([0.5, -0.2, 0.1, 0.9], dtype=F32),
        "weights": _continuous_weights(),
        "gain": 2.0,
        "time_constant": 1.0,
        "step_size": 0.05,
        "num_steps": 5,
        "method": "rk4",
    },
    # ----------------------------------------------------------------- modern
    "impl.modern_hopfield.log_sum_exp": lambda: {
        "values": np.array([[0.5, -1.0, 2.0]], dtype=F32),
        "beta": 2.0,
    },
    "impl.modern_hopfield.inverse_temperature_score": lambda: {"beta": 0.5},
    "impl.modern_hopfield.modern_hopfield_update": lambda: {
        "states": np.array([0.3, -0.1, 0.8], dtype=F32),
        "patterns": _signs((4, 3), 6),
        "beta": 2.0,
    },
    "impl.modern_hopfield.modern_hopfield_energy": lambda: {
        "states": np.array([0.3, -0.1, 0.8], dtype=F32),
        "patterns": _signs((4, 3), 6),
        "beta": 2.0,
    },
    "impl.modern_hopfield.modern_hopfield_retrieve": lambda: {
        "states": np.array([0.3, -0.1, 0.8], dtype=F32),
        "patterns": _signs((4, 3), 6),
        "beta": 2.0,
        "max_iterations": 5,
        "tolerance": 1e-3,
    },
    "impl.modern_hopfield.pattern_separation": lambda: {
        "patterns": np.array([[1.0, 0.5], [-0.5, 1.0], [0.2, -1.0]], dtype=F32),
        "states": np.array([[0.9, 0.4], [-0.4, 0.8], [0.1, -0.9]], dtype=F32),
    },
    "impl.modern_hopfield.one_step_retrieval_error_bound": lambda: {
        "states": np.array([0.9, 0.4], dtype=F32),
        "patterns": np.array([[1.0, 0.5], [-0.5, 1.0], [0.2, -1.0]], dtype=F32),
        "index": 0,
        "beta": 3.0,
    },
    "impl.modern_hopfield.paper_separation_threshold": lambda: {
        "num_patterns": 4,
        "beta": 2.0,
        "max_norm": 1.5,
    },
    "impl.modern_hopfield.dense_associative_energy": lambda: {
        "states": _signs((2, 6), 8),
        "patterns": _signs((3, 6), 9),
        "interaction": "polynomial",
        "degree": 3,
    },
    "impl.modern_hopfield.dense_associative_update_neuron": lambda: {
        "states": _signs((6,), 8),
        "index": 2,
        "patterns": _signs((3, 6), 9),
        "degree": 4,
    },
    "impl.modern_hopfield.dense_associative_sweep": lambda: {
        "states": _signs((6,), 8),
        "patterns": _signs((3, 6), 9),
        "interaction": "exponential",
        "order": np.array([5, 4, 3, 2, 1, 0]),
    },
    # ----------------------------------------------------------------- BAM
    "impl.bidirectional_memory.bam_weights": lambda: {
        "x_patterns": _signs((2, 5), 10),
        "y_patterns": _signs((2, 3), 11),
    },
    "impl.bidirectional_memory.bam_energy": lambda: {
        "x": _signs((5,), 12),
        "y": _signs((3,), 13),
        "weights": _signs((3, 5), 14),
    },
    "impl.bidirectional_memory.bam_recall": lambda: {
        "x": _signs((5,), 12),
        "weights": _signs((3, 5), 14),
        "y": _signs((3,), 13),
        "max_rounds": 10,
    },
    "impl.bidirectional_memory.corrupt_patterns": lambda: {
        "patterns": _signs((2, 5), 15),
        "num_flips": 2,
        "rng": _rng(),
    },
    # ----------------------------------------------------------------- capacity
    "impl.hopfield_capacity.storage_rule": lambda: {"name": "storkey"},
    "impl.hopfield_capacity.patterns_for_load": lambda: {"load": 0.2, "n_neurons": 20},
    "impl.hopfield_capacity.random_patterns": lambda: {
        "rng": _rng(),
        "shape": (2, 3),
        "dtype": F32,
    },
    "impl.hopfield_capacity.flip_bits": lambda: {
        "patterns": _signs((2, 6), 16),
        "fraction": 0.3,
        "rng": _rng(),
    },
    "impl.hopfield_capacity.overlap": lambda: {
        "states": _signs((2, 6), 16),
        "patterns": _signs((2, 6), 17),
    },
    "impl.hopfield_capacity.recall": lambda: {
        "starts": _signs((2, 2, 5), 18),
        "weights": np.stack([_hebbian(5, 2), _hebbian(5, 1)]),
        "rng": _rng(),
        "max_sweeps": 10,
    },
    "impl.hopfield_capacity.one_step_bit_errors": lambda: {
        "patterns": _signs((2, 5), 1),
        "weights": _hebbian(5, 2),
    },
    "impl.hopfield_capacity.wilson_interval": lambda: {
        "successes": 3,
        "trials": 10,
        "confidence": 0.9,
    },
    "impl.hopfield_capacity.student_t_quantile": lambda: {"probability": 0.9, "dof": 3},
    "impl.hopfield_capacity.summarise_recalls": lambda: {
        "final_states": _signs((2, 2, 5), 19),
        "recalled": _signs((2, 2, 5), 20),
        "rule": "hebbian",
        "load": 0.2,
        "n_patterns": 2,
        "noise_fraction": 0.1,
        "converged": np.array([[True, False], [True, True]]),
        "sweeps": 3,
    },
    "impl.hopfield_capacity.measure_recall": lambda: {
        "rng": _rng(),
        "n_neurons": 12,
        "load": 0.2,
        "rule": "hebbian",
        "n_trials": 2,
        "noise_fractions": (0.0, 0.1),
        "recalls_per_trial": 2,
        "max_sweeps": 10,
        "dtype": F32,
    },
    "impl.hopfield_capacity.critical_load": lambda: {
        "loads": np.array([0.1, 0.2, 0.3]),
        "fractions": np.array([0.9, 0.6, 0.2]),
        "level": 0.5,
    },
}

OUTPUT_RECORDS: dict[str, str] = {
    "impl.hopfield.HopfieldRun": "returned by run_to_fixed_point; arrays are read-only copies",
    "impl.continuous_hopfield.ContinuousHopfieldTrajectory": (
        "returned by integrate_continuous_hopfield"
    ),
    "impl.modern_hopfield.ModernHopfieldRetrieval": "returned by modern_hopfield_retrieve",
    "impl.bidirectional_memory.BamRecall": "returned by bam_recall",
    "impl.hopfield_capacity.RecallResult": "returned by recall",
    "impl.hopfield_capacity.RecallStatistics": "returned by measure_recall/summarise_recalls",
}


def _is_float(result: object) -> bool:
    return isinstance(result, float)


def _nan_or_float(result: object) -> bool:
    """critical_load: a load, or nan when the curve never falls below the level (documented)."""
    return isinstance(result, float)


def _interval(result: object) -> bool:
    return isinstance(result, tuple) and len(result) == 2 and 0 <= result[0] <= result[1] <= 1


def _is_statistics(result: object) -> bool:
    return type(result).__name__ == "RecallStatistics"


def _returns_callable(result: object) -> bool:
    return callable(result)


H = "impl.hopfield."
C = "impl.continuous_hopfield."
MH = "impl.modern_hopfield."
B = "impl.bidirectional_memory."
CAP = "impl.hopfield_capacity."

DOCUMENTED: dict[tuple[str, str, str], Callable[[object], bool]] = {
    # Finite inputs below the documented overflow bound (Σ|w| + Σ|b| ≤ finfo.max / 4):
    # accepted, with finite results.
    **{
        (H + f, "bias", "large"): _finite
        for f in (
            "local_field",
            "energy",
            "update_neuron",
            "asynchronous_sweep",
            "synchronous_update",
            "run_to_fixed_point",
        )
    },
    # ``order`` may be a list of ints (documented: IntArray | list[int]).
    (H + "asynchronous_sweep", "order", "list"): _is_array,
    (C + "continuous_hopfield_asynchronous_sweep", "order", "list"): _is_array,
    (MH + "dense_associative_sweep", "order", "list"): _is_array,
    # Index 0 is a valid index.
    (H + "update_neuron", "i", "zero"): _is_array,
    (C + "continuous_hopfield_update_neuron", "index", "zero"): _is_array,
    (MH + "dense_associative_update_neuron", "index", "zero"): _is_array,
    # Continuous network: finite states, potentials and weights below finfo.max / 4 are
    # accepted (tanh saturates); any shape for the elementwise functions, empty included.
    **{
        (C + f, a, "large"): _finite
        for f in (
            "continuous_hopfield_update_neuron",
            "continuous_hopfield_asynchronous_sweep",
            "continuous_hopfield_synchronous_update",
            "continuous_hopfield_velocity",
            "integrate_continuous_hopfield",
            "continuous_hopfield_energy",
        )
        for a in ("states", "potentials", "weights", "biases")
        if (f, a) != ("continuous_hopfield_energy", "states")  # the energy needs v ∈ [−1, 1]
    },
    (C + "continuous_hopfield_activation", "potentials", "huge"): _finite,
    (C + "continuous_hopfield_activation", "potentials", "large"): _finite,
    (C + "continuous_hopfield_activation", "potentials", "empty_axis0"): _empty,
    (C + "continuous_hopfield_activation", "potentials", "0d"): _finite,
    (C + "artanh_antiderivative", "states", "empty_axis0"): _empty,
    (C + "artanh_antiderivative", "states", "0d"): _finite,
    # Modern Hopfield: large finite states/patterns whose overlaps stay finite are fine;
    # the softmax runs on β(z − max z), the lse on the shifted values.
    (MH + "modern_hopfield_update", "states", "large"): _finite,
    (MH + "modern_hopfield_update", "patterns", "large"): _finite,
    (MH + "one_step_retrieval_error_bound", "states", "large"): _is_array,
    (MH + "pattern_separation", "patterns", "large"): _finite,
    (MH + "pattern_separation", "states", "large"): _finite,
    (MH + "log_sum_exp", "values", "huge"): _finite,
    (MH + "log_sum_exp", "values", "large"): _finite,
    (MH + "log_sum_exp", "values", "empty_axis0"): _empty,
    (MH + "dense_associative_energy", "states", "empty_axis0"): _empty,
    # β of 1e39 or 1.8e308 is a valid float64 β: checked again in the query's dtype when
    # the score is called.
    (MH + "inverse_temperature_score", "beta", "f32_overflow"): _returns_callable,
    (MH + "inverse_temperature_score", "beta", "max"): _returns_callable,
    # The threshold is plain float64 arithmetic (logarithm split): any N, β, M with 1/β finite.
    (MH + "paper_separation_threshold", "num_patterns", "huge"): _is_float,
    (MH + "paper_separation_threshold", "num_patterns", "overflow"): _is_float,
    (MH + "paper_separation_threshold", "beta", "f32_overflow"): _is_float,
    (MH + "paper_separation_threshold", "beta", "max"): _is_float,
    (MH + "paper_separation_threshold", "max_norm", "f32_overflow"): _is_float,
    (MH + "paper_separation_threshold", "max_norm", "max"): _is_float,
    (MH + "paper_separation_threshold", "max_norm", "tiny"): _is_float,
    # BAM: finite weights below finfo.max / 4 are accepted; M = 0 or K = 0 gives an empty W;
    # zero flips and zero patterns give copies.
    (B + "bam_energy", "weights", "large"): _finite,
    (B + "bam_recall", "weights", "large"): _finite,
    (B + "bam_weights", "x_patterns", "empty_axis1"): _empty,
    (B + "bam_weights", "y_patterns", "empty_axis1"): _empty,
    (B + "corrupt_patterns", "patterns", "empty_axis0"): _empty,
    (B + "corrupt_patterns", "num_flips", "zero"): _is_array,
    # Capacity helpers: pure arithmetic on any size; empty batches give empty results.
    (CAP + "patterns_for_load", "n_neurons", "huge"): lambda r: isinstance(r, int),
    (CAP + "patterns_for_load", "n_neurons", "overflow"): lambda r: isinstance(r, int),
    (CAP + "student_t_quantile", "dof", "huge"): _is_float,
    (CAP + "student_t_quantile", "dof", "overflow"): _is_float,
    (CAP + "wilson_interval", "trials", "huge"): _interval,
    (CAP + "wilson_interval", "trials", "overflow"): _interval,
    (CAP + "wilson_interval", "successes", "zero"): _interval,
    (CAP + "wilson_interval", "confidence", "tiny"): _interval,
    (CAP + "critical_load", "level", "tiny"): _nan_or_float,
    (CAP + "critical_load", "level", "zero"): _nan_or_float,
    (CAP + "flip_bits", "patterns", "empty_axis*"): _empty,
    (CAP + "flip_bits", "fraction", "tiny"): _is_array,
    (CAP + "flip_bits", "fraction", "zero"): _is_array,
    (CAP + "one_step_bit_errors", "patterns", "empty_axis0"): _empty,
    (CAP + "recall", "starts", "empty_axis1"): lambda r: r.final_states.size == 0,  # type: ignore[attr-defined]
    (CAP + "random_patterns", "shape", "short"): _is_array,
    (CAP + "measure_recall", "noise_fractions", "list"): lambda r: isinstance(r, list),
    (CAP + "measure_recall", "noise_fractions", "short"): lambda r: isinstance(r, list),
    # summarise_recalls copies these labels into the record (checked for type and range).
    **{
        (CAP + "summarise_recalls", argument, label): _is_statistics
        for argument, label in (
            ("load", "tiny"),
            ("n_patterns", "huge"),
            ("n_patterns", "overflow"),
            ("noise_fraction", "tiny"),
            ("noise_fraction", "zero"),
            ("sweeps", "zero"),
        )
    },
    # recalls_per_trial is capped at N (documented: K = min(N, recalls_per_trial)).
    (CAP + "measure_recall", "recalls_per_trial", "huge"): lambda r: isinstance(r, list),
    (CAP + "measure_recall", "recalls_per_trial", "overflow"): lambda r: isinstance(r, list),
}
