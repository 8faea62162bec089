"""Lemma: forward–backward gives the exact CRF attention marginals = ∂ log Z/∂θ_n(1) (§8.2.1 b).

For a linear-chain CRF over selections z_1..z_N ∈ {0, 1}, α_n(z) β_n(z) is the
sum of exp(score) over the assignments with z_n = z, so
p(z_n = 1) = α_n(1) β_n(1) / Σ_z α_n(z) β_n(z) equals the brute-force
enumerated marginal; and differentiating log Z by θ_n(1) gives the same number.
Checked symbolically for a chain of N = 3 (and N = 4 for the messages).
"""

import sympy

from proofs._narrate import Derivation
from spec.structured_attention import (
    assignment_score,
    assignments,
    backward_messages,
    chain_potentials,
    enumerated_marginal,
    enumerated_partition,
    forward_backward_marginal,
    forward_messages,
    log_partition_gradient,
)


def main() -> None:
    """Narrate forward–backward vs enumeration, the gradient identity, two broken variants."""
    d = Derivation(
        "CRF attention: forward–backward marginals = enumeration = ∂ log Z / ∂θ_n(1)",
        "Book §8.2.1 (b), structured attention; Kim et al. 2017, linear-chain CRF",
    )
    chain = chain_potentials(3)
    theta = sympy.Symbol("theta_n(1)")
    d.claim(
        sympy.Eq(
            sympy.Symbol("p(z_n = 1)"),
            sympy.Derivative(sympy.Function("log_Z")(theta), theta),
            evaluate=False,
        ),
        "the marginal is ∂ log Z / ∂θ_n(1), and equals α_n(1) β_n(1) / Σ_z α_n(z) β_n(z)",
    )

    for length in (3, 4):
        c = chain_potentials(length)
        alpha, beta = forward_messages(c), backward_messages(c)
        for n in range(length):
            for z in (0, 1):
                restricted = sympy.Add(
                    *(sympy.exp(assignment_score(c, a)) for a in assignments(length) if a[n] == z)
                )
                d.check_zero(
                    f"N = {length}: α_{n + 1}({z}) β_{n + 1}({z}) = Σ_(z : z_{n + 1} = {z}) "
                    "exp score(z)",
                    sympy.expand(alpha[n][z] * beta[n][z] - restricted),
                    strength="finite",
                )
        d.check_zero(
            f"N = {length}: Σ_z α_N(z) = Z (the forward algorithm's log Z)",
            sympy.expand(alpha[-1][0] + alpha[-1][1] - enumerated_partition(c)),
            strength="finite",
        )
    d.step(
        "Hence, for each n, Σ_z α_n(z) β_n(z) = Z, and the forward–backward marginal "
        "α_n(1) β_n(1) / Σ_z α_n(z) β_n(z) is the enumerated one. For instance the forward "
        "message α_2(1) (N = 3) is",
        forward_messages(chain)[1][1],
    )
    for n in range(3):
        d.check_equal(
            f"forward–backward p(z_{n + 1} = 1) = enumerated p(z_{n + 1} = 1), N = 3",
            forward_backward_marginal(chain, n),
            enumerated_marginal(chain, n),
            strength="finite",
        )
    d.step(
        "Differentiate log Z = log Σ_z exp score(z) by θ_n(1): each term with z_n = 1 "
        "contributes exp score(z) / Z, the others 0 (N = 3, sympy.diff)."
    )
    for n in range(3):
        d.check_equal(
            f"∂ log Z / ∂θ_{n + 1}(1) = enumerated p(z_{n + 1} = 1), N = 3",
            log_partition_gradient(chain, n),
            enumerated_marginal(chain, n),
            strength="finite",
        )

    # --- broken variants (these are the breaks the tests must catch) --------------------------
    point = {
        symbol: sympy.Rational((k * k) % 7 - 3, 2) for k, symbol in enumerate(chain.flat_symbols())
    }
    alpha = forward_messages(chain)
    filtered = alpha[0][1] / (alpha[0][0] + alpha[0][1])
    d.step("Drop the backward pass: α_1(1) / Σ_z α_1(z) ignores z_2, z_3. At a rational point:")
    d.note(
        f"forward-only {filtered.subs(point).evalf(6)} versus the true marginal "
        f"{enumerated_marginal(chain, 0).subs(point).evalf(6)}"
    )
    d.check_true(
        "forward-only p(z_1 = 1) ≠ the true marginal (counterexample)",
        sympy.simplify((filtered - enumerated_marginal(chain, 0)).subs(point)) != 0,
        strength="finite",
    )
    # Off-by-one: edge 1 uses edge 2's table and vice versa (θ_(n,n+1) read at the wrong n).
    swap = {
        a: b
        for t1, t2 in [(chain.pairwise[0], chain.pairwise[1])]
        for r1, r2 in zip(t1, t2, strict=True)
        for s1, s2 in zip(r1, r2, strict=True)
        for a, b in ((s1, s2), (s2, s1))
    }
    wrong = forward_backward_marginal(chain, 0).xreplace(swap)
    d.check_true(
        "reading the pairwise table of the wrong edge changes p(z_1 = 1) (counterexample)",
        sympy.simplify((wrong - enumerated_marginal(chain, 0)).subs(point)) != 0,
        strength="finite",
    )
    d.qed()


if __name__ == "__main__":
    main()
