"""The backward pass of the LSTM and GRU cells and BPTT: derived gradients equal the typed formulas.

Book: §6.5 (LSTM, GRU; the cells of §8.2.1's pointer network) and §6.2
(backpropagation through time). The GRU is the reset-after variant of
``impl.recurrent.gru_cell`` (PyTorch's). Derivations: ``spec.recurrent_backward``.
"""

import sympy

from proofs._narrate import Derivation
from spec.recurrent_backward import (
    agree,
    gru_step_vjp,
    gru_unit_vjp,
    gru_unit_vjp_formula,
    lstm_bptt,
    lstm_bptt_formula,
    lstm_step_vjp,
    lstm_unit_vjp,
    lstm_unit_vjp_formula,
    sigmoid_derivative_residual,
    symbolic_affine_vjp,
)


def main(*, quick: bool = False) -> None:
    """Print each derivation and check it (quick: smaller BPTT)."""
    proof = Derivation("The backward pass of the LSTM and GRU", "Book §6.5, §6.2; used in §8.2.1")
    proof.claim(
        sympy.Eq(sympy.Symbol("f̄_t"), sympy.Symbol("c̄_t ∘ c_{t−1}"), evaluate=False),
        "every derived gradient equals its typed formula (the forget gate's uses c_{t−1})",
    )
    proof.step("The sigmoid's derivative rule, from its definition 1/(1 + e^{−x})")
    proof.check_zero(
        "d/dx 1/(1 + e^{−x}) = σ(x)(1 − σ(x))", sigmoid_derivative_residual(), strength="symbolic"
    )
    proof.step(
        "LSTM, one hidden unit (the cell acts unit by unit on its pre-activations, so this "
        "holds for every m): ℓ = h̄ h_t + c̄ c_t differentiated by sympy"
    )
    derived, typed = lstm_unit_vjp(), lstm_unit_vjp_formula()
    for name in derived:
        proof.check_true(
            f"∂ℓ/∂{name} equals the typed formula",
            agree(derived[name], typed[name]),
            strength="symbolic",
        )
    wrong = lstm_unit_vjp_formula(forget_uses="c_t")
    proof.check_true(
        "the forget-gate gradient written with c_t instead of c_{t−1} differs from the derivation",
        not agree(derived["a_f"], wrong["a_f"]),
        strength="symbolic",
    )
    proof.step("GRU (reset after), one hidden unit: ℓ = h̄ h_t")
    derived, typed = gru_unit_vjp(), gru_unit_vjp_formula()
    for name in derived:
        proof.check_true(
            f"∂ℓ/∂{name} equals the typed formula",
            agree(derived[name], typed[name]),
            strength="symbolic",
        )
    proof.step("The affine map W x + U h + b over IndexedBase with symbolic m, n")
    derived_affine, typed_affine = symbolic_affine_vjp()
    for name in derived_affine:
        proof.check_zero(
            f"∂ℓ/∂{name} = typed ({typed_affine[name]}) for every m, n",
            derived_affine[name] - typed_affine[name],
            strength="symbolic",
        )
    proof.step("Whole steps with symbol matrices at (n, m) = (2, 2): every input and parameter")
    for cell, (derived_step, typed_step) in (
        ("LSTM", lstm_step_vjp(2, 2)),
        ("GRU", gru_step_vjp(2, 2)),
    ):
        proof.check_true(
            f"{cell} step: all {len(derived_step)} gradients ({', '.join(sorted(derived_step))}) "
            "equal the typed formulas at (n, m) = (2, 2)",
            all(agree(derived_step[k], typed_step[k]) for k in derived_step),
            strength="finite",
        )
    sizes = (2, 1, 1) if quick else (2, 1, 2)
    proof.step(
        f"BPTT: ℓ = Σ_t ⟨Ḡ_t, h_t⟩ over an unrolled LSTM at (T, n, m) = {sizes}, against the "
        "typed step formulas run backwards from t = T with parameter gradients summed over t"
    )
    _, derived_bptt = lstm_bptt(*sizes)
    typed_bptt = lstm_bptt_formula(*sizes)
    proof.check_true(
        f"BPTT: all {len(derived_bptt)} gradients agree at (T, n, m) = {sizes}",
        all(agree(derived_bptt[k], typed_bptt[k]) for k in derived_bptt),
        strength="finite",
    )
    proof.qed()


if __name__ == "__main__":
    main()
