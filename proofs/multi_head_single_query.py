"""Multi-head attention (book form) with one query is key-value attention (§8.2.1, §8.3).

The book's multi-head attention concatenates key-value attention over each
of M queries: att((K,V), Q) = att((K,V), q_1) ⊕ … ⊕ att((K,V), q_M). With
M = 1 the concatenation has one piece, so it is att((K,V), q). Checked
symbolically for N ∈ {1, 2, 3} keys, D_k = 2, D_v ∈ {1, 3}; and for M = 2 each
block of the concatenation is the key-value attention of its own query.
"""

import sympy

from proofs._narrate import Derivation
from spec import attention as sa


def main() -> None:
    """Compare the book's multi-head attention with key-value attention."""
    d = Derivation(
        "Book multi-head attention with a single query equals key-value attention",
        "book §8.2.1, multi-head attention att((K,V), Q) = ⊕_m att((K,V), q_m); §8.3",
    )
    d.claim(
        sympy.Eq(sympy.Symbol("att((K,V), [q])"), sympy.Symbol("att((K,V), q)"), evaluate=False),
        "with M = 1 query the concatenation over queries is the key-value attention of that "
        "query (the scaled dot-product score; any score works the same way).",
    )
    symbols = sa.attention_symbols(1, 2, 2, 3)
    q = symbols.queries.row(0).T
    d.step(
        "Key-value attention Σ_n softmax_n(k_nᵀq/√D_k) v_n (N = 2, D_v = 3), first entry",
        sa.key_value_attention(q, symbols.keys, symbols.values)[0, 0],
    )
    for num_keys in (1, 2, 3):
        for value_dim in (1, 3):
            sym = sa.attention_symbols(1, num_keys, 2, value_dim)
            single = sym.queries.row(0).T
            d.check_equal(
                f"N = {num_keys}, D_v = {value_dim}: ⊕ over one query = att((K,V), q)",
                sa.book_multi_head_attention(sym.queries, sym.keys, sym.values),
                sa.key_value_attention(single, sym.keys, sym.values),
                strength="finite",
            )
    two = sa.attention_symbols(2, 3, 2, 2)
    concatenated = sa.book_multi_head_attention(two.queries, two.keys, two.values)
    d.step("M = 2: the concatenation has 2·D_v entries, block m from query m", concatenated.shape)
    for m in range(2):
        block = concatenated[:, 2 * m : 2 * m + 2]
        d.check_equal(
            f"M = 2: block {m} = att((K,V), q_{m})",
            block,
            sa.key_value_attention(two.queries.row(m).T, two.keys, two.values),
            strength="finite",
        )
    swapped = concatenated[:, 0:2] - sa.key_value_attention(
        two.queries.row(1).T, two.keys, two.values
    )
    d.check_true(
        "order matters: block 0 is not the attention of query 1",
        any(sympy.simplify(entry) != 0 for entry in swapped),
        strength="finite",
    )
    d.qed()


if __name__ == "__main__":
    main()
