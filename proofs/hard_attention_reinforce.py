"""REINFORCE for hard attention (§8.2.1): ∇_s E_{z∼α}[L(x_z)] = E_{z∼α}[L(x_z) ∇_s log α_z].

Hard attention samples z ∼ α = softmax(s); the loss L(x_z) is not
differentiable in z, but its expectation is differentiable in s. Derived for
a symbolic number of inputs N (``IndexedBase`` s, L; ``Sum``;
``KroneckerDelta``), via the log-softmax Jacobian ∂ log α_n/∂s_k = δ_nk − α_k,
with the closed form ∂/∂s_k E[L] = α_k (L_k − Σ_n α_n L_n); and for N ∈
{2, 3, 4} with the expectations computed by sympy.stats over a FiniteRV z.
"""

import sympy

from proofs._narrate import Derivation
from spec import attention as sa
from spec import softmax as ss


def main() -> None:
    """Derive the score-function (REINFORCE) gradient and its closed form."""
    d = Derivation(
        "REINFORCE: the gradient of the expected loss is the expected loss-weighted score function",
        "book §8.2.1, hard attention trained by reinforcement learning; Williams (1992)",
    )
    sm = ss.symbolic_softmax()
    sym = sa.symbolic_reinforce()
    d.claim(
        sympy.Eq(sym.exact_gradient, sym.closed_form, evaluate=False),
        "for α = softmax(s) over N inputs (N symbolic) and losses L_n = L(x_n): "
        "∂/∂s_k Σ_n α_n L_n = Σ_n α_n L_n ∂ log α_n/∂s_k = α_k (L_k − Σ_n α_n L_n).",
    )
    d.step(
        "E_{z∼α}[L_z] = Σ_n α_n L_n; differentiate by s_k (sympy.diff, KroneckerDelta sums done)",
        sym.exact_gradient,
    )
    n = sympy.Idx("n", sm.size)
    d_log = sm.in_range(sympy.diff(sm.log_weight(n), sm.logits[sm.k]).doit())
    d.step("Score function: ∂ log α_n/∂s_k (log α_n = s_n − log Σ_j exp s_j)", d_log)
    d.check_zero(
        "∂ log α_n/∂s_k − (δ_nk − α_k)",
        sm.reduce(d_log - (sympy.KroneckerDelta(n, sm.k) - sm.weight(sm.k))),
        strength="symbolic",
    )
    d.step("E_{z∼α}[L_z ∂ log α_z/∂s_k] = Σ_n α_n L_n ∂ log α_n/∂s_k", sym.score_function_gradient)
    d.check_zero(
        "∇E[L] − E[L ∇ log α] (symbolic N)",
        sm.reduce(sym.exact_gradient - sym.score_function_gradient),
        strength="symbolic",
    )
    d.check_zero(
        "∇E[L] − Σ_n α_n L_n (δ_nk − α_k) (the Jacobian identity, symbolic N)",
        sm.reduce(sym.exact_gradient - sym.via_jacobian),
        strength="symbolic",
    )
    d.check_zero(
        "∇E[L] − α_k (L_k − Σ_n α_n L_n) (closed form, symbolic N)",
        sm.reduce(sym.exact_gradient - sym.closed_form),
        strength="symbolic",
    )

    d.note("Concrete N, expectations by sympy.stats over z ∼ FiniteRV(α):")
    for size in (2, 3, 4):
        identity = sa.reinforce_identity(size)
        d.check_equal(
            f"N = {size}: ∇_s E[L_z] = E[L_z ∇_s log α_z]",
            identity.exact_gradient,
            identity.score_function_gradient,
            strength="finite",
        )
        d.check_equal(
            f"N = {size}: ∇_s E[L_z] = α ⊙ (L − αᵀL)",
            identity.exact_gradient,
            identity.closed_form,
            strength="finite",
        )
    identity = sa.reinforce_identity(3)
    d.check_zero(
        "N = 3: the gradient sums to 0 over k (shifting all logits changes nothing)",
        sum(identity.exact_gradient, sympy.S.Zero),
        strength="finite",
    )
    d.check_true(
        "the sign matters: E[−L_z ∇ log α_z] is not the gradient (N = 3)",
        any(
            sympy.simplify(a + b) != 0
            for a, b in zip(identity.exact_gradient, identity.score_function_gradient, strict=True)
        ),
        strength="finite",
    )
    constant = identity.exact_gradient.subs(dict.fromkeys(identity.losses, 1))
    d.check_equal(
        "a constant loss has zero gradient (why a baseline b can be subtracted from L)",
        constant.applyfunc(sympy.simplify),
        sympy.zeros(3, 1),
        strength="finite",
    )
    d.qed()


if __name__ == "__main__":
    main()
