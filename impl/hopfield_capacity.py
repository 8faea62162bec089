"""Capacity experiments for the discrete Hopfield network, vectorised over trials.

Book: §8.6.1, capacity: "a Hopfield network stores at most about 0.14 M
patterns", and better learning rules raise it. Spec: ``spec.hopfield_capacity``
(the signal-to-noise argument these measurements are compared with).

The machinery here draws random ±1 patterns with an explicit
``numpy.random.Generator``, stores them with a rule of ``impl.hopfield``
(Hebbian, pseudo-inverse or Storkey), starts the asynchronous dynamics from
every stored pattern (or a copy with a fraction of its bits flipped), and
measures the final overlap with the pattern, whether it was recalled
perfectly, and the bit-error rate, with confidence intervals.

Shapes: patterns (T, N, M) hold T independent trials (networks) of N patterns
on M neurons (the book's columns x^(n) are our rows); weights (T, M, M);
every stored pattern of every trial is one recall, so one call runs T·N
recalls as a single batch of states (T, N, M).
"""

import math
import statistics
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Literal

import numpy as np

from impl import _validation as check
from impl import hopfield
from impl._typing import BoolArray, FloatArray
from impl.hopfield import (
    MAX_WEIGHT_ENTRIES,
    hebbian_weights,
    pseudo_inverse_weights,
    storkey_weights,
)

MAX_RECALL_SWEEPS = 10**6
"""``recall`` refuses more sweeps than this (a symmetric network reaches a fixed point
within a few dozen sweeps at the loads studied; the limit guards against a typo)."""

StorageRuleName = Literal["hebbian", "pseudo_inverse", "storkey"]
"""Names of the storage rules the experiment compares."""

STORAGE_RULES: Mapping[str, Callable[[FloatArray], FloatArray]] = MappingProxyType(
    {
        "hebbian": hebbian_weights,
        "pseudo_inverse": pseudo_inverse_weights,
        "storkey": storkey_weights,
    }
)
"""Storage rule name → function patterns (..., N, M) -> weights (..., M, M)."""

RETRIEVAL_OVERLAP = 0.9
"""A recall counts as a retrieval when its final overlap is at least this.

Amit, Gutfreund & Sompolinsky's retrieval state has overlap ≈ 0.967 (≈ 1.6%
wrong bits) at the critical load 0.138; the states reached above it have
overlaps around 0.3-0.5. Any threshold between these gives the same count
except for the rare intermediate recalls; 0.9 (5% wrong bits) sits between them.
"""


def _storage_rule(value: object, name: str) -> Callable[[FloatArray], FloatArray]:
    if not isinstance(value, str):
        raise TypeError(f"{name} must be a str naming a storage rule, got {type(value).__name__}")
    if value not in STORAGE_RULES:
        raise ValueError(f"{name} must be one of {sorted(STORAGE_RULES)}, got {value!r}")
    return STORAGE_RULES[value]


def storage_rule(name: object) -> Callable[[FloatArray], FloatArray]:
    """Return the storage function called ``name`` (one of ``STORAGE_RULES``).

    Book: §8.6.1 (Hebbian rule; "better learning rules" for the others).
    Raises ``TypeError`` for a non-string and ``ValueError`` naming the known
    rules for an unknown name.
    """
    return _storage_rule(name, "name")


def patterns_for_load(load: object, n_neurons: object) -> int:
    """The number of patterns N = round(α M) for the load α = N/M.

    Book: §8.6.1 (capacity ≈ 0.14 M, i.e. the load α = N/M ≈ 0.14).
    Assumptions: 0 < α < 1 (at α ≥ 1 the pseudo-inverse rule projects onto the
    whole space and the comparison is meaningless) and the rounded N ≥ 1;
    otherwise ``ValueError`` naming the load.
    """
    m = check.positive_int(n_neurons, "n_neurons")
    a = check.positive_real(load, "load")
    if not a < 1:
        raise ValueError(f"load must lie in (0, 1), got {load}")
    n = round(a * m)
    if n < 1:
        raise ValueError(f"load {load} stores round({a} * {m}) = 0 patterns; use a larger load")
    return n


def random_patterns(
    rng: np.random.Generator,
    shape: tuple[int, ...],
    *,
    dtype: type[np.floating[Any]] = np.float64,
) -> FloatArray:
    """Independent fair ±1 bits of the given shape, e.g. (T, N, M) patterns.

    Book: §8.6.1 (the stored patterns x^(n) ∈ {+1, −1}^M); the capacity
    argument assumes every bit is an independent fair coin.
    Shapes: ``shape`` -> array of that shape and ``dtype`` (float32/float64).
    """
    generator = check.generator(rng)
    kind = _float_dtype(dtype)
    if not isinstance(shape, tuple):
        raise TypeError(f"shape must be a tuple of ints, got {type(shape).__name__}")
    sizes = tuple(check.positive_int(size, "shape entries") for size in shape)
    if math.prod(sizes) > MAX_WEIGHT_ENTRIES:
        raise ValueError(
            f"shape {sizes} has {math.prod(sizes)} entries, more than MAX_WEIGHT_ENTRIES = "
            "2**28 (2 GiB in float64)"
        )
    bits = generator.integers(0, 2, size=sizes)
    patterns: FloatArray = (2 * bits - 1).astype(kind)
    return patterns


def _float_dtype(dtype: object) -> np.dtype[Any]:
    if dtype is None:  # Note: np.dtype(None) is float64; None is refused, not defaulted
        raise TypeError("dtype must be float32 or float64, got None")
    try:
        kind: np.dtype[Any] = np.dtype(dtype)  # type: ignore[call-overload]  # any object
    except TypeError:
        raise TypeError(f"dtype must be float32 or float64, got {dtype!r}") from None
    if kind not in (np.float32, np.float64):
        raise TypeError(f"dtype must be float32 or float64, got {kind}")
    return kind


def flip_bits(patterns: FloatArray, fraction: object, rng: np.random.Generator) -> FloatArray:
    """Copies of ±1 rows with exactly round(fraction·M) bits flipped in each row.

    Book: §8.6.1, retrieval of a stored pattern from a corrupted cue.
    Shapes: patterns (..., M) -> (..., M), same dtype; the flipped positions
    are chosen uniformly without replacement, independently for every row.
    ``fraction`` must lie in [0, 1]; 0 returns a copy.
    """
    x = check.plus_minus_one_array(patterns, "patterns")
    generator = check.generator(rng)
    m = x.shape[-1]
    k = round(_noise_fraction(fraction) * m)
    # The first k positions of an independent random permutation of each row.
    ranks = generator.random(x.shape).argsort(axis=-1).argsort(axis=-1)
    flip: BoolArray = ranks < k
    flipped: FloatArray = np.where(flip, -x, x).astype(x.dtype)
    return flipped


def _two_sign_arrays(
    a: object, a_name: str, b: object, b_name: str, *, min_ndim: int = 1
) -> tuple[FloatArray, FloatArray]:
    s = check.plus_minus_one_array(a, a_name, min_ndim=min_ndim)
    x = check.plus_minus_one_array(b, b_name, min_ndim=min_ndim)
    check.same_dtype(**{a_name: s, b_name: x})
    if s.shape[-1] != x.shape[-1]:
        raise ValueError(f"{a_name} has {s.shape[-1]} neurons, {b_name} has {x.shape[-1]}")
    try:
        np.broadcast_shapes(s.shape, x.shape)
    except ValueError:
        raise ValueError(f"{a_name} {s.shape} and {b_name} {x.shape} do not broadcast") from None
    return s, x


def _overlap(s: FloatArray, x: FloatArray) -> FloatArray:
    m: FloatArray = np.mean(s * x, axis=-1)
    return m


def overlap(states: FloatArray, patterns: FloatArray) -> FloatArray:
    r"""Overlap m = (1/M) Σ_i s_i x_i of states with patterns (1 = equal, −1 = negated).

    Book: §8.6.1 (retrieval quality; the order parameter of the capacity theory).
    Shapes: states (..., M), patterns (..., M), broadcast -> (...,); M ≥ 1
    (the mean over no neurons is undefined: a ``ValueError``).
    """
    s, x = _two_sign_arrays(states, "states", patterns, "patterns")
    if s.shape[-1] == 0:
        raise ValueError("states and patterns must have at least one neuron (M ≥ 1)")
    return _overlap(s, x)


@dataclass(frozen=True)
class RecallResult:
    """Outcome of batched asynchronous recall (``recall``).

    ``final_states`` (T, K, M); ``converged`` (T, K): the item's last sweep
    changed nothing (a fixed point); ``sweeps``: the number of sweeps run, i.e.
    the most any item needed (items that converged earlier are not swept again).
    """

    final_states: FloatArray
    converged: BoolArray
    sweeps: int

    def __post_init__(self) -> None:  # read-only copies: a record, not a workspace
        object.__setattr__(self, "final_states", hopfield._read_only(self.final_states))
        object.__setattr__(self, "converged", hopfield._read_only(self.converged))


def recall(
    starts: FloatArray,
    weights: FloatArray,
    *,
    rng: np.random.Generator,
    max_sweeps: int = 100,
) -> RecallResult:
    """Asynchronous recall of T networks from K starts each, until no state changes.

    Book: §8.6.1, retrieval by asynchronous updates in random order.
    Shapes: starts (T, K, M), weights (T, M, M) (network t runs starts[t]) ->
    final states (T, K, M), converged (T, K).
    Each sweep draws one permutation from ``rng`` (``rng.permutation(M)``) and
    applies it to every item still moving (the decisions of
    ``impl.hopfield.asynchronous_sweep``, through its incremental-field kernel:
    O(M) per flip; items at a fixed point leave the working set; the arguments,
    W's symmetry included, are checked once), so item (t, k) follows exactly the
    trajectory that
    ``impl.hopfield.run_to_fixed_point(starts[t, k], weights[t], rng=...)`` gives
    it alone with a Generator in the same state. The sweeps stop at
    ``max_sweeps`` or when every item has reached a fixed point.
    """
    generator = check.generator(rng)
    limit = check.int_in_range(
        max_sweeps,
        "max_sweeps",
        low=1,
        high=MAX_RECALL_SWEEPS,
        reason="symmetric networks converge within far fewer sweeps",
    )
    # Checked once here (±1 starts, symmetry, zero diagonal, overflow, dtypes); the sweeps
    # trust it. Network t serves the K starts of trial t: weights (T, 1, M, M).
    raw: object = weights
    per_trial = raw[:, None] if isinstance(raw, np.ndarray) and raw.ndim == 3 else raw
    net = hopfield._network(
        starts,
        per_trial,
        None,
        allow_asymmetric=False,
        allow_nonzero_diagonal=False,
        state_name="starts",
    )
    x = net.s
    if x.ndim < 3:
        raise ValueError(f"starts must have at least 3 axes (T, K, M), got shape {x.shape}")
    if x.ndim != 3 or net.W.ndim != 4 or net.W.shape[0] != x.shape[0]:
        raise ValueError(
            f"recall takes starts (T, K, M) and weights (T, M, M), got starts {x.shape}, "
            f"weights {np.shape(weights)}"
        )
    dynamics = hopfield._flatten(net)  # item t·K + k runs network t
    m = x.shape[-1]
    final: FloatArray = x.reshape(-1, m).copy()
    converged: BoolArray = np.zeros(final.shape[0], dtype=bool)
    alive = np.arange(final.shape[0])  # the items still in ``dynamics``
    sweeps = 0
    while sweeps < limit and alive.size:
        order = generator.permutation(m)
        changed = dynamics.sweep(order)
        sweeps += 1
        # Note: an item whose sweep changed nothing is at a fixed point and stays there;
        # it leaves the working set (same result, less work per later sweep).
        done = ~changed
        final[alive[done]] = dynamics.s[done]
        converged[alive[done]] = True
        if done.any():
            keep = np.flatnonzero(changed)
            dynamics.compact(keep)
            alive = alive[keep]
    final[alive] = dynamics.s
    return RecallResult(
        final_states=final.reshape(x.shape),
        converged=converged.reshape(x.shape[:-1]),
        sweeps=sweeps,
    )


def one_step_bit_errors(patterns: FloatArray, weights: FloatArray) -> BoolArray:
    """Which bits one update from each stored pattern would flip: sign(h_i) ≠ x_i.

    Book: §8.6.1, update rule (field ≥ 0 → +1) applied once, synchronously, at
    every stored pattern — the event whose probability the signal-to-noise
    argument computes (``spec.hopfield_capacity.bit_error_probability_gaussian``).
    Shapes: patterns (..., N, M), weights (..., M, M) -> bool (..., N, M).
    Spec: ``spec.hopfield_capacity.exact_bit_error_probability``.
    """
    x = check.plus_minus_one_array(patterns, "patterns", min_ndim=2)
    W = check.float_array(weights, "weights", min_ndim=2)
    net = hopfield._network(
        x,
        W[..., None, :, :],
        None,
        allow_asymmetric=False,
        allow_nonzero_diagonal=False,
        state_name="patterns",
    )
    updated = hopfield._decide(hopfield._fields(net.s, net.W, net.b), net.band)
    errors: BoolArray = updated != x
    return errors


def wilson_interval(
    successes: int, trials: int, *, confidence: float = 0.95
) -> tuple[float, float]:
    r"""Wilson score interval for a binomial proportion.

    p̂ = k/n, z = Φ⁻¹((1 + confidence)/2); centre (p̂ + z²/2n)/(1 + z²/n),
    half-width z √(p̂(1 − p̂)/n + z²/4n²)/(1 + z²/n). Unlike p̂ ± z√(p̂(1−p̂)/n)
    it stays inside [0, 1] and is not empty at k = 0 or k = n.
    Assumptions: the n trials are independent Bernoulli draws.
    """
    n = check.positive_int(trials, "trials")
    successes = check.int_in_range(successes, "successes", low=0, high=n, reason="= trials")
    confidence = check.finite_float(confidence, "confidence")
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must lie in (0, 1), got {confidence}")
    z = statistics.NormalDist().inv_cdf((1 + confidence) / 2)
    p_hat = int(successes) / n
    denominator = 1 + z * z / n
    centre = (p_hat + z * z / (2 * n)) / denominator
    half_width = z * math.sqrt(p_hat * (1 - p_hat) / n + z * z / (4 * n * n)) / denominator
    # Note: at k = 0 (k = n) the lower (upper) end is exactly 0 (1) — centre equals the
    # half-width — but rounding leaves ±1e-17; return the exact ends there.
    low = 0.0 if successes == 0 else max(0.0, centre - half_width)
    high = 1.0 if successes == n else min(1.0, centre + half_width)
    return low, high


def student_t_quantile(probability: float, dof: int) -> float:
    r"""Quantile t_{p, ν} of Student's t distribution (for confidence intervals over trials).

    Solves F_ν(t) = p by bisection, with F_ν(t) = ½ + ∫_0^t f_ν(x) dx,
    f_ν(x) = Γ((ν+1)/2) / (√(νπ) Γ(ν/2)) · (1 + x²/ν)^(−(ν+1)/2), the integral by
    composite Simpson on 4096 intervals; bisection to a relative 1e-9. Against
    the closed forms for ν = 1 (Cauchy, tan(π(p − ½))) and ν = 2
    ((2p − 1)/√(2p(1 − p))) the error is below 1e-8 on [½, 0.995], the heaviest
    tails (the tests check this).
    Assumptions: ½ ≤ p ≤ 0.995 (upper quantiles, the range intervals need), ν ≥ 1.
    """
    probability = check.finite_float(probability, "probability")
    if not 0.5 <= probability <= 0.995:
        raise ValueError(f"probability must lie in [0.5, 0.995], got {probability}")
    nu = check.positive_int(dof, "dof")
    log_norm = math.lgamma((nu + 1) / 2) - math.lgamma(nu / 2) - 0.5 * math.log(nu * math.pi)

    def tail_mass(t: float) -> float:  # ∫_0^t f_ν(x) dx by composite Simpson
        x = np.linspace(0.0, t, 4097)
        f = np.exp(log_norm - (nu + 1) / 2 * np.log1p(x * x / nu))
        weights = np.ones_like(x)
        weights[1:-1:2], weights[2:-1:2] = 4.0, 2.0
        return float(np.dot(weights, f)) * (t / 4096) / 3

    target = probability - 0.5
    low, high = 0.0, 1.0
    while tail_mass(high) < target:
        high *= 2
    while high - low > 1e-9 * max(1.0, high):
        middle = (low + high) / 2
        low, high = (middle, high) if tail_mass(middle) < target else (low, middle)
    return (low + high) / 2


@dataclass(frozen=True)
class RecallStatistics:
    """Recall quality of one storage rule at one load (``measure_recall``).

    ``mean_overlap`` is the mean over the T trials of each trial's mean final
    overlap; ``overlap_ci`` its Student-t 95% interval
    (mean ± t_{0.975, T−1}·sd/√T over the T independent trials), clipped to [−1, 1].
    ``perfect_fraction`` = ``perfect_recalls``/``recalls`` (final state equal
    to the stored pattern), with its Wilson 95% interval ``perfect_ci``; the
    ``recalls`` = T·K recalls (K = ``recalls_per_trial``); the K recalls of
    one trial share a network, so this interval treats them as independent,
    which they are only approximately.
    ``retrieved_fraction`` = ``retrieved_recalls``/``recalls`` (final overlap
    ≥ ``RETRIEVAL_OVERLAP``), with its Wilson 95% interval ``retrieved_ci``.
    ``bit_error_rate`` = mean fraction of wrong bits = (1 − mean_overlap)/2.
    ``converged_fraction``: recalls that ended at a fixed point.
    """

    rule: str
    load: float
    n_neurons: int
    n_patterns: int
    n_trials: int
    recalls_per_trial: int
    noise_fraction: float
    mean_overlap: float
    overlap_ci: tuple[float, float]
    perfect_recalls: int
    recalls: int
    perfect_fraction: float
    perfect_ci: tuple[float, float]
    retrieved_recalls: int
    retrieved_fraction: float
    retrieved_ci: tuple[float, float]
    bit_error_rate: float
    converged_fraction: float
    sweeps: int


def _noise_fraction(value: object, name: str = "fraction") -> float:
    fraction = check.finite_float(value, name)
    if not 0 <= fraction <= 1:
        raise ValueError(f"{name} must lie in [0, 1], got {value}")
    return fraction


def summarise_recalls(
    final_states: FloatArray,
    recalled: FloatArray,
    *,
    rule: str,
    load: float,
    n_patterns: int,
    noise_fraction: float,
    converged: BoolArray,
    sweeps: int,
) -> RecallStatistics:
    """Statistics of T·K recalls: final states (T, K, M) against the recalled patterns (T, K, M).

    Book: §8.6.1 (retrieval quality). Needs T ≥ 2 for the interval over trials,
    K ≥ 1 and M ≥ 1; ``converged`` is a bool (T, K) array; ``rule`` a storage
    rule's name, ``load`` in (0, 1), ``n_patterns`` ≥ 1, ``noise_fraction`` in
    [0, 1], ``sweeps`` ≥ 0 (labels copied into the record, checked here).
    """
    s, x = _two_sign_arrays(final_states, "final_states", recalled, "recalled")
    if s.ndim != 3 or s.shape != x.shape or 0 in s.shape:
        raise ValueError(
            f"final_states and recalled must have shape (T, K, M), equal and non-empty, got "
            f"{s.shape} and {x.shape}"
        )
    _storage_rule(rule, "rule")
    load = check.finite_float(load, "load")
    if not 0 < load < 1:
        raise ValueError(f"load must lie in (0, 1), got {load}")
    n_patterns = check.positive_int(n_patterns, "n_patterns")
    noise_fraction = _noise_fraction(noise_fraction, "noise_fraction")
    sweeps = check.int_in_range(sweeps, "sweeps", low=0, high=MAX_RECALL_SWEEPS)
    check.bool_array(converged, "converged")
    if converged.shape != s.shape[:-1]:
        raise ValueError(
            f"converged must have shape (T, K) = {s.shape[:-1]}, got {converged.shape}"
        )
    overlaps = _overlap(s, x)  # (T, K)
    trials, k = overlaps.shape
    if trials < 2:
        raise ValueError(
            f"final_states: need at least 2 trials for a confidence interval, got {trials}"
        )
    per_trial: FloatArray = overlaps.mean(axis=-1)
    mean = float(per_trial.mean())
    spread = float(per_trial.std(ddof=1)) / math.sqrt(trials)
    t_quantile = student_t_quantile(0.975, trials - 1)
    perfect = int(np.count_nonzero(overlaps == 1))
    retrieved = int(np.count_nonzero(overlaps >= RETRIEVAL_OVERLAP))
    recalls = trials * k
    return RecallStatistics(
        rule=str(rule),
        load=load,
        n_neurons=s.shape[-1],
        n_patterns=n_patterns,
        n_trials=trials,
        recalls_per_trial=k,
        noise_fraction=noise_fraction,
        mean_overlap=mean,
        # Note: clipped to [−1, 1], the range of an overlap (the t interval can leave it).
        overlap_ci=(max(-1.0, mean - t_quantile * spread), min(1.0, mean + t_quantile * spread)),
        perfect_recalls=perfect,
        recalls=recalls,
        perfect_fraction=perfect / recalls,
        perfect_ci=wilson_interval(perfect, recalls),
        retrieved_recalls=retrieved,
        retrieved_fraction=retrieved / recalls,
        retrieved_ci=wilson_interval(retrieved, recalls),
        bit_error_rate=(1 - mean) / 2,
        converged_fraction=float(converged.mean()),
        sweeps=sweeps,
    )


def measure_recall(
    rng: np.random.Generator,
    *,
    n_neurons: int,
    load: float,
    rule: str,
    n_trials: int,
    noise_fractions: tuple[float, ...] = (0.0,),
    recalls_per_trial: int | None = None,
    max_sweeps: int = 100,
    dtype: type[np.floating[Any]] = np.float64,
) -> list[RecallStatistics]:
    """Store N = round(α M) random patterns in T networks; recall K of them from noisy copies.

    Book: §8.6.1, capacity of the Hopfield network (≈ 0.14 M for the Hebbian
    rule) and retrieval from a corrupted pattern.
    Shapes: draws patterns (T, N, M) and weights (T, M, M); for each noise
    fraction, all T·K recalls run as one batch (``recall``), with
    K = min(N, recalls_per_trial) (default N) patterns per network chosen
    uniformly at random without replacement. Returns one ``RecallStatistics``
    per noise fraction (0 = start from the stored pattern itself), all
    measured on the same networks and patterns.
    # Note: a random subset, not the first K: incremental rules (Storkey) treat
    # early and late patterns differently.
    Assumptions: n_trials ≥ 2 (the overlap interval needs a spread over
    trials); 0 < load < 1 (``patterns_for_load``); noise fractions in [0, 1].
    """
    generator = check.generator(rng)
    store = _storage_rule(rule, "rule")
    m = check.int_in_range(
        n_neurons,
        "n_neurons",
        low=1,
        high=math.isqrt(MAX_WEIGHT_ENTRIES // 2),
        reason="two networks of M² weights must fit MAX_WEIGHT_ENTRIES = 2**28",
    )
    n = patterns_for_load(load, m)
    trials = check.int_in_range(
        n_trials,
        "n_trials",
        low=2,
        high=max(2, MAX_WEIGHT_ENTRIES // (m * m)),
        reason=f"n_trials · n_neurons² weights must fit MAX_WEIGHT_ENTRIES = 2**28 at M = {m}",
    )
    if not isinstance(noise_fractions, tuple | list):
        raise TypeError(
            f"noise_fractions must be a tuple of floats, got {type(noise_fractions).__name__}"
        )
    noises = [_noise_fraction(value, "noise_fractions entries") for value in noise_fractions]
    if not noises:
        raise ValueError("noise_fractions must name at least one noise fraction")
    k = (
        n
        if recalls_per_trial is None
        else min(n, check.positive_int(recalls_per_trial, "recalls_per_trial"))
    )
    patterns = random_patterns(generator, (trials, n, m), dtype=dtype)
    weights = store(patterns)
    chosen = generator.permuted(np.tile(np.arange(n), (trials, 1)), axis=1)[:, :k]
    recalled: FloatArray = np.take_along_axis(patterns, chosen[..., None], axis=1)
    results = []
    for noise in noises:
        starts = flip_bits(recalled, noise, generator)
        outcome = recall(starts, weights, rng=generator, max_sweeps=max_sweeps)
        results.append(
            summarise_recalls(
                outcome.final_states,
                recalled,
                rule=rule,
                load=float(load),
                n_patterns=n,
                noise_fraction=noise,
                converged=outcome.converged,
                sweeps=outcome.sweeps,
            )
        )
    return results


def critical_load(loads: FloatArray, fractions: FloatArray, *, level: float = 0.5) -> float:
    """The load where a decreasing curve first falls through ``level`` (linear interpolation).

    Book: §8.6.1 (the capacity ≈ 0.14 M, read off a measured curve).
    Shapes: loads (L,) increasing, fractions (L,) -> a float; ``nan`` when the
    curve never falls below ``level`` on the grid (or starts below it).
    """
    level = check.finite_float(level, "level")
    if not 0 <= level <= 1:
        raise ValueError(f"level must lie in [0, 1] (a fraction), got {level}")
    a = check.float_array(loads, "loads", min_ndim=1)
    f = check.float_array(fractions, "fractions", min_ndim=1)
    check.same_dtype(loads=a, fractions=f)
    if np.any((f < 0) | (f > 1)):
        raise ValueError("fractions must lie in [0, 1]")
    if a.shape != f.shape or a.ndim != 1:
        raise ValueError(f"loads {a.shape} and fractions {f.shape} must be equal 1-d shapes")
    if np.any(np.diff(a) <= 0):
        raise ValueError("loads must be strictly increasing")
    if a.size == 0 or f[0] < level:
        return math.nan
    below = np.flatnonzero(f < level)
    if below.size == 0:
        return math.nan
    k = int(below[0])
    a0, a1, f0, f1 = float(a[k - 1]), float(a[k]), float(f[k - 1]), float(f[k])
    return a0 + (f0 - level) * (a1 - a0) / (f0 - f1)  # f0 ≥ level > f1
