"""spec.recurrent_backward: the sigmoid rule, unit gradients and steps; the checks can fail.

Book: §6.5 (LSTM, GRU), §6.2 (BPTT). The full derivation is narrated by
``proofs.recurrent_backward``.
"""

import sympy

from spec.recurrent_backward import (
    Sigmoid,
    agree,
    gru_unit_vjp,
    gru_unit_vjp_formula,
    lstm_unit_vjp,
    lstm_unit_vjp_formula,
    sigmoid,
    sigmoid_derivative_residual,
)


def test_spec_sigmoid_rule_matches_its_definition() -> None:
    """σ' = σ(1 − σ) equals d/dx 1/(1 + e^{−x}); σ rewrites to its definition."""
    assert sigmoid_derivative_residual() == 0
    x = sympy.Symbol("x", real=True)
    assert isinstance(sigmoid(x), Sigmoid)
    assert sympy.simplify(sigmoid(x).rewrite(sympy.exp) - 1 / (1 + sympy.exp(-x))) == 0


def test_spec_lstm_unit_gradients_and_the_forget_gate_bug() -> None:
    """All LSTM unit gradients agree; the forget gate with c_t does not."""
    derived, typed = lstm_unit_vjp(), lstm_unit_vjp_formula()
    assert all(agree(derived[k], typed[k]) for k in derived)
    assert not agree(derived["a_f"], lstm_unit_vjp_formula(forget_uses="c_t")["a_f"])


def test_spec_gru_unit_gradients_and_a_sign_bug() -> None:
    """All GRU unit gradients agree; z̄ with (ĥ − h) instead of (h − ĥ) does not."""
    derived, typed = gru_unit_vjp(), gru_unit_vjp_formula()
    assert all(agree(derived[k], typed[k]) for k in derived)
    assert not agree(derived["a_z"], -typed["a_z"])
