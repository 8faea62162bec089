"""Parameter counts of LSTM and GRU cells, derived from the shapes of their parameters.

Book: exercise 8-1 (how an LSTM's parameter count depends on its hidden size)
and §6.5 (LSTM, GRU). Twin of ``impl.recurrent`` (``parameter_count``,
``lstm_parameter_count``, ``gru_parameter_count``).

Nothing here states a closed form as an answer: every count is the sum, over
the cell's blocks, of the products of the blocks' array shapes (W (m, n),
U (m, m), one or two biases (m,)), and the closed forms 4m(m + n + 1) etc.
are only ever compared against that sum (see ``proofs.lstm_parameter_count``).
"""

from dataclasses import dataclass

import sympy

n = sympy.Symbol("n", positive=True, integer=True)
"""Input size (the book's x_t ∈ R^n)."""

m = sympy.Symbol("m", positive=True, integer=True)
"""Hidden size (the book's h_t, c_t ∈ R^m)."""

g = sympy.Symbol("g", positive=True, integer=True)
"""Number of gate-like blocks of a cell (4 for an LSTM, 3 for a GRU)."""

j = sympy.Symbol("j", positive=True, integer=True)
"""Summation index over the blocks."""

LSTM_BLOCKS = ("input gate i", "forget gate f", "output gate o", "candidate c~")
"""The LSTM's blocks (book §6.5): three gates and the cell candidate."""

GRU_BLOCKS = ("reset gate r", "update gate z", "candidate h~")
"""The GRU's blocks (book §6.5): two gates and the state candidate."""


@dataclass(frozen=True)
class BlockShapes:
    """The array shapes of one block: input matrix, state matrix, its biases."""

    input_matrix: tuple[sympy.Expr, sympy.Expr]
    state_matrix: tuple[sympy.Expr, sympy.Expr]
    biases: tuple[tuple[sympy.Expr], ...]

    def count(self) -> sympy.Expr:
        """Sum of the products of the shapes (entries of W, U and the biases)."""
        shapes = (self.input_matrix, self.state_matrix, *self.biases)
        return sympy.Add(*(sympy.Mul(*shape) for shape in shapes))


def block_shapes(biases_per_block: int) -> BlockShapes:
    """W (m, n), U (m, m) and ``biases_per_block`` bias vectors (m,)."""
    return BlockShapes(
        input_matrix=(m, n),
        state_matrix=(m, m),
        biases=tuple((m,) for _ in range(biases_per_block)),
    )


def cell_count(blocks: tuple[str, ...], biases_per_block: int) -> sympy.Expr:
    """Total count of a cell: Σ over its named blocks of the block's count."""
    return sympy.Add(*(block_shapes(biases_per_block).count() for _ in blocks))


def lstm_parameter_count(biases_per_gate: int = 1) -> sympy.Expr:
    """An LSTM's count: the four blocks' shapes summed (book: one bias per gate)."""
    return cell_count(LSTM_BLOCKS, biases_per_gate)


def gru_parameter_count(biases_per_gate: int = 1, *, reset_after: bool = False) -> sympy.Expr:
    """A GRU's count: the three blocks' shapes summed.

    ``reset_after=True`` with one bias per gate is PyTorch's variant,
    r ⊙ (U h + b_hn): b_hn cannot be merged into the candidate's input bias,
    so it adds one (m,)-vector.
    """
    total = cell_count(GRU_BLOCKS, biases_per_gate)
    if reset_after and biases_per_gate == 1:
        return total + m
    return total


def symbolic_block_count(biases_per_block: int = 1) -> sympy.Expr:
    """Σ_{j=1}^{g} (count of block j), with a symbolic number of blocks g."""
    return sympy.Sum(block_shapes(biases_per_block).count(), (j, 1, g)).doit()


def recurrent_parameter_count(blocks: int) -> sympy.Expr:
    """Entries of the state matrices U only (blocks × m·m)."""
    return sympy.Add(*(sympy.Mul(*block_shapes(1).state_matrix) for _ in range(blocks)))


def input_parameter_count(blocks: int) -> sympy.Expr:
    """Entries of the input matrices W only (blocks × m·n)."""
    return sympy.Add(*(sympy.Mul(*block_shapes(1).input_matrix) for _ in range(blocks)))


def recurrent_to_input_ratio(blocks: int) -> sympy.Expr:
    """(entries of the U's) / (entries of the W's), cancelled."""
    return sympy.cancel(recurrent_parameter_count(blocks) / input_parameter_count(blocks))


@dataclass(frozen=True)
class Growth:
    """How a count grows with the hidden size m (n fixed)."""

    degree: int
    leading_coefficient: sympy.Expr
    limit_over_m_squared: sympy.Expr


def growth_in_hidden_size(count: sympy.Expr) -> Growth:
    """Degree in m, leading coefficient and lim_{m→∞} count / m² (from ``Poly``/``limit``)."""
    poly = sympy.Poly(count, m)
    return Growth(
        degree=int(poly.degree()),
        leading_coefficient=poly.LC(),
        limit_over_m_squared=sympy.limit(count / m**2, m, sympy.oo),
    )
