"""The online softmax: partial states (m, ℓ, o), their merge, and folding blocks of keys.

Book: §8.2–8.3 (the attention distribution softmax(s) and its weighted sum
softmax(s)·V); the blocking is Milakov & Gimelshein's online softmax (2018),
the algebra under FlashAttention (Dao et al. 2022). The twin of
``impl.blocked_attention`` (its ``_merge``, ``_block_state``, ``_finish``).

A block of keys j with scores s_j and values v_j (one value column: the
algebra is linear in v, so each column of a vector value behaves alike) has the
partial state

    m = max_j s_j,   ℓ = Σ_j e^{s_j − m},   o = Σ_j e^{s_j − m} v_j,

and two states merge by

    (m, ℓ, o) ⊕ (m′, ℓ′, o′) = (M, ℓ e^{m−M} + ℓ′ e^{m′−M}, o e^{m−M} + o′ e^{m′−M}),
    M = max(m, m′).

A state *represents* the pair R(m, ℓ, o) = (ℓ e^m, o e^m) = (Σ e^{s_j}, Σ e^{s_j} v_j),
and R turns ⊕ into +: that one identity gives associativity, commutativity,
the identity (−∞, 0, 0), and (by induction on the number of blocks) that
folding any partition of the keys yields softmax(s)·V = o/ℓ and
log Σ e^{s_j} = m + log ℓ.

Masks: a masked key has score −∞ (weight e^{−∞} = 0), as in ``impl.softmax``.
A block whose keys are all masked has m = −∞; the kernel then shifts by 0
instead of by m (``safe_shift``), so its state is the identity (−∞, 0, 0) and
not the 0·e^{−∞+∞} = NaN of the formula taken literally. A query with no allowed
key keeps the identity state: output 0 and log-sum-exp −∞ (our SDPA's convention).
"""

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache, reduce

import sympy

from spec.softmax import symbolic_softmax

State = tuple[sympy.Expr, sympy.Expr, sympy.Expr]
"""A partial state (m, ℓ, o): running maximum, Σ e^{s − m}, Σ e^{s − m} v."""

IDENTITY: State = (sympy.S.NegativeInfinity, sympy.S.Zero, sympy.S.Zero)
"""(−∞, 0, 0): the state of an empty or fully masked block; the merge's identity."""


def safe_shift(top: sympy.Expr) -> sympy.Expr:
    """The shift the kernel subtracts: ``top`` itself, or 0 where ``top`` = −∞ (no key yet)."""
    return sympy.Piecewise((sympy.S.Zero, sympy.Eq(top, sympy.S.NegativeInfinity)), (top, True))


def merge(a: State, b: State, *, safe: bool = True) -> State:
    """(m, ℓ, o) ⊕ (m′, ℓ′, o′) = (M, ℓ e^{m−M} + ℓ′ e^{m′−M}, o e^{m−M} + o′ e^{m′−M}).

    M = max(m, m′); with ``safe`` the exponents use ``safe_shift(M)`` (which is M
    for any finite M), so identity ⊕ identity is the identity, not NaN.
    """
    (m, ell, o), (m_b, ell_b, o_b) = a, b
    top = sympy.Max(m, m_b)
    shift = safe_shift(top) if safe else top
    rescale_a, rescale_b = sympy.exp(m - shift), sympy.exp(m_b - shift)
    return top, ell * rescale_a + ell_b * rescale_b, o * rescale_a + o_b * rescale_b


def merge_rescaling_only_o(a: State, b: State) -> State:
    """A usual mistake: o is rescaled but ℓ is summed as is (ℓ + ℓ′)."""
    (m, ell, o), (m_b, ell_b, o_b) = a, b
    top = sympy.Max(m, m_b)
    return top, ell + ell_b, o * sympy.exp(m - top) + o_b * sympy.exp(m_b - top)


def merge_forgetting_running_ell(a: State, b: State) -> State:
    """A usual mistake: the new block is rescaled to the new maximum, the running ℓ is not."""
    (m, ell, o), (m_b, ell_b, o_b) = a, b
    top = sympy.Max(m, m_b)
    return (
        top,
        ell + ell_b * sympy.exp(m_b - top),
        o * sympy.exp(m - top) + o_b * sympy.exp(m_b - top),
    )


def represented(state: State) -> tuple[sympy.Expr, sympy.Expr]:
    """R(m, ℓ, o) = (ℓ e^m, o e^m): the (Σ e^{s_j}, Σ e^{s_j} v_j) a state stands for."""
    m, ell, o = state
    return ell * sympy.exp(m), o * sympy.exp(m)


def block_state(scores: Sequence[sympy.Expr], values: Sequence[sympy.Expr]) -> State:
    """(max s, Σ e^{s − max}, Σ e^{s − max} v) of one block of keys; −∞ scores are masked.

    The shift is ``safe_shift(max s)``, so a fully masked block gives (−∞, 0, 0).
    """
    if len(scores) != len(values) or not scores:
        raise ValueError(f"a block needs ≥ 1 key and one value per score, got {len(scores)}")
    top = sympy.Max(*scores)
    shift = safe_shift(top)
    weights = [sympy.exp(s - shift) for s in scores]
    total = sum(weights, sympy.S.Zero)
    output = sum((w * v for w, v in zip(weights, values, strict=True)), sympy.S.Zero)
    return top, total, output


def fold(blocks: Sequence[tuple[Sequence[sympy.Expr], Sequence[sympy.Expr]]]) -> State:
    """IDENTITY ⊕ state(block 1) ⊕ … ⊕ state(block B), left to right (the kernel's loop)."""
    return reduce(merge, (block_state(s, v) for s, v in blocks), IDENTITY)


def finish(state: State) -> tuple[sympy.Expr, sympy.Expr]:
    """(o/ℓ, m + log ℓ), with (0, −∞) for ℓ = 0 (a query with no allowed key)."""
    m, ell, o = state
    if ell == 0:
        return sympy.S.Zero, sympy.S.NegativeInfinity
    return o / ell, m + sympy.log(ell)


def softmax_output(scores: Sequence[sympy.Expr], values: Sequence[sympy.Expr]) -> sympy.Expr:
    """The target Σ_j softmax(s)_j v_j over the allowed (finite-score) keys; 0 if none."""
    allowed = [(s, v) for s, v in zip(scores, values, strict=True) if s != sympy.S.NegativeInfinity]
    if not allowed:
        return sympy.S.Zero
    partition = sum((sympy.exp(s) for s, _ in allowed), sympy.S.Zero)
    return sum((sympy.exp(s) * v for s, v in allowed), sympy.S.Zero) / partition


# ---------------------------------------------------------------------------
# Symbolic states and the merge's laws
# ---------------------------------------------------------------------------


def state_symbols(name: str) -> State:
    """A state of symbols (m_name real, ℓ_name positive, o_name real)."""
    return (
        sympy.Symbol(f"m_{name}", real=True),
        sympy.Symbol(f"ell_{name}", positive=True),
        sympy.Symbol(f"o_{name}", real=True),
    )


def _reduce(expr: sympy.Expr) -> sympy.Expr:
    """Expand and combine exponentials: e^{a−M} e^{M−b} → e^{a−b} (targeted, then simplify)."""
    return sympy.simplify(sympy.powsimp(sympy.expand(expr)))


def state_residuals(left: State, right: State) -> tuple[sympy.Expr, ...]:
    """Componentwise left − right, reduced (all 0 iff the states are equal)."""
    return tuple(_reduce(x - y) for x, y in zip(left, right, strict=True))


def associativity_residuals() -> tuple[sympy.Expr, ...]:
    """(a ⊕ b) ⊕ c − a ⊕ (b ⊕ c), componentwise, for symbolic finite states."""
    a, b, c = (state_symbols(n) for n in "abc")
    return state_residuals(merge(merge(a, b), c), merge(a, merge(b, c)))


def commutativity_residuals() -> tuple[sympy.Expr, ...]:
    """a ⊕ b − b ⊕ a, componentwise."""
    a, b = (state_symbols(n) for n in "ab")
    return state_residuals(merge(a, b), merge(b, a))


def identity_residuals() -> tuple[tuple[sympy.Expr, ...], tuple[sympy.Expr, ...]]:
    """(IDENTITY ⊕ a − a, a ⊕ IDENTITY − a), componentwise."""
    a = state_symbols("a")
    return state_residuals(merge(IDENTITY, a), a), state_residuals(merge(a, IDENTITY), a)


def homomorphism_residuals(shift: sympy.Expr | None = None) -> tuple[sympy.Expr, sympy.Expr]:
    """R(a ⊕ b) − (R(a) + R(b)): with ``shift`` a free symbol M the merge's rescaling by any
    common M (not only the maximum) preserves R; with None, M = max(m, m′)."""
    a, b = (state_symbols(n) for n in "ab")
    if shift is None:
        merged = merge(a, b)
    else:
        (m, ell, o), (m_b, ell_b, o_b) = a, b
        merged = (
            shift,
            ell * sympy.exp(m - shift) + ell_b * sympy.exp(m_b - shift),
            o * sympy.exp(m - shift) + o_b * sympy.exp(m_b - shift),
        )
    left, (za, ya), (zb, yb) = represented(merged), represented(a), represented(b)
    return _reduce(left[0] - (za + zb)), _reduce(left[1] - (ya + yb))


def rescale_exponent_cases() -> tuple[sympy.Expr, sympy.Expr]:
    """M − m for M = max(m, m′), in the two cases m′ = m + t and m′ = m − t (t > 0).

    Both are ≥ 0, so every rescale e^{m − M} ≤ 1: the merge never overflows.
    """
    m, _, _ = state_symbols("a")
    t = sympy.Symbol("t", positive=True)
    return sympy.Max(m, m + t) - m, sympy.Max(m, m - t) - m


# ---------------------------------------------------------------------------
# Folding any partition: induction on the number of blocks
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class PartitionInduction:
    """Keys j = a_0 … a_B − 1 cut into B blocks [a_k, a_{k+1} − 1] (B symbolic).

    Scores s_j, values v_j, mask indicators χ_j ∈ {0, 1} (χ_j = 0: key masked,
    weight χ_j e^{s_j} = e^{−∞} = 0). Z_k, Y_k are the weight and weighted-value
    sums of the first k blocks; the invariant P(k) is R(state_k) = (Z_k, Y_k).
    """

    scores: sympy.IndexedBase
    values: sympy.IndexedBase
    allowed: sympy.IndexedBase
    cuts: sympy.IndexedBase
    j: sympy.Symbol
    k: sympy.Symbol
    blocks: sympy.Symbol

    def weight(self, index: sympy.Expr) -> sympy.Expr:
        """χ_j e^{s_j}: the unnormalised weight of key j (0 if masked)."""
        return self.allowed[index] * sympy.exp(self.scores[index])

    def z(self, count: sympy.Expr | int) -> sympy.Expr:
        """Z_count = Σ_{j=a_0}^{a_count − 1} χ_j e^{s_j}."""
        return sympy.Sum(self.weight(self.j), (self.j, self.cuts[0], self.cuts[count] - 1))

    def y(self, count: sympy.Expr | int) -> sympy.Expr:
        """Y_count = Σ_{j=a_0}^{a_count − 1} χ_j e^{s_j} v_j."""
        return sympy.Sum(
            self.weight(self.j) * self.values[self.j],
            (self.j, self.cuts[0], self.cuts[count] - 1),
        )

    def block(self, shift: sympy.Expr) -> State:
        """The state of block k (keys a_k … a_{k+1} − 1) with its maximum ``shift``."""
        lo, hi = self.cuts[self.k], self.cuts[self.k + 1] - 1
        exps = self.allowed[self.j] * sympy.exp(self.scores[self.j] - shift)
        return (
            shift,
            sympy.Sum(exps, (self.j, lo, hi)),
            sympy.Sum(exps * self.values[self.j], (self.j, lo, hi)),
        )


@cache
def partition_induction() -> PartitionInduction:
    """The symbols of the induction (B a positive integer, k a non-negative integer)."""
    return PartitionInduction(
        scores=sympy.IndexedBase("s", real=True),
        values=sympy.IndexedBase("v", real=True),
        allowed=sympy.IndexedBase("chi", nonnegative=True),
        cuts=sympy.IndexedBase("a", integer=True),
        j=sympy.Symbol("j", integer=True),
        k=sympy.Symbol("k", integer=True, nonnegative=True),
        blocks=sympy.Symbol("B", integer=True, positive=True),
    )


def induction_base() -> tuple[sympy.Expr, sympy.Expr]:
    """R(IDENTITY) − (Z_0, Y_0): the empty fold represents the empty sums (both 0)."""
    ind = partition_induction()
    r = represented(IDENTITY)
    return _reduce(r[0] - ind.z(0).doit()), _reduce(r[1] - ind.y(0).doit())


def induction_step() -> tuple[sympy.Expr, sympy.Expr]:
    """R(state_k ⊕ block_k) − (Z_{k+1}, Y_{k+1}), given P(k): state_k = (m, Z_k e^{−m}, Y_k e^{−m}).

    Uses only the merge's definition, the block state's definition and the
    splitting of a sum over adjacent ranges; m and the block's maximum are free symbols.
    """
    ind = partition_induction()
    m, m_block = sympy.Symbol("m", real=True), sympy.Symbol("m_block", real=True)
    state = (m, ind.z(ind.k) * sympy.exp(-m), ind.y(ind.k) * sympy.exp(-m))
    merged = merge(state, ind.block(m_block))
    r = represented(merged)
    return (
        _reduce(sympy.factor_terms(sympy.expand(r[0])) - ind.z(ind.k + 1)),
        _reduce(sympy.factor_terms(sympy.expand(r[1])) - ind.y(ind.k + 1)),
    )


def folded_output_and_lse() -> tuple[sympy.Expr, sympy.Expr, sympy.Expr, sympy.Expr]:
    """(o_B/ℓ_B, Y_B/Z_B, m_B + log ℓ_B, log Z_B) for a final state with R = (Z_B, Y_B), Z_B > 0."""
    ind = partition_induction()
    m = sympy.Symbol("m_B", real=True)
    z, y = sympy.Symbol("Z_B", positive=True), sympy.Symbol("Y_B", real=True)
    ell, o = z * sympy.exp(-m), y * sympy.exp(-m)
    del ind
    return (
        sympy.simplify(o / ell),
        y / z,
        sympy.expand_log(m + sympy.log(ell)),
        sympy.log(z),
    )


def unmasked_softmax_target() -> tuple[sympy.Expr, sympy.Expr]:
    """(Y_B/Z_B with every χ_j = 1 and keys 0 … N − 1, Σ_i α_i v_i with spec.softmax's α).

    Both as sympy sums over a symbolic N, reduced by ``spec.softmax``'s reducer.
    """
    ind = partition_induction()
    sm = symbolic_softmax()
    n = sm.size
    ones = {ind.allowed[ind.j]: 1}
    ratio = sympy.Sum(
        (ind.weight(ind.j) * ind.values[ind.j]).xreplace(ones), (ind.j, 0, n - 1)
    ).xreplace({ind.scores: sm.logits}) / sympy.Sum(
        ind.weight(ind.j).xreplace(ones), (ind.j, 0, n - 1)
    ).xreplace({ind.scores: sm.logits})
    target = sympy.Sum(sm.weight(sm.i) * ind.values[sm.i], (sm.i, 0, n - 1))
    return sm.reduce(ratio.xreplace({ind.j: sm.j})), sm.reduce(target)
