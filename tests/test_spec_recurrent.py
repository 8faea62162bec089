"""spec.recurrent (derived parameter counts) against impl.recurrent's real arrays (exercise 8-1)."""

import itertools
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
import sympy
from hypothesis import given
from hypothesis import strategies as st

from impl import recurrent as cells
from proofs import lstm_parameter_count as lstm_parameter_count_proof
from spec import recurrent as spec

input_sizes = st.integers(min_value=1, max_value=40)
hidden_sizes = st.integers(min_value=1, max_value=40)


def _lambdified(expr: sympy.Expr) -> Callable[..., Any]:
    """count(n, m) as a NumPy function (the spec -> impl bridge)."""
    return sympy.lambdify((spec.n, spec.m), expr, modules="numpy")


LSTM_ONE = _lambdified(spec.lstm_parameter_count(1))
LSTM_TWO = _lambdified(spec.lstm_parameter_count(2))
GRU_ONE = _lambdified(spec.gru_parameter_count(1))
GRU_TWO = _lambdified(spec.gru_parameter_count(2))
GRU_RESET_AFTER = _lambdified(spec.gru_parameter_count(1, reset_after=True))
RATIO = _lambdified(spec.recurrent_to_input_ratio(4))


@given(input_sizes, hidden_sizes, st.integers(min_value=0, max_value=2**32 - 1))
def test_lstm_parameter_count_matches_spec_both_conventions(n: int, m: int, seed: int) -> None:
    """Exercise 8-1: real LSTM arrays hold 4m(m+n+1) numbers, PyTorch's layout 4m(m+n+2)."""
    params = cells.LSTMParameters.initialize(
        np.random.default_rng(seed), input_size=n, hidden_size=m
    )
    assert cells.parameter_count(params) == int(LSTM_ONE(n, m))
    assert cells.parameter_count(cells.lstm_to_torch(params)) == int(LSTM_TWO(n, m))
    assert cells.lstm_parameter_count(n, m) == int(LSTM_ONE(n, m))
    assert cells.lstm_parameter_count(n, m, biases_per_gate=2) == int(LSTM_TWO(n, m))


@given(input_sizes, hidden_sizes, st.integers(min_value=0, max_value=2**32 - 1))
def test_gru_parameter_count_matches_spec_both_conventions(n: int, m: int, seed: int) -> None:
    """§6.5 GRU: PyTorch's layout holds 3m(m+n+2); impl's reset-after cell 3m(m+n+1) + m."""
    params = cells.GRUParameters.initialize(
        np.random.default_rng(seed), input_size=n, hidden_size=m
    )
    assert cells.parameter_count(params) == int(GRU_RESET_AFTER(n, m))
    assert cells.parameter_count(cells.gru_to_torch(params)) == int(GRU_TWO(n, m))
    # The book's one-bias GRU: the three gates' arrays, without b_hn.
    book_gates = (params.reset_gate, params.update_gate, params.candidate)
    assert sum(a.size for g in book_gates for a in (g.W, g.U, g.b)) == int(GRU_ONE(n, m))
    assert cells.gru_parameter_count(n, m) == int(GRU_ONE(n, m))
    assert cells.gru_parameter_count(n, m, biases_per_gate=2) == int(GRU_TWO(n, m))
    assert cells.gru_parameter_count(n, m, reset_after=True) == int(GRU_RESET_AFTER(n, m))


@given(input_sizes, hidden_sizes)
def test_lstm_recurrent_to_input_ratio_matches_spec(n: int, m: int) -> None:
    """Exercise 8-1: the U's hold m/n times as many numbers as the W's (real arrays)."""
    params = cells.LSTMParameters.initialize(np.random.default_rng(0), input_size=n, hidden_size=m)
    gates = (params.input_gate, params.forget_gate, params.output_gate, params.candidate)
    recurrent = sum(g.U.size for g in gates)
    inputs = sum(g.W.size for g in gates)
    assert recurrent * n == inputs * m  # exact form of recurrent / inputs == m / n
    assert np.isclose(recurrent / inputs, RATIO(n, m), rtol=1e-15)


def test_lstm_count_growth_in_hidden_size() -> None:
    """Exercise 8-1: quadratic in m with leading coefficient 4; doubling m roughly quadruples."""
    growth = spec.growth_in_hidden_size(spec.lstm_parameter_count(1))
    assert growth.degree == 2
    assert growth.leading_coefficient == 4
    assert growth.limit_over_m_squared == 4
    n = 100
    counts = [cells.lstm_parameter_count(n, m) for m in (1000, 2000, 4000)]
    assert all(3.8 < later / earlier <= 4 for earlier, later in itertools.pairwise(counts))


def test_lstm_parameter_count_proof_holds(capsys: pytest.CaptureFixture[str]) -> None:
    """Exercise 8-1: the proof script runs to QED (its table is checked against impl)."""
    lstm_parameter_count_proof.main()
    assert "QED" in capsys.readouterr().out
