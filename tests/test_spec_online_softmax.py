"""spec.online_softmax: its laws reduce to 0, and impl's merge/fold equal the spec's (lambdified).

Book: §8.2–8.3 (softmax(s)·V); the online softmax of blocked attention. The
spec's merge, block state and finish are lambdified with ``modules="numpy"``
and evaluated in float64 on the states impl's kernels receive.
"""

import itertools
from collections.abc import Callable
from functools import cache
from typing import Any

import numpy as np
import pytest
import sympy
from hypothesis import given
from hypothesis import strategies as st
from numpy.typing import NDArray

from impl import blocked_attention as blocked
from spec import online_softmax as spec

FloatArray = NDArray[np.float64]

# Rounding of one merge, evaluated two ways (spec lambdified, impl): each ℓ, o entry goes through
# one exp (NumPy: < 4 ulp), one product and one sum: γ_6 each side, so 2·γ_6 < 16·eps.
MERGE_RTOL = 16 * float(np.finfo(np.float64).eps)


def test_spec_merge_laws_reduce_to_zero() -> None:
    """Associativity, commutativity, identity (both sides), R(a ⊕ b) = R(a) + R(b) for the
    maximum and for any common shift, and the induction's base and step."""
    residuals = [
        *spec.associativity_residuals(),
        *spec.commutativity_residuals(),
        *spec.identity_residuals()[0],
        *spec.identity_residuals()[1],
        *spec.homomorphism_residuals(),
        *spec.homomorphism_residuals(sympy.Symbol("M", real=True)),
        *spec.induction_base(),
        *spec.induction_step(),
    ]
    assert all(r == 0 for r in residuals)


def test_spec_homomorphism_check_rejects_the_usual_mistakes(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The check R(a ⊕ b) = R(a) + R(b) can fail: with either usual mistake as the merge, a
    residual is nonzero (it needs two different states: for a = b both mistakes are right)."""
    for wrong_merge in (spec.merge_rescaling_only_o, spec.merge_forgetting_running_ell):
        monkeypatch.setattr(spec, "merge", wrong_merge)
        assert any(r != 0 for r in spec.homomorphism_residuals())


def test_spec_state_symbols_carry_the_documented_assumptions() -> None:
    """m and o are real and ℓ positive (the reductions may use them). A sympy Symbol's
    assumptions are part of its identity, so the tuples are equal only if they match."""
    assert spec.state_symbols("a") == (
        sympy.Symbol("m_a", real=True),
        sympy.Symbol("ell_a", positive=True),
        sympy.Symbol("o_a", real=True),
    )
    assert sympy.Symbol("o_a", real=True) != sympy.Symbol("o_a")


def test_spec_identity_needs_the_safe_shift() -> None:
    """Literal formula: (−∞,0,0) ⊕ (−∞,0,0) has NaN entries; with the safe shift it is the
    identity (the convention impl._merge follows)."""
    assert spec.merge(spec.IDENTITY, spec.IDENTITY, safe=False)[1] is sympy.nan
    assert spec.merge(spec.IDENTITY, spec.IDENTITY) == spec.IDENTITY


def test_spec_mistakes_are_wrong_on_the_counterexample() -> None:
    """Both usual mistakes give o/ℓ ≠ 1/(1 + e) on s = (0, 1), v = (1, 0) (one key per block)."""
    zero, one = sympy.S.Zero, sympy.S.One
    first, second = spec.block_state([zero], [one]), spec.block_state([one], [zero])
    right = spec.softmax_output([zero, one], [one, zero])
    for wrong_merge in (spec.merge_rescaling_only_o, spec.merge_forgetting_running_ell):
        _, ell, o = wrong_merge(first, second)
        assert sympy.simplify(o / ell - right) != 0
    _, ell, o = spec.merge(first, second)
    assert sympy.simplify(o / ell - right) == 0


@cache
def _lambdified_merge() -> Callable[..., Any]:
    # Note: m may be −∞ here (a masked row), so the symbols are extended reals; with the
    # spec's real (finite) m, sympy would drop the safe shift's −∞ branch as impossible.
    def state(n: str) -> spec.State:
        m, ell, o = (sympy.Symbol(f"{c}_{n}", extended_real=True) for c in ("m", "ell", "o"))
        return m, ell, o

    a, b = state("a"), state("b")
    return sympy.lambdify([*a, *b], list(spec.merge(a, b)), modules="numpy")


def _random_state(rng: np.random.Generator, rows: int) -> blocked.State:
    """A block state of random scores over ``rows`` rows × 1 value column; some rows masked."""
    size = int(rng.integers(1, 5))
    scores = rng.normal(scale=5.0, size=(rows, size))
    scores[rng.random(rows) < 0.3] = -np.inf
    return blocked._block_state(scores, rng.normal(size=(size, 1)))


@given(st.integers(0, 2**32 - 1))
def test_impl_merge_equals_spec_merge(seed: int) -> None:
    """impl._merge = spec.merge (lambdified, float64), fully masked (−∞) rows included."""
    rng = np.random.default_rng(seed)
    a, b = _random_state(rng, 6), _random_state(rng, 6)
    ours = blocked._merge(a, b)
    with np.errstate(invalid="ignore"):  # numpy.select evaluates the unused −∞ − (−∞) branch
        m, ell, o = _lambdified_merge()(a[0], a[1], a[2][:, 0], b[0], b[1], b[2][:, 0])
    assert (ours[0] == m).all()
    np.testing.assert_allclose(ours[1], ell, rtol=MERGE_RTOL, atol=0)
    # o's terms have both signs: its rounding is bounded relative to Σ|terms| (a merge of |o|).
    sizes = blocked._merge((a[0], a[1], np.abs(a[2])), (b[0], b[1], np.abs(b[2])))[2][:, 0]
    assert (np.abs(ours[2][:, 0] - o) <= MERGE_RTOL * sizes).all()


@given(st.integers(0, 2**32 - 1), st.lists(st.integers(1, 3), min_size=1, max_size=4))
def test_impl_fold_equals_spec_fold(seed: int, lengths: list[int]) -> None:
    """impl's fold (identity ⊕ block states, then finish) = spec.fold + spec.finish for the same
    partition, and both = spec.softmax_output (the target), on float64 scores with masked keys.

    Tolerance: the spec's closed form and impl's fold each round every weight ≤ S + B + 4
    times; outputs ≤ max|v| ≤ 4 in size, so 2·γ_{S+B+4}·4·max|v| is generous and still tight
    enough to reject any missing rescale (those are O(1) errors)."""
    rng = np.random.default_rng(seed)
    keys = sum(lengths)
    scores = rng.normal(scale=3.0, size=keys)
    scores[rng.random(keys) < 0.3] = -np.inf
    values = rng.normal(size=keys)
    exact_s = [sympy.S.NegativeInfinity if np.isneginf(x) else sympy.Float(x) for x in scores]
    exact_v = [sympy.Float(x) for x in values]
    cuts = np.cumsum(lengths)[:-1]
    bounds = [0, *cuts.tolist(), keys]
    blocks = [(exact_s[i:j], exact_v[i:j]) for i, j in itertools.pairwise(bounds)]
    spec_out, _ = spec.finish(spec.fold(blocks))
    target = spec.softmax_output(exact_s, exact_v)
    state = blocked._identity_state((1,), 1, np.dtype(np.float64))
    for part_s, part_v in zip(np.split(scores, cuts), np.split(values, cuts), strict=True):
        state = blocked._merge(state, blocked._block_state(part_s[None, :].copy(), part_v[:, None]))
    out, _ = blocked._finish(state)
    u = float(np.finfo(np.float64).eps) / 2
    n = keys + len(lengths) + 4
    tolerance = 2 * (n * u / (1 - n * u)) * 4 * max(1.0, float(np.abs(values).max()))
    assert abs(float(out[0, 0]) - float(spec_out)) <= tolerance
    assert abs(float(spec_out) - float(target)) <= tolerance
