"""Properties of the LSTM and GRU cells and their PyTorch-layout converters (book §6.5)."""

import warnings
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from impl import recurrent as cells
from impl._typing import FloatArray
from impl.testing import strategies as s
from impl.testing.tolerances import assert_close, eps

ROUNDING_SLACK = 8
"""Bounds that hold exactly in real arithmetic (|h| ≤ 1, convex combinations)
are checked up to this many ulps: each bound's expression has ≤ 3 rounded
operations, each adding at most one relative eps."""


def _lstm(inputs: s.RecurrentInputs) -> cells.LSTMParameters:
    return cells.LSTMParameters.initialize(
        np.random.default_rng(inputs.seed),
        input_size=inputs.input_size,
        hidden_size=inputs.hidden_size,
        dtype=inputs.x.dtype.type,
    )


def _gru(inputs: s.RecurrentInputs) -> cells.GRUParameters:
    return cells.GRUParameters.initialize(
        np.random.default_rng(inputs.seed),
        input_size=inputs.input_size,
        hidden_size=inputs.hidden_size,
        dtype=inputs.x.dtype.type,
    )


def _random_torch_weights(
    rng: np.random.Generator, blocks: int, n: int, m: int, dtype: Any
) -> cells.TorchRNNWeights:
    """Arbitrary PyTorch-layout weights with two NON-zero biases."""

    def draw(*shape: int) -> FloatArray:
        drawn: FloatArray = rng.uniform(-1, 1, size=shape).astype(dtype)
        return drawn

    return cells.TorchRNNWeights(
        weight_ih=draw(blocks * m, n),
        weight_hh=draw(blocks * m, m),
        bias_ih=draw(blocks * m),
        bias_hh=draw(blocks * m),
    )


def _sigmoid(x: FloatArray) -> FloatArray:
    result: FloatArray = 1 / (1 + np.exp(-x))
    return result


def _torch_lstm_reference(
    x: FloatArray, h: FloatArray, c: FloatArray, w: cells.TorchRNNWeights
) -> tuple[FloatArray, FloatArray]:
    """torch.nn.LSTMCell's documented equations on the stacked layout (i, f, g, o)."""
    gates: FloatArray = x @ w.weight_ih.T + w.bias_ih + h @ w.weight_hh.T + w.bias_hh
    i, f, g, o = np.split(gates, 4, axis=-1)
    c_new: FloatArray = _sigmoid(f) * c + _sigmoid(i) * np.tanh(g)
    h_new: FloatArray = _sigmoid(o) * np.tanh(c_new)
    return h_new, c_new


def _torch_gru_reference(x: FloatArray, h: FloatArray, w: cells.TorchRNNWeights) -> FloatArray:
    """torch.nn.GRUCell's documented equations on the stacked layout (r, z, n)."""
    gi: FloatArray = x @ w.weight_ih.T + w.bias_ih
    gh: FloatArray = h @ w.weight_hh.T + w.bias_hh
    i_r, i_z, i_n = np.split(gi, 3, axis=-1)
    h_r, h_z, h_n = np.split(gh, 3, axis=-1)
    r, z = _sigmoid(i_r + h_r), _sigmoid(i_z + h_z)
    candidate: FloatArray = np.tanh(i_n + r * h_n)
    h_new: FloatArray = (1 - z) * candidate + z * h
    return h_new


# --------------------------------------------------------------------------- equations


@given(s.recurrent_inputs(magnitude=3.0))
def test_lstm_cell_matches_torch_equations_through_converter(inputs: s.RecurrentInputs) -> None:
    """§6.5 LSTM: lstm_cell(lstm_from_torch(w)) computes PyTorch's LSTMCell (gate order i,f,g,o)."""
    rng = np.random.default_rng(inputs.seed)
    w = _random_torch_weights(rng, 4, inputs.input_size, inputs.hidden_size, inputs.x.dtype)
    h, c = cells.lstm_cell(inputs.x, (inputs.h, inputs.c), cells.lstm_from_torch(w))
    with np.errstate(over="ignore"):
        h_ref, c_ref = _torch_lstm_reference(inputs.x, inputs.h, inputs.c, w)
    # Outputs in [-1, 1] (h) or O(1) (c) from the same gate formulas in another
    # order (stacked vs per-gate matmuls): a few ulps.
    assert_close(h, h_ref, atol=10 * eps(h.dtype))
    assert_close(c, c_ref, atol=10 * eps(h.dtype))


@given(s.recurrent_inputs(magnitude=3.0))
def test_gru_cell_matches_torch_equations_through_converter(inputs: s.RecurrentInputs) -> None:
    """§6.5 GRU (PyTorch variant): gru_cell(gru_from_torch(w)) computes PyTorch's GRUCell."""
    rng = np.random.default_rng(inputs.seed)
    w = _random_torch_weights(rng, 3, inputs.input_size, inputs.hidden_size, inputs.x.dtype)
    h = cells.gru_cell(inputs.x, inputs.h, cells.gru_from_torch(w))
    with np.errstate(over="ignore"):
        h_ref = _torch_gru_reference(inputs.x, inputs.h, w)
    # h in [-1, 1] from the same formulas in another order: a few ulps.
    assert_close(h, h_ref, atol=10 * eps(h.dtype))


def test_gru_cell_is_not_the_books_reset_before_variant() -> None:
    """§6.5 GRU: the PyTorch variant r ⊙ (U h) differs from the book's U (r ⊙ h) in general."""
    rng = np.random.default_rng(0)
    params = cells.GRUParameters.initialize(rng, input_size=2, hidden_size=3)
    x, h = rng.normal(size=2), rng.normal(size=3)
    ours = cells.gru_cell(x, h, params)
    r = _sigmoid(params.reset_gate.affine(x, h))
    z = _sigmoid(params.update_gate.affine(x, h))
    cand = params.candidate
    book_candidate = np.tanh(x @ cand.W.T + (r * h) @ cand.U.T + cand.b)
    book = z * h + (1 - z) * book_candidate
    assert np.max(np.abs(ours - book)) > 1e-3


# --------------------------------------------------------------------------- converters


def _gate_arrays_equal(a: cells.LSTMParameters | cells.GRUParameters, b: Any) -> bool:
    return all(np.array_equal(x, y) for x, y in zip(a.arrays(), b.arrays(), strict=True))


@given(s.recurrent_inputs())
def test_lstm_converter_book_torch_book_round_trip_is_exact(inputs: s.RecurrentInputs) -> None:
    """§6.5: lstm_from_torch(lstm_to_torch(p)) == p bit for bit (bias + 0 = bias)."""
    params = _lstm(inputs)
    back = cells.lstm_from_torch(cells.lstm_to_torch(params))
    assert _gate_arrays_equal(back, params)


@given(s.recurrent_inputs())
def test_gru_converter_book_torch_book_round_trip_is_exact(inputs: s.RecurrentInputs) -> None:
    """§6.5: gru_from_torch(gru_to_torch(p)) == p bit for bit, b_hn included."""
    params = _gru(inputs)
    back = cells.gru_from_torch(cells.gru_to_torch(params))
    assert _gate_arrays_equal(back, params)


@given(s.recurrent_inputs(), st.sampled_from(["lstm", "gru"]))
def test_converter_torch_book_torch_round_trip_is_exact_up_to_bias_split(
    inputs: s.RecurrentInputs, kind: str
) -> None:
    """§6.5: torch -> book -> torch keeps the weights exactly; biases up to their split.

    The merged biases come back as bias_ih' = fl(b_ih + b_hh), bias_hh' = 0, so
    bias_ih' + bias_hh' == fl(b_ih + b_hh) exactly. The GRU's n block keeps
    both of its biases exactly (b_hn cannot be merged).
    """
    rng = np.random.default_rng(inputs.seed)
    blocks = 4 if kind == "lstm" else 3
    m = inputs.hidden_size
    w = _random_torch_weights(rng, blocks, inputs.input_size, m, inputs.x.dtype)
    if kind == "lstm":
        back = cells.lstm_to_torch(cells.lstm_from_torch(w))
        merged_rows = slice(0, 4 * m)
    else:
        back = cells.gru_to_torch(cells.gru_from_torch(w))
        merged_rows = slice(0, 2 * m)
        assert np.array_equal(back.bias_ih[2 * m :], w.bias_ih[2 * m :])
        assert np.array_equal(back.bias_hh[2 * m :], w.bias_hh[2 * m :])
    assert np.array_equal(back.weight_ih, w.weight_ih)
    assert np.array_equal(back.weight_hh, w.weight_hh)
    merged = w.bias_ih[merged_rows] + w.bias_hh[merged_rows]
    assert np.array_equal(back.bias_ih[merged_rows] + back.bias_hh[merged_rows], merged)
    assert not back.bias_hh[merged_rows].any()
    assert back.weight_ih.dtype == w.weight_ih.dtype


# --------------------------------------------------------------------------- ranges


@given(s.recurrent_inputs())
def test_lstm_cell_outputs_in_gate_ranges(inputs: s.RecurrentInputs) -> None:
    """§6.5 LSTM: |h_t| ≤ 1 (o, tanh ∈ [−1, 1]) and |c_t| ≤ |c_{t−1}| + 1 (f, i ∈ [0, 1])."""
    h, c = cells.lstm_cell(inputs.x, (inputs.h, inputs.c), _lstm(inputs))
    slack = 1 + ROUNDING_SLACK * eps(h.dtype)
    assert np.all(np.abs(h) <= 1)
    assert np.all(np.abs(c) <= (np.abs(inputs.c) + 1) * slack)
    assert h.dtype == c.dtype == inputs.x.dtype


@given(s.recurrent_inputs())
def test_gru_cell_output_is_convex_combination_bound(inputs: s.RecurrentInputs) -> None:
    """§6.5 GRU: h_t = z h_{t−1} + (1 − z) ĥ with ĥ ∈ [−1, 1] ⇒ |h_t| ≤ max(|h_{t−1}|, 1)."""
    h = cells.gru_cell(inputs.x, inputs.h, _gru(inputs))
    slack = 1 + ROUNDING_SLACK * eps(h.dtype)
    assert np.all(np.abs(h) <= np.maximum(np.abs(inputs.h), 1) * slack)
    assert h.dtype == inputs.x.dtype


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("magnitude", [1e3, 1e30])
def test_cells_saturate_without_overflow(dtype: Any, magnitude: float) -> None:
    """§6.5: huge pre-activations saturate the gates (no overflow warning, finite, bounded)."""
    rng = np.random.default_rng(1)
    lstm = cells.LSTMParameters.initialize(rng, input_size=3, hidden_size=2, dtype=dtype)
    gru = cells.GRUParameters.initialize(rng, input_size=3, hidden_size=2, dtype=dtype)
    x = (magnitude * rng.choice([-1.0, 1.0], size=(5, 3))).astype(dtype)
    h0 = np.zeros((5, 2), dtype=dtype)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        h, c = cells.lstm_cell(x, (h0, h0), lstm)
        g = cells.gru_cell(x, h0, gru)
    for out in (h, g):
        assert np.all(np.isfinite(out))
        assert np.all(np.abs(out) <= 1)
    assert np.all(np.abs(c) <= 1)


# --------------------------------------------------------------------------- batching


@given(s.recurrent_inputs())
def test_lstm_cell_batch_consistency(inputs: s.RecurrentInputs) -> None:
    """§6.5: the batched LSTM step equals the per-item steps."""
    params = _lstm(inputs)
    h, c = cells.lstm_cell(inputs.x, (inputs.h, inputs.c), params)
    for index in np.ndindex(inputs.x.shape[:-1]):
        hi, ci = cells.lstm_cell(inputs.x[index], (inputs.h[index], inputs.c[index]), params)
        assert_close(h[index], hi)
        assert_close(c[index], ci)


@given(s.recurrent_inputs())
def test_gru_cell_batch_consistency(inputs: s.RecurrentInputs) -> None:
    """§6.5: the batched GRU step equals the per-item steps."""
    params = _gru(inputs)
    h = cells.gru_cell(inputs.x, inputs.h, params)
    for index in np.ndindex(inputs.x.shape[:-1]):
        assert_close(h[index], cells.gru_cell(inputs.x[index], inputs.h[index], params))


@given(s.recurrent_inputs(magnitude=3.0), st.integers(min_value=1, max_value=4))
def test_lstm_sequence_equals_repeated_cell(inputs: s.RecurrentInputs, steps: int) -> None:
    """§6.5 unrolled: lstm_sequence's rows are the successive lstm_cell states."""
    params = _lstm(inputs)
    rng = np.random.default_rng(inputs.seed)
    xs = rng.normal(size=(*inputs.x.shape[:-1], steps, inputs.input_size)).astype(inputs.x.dtype)
    hs, (h_final, c_final) = cells.lstm_sequence(xs, params, (inputs.h, inputs.c))
    h, c = inputs.h, inputs.c
    for t in range(steps):
        h, c = cells.lstm_cell(xs[..., t, :], (h, c), params)
        assert_close(hs[..., t, :], h)
    assert_close(h_final, h)
    assert_close(c_final, c)


def test_lstm_sequence_default_and_empty() -> None:
    """§6.5: initial=None means zero state; T = 0 returns the initial state and no outputs."""
    rng = np.random.default_rng(2)
    params = cells.LSTMParameters.initialize(rng, input_size=3, hidden_size=2)
    xs = rng.normal(size=(4, 5, 3))
    zeros = np.zeros((4, 2))
    assert_close(
        cells.lstm_sequence(xs, params)[0], cells.lstm_sequence(xs, params, (zeros, zeros))[0]
    )
    h0, c0 = rng.normal(size=(4, 2)), rng.normal(size=(4, 2))
    hs, (h, c) = cells.lstm_sequence(xs[:, :0], params, (h0, c0))
    assert hs.shape == (4, 0, 2)
    assert np.array_equal(h, h0)
    assert np.array_equal(c, c0)


# --------------------------------------------------------------------------- bad input


def test_cells_reject_bad_input() -> None:
    """Bad shapes, dtypes and types raise errors naming the argument."""
    rng = np.random.default_rng(3)
    lstm = cells.LSTMParameters.initialize(rng, input_size=3, hidden_size=2)
    gru = cells.GRUParameters.initialize(rng, input_size=3, hidden_size=2)
    x, h = np.zeros(3), np.zeros(2)
    with pytest.raises(ValueError, match="x has 4 features, the cell expects n = 3"):
        cells.lstm_cell(np.zeros(4), (h, h), lstm)
    with pytest.raises(ValueError, match=r"state\[1\] has 3 features, the cell expects m = 2"):
        cells.lstm_cell(x, (h, np.zeros(3)), lstm)
    with pytest.raises(TypeError, match="share one float dtype"):
        cells.gru_cell(x, h.astype(np.float32), gru)
    with pytest.raises(TypeError, match="parameters have float64"):
        cells.gru_cell(x.astype(np.float32), h.astype(np.float32), gru)
    with pytest.raises(TypeError, match="state must be a tuple"):
        cells.lstm_cell(x, h, lstm)  # type: ignore[arg-type]  # deliberately wrong
    with pytest.raises(TypeError, match="params must be a GRUParameters"):
        cells.gru_cell(x, h, lstm)  # type: ignore[arg-type]  # deliberately wrong
    with pytest.raises(ValueError, match="batch axes"):
        cells.lstm_cell(np.zeros((2, 3)), (np.zeros((3, 2)), np.zeros((3, 2))), lstm)
    with pytest.raises(ValueError, match="x contains NaN"):
        cells.gru_cell(np.full(3, np.nan), h, gru)
    with pytest.raises(ValueError, match="xs must have at least 2 axes"):
        cells.lstm_sequence(x, lstm)


def test_parameters_reject_bad_shapes() -> None:
    """Parameter containers check shapes, dtypes and the PyTorch block structure."""
    rng = np.random.default_rng(4)
    with pytest.raises(ValueError, match="U must be square"):
        cells.GateParameters(W=np.zeros((2, 3)), U=np.zeros((2, 3)), b=np.zeros(2))
    with pytest.raises(ValueError, match="share the hidden size m"):
        cells.GateParameters(W=np.zeros((3, 3)), U=np.zeros((2, 2)), b=np.zeros(2))
    gate = cells.GateParameters.initialize(rng, input_size=3, hidden_size=2)
    other = cells.GateParameters.initialize(rng, input_size=4, hidden_size=2)
    with pytest.raises(ValueError, match="forget_gate has"):
        cells.LSTMParameters(gate, other, gate, gate)
    # A wrong part is named with the type that was passed, e.g. a whole LSTM given as a gate.
    lstm = cells.LSTMParameters(gate, gate, gate, gate)
    with pytest.raises(
        TypeError, match=r"^update_gate must be a GateParameters, got LSTMParameters$"
    ):
        cells.GRUParameters(gate, lstm, gate, np.zeros(2))  # type: ignore[arg-type]  # deliberately wrong
    with pytest.raises(TypeError, match="output_gate has dtype float32"):
        cells.LSTMParameters(
            gate,
            gate,
            cells.GateParameters.initialize(rng, input_size=3, hidden_size=2, dtype=np.float32),
            gate,
        )
    with pytest.raises(ValueError, match="candidate_recurrent_bias must have shape"):
        cells.GRUParameters(gate, gate, gate, np.zeros(3))
    lstm_weights = cells.lstm_to_torch(
        cells.LSTMParameters.initialize(rng, input_size=3, hidden_size=2)
    )
    with pytest.raises(ValueError, match="a GRU has weight_hh of shape"):
        cells.gru_from_torch(lstm_weights)
    with pytest.raises(ValueError, match="same number of rows"):
        cells.TorchRNNWeights(np.zeros((8, 3)), np.zeros((8, 2)), np.zeros(6), np.zeros(8))
    with pytest.raises(TypeError, match=r"numpy\.random\.Generator"):
        cells.LSTMParameters.initialize(0, input_size=3, hidden_size=2)  # type: ignore[arg-type]  # deliberately wrong
    with pytest.raises(ValueError, match="hidden_size must be positive"):
        cells.GRUParameters.initialize(rng, input_size=3, hidden_size=0)
    with pytest.raises(ValueError, match="biases_per_gate must be 1"):
        cells.lstm_parameter_count(3, 2, biases_per_gate=3)
    with pytest.raises(TypeError, match="params must be LSTMParameters, GRUParameters"):
        cells.parameter_count(gate)  # type: ignore[arg-type]  # deliberately wrong
