"""Lemma: zero pairwise potentials make CRF attention marginals σ(θ_n(1) − θ_n(0)) (§8.2.1 b).

Structured attention (Kim et al. 2017) replaces the softmax over inputs by the
marginals p(z_n = 1) of a linear-chain CRF. Without pairwise potentials the
selections are independent, Z factorises, and each marginal is the logistic
sigmoid of its unary log-odds — so the marginals need not sum to 1.
"""

import sympy

from proofs._narrate import Derivation
from spec.structured_attention import (
    assignment_score,
    chain_potentials,
    enumerated_marginal,
    enumerated_partition,
    independent_partition,
    independent_partition_product,
    prefix_message,
    prefix_suffix_marginal,
    sigmoid,
    zero_pairwise,
)


def main() -> None:
    """Narrate the factorisation of Z and the sigmoid marginals, then break the hypothesis."""
    d = Derivation(
        "CRF attention with zero pairwise potentials: independent sigmoid marginals",
        "Book §8.2.1 (b), structured attention as a graphical model; Kim et al. 2017",
    )
    theta0, theta1 = sympy.symbols("theta_k(0) theta_k(1)", real=True)
    d.claim(
        sympy.Eq(sympy.Symbol("p(z_k = 1)"), sigmoid(theta1 - theta0), evaluate=False),
        "if θ_{n,n+1}(a, b) = 0 for every edge, then for every position k",
    )

    # --- A concrete chain, N = 3, by enumeration ---------------------------------------------
    chain = chain_potentials(3)
    partition = enumerated_partition(chain)
    d.step(
        "Definition: Z is the sum of exp(score(z)) over all 2^3 = 8 assignments "
        "(N = 3 written out; first term shown)",
        sympy.exp(assignment_score(chain, (0, 0, 0))),
    )
    independent = partition.subs(zero_pairwise(chain))
    factored = sympy.factor(independent)
    d.step("Set every pairwise potential to 0 and let sympy.factor find the structure:", factored)
    d.check_true(
        "factor splits Z into exactly N = 3 factors",
        len(sympy.Mul.make_args(factored)) == 3,
        strength="finite",
    )
    d.check_equal(
        "Z = Π_n (exp θ_n(0) + exp θ_n(1)) for N = 3",
        factored,
        independent_partition(chain),
        strength="finite",
    )
    for k in range(3):
        marginal = enumerated_marginal(chain, k).subs(zero_pairwise(chain))
        u0, u1 = chain.unary[k]
        d.check_equal(
            f"enumerated p(z_{k + 1} = 1) = σ(θ_{k + 1}(1) − θ_{k + 1}(0)) for N = 3",
            marginal,
            sigmoid(u1 - u0),
            strength="finite",
        )

    # --- Product form of Z: concrete N = 1..5 -------------------------------------------------
    product, length, theta = independent_partition_product()
    d.step("The product form of Z, written with a symbolic length N:", product)
    for n in range(1, 6):
        chain_n = chain_potentials(n)
        written_out = product.subs(length, n).doit()
        renamed = written_out.subs(
            {theta[i + 1, z]: chain_n.unary[i][z] for i in range(n) for z in (0, 1)}
        )
        enumerated = enumerated_partition(chain_n).subs(zero_pairwise(chain_n))
        d.check_zero(
            f"enumerated Z (zero pairwise) − Π_(n=1)^N (…) = 0 for N = {n}",
            sympy.expand(enumerated - renamed),
            strength="finite",
        )
    d.note("(the product form is checked against enumeration for N in {1, ..., 5} only)")
    d.note("")

    # --- Any N: prefix and suffix messages -----------------------------------------------------
    general, s = prefix_suffix_marginal()
    d.step(
        "Any chain length N and position k: split each assignment at z_k. With the forward "
        "message A(z_k) (sum over z_1..z_(k-1)) and the backward message B(z_k) (sum over "
        "z_(k+1)..z_N), p(z_k = 1) is",
        general,
    )
    alpha0, alpha1 = sympy.symbols("alpha_(k-1)(0) alpha_(k-1)(1)", positive=True)
    zero_edge = ((sympy.Integer(0), sympy.Integer(0)), (sympy.Integer(0), sympy.Integer(0)))
    into_0, into_1 = prefix_message((alpha0, alpha1), zero_edge)
    d.step(
        "A(z_k) = Σ_a α_(k-1)(a) exp θ_(k-1,k)(a, z_k); with a zero edge it is the same for "
        "z_k = 0 and 1:",
        sympy.Eq(into_0, into_1, evaluate=False),
    )
    d.check_equal("A(0) = A(1) when the incoming edge is zero", into_0, into_1, strength="symbolic")
    d.note("By the mirror-image argument B(0) = B(1) when the outgoing edge is zero.")
    collapsed = general.subs({s["A1"]: s["A0"], s["B1"]: s["B0"]})
    d.step("Substitute A(1) = A(0), B(1) = B(0): the messages cancel", sympy.cancel(collapsed))
    d.check_equal(
        "p(z_k = 1) = σ(θ_k(1) − θ_k(0)) for every N and k (symbolic A, B)",
        collapsed,
        sigmoid(s["theta1"] - s["theta0"]),
        strength="symbolic",
    )

    # --- Consequence: the marginals need not sum to 1 -----------------------------------------
    zeros = dict.fromkeys(chain.flat_symbols(), 0)
    total = sympy.Add(*(enumerated_marginal(chain, k).subs(zeros) for k in range(3)))
    d.step("All potentials 0, N = 3: Σ_n p(z_n = 1) =", total)
    d.check_equal("the marginals sum to 3/2, not 1", total, sympy.Rational(3, 2), strength="finite")

    # --- Hypotheses: what breaks without them --------------------------------------------------
    d.step("Drop the hypothesis: one non-zero pairwise potential, θ_(1,2)(1,1) = 1, rest 0, N = 2")
    pair = chain_potentials(2)
    point = dict.fromkeys(pair.flat_symbols(), 0)
    point[pair.pairwise[0][1][1]] = 1
    coupled = sympy.simplify(enumerated_marginal(pair, 0).subs(point))
    d.note(f"p(z_1 = 1) = {coupled}, while σ(θ_1(1) − θ_1(0)) = σ(0) = 1/2")
    d.check_true(
        "with a coupling edge the marginal is not the sigmoid (counterexample)",
        sympy.simplify(coupled - sympy.Rational(1, 2)) != 0,
        strength="finite",
    )
    d.check_true(
        "with A(1) ≠ A(0) the general marginal is not the sigmoid (A0 = 1, A1 = 2, B = 1, θ = 0)",
        general.subs(
            {s["A0"]: 1, s["A1"]: 2, s["B0"]: 1, s["B1"]: 1, s["theta0"]: 0, s["theta1"]: 0}
        )
        != sympy.Rational(1, 2),
        strength="finite",
    )
    d.step(
        "The hypothesis is sufficient, not necessary: a constant edge c (or any f(z_n) + "
        "g(z_(n+1))) is absorbed into the unaries. Check a constant edge c, N = 3:"
    )
    c = sympy.Symbol("c", real=True)
    constant_edge = dict.fromkeys(chain.pairwise_symbols(), c)
    for k in range(3):
        u0, u1 = chain.unary[k]
        d.check_equal(
            f"p(z_{k + 1} = 1) = σ(θ_{k + 1}(1) − θ_{k + 1}(0)) with every pairwise potential = c",
            enumerated_marginal(chain, k).subs(constant_edge),
            sigmoid(u1 - u0),
            strength="finite",
        )
    d.qed()


if __name__ == "__main__":
    main()
