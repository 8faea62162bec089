"""Multi-head attention (book form) with one query is key-value attention (§8.2.1, §8.3).

The book's multi-head attention concatenates key-value attention over each
of M queries: att((K,V), Q) = att((K,V), q_1) ⊕ … ⊕ att((K,V), q_M). The
definition in ``spec.attention.book_multi_head_attention`` is compared here
with the book's formula typed out entry by entry in this script,
att((K,V), q)_e = Σ_n exp(k_nᵀq/√D_k) v_{n,e} / Σ_j exp(k_jᵀq/√D_k), built
from the symbols alone (no spec function), so a change of the softmax, the
scale, the role of keys and values or the concatenation order in the
definitions is caught. Checked for N ∈ {1, 2, 3} keys, D_k = 2,
D_v ∈ {1, 3} with one query, and M = 2 queries block by block (finite sizes).
"""

import sympy

from proofs._narrate import Derivation
from spec import attention as sa


def book_formula(
    query: sympy.MatrixBase, keys: sympy.MatrixBase, values: sympy.MatrixBase
) -> list[sympy.Expr]:
    """The book's key-value attention for one query, written out: a list of D_v entries."""
    width = keys.cols
    exponentials = [
        sympy.exp(
            sum((keys[n, f] * query[f] for f in range(width)), sympy.S.Zero) / sympy.sqrt(width)
        )
        for n in range(keys.rows)
    ]
    partition = sum(exponentials, sympy.S.Zero)
    return [
        sum((exponentials[n] * values[n, e] for n in range(keys.rows)), sympy.S.Zero) / partition
        for e in range(values.cols)
    ]


def main() -> None:
    """Compare the book's multi-head attention with the written-out key-value attention."""
    d = Derivation(
        "Book multi-head attention with a single query equals key-value attention",
        "book §8.2.1, multi-head attention att((K,V), Q) = ⊕_m att((K,V), q_m); §8.3",
    )
    d.claim(
        sympy.Eq(sympy.Symbol("att((K,V), [q])"), sympy.Symbol("att((K,V), q)"), evaluate=False),
        "with M = 1 query the concatenation over queries is the key-value attention of that "
        "query, Σ_n softmax_n(k_nᵀq/√D_k) v_n (the scaled dot-product score). Checked "
        "entrywise for the sizes listed in the steps (N ≤ 3 keys, D_k = 2, D_v ∈ {1, 3}; "
        "M = 2 for the block order), not for symbolic sizes.",
    )
    symbols = sa.attention_symbols(1, 2, 2, 3)
    q = symbols.queries.row(0).T
    d.step(
        "The book's formula Σ_n exp(k_nᵀq/√D_k) v_n / Σ_j exp(k_jᵀq/√D_k) (N = 2, D_v = 3), "
        "first entry, typed from the book",
        book_formula(q, symbols.keys, symbols.values)[0],
    )
    for num_keys in (1, 2, 3):
        for value_dim in (1, 3):
            sym = sa.attention_symbols(1, num_keys, 2, value_dim)
            single = sym.queries.row(0).T
            d.check_equal(
                f"N = {num_keys}, D_v = {value_dim}: spec's ⊕ over one query = the book's formula",
                sa.book_multi_head_attention(sym.queries, sym.keys, sym.values),
                sympy.Matrix([book_formula(single, sym.keys, sym.values)]),
                strength="finite",
            )
    two = sa.attention_symbols(2, 3, 2, 2)
    concatenated = sa.book_multi_head_attention(two.queries, two.keys, two.values)
    d.step("M = 2: the concatenation has 2·D_v entries, block m from query m", concatenated.shape)
    for m in range(2):
        block = concatenated[:, 2 * m : 2 * m + 2]
        d.check_equal(
            f"M = 2: block {m} = the book's formula for q_{m}",
            block,
            sympy.Matrix([book_formula(two.queries.row(m).T, two.keys, two.values)]),
            strength="finite",
        )
    swapped = concatenated[:, 0:2] - sympy.Matrix(
        [book_formula(two.queries.row(1).T, two.keys, two.values)]
    )
    d.check_true(
        "order matters: block 0 is not the attention of query 1",
        any(sympy.simplify(entry) != 0 for entry in swapped),
        strength="finite",
    )
    d.qed()


if __name__ == "__main__":
    main()
