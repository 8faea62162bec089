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

Edges (issue 7): every public function checks and names its arguments once
(a state tuple's entries as ``state[0]``, ``state[1]``, ``initial[0]``, …),
then runs the kernels below. Arrays must be float ndarrays of the parameters'
dtype without NaN, inf or zero-size axes (T = 0 steps included: a ValueError
naming ``xs``). Finite inputs of any size give finite gradients (the gates
saturate) or, when an intermediate overflows the dtype (a pre-activation,
the memory cell, or a gradient product), a ValueError naming every argument
that enters it. Result records hold read-only arrays.
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
    _affine,
    _leading_broadcast,
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


_Gate = tuple[FloatArray, FloatArray, FloatArray]
"""A gate's raw gradient (W̄, Ū, b̄): built into a ``GateParameters`` only once checked finite."""


def _gate_grad(a_bar: FloatArray, x: FloatArray, h: FloatArray) -> _Gate:
    batch = a_bar.shape[:-1]
    rows = _rows(a_bar, batch)
    return rows.T @ _rows(x, batch), rows.T @ _rows(h, batch), rows.sum(axis=0)


def _add(a: tuple[FloatArray, ...], b: tuple[FloatArray, ...]) -> tuple[FloatArray, ...]:
    return tuple(x + y for x, y in zip(a, b, strict=True))


def _finite(*arrays: FloatArray) -> bool:
    return all(bool(np.isfinite(a).all()) for a in arrays)


def _overflowed(names: str) -> ValueError:
    return ValueError(
        f"{names} are too large: an intermediate (a gate pre-activation, the memory cell or a "
        "gradient product) overflowed the dtype; keep |W x + U h + b|, |c| and the products "
        "of the upstream gradients with x and h within its range"
    )


def _lstm_grads(raw: tuple[FloatArray, ...]) -> LSTMParameters:
    """The container of 12 checked-finite raw arrays (W̄, Ū, b̄ of i, f, o, c̃)."""
    gates = [GateParameters(W=raw[k], U=raw[k + 1], b=raw[k + 2]) for k in range(0, 12, 3)]
    return LSTMParameters(
        input_gate=gates[0], forget_gate=gates[1], output_gate=gates[2], candidate=gates[3]
    )


def _gru_grads(raw: tuple[FloatArray, ...]) -> GRUParameters:
    """The container of 10 checked-finite raw arrays (W̄, Ū, b̄ of r, z, ĥ, then b̄_hn)."""
    gates = [GateParameters(W=raw[k], U=raw[k + 1], b=raw[k + 2]) for k in range(0, 9, 3)]
    return GRUParameters(
        reset_gate=gates[0],
        update_gate=gates[1],
        candidate=gates[2],
        candidate_recurrent_bias=raw[9],
    )


def _lstm_backward(
    p: LSTMParameters, tape: _LSTMTape, h_bar: FloatArray, c_bar: FloatArray
) -> tuple[FloatArray, FloatArray, FloatArray, tuple[FloatArray, ...]]:
    """(x̄, h̄_{t−1}, c̄_{t−1}, raw parameter gradients) of one LSTM step (full batch shape)."""
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
    grads = tuple(a for a_bar, _ in pairs for a in _gate_grad(a_bar, tape.x, tape.h_prev))
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
) -> tuple[FloatArray, FloatArray, tuple[FloatArray, ...]]:
    """(x̄, h̄_{t−1}, raw parameter gradients) of one GRU step (full batch shape)."""
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
    grads = (
        *_gate_grad(a_r, tape.x, tape.h_prev),
        *_gate_grad(a_z, tape.x, tape.h_prev),
        a_h_rows.T @ _rows(tape.x, batch),
        rec_rows.T @ _rows(tape.h_prev, batch),
        a_h_rows.sum(axis=0),
        rec_rows.sum(axis=0),
    )
    return x_bar, h_prev_bar, grads


# --------------------------------------------------------------------------- checks


def _array(x: object, name: str, width: int, dtype: object, what: str) -> FloatArray:
    a = check.float_array(x, name, min_ndim=1, nonempty=True)
    if a.dtype != dtype:
        raise TypeError(f"{name} has dtype {a.dtype}, the parameters (params) have {dtype}")
    if a.shape[-1] != width:
        raise ValueError(f"{name} has {a.shape[-1]} features, the cell expects {what} = {width}")
    return a


def _upstream(x: object, name: str, shape: tuple[int, ...], dtype: object) -> FloatArray:
    a = check.float_array(x, name)
    if a.dtype != dtype:
        raise TypeError(f"{name} has dtype {a.dtype}, the parameters (params) have {dtype}")
    if a.shape != shape:
        raise ValueError(f"{name} has shape {a.shape}, the forward output has shape {shape}")
    return a


def _sequence(xs: object, p: LSTMParameters | GRUParameters) -> FloatArray:
    """A checked input sequence (..., T, n), T ≥ 1, of the parameters' dtype."""
    seq = check.float_array(xs, "xs", min_ndim=2, nonempty=True)
    if seq.dtype != p.dtype:
        raise TypeError(f"xs has dtype {seq.dtype}, the parameters (params) have {p.dtype}")
    if seq.shape[-1] != p.input_size:
        raise ValueError(f"xs has {seq.shape[-1]} features, the cell expects n = {p.input_size}")
    return seq


# --------------------------------------------------------------------------- public: LSTM


@dataclass(frozen=True)
class LSTMStepGradients:
    """Gradients of one LSTM step: x̄, h̄_{t−1}, c̄_{t−1} (their own shapes) and the parameters'."""

    x: FloatArray
    h: FloatArray
    c: FloatArray
    params: LSTMParameters

    def __post_init__(self) -> None:
        check.seal(self)  # fresh arrays of the VJP kernels, made read-only


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
    h_given, c_given = check.pair(state, "state")
    xs = _array(x, "x", p.input_size, p.dtype, "n")
    h = _array(h_given, "state[0]", p.hidden_size, p.dtype, "m")
    c = _array(c_given, "state[1]", p.hidden_size, p.dtype, "m")
    shape = (*_leading_broadcast(x=xs, **{"state[0]": h, "state[1]": c}), p.hidden_size)
    h_bar = _upstream(grad_h, "grad_h", shape, p.dtype)
    c_bar = (
        np.zeros(shape, dtype=p.dtype)
        if grad_c is None
        else _upstream(grad_c, "grad_c", shape, p.dtype)
    )
    with np.errstate(over="ignore", invalid="ignore"):
        _, tape = _lstm_forward(p, xs, h, c)
        x_bar, h_prev_bar, c_prev_bar, grads = _lstm_backward(p, tape, h_bar, c_bar)
    if not _finite(x_bar, h_prev_bar, c_prev_bar, *grads):
        raise _overflowed("x, state, params, grad_h and grad_c")
    return LSTMStepGradients(
        x=_unbroadcast(x_bar, xs.shape),
        h=_unbroadcast(h_prev_bar, h.shape),
        c=_unbroadcast(np.asarray(c_prev_bar), c.shape),
        params=_lstm_grads(grads),
    )


@dataclass(frozen=True)
class LSTMSequenceGradients:
    """Gradients of an LSTM run: x̄s (..., T, n), h̄_0, c̄_0 (..., m) and the parameters'."""

    xs: FloatArray
    h0: FloatArray
    c0: FloatArray
    params: LSTMParameters

    def __post_init__(self) -> None:
        check.seal(self)  # fresh arrays of the VJP kernels, made read-only


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
    seq = _sequence(xs, p)
    steps, m = seq.shape[-2], p.hidden_size
    if initial is None:
        h0 = c0 = np.zeros((*seq.shape[:-2], m), dtype=p.dtype)
    else:
        h_given, c_given = check.pair(initial, "initial")
        h0 = _array(h_given, "initial[0]", m, p.dtype, "m")
        c0 = _array(c_given, "initial[1]", m, p.dtype, "m")
    shape = (*_leading_broadcast(xs=seq[..., 0, :], **{"initial[0]": h0, "initial[1]": c0}), m)
    g_hs = _upstream(grad_hs, "grad_hs", (*shape[:-1], steps, m), p.dtype)
    if grad_final is None:
        h_bar = np.zeros(shape, dtype=p.dtype)
        c_bar = np.zeros(shape, dtype=p.dtype)
    else:
        gh, gc = check.pair(grad_final, "grad_final")
        h_bar = _upstream(gh, "grad_final[0]", shape, p.dtype)
        c_bar = _upstream(gc, "grad_final[1]", shape, p.dtype)
    tapes: list[_LSTMTape] = []
    h, c = h0, c0
    x_bars: list[FloatArray] = [np.zeros(0)] * steps
    total: tuple[FloatArray, ...] = ()
    with np.errstate(over="ignore", invalid="ignore"):
        for t in range(steps):
            h, tape = _lstm_forward(p, seq[..., t, :], h, c)
            c = tape.c
            tapes.append(tape)
        for t in reversed(range(steps)):
            h_in = h_bar + g_hs[..., t, :]
            x_bar, h_bar, c_bar, grads = _lstm_backward(p, tapes[t], h_in, c_bar)
            x_bars[t] = np.broadcast_to(x_bar, (*shape[:-1], p.input_size))
            total = grads if not total else _add(total, grads)
    if not _finite(h_bar, c_bar, *x_bars, *total):
        raise _overflowed("xs, params, grad_hs, initial and grad_final")
    xs_bar: FloatArray = _unbroadcast(np.stack(x_bars, axis=-2), seq.shape)
    return LSTMSequenceGradients(
        xs=xs_bar,
        h0=_unbroadcast(np.broadcast_to(h_bar, shape), h0.shape),
        c0=_unbroadcast(np.broadcast_to(c_bar, shape), c0.shape),
        params=_lstm_grads(total),
    )


# --------------------------------------------------------------------------- public: GRU


@dataclass(frozen=True)
class GRUStepGradients:
    """Gradients of one GRU step: x̄, h̄_{t−1} (their own shapes) and the parameters'."""

    x: FloatArray
    h: FloatArray
    params: GRUParameters

    def __post_init__(self) -> None:
        check.seal(self)  # fresh arrays of the VJP kernels, made read-only


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
    shape = (*_leading_broadcast(x=xs, h=hs), p.hidden_size)
    h_bar = _upstream(grad_h, "grad_h", shape, p.dtype)
    with np.errstate(over="ignore", invalid="ignore"):
        _, tape = _gru_forward(p, xs, hs)
        x_bar, h_prev_bar, grads = _gru_backward(p, tape, h_bar)
    if not _finite(x_bar, h_prev_bar, *grads):
        raise _overflowed("x, h, params and grad_h")
    return GRUStepGradients(
        x=_unbroadcast(x_bar, xs.shape),
        h=_unbroadcast(h_prev_bar, hs.shape),
        params=_gru_grads(grads),
    )


def gru_sequence(
    xs: FloatArray, params: GRUParameters, initial: FloatArray | None = None
) -> FloatArray:
    r"""Run the GRU over a sequence: all hidden states h_1..h_T.

    Book: §6.5 (GRU unrolled over time). Shapes: xs (..., T, n), T ≥ 1,
    initial h_0 (..., m) (default zeros) -> hs (..., T, m).
    """
    p = check.instance(params, GRUParameters, "params")
    seq = _sequence(xs, p)
    h = (
        np.zeros((*seq.shape[:-2], p.hidden_size), dtype=p.dtype)
        if initial is None
        else _array(initial, "initial", p.hidden_size, p.dtype, "m")
    )
    _leading_broadcast(xs=seq[..., 0, :], initial=h)
    outputs = []
    with np.errstate(over="ignore", invalid="ignore"):
        for t in range(seq.shape[-2]):
            h, _ = _gru_forward(p, seq[..., t, :], h)
            outputs.append(h)
    hs: FloatArray = np.stack(outputs, axis=-2)
    if not _finite(hs):
        raise _overflowed("xs, params and initial")
    return hs


@dataclass(frozen=True)
class GRUSequenceGradients:
    """Gradients of a GRU run: x̄s (..., T, n), h̄_0 (..., m) and the parameters'."""

    xs: FloatArray
    h0: FloatArray
    params: GRUParameters

    def __post_init__(self) -> None:
        check.seal(self)  # fresh arrays of the VJP kernels, made read-only


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
    seq = _sequence(xs, p)
    steps, m = seq.shape[-2], p.hidden_size
    h0 = (
        np.zeros((*seq.shape[:-2], m), dtype=p.dtype)
        if initial is None
        else _array(initial, "initial", m, p.dtype, "m")
    )
    shape = (*_leading_broadcast(xs=seq[..., 0, :], initial=h0), m)
    g_hs = _upstream(grad_hs, "grad_hs", (*shape[:-1], steps, m), p.dtype)
    tapes: list[_GRUTape] = []
    h = h0
    h_bar: FloatArray = np.zeros(shape, dtype=p.dtype)
    x_bars: list[FloatArray] = [np.zeros(0)] * steps
    total: tuple[FloatArray, ...] = ()
    with np.errstate(over="ignore", invalid="ignore"):
        for t in range(steps):
            h, tape = _gru_forward(p, seq[..., t, :], h)
            tapes.append(tape)
        for t in reversed(range(steps)):
            x_bar, h_bar, grads = _gru_backward(p, tapes[t], h_bar + g_hs[..., t, :])
            x_bars[t] = np.broadcast_to(x_bar, (*shape[:-1], p.input_size))
            total = grads if not total else _add(total, grads)
    if not _finite(h_bar, *x_bars, *total):
        raise _overflowed("xs, params, grad_hs and initial")
    return GRUSequenceGradients(
        xs=_unbroadcast(np.stack(x_bars, axis=-2), seq.shape),
        h0=_unbroadcast(np.broadcast_to(h_bar, shape), h0.shape),
        params=_gru_grads(total),
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
