"""Soft attention is an expectation (§8.2): Σ_n α_n x_n = E_{z∼α}[x_z].

The attention variable z is a ``sympy.stats.FiniteRV`` with P(z = n) = α_n =
softmax_n(s(x_n, q)); E[x_z] is computed by sympy.stats, component by
component, and compared with the weighted average. Checked for concrete sizes
N ∈ {1, 2, 3, 4} inputs of width D = 2 with the scaled dot-product score,
and N = 3 with the additive score; for symbolic N the expectation of a
function of a categorical variable is the sum Σ_n P(z = n) f(n) by definition,
which is the weighted average term by term.
"""

import sympy
import sympy.stats as stats

from proofs._narrate import Derivation
from spec import attention as sa
from spec import scores as sc
from spec import softmax as ss


def main() -> None:
    """Compare soft attention with E_{z∼α}[x_z] computed by sympy.stats."""
    d = Derivation(
        "Soft attention is the expected input under the attention distribution",
        "book §8.2, soft attention att(X, q) = Σ_n α_n x_n = E_{z∼p(z|X,q)}[x_z]",
    )
    x_z = sympy.Symbol("x_z")
    d.claim(
        sympy.Eq(sympy.Symbol("Σ_n α_n x_n"), sympy.Symbol("E_{z∼α}[x_z]"), evaluate=False),
        "with α = softmax(s(x_1, q), …, s(x_N, q)) and z a categorical variable with "
        "P(z = n) = α_n, the weighted average of the inputs is the mean of x_z. Checked by "
        "sympy.stats for N = 1..4 (D = 2) and N = 3 with the additive score; for symbolic N "
        "it is the definition of E, noted at the end, not a checked step.",
    )
    symbols = sa.attention_symbols(1, 3, 2, 2)
    query = symbols.queries.row(0).T
    scores = sa.scores_against(query, symbols.keys, sc.scaled_dot_product_score)
    z = sa.attention_variable(scores)
    d.step(
        "The attention variable z (N = 3): P(z = n) by sympy.stats is the softmax weight",
        sympy.Matrix([stats.P(sympy.Eq(z, n)) for n in range(3)]),
    )
    d.check_equal(
        "P(z = n) = α_n",
        sympy.Matrix([stats.P(sympy.Eq(z, n)) for n in range(3)]),
        ss.softmax(scores),
        strength="finite",
    )
    d.check_equal(
        "Σ_n P(z = n) = 1",
        sum((stats.P(sympy.Eq(z, n)) for n in range(3)), sympy.S.Zero),
        1,
        strength="finite",
    )
    expectation = sa.expected_input(query, symbols.keys)
    d.step("E[x_z] by sympy.stats (first component shown)", expectation[0, 0])
    for size in range(1, 5):
        sym = sa.attention_symbols(1, size, 2, 2)
        q = sym.queries.row(0).T
        d.check_equal(
            f"N = {size}, D = 2, scaled dot score: Σ_n α_n x_n = E[x_z]",
            sa.soft_attention(q, sym.keys),
            sa.expected_input(q, sym.keys),
            strength="finite",
        )
    params = sc.score_symbols(2, 2, 2)

    def additive(x: sympy.MatrixBase, q: sympy.MatrixBase) -> sympy.Expr:
        return sc.additive_score(x, q, params.W, params.U, params.v)

    d.check_equal(
        "N = 3, additive score vᵀtanh(Wx + Uq): Σ_n α_n x_n = E[x_z] (any score works)",
        sa.soft_attention(query, symbols.keys, additive),
        sa.expected_input(query, symbols.keys, additive),
        strength="finite",
    )
    wrong = sa.soft_attention(query, symbols.keys) - sympy.ones(1, 3) @ symbols.keys / 3
    d.check_true(
        "the weights matter: the unweighted mean differs from E[x_z] (N = 3)",
        any(sympy.simplify(entry) != 0 for entry in wrong),
        strength="finite",
    )
    d.note(f"For symbolic N: E[{x_z}] = Σ_n P(z = n)·x_n = Σ_n α_n x_n by definition of E.")
    d.qed()


if __name__ == "__main__":
    main()
