"""Exercise 8-6 without its hypotheses: searched and exactly verified counterexamples (§8.6.1).

The energy lemma (``proofs.hopfield_energy_decrease``) assumes asynchronous
updates, w_ij = w_ji and w_ii = 0. Dropping each hypothesis in turn:
(a) an asymmetric W lets the energy rise (and the asynchronous dynamics cycle);
(b) a positive diagonal does NOT break monotone decrease (proved by cases);
(c) a negative diagonal does (the energy rises, and one neuron can oscillate);
(d) synchronous updates with symmetric zero-diagonal W reach a 2-cycle along
which the energy rises at one of the two steps.
Searches run over small integer networks (exact integer arithmetic); every
witness is re-verified in exact rational arithmetic with ``spec.hopfield`` and
replayed with ``impl.hopfield`` (using its explicit opt-outs).
"""

import itertools
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import sympy
from numpy.typing import NDArray

from impl import hopfield as hopfield_impl
from proofs._narrate import Derivation
from spec import hopfield as hs

IntArray = NDArray[np.int64]

ENTRY_VALUES = (-1, 0, 1)
"""Weights and biases searched: small integers, so exact arithmetic is cheap."""


@dataclass(frozen=True)
class Network:
    """A small integer network: weights (M, M) and bias (M,)."""

    weights: IntArray
    bias: IntArray

    @property
    def size(self) -> int:
        """M, the number of neurons."""
        return int(self.weights.shape[0])

    def exact(self) -> tuple[sympy.MatrixBase, sympy.MatrixBase]:
        """(W, b) as exact sympy matrices (b a column)."""
        return (
            hs.exact_matrix(self.weights.tolist()),
            hs.exact_matrix([[int(v)] for v in self.bias]),
        )

    def floats(self) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """(W, b) as float64 arrays for impl."""
        return self.weights.astype(np.float64), self.bias.astype(np.float64)


def _all_states(size: int) -> IntArray:
    return np.array(list(itertools.product((1, -1), repeat=size)), dtype=np.int64)


def _twice_energy(net: Network, states: IntArray) -> IntArray:
    """2E = −sᵀWs − 2bᵀs for each row of ``states`` (exact in integers)."""
    quadratic: IntArray = np.einsum("ni,ij,nj->n", states, net.weights, states)
    result: IntArray = -quadratic - 2 * states @ net.bias
    return result


def _update(net: Network, states: IntArray, neuron: int) -> IntArray:
    field = states @ net.weights[neuron] + net.bias[neuron]
    new = states.copy()
    new[:, neuron] = np.where(field >= 0, 1, -1)
    return new


def _synchronous(net: Network, states: IntArray) -> IntArray:
    result: IntArray = np.where(states @ net.weights.T + net.bias >= 0, 1, -1)
    return result


def _networks(
    size: int,
    *,
    symmetric: bool,
    diagonal_values: tuple[int, ...] = (0,),
    bias_values: tuple[int, ...] = (0,),
) -> Iterator[Network]:
    """All integer networks of the given kind, off-diagonal entries from ENTRY_VALUES."""
    pairs = [
        (r, c) for r in range(size) for c in range(size) if r != c and (not symmetric or r < c)
    ]
    for off in itertools.product(ENTRY_VALUES, repeat=len(pairs)):
        for diagonal in itertools.product(diagonal_values, repeat=size):
            weights = np.diag(np.array(diagonal, dtype=np.int64))
            for (r, c), value in zip(pairs, off, strict=True):
                weights[r, c] = value
                if symmetric:
                    weights[c, r] = value
            if not symmetric and np.array_equal(weights, weights.T):
                continue
            for bias in itertools.product(bias_values, repeat=size):
                yield Network(weights, np.array(bias, dtype=np.int64))


@dataclass(frozen=True)
class Rise:
    """An asynchronous update of ``neuron`` from ``state`` that raises the energy."""

    net: Network
    state: IntArray
    neuron: int


def _energy_rises(net: Network) -> Iterator[Rise]:
    """Updates that raise E with a nonzero field (so the rise is no artefact of the tie rule)."""
    states = _all_states(net.size)
    before = _twice_energy(net, states)
    for neuron in range(net.size):
        after = _twice_energy(net, _update(net, states, neuron))
        field = states @ net.weights[neuron] + net.bias[neuron]
        for row in np.flatnonzero((after > before) & (field != 0)):
            yield Rise(net, states[row], neuron)


def _first_rise(nets: Iterator[Network]) -> tuple[Rise | None, int]:
    searched = 0
    for net in nets:
        searched += 1
        for rise in _energy_rises(net):
            return rise, searched
    return None, searched


def _verify_rise(
    d: Derivation, label: str, rise: Rise, *, asymmetric: bool, diagonal: bool
) -> None:
    """Re-check a rise exactly (spec) and with impl's opt-outs (float64)."""
    W, b = rise.net.exact()
    state = hs.exact_matrix([[int(v)] for v in rise.state])
    after = hs.exact_update_neuron(W, b, state, rise.neuron)
    e_before, e_after = hs.exact_energy(W, b, state), hs.exact_energy(W, b, after)
    field = hs.exact_field(W, b, state)[rise.neuron, 0]
    d.note(f"W = {rise.net.weights.tolist()}, b = {rise.net.bias.tolist()}")
    d.note(
        f"s = {rise.state.tolist()}, update neuron i = {rise.neuron}: h_i = {field}, "
        f"s' = {list(after)}, E: {e_before} → {e_after}"
    )
    d.check_true(
        f"{label}: exact E(s') = {e_after} > E(s) = {e_before}",
        bool(e_after > e_before),
        strength="finite",
    )
    Wf, bf = rise.net.floats()
    sf = rise.state.astype(np.float64)
    options = {"allow_asymmetric": asymmetric, "allow_nonzero_diagonal": diagonal}
    new = hopfield_impl.update_neuron(sf, rise.neuron, Wf, bf, **options)
    rise_impl = float(hopfield_impl.energy(new, Wf, bf, **options)) - float(
        hopfield_impl.energy(sf, Wf, bf, **options)
    )
    d.check_true(
        f"{label}: impl (with its opt-outs) replays it: same s', ΔE = {rise_impl:+g} "
        f"= {e_after - e_before}",
        np.array_equal(new, np.array([float(v) for v in after]))
        and rise_impl == float(e_after - e_before),
        strength="numeric",
    )


def _integer_copies_match_spec(d: Derivation) -> None:
    """The fast integer energy and updates used in the searches equal spec's exact definitions."""
    nets = list(
        _networks(2, symmetric=False, diagonal_values=ENTRY_VALUES, bias_values=ENTRY_VALUES)
    )
    nets += list(
        _networks(2, symmetric=True, diagonal_values=ENTRY_VALUES, bias_values=ENTRY_VALUES)
    )
    mismatches = 0
    for net in nets:
        W, b = net.exact()
        states = _all_states(net.size)
        twice = _twice_energy(net, states)
        synchronous = _synchronous(net, states)
        for row, state in enumerate(states):
            exact_state = hs.exact_matrix([[int(v)] for v in state])
            mismatches += int(twice[row] != 2 * hs.exact_energy(W, b, exact_state))
            exact_sync = hs.exact_synchronous_update(W, b, exact_state)
            mismatches += int(list(synchronous[row]) != list(exact_sync))
            for neuron in range(net.size):
                exact_after = hs.exact_update_neuron(W, b, exact_state, neuron)
                mismatches += int(list(_update(net, states, neuron)[row]) != list(exact_after))
    d.check_true(
        f"the integer energy, asynchronous and synchronous updates used in the searches equal "
        f"spec's exact E, update rule and field on all {len(nets)} networks with M = 2 (weights, "
        "diagonal and bias in {−1, 0, 1}) and every state",
        mismatches == 0,
        strength="finite",
    )


def _asymmetric(d: Derivation) -> None:
    d.step("(a) Drop symmetry: search asymmetric zero-diagonal W (entries −1, 0, 1), b = 0")
    rise, searched = _first_rise(net for size in (2, 3) for net in _networks(size, symmetric=False))
    d.check_true(
        f"a rise found after searching {searched} networks", rise is not None, strength="finite"
    )
    assert rise is not None
    _verify_rise(d, "(a) asymmetric W", rise, asymmetric=True, diagonal=False)
    d.note(
        "Why: ΔE = −Δ h_i + ½Δ Σ_j (w_ij − w_ji) s_j (the derived general formula): the "
        "update follows the row field h_i, the energy sees the symmetric part."
    )
    # Asymmetric W can also prevent convergence: find a cycle of fixed-order sweeps.
    for net in _networks(2, symmetric=False):
        for start in _all_states(2):
            states = [start]
            for _ in range(8):
                nxt = states[-1][None, :]
                for neuron in range(2):
                    nxt = _update(net, nxt, neuron)
                states.append(nxt[0])
            if not np.array_equal(states[-1], states[-2]):
                Wf, bf = net.floats()
                run = hopfield_impl.run_to_fixed_point(
                    start.astype(np.float64),
                    Wf,
                    bf,
                    order=[0, 1],
                    max_sweeps=20,
                    allow_asymmetric=True,
                )
                d.note(
                    f"W = {net.weights.tolist()}, s(0) = {start.tolist()}: fixed-order sweeps "
                    f"never settle; impl reports converged={run.converged}, "
                    f"cycle_length={run.cycle_length}"
                )
                d.check_true(
                    "(a) an asymmetric W also breaks convergence: the sweeps cycle",
                    not run.converged and run.cycle_length is not None and run.cycle_length >= 2,
                    strength="numeric",
                )
                return
    d.check_true("(a) an asymmetric cycling network exists for M = 2", False, strength="finite")


def _positive_diagonal(d: Derivation) -> None:
    d.step(
        "(b) Drop the zero diagonal, w_ii = d > 0. For ±1 states σ = s_i, τ = s'_i the "
        "self-coupling drops out of ΔE: with h_i = h̃_i + d σ (h̃_i without the j = i term),",
        sympy.Eq(sympy.Symbol("ΔE"), hs.energy_change_split_field(), evaluate=False),
    )
    d.check_equal(
        "(b) the ΔE split here is the one derived from the energy E = −½ sᵀWs − bᵀs by flipping "
        "s_i (spec.hopfield.energy_change_derived, symmetric W, symbolic M)",
        hs.apply_symmetry(hs.energy_change_derived()),
        hs.energy_change_with_diagonal(),
        strength="symbolic",
    )
    reduced = hs.energy_change_plus_minus_one()
    d.check_equal(
        "(b) for σ² = τ² = 1: ΔE = −(τ − σ) h̃_i, independent of d",
        reduced,
        -(hs.NEW - hs.OLD) * hs.OFF_DIAGONAL_FIELD,
        strength="symbolic",
    )
    d.note("But the update reads h_i = h̃_i + d σ, so d shifts the threshold. By cases:")
    positive = sympy.Symbol("e", positive=True)
    for case in hs.diagonal_update_cases(positive):
        d.note(
            f"w_ii = e > 0, {case.description}: s' = {case.new_state}, ΔE = {case.energy_change}"
        )
        d.check_true(
            f"(b) [{case.description}] ΔE = {case.energy_change} < 0 (sympy: e > 0, p > 0, q ≥ 0)",
            bool(case.energy_change.is_negative),
            strength="symbolic",
        )
    d.note("(A neuron that does not flip leaves E unchanged.) So a positive diagonal keeps")
    d.note("the energy monotone — every flip even lowers E by at least 2·w_ii.")
    nets = [
        net
        for size in (2, 3)
        for net in _networks(size, symmetric=True, diagonal_values=(1, 2), bias_values=ENTRY_VALUES)
    ]
    rises = sum(1 for net in nets for _ in _energy_rises(net))
    d.check_true(
        f"(b) exhaustive exact check: {len(nets)} symmetric networks (M = 2, 3; off-diagonal "
        f"and bias in {{−1, 0, 1}}, diagonal in {{1, 2}}), every state and neuron: {rises} rises",
        rises == 0,
        strength="finite",
    )
    net = Network(np.array([[2, 1], [1, 2]], dtype=np.int64), np.zeros(2, dtype=np.int64))
    states = _all_states(2)
    fixed = sum(
        int(all(np.array_equal(_update(net, s[None, :], n)[0], s) for n in range(2)))
        for s in states
    )
    zero_diag = Network(np.array([[0, 1], [1, 0]], dtype=np.int64), np.zeros(2, dtype=np.int64))
    fixed_zero = sum(
        int(all(np.array_equal(_update(zero_diag, s[None, :], n)[0], s) for n in range(2)))
        for s in states
    )
    d.check_true(
        f"(b) what a positive diagonal does instead: W = [[2, 1], [1, 2]] makes all "
        f"{fixed} states fixed points (spurious memories); with zero diagonal only {fixed_zero}",
        fixed == 4 and fixed_zero == 2,
        strength="finite",
    )


def _negative_diagonal(d: Derivation) -> None:
    positive = sympy.Symbol("e", positive=True)
    d.step("(c) Drop the zero diagonal with w_ii = −e < 0: the same case analysis gives")
    witnesses = []
    for case in hs.diagonal_update_cases(-positive):
        d.note(f"w_ii = −e, {case.description}: s' = {case.new_state}, ΔE = {case.energy_change}")
        d.check_true(
            f"(c) [{case.description}] sympy cannot sign ΔE = {case.energy_change} "
            f"(is_nonpositive = {case.energy_change.is_nonpositive})",
            case.energy_change.is_nonpositive is None,
            strength="symbolic",
        )
        witnesses.append(case.energy_change.subs(hs.FIELD_POSITIVE_PART, positive / 2))
    d.check_true(
        f"(c) with p = e/2 (a field that flips the neuron only because of the negative "
        f"self-coupling), ΔE = {witnesses[0]} > 0",
        bool(witnesses[0].is_positive),
        strength="finite",
    )
    rise, searched = _first_rise(
        net
        for size in (2, 3)
        for net in _networks(size, symmetric=True, diagonal_values=(0, -1, -2))
        if np.diagonal(net.weights).min() < 0
    )
    d.check_true(
        f"(c) a concrete rise found after searching {searched} networks",
        rise is not None,
        strength="finite",
    )
    assert rise is not None
    _verify_rise(d, "(c) negative diagonal", rise, asymmetric=False, diagonal=True)
    run = hopfield_impl.run_to_fixed_point(
        np.array([1.0]),
        np.array([[-1.0]]),
        order=[0],
        max_sweeps=10,
        allow_nonzero_diagonal=True,
    )
    d.check_true(
        f"(c) a single neuron with w_11 = −1 oscillates under asynchronous updates: "
        f"states {run.states[:, 0].tolist()}, cycle_length = {run.cycle_length}",
        not run.converged and run.cycle_length == 2,
        strength="numeric",
    )


def _synchronous_updates(d: Derivation) -> None:
    d.step(
        "(d) Drop asynchrony: symmetric zero-diagonal W, all neurons updated at once. "
        "Search 2-cycles s → s' → s (s' ≠ s) with E(s') ≠ E(s)"
    )

    def two_cycles(nets: Iterator[Network]) -> Iterator[tuple[Network, IntArray, IntArray]]:
        for net in nets:
            states = _all_states(net.size)
            once = _synchronous(net, states)
            twice = _synchronous(net, once)
            unequal = _twice_energy(net, once) != _twice_energy(net, states)
            for row in np.flatnonzero(
                np.all(twice == states, axis=1) & np.any(once != states, axis=1) & unequal
            ):
                yield net, states[row], once[row]

    no_bias = list(
        itertools.islice(
            two_cycles(net for size in (2, 3, 4) for net in _networks(size, symmetric=True)),
            1,
        )
    )
    d.note(
        "Without bias (M = 2, 3, 4 in turn, entries −1, 0, 1): "
        + (
            f"the first such cycle has M = {no_bias[0][0].size}"
            if no_bias
            else "none (E(−s) = E(s) when b = 0, so the cycle s ↔ −s has equal energies)"
        )
    )
    found = no_bias or list(
        itertools.islice(
            two_cycles(
                net
                for size in (2, 3)
                for net in _networks(size, symmetric=True, bias_values=ENTRY_VALUES)
            ),
            1,
        )
    )
    d.check_true("(d) a 2-cycle with unequal energies exists", bool(found), strength="finite")
    net, start, _ = found[0]
    W, b = net.exact()
    s0 = hs.exact_matrix([[int(v)] for v in start])
    s1 = hs.exact_synchronous_update(W, b, s0)
    s2 = hs.exact_synchronous_update(W, b, s1)
    energies = [hs.exact_energy(W, b, x) for x in (s0, s1, s2)]
    d.note(f"W = {net.weights.tolist()}, b = {net.bias.tolist()}")
    d.note(f"s(0) = {list(s0)} → s(1) = {list(s1)} → s(2) = {list(s2)}; E = {energies}")
    d.check_true(
        "(d) exactly: s(2) = s(0) ≠ s(1), and E rises at one of the two steps",
        s2 == s0 and s1 != s0 and bool(energies[1] > energies[0] or energies[2] > energies[1]),
        strength="finite",
    )
    Wf, bf = net.floats()
    run = hopfield_impl.run_to_fixed_point(
        start.astype(np.float64), Wf, bf, mode="synchronous", max_sweeps=10
    )
    rises = bool(np.any(np.diff(run.energies) > 0))
    d.check_true(
        f"(d) impl replays it: cycle_length = {run.cycle_length}, energies "
        f"{run.energies.tolist()} (rise: {rises})",
        run.cycle_length == 2 and not run.converged and rises,
        strength="numeric",
    )
    d.note(
        "Synchronous dynamics still ends in period 1 or 2: proofs.hopfield_synchronous_lyapunov."
    )


def main() -> None:
    """Find and verify a counterexample for each dropped hypothesis of exercise 8-6."""
    d = Derivation(
        "Exercise 8-6: which hypotheses the energy lemma needs",
        "book §8.6.1, w_ii = 0, w_ij = w_ji, asynchronous updates; exercise 8-6",
    )
    d.claim(
        sympy.Symbol("ΔE ≤ 0 needs w_ij = w_ji, w_ii ≥ 0 and asynchronous updates"),
        "each can be dropped only at the cost of a rising energy, except that a positive "
        "diagonal is harmless (it adds spurious fixed points instead)",
    )
    _integer_copies_match_spec(d)
    _asymmetric(d)
    _positive_diagonal(d)
    _negative_diagonal(d)
    _synchronous_updates(d)
    d.note(
        "Summary: symmetry is needed; the book's w_ii = 0 can be relaxed to w_ii ≥ 0 for "
        "monotone energy; asynchronous updates are needed (synchronous ones may cycle)."
    )
    d.qed()


if __name__ == "__main__":
    main()
