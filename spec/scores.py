"""Symbolic score functions s(x, q) of §8.2, for concrete small dimensions.

Book: §8.2, score functions (additive, dot product, scaled dot product,
bilinear). The twin of ``impl.scores``. Each function takes sympy column
vectors/matrices (the book's column convention: x ∈ R^{D_k}, q ∈ R^{D_q})
and returns one scalar expression; ``score_symbols`` builds symbol vectors
and matrices whose flattened entries are the argument list for
``sympy.lambdify``.
"""

from dataclasses import dataclass

import sympy


def symbol_vector(name: str, size: int) -> sympy.MatrixBase:
    """A column vector of real symbols name_0 … name_{size−1}."""
    return sympy.Matrix([sympy.Symbol(f"{name}_{n}", real=True) for n in range(size)])


def symbol_matrix(name: str, rows: int, cols: int) -> sympy.MatrixBase:
    """A rows×cols matrix of real symbols name_{r}{c} (row-major, as NumPy flattens)."""
    return sympy.Matrix(rows, cols, lambda r, c: sympy.Symbol(f"{name}_{r}_{c}", real=True))


def _dot(x: sympy.MatrixBase, q: sympy.MatrixBase) -> sympy.Expr:
    if x.shape != q.shape:
        raise ValueError(f"x has shape {x.shape}, q has shape {q.shape}")
    return (x.T @ q)[0, 0]


def dot_product_score(x: sympy.MatrixBase, q: sympy.MatrixBase) -> sympy.Expr:
    """s(x, q) = xᵀ q (Book: §8.2, dot product model)."""
    return _dot(x, q)


def scaled_dot_product_score(x: sympy.MatrixBase, q: sympy.MatrixBase) -> sympy.Expr:
    """s(x, q) = xᵀ q / √D with D the dimension of x (Book: §8.2, scaled dot product)."""
    return _dot(x, q) / sympy.sqrt(x.rows)


def additive_score(
    x: sympy.MatrixBase,
    q: sympy.MatrixBase,
    W: sympy.MatrixBase,
    U: sympy.MatrixBase,
    v: sympy.MatrixBase,
) -> sympy.Expr:
    """s(x, q) = vᵀ tanh(W x + U q) (Book: §8.2, additive model); W (D_a×D_k), U (D_a×D_q)."""
    hidden = (W @ x + U @ q).applyfunc(sympy.tanh)
    return (v.T @ hidden)[0, 0]


def bilinear_score(x: sympy.MatrixBase, q: sympy.MatrixBase, W: sympy.MatrixBase) -> sympy.Expr:
    """s(x, q) = xᵀ W q (Book: §8.2, bilinear model); W (D_k×D_q)."""
    return (x.T @ W @ q)[0, 0]


@dataclass(frozen=True)
class ScoreSymbols:
    """Symbols for one key x (D_k), one query q (D_q) and the parameters W, U, v, B.

    ``W`` (D_a×D_k), ``U`` (D_a×D_q), ``v`` (D_a) are the additive score's;
    ``B`` (D_k×D_q) is the bilinear score's W (renamed to keep them apart).
    """

    x: sympy.MatrixBase
    q: sympy.MatrixBase
    W: sympy.MatrixBase
    U: sympy.MatrixBase
    v: sympy.MatrixBase
    B: sympy.MatrixBase


def score_symbols(key_dim: int, query_dim: int, hidden_dim: int) -> ScoreSymbols:
    """Fresh symbols for the given D_k, D_q and additive hidden size D_a."""
    return ScoreSymbols(
        x=symbol_vector("x", key_dim),
        q=symbol_vector("q", query_dim),
        W=symbol_matrix("W", hidden_dim, key_dim),
        U=symbol_matrix("U", hidden_dim, query_dim),
        v=symbol_vector("v", hidden_dim),
        B=symbol_matrix("B", key_dim, query_dim),
    )
