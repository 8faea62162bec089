"""Softmax laws (§8.2): positive weights summing to 1, shift invariance, Jacobian diag(α) − ααᵀ.

Derived for a symbolic number of logits N (``IndexedBase`` s, ``Sum`` over
Idx indices, ``KroneckerDelta``) from α_i = exp(s_i)/Σ_j exp(s_j); the
Jacobian is what ``sympy.diff`` returns. Cross-checked in matrix form for
N = 1..4 (concrete sizes, said so in the output).
"""

import sympy

from proofs._narrate import Derivation
from spec import softmax as ss


def main() -> None:
    """Derive the softmax laws for symbolic N and check the matrix form for small N."""
    d = Derivation(
        "Softmax laws: a distribution, shift-invariant, Jacobian diag(α) − ααᵀ",
        "book §8.2, attention distribution α_n = softmax_n(s_n); exercise 8-2",
    )
    sm = ss.symbolic_softmax()
    i, k = sm.i, sm.k
    d.claim(
        sympy.Eq(
            sympy.Derivative(sm.weight(i), sm.logits[k]),
            ss.symbolic_jacobian_closed_form(),
            evaluate=False,
        ),
        "for N logits s (N symbolic), α_i = exp(s_i)/Σ_j exp(s_j) is positive, Σ_i α_i = 1, "
        "α(s + c) = α(s), and ∂α_i/∂s_k = α_i(δ_ik − α_k), whose rows sum to 0.",
    )

    d.step("Definition (book §8.2): α_i = exp(s_i) / Z with Z = Σ_j exp(s_j)", sm.weight(i))
    positive = sympy.exp(sm.logits[i]).is_positive and sympy.exp(sm.logits[sm.j]).is_positive
    d.check_true(
        "α_i > 0: exp of a real logit is positive (sympy: exp(s_i).is_positive), and Z is a "
        "sum of N ≥ 1 such terms",
        bool(positive),
        strength="symbolic",
    )

    total, total_reduced = ss.weights_total()
    d.step("Sum the weights over i; Z does not depend on i and factors out of the sum", total)
    d.check_equal(
        "Σ_i α_i = Σ_i exp(s_i) / Σ_j exp(s_j) = 1", total_reduced, 1, strength="symbolic"
    )

    residual, residual_reduced = ss.shift_residual()
    d.step(
        "Shift every logit by the same real c: exp(s + c) = e^c exp(s), and e^c factors out "
        "of numerator and of Z",
        residual,
    )
    d.check_zero("α_i(s + c) − α_i(s)", residual_reduced, strength="symbolic")

    derived = ss.symbolic_jacobian_entry()
    d.step(
        "Differentiate α_i by s_k (sympy.diff; ∂s_j/∂s_k = δ_jk, and Σ_j exp(s_j) δ_jk = "
        "exp(s_k) for 0 ≤ k ≤ N−1)",
        derived,
    )
    d.check_equal(
        "∂α_i/∂s_k = α_i(δ_ik − α_k) (symbolic N)",
        derived,
        ss.symbolic_jacobian_closed_form(),
        strength="symbolic",
    )
    row_sum, row_reduced = ss.symbolic_jacobian_row_sum()
    d.step("Row sum Σ_k ∂α_i/∂s_k (shift invariance in differential form)", row_sum)
    d.check_zero("Σ_k ∂α_i/∂s_k", row_reduced, strength="symbolic")

    d.note("Matrix form, checked for concrete N in {1, 2, 3, 4}:")
    for size in range(1, 5):
        s, jacobian = ss.softmax_jacobian_matrix(size)
        closed = ss.softmax_jacobian_closed_form(s)
        d.check_equal(
            f"N = {size}: Jacobian by sympy.diff = diag(α) − ααᵀ",
            jacobian,
            closed,
            strength="finite",
        )
        d.check_equal(
            f"N = {size}: rows of the Jacobian sum to 0",
            jacobian @ sympy.ones(size, 1),
            sympy.zeros(size, 1),
            strength="finite",
        )
    s3, jacobian3 = ss.softmax_jacobian_matrix(3)
    alpha3 = ss.softmax(s3)
    without_outer = sympy.diag(*alpha3)
    difference = (jacobian3 - without_outer).applyfunc(sympy.simplify)
    d.check_true(
        "the −ααᵀ term is needed: diag(α) alone differs from the derived Jacobian (N = 3)",
        any(entry != 0 for entry in difference),
        strength="finite",
    )
    d.qed()


if __name__ == "__main__":
    main()
