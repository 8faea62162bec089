"""The backward pass of attention: each gradient derived by sympy.diff equals the paper's formula.

Book: §8.2 (softmax attention distribution, score functions), §8.2.1
(multi-head attention), §8.3 (softmax(QKᵀ/√D_k)V); backpropagation §4.4.
Target formulas typed from FlashAttention (Dao et al. 2022, App. B.2):
dV = Pᵀ dO, dP = dO Vᵀ, dS = P ∘ (dP − rowsum(dP ∘ P)), dQ = s·dS K,
dK = s·dSᵀ Q, and rowsum(dP ∘ P) = rowsum(dO ∘ O).
Derivations: ``spec.attention_backward``.
"""

import sympy

from proofs._narrate import Derivation
from spec.attention_backward import (
    additive_score_vjp,
    additive_score_vjp_formula,
    attention_symbols,
    bilinear_score_vjp,
    bilinear_score_vjp_formula,
    matrices_agree,
    multi_head_symbols,
    multi_head_vjp,
    multi_head_vjp_formula,
    reduce_softmax_residual,
    rowsum_identity_residual,
    score_symbols,
    sdpa_vjp,
    sdpa_vjp_formula,
    symbolic_attention,
    symbolic_log_softmax_vjp,
    symbolic_logsumexp_vjp,
    symbolic_rowsum_identity,
    symbolic_softmax_vjp,
    symbolic_value_gradient,
)


def _softmax_family(proof: Derivation) -> None:
    derived, closed = symbolic_softmax_vjp()
    proof.step(
        "Softmax VJP: differentiate ℓ = Σ_i ḡ_i α_i(s) with respect to s_k (sympy.diff)", derived
    )
    proof.check_zero(
        "∂ℓ/∂s_k = α_k (ḡ_k − Σ_i α_i ḡ_i) for every N",
        reduce_softmax_residual(derived - closed),
        strength="symbolic",
    )
    derived, closed = symbolic_log_softmax_vjp()
    proof.step("Log-softmax VJP: ℓ = Σ_i ḡ_i (s_i − log Σ_j e^{s_j})", closed)
    proof.check_zero(
        "∂ℓ/∂s_k = ḡ_k − α_k Σ_i ḡ_i for every N",
        reduce_softmax_residual(derived - closed),
        strength="symbolic",
    )
    derived, closed = symbolic_logsumexp_vjp()
    proof.step("Log-sum-exp VJP: ∂/∂s_k log Σ_j e^{s_j}", closed)
    proof.check_zero(
        "∂ LSE/∂s_k = α_k for every N",
        reduce_softmax_residual(derived - closed),
        strength="symbolic",
    )


def _symbolic_attention(proof: Derivation) -> None:
    at = symbolic_attention()
    proof.step(
        "Attention at symbolic sizes L, S, D, E: ℓ = Σ_{l,e} G[l,e] O[l,e], O = P V, "
        "P = softmax_n(c Σ_d Q[l,d] K[n,d])",
        at.loss(),
    )
    derived, paper = symbolic_value_gradient()
    proof.step("∂ℓ/∂V[r, f], KroneckerDelta sums collapsed", derived)
    proof.check_zero(
        "∂ℓ/∂V[r, f] = Σ_l P[l, r] G[l, f], i.e. dV = Pᵀ dO, for every L, S, D, E",
        sympy.simplify(derived - paper),
        strength="symbolic",
    )
    lhs, rhs = symbolic_rowsum_identity()
    proof.step("The identity a memory-efficient kernel uses", sympy.Eq(lhs, rhs, evaluate=False))
    proof.note("dP = dO Vᵀ written out; Σ_n Σ_e = Σ_e Σ_n (finite sums commute)")
    proof.check_zero(
        "rowsum(dP ∘ P) = rowsum(dO ∘ O) for every L, S, D, E",
        rowsum_identity_residual(),
        strength="symbolic",
    )


def _finite_attention(proof: Derivation, sizes: tuple[int, int, int, int]) -> None:
    L, S, D, E = sizes
    sym = attention_symbols(L, S, D, E)
    label = f"(L, S, D, E) = {sizes}"
    proof.step(
        f"dQ, dK, dS at listed sizes {label}: sympy.diff of ⟨Ḡ, softmax(c·QKᵀ + M)V⟩, entry by "
        "entry; exp(monomial) renamed to positive symbols so each residual is a rational "
        "function and cancel decides it exactly"
    )
    derived = sdpa_vjp(sym, additive=True)
    paper = sdpa_vjp_formula(sym, additive=True)
    via_output = sdpa_vjp_formula(sym, additive=True, from_output=True)
    for name, formula in (
        ("query", "dQ = c·dS K"),
        ("key", "dK = c·dSᵀ Q"),
        ("value", "dV = Pᵀ dO"),
        ("mask", "dM = dS (the float mask's own gradient)"),
    ):
        proof.check_true(
            f"{formula}, dS = P ∘ (dP − rowsum(dP ∘ P)), at {label}",
            matrices_agree(derived[name], paper[name]),
            strength="finite",
        )
        proof.check_true(
            f"{formula} with the correction rowsum(dO ∘ O) instead, at {label}",
            matrices_agree(derived[name], via_output[name]),
            strength="finite",
        )


def _masks(proof: Derivation) -> None:
    sym = attention_symbols(2, 3, 1, 1)
    allowed = [[True, False, True], [False, False, False]]
    proof.step(
        "Boolean mask at (L, S, D, E) = (2, 3, 1, 1): key 1 masked for every query, query 1 "
        "fully masked (its row of P is defined as 0, its output 0)"
    )
    derived = sdpa_vjp(sym, allowed=allowed)
    paper = sdpa_vjp_formula(sym, allowed=allowed)
    proof.check_true(
        "the masked key's and value's gradients are exactly 0 (sympy returns the integer 0)",
        all(x == 0 for x in (*derived["key"].row(1), *derived["value"].row(1))),
        strength="finite",
    )
    proof.check_true(
        "the fully masked query's gradient is exactly 0",
        all(x == 0 for x in derived["query"].row(1)),
        strength="finite",
    )
    masked_upstream = set(sym.G.row(1))
    proof.check_true(
        "the fully masked row's upstream gradient Ḡ[1, :] reaches no gradient",
        not any(m.free_symbols & masked_upstream for m in derived.values()),
        strength="finite",
    )
    proof.check_true(
        "with the mask, every derived gradient equals the paper's formula",
        all(matrices_agree(derived[k], paper[k]) for k in derived),
        strength="finite",
    )


def _scores(proof: Derivation) -> None:
    sym = score_symbols(2, 3, 2)
    proof.step("Score functions (one key x, one query q; D_k = 2, D_q = 3, D_a = 2)")
    for name, derived, formula in (
        ("additive vᵀ tanh(Wx + Uq)", additive_score_vjp(sym), additive_score_vjp_formula(sym)),
        ("bilinear xᵀ B q", bilinear_score_vjp(sym), bilinear_score_vjp_formula(sym)),
    ):
        proof.check_true(
            f"{name}: every derived gradient equals its typed formula "
            f"({', '.join(sorted(derived))}) at the listed sizes",
            all(
                sympy.simplify(a - b) == 0
                for key in derived
                for a, b in zip(derived[key], formula[key], strict=True)
            ),
            strength="finite",
        )


def _multi_head(proof: Derivation, sizes: tuple[int, int, int, int, int]) -> None:
    sym = multi_head_symbols(*sizes)
    proof.step(
        f"Multi-head attention at (L, S, D, h, d) = {sizes}: sympy.diff of ⟨Ḡ, MHA⟩ against the "
        "chain rule through the projections with the per-head paper backward"
    )
    derived = multi_head_vjp(sym)
    formula = multi_head_vjp_formula(sym)
    for name in derived:
        proof.check_true(
            f"∂ℓ/∂{name} agrees at {sizes}",
            matrices_agree(derived[name], formula[name]),
            strength="finite",
        )


def main(*, quick: bool = False) -> None:
    """Print the derivation and check each step (quick: smaller listed sizes)."""
    proof = Derivation("The backward pass of attention", "Book §8.2–8.3; Dao et al. 2022, App. B.2")
    at = symbolic_attention()
    proof.claim(
        sympy.Eq(
            sympy.Symbol("dS"),
            sympy.Symbol("P ∘ (dP − rowsum(dP ∘ P))"),
            evaluate=False,
        ),
        "derived gradients of softmax(c·QKᵀ + M)V equal the paper's backward",
    )
    _softmax_family(proof)
    _symbolic_attention(proof)
    _finite_attention(proof, (1, 2, 2, 1) if quick else (2, 3, 2, 2))
    _masks(proof)
    _scores(proof)
    _multi_head(proof, (1, 2, 2, 2, 1) if quick else (2, 2, 2, 2, 1))
    proof.note(f"symbolic sizes: {sorted(str(s) for s in set(at.sizes.values()))}")
    proof.qed()


if __name__ == "__main__":
    main()
