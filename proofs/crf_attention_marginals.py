"""Lemma: forward–backward gives the exact CRF attention marginals = ∂ log Z/∂θ_n(1) (§8.2.1 b).

For a linear-chain CRF over selections z_1..z_N ∈ {0, 1}, α_n(z) β_n(z) is the
sum of exp(score) over the assignments with z_n = z, so
p(z_n = 1) = α_n(1) β_n(1) / Σ_z α_n(z) β_n(z) equals the brute-force
enumerated marginal; and differentiating log Z by θ_n(1) gives the same number.

For every chain length, by induction (symbolic n, N; ``spec.structured_attention``): a score
grows by θ_n(z_n) + θ_{n−1,n}(z_{n−1}, z_n) per position (split off the last term of the
Σ in its definition); the sequences ending in b are those ending in a = 0 or 1 with b
appended, so their Σ exp score, with the p-free factor pulled out, is what the forward step
computes from the hypothesis for the shorter ones; likewise β from the other end; and a
prefix and a suffix joined at position n give α_n(z) β_n(z) = Σ_{z_n = z} exp score. The
enumerations at N = 3, 4 and the gradient identity at N = 3 are finite cross-checks.
"""

import sympy

from proofs._narrate import Derivation
from spec.structured_attention import (
    assignment_score,
    assignments,
    backward_induction,
    backward_messages,
    chain_potentials,
    concrete_score,
    enumerated_marginal,
    enumerated_partition,
    forward_backward_marginal,
    forward_induction,
    forward_messages,
    log_partition_gradient,
    marginal_derivation,
    segment_score,
    symbolic_chain,
)


def _induction(d: Derivation) -> None:
    """The forward and backward recursions and the marginal, for every chain length."""
    chain = symbolic_chain()
    length = sympy.Symbol("N", integer=True, positive=True)
    d.step(
        "Definition (0-based positions, θ[n, z] = θ_{n+1}(z), ψ[n, a, b] = θ_{n+1,n+2}(a, b)): "
        "score(z) of a chain of length N",
        segment_score(chain, 0, length - 1),
    )
    for n in (1, 2, 3, 4):
        potentials = chain_potentials(n)
        d.check_true(
            f"N = {n}: the indexed definition, written out, is spec's assignment_score for "
            f"all {2**n} assignments",
            all(
                sympy.expand(concrete_score(chain, potentials, z) - assignment_score(potentials, z))
                == 0
                for z in assignments(n)
            ),
            strength="finite",
        )

    forward = forward_induction()
    big_l = forward.length
    d.step(
        "Forward induction on the prefix length L. Claim: α_{L−1}(a) (0-based) = P_L(a), the Σ "
        "over the prefixes z_0..z_{L−1} with z_{L−1} = a of exp score. Base L = 1: "
        "P_1(z) = exp score(z_0 = z)",
        sympy.Tuple(*forward.base),
    )
    for label in (0, 1):
        d.check_equal(
            f"base: spec's forward_initial α_0({label}) = P_1({label})",
            forward.base_recursion[label],
            forward.base[label],
            strength="symbolic",
        )
    d.step(
        "A prefix grows by one position: split off the last term of each Σ in score(z_0..z_L) "
        "(symbolic L) and subtract score(z_0..z_{L−1})",
        forward.increment,
    )
    theta, psi, z = chain.theta, chain.psi, chain.z
    d.check_equal(
        "the increment is θ_L(z_L) + θ_{L−1,L}(z_{L−1}, z_L) (the book's unary + pairwise)",
        forward.increment,
        theta[big_l, z[big_l]] + psi[big_l - 1, z[big_l - 1], z[big_l]],
        strength="symbolic",
    )
    d.step(
        "Hypothesis: P_L(a) = Σ_{p=1}^{M} exp E[a, p], E[a, p] the score of the p-th prefix "
        "ending in a. The prefixes of length L + 1 ending in b are exactly these with b "
        "appended (a = 0 or 1), each once, so P_{L+1}(1) =",
        forward.split[1],
    )
    d.step("Pull the factor free of p out of Σ_p (distributivity)", forward.factored[1])
    d.step(
        "spec's forward_step applied to the hypothesis (α_{L−1} = P_L) at position L",
        forward.recursion[1],
    )
    for label in (0, 1):
        d.check_equal(
            f"step: forward_step(P_L)({label}) = P_{{L+1}}({label}) for every L",
            forward.recursion[label],
            forward.factored[label],
            strength="symbolic",
        )

    backward = backward_induction()
    d.step(
        "Backward induction on the position n, downwards. Claim: β_n(a) = Q_n(a), the Σ over "
        "z_{n+1}..z_{N−1} (z_n = a) of exp(score of the suffix with the edge from z_n), "
        "tail(n) = score of positions n..N−1 minus θ_n(z_n). Base n = N − 1 (empty suffix):",
        sympy.Tuple(*backward.base),
    )
    for label in (0, 1):
        d.check_equal(
            f"base: spec's backward_final β_(N−1)({label}) = Q_(N−1)({label})",
            backward.base_recursion[label],
            backward.base[label],
            strength="symbolic",
        )
    d.step(
        "A suffix grows by one position to the left: split off the first term of each Σ in "
        "tail(n − 1) and subtract tail(n)",
        backward.increment,
    )
    position = backward.position
    d.check_equal(
        "the increment is θ_n(z_n) + θ_{n−1,n}(z_{n−1}, z_n)",
        backward.increment,
        theta[position, z[position]] + psi[position - 1, z[position - 1], z[position]],
        strength="symbolic",
    )
    d.step(
        "Hypothesis Q_n(b) = Σ_{r=1}^{K} exp F[b, r]; split Q_{n−1}(0) by z_n = b and pull "
        "out the factor free of r",
        backward.factored[0],
    )
    for label in (0, 1):
        d.check_equal(
            f"step: backward_step(Q_n)({label}) = Q_{{n−1}}({label}) for every n, N",
            backward.recursion[label],
            backward.factored[label],
            strength="symbolic",
        )

    marginal = marginal_derivation()
    d.step(
        "Join at position n: score(z) − score(z_0..z_n) − tail(n), with θ_n(z_n) split off the "
        "suffix's Σ (sympy joins the adjacent ranges)",
        marginal.score_split,
    )
    d.check_zero(
        "score(z) = score of the prefix z_0..z_n + tail(n), for every n < N",
        marginal.score_split,
        strength="symbolic",
    )
    d.step(
        "So the sequences with z_n = c are the pairs (prefix ending in c, suffix after c), "
        "and Σ_(z_n = 1) exp score(z) =",
        marginal.restricted[1],
    )
    for label in (0, 1):
        d.check_equal(
            f"α_n({label}) β_n({label}) (the hypotheses P_(n+1), Q_n) = Σ_(z_n = {label}) "
            "exp score(z)",
            marginal.message_products[label],
            marginal.restricted_factored[label],
            strength="symbolic",
        )
    d.check_equal(
        "spec's marginal_from_messages = Σ_(z_n = 1) exp score / Σ_(z_n ∈ {0,1}) exp score "
        "(the definition of p(z_n = 1)), every n, N",
        marginal.from_messages,
        marginal.definition,
        strength="symbolic",
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
    _induction(d)
    d.note("Cross-checks by enumeration at listed lengths:")

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
