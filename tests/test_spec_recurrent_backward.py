"""spec.recurrent_backward: the sigmoid rule, unit gradients and steps; the checks can fail.

Book: §6.5 (LSTM, GRU), §6.2 (BPTT). The full derivation is narrated by
``proofs.recurrent_backward``.
"""

import numpy as np
import sympy

from impl.recurrent import GateParameters, LSTMParameters
from impl.recurrent_backward import lstm_cell_vjp
from spec.recurrent_backward import (
    LSTM_GATES,
    Sigmoid,
    agree,
    gate_symbols,
    gru_unit_vjp,
    gru_unit_vjp_formula,
    lstm_step_vjp,
    lstm_unit_vjp,
    lstm_unit_vjp_formula,
    sigmoid,
    sigmoid_derivative_residual,
)
from spec.scores import symbol_matrix

STEP_REPLAY = 1e-12
"""The spec's gradient evaluated to 15 digits vs the impl's in float64: ≤ 100 roundings
of magnitudes ≤ 10 (γ_100·10 ≈ 2e-13) plus the 15-digit evaluation (1e-14), rounded up."""


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


def test_spec_lstm_step_vjp_in_its_named_symbols_equals_the_impl() -> None:
    """lstm_step_vjp's gradients, in the symbols x, h, c, hbar, cbar (``symbol_matrix``
    names) and the gates' W/U/b{i,f,o,c}, evaluate to impl.lstm_cell_vjp's at random values."""
    n, m = 1, 2  # m = 2 so that the gates' U and the state couple two units; n = 1 keeps it fast
    derived, typed = lstm_step_vjp(n, m)
    rng = np.random.default_rng(31)
    arrays = {
        name: rng.uniform(-1, 1, (width, 1))
        for name, width in (("x", n), ("h", m), ("c", m), ("hbar", m), ("cbar", m))
    }
    values: dict[sympy.Expr, float] = {}
    for name, array in arrays.items():
        values.update(zip(symbol_matrix(name, *array.shape), array.ravel(), strict=True))
    gates: dict[str, GateParameters] = {}
    for g in LSTM_GATES:
        gate = gate_symbols(g, n, m)
        parts = {k: rng.uniform(-1, 1, getattr(gate, k).shape) for k in "WUb"}
        for k, part in parts.items():
            values.update(zip(getattr(gate, k), part.ravel(), strict=True))
        gates[g] = GateParameters(W=parts["W"], U=parts["U"], b=parts["b"].ravel())
    params = LSTMParameters(gates["i"], gates["f"], gates["o"], gates["c"])
    column = {k: a.ravel() for k, a in arrays.items()}
    grads = lstm_cell_vjp(
        column["x"], (column["h"], column["c"]), params, column["hbar"], column["cbar"]
    )
    ours = {"x": grads.x, "h": grads.h, "c": grads.c}
    fields = ("input_gate", "forget_gate", "output_gate", "candidate")
    for g, field in zip(LSTM_GATES, fields, strict=True):
        for k in "WUb":
            ours[f"{k}{g}"] = getattr(getattr(grads.params, field), k)
    # Exact substitution of the float64 values, σ rewritten to its definition, then evaluated.
    numbers = {symbol: sympy.Float(value) for symbol, value in values.items()}
    for spec_grads in (derived, typed):
        assert set(spec_grads) == set(ours)
        for name, matrix in spec_grads.items():
            assert matrix.free_symbols <= set(values), name
            exact = matrix.xreplace(numbers).applyfunc(lambda v: v.rewrite(sympy.exp))
            got = np.array([float(entry) for entry in exact], dtype=np.float64)
            np.testing.assert_allclose(
                got.reshape(ours[name].shape), ours[name], atol=STEP_REPLAY, err_msg=name
            )
