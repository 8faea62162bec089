r"""Conformance checks for memory mechanisms: Hopfield networks (discrete, modern) and the NTM.

Book: §8.6.1 (discrete Hopfield network, exercise 8-6), §8.6.2 note (modern
Hopfield update = attention with β), §8.5.2 (NTM addressing and write).
References (float64): ``impl.hopfield`` (``update_neuron``, ``energy``,
``hebbian_weights``), ``impl.modern_hopfield`` (``modern_hopfield_update``,
``modern_hopfield_energy``), ``impl.neural_turing_machine`` (``address_stages``,
``write``). Tolerances: the kit's derived bounds (``impl.testing.bounds``,
``spec.rounding_error``) for the attention-shaped parts, the rules of
``spec.rounding_error_recurrent`` for the elementwise ones, times
``SAFETY_FACTOR``; the discrete Hopfield checks are exact (integer weights make
every field exact in every precision, so the tie rule can be tested exactly).

Kinds and calling conventions (NumPy arrays in the declared precision; the
frameworks have no counterparts, so nndl8's own public signatures are followed):

* ``hopfield_update``: ``candidate(state (B, M) of ±1, i, weights (M, M)) -> (B, M)``,
  the asynchronous update of neuron i (``impl.hopfield.update_neuron``).
* ``hopfield_weights``: ``candidate(patterns (P, M) of ±1) -> weights (M, M)``,
  Hebbian storage w_ij = (1/P) Σ_n x_i x_j with w_ii = 0.
* ``modern_hopfield``: ``candidate(states (B, D), patterns (B, N, D), beta) -> (B, D)``,
  ξ_new = Xᵀ softmax(β X ξ).
* ``modern_hopfield_energy``: ``candidate(states, patterns, beta) -> (B,)``,
  E(ξ) = −lse(β, Xξ) + ½ξᵀξ + β⁻¹ log N + ½M².
* ``ntm_addressing``: ``candidate(key (B, D), memory (B, N, D), previous_weights (B, N),
  key_strength (B,), gate (B,), shift (B, S), sharpening (B,)) -> weights (B, N)``,
  shift entry R + r = probability of offset r (offset +1 moves the focus forward).
* ``ntm_write``: ``candidate(memory (B, N, D), weights (B, N), erase (B, D), add (B, D))
  -> (B, N, D)``, erase then add.
"""

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from hypothesis import strategies as st
from numpy.typing import NDArray

from impl import hopfield, modern_hopfield
from impl import neural_turing_machine as ntm
from impl.testing import bounds
from impl.testing.registry import Kind, RunConfig, register_kind
from impl.testing.report import CheckResult
from impl.testing.runner import CheckRun, call, compare, require
from impl.testing.tolerances import Precision, precision_dtype, round_to, unit_roundoff
from spec import rounding_error_recurrent as rules

__all__ = [
    "MEMORY_KINDS",
    "SAFETY_FACTOR",
    "check_hopfield_update",
    "check_hopfield_weights",
    "check_modern_hopfield",
    "check_modern_hopfield_energy",
    "check_ntm_addressing",
    "check_ntm_write",
    "modern_hopfield_energy_bound",
    "ntm_addressing_bound",
    "ntm_write_bound",
]

F64 = NDArray[np.float64]
Candidate = Callable[..., Any]

SAFETY_FACTOR = bounds.SAFETY_FACTOR
"""The kit's common factor on every derived bound (``impl.testing.bounds``)."""

MAX_INTEGER_WEIGHT = 3
"""Discrete Hopfield weights are integers in [−3, 3] and M ≤ 12, so every field Σ_j w_ij s_j
is an integer of size ≤ 33 — exact in every precision (bfloat16 holds integers to 256)."""


def _q(a: F64, precision: Precision) -> F64:
    return round_to(a, precision)


def _hand(a: F64, precision: Precision) -> NDArray[Any]:
    return a.astype(precision_dtype(precision))


def _how(precision: Precision, what: str, safety: float) -> str:
    return bounds.describe(bounds.Arithmetic.of(precision), what, safety)


# =========================================================================== discrete Hopfield


@dataclass(frozen=True)
class HopfieldCase:
    """A ±1 state batch (B, M), a symmetric zero-diagonal integer W (M, M), a neuron i."""

    state: F64
    weights: F64
    neuron: int

    def inputs(self) -> dict[str, object]:
        """The case as a report prints it."""
        return {"state": self.state, "i": self.neuron, "weights": self.weights}


def _hopfield_cases(*, tie: bool = False) -> st.SearchStrategy[HopfieldCase]:
    """Random networks; ``tie`` makes neuron i's field exactly 0 in every batch row's first."""

    def build(m: int, batch: int, seed: int) -> HopfieldCase:
        rng = np.random.default_rng(seed)
        upper = np.triu(rng.integers(-MAX_INTEGER_WEIGHT, MAX_INTEGER_WEIGHT + 1, (m, m)), 1)
        W = (upper + upper.T).astype(np.float64)
        state = rng.choice([-1.0, 1.0], size=(batch, m))
        i = int(rng.integers(m))
        if tie:
            # Make h_i = Σ_j w_ij s_j = 0 for row 0 by choosing w_ij (j ≠ i) to cancel.
            others = [j for j in range(m) if j != i]
            W[i, others] = 0.0
            if len(others) >= 2:
                j, k = others[0], others[1]
                W[i, j] = 1.0 * state[0, j]
                W[i, k] = -1.0 * state[0, k]
            W[others, i] = W[i, others]
        return HopfieldCase(state, W, i)

    lowest = 1 if not tie else 3
    return st.builds(build, st.integers(lowest, 12), st.integers(1, 3), st.integers(0, 2**32 - 1))


def _hopfield_call(candidate: Candidate, case: HopfieldCase, precision: Precision) -> F64:
    got = call(
        candidate,
        case.inputs(),
        _hand(case.state, precision),
        case.neuron,
        _hand(case.weights, precision),
    )
    out = np.asarray(got)
    require(
        out.shape == case.state.shape,
        "output shape",
        f"got shape {out.shape}, expected {case.state.shape}",
        case.inputs(),
    )
    result: F64 = out.astype(np.float64)
    require(
        bool(np.all(np.abs(result) == 1)),
        "states stay ±1",
        f"the new state has entries {np.unique(result[np.abs(result) != 1])} (sign(0) = 0?)",
        case.inputs(),
    )
    return result


def _hopfield_suite(candidate: Candidate, config: RunConfig) -> list[CheckResult]:
    run = CheckRun(config)
    precision = config.precision
    exact = "exact: integer weights make every field exact in every precision"

    def agrees(case: HopfieldCase) -> None:
        got = _hopfield_call(candidate, case, precision)
        expected = hopfield.update_neuron(case.state, case.neuron, case.weights)
        compare(got, expected, 0.0, inputs=case.inputs(), how=exact)

    def only_neuron_i(case: HopfieldCase) -> None:
        got = _hopfield_call(candidate, case, precision)
        others = np.arange(case.state.shape[-1]) != case.neuron
        require(
            bool(np.array_equal(got[:, others], case.state[:, others])),
            "asynchronous: only neuron i changes",
            "neurons other than i changed (a synchronous update?)",
            case.inputs(),
        )

    def tie_rule(case: HopfieldCase) -> None:
        field = float(case.weights[case.neuron] @ case.state[0])
        assert field == 0.0  # constructed so
        got = _hopfield_call(candidate, case, precision)
        require(
            got[0, case.neuron] == 1.0,
            "tie rule: field ≥ 0 → +1",
            f"neuron {case.neuron} has field exactly 0 and became {got[0, case.neuron]:g}",
            case.inputs(),
        )

    def energy_law(case: HopfieldCase) -> None:
        # A full sweep in the order 0..M−1, each step by the candidate; E never increases.
        state = case.state
        for i in range(state.shape[-1]):
            step = HopfieldCase(state, case.weights, i)
            new = _hopfield_call(candidate, step, precision)
            before = hopfield.energy(state, case.weights)
            after = hopfield.energy(new, case.weights)
            require(
                bool(np.all(after <= before)),
                "energy never increases (asynchronous, symmetric W, w_ii = 0)",
                f"updating neuron {i} raised E from {before} to {after}",
                step.inputs(),
            )
            state = new

    run.check("hopfield_update.agrees", _hopfield_cases(), agrees)
    run.check("hopfield_update.only_neuron_i", _hopfield_cases(), only_neuron_i)
    run.check("hopfield_update.tie_rule", _hopfield_cases(tie=True), tie_rule)
    run.check("hopfield_update.energy_law", _hopfield_cases(), energy_law)
    return run.results


def _hebbian_suite(candidate: Candidate, config: RunConfig) -> list[CheckResult]:
    run = CheckRun(config)
    precision = config.precision

    def patterns(p: int, m: int, seed: int) -> F64:
        drawn: F64 = np.random.default_rng(seed).choice([-1.0, 1.0], size=(p, m))
        return drawn

    cases = st.builds(patterns, st.integers(1, 6), st.integers(1, 12), st.integers(0, 2**32 - 1))

    def weights_of(x: F64) -> F64:
        got = np.asarray(call(candidate, {"patterns": x}, _hand(x, precision)))
        require(
            got.shape == (x.shape[1], x.shape[1]),
            "output shape",
            f"got shape {got.shape}, expected {(x.shape[1], x.shape[1])}",
            {"patterns": x},
        )
        result: F64 = got.astype(np.float64)
        return result

    def agrees(x: F64) -> None:
        W = weights_of(x)
        expected = hopfield.hebbian_weights(x)
        # One rounding (the division by P) in each precision; the sums of ±1 are exact.
        u = unit_roundoff(precision) + unit_roundoff("float64")
        compare(
            W,
            expected,
            config_safety(config) * u * np.abs(expected),
            inputs={"patterns": x},
            how="one rounding of Σ_n x_i x_j / P (the integer sum is exact): u·|w_ij|",
        )

    def zero_diagonal(x: F64) -> None:
        W = weights_of(x)
        require(
            bool(np.all(np.diagonal(W) == 0)),
            "zero diagonal w_ii = 0",
            f"diagonal {np.diagonal(W)} (a self-coupling voids the energy lemma)",
            {"patterns": x},
        )

    def symmetric(x: F64) -> None:
        W = weights_of(x)
        require(
            bool(np.array_equal(W, W.T)),
            "symmetric w_ij = w_ji",
            "the weights are not exactly symmetric",
            {"patterns": x},
        )

    run.check("hopfield_weights.agrees", cases, agrees)
    run.check("hopfield_weights.zero_diagonal", cases, zero_diagonal)
    run.check("hopfield_weights.symmetric", cases, symmetric)
    return run.results


def config_safety(config: RunConfig) -> float:
    """The run's safety factor (``SAFETY_FACTOR`` unless the run sets one)."""
    return SAFETY_FACTOR if config.safety is None else config.safety


# =========================================================================== modern Hopfield


@dataclass(frozen=True)
class ModernCase:
    """States ξ (B, D), patterns X (B, N, D), inverse temperature β."""

    states: F64
    patterns: F64
    beta: float

    def inputs(self) -> dict[str, object]:
        """The case as a report prints it."""
        return {"states": self.states, "patterns": self.patterns, "beta": self.beta}


def _modern_cases(precision: Precision) -> st.SearchStrategy[ModernCase]:
    def build(b: int, n: int, d: int, beta_exp: int, seed: int) -> ModernCase:
        rng = np.random.default_rng(seed)
        beta = float(_q(np.asarray(2.0**beta_exp / math.sqrt(d)), precision))
        return ModernCase(
            _q(rng.normal(size=(b, d)), precision),
            _q(rng.normal(size=(b, n, d)), precision),
            beta,
        )

    return st.builds(
        build,
        st.integers(1, 3),
        st.integers(1, 8),
        st.integers(1, 8),
        st.integers(-2, 3),
        st.integers(0, 2**32 - 1),
    )


def _modern_update_reference(
    case: ModernCase, precision: Precision, safety: float
) -> tuple[F64, F64]:
    """ξ_new in float64 (``impl.modern_hopfield``) and its bound: attention with scale β."""
    arith = bounds.Arithmetic.of(precision)
    value: F64 = np.asarray(
        modern_hopfield.modern_hopfield_update(case.states, case.patterns, beta=case.beta),
        dtype=np.float64,
    )
    q = case.states[:, None, :]
    scores: F64 = (q @ np.swapaxes(case.patterns, -1, -2)) * case.beta
    weights = np.exp(scores - scores.max(axis=-1, keepdims=True))
    weights = weights / weights.sum(axis=-1, keepdims=True)
    error = bounds.dot_bound(q, case.patterns, arith, scale=case.beta)
    relative = bounds.softmax_relative_bound(scores, weights, error, arith)
    bound = bounds.attention_output_bound(weights, relative, case.patterns, arith)[:, 0, :]
    return value, safety * bound


def _modern_call(
    candidate: Candidate, case: ModernCase, precision: Precision, *, energy: bool = False
) -> NDArray[Any]:
    """The candidate's update (B, D), or its energy (B,) with ``energy``; shape checked."""
    got = np.asarray(
        call(
            candidate,
            case.inputs(),
            _hand(case.states, precision),
            _hand(case.patterns, precision),
            case.beta,
        )
    )
    shape = case.states.shape[:-1] if energy else case.states.shape
    require(
        got.shape == shape,
        "output shape",
        f"got shape {got.shape}, expected {shape}",
        case.inputs(),
    )
    return got


def _modern_suite(candidate: Candidate, config: RunConfig) -> list[CheckResult]:
    run = CheckRun(config)
    precision, safety = config.precision, config_safety(config)
    how = _how(precision, "modern Hopfield update = attention, scale β", safety)
    dtype = precision_dtype(precision)

    def agrees(case: ModernCase) -> None:
        expected, tolerance = _modern_update_reference(case, precision, safety)
        got = _modern_call(candidate, case, precision)
        compare(got, expected, tolerance, inputs=case.inputs(), how=how, dtype=dtype)

    def convex_hull(case: ModernCase) -> None:
        _, tolerance = _modern_update_reference(case, precision, safety)
        got = _modern_call(candidate, case, precision).astype(np.float64)
        low, high = case.patterns.min(axis=-2), case.patterns.max(axis=-2)
        inside = (got >= low - tolerance) & (got <= high + tolerance)
        require(
            bool(np.all(inside)),
            "update in the patterns' convex hull (a softmax-weighted mean)",
            "an entry lies outside [min_n x_n, max_n x_n]",
            case.inputs(),
        )

    def permutation(case: ModernCase) -> None:
        _, tolerance = _modern_update_reference(case, precision, safety)
        order = np.random.default_rng(0).permutation(case.patterns.shape[-2])
        shuffled = ModernCase(case.states, case.patterns[:, order], case.beta)
        first = _modern_call(candidate, case, precision)
        second = _modern_call(candidate, shuffled, precision)
        compare(
            second,
            first.astype(np.float64),
            2 * tolerance,
            inputs=case.inputs(),
            how="permuted patterns vs original: 2 × " + how,
            law="invariant under permuting the patterns",
        )

    def energy_law(case: ModernCase) -> None:
        # The CCCP update never raises E (Ramsauer et al. 2020, Thm 1); our energy, the
        # candidate's update; tolerance: the energy's bound at the candidate's point.
        got = _modern_call(candidate, case, precision).astype(np.float64)
        require(
            got.shape == case.states.shape and bool(np.all(np.isfinite(got))),
            "energy never increases under the update",
            f"the update is not a finite array of shape {case.states.shape}: {got}",
            case.inputs(),
        )
        before = modern_hopfield.modern_hopfield_energy(case.states, case.patterns, beta=case.beta)
        after = modern_hopfield.modern_hopfield_energy(got, case.patterns, beta=case.beta)
        _, update_bound = _modern_update_reference(case, precision, safety)
        # E is Lipschitz in ξ with constant ‖ξ‖ + max‖x_n‖ (its gradient ξ − Xᵀp).
        slope = np.linalg.norm(got, axis=-1) + np.linalg.norm(case.patterns, axis=-1).max(-1)
        # + our own float64 evaluations of E at both points.
        own = modern_hopfield_energy_bound(case.states, case.patterns, case.beta, "float64")
        own = own + modern_hopfield_energy_bound(got, case.patterns, case.beta, "float64")
        slack = slope * np.linalg.norm(update_bound, axis=-1) + own
        require(
            bool(np.all(after <= before + slack)),
            "energy never increases under the update",
            f"E went from {before} to {after}",
            case.inputs(),
        )

    cases = _modern_cases(precision)
    run.check("modern_hopfield.agrees", cases, agrees)
    run.check("modern_hopfield.convex_hull", cases, convex_hull)
    run.check("modern_hopfield.permutation", cases, permutation)
    run.check("modern_hopfield.energy_law", cases, energy_law)

    def batch_consistency(case: ModernCase) -> None:
        _, tolerance = _modern_update_reference(case, precision, safety)
        batched = _modern_call(candidate, case, precision).astype(np.float64)
        for b in range(case.states.shape[0]):
            row = ModernCase(case.states[b : b + 1], case.patterns[b : b + 1], case.beta)
            compare(
                _modern_call(candidate, row, precision),
                batched[b : b + 1],
                2 * tolerance[b : b + 1],
                inputs=case.inputs(),
                how=f"row {b} alone vs in the batch: 2 × " + how,
                law="batch consistency",
            )

    run.check("modern_hopfield.batch_consistency", cases, batch_consistency)
    return run.results


def modern_hopfield_energy_bound(
    case_states: F64, patterns: F64, beta: float, precision: Precision
) -> F64:
    r"""Bound on |Ê − E| for E = −lse(β, Xξ) + ½ξᵀξ + β⁻¹ log N + ½ M² computed in ``precision``.

    Terms: z_n = x_nᵀξ within e_n = γ_D |x_n|ᵀ|ξ|, and lse is 1-Lipschitz in
    max-norm (max_n e_n); the shifted log-sum-exp's own rounding as in the
    kit's log-softmax bound (η̄ from u·β|z − m|, the sum's γ_{N−1}, exp/log
    to u_exp), scaled by β⁻¹; ½ξᵀξ: γ_D; M² = max ‖x_n‖² through a square
    root and back: γ_{D+3}; β⁻¹ log N: 2u_exp; the final three additions γ_3.
    """
    arith = bounds.Arithmetic.of(precision)
    u, ue = arith.u, arith.u_elementary
    n, d = patterns.shape[-2], patterns.shape[-1]
    z = np.einsum("...nd,...d->...n", patterns, case_states)
    e = arith.gamma(d) * np.einsum("...nd,...d->...n", np.abs(patterns), np.abs(case_states))
    m = z.max(axis=-1, keepdims=True)
    p = np.exp(beta * (z - m))
    total = p.sum(axis=-1, keepdims=True)
    p = p / total
    a = np.minimum(2 * u * beta * np.abs(z - m), 700.0)
    eta = np.minimum(
        np.sum(p * np.exp(a), axis=-1) * (1 + ue) * (1 + arith.gamma(max(n - 1, 0))) - 1, 0.5
    )
    log_s = np.log(total[..., 0])
    lse = m[..., 0] + log_s / beta
    lse_error = e.max(axis=-1) + (np.abs(np.log1p(-eta)) + ue * (log_s + eta)) / beta
    lse_error = lse_error + 2 * u * (np.abs(m[..., 0]) + log_s / beta)
    half_sq = 0.5 * np.sum(case_states**2, axis=-1)
    big_m_sq = np.max(np.sum(patterns**2, axis=-1), axis=-1)
    constant = math.log(n) / beta
    terms = np.abs(lse) + half_sq + constant + 0.5 * big_m_sq
    bound: F64 = (
        lse_error
        + arith.gamma(d) * half_sq
        + arith.gamma(d + 3) * 0.5 * big_m_sq
        + 2 * ue * constant
        + arith.gamma(3) * terms
        + arith.underflow
    )
    return bound


def _energy_suite(candidate: Candidate, config: RunConfig) -> list[CheckResult]:
    run = CheckRun(config)
    precision, safety = config.precision, config_safety(config)
    how = _how(precision, "modern Hopfield energy: lse, ½ξᵀξ, β⁻¹log N, ½M²", safety)

    def energy(case: ModernCase) -> F64:
        got = _modern_call(candidate, case, precision, energy=True)
        result: F64 = got.astype(np.float64)
        return result

    def tolerance(case: ModernCase) -> F64:
        own = modern_hopfield_energy_bound(case.states, case.patterns, case.beta, precision)
        ref = modern_hopfield_energy_bound(case.states, case.patterns, case.beta, "float64")
        result: F64 = safety * (own + ref)
        return result

    def agrees(case: ModernCase) -> None:
        expected = modern_hopfield.modern_hopfield_energy(
            case.states, case.patterns, beta=case.beta
        )
        compare(energy(case), expected, tolerance(case), inputs=case.inputs(), how=how)

    def nonnegative(case: ModernCase) -> None:
        got = energy(case)
        require(
            bool(np.all(got >= -tolerance(case))),
            "E ≥ 0 (the constants make the energy non-negative)",
            f"E = {got}",
            case.inputs(),
        )

    def decreases(case: ModernCase) -> None:
        updated = np.asarray(
            modern_hopfield.modern_hopfield_update(case.states, case.patterns, beta=case.beta)
        )
        after_case = ModernCase(_q(updated.astype(np.float64), precision), case.patterns, case.beta)
        before, after = energy(case), energy(after_case)
        slack = tolerance(case) + tolerance(after_case)
        slope = np.linalg.norm(updated, axis=-1) + np.linalg.norm(case.patterns, axis=-1).max(-1)
        slack = slack + slope * np.linalg.norm(updated - after_case.states, axis=-1)
        require(
            bool(np.all(after <= before + slack)),
            "energy never increases under the update",
            f"E(ξ) = {before}, E(update(ξ)) = {after}",
            case.inputs(),
        )

    cases = _modern_cases(precision)
    run.check("modern_hopfield_energy.agrees", cases, agrees)
    run.check("modern_hopfield_energy.nonnegative", cases, nonnegative)
    run.check("modern_hopfield_energy.decreases", cases, decreases)
    return run.results


# =========================================================================== NTM


@dataclass(frozen=True)
class AddressingCase:
    """One head's inputs for NTM addressing (batch B), all float64 exact in the precision."""

    key: F64
    memory: F64
    previous: F64
    key_strength: F64
    gate: F64
    shift: F64
    sharpening: F64

    def inputs(self) -> dict[str, object]:
        """The case as a report prints it (names of the candidate's arguments)."""
        return {
            "key": self.key,
            "memory": self.memory,
            "previous_weights": self.previous,
            "key_strength": self.key_strength,
            "gate": self.gate,
            "shift": self.shift,
            "sharpening": self.sharpening,
        }


DISTRIBUTION_GRAIN = 64
"""Distributions handed to a candidate are multiples of 1/64 summing to exactly 1: exact in
every precision (k/64 with k ≤ 64 needs 7 significand bits; bfloat16 has 8), so the
candidate and the float64 reference see the same distribution."""


def _distribution(rng: np.random.Generator, shape: tuple[int, ...]) -> F64:
    """k/64 with k ~ Multinomial(64, Dirichlet(1)): a distribution exact in every precision."""
    flat = [
        rng.multinomial(DISTRIBUTION_GRAIN, rng.dirichlet(np.ones(shape[-1])))
        for _ in range(math.prod(shape[:-1]))
    ]
    result: F64 = np.asarray(flat, dtype=np.float64).reshape(shape) / DISTRIBUTION_GRAIN
    return result


def _addressing_cases(precision: Precision, stage: str) -> st.SearchStrategy[AddressingCase]:
    """Random heads; ``stage`` isolates one stage by making the others the identity.

    ``content``: g = 1, shift δ_0, γ = 1 (the output is w^c); ``interpolation``:
    shift δ_0, γ = 1; ``shift``: g = 0, γ = 1 and a one-hot shift at offset +1
    (w = previous rolled forward); ``sharpening``: g = 0, shift δ_0, γ ≥ 1;
    ``all``: everything random.
    """

    def build(b: int, n: int, d: int, radius: int, seed: int) -> AddressingCase:
        rng = np.random.default_rng(seed)
        size = 2 * radius + 1
        previous = _distribution(rng, (b, n))
        shift = _distribution(rng, (b, size))
        identity = np.zeros((b, size))
        identity[:, radius] = 1.0
        gate = _q(rng.uniform(0, 1, b), precision)
        gamma = _q(rng.uniform(1, 4, b), precision)
        if stage in ("content", "interpolation", "sharpening"):
            shift = identity
        if stage == "content":
            gate = np.ones(b)
        if stage in ("shift", "sharpening"):
            gate = np.zeros(b)
        if stage == "shift":
            shift = np.zeros((b, size))
            shift[:, radius + 1 if radius else radius] = 1.0
        if stage in ("content", "interpolation", "shift"):
            gamma = np.ones(b)
        return AddressingCase(
            key=_q(rng.normal(size=(b, d)), precision),
            memory=_q(rng.normal(size=(b, n, d)), precision),
            previous=previous,
            key_strength=_q(rng.uniform(0.5, 8.0, b), precision),
            gate=gate,
            shift=shift,
            sharpening=gamma,
        )

    lowest_radius = 1 if stage == "shift" else 0
    return st.builds(
        build,
        st.integers(1, 3),
        st.integers(2 if stage == "shift" else 1, 8),
        st.integers(1, 6),
        st.integers(lowest_radius, 2),
        st.integers(0, 2**32 - 1),
    )


_ADDRESSING_FIELDS = (
    "key",
    "memory",
    "previous",
    "key_strength",
    "gate",
    "shift",
    "sharpening",
)


def ntm_addressing_bound(case: AddressingCase, precision: Precision) -> tuple[F64, F64]:
    r"""float64 reference w (B, N) (``impl.neural_turing_machine.address``) and its bound.

    content: cos of unit vectors, a length-D dot after two normalisations, error
    γ_{2D+8} (|cos| ≤ 1), times β plus one rounding -> scores' error; softmax:
    the kit's relative bound r. Interpolation g w^c + (1 − g) w_prev: absolute
    g r w^c + γ_3 (g w^c + (1 − g) w_prev). Shift: Σ_r s_r w^g(i − r): the
    propagated errors Σ s_r e(i − r) + γ_S (Σ s_r w^g). Sharpening
    softmax(γ log w̃): scores γ log w̃ with error γ|log(1 − ρ)| (ρ = e/w̃, the
    relative error of w̃) + (u_exp + 2u)|γ log w̃|, then the kit's softmax bound.
    """
    arith = bounds.Arithmetic.of(precision)
    u = arith.u
    stages = ntm.address_stages(
        case.key,
        case.memory,
        case.previous,
        key_strength=case.key_strength,
        gate=case.gate,
        shift=case.shift,
        sharpening=case.sharpening,
    )
    d = case.key.shape[-1]
    beta = case.key_strength[:, None]
    scores = beta * ntm.cosine_score(case.key[:, None, :], case.memory)[:, 0, :]
    score_error = beta * arith.gamma(2 * d + 8) + u * np.abs(scores)
    content: F64 = np.asarray(stages.content, dtype=np.float64)
    r = bounds.softmax_relative_bound(scores, content, score_error, arith)
    g = case.gate[:, None]
    e_gated = g * r * content + arith.gamma(3) * (g * content + (1 - g) * case.previous)
    s = case.shift
    radius = s.shape[-1] // 2
    e_shift = np.zeros_like(content)
    mass = np.zeros_like(content)
    for offset in range(-radius, radius + 1):
        prob = s[:, radius + offset, None]
        e_shift = e_shift + prob * np.roll(e_gated, offset, axis=-1)
        mass = mass + prob * np.roll(stages.gated, offset, axis=-1)
    e_shift = e_shift + arith.gamma(s.shape[-1]) * mass + arith.underflow
    shifted = stages.shifted
    gamma = case.sharpening[:, None]
    with np.errstate(divide="ignore", invalid="ignore"):
        rho = np.where(shifted > 0, np.minimum(e_shift / shifted, 0.5), 0.0)
        logs = np.where(shifted > 0, gamma * np.log(np.where(shifted > 0, shifted, 1.0)), -np.inf)
    log_error = gamma * np.abs(np.log1p(-rho)) + (arith.u_elementary + 2 * u) * np.where(
        np.isfinite(logs), np.abs(logs), 0.0
    )
    sharpened: F64 = np.asarray(stages.weights, dtype=np.float64)
    r_sharp = bounds.softmax_relative_bound(logs, sharpened, log_error, arith)
    bound: F64 = r_sharp * sharpened + arith.underflow
    # When γ = 1 and every stage but one is the identity, the sharpening adds only its
    # renormalisation; the bound above covers that too (ρ from the earlier stages).
    return sharpened, bound


def _ntm_call(candidate: Candidate, case: AddressingCase, precision: Precision) -> NDArray[Any]:
    got = call(
        candidate,
        case.inputs(),
        _hand(case.key, precision),
        _hand(case.memory, precision),
        _hand(case.previous, precision),
        _hand(case.key_strength, precision),
        _hand(case.gate, precision),
        _hand(case.shift, precision),
        _hand(case.sharpening, precision),
    )
    result = np.asarray(got)
    require(
        result.shape == case.previous.shape,
        "output shape",
        f"got shape {result.shape}, expected {case.previous.shape}",
        case.inputs(),
    )
    return result


def _addressing_suite(candidate: Candidate, config: RunConfig) -> list[CheckResult]:
    run = CheckRun(config)
    precision, safety = config.precision, config_safety(config)
    dtype = precision_dtype(precision)

    def body(stage: str) -> Callable[[AddressingCase], None]:
        how = _how(precision, f"NTM addressing, {stage} stage isolated", safety)

        def check(case: AddressingCase) -> None:
            expected, bound = ntm_addressing_bound(case, precision)
            tolerance = safety * bound
            got = _ntm_call(candidate, case, precision)
            values = got.astype(np.float64)  # shape checked by _ntm_call
            total = values.sum(axis=-1)
            slack = tolerance.sum(axis=-1) + expected.shape[-1] * unit_roundoff(precision)
            require(
                bool(np.all(values >= 0)) and bool(np.all(np.abs(total - 1) <= slack)),
                f"{stage} keeps a distribution (w ≥ 0, Σ w = 1)",
                f"row sums {total}, smallest entry {values.min():g}",
                case.inputs(),
            )
            compare(got, expected, tolerance, inputs=case.inputs(), how=how, dtype=dtype)

        return check

    for stage in ("content", "interpolation", "shift", "sharpening", "all"):
        name = "agrees" if stage == "all" else stage
        run.check(f"ntm_addressing.{name}", _addressing_cases(precision, stage), body(stage))

    def batch_consistency(case: AddressingCase) -> None:
        _, bound = ntm_addressing_bound(case, precision)
        batched = _ntm_call(candidate, case, precision).astype(np.float64)
        for b in range(case.key.shape[0]):
            row = AddressingCase(*(getattr(case, f)[b : b + 1] for f in _ADDRESSING_FIELDS))
            compare(
                _ntm_call(candidate, row, precision),
                batched[b : b + 1],
                2 * safety * bound[b : b + 1],
                inputs=case.inputs(),
                how=f"row {b} alone vs in the batch: 2 × the addressing bound",
                law="batch consistency",
            )

    run.check(
        "ntm_addressing.batch_consistency", _addressing_cases(precision, "all"), batch_consistency
    )

    def permutation(case: AddressingCase) -> None:
        # Content addressing (g = 1, shift δ_0, γ = 1) treats the slots as a set: permuting
        # the memory's rows (and the previous weights) permutes the weights alike.
        _, bound = ntm_addressing_bound(case, precision)
        order = np.random.default_rng(0).permutation(case.memory.shape[-2])
        permuted = AddressingCase(
            case.key,
            case.memory[:, order],
            case.previous[:, order],
            case.key_strength,
            case.gate,
            case.shift,
            case.sharpening,
        )
        first = _ntm_call(candidate, case, precision).astype(np.float64)
        compare(
            _ntm_call(candidate, permuted, precision),
            first[:, order],
            2 * safety * bound[:, order],
            inputs=case.inputs(),
            how="permuted slots vs original: 2 × the addressing bound",
            law="content addressing is permutation equivariant over the slots",
        )

    run.check("ntm_addressing.permutation", _addressing_cases(precision, "content"), permutation)
    return run.results


@dataclass(frozen=True)
class WriteCase:
    """memory (B, N, D), weights (B, N) in [0, 1], erase (B, D) in [0, 1], add (B, D)."""

    memory: F64
    weights: F64
    erase: F64
    add: F64

    def inputs(self) -> dict[str, object]:
        """The case as a report prints it."""
        return {
            "memory": self.memory,
            "weights": self.weights,
            "erase": self.erase,
            "add": self.add,
        }


def ntm_write_bound(case: WriteCase, precision: Precision) -> F64:
    r"""Bound on M(1 − w e) + w a per entry: five roundings, γ_5 (|M|(1 + w e) + w|a|).

    Either order (M − M w e + w a, or M(1 − w e) + w a, or with fused
    multiply-adds) rounds at most five times; each term's magnitude is in the sum.
    """
    w = case.weights[..., :, None]
    e, a = case.erase[..., None, :], case.add[..., None, :]
    magnitude = np.abs(case.memory) * (1 + w * e) + w * np.abs(a)
    bound: F64 = rules.gamma(5, unit_roundoff(precision)) * magnitude
    return bound


def _write_cases(precision: Precision, *, extreme: bool = False) -> st.SearchStrategy[WriteCase]:
    def build(b: int, n: int, d: int, seed: int) -> WriteCase:
        rng = np.random.default_rng(seed)
        weights = _q(rng.uniform(0, 1, (b, n)), precision)
        erase = _q(rng.uniform(0, 1, (b, d)), precision)
        if extreme:  # slot 0 fully overwritten, the last slot untouched
            weights[:, 0], erase[:] = 1.0, 1.0
            if n > 1:
                weights[:, -1] = 0.0
        return WriteCase(
            _q(rng.normal(size=(b, n, d)), precision),
            weights,
            erase,
            _q(rng.normal(size=(b, d)), precision),
        )

    return st.builds(
        build, st.integers(1, 3), st.integers(1, 8), st.integers(1, 6), st.integers(0, 2**32 - 1)
    )


def _write_suite(candidate: Candidate, config: RunConfig) -> list[CheckResult]:
    run = CheckRun(config)
    precision, safety = config.precision, config_safety(config)
    dtype = precision_dtype(precision)
    how = f"{safety:g} × γ_5 (|M|(1 + w e) + w|a|) in {precision} + the same in float64"

    def written(case: WriteCase) -> NDArray[Any]:
        got = np.asarray(
            call(
                candidate,
                case.inputs(),
                *(_hand(a, precision) for a in (case.memory, case.weights, case.erase, case.add)),
            )
        )
        require(
            got.shape == case.memory.shape,
            "output shape",
            f"got shape {got.shape}, expected {case.memory.shape}",
            case.inputs(),
        )
        return got

    def agrees(case: WriteCase) -> None:
        expected = ntm.write(case.memory, case.weights, case.erase, case.add)
        tolerance = safety * (ntm_write_bound(case, precision) + ntm_write_bound(case, "float64"))
        compare(written(case), expected, tolerance, inputs=case.inputs(), how=how, dtype=dtype)

    def exact_slots(case: WriteCase) -> None:
        got = written(case).astype(np.float64)
        require(
            bool(np.array_equal(got[:, 0], np.broadcast_to(case.add, got[:, 0].shape))),
            "w = 1, e = 1 replaces the slot by a (erase, then add)",
            f"slot 0 became {got[:, 0]}, a = {case.add}",
            case.inputs(),
        )
        if case.memory.shape[1] > 1:
            require(
                bool(np.array_equal(got[:, -1], case.memory[:, -1])),
                "w = 0 leaves the slot unchanged",
                f"slot {case.memory.shape[1] - 1} changed",
                case.inputs(),
            )

    run.check("ntm_write.agrees", _write_cases(precision), agrees)
    run.check("ntm_write.exact_slots", _write_cases(precision, extreme=True), exact_slots)
    return run.results


# =========================================================================== registration

_SUITES: dict[
    str, tuple[str, Callable[[Candidate, RunConfig], list[CheckResult]], tuple[str, ...]]
] = {
    "hopfield_update": (
        "candidate(state (B,M) ±1, i, weights (M,M)) -> (B,M), async update of neuron i",
        _hopfield_suite,
        ("agrees", "only_neuron_i", "tie_rule", "energy_law"),
    ),
    "hopfield_weights": (
        "candidate(patterns (P,M) ±1) -> weights (M,M), Hebbian, zero diagonal",
        _hebbian_suite,
        ("agrees", "zero_diagonal", "symmetric"),
    ),
    "modern_hopfield": (
        "candidate(states (B,D), patterns (B,N,D), beta) -> (B,D), ξ ← Xᵀ softmax(β X ξ)",
        _modern_suite,
        ("agrees", "convex_hull", "permutation", "energy_law", "batch_consistency"),
    ),
    "modern_hopfield_energy": (
        "candidate(states (B,D), patterns (B,N,D), beta) -> (B,), the modern Hopfield energy",
        _energy_suite,
        ("agrees", "nonnegative", "decreases"),
    ),
    "ntm_addressing": (
        "candidate(key, memory, previous_weights, key_strength, gate, shift, sharpening) -> (B,N)",
        _addressing_suite,
        (
            "content",
            "interpolation",
            "shift",
            "sharpening",
            "agrees",
            "batch_consistency",
            "permutation",
        ),
    ),
    "ntm_write": (
        "candidate(memory (B,N,D), weights (B,N), erase (B,D), add (B,D)) -> (B,N,D)",
        _write_suite,
        ("agrees", "exact_slots"),
    ),
}

MEMORY_KINDS: tuple[str, ...] = tuple(_SUITES)


def _check(kind: str) -> Callable[..., list[CheckResult]]:
    def run(
        candidate: Candidate, precision: Precision = "float64", **options: Any
    ) -> list[CheckResult]:
        return _SUITES[kind][1](candidate, RunConfig(precision=precision, **options))

    run.__doc__ = f"Run the ``{kind}`` suite: {_SUITES[kind][0]}."
    return run


check_hopfield_update = _check("hopfield_update")
check_hopfield_weights = _check("hopfield_weights")
check_modern_hopfield = _check("modern_hopfield")
check_modern_hopfield_energy = _check("modern_hopfield_energy")
check_ntm_addressing = _check("ntm_addressing")
check_ntm_write = _check("ntm_write")

for _name, (_summary, _suite, _ids) in _SUITES.items():
    register_kind(
        Kind(
            _name,
            _summary,
            _suite,
            checks=tuple(f"{_name}.{c}" for c in _ids),
            layouts=("none",),  # the shapes are fixed by the signature; no layout to choose
        )
    )
