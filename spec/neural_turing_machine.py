"""Symbolic NTM addressing, read and write, and the laws they obey, derived by sympy.

Book: §8.5.2 (Graves, Wayne & Danihelka 2014, eqs. 2–9). The twin of
``impl.neural_turing_machine``.

Row convention as in impl: a memory is an N×D ``Matrix`` (row i = slot M(i)),
a key is a D×1 column, weightings are N×1 columns. Two kinds of expression:

* **Concrete N** (``content_weights``, ``interpolate``,
  ``circular_convolution``, ``sharpen``, ``read``, ``write``,
  ``write_heads``): explicit expressions in symbols, ready for
  ``sympy.lambdify``; the shift is given as a function on Z_N (a list of N
  expressions s(0..N−1)) and the convolution is written literally as
  Σ_j w(j) s((i − j) mod N) with ``sympy.Mod``.
* **Symbolic N** (``shift_by_offsets``, ``symbolic_interpolation_mass``,
  ``symbolic_sharpen``): ``IndexedBase`` weightings with an index ranging over
  0..N−1 and the offset form Σ_r s(r) w((i − r) mod N).

Each law returns what sympy derived (a residual, a limit, a Boolean from the
assumptions system); nothing is typed in as an answer. Where only concrete N
are checked, the functions say so and the proofs print it.
"""

from collections.abc import Sequence
from dataclasses import dataclass

import sympy

N = sympy.Symbol("N", positive=True, integer=True)
"""Number of memory slots (symbolic)."""

i = sympy.Symbol("i", integer=True, nonnegative=True)
"""Slot index."""

j = sympy.Symbol("j", integer=True, nonnegative=True)
"""Summation index over slots."""

r = sympy.Symbol("r", integer=True)
"""Shift offset."""

w = sympy.IndexedBase("w")
"""A weighting w(0..N−1) (symbolic N)."""

beta = sympy.Symbol("beta", positive=True)
"""Key strength β > 0."""

g = sympy.Symbol("g", nonnegative=True)
"""Interpolation gate g ∈ [0, 1]."""

gamma = sympy.Symbol("gamma", positive=True)
"""Sharpening exponent γ ≥ 1."""


def nonnegative_symbols(prefix: str, size: int) -> tuple[sympy.Symbol, ...]:
    """Non-negative real symbols prefix_0..prefix_{size−1} (entries of a distribution)."""
    return tuple(sympy.Symbol(f"{prefix}_{n}", nonnegative=True) for n in range(size))


def real_matrix(prefix: str, rows: int, cols: int) -> sympy.MatrixBase:
    """A rows×cols matrix of real symbols prefix_{r}_{c}."""
    return sympy.Matrix(rows, cols, lambda a, b: sympy.Symbol(f"{prefix}_{a}_{b}", real=True))


# --- the four addressing stages (concrete N) ------------------------------------------------


def cosine(u: sympy.MatrixBase, v: sympy.MatrixBase) -> sympy.Expr:
    """cos(u, v) = uᵀv / (‖u‖ ‖v‖) for columns (or rows) u, v of equal length (Graves eq. 6)."""
    dot = sum((a * b for a, b in zip(u, v, strict=True)), sympy.S.Zero)
    norm_u = sympy.sqrt(sum((a**2 for a in u), sympy.S.Zero))
    norm_v = sympy.sqrt(sum((b**2 for b in v), sympy.S.Zero))
    return dot / (norm_u * norm_v)


def content_weights(
    key: sympy.MatrixBase, memory: sympy.MatrixBase, strength: sympy.Expr = beta
) -> sympy.MatrixBase:
    """w^c(i) = exp(β cos(k, M(i))) / Σ_j exp(β cos(k, M(j))), an N×1 column (eq. 5)."""
    scores = [strength * cosine(key, memory.row(n)) for n in range(memory.rows)]
    partition = sum((sympy.exp(s) for s in scores), sympy.S.Zero)
    return sympy.Matrix([sympy.exp(s) / partition for s in scores])


def interpolate(
    content: Sequence[sympy.Expr], previous: Sequence[sympy.Expr], gate: sympy.Expr = g
) -> sympy.MatrixBase:
    """w^g = g w^c + (1 − g) w_{t−1}, an N×1 column (eq. 7)."""
    return sympy.Matrix([gate * c + (1 - gate) * p for c, p in zip(content, previous, strict=True)])


def ring_shift(offsets: dict[int, sympy.Expr], size: int) -> list[sympy.Expr]:
    """The shift as a function on Z_N: s(k) = Σ_{offsets r ≡ k mod N} s_r, for k = 0..N−1.

    This is how impl reads its centred layout (offset r at entry R + r): offsets
    that coincide mod N add up.
    """
    ring: list[sympy.Expr] = [sympy.S.Zero] * size
    for offset, probability in offsets.items():
        ring[offset % size] += probability
    return ring


def circular_convolution(
    weights: Sequence[sympy.Expr], shift_on_ring: Sequence[sympy.Expr]
) -> sympy.MatrixBase:
    """w̃(i) = Σ_j w(j) s((i − j) mod N), literally with ``sympy.Mod`` (eq. 8)."""
    size = len(weights)
    if len(shift_on_ring) != size:
        raise ValueError(f"shift has {len(shift_on_ring)} entries, weights has {size}")
    return sympy.Matrix(
        [
            sum(
                (weights[b] * shift_on_ring[int(sympy.Mod(a - b, size))] for b in range(size)),
                sympy.S.Zero,
            )
            for a in range(size)
        ]
    )


def sharpen(weights: Sequence[sympy.Expr], exponent: sympy.Expr = gamma) -> sympy.MatrixBase:
    """w(i) = w̃(i)^γ / Σ_j w̃(j)^γ, an N×1 column (eq. 9)."""
    powers = [x**exponent for x in weights]
    total = sum(powers, sympy.S.Zero)
    return sympy.Matrix([p / total for p in powers])


# --- read and write -------------------------------------------------------------------------


def read(memory: sympy.MatrixBase, weights: Sequence[sympy.Expr]) -> sympy.MatrixBase:
    """r = Σ_i w(i) M(i), a 1×D row (eq. 2)."""
    return sympy.Matrix([list(weights)]) @ memory


def write(
    memory: sympy.MatrixBase,
    weights: Sequence[sympy.Expr],
    erase: Sequence[sympy.Expr],
    add: Sequence[sympy.Expr],
) -> sympy.MatrixBase:
    """M'(i)_d = M(i)_d (1 − w(i) e_d) + w(i) a_d (eqs. 3–4, the book's form)."""
    return sympy.Matrix(
        memory.rows,
        memory.cols,
        lambda a, b: memory[a, b] * (1 - weights[a] * erase[b]) + weights[a] * add[b],
    )


def write_heads(
    memory: sympy.MatrixBase,
    weights: Sequence[Sequence[sympy.Expr]],
    erases: Sequence[Sequence[sympy.Expr]],
    adds: Sequence[Sequence[sympy.Expr]],
) -> sympy.MatrixBase:
    """Several heads, paper's order: M̃ = M ∘ Π_h (1 − w_h e_h), then M' = M̃ + Σ_h w_h a_h."""

    def entry(a: int, b: int) -> sympy.Expr:
        retain = sympy.Mul(*(1 - wh[a] * eh[b] for wh, eh in zip(weights, erases, strict=True)))
        added = sum((wh[a] * ah[b] for wh, ah in zip(weights, adds, strict=True)), sympy.S.Zero)
        return memory[a, b] * retain + added

    return sympy.Matrix(memory.rows, memory.cols, entry)


def write_heads_sequentially(
    memory: sympy.MatrixBase,
    weights: Sequence[Sequence[sympy.Expr]],
    erases: Sequence[Sequence[sympy.Expr]],
    adds: Sequence[Sequence[sympy.Expr]],
) -> sympy.MatrixBase:
    """The other order: head 1 erases and adds, then head 2, … (a counterexample only)."""
    state = memory
    for wh, eh, ah in zip(weights, erases, adds, strict=True):
        state = write(state, wh, eh, ah)
    return state


# --- laws -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class SimplexLaw:
    """A stage applied to symbolic distributions: the total mass (reduced) and sign facts."""

    total: sympy.Expr
    """Σ_i of the stage's output after substituting Σ (inputs) = 1 (should be 1)."""
    entries_nonnegative: bool
    """Whether sympy's assumptions prove every output entry ≥ 0."""


def _nonnegative(expr: sympy.Expr) -> bool:
    return bool(expr.is_nonnegative)


def interpolation_simplex_law(size: int) -> SimplexLaw:
    """w^g of two distributions (size N) with g ∈ [0, 1]: mass and signs.

    The gate is written g, ḡ = 1 − g with both declared non-negative so that
    sympy's assumptions can decide the sign; the mass is computed with ḡ = 1 − g.
    """
    c, p = nonnegative_symbols("c", size), nonnegative_symbols("p", size)
    g_bar = sympy.Symbol("gbar", nonnegative=True)
    signs = [g * a + g_bar * b for a, b in zip(c, p, strict=True)]
    mixed = interpolate(c, p)
    mass = sympy.expand(sum(mixed, sympy.S.Zero))
    # Σ_i c_i = 1 and Σ_i p_i = 1: eliminate the last entry of each.
    reduced = mass.subs(
        {c[-1]: 1 - sum(c[:-1], sympy.S.Zero), p[-1]: 1 - sum(p[:-1], sympy.S.Zero)}
    )
    return SimplexLaw(sympy.expand(reduced), all(_nonnegative(e) for e in signs))


def symbolic_interpolation_mass() -> sympy.Expr:
    """Σ_{i<N} (g c_i + (1 − g) p_i) for symbolic N, reduced with Σ c = Σ p = 1.

    ``expand`` splits the sum, ``factor_terms`` pulls g out of each part, and
    the two sums Σ c_i, Σ p_i are then replaced by 1.
    """
    c, p = sympy.IndexedBase("c"), sympy.IndexedBase("p")
    total = sympy.Sum(g * c[i] + (1 - g) * p[i], (i, 0, N - 1))
    split = sympy.factor_terms(sympy.expand(total))
    normalised = split.subs({sympy.Sum(c[i], (i, 0, N - 1)): 1, sympy.Sum(p[i], (i, 0, N - 1)): 1})
    return sympy.expand(normalised)


def convolution_simplex_law(size: int) -> SimplexLaw:
    """w̃ = w ⊛ s for symbolic distributions w, s on Z_N (concrete N = ``size``)."""
    weights, shift = nonnegative_symbols("w", size), nonnegative_symbols("s", size)
    shifted = circular_convolution(weights, shift)
    mass = sympy.expand(sum(shifted, sympy.S.Zero))
    reduced = mass.subs(
        {
            weights[-1]: 1 - sum(weights[:-1], sympy.S.Zero),
            shift[-1]: 1 - sum(shift[:-1], sympy.S.Zero),
        }
    )
    return SimplexLaw(sympy.expand(reduced), all(_nonnegative(e) for e in shifted))


def convolution_mass_factorises(size: int) -> sympy.Expr:
    """Σ_i (w ⊛ s)(i) − (Σ_j w(j)) (Σ_k s(k)) expanded: 0 means masses multiply."""
    weights, shift = nonnegative_symbols("w", size), nonnegative_symbols("s", size)
    shifted = circular_convolution(weights, shift)
    product = sum(weights, sympy.S.Zero) * sum(shift, sympy.S.Zero)
    return sympy.expand(sum(shifted, sympy.S.Zero) - product)


def sharpen_simplex_law(size: int) -> SimplexLaw:
    """Sharpening of positive weights (size N) with symbolic γ: mass and signs."""
    weights = tuple(sympy.Symbol(f"w_{n}", positive=True) for n in range(size))
    sharpened = sharpen(weights)
    mass = sympy.cancel(sympy.together(sum(sharpened, sympy.S.Zero)))
    return SimplexLaw(mass, all(_nonnegative(e) for e in sharpened))


def content_simplex_law(size: int) -> SimplexLaw:
    """Content weights softmax_i(β z_i) of real similarities z_i (the cosines): mass and signs.

    The law needs only that β z_i is real, so the cosines are left as real
    symbols z_i ∈ [−1, 1] (their exact form is irrelevant to the simplex law).
    """
    scores = [beta * sympy.Symbol(f"z_{n}", real=True) for n in range(size)]
    partition = sum((sympy.exp(x) for x in scores), sympy.S.Zero)
    weights = [sympy.exp(x) / partition for x in scores]
    mass = sympy.cancel(sympy.together(sum(weights, sympy.S.Zero)))
    return SimplexLaw(mass, all(_nonnegative(e) for e in weights))


def shift_by_offsets(offsets: dict[int, sympy.Expr]) -> sympy.Expr:
    """w̃(i) = Σ_r s(r) w((i − r) mod N) for symbolic N and i, offsets given explicitly."""
    lowest, highest = min(offsets), max(offsets)
    s_r = sum((prob * sympy.KroneckerDelta(r, off) for off, prob in offsets.items()), sympy.S.Zero)
    return sympy.Sum(s_r * w[sympy.Mod(i - r, N)], (r, lowest, highest)).doit()


def rotation_residual_symbolic() -> sympy.Expr:
    """w̃(i) − w((i − 1) mod N) for the one-hot shift at +1 (symbolic N, i)."""
    shifted = shift_by_offsets({-1: sympy.S.Zero, 0: sympy.S.Zero, 1: sympy.S.One})
    return sympy.simplify(shifted - w[sympy.Mod(i - 1, N)])


def rotation_residual_concrete(size: int) -> sympy.MatrixBase:
    """w ⊛ δ_{+1} − (w rotated forward by one) for concrete N = ``size``, the Mod form."""
    weights = nonnegative_symbols("w", size)
    one_hot = ring_shift({1: sympy.S.One}, size)
    rotated = sympy.Matrix([weights[(a - 1) % size] for a in range(size)])
    return circular_convolution(weights, one_hot) - rotated


def identity_shift_residual(size: int) -> sympy.MatrixBase:
    """w ⊛ δ_0 − w (concrete N = ``size``)."""
    weights = nonnegative_symbols("w", size)
    return circular_convolution(weights, ring_shift({0: sympy.S.One}, size)) - sympy.Matrix(weights)


def symbolic_sharpen(exponent: sympy.Expr) -> sympy.Expr:
    """w(i) = w(i)^γ / Σ_{j<N} w(j)^γ for symbolic N (``exponent`` γ)."""
    return w[i] ** exponent / sympy.Sum(w[j] ** exponent, (j, 0, N - 1))


def sharpen_identity_residual() -> sympy.Expr:
    """sharpen(w, γ = 1)(i) − w(i) for symbolic N, using Σ_j w(j) = 1."""
    at_one = symbolic_sharpen(sympy.S.One)
    normalised = at_one.subs(sympy.Sum(w[j], (j, 0, N - 1)), 1)
    return sympy.simplify(normalised - w[i])


def symbolic_sharpen_mass() -> sympy.Expr:
    """Σ_i w(i)^γ / Σ_j w(j)^γ for symbolic N and γ, reduced (pull out Z, rename the index)."""
    total = sympy.factor_terms(sympy.Sum(symbolic_sharpen(gamma), (i, 0, N - 1)).doit())

    def rename(summation: sympy.Basic) -> sympy.Basic:
        assert isinstance(summation, sympy.Sum)
        bound, low, high = summation.limits[0]
        return sympy.Sum(summation.function.xreplace({bound: j}), (j, low, high))

    return sympy.simplify(total.replace(lambda e: isinstance(e, sympy.Sum), rename))


def sharpen_limit(weights: Sequence[sympy.Expr]) -> list[sympy.Expr]:
    """lim_{γ→∞} of each sharpened entry (``sympy.limit``)."""
    sharpened = sharpen(weights, gamma)
    return [sympy.limit(entry, gamma, sympy.oo) for entry in sharpened]


def sharpen_limit_symbolic_ratio() -> sympy.Expr:
    """lim_{γ→∞} of the max entry 1 / (1 + Σ_{j≠max} (w_j / w_max)^γ) with ratios 1/(1 + t_j).

    Each ratio ρ_j = w_j / w_max < 1 is written 1/(1 + t_j) with t_j > 0 (two others).
    """
    t1, t2 = sympy.symbols("t_1 t_2", seq=True, positive=True)
    top = 1 / (1 + (1 / (1 + t1)) ** gamma + (1 / (1 + t2)) ** gamma)
    return sympy.limit(top, gamma, sympy.oo)


def key_scaling_residual(width: int, scale: sympy.Expr) -> sympy.Expr:
    """cos(c k, m) − cos(k, m) for symbolic k, m of length D (``scale`` = c)."""
    key, row = real_matrix("k", width, 1), real_matrix("m", width, 1)
    return sympy.simplify(cosine(scale * key, row) - cosine(key, row))


def key_scaling_ratio(width: int, scale: sympy.Expr) -> sympy.Expr:
    """cos(c k, m) / cos(k, m) reduced by ``cancel`` (1 for c > 0, −1 for c < 0)."""
    key, row = real_matrix("k", width, 1), real_matrix("m", width, 1)
    return sympy.cancel(cosine(scale * key, row) / cosine(key, row))


def write_entry(m: sympy.Expr, weight: sympy.Expr, e: sympy.Expr, a: sympy.Expr) -> sympy.Expr:
    """One entry of the write: m (1 − w e) + w a (elementwise, so one entry is general)."""
    return m * (1 - weight * e) + weight * a


def read_linearity_residual(size: int, width: int) -> sympy.MatrixBase:
    """read(x M1 + y M2, w) − x read(M1, w) − y read(M2, w) (concrete N, D)."""
    x, y = sympy.symbols("x y", seq=True, real=True)
    first, second = real_matrix("A", size, width), real_matrix("B", size, width)
    weights = nonnegative_symbols("w", size)
    combined = read(x * first + y * second, weights)
    residual: sympy.MatrixBase = combined - x * read(first, weights) - y * read(second, weights)
    return residual.expand()
