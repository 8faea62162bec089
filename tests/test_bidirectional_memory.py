"""Properties of the bidirectional associative memory (§8.6; Kosko 1988).

impl: ``impl.bidirectional_memory``.
"""

from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from numpy.typing import NDArray

from impl.bidirectional_memory import bam_energy, bam_recall, bam_weights, corrupt_patterns
from impl.testing.strategies import (
    generators,
    orthogonal_sign_patterns,
    sign_pattern_pairs,
    sign_vectors,
    sizes,
)
from impl.testing.tolerances import assert_close

Array = NDArray[np.floating[Any]]
Pairs = tuple[Array, Array]


@st.composite
def orthogonal_pairs(draw: st.DrawFn) -> Pairs:
    """P pairs whose x-patterns are mutually orthogonal and y-patterns too."""
    P = draw(sizes(4))
    return draw(orthogonal_sign_patterns(P)), draw(orthogonal_sign_patterns(P))


@given(sign_pattern_pairs())
def test_bam_weights_orientation(pairs: Pairs) -> None:
    """W = Σ_p y xᵀ has shape (K, M); swapping the roles transposes it; E(x,y,W) = E(y,x,Wᵀ)."""
    x, y = pairs
    W = bam_weights(x, y)
    assert W.shape == (y.shape[1], x.shape[1])
    expected = sum(np.outer(y[p], x[p]) for p in range(x.shape[0]))
    assert_close(W, np.asarray(expected, dtype=x.dtype))
    assert_close(bam_weights(y, x), W.T)
    assert_close(bam_energy(x, y, W), bam_energy(y, x, W.T))


@given(sign_pattern_pairs(), st.data())
def test_bam_recall_energy_non_increasing(pairs: Pairs, data: st.DataObject) -> None:
    """E = −yᵀWx never rises over the half steps of recall, at any load (Kosko 1988)."""
    x, y = pairs
    W = bam_weights(x, y)
    start = data.draw(sign_vectors((3, x.shape[1]), dtype=x.dtype))
    result = bam_recall(start, W)
    # Energies are sums of integers, exact in float32 and float64 at these sizes.
    assert np.all(np.diff(result.energies, axis=0) <= 0)
    assert result.converged.all()
    assert_close(result.energies[-1], bam_energy(result.x, result.y, W))


@given(sign_pattern_pairs(), st.data())
def test_bam_recall_ends_at_fixed_point(pairs: Pairs, data: st.DataObject) -> None:
    """Recall ends in a bidirectionally stable pair: y = sign(Wx) and x = sign(Wᵀy) (ties aside)."""
    x, y = pairs
    W = bam_weights(x, y)
    start = data.draw(sign_vectors((2, x.shape[1]), dtype=x.dtype))
    result = bam_recall(start, W)
    again = bam_recall(result.x, W, y=result.y)
    assert again.rounds == 1
    assert again.converged.all()
    assert_close(again.x, result.x)
    assert_close(again.y, result.y)


@given(orthogonal_pairs(), st.data())
def test_bam_recall_stored_pairs_low_load(pairs: Pairs, data: st.DataObject) -> None:
    """Orthogonal stored pairs are recalled from cues with d < M/(2P) flipped bits.

    Sufficient condition: for orthogonal x-patterns, (W x̃)_k = (M − 2d) y^(p)_k
    + Σ_{q≠p} y^(q)_k (x^(q)·x̃) with |x^(q)·x̃| ≤ 2d, so the sign is y^(p)_k when
    M − 2d > 2d(P − 1), i.e. d < M/(2P); then Wᵀ y^(p) = K x^(p) for orthogonal y.
    """
    x, y = pairs
    P, M = x.shape
    W = bam_weights(x, y)
    max_flips = (M - 1) // (2 * P)  # largest d with 2dP < M
    flips = data.draw(st.integers(min_value=0, max_value=max_flips))
    cue = corrupt_patterns(x, flips, data.draw(generators()))
    result = bam_recall(cue, W)
    assert_close(result.y, y)
    assert_close(result.x, x)


@given(sign_pattern_pairs(), st.data())
def test_bam_recall_batch_consistency(pairs: Pairs, data: st.DataObject) -> None:
    """A batched recall equals the per-item recalls (items that converge early stay put)."""
    x, y = pairs
    W = bam_weights(x, y)
    starts = data.draw(sign_vectors((4, x.shape[1]), dtype=x.dtype))
    batched = bam_recall(starts, W)
    for n in range(starts.shape[0]):
        single = bam_recall(starts[n], W)
        assert_close(batched.x[n], single.x)
        assert_close(batched.y[n], single.y)
        assert batched.converged[n] == single.converged
        rounds_needed = single.rounds
        assert_close(np.asarray(batched.energies[2 * rounds_needed, n]), single.energies[-1])


def test_bam_recall_tie_keeps_previous_state() -> None:
    """A zero field leaves the component unchanged (documented tie rule)."""
    W = np.array([[1.0, -1.0]])  # K = 1, M = 2: W x = x_0 − x_1
    result = bam_recall(np.array([1.0, 1.0]), W, y=np.array([-1.0]))
    # Kept y = −1 at the tie, then x ← sign(Wᵀy) = (−1, 1). The book's "≥ 0 → +1" would
    # have set y = +1 and ended at (x, y) = ((1, −1), +1).
    assert_close(result.y, np.array([-1.0]))
    assert_close(result.x, np.array([-1.0, 1.0]))
    # The mirror case: a tie keeps y = +1 too (a rule "tie → −1" would pass the case above).
    kept_plus = bam_recall(np.array([1.0, 1.0]), W, y=np.array([1.0]))
    assert_close(kept_plus.y, np.array([1.0]))
    assert_close(kept_plus.x, np.array([1.0, -1.0]))
    assert bool(kept_plus.converged)


def test_bam_weights_size_limit_is_a_quarter_of_the_dtype_maximum() -> None:
    """Σ|w_km| ≤ finfo.max / 4 is accepted (the bound is inclusive) and just above it refused.

    The limit is the documented one (fields and energies stay below finfo.max): float32
    weights ±finfo.max / 8 (exact: a power-of-two division) sum to finfo.max / 4 exactly
    and are accepted; one ulp more is refused.
    """
    a = np.finfo(np.float32).max / np.float32(8)
    at_limit = np.array([[a, -a]], dtype=np.float32)
    x = np.array([1.0, 1.0], dtype=np.float32)
    y = np.array([1.0], dtype=np.float32)
    assert float(bam_energy(x, y, at_limit)) == 0.0  # −(a − a)
    assert float(bam_recall(x, at_limit, y=y).energies[0]) == 0.0
    above = np.array([[np.nextafter(a, np.float32(np.inf)), -a]], dtype=np.float32)
    with pytest.raises(ValueError, match=r"weights is too large for float32"):
        bam_energy(x, y, above)


@given(sign_vectors((3, 9)), st.integers(0, 9), generators())
def test_corrupt_patterns_flips_exactly_k_bits(
    patterns: Array, flips: int, rng: np.random.Generator
) -> None:
    """Each row is at Hamming distance exactly k from its original; entries stay ±1."""
    corrupted = corrupt_patterns(patterns, flips, rng)
    assert corrupted.shape == patterns.shape
    assert corrupted.dtype == patterns.dtype
    assert np.all(np.abs(corrupted) == 1)
    assert np.all(np.sum(corrupted != patterns, axis=-1) == flips)


def test_corrupt_patterns_uses_the_generator() -> None:
    """Same seed, same corruption; the choice of bits is spread over all positions."""
    patterns = np.ones((200, 10))
    first = corrupt_patterns(patterns, 3, np.random.default_rng(7))
    assert_close(first, corrupt_patterns(patterns, 3, np.random.default_rng(7)))
    # Every position is flipped with probability 3/10; over 200 rows each count is
    # Binomial(200, 0.3) (mean 60, sd 6.5): P(count < 20) < 1e-12 per position.
    assert np.all(np.sum(first == -1, axis=0) >= 20)


def test_bam_bad_input() -> None:
    """Bad input raises errors naming the argument."""
    x = np.array([[1.0, -1.0, 1.0]])
    y = np.array([[1.0, 1.0]])
    W = bam_weights(x, y)
    with pytest.raises(ValueError, match=r"x_patterns must contain only \+1 and -1"):
        bam_weights(np.array([[1.0, 0.0, 1.0]]), y)
    with pytest.raises(ValueError, match="x_patterns has 1 patterns, y_patterns has 2"):
        bam_weights(x, np.ones((2, 2)))
    with pytest.raises(TypeError, match="share one float dtype"):
        bam_weights(x.astype(np.float32), y)
    with pytest.raises(ValueError, match="x has 2 features, weights expects M = 3"):
        bam_energy(np.ones(2), np.ones(2), W)
    with pytest.raises(ValueError, match="y has 3 features, weights expects K = 2"):
        bam_recall(np.ones(3), W, y=np.ones(3))
    with pytest.raises(ValueError, match=r"batch axes of x \(2, 3\) and y \(3, 2\) do not"):
        bam_energy(np.ones((2, 3)), np.ones((3, 2)), W)
    with pytest.raises(ValueError, match=r"batch axes of x \(2, 3\) and y \(3, 2\) do not"):
        bam_recall(np.ones((2, 3)), W, y=np.ones((3, 2)))
    with pytest.raises(ValueError, match="max_rounds must be at least 1"):
        bam_recall(np.ones(3), W, max_rounds=0)
    with pytest.raises(
        ValueError, match=r"num_flips must be at most 3 \(patterns have M = 3 bits\)"
    ):
        corrupt_patterns(x, 4, np.random.default_rng(0))
    with pytest.raises(TypeError, match="Generator"):
        corrupt_patterns(x, 1, 0)  # type: ignore[arg-type]


def test_bam_recall_ties_are_exact_under_rounded_weights() -> None:
    """A positive scale does not change the dynamics, even where a field is exactly 0.

    W/3 (rounded) has fields that are multiples of 1/3 up to rounding, so exact ties
    come out as ±(a few ulps); the derived rounding band still reads them as ties
    (keep the previous state), and recall with W/3 equals recall with the integer W
    (200 seeded cases with many ties: M = 6, K = 4, 3 stored pairs, so the weights
    are ±1 and ±3 and a tie such as 3 − 1 − 1 − 1 = 0 becomes 1 − 3·fl(1/3) ≠ 0).
    """
    rng = np.random.default_rng(1988)
    for _ in range(200):
        xs = rng.choice([-1.0, 1.0], size=(3, 6))
        ys = rng.choice([-1.0, 1.0], size=(3, 4))
        weights = bam_weights(xs, ys)
        cue = rng.choice([-1.0, 1.0], size=(3, 6))
        start = rng.choice([-1.0, 1.0], size=(3, 4))
        exact = bam_recall(cue, weights, y=start)
        scaled = bam_recall(cue, weights / 3, y=start)
        assert np.array_equal(exact.x, scaled.x)
        assert np.array_equal(exact.y, scaled.y)
        assert exact.rounds == scaled.rounds
