"""Backward passes of the LSTM and GRU cells and backpropagation through time (BPTT).

Book: §6.5 (LSTM, GRU) as used by §8.2.1 (the pointer network's encoder and
decoder), trained by backpropagation through time (§6.2). The forward maps
are ``impl.recurrent.lstm_cell`` / ``gru_cell`` (PyTorch's "reset after" GRU,
see the note there) and ``lstm_sequence``.
Spec: ``spec.recurrent_backward`` derives each formula by differentiating the
cell definitions with sympy.

LSTM step, with a_• = x W_•ᵀ + h_{t−1} U_•ᵀ + b_• and upstream (h̄_t, c̄_t):
    c̄ = c̄_t + h̄_t ∘ o ∘ (1 − tanh² c_t),
    ō = h̄_t ∘ tanh c_t,  f̄ = c̄ ∘ c_{t−1},  ī = c̄ ∘ c̃,  c̃̄ = c̄ ∘ i,
    c̄_{t−1} = c̄ ∘ f,  ā_{i,f,o} = •̄ ∘ σ'(a) = •̄ ∘ •(1 − •),  ā_c = c̃̄ ∘ (1 − c̃²),
    x̄ = Σ_• ā_• W_•,  h̄_{t−1} = Σ_• ā_• U_•,  W̄_• = ā_•ᵀ x,  Ū_• = ā_•ᵀ h_{t−1},  b̄_• = Σ ā_•.
GRU step (h' = z ∘ h + (1 − z) ∘ ĥ, ĥ = tanh(a_h + r ∘ (h U_hᵀ + b_hn))):
    z̄ = h̄' ∘ (h − ĥ),  ā_h = h̄' ∘ (1 − z) ∘ (1 − ĥ²),  r̄ = ā_h ∘ (h U_hᵀ + b_hn),
    ā_r = r̄ ∘ r(1 − r),  ā_z = z̄ ∘ z(1 − z),
    h̄ = h̄' ∘ z + ā_r U_r + ā_z U_z + (ā_h ∘ r) U_h,  b̄_hn = Σ ā_h ∘ r.

Gradients of parameters are returned in the parameters' own container
(``LSTMParameters``/``GRUParameters`` holding gradients), and in PyTorch's
stacked layout by ``lstm_gradients_to_torch`` / ``gru_gradients_to_torch``.
Batch axes broadcast in the forward are summed back to each input's shape.
"""

from dataclasses import dataclass

import numpy as np

from impl import _validation as check
from impl._typing import FloatArray
from impl.attention_backward import _unbroadcast
from impl.recurrent import (
    GateParameters,
    GRUParameters,
    LSTMParameters,
    TorchRNNWeights,
    _sigmoid,
)

# --------------------------------------------------------------------------- kernels


@dataclass(frozen=True)
class _LSTMTape:
    """What an LSTM step keeps for its backward pass."""

    x: FloatArray
    h_prev: FloatArray
    c_prev: FloatArray
    i: FloatArray
    f: FloatArray
    o: FloatArray
    g: FloatArray  # c̃
    c: FloatArray


def _affine(gate: GateParameters, x: FloatArray, h: FloatArray) -> FloatArray:
    pre: FloatArray = x @ gate.W.T + h @ gate.U.T + gate.b
    return pre


def _lstm_forward(
    p: LSTMParameters, x: FloatArray, h_prev: FloatArray, c_prev: FloatArray
) -> tuple[FloatArray, _LSTMTape]:
    i = _sigmoid(_affine(p.input_gate, x, h_prev))
    f = _sigmoid(_affine(p.forget_gate, x, h_prev))
    o = _sigmoid(_affine(p.output_gate, x, h_prev))
    g: FloatArray = np.tanh(_affine(p.candidate, x, h_prev))
    c: FloatArray = f * c_prev + i * g
    h: FloatArray = o * np.tanh(c)
    return h, _LSTMTape(x, h_prev, c_prev, i, f, o, g, c)


def _rows(a: FloatArray, batch: tuple[int, ...]) -> FloatArray:
    """``a`` broadcast to (*batch, width) and flattened to (rows, width)."""
    full = np.broadcast_to(a, (*batch, a.shape[-1]))
    flat: FloatArray = full.reshape(-1, a.shape[-1])
    return flat


def _gate_grad(a_bar: FloatArray, x: FloatArray, h: FloatArray) -> GateParameters:
    batch = a_bar.shape[:-1]
    rows = _rows(a_bar, batch)
    return GateParameters(
        W=rows.T @ _rows(x, batch), U=rows.T @ _rows(h, batch), b=rows.sum(axis=0)
    )


def _lstm_backward(
    p: LSTMParameters, tape: _LSTMTape, h_bar: FloatArray, c_bar: FloatArray
) -> tuple[FloatArray, FloatArray, FloatArray, LSTMParameters]:
    """(x̄, h̄_{t−1}, c̄_{t−1}, parameter gradients) of one LSTM step (full batch shape)."""
    one = np.asarray(1, dtype=h_bar.dtype)
    tanh_c: FloatArray = np.tanh(tape.c)
    c_total: FloatArray = c_bar + h_bar * tape.o * (one - tanh_c * tanh_c)
    o_bar: FloatArray = h_bar * tanh_c
    f_bar: FloatArray = c_total * tape.c_prev  # ∂c_t/∂f_t = c_{t−1}
    i_bar: FloatArray = c_total * tape.g
    g_bar: FloatArray = c_total * tape.i
    c_prev_bar: FloatArray = c_total * tape.f
    a_i: FloatArray = i_bar * tape.i * (one - tape.i)
    a_f: FloatArray = f_bar * tape.f * (one - tape.f)
    a_o: FloatArray = o_bar * tape.o * (one - tape.o)
    a_c: FloatArray = g_bar * (one - tape.g * tape.g)
    pairs = ((a_i, p.input_gate), (a_f, p.forget_gate), (a_o, p.output_gate), (a_c, p.candidate))
    x_bar: FloatArray = sum((a @ gate.W for a, gate in pairs), np.zeros((), dtype=h_bar.dtype))
    h_prev_bar: FloatArray = sum((a @ gate.U for a, gate in pairs), np.zeros((), h_bar.dtype))
    grads = LSTMParameters(
        input_gate=_gate_grad(a_i, tape.x, tape.h_prev),
        forget_gate=_gate_grad(a_f, tape.x, tape.h_prev),
        output_gate=_gate_grad(a_o, tape.x, tape.h_prev),
        candidate=_gate_grad(a_c, tape.x, tape.h_prev),
    )
    return x_bar, h_prev_bar, np.broadcast_to(c_prev_bar, h_prev_bar.shape), grads


@dataclass(frozen=True)
class _GRUTape:
    x: FloatArray
    h_prev: FloatArray
    r: FloatArray
    z: FloatArray
    h_hat: FloatArray
    recurrent: FloatArray  # h U_hᵀ + b_hn


def _gru_forward(
    p: GRUParameters, x: FloatArray, h_prev: FloatArray
) -> tuple[FloatArray, _GRUTape]:
    r = _sigmoid(_affine(p.reset_gate, x, h_prev))
    z = _sigmoid(_affine(p.update_gate, x, h_prev))
    cand = p.candidate
    recurrent: FloatArray = h_prev @ cand.U.T + p.candidate_recurrent_bias
    h_hat: FloatArray = np.tanh(x @ cand.W.T + cand.b + r * recurrent)
    one = np.asarray(1, dtype=x.dtype)
    h: FloatArray = z * h_prev + (one - z) * h_hat
    return h, _GRUTape(x, h_prev, r, z, h_hat, recurrent)


def _gru_backward(
    p: GRUParameters, tape: _GRUTape, h_bar: FloatArray
) -> tuple[FloatArray, FloatArray, GRUParameters]:
    """(x̄, h̄_{t−1}, parameter gradients) of one GRU step (full batch shape)."""
    one = np.asarray(1, dtype=h_bar.dtype)
    z_bar: FloatArray = h_bar * (tape.h_prev - tape.h_hat)
    a_h: FloatArray = h_bar * (one - tape.z) * (one - tape.h_hat * tape.h_hat)
    r_bar: FloatArray = a_h * tape.recurrent
    rec_bar: FloatArray = a_h * tape.r  # ∂/∂(h U_hᵀ + b_hn)
    a_r: FloatArray = r_bar * tape.r * (one - tape.r)
    a_z: FloatArray = z_bar * tape.z * (one - tape.z)
    cand = p.candidate
    x_bar: FloatArray = a_r @ p.reset_gate.W + a_z @ p.update_gate.W + a_h @ cand.W
    h_prev_bar: FloatArray = (
        h_bar * tape.z + a_r @ p.reset_gate.U + a_z @ p.update_gate.U + rec_bar @ cand.U
    )
    batch = a_h.shape[:-1]
    a_h_rows, rec_rows = _rows(a_h, batch), _rows(rec_bar, batch)
    grads = GRUParameters(
        reset_gate=_gate_grad(a_r, tape.x, tape.h_prev),
        update_gate=_gate_grad(a_z, tape.x, tape.h_prev),
        candidate=GateParameters(
            W=a_h_rows.T @ _rows(tape.x, batch),
            U=rec_rows.T @ _rows(tape.h_prev, batch),
            b=a_h_rows.sum(axis=0),
        ),
        candidate_recurrent_bias=rec_rows.sum(axis=0),
    )
    return x_bar, h_prev_bar, grads


def _add_gates(a: GateParameters, b: GateParameters) -> GateParameters:
    return GateParameters(W=a.W + b.W, U=a.U + b.U, b=a.b + b.b)


def _add_lstm(a: LSTMParameters, b: LSTMParameters) -> LSTMParameters:
    return LSTMParameters(
        input_gate=_add_gates(a.input_gate, b.input_gate),
        forget_gate=_add_gates(a.forget_gate, b.forget_gate),
        output_gate=_add_gates(a.output_gate, b.output_gate),
        candidate=_add_gates(a.candidate, b.candidate),
    )


def _add_gru(a: GRUParameters, b: GRUParameters) -> GRUParameters:
    return GRUParameters(
        reset_gate=_add_gates(a.reset_gate, b.reset_gate),
        update_gate=_add_gates(a.update_gate, b.update_gate),
        candidate=_add_gates(a.candidate, b.candidate),
        candidate_recurrent_bias=a.candidate_recurrent_bias + b.candidate_recurrent_bias,
    )


# --------------------------------------------------------------------------- checks


def _array(x: object, name: str, width: int, dtype: object, what: str) -> FloatArray:
    a = check.float_array(x, name, min_ndim=1)
    if a.dtype != dtype:
        raise TypeError(f"{name} has dtype {a.dtype}, the parameters have {dtype}")
    if a.shape[-1] != width:
        raise ValueError(f"{name} has {a.shape[-1]} features, the cell expects {what} = {width}")
    return a


def _batch(**arrays: FloatArray) -> tuple[int, ...]:
    try:
        return np.broadcast_shapes(*(a.shape[:-1] for a in arrays.values()))
    except ValueError:
        listing = ", ".join(f"{name} {a.shape}" for name, a in arrays.items())
        raise ValueError(f"batch axes (all but the last) do not broadcast: {listing}") from None


def _upstream(x: object, name: str, shape: tuple[int, ...], dtype: object) -> FloatArray:
    a = check.float_array(x, name)
    if a.dtype != dtype:
        raise TypeError(f"{name} has dtype {a.dtype}, the parameters have {dtype}")
    if a.shape != shape:
        raise ValueError(f"{name} has shape {a.shape}, the forward output has shape {shape}")
    return a


def _pair(state: object, name: str) -> tuple[object, object]:
    if not isinstance(state, tuple) or len(state) != 2:
        raise TypeError(f"{name} must be a tuple (h, c) of two arrays")
    return state[0], state[1]


# --------------------------------------------------------------------------- public: LSTM


@dataclass(frozen=True)
class LSTMStepGradients:
    """Gradients of one LSTM step: x̄, h̄_{t−1}, c̄_{t−1} (their own shapes) and the parameters'."""

    x: FloatArray
    h: FloatArray
    c: FloatArray
    params: LSTMParameters


def lstm_cell_vjp(
    x: FloatArray,
    state: tuple[FloatArray, FloatArray],
    params: LSTMParameters,
    grad_h: FloatArray,
    grad_c: FloatArray | None = None,
) -> LSTMStepGradients:
    r"""Gradients of one LSTM step (h_t, c_t) = lstm_cell(x_t, (h_{t−1}, c_{t−1})).

    Book: §6.5 (LSTM); formulas in the module docstring (derived in the spec).
    Shapes: as ``impl.recurrent.lstm_cell``; grad_h, grad_c (upstream
    gradients of h_t and c_t, the batch-broadcast shape (..., m); grad_c
    defaults to 0) -> x̄ (x's shape), h̄, c̄ (the state's shapes), parameter
    gradients in an ``LSTMParameters``.
    Spec: ``spec.recurrent_backward.lstm_step_vjp``.
    """
    p = check.instance(params, LSTMParameters, "params")
    h_given, c_given = _pair(state, "state")
    xs = _array(x, "x", p.input_size, p.dtype, "n")
    h = _array(h_given, "h", p.hidden_size, p.dtype, "m")
    c = _array(c_given, "c", p.hidden_size, p.dtype, "m")
    shape = (*_batch(x=xs, h=h, c=c), p.hidden_size)
    h_bar = _upstream(grad_h, "grad_h", shape, p.dtype)
    c_bar = (
        np.zeros(shape, dtype=p.dtype)
        if grad_c is None
        else _upstream(grad_c, "grad_c", shape, p.dtype)
    )
    _, tape = _lstm_forward(p, xs, h, c)
    x_bar, h_prev_bar, c_prev_bar, grads = _lstm_backward(p, tape, h_bar, c_bar)
    return LSTMStepGradients(
        x=_unbroadcast(x_bar, xs.shape),
        h=_unbroadcast(h_prev_bar, h.shape),
        c=_unbroadcast(np.asarray(c_prev_bar), c.shape),
        params=grads,
    )


@dataclass(frozen=True)
class LSTMSequenceGradients:
    """Gradients of an LSTM run: x̄s (..., T, n), h̄_0, c̄_0 (..., m) and the parameters'."""

    xs: FloatArray
    h0: FloatArray
    c0: FloatArray
    params: LSTMParameters


def lstm_sequence_vjp(
    xs: FloatArray,
    params: LSTMParameters,
    grad_hs: FloatArray,
    initial: tuple[FloatArray, FloatArray] | None = None,
    grad_final: tuple[FloatArray, FloatArray] | None = None,
) -> LSTMSequenceGradients:
    r"""Backpropagation through time for ``impl.recurrent.lstm_sequence``.

    Book: §6.2 (BPTT) applied to the LSTM of §6.5: going from t = T down to 1,
    the state gradients h̄_t = ∂ℓ/∂h_t (from the output at t) + the gradient
    flowing back from step t + 1, c̄_t likewise, and each step's parameter
    gradients are summed over t.
    Shapes: xs (..., T, n) with T ≥ 1, grad_hs (..., T, m) (upstream gradients
    of all hidden states), ``initial`` (h_0, c_0) as in ``lstm_sequence``
    (default zeros), ``grad_final`` upstream gradients of the final (h_T, c_T)
    (default 0).
    Spec: ``spec.recurrent_backward.lstm_bptt``.
    """
    p = check.instance(params, LSTMParameters, "params")
    seq = check.float_array(xs, "xs", min_ndim=2)
    if seq.dtype != p.dtype:
        raise TypeError(f"xs has dtype {seq.dtype}, the parameters have {p.dtype}")
    if seq.shape[-1] != p.input_size:
        raise ValueError(f"xs has {seq.shape[-1]} features, the cell expects n = {p.input_size}")
    steps, m = seq.shape[-2], p.hidden_size
    if steps == 0:
        raise ValueError("xs must hold at least one step (T ≥ 1)")
    if initial is None:
        h0 = c0 = np.zeros((*seq.shape[:-2], m), dtype=p.dtype)
    else:
        h_given, c_given = _pair(initial, "initial")
        h0 = _array(h_given, "initial h", m, p.dtype, "m")
        c0 = _array(c_given, "initial c", m, p.dtype, "m")
    shape = (*_batch(x=seq[..., 0, :], h=h0, c=c0), m)
    g_hs = _upstream(grad_hs, "grad_hs", (*shape[:-1], steps, m), p.dtype)
    if grad_final is None:
        h_bar = np.zeros(shape, dtype=p.dtype)
        c_bar = np.zeros(shape, dtype=p.dtype)
    else:
        gh, gc = _pair(grad_final, "grad_final")
        h_bar = _upstream(gh, "grad_final h", shape, p.dtype)
        c_bar = _upstream(gc, "grad_final c", shape, p.dtype)
    tapes: list[_LSTMTape] = []
    h, c = h0, c0
    for t in range(steps):
        h, tape = _lstm_forward(p, seq[..., t, :], h, c)
        c = tape.c
        tapes.append(tape)
    x_bars: list[FloatArray] = [np.zeros(0)] * steps
    total: LSTMParameters | None = None
    for t in reversed(range(steps)):
        h_in = h_bar + g_hs[..., t, :]
        x_bar, h_bar, c_bar, grads = _lstm_backward(p, tapes[t], h_in, c_bar)
        x_bars[t] = np.broadcast_to(x_bar, (*shape[:-1], p.input_size))
        total = grads if total is None else _add_lstm(total, grads)
    assert total is not None
    xs_bar: FloatArray = _unbroadcast(np.stack(x_bars, axis=-2), seq.shape)
    return LSTMSequenceGradients(
        xs=xs_bar,
        h0=_unbroadcast(np.broadcast_to(h_bar, shape), h0.shape),
        c0=_unbroadcast(np.broadcast_to(c_bar, shape), c0.shape),
        params=total,
    )


# --------------------------------------------------------------------------- public: GRU


@dataclass(frozen=True)
class GRUStepGradients:
    """Gradients of one GRU step: x̄, h̄_{t−1} (their own shapes) and the parameters'."""

    x: FloatArray
    h: FloatArray
    params: GRUParameters


def gru_cell_vjp(
    x: FloatArray, h: FloatArray, params: GRUParameters, grad_h: FloatArray
) -> GRUStepGradients:
    r"""Gradients of one GRU step h_t = gru_cell(x_t, h_{t−1}) (PyTorch's reset-after form).

    Book: §6.5 (GRU), in ``impl.recurrent.gru_cell``'s variant; formulas in
    the module docstring.
    Shapes: as ``gru_cell``; grad_h (..., m) the upstream gradient of h_t.
    Spec: ``spec.recurrent_backward.gru_step_vjp``.
    """
    p = check.instance(params, GRUParameters, "params")
    xs = _array(x, "x", p.input_size, p.dtype, "n")
    hs = _array(h, "h", p.hidden_size, p.dtype, "m")
    shape = (*_batch(x=xs, h=hs), p.hidden_size)
    h_bar = _upstream(grad_h, "grad_h", shape, p.dtype)
    _, tape = _gru_forward(p, xs, hs)
    x_bar, h_prev_bar, grads = _gru_backward(p, tape, h_bar)
    return GRUStepGradients(
        x=_unbroadcast(x_bar, xs.shape), h=_unbroadcast(h_prev_bar, hs.shape), params=grads
    )


def gru_sequence(
    xs: FloatArray, params: GRUParameters, initial: FloatArray | None = None
) -> FloatArray:
    r"""Run the GRU over a sequence: all hidden states h_1..h_T.

    Book: §6.5 (GRU unrolled over time). Shapes: xs (..., T, n), T ≥ 1,
    initial h_0 (..., m) (default zeros) -> hs (..., T, m).
    """
    p = check.instance(params, GRUParameters, "params")
    seq = check.float_array(xs, "xs", min_ndim=2)
    if seq.dtype != p.dtype:
        raise TypeError(f"xs has dtype {seq.dtype}, the parameters have {p.dtype}")
    if seq.shape[-1] != p.input_size:
        raise ValueError(f"xs has {seq.shape[-1]} features, the cell expects n = {p.input_size}")
    if seq.shape[-2] == 0:
        raise ValueError("xs must hold at least one step (T ≥ 1)")
    h = (
        np.zeros((*seq.shape[:-2], p.hidden_size), dtype=p.dtype)
        if initial is None
        else _array(initial, "initial", p.hidden_size, p.dtype, "m")
    )
    outputs = []
    for t in range(seq.shape[-2]):
        h, _ = _gru_forward(p, seq[..., t, :], h)
        outputs.append(h)
    hs: FloatArray = np.stack(outputs, axis=-2)
    return hs


@dataclass(frozen=True)
class GRUSequenceGradients:
    """Gradients of a GRU run: x̄s (..., T, n), h̄_0 (..., m) and the parameters'."""

    xs: FloatArray
    h0: FloatArray
    params: GRUParameters


def gru_sequence_vjp(
    xs: FloatArray,
    params: GRUParameters,
    grad_hs: FloatArray,
    initial: FloatArray | None = None,
) -> GRUSequenceGradients:
    r"""Backpropagation through time for ``gru_sequence``.

    Book: §6.2 (BPTT) for the GRU of §6.5. Shapes: xs (..., T, n),
    grad_hs (..., T, m), initial h_0 (..., m) (default zeros).
    Spec: ``spec.recurrent_backward.gru_bptt``.
    """
    p = check.instance(params, GRUParameters, "params")
    seq = check.float_array(xs, "xs", min_ndim=2)
    if seq.dtype != p.dtype:
        raise TypeError(f"xs has dtype {seq.dtype}, the parameters have {p.dtype}")
    if seq.shape[-1] != p.input_size:
        raise ValueError(f"xs has {seq.shape[-1]} features, the cell expects n = {p.input_size}")
    steps, m = seq.shape[-2], p.hidden_size
    if steps == 0:
        raise ValueError("xs must hold at least one step (T ≥ 1)")
    h0 = (
        np.zeros((*seq.shape[:-2], m), dtype=p.dtype)
        if initial is None
        else _array(initial, "initial", m, p.dtype, "m")
    )
    shape = (*_batch(x=seq[..., 0, :], h=h0), m)
    g_hs = _upstream(grad_hs, "grad_hs", (*shape[:-1], steps, m), p.dtype)
    tapes: list[_GRUTape] = []
    h = h0
    for t in range(steps):
        h, tape = _gru_forward(p, seq[..., t, :], h)
        tapes.append(tape)
    h_bar: FloatArray = np.zeros(shape, dtype=p.dtype)
    x_bars: list[FloatArray] = [np.zeros(0)] * steps
    total: GRUParameters | None = None
    for t in reversed(range(steps)):
        x_bar, h_bar, grads = _gru_backward(p, tapes[t], h_bar + g_hs[..., t, :])
        x_bars[t] = np.broadcast_to(x_bar, (*shape[:-1], p.input_size))
        total = grads if total is None else _add_gru(total, grads)
    assert total is not None
    return GRUSequenceGradients(
        xs=_unbroadcast(np.stack(x_bars, axis=-2), seq.shape),
        h0=_unbroadcast(np.broadcast_to(h_bar, shape), h0.shape),
        params=total,
    )


# --------------------------------------------------------------------------- PyTorch layout


def lstm_gradients_to_torch(grads: LSTMParameters) -> TorchRNNWeights:
    r"""Parameter gradients of the book's LSTM in ``nn.LSTMCell``'s layout (blocks i, f, g, o).

    ``weight_ih``/``weight_hh`` stack W̄/Ū. Both PyTorch biases enter a gate
    only through their sum b = b_ih + b_hh, so each gets the gradient b̄:
    bias_ih = bias_hh = [b̄_i; b̄_f; b̄_c; b̄_o].
    """
    g = check.instance(grads, LSTMParameters, "grads")
    gates = (g.input_gate, g.forget_gate, g.candidate, g.output_gate)
    bias: FloatArray = np.concatenate([gate.b for gate in gates])
    return TorchRNNWeights(
        weight_ih=np.concatenate([gate.W for gate in gates], axis=0),
        weight_hh=np.concatenate([gate.U for gate in gates], axis=0),
        bias_ih=bias,
        bias_hh=bias.copy(),
    )


def gru_gradients_to_torch(grads: GRUParameters) -> TorchRNNWeights:
    r"""Parameter gradients of the GRU in ``nn.GRUCell``'s layout (blocks r, z, n).

    In the r and z blocks both biases enter through their sum (gradient b̄
    each); in the n block bias_ih is the candidate's b_h and bias_hh is b_hn
    (``candidate_recurrent_bias``), which sits inside r ∘ (·).
    """
    g = check.instance(grads, GRUParameters, "grads")
    gates = (g.reset_gate, g.update_gate, g.candidate)
    return TorchRNNWeights(
        weight_ih=np.concatenate([gate.W for gate in gates], axis=0),
        weight_hh=np.concatenate([gate.U for gate in gates], axis=0),
        bias_ih=np.concatenate([gate.b for gate in gates]),
        bias_hh=np.concatenate([g.reset_gate.b, g.update_gate.b, g.candidate_recurrent_bias]),
    )
