"""The memory conformance checks: Hopfield (discrete, modern) and the NTM, with a zoo of bugs.

Book: §8.6.1 (discrete Hopfield, exercise 8-6), §8.6.2 note (modern Hopfield),
§8.5.2 (NTM). Kit: ``impl.testing.memory``. Correct NumPy implementations
written here (independently of ``impl``) pass in float64, float32 and
bfloat16; each planted bug is rejected by the check that names it.
"""

import inspect
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import pytest
from hypothesis import strategies as st

from impl import modern_hopfield
from impl.testing import memory as kit
from impl.testing.bounds import Arithmetic
from impl.testing.registry import kinds
from impl.testing.report import CheckResult, Failure, Outcome
from impl.testing.tolerances import Precision

EXAMPLES = 15
"""Hypothesis examples per check: each planted bug shows on the first few draws."""


@pytest.fixture(autouse=True, scope="module")
def _one_torch_thread() -> Iterator[None]:
    """One torch thread per pytest worker, as one BLAS thread (Makefile): torch's default of
    one thread per core oversubscribes the 2 cores under xdist (measured: one check_lstm run
    with torch float32 took 29 s with 2 threads on the loaded machine, 2 s with 1)."""
    try:
        import torch
    except ImportError:
        yield
        return
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def _failures(results: list[CheckResult]) -> dict[str, Failure]:
    return {r.check: r.failure for r in results if r.outcome is Outcome.FAIL and r.failure}


def _failed(results: list[CheckResult]) -> dict[str, str]:
    return {check: failure.law for check, failure in _failures(results).items()}


def _compute(x: Any) -> Any:
    """bfloat16 has no NumPy arithmetic worth the name: compute in float32, store back."""
    return x.astype(np.float32) if x.dtype.name == "bfloat16" else x


# --------------------------------------------------------------------------- discrete Hopfield


def hopfield_update(
    *, ties_up: bool = True, synchronous: bool = False, numpy_sign: bool = False
) -> Callable[..., Any]:
    def update(state: Any, i: int, weights: Any) -> Any:
        s = state.copy()
        if numpy_sign:
            s[:, i] = np.sign(s @ weights[i])  # sign(0) = 0: neither tie rule
            return s
        if synchronous:
            field = s @ weights.T
            return np.where(field >= 0, 1, -1).astype(state.dtype)
        h = s @ weights[i]
        s[:, i] = np.where(h >= 0 if ties_up else h > 0, 1, -1)
        return s

    return update


def hebbian(*, zero_diagonal: bool = True) -> Callable[..., Any]:
    def weights(patterns: Any) -> Any:
        x = _compute(patterns)
        W = x.T @ x / x.shape[0]
        if zero_diagonal:
            np.fill_diagonal(W, 0)
        return W.astype(patterns.dtype)

    return weights


# --------------------------------------------------------------------------- modern Hopfield


def modern_update(*, use_beta: bool = True) -> Callable[..., Any]:
    def update(states: Any, patterns: Any, beta: float) -> Any:
        xi, X = _compute(states), _compute(patterns)
        scale = beta if use_beta else 1.0 / np.sqrt(X.shape[-1])
        s = scale * np.einsum("bnd,bd->bn", X, xi)
        p = np.exp(s - s.max(axis=-1, keepdims=True))
        p = p / p.sum(axis=-1, keepdims=True)
        return np.einsum("bn,bnd->bd", p, X).astype(states.dtype)

    return update


def modern_energy(*, drop_constant: bool = False) -> Callable[..., Any]:
    def energy(states: Any, patterns: Any, beta: float) -> Any:
        xi, X = _compute(states).astype(np.float64), _compute(patterns).astype(np.float64)
        z = beta * np.einsum("bnd,bd->bn", X, xi)
        m = z.max(axis=-1)
        lse = (m + np.log(np.exp(z - m[:, None]).sum(axis=-1))) / beta
        M = np.sqrt((X**2).sum(axis=-1)).max(axis=-1)
        n = X.shape[-2]
        constant = 0.0 if drop_constant else np.log(n) / beta + 0.5 * M**2
        return (-lse + 0.5 * (xi**2).sum(axis=-1) + constant).astype(states.dtype)

    return energy


# --------------------------------------------------------------------------- NTM


def ntm_address(*, renormalise: bool = True, shift_sign: int = 1) -> Callable[..., Any]:
    def address(
        key: Any,
        memory: Any,
        previous_weights: Any,
        key_strength: Any,
        gate: Any,
        shift: Any,
        sharpening: Any,
    ) -> Any:
        k, M, w_prev = _compute(key), _compute(memory), _compute(previous_weights)
        b, g = _compute(key_strength), _compute(gate)
        s, y = _compute(shift), _compute(sharpening)
        norms = np.linalg.norm(M, axis=-1) * np.linalg.norm(k, axis=-1)[:, None]
        cos = np.einsum("bnd,bd->bn", M, k) / np.where(norms > 0, norms, 1)
        z = b[:, None] * cos
        wc = np.exp(z - z.max(axis=-1, keepdims=True))
        wc = wc / wc.sum(axis=-1, keepdims=True)
        wg = g[:, None] * wc + (1 - g[:, None]) * w_prev
        radius = s.shape[-1] // 2
        shifted = sum(
            s[:, radius + r, None] * np.roll(wg, shift_sign * r, axis=-1)
            for r in range(-radius, radius + 1)
        )
        powered = shifted ** y[:, None]
        if renormalise:
            powered = powered / powered.sum(axis=-1, keepdims=True)
        return powered.astype(key.dtype)

    return address


def ntm_write(*, erase_after_add: bool = False) -> Callable[..., Any]:
    def write(memory: Any, weights: Any, erase: Any, add: Any) -> Any:
        M, w = _compute(memory), _compute(weights)[..., None]
        e, a = _compute(erase)[:, None, :], _compute(add)[:, None, :]
        if erase_after_add:
            return ((M + w * a) * (1 - w * e)).astype(memory.dtype)
        return (M * (1 - w * e) + w * a).astype(memory.dtype)

    return write


# --------------------------------------------------------------------------- correct ones pass

CORRECT: list[tuple[str, Callable[..., list[CheckResult]], Callable[..., Any]]] = [
    ("hopfield_update", kit.check_hopfield_update, hopfield_update()),
    ("hopfield_weights", kit.check_hopfield_weights, hebbian()),
    ("modern_hopfield", kit.check_modern_hopfield, modern_update()),
    ("modern_hopfield_energy", kit.check_modern_hopfield_energy, modern_energy()),
    ("ntm_addressing", kit.check_ntm_addressing, ntm_address()),
    ("ntm_write", kit.check_ntm_write, ntm_write()),
]


@pytest.mark.parametrize(("kind", "check", "candidate"), CORRECT, ids=[c[0] for c in CORRECT])
@pytest.mark.parametrize("precision", ["float64", "float32", "bfloat16"])
def test_correct_implementations_pass(
    kind: str,
    check: Callable[..., list[CheckResult]],
    candidate: Callable[..., Any],
    precision: str,
) -> None:
    """Independent NumPy implementations pass every check of their kind in each precision."""
    if precision == "bfloat16":
        pytest.importorskip("ml_dtypes")
    results = check(candidate, precision, max_examples=EXAMPLES, seed=3)
    assert not _failed(results), "\n".join(r.report() for r in results)
    # Every registered check ran under its own id (the CLI selects and reports by these).
    assert tuple(r.check for r in results) == kinds()[kind].checks


# --------------------------------------------------------------------------- the zoo

ZOO: list[tuple[str, Callable[..., list[CheckResult]], Callable[..., Any], str, str]] = [
    (
        "hopfield ties to -1",
        kit.check_hopfield_update,
        hopfield_update(ties_up=False),
        "hopfield_update.tie_rule",
        "tie rule: field ≥ 0 → +1",
    ),
    (
        "hopfield synchronous",
        kit.check_hopfield_update,
        hopfield_update(synchronous=True),
        "hopfield_update.only_neuron_i",
        "asynchronous: only neuron i changes",
    ),
    (
        "hopfield np.sign (0 on a tie)",
        kit.check_hopfield_update,
        hopfield_update(numpy_sign=True),
        "hopfield_update.tie_rule",
        "states stay ±1",
    ),
    (
        "hopfield diagonal kept",
        kit.check_hopfield_weights,
        hebbian(zero_diagonal=False),
        "hopfield_weights.zero_diagonal",
        "zero diagonal w_ii = 0",
    ),
    (
        "modern hopfield ignores beta",
        kit.check_modern_hopfield,
        modern_update(use_beta=False),
        "modern_hopfield.agrees",
        "differs from the reference",
    ),
    (
        "modern hopfield energy without constants",
        kit.check_modern_hopfield_energy,
        modern_energy(drop_constant=True),
        "modern_hopfield_energy.agrees",
        "differs from the reference",
    ),
    (
        "ntm sharpening not renormalised",
        kit.check_ntm_addressing,
        ntm_address(renormalise=False),
        "ntm_addressing.sharpening",
        "sharpening keeps a distribution (w ≥ 0, Σ w = 1)",
    ),
    (
        "ntm shift in the wrong direction",
        kit.check_ntm_addressing,
        ntm_address(shift_sign=-1),
        "ntm_addressing.shift",
        "differs from the reference",
    ),
    (
        "ntm erase after add",
        kit.check_ntm_write,
        ntm_write(erase_after_add=True),
        "ntm_write.exact_slots",
        "w = 1, e = 1 replaces the slot by a (erase, then add)",
    ),
]


@pytest.mark.parametrize(
    ("bug", "check", "candidate", "check_id", "law"), ZOO, ids=[z[0] for z in ZOO]
)
def test_zoo_is_rejected(
    bug: str,
    check: Callable[..., list[CheckResult]],
    candidate: Callable[..., Any],
    check_id: str,
    law: str,
) -> None:
    """Each planted bug fails the named check; the report names the broken law and shows the
    inputs under the names of the candidate's arguments (the kind's calling convention)."""
    failures = _failures(check(candidate, "float64", max_examples=EXAMPLES, seed=3))
    failed = {name: failure.law for name, failure in failures.items()}
    assert failed.get(check_id) == law, f"{bug}: {failed}"
    assert list(failures[check_id].inputs) == list(inspect.signature(candidate).parameters)


def test_synchronous_update_breaks_the_energy_law() -> None:
    """Synchronous updates (all neurons at once) can raise the energy: the law catches it."""
    failed = _failed(
        kit.check_hopfield_update(hopfield_update(synchronous=True), max_examples=50, seed=3)
    )
    assert "hopfield_update.energy_law" in failed


def test_erase_after_add_also_differs_from_the_reference() -> None:
    failed = _failed(kit.check_ntm_write(ntm_write(erase_after_add=True), max_examples=EXAMPLES))
    assert failed.get("ntm_write.agrees") == "differs from the reference"


def test_float32_modern_hopfield_in_bfloat16_is_rejected() -> None:
    """A 'float32' modern Hopfield update that computes in bfloat16 exceeds the float32 bound."""
    ml_dtypes = pytest.importorskip("ml_dtypes")
    inner = modern_update()

    def disguised(states: Any, patterns: Any, beta: float) -> Any:
        bf = ml_dtypes.bfloat16
        return inner(states.astype(bf), patterns.astype(bf), beta).astype(np.float32)

    failed = _failed(kit.check_modern_hopfield(disguised, "float32", max_examples=EXAMPLES))
    assert failed.get("modern_hopfield.agrees") == "differs from the reference"


def test_kinds_are_registered() -> None:
    """The CLI finds every memory kind (``--kind NAME``)."""
    assert set(kit.MEMORY_KINDS) <= set(kinds())


@pytest.mark.parametrize("precision", ["float64", "float32", "bfloat16"])
def test_torch_sdpa_is_a_modern_hopfield_update(precision: str) -> None:
    """PyTorch's SDPA with q = ξ, k = v = X and scale β passes the modern Hopfield suite."""
    pytest.importorskip("torch")
    from impl.testing.torch_memory import torch_modern_hopfield

    results = kit.check_modern_hopfield(
        torch_modern_hopfield(precision), precision, max_examples=EXAMPLES
    )
    assert not _failed(results), "\n".join(r.report() for r in results)


def test_batch_dependent_addressing_breaks_batch_consistency() -> None:
    """Content weights normalised over the batch instead of the slots: rows depend on each other."""
    inner = ntm_address()

    def leaky(key: Any, memory: Any, *rest: Any) -> Any:
        return inner(key + key.mean(axis=0) - key[:1], memory, *rest)

    failed = _failed(kit.check_ntm_addressing(leaky, max_examples=EXAMPLES, seed=3))
    assert failed.get("ntm_addressing.batch_consistency") == "batch consistency"


def test_position_dependent_content_addressing_breaks_permutation_equivariance() -> None:
    """A content score biased by the slot index is not a function of the slots' contents."""
    inner = ntm_address()

    def positional(key: Any, memory: Any, *rest: Any) -> Any:
        ramp = np.linspace(0.0, 1.0, memory.shape[-2], dtype=np.float64)[None, :, None]
        return inner(key, (memory + ramp).astype(memory.dtype), *rest)

    failed = _failed(kit.check_ntm_addressing(positional, max_examples=EXAMPLES, seed=3))
    assert "ntm_addressing.permutation" in failed


def test_modern_update_returning_nan_is_a_failure_not_a_crash() -> None:
    """A NaN update fails the checks (energy law included) instead of crashing the suite."""

    def nan_update(states: Any, patterns: Any, beta: float) -> Any:
        return np.full_like(states, np.nan)

    failed = _failed(kit.check_modern_hopfield(nan_update, max_examples=3))
    assert failed.get("modern_hopfield.energy_law") == "energy never increases under the update"
    assert failed.get("modern_hopfield.agrees") == "differs from the reference"


@pytest.mark.parametrize(
    ("check", "candidate"),
    [
        (kit.check_modern_hopfield, lambda states, patterns, beta: states[0]),
        (kit.check_ntm_write, lambda memory, weights, erase, add: memory[0]),
        (kit.check_ntm_addressing, lambda key, memory, *rest: memory[..., 0, 0]),
    ],
)
def test_wrong_shape_is_a_named_failure(
    check: Callable[..., list[CheckResult]], candidate: Callable[..., Any]
) -> None:
    """A result of the wrong shape fails every check by name instead of crashing the suite."""
    results = check(candidate, max_examples=3)
    assert results
    assert all(r.outcome is Outcome.FAIL for r in results), [r.check for r in results]


def test_numpy_sign_failure_says_which_entries_are_not_pm1() -> None:
    """The ±1 law's message shows the offending entries and the likely cause, sign(0) = 0."""
    failures = _failures(
        kit.check_hopfield_update(
            hopfield_update(numpy_sign=True),
            max_examples=EXAMPLES,
            seed=3,
            checks=("hopfield_update.tie_rule",),
        )
    )
    message = failures["hopfield_update.tie_rule"].message
    assert "[0.]" in message
    assert "sign(0) = 0" in message


def test_energy_squeezing_a_single_state_is_rejected() -> None:
    """``np.squeeze`` on the energies returns a scalar for one state (B = 1): the suites draw
    single-state batches, so every energy check fails on the output shape."""
    inner = modern_energy()

    def squeezed(states: Any, patterns: Any, beta: float) -> Any:
        return np.squeeze(inner(states, patterns, beta))

    failed = _failed(kit.check_modern_hopfield_energy(squeezed, max_examples=EXAMPLES, seed=3))
    assert failed == dict.fromkeys(kinds()["modern_hopfield_energy"].checks, "output shape")


@pytest.mark.parametrize("precision", ["float64", "float32", "bfloat16"])
def test_energy_bound_of_a_row_depends_on_that_row_only(precision: Precision) -> None:
    """The energy of state b involves only X_b (M² = max_n ‖x_bn‖²), so its bound does too."""
    rng = np.random.default_rng(8)
    scales = np.array([0.1, 1.0, 30.0])[:, None, None]
    patterns = rng.normal(size=(3, 5, 4)) * scales
    states = rng.normal(size=(3, 4))
    whole = kit.modern_hopfield_energy_bound(states, patterns, 0.7, precision)
    for b in range(3):
        alone = kit.modern_hopfield_energy_bound(
            states[b : b + 1],
            patterns[b : b + 1],
            0.7,
            precision,
        )
        # rel: the same float64 formula on the same numbers, up to BLAS summation order.
        assert alone[0] == pytest.approx(whole[b], rel=1e-12)


@pytest.mark.parametrize("precision", ["float64", "float32"])
def test_energy_bound_with_one_pattern_has_no_summation_term(precision: Precision) -> None:
    """N = 1: lse(β, z) = z exactly and log N = 0, so the bound is z's dot error, the exp/log
    rounding of log(1 · e⁰) (η = u_exp), the ½ξᵀξ and ½M² sums and the final additions —
    γ_{N−1} = γ_0 = 0: nothing is summed."""
    arith = Arithmetic.of(precision)
    u, ue, beta = arith.u, arith.u_elementary, 0.5
    patterns = np.array([[[3.0, 4.0]]])  # |x| = 5, M² = 25
    states = np.array([[1.0, 2.0]])  # z = 11, ½ξᵀξ = 5/2
    lse_error = arith.gamma(2) * 11 + (abs(np.log1p(-ue)) + ue * ue) / beta + 2 * u * 11
    terms = 11 + 2.5 + 0.0 + 12.5
    expected = (
        lse_error
        + arith.gamma(2) * 2.5
        + arith.gamma(5) * 12.5
        + arith.gamma(3) * terms
        + arith.underflow
    )
    got = kit.modern_hopfield_energy_bound(states, patterns, beta, precision)
    # rel: the same terms summed in another order in float64 (a few ulps of the bound).
    assert got[0] == pytest.approx(expected, rel=1e-12)


def test_energy_decrease_slack_uses_each_rows_own_patterns(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """``decreases`` allows E(q(ξ')) − E(ξ) ≤ L_b ‖ξ' − q(ξ')‖ for row b (q: the rounding to the
    precision), with L_b = ‖ξ'_b‖ + max_n ‖x_bn‖ the Lipschitz constant of row b's energy. An
    energy that rises by 3 × that in row 0 is rejected, although row 1's patterns are 100 times
    larger (a slack taken over the whole batch would hide the rise). Safety 0 leaves the
    Lipschitz term alone in the slack; the case is pinned so that the rows differ so."""
    patterns = np.array([[[1.0, 0.0], [0.0, 1.0]], [[100.0, 0.0], [0.0, 100.0]]])
    states = np.array([[0.5, -0.25], [1.0, 0.0]])
    beta = 0.5
    case = kit.ModernCase(states, patterns, beta)
    monkeypatch.setattr(kit, "_modern_cases", lambda precision: st.just(case))
    updated = modern_hopfield.modern_hopfield_update(states, patterns, beta=beta)
    rounding = np.linalg.norm(updated - updated.astype(np.float32), axis=-1)
    assert rounding[0] > 0
    lipschitz_0 = np.linalg.norm(updated[0]) + 1.0
    before = modern_hopfield.modern_hopfield_energy(states, patterns, beta=beta)

    def rising(xi: Any, x: Any, b: float) -> Any:
        energy = modern_hopfield.modern_hopfield_energy(
            xi.astype(np.float64), x.astype(np.float64), beta=b
        )
        if np.array_equal(xi, states):
            return energy
        energy[0] = before[0] + 3 * lipschitz_0 * rounding[0]
        return energy

    def run(candidate: Callable[..., Any]) -> dict[str, str]:
        return _failed(
            kit.check_modern_hopfield_energy(
                candidate,
                "float32",
                max_examples=1,
                safety=0.0,
                checks=("modern_hopfield_energy.decreases",),
            )
        )

    assert run(modern_energy()) == {}  # the true energy passes the pinned case
    assert run(rising) == {
        "modern_hopfield_energy.decreases": "energy never increases under the update"
    }
