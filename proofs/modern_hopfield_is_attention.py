"""Modern Hopfield update is key-value attention (CCCP); dense memory with z² is Hopfield (§8.6.2).

Two derivations, both with concrete sizes and symbolic entries (the output
says which sizes):

1. Ramsauer et al. (2020): E(ξ) = −lse(β, Xᵀξ) + ½ξᵀξ + const splits into a
   convex ½ξᵀξ and a concave −lse; the concave–convex procedure
   ∇E_convex(ξ') = −∇E_concave(ξ) solves to ξ' = X softmax(β Xᵀξ), which is
   key-value attention with query ξ, keys = values = the patterns and score
   β x_nᵀξ; β = 1/√D is scaled dot-product attention. The step never raises E.
2. Krotov & Hopfield (2016): −Σ_μ (x^μ·σ)² = 2P·(−½σᵀWσ) − PM on ±1 values,
   W the book's Hebbian weights (1/P)Σ_μ x^μ x^μᵀ with zero diagonal.
"""

import math

import numpy as np
import sympy

from proofs._narrate import Derivation
from spec import modern_hopfield as spec

ATTENTION_SIZES = ((3, 2), (2, 3))
"""(N, D) for which the CCCP update is solved and compared with attention."""

DENSE_SIZES = ((1, 2), (2, 2), (2, 3), (3, 3), (3, 4))
"""(P, M) for which the dense-memory identity is solved."""


def _convexity(proof: Derivation) -> None:
    N, D = ATTENTION_SIZES[0]
    s = spec.hopfield_symbols(N, D)
    proof.step(
        f"Split (N = {N}, D = {D}): E_convex = ½ξᵀξ and E_concave = −lse(β, Xᵀξ).",
        sympy.Eq(sympy.Symbol("E_concave"), spec.concave_part(N, D)),
    )
    proof.check_equal(
        "Hessian of ½ξᵀξ is the identity (convex)",
        spec.hessian(spec.convex_part(N, D), s.state),
        sympy.eye(D),
        strength="symbolic",
    )
    proof.check_equal(
        f"Hessian of lse(β, Xᵀξ) is β Xᵀ(diag p − ppᵀ)X, p = softmax(β Xᵀξ) (N = {N}, D = {D})",
        spec.hessian(-spec.concave_part(N, D), s.state),
        spec.lse_hessian_claim(N, D),
        strength="finite",
    )
    p1, p2, u1, u2, u3 = sympy.symbols("p_1 p_2 u_1 u_2 u_3", seq=True, real=True)
    p = [p1, p2, 1 - p1 - p2]
    u = [u1, u2, u3]
    quadratic = (
        sum((p[n] * u[n] ** 2 for n in range(3)), sympy.S.Zero)
        - sum((p[n] * u[n] for n in range(3)), sympy.S.Zero) ** 2
    )
    pairs = sympy.Rational(1, 2) * sum(
        (p[n] * p[m] * (u[n] - u[m]) ** 2 for n in range(3) for m in range(3)), sympy.S.Zero
    )
    proof.step(
        "uᵀ(diag p − ppᵀ)u = Σp_n u_n² − (Σp_n u_n)², a variance: with Σp = 1 it equals "
        "½ Σ_n Σ_m p_n p_m (u_n − u_m)² ≥ 0 (checked for N = 3).",
        sympy.Eq(quadratic, pairs),
    )
    proof.check_zero(
        "variance identity (N = 3, p_3 = 1 − p_1 − p_2)",
        sympy.expand(quadratic - pairs),
        strength="finite",
    )
    proof.note("So lse(β, Xᵀξ) is convex for β > 0 (its Hessian is β·XᵀCX with C ⪰ 0),")
    proof.note("and E_concave = −lse is concave: the CCCP hypotheses hold.\n")


def _cccp_is_attention(proof: Derivation) -> None:
    for N, D in ATTENTION_SIZES:
        s = spec.hopfield_symbols(N, D)
        update = spec.cccp_update(N, D)
        if ATTENTION_SIZES[0] == (N, D):
            proof.step(
                f"CCCP step ∇E_convex(ξ') = −∇E_concave(ξ), i.e. ξ' = ∇lse(β, Xᵀξ); "
                f"sympy solves for ξ' (N = {N}, D = {D}); first component:",
                sympy.Eq(s.next_state[0], update[0]),
            )
        attention = spec.key_value_attention(s.state, s.patterns, s.patterns, s.beta)
        proof.check_equal(
            f"N = {N}, D = {D}: ξ' = Σ_n softmax_n(β x_nᵀξ) x_n = att((X, X), ξ) with score β xᵀξ",
            update,
            attention,
            strength="finite",
        )
        scaled = spec.key_value_attention(s.state, s.patterns, s.patterns, 1 / sympy.sqrt(D))
        proof.check_equal(
            f"N = {N}, D = {D}: with β = 1/√D the update is scaled dot-product attention",
            update.subs(s.beta, 1 / sympy.sqrt(D)),
            scaled,
            strength="finite",
        )


def _symbolic_sizes(proof: Derivation) -> None:
    s = spec.symbolic_size_symbols()
    update = spec.symbolic_cccp_update_component()
    proof.step(
        "Symbolic sizes: N patterns, D features, component k with D = k + 1 + j, j ≥ 0 "
        "(so 0 ≤ k < D). Differentiating the Sums (KroneckerDelta, then doit) and solving the "
        "CCCP step for ξ'[k]:",
        sympy.Eq(s.next_state[s.component], update),
    )
    proof.check_zero(
        "symbolic N, D: ξ'[k] = Σ_n softmax_n(β x_nᵀξ) x[n, k] (key-value attention)",
        update - spec.symbolic_attention_component(s.beta),
        strength="symbolic",
    )
    root_d = 1 / sympy.sqrt(s.dim)
    proof.check_zero(
        "symbolic N, D: with β = 1/√D it is scaled dot-product attention",
        update.subs(s.beta, root_d) - spec.symbolic_attention_component(root_d),
        strength="symbolic",
    )


def _descent(proof: Derivation) -> None:
    N, D = ATTENTION_SIZES[0]
    s = spec.hopfield_symbols(N, D)
    half_norm = spec.convex_part(N, D)
    at_next = half_norm.subs(dict(zip(s.state, s.next_state, strict=True)))
    gap = sum(((a - b) ** 2 for a, b in zip(s.state, s.next_state, strict=True)), sympy.S.Zero)
    tangent = sum(((a - b) * b for a, b in zip(s.state, s.next_state, strict=True)), sympy.S.Zero)
    proof.step(
        "Descent. Convex part, exactly: E_convex(ξ) − E_convex(ξ') − ∇E_convex(ξ')ᵀ(ξ − ξ') "
        "= ½‖ξ − ξ'‖². Concave part: E_concave(ξ') ≤ E_concave(ξ) + ∇E_concave(ξ)ᵀ(ξ' − ξ). "
        "Adding, and using ∇E_convex(ξ') + ∇E_concave(ξ) = 0 (the CCCP step): "
        "E(ξ') ≤ E(ξ) − ½‖ξ − ξ'‖²."
    )
    proof.check_zero(
        "convex-part identity",
        sympy.expand(half_norm - at_next - tangent - sympy.Rational(1, 2) * gap),
        strength="symbolic",
    )
    arguments = [*s.patterns, *s.state, s.beta]
    energy = sympy.lambdify(arguments, spec.energy(N, D), modules="numpy")
    update = sympy.lambdify(arguments, list(spec.cccp_update(N, D)), modules="numpy")
    rng = np.random.default_rng(20201201)

    def worst_margin(beta_low: float, beta_high: float, trials: int) -> float:
        """max over random cases of E(ξ') − E(ξ) + ½‖ξ − ξ'‖² (≤ 0 means the bound holds)."""
        worst = -math.inf
        for _ in range(trials):
            X = rng.normal(size=(N, D)) * 2
            xi = rng.normal(size=D) * 2
            beta = rng.uniform(beta_low, beta_high)
            new = np.asarray(update(*X.ravel(), *xi, beta), dtype=float)
            margin = (
                energy(*X.ravel(), *new, beta)
                - energy(*X.ravel(), *xi, beta)
                + 0.5 * float(np.sum((new - xi) ** 2))
            )
            worst = max(worst, float(margin))
        return worst

    margin = worst_margin(0.05, 8.0, 300)
    proof.check_true(
        f"300 seeded random cases (N = {N}, D = {D}, β ∈ [0.05, 8]): "
        f"E(ξ') − E(ξ) + ½‖ξ − ξ'‖² ≤ 1e-9 (worst {margin:.2e})",
        margin <= 1e-9,
        strength="numeric",
    )
    rises = worst_margin(-8.0, -0.05, 300)
    proof.check_true(
        "Dropping β > 0 (then lse is concave, −lse convex, and the split is not CCCP): "
        f"some case has E(ξ') − E(ξ) + ½‖ξ − ξ'‖² > 0 (worst {rises:.2f})",
        rises > 1e-6,
        strength="numeric",
    )


def _dense_memory() -> None:
    proof = Derivation(
        "Dense associative memory with F(z) = z² is the Hopfield network",
        "§8.6.2 note; Krotov & Hopfield 2016; Hebbian rule of §8.6.1",
    )
    P, M = sympy.symbols("P M", seq=True, positive=True, integer=True)
    proof.claim(
        sympy.Eq(
            sympy.Symbol("-Σ_μ (x_μ·σ)²"),
            2 * P * sympy.Symbol("(-½ σᵀWσ)") - P * M,
            evaluate=False,
        ),
        "for σ, x^μ ∈ {±1}^M with W = (1/P)Σ_μ x^μ x^μᵀ, w_ii = 0 "
        f"(solved for (P, M) in {DENSE_SIZES}; M ≥ 2, since for M = 1 the Hopfield energy is 0)",
    )
    proof.step(
        "Write E_dense − a·E_Hopfield − c, expand, use s² = 1 for every ±1 symbol, and require "
        "every coefficient of the remaining polynomial in x and σ to vanish; sympy solves for a, c."
    )
    for num_patterns, size in DENSE_SIZES:
        a, c = spec.quadratic_dense_energy_offset(num_patterns, size)
        proof.check_equal(
            f"P = {num_patterns}, M = {size}: a = 2P", a, 2 * num_patterns, strength="finite"
        )
        proof.check_equal(
            f"P = {num_patterns}, M = {size}: c = −PM", c, -num_patterns * size, strength="finite"
        )
    proof.step(
        "Why: (x·σ)² = Σ_i x_i²σ_i² + Σ_{i≠j} x_i x_j σ_i σ_j = M + Σ_{i≠j} x_i x_j σ_i σ_j; "
        "summed over μ this is PM + P σᵀWσ, and −(PM + P σᵀWσ) = 2P(−½σᵀWσ) − PM."
    )
    num_patterns, size = 2, 3
    residual = spec.dense_polynomial_energy(num_patterns, size, 2) - (
        2 * num_patterns * spec.hopfield_energy(num_patterns, size) - num_patterns * size
    )
    s = spec.dense_symbols(num_patterns, size)
    real_point = {v: sympy.Rational(1, 2) for v in s.state} | dict.fromkeys(s.patterns, 1)
    value = sympy.nsimplify(residual.subs(real_point))
    proof.check_true(
        f"Dropping σ ∈ {{±1}}^M (σ_i = ½, x = 1, P = 2, M = 3): the identity fails, "
        f"residual {value}",
        value != 0,
        strength="finite",
    )
    proof.qed()


def main() -> None:
    """Derive the modern Hopfield update by CCCP, identify it with attention; the z² memory."""
    proof = Derivation(
        "Modern Hopfield update is key-value attention (CCCP on the energy)",
        "§8.6.2 note; §8.2.1 key-value attention; Ramsauer et al. 2020",
    )
    xi_new = sympy.Symbol("ξ_new")
    proof.claim(
        sympy.Eq(xi_new, sympy.Symbol("X softmax(β Xᵀξ)"), evaluate=False),
        "from E = −lse(β, Xᵀξ) + ½ξᵀξ + β⁻¹log N + ½M² by CCCP; = att((X, X), ξ) with score "
        "β xᵀξ; β = 1/√D gives scaled dot-product attention "
        f"(entrywise for (N, D) in {ATTENTION_SIZES}, and for symbolic N, D; the convexity "
        "and descent steps for N = 3, D = 2)",
    )
    _convexity(proof)
    _cccp_is_attention(proof)
    _symbolic_sizes(proof)
    _descent(proof)
    proof.qed()
    print()
    _dense_memory()


if __name__ == "__main__":
    main()
