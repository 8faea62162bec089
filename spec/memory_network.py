"""Symbolic MemN2N: position encoding and its laws, one read, parameter counts by tying.

Book: §8.5.1 (Sukhbaatar, Szlam, Weston & Fergus 2015). The twin of
``impl.memory_network``.

* ``position_weight`` is l_kj = (1 − j/J) − (k/d)(1 − 2j/J) in symbols
  j, k, J, d; its properties are derived by substitution and ``simplify``.
* ``read`` is ``spec.attention.key_value_attention`` with the dot-product score:
  a MemN2N hop *is* key-value attention, so the spec reuses that twin.
* ``parameter_count`` sums the sizes of the arrays a tying scheme introduces,
  hop by hop, as a ``sympy.Sum`` over k = 1..K with symbolic K, V, d (and
  N_max for temporal encoding); ``tied_array_count`` does the same by
  resolving the tying equalities with a union-find over concrete K, as an
  independent check.
"""

from collections.abc import Sequence
from typing import Literal

import sympy

from spec.attention import key_value_attention
from spec.scores import dot_product_score

j, k = sympy.symbols("j k", seq=True, positive=True, integer=True)
"""Word position (1..J) and embedding dimension index (1..d), 1-based as in the paper."""

J, d = sympy.symbols("J d", seq=True, positive=True, integer=True)
"""Words in the sentence, embedding dimensions."""

V, K, N_max = sympy.symbols("V K N_max", seq=True, positive=True, integer=True)
"""Vocabulary size (incl. padding), number of hops, temporal-encoding memory size."""

hop = sympy.Symbol("h", positive=True, integer=True)
"""Hop index of the parameter-count sums (1..K)."""

Tying = Literal["adjacent", "layer_wise", "none"]


def position_weight(
    word: sympy.Expr | int = j,
    dim: sympy.Expr | int = k,
    words: sympy.Expr | int = J,
    dims: sympy.Expr | int = d,
) -> sympy.Expr:
    """l_kj = (1 − j/J) − (k/d)(1 − 2j/J) (Sukhbaatar et al. 2015, §4.1)."""
    jj, kk, JJ, dd = (sympy.S(x) for x in (word, dim, words, dims))  # exact rationals for ints
    return (1 - jj / JJ) - (kk / dd) * (1 - 2 * jj / JJ)


def position_matrix(words: int, dims: int) -> sympy.MatrixBase:
    """The J×d matrix [l_kj] (row j − 1, column k − 1), exact rationals."""
    return sympy.Matrix(words, dims, lambda a, b: position_weight(a + 1, b + 1, words, dims))


def last_word_residual() -> sympy.Expr:
    """l_kJ − k/d: at the last word the weight is k/d (so J = 1 gives l_k1 = k/d)."""
    return sympy.simplify(position_weight(word=J) - k / d)


def complement_residual() -> sympy.Expr:
    """l_kj + l_{d−k, j} − 1: dimensions k and d − k are complementary."""
    return sympy.simplify(position_weight() + position_weight(dim=d - k) - 1)


def middle_word_residual() -> sympy.Expr:
    """l_{k, J/2} − 1/2: the middle word is weighted 1/2 in every dimension."""
    return sympy.simplify(position_weight(word=J / 2) - sympy.Rational(1, 2))


def position_gradients() -> tuple[sympy.Expr, sympy.Expr]:
    """(∂l/∂j, ∂²l/∂j∂k): l is affine in j for fixed k, and bilinear in (j, k)."""
    first = sympy.diff(position_weight(), j)
    mixed = sympy.diff(position_weight(), j, k)
    return sympy.simplify(first), sympy.simplify(mixed)


def read(
    query: sympy.MatrixBase, keys: sympy.MatrixBase, values: sympy.MatrixBase
) -> sympy.MatrixBase:
    """o = Σ_i softmax_i(m_iᵀ u) c_i as a 1×d row (keys/values N×d, query d×1)."""
    return key_value_attention(query, keys, values, dot_product_score)


def sentence_vector(
    embedding: sympy.MatrixBase, tokens: Sequence[int], *, use_position_encoding: bool
) -> sympy.MatrixBase:
    """Σ_j (l_j ∘) A x_j for one sentence (no padding) as a 1×d row; rows of A are words."""
    dims, words = embedding.cols, len(tokens)
    total: sympy.MatrixBase = sympy.zeros(1, dims)
    for position, word in enumerate(tokens, start=1):
        row = embedding.row(word)
        if use_position_encoding:
            row = sympy.Matrix(
                [[position_weight(position, c + 1, words, dims) * row[c] for c in range(dims)]]
            )
        total = total + row
    return total


def parameter_count(tying: Tying, *, temporal: bool = False) -> sympy.Expr:
    """Number of scalars as a function of V, d, K (and N_max), summed hop by hop.

    Every array is V×d (embeddings), d×d (H) or N_max×d (temporal). Per hop
    h = 1..K a scheme introduces new arrays; ``KroneckerDelta(h, 1)`` marks
    the ones introduced only at the first hop:

    * none: hop h brings A^h, C^h (and T_A^h, T_C^h); B and W once;
    * adjacent: hop h brings C^h (and T_C^h); A^1 = B (and T_A^1) once;
      A^{h+1} = C^h and W = C^K bring nothing new;
    * layer_wise: hop 1 brings A, C (and T_A, T_C); B, W and H once.
    """
    embedding, temporal_size = V * d, (N_max * d if temporal else sympy.S.Zero)
    first = sympy.KroneckerDelta(hop, 1)
    if tying == "none":
        per_hop = 2 * embedding + 2 * temporal_size
        once = 2 * embedding
    elif tying == "adjacent":
        per_hop = embedding + temporal_size + first * (embedding + temporal_size)
        once = sympy.S.Zero
    elif tying == "layer_wise":
        per_hop = first * (2 * embedding + 2 * temporal_size)
        once = 2 * embedding + d * d
    else:
        raise ValueError(f"unknown tying {tying!r}")
    total = sympy.Sum(per_hop, (hop, 1, K)).doit() + once
    return sympy.simplify(total)


def tied_array_count(tying: Tying, hops: int, *, temporal: bool = False) -> dict[str, int]:
    """Distinct arrays by kind after resolving the tying equalities (union-find, concrete K).

    Returns {"embedding": #distinct V×d arrays, "temporal": #N_max×d, "hop_map": #d×d}.
    """
    names = ["B", "W"] + [f"{x}{n}" for n in range(1, hops + 1) for x in ("A", "C")]
    temporal_names = (
        [f"T{x}{n}" for n in range(1, hops + 1) for x in ("A", "C")] if temporal else []
    )
    parent = {name: name for name in names + temporal_names}

    def find(x: str) -> str:
        while parent[x] != x:
            x = parent[x]
        return x

    def tie(a: str, b: str) -> None:
        parent[find(a)] = find(b)

    if tying == "adjacent":
        tie("B", "A1")
        tie("W", f"C{hops}")
        for n in range(1, hops):
            tie(f"A{n + 1}", f"C{n}")
            if temporal:
                tie(f"TA{n + 1}", f"TC{n}")
    elif tying == "layer_wise":
        for n in range(2, hops + 1):
            tie(f"A{n}", "A1")
            tie(f"C{n}", "C1")
            if temporal:
                tie(f"TA{n}", "TA1")
                tie(f"TC{n}", "TC1")
    return {
        "embedding": len({find(x) for x in names}),
        "temporal": len({find(x) for x in temporal_names}),
        "hop_map": 1 if tying == "layer_wise" else 0,
    }
