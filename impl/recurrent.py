"""LSTM and GRU cells in the book's parameterisation, with PyTorch-layout converters.

Book: §6.5 (LSTM, GRU) as used by §8.2.1 (the pointer network's encoder and
decoder) and exercise 8-1 (the LSTM's parameter count).
Spec: ``spec.recurrent`` (parameter counts).

Conventions shared by every function here:

* **Shapes.** The book's column vectors x_t ∈ R^n and h_t, c_t ∈ R^m are our
  last axes: inputs (..., n), states (..., m). Leading axes are batch axes
  and broadcast between the input and the state.
* **Parameters** follow the book: every gate (and the candidate) has its own
  input matrix W (m, n), state matrix U (m, m) and ONE bias b (m,), stored
  in a ``GateParameters``. All arrays of a cell share one dtype, which must
  be the dtype of the input and state (float32 or float64; mixing is a
  ``TypeError``).
* **Sigmoid** is evaluated as 1/(1 + e^{−|x|}) or e^{−|x|}/(1 + e^{−|x|}), so
  it never overflows; in floating point it lies in [0, 1] (exactly 0 or 1
  only when saturated), the tanh in [−1, 1]. The strict bounds of exact
  arithmetic (|h| < 1 for the LSTM) therefore hold as ``≤`` in floating point.
* **Checked once.** Public functions check and name their arguments, then run
  the kernels ``_affine``, ``_lstm_step``, ``_gru_step`` (the pointer network
  calls these kernels directly). Parameter containers keep read-only private
  copies of their arrays (an in-place edit raises NumPy's read-only error;
  ``dataclasses.replace`` re-runs the checks).
* **Edges.** Zero-size axes are a ValueError naming the argument, except a
  sequence of T = 0 steps (``lstm_sequence`` returns the initial state).
  Finite inputs of any size either give a finite result (the gates saturate)
  or, when an intermediate overflows (inf − inf in a pre-activation, or a
  memory cell c beyond the dtype's maximum), a ValueError naming ``x``, the
  state and ``params``.
* **PyTorch layout** (``TorchRNNWeights``): ``weight_ih`` (G·m, n),
  ``weight_hh`` (G·m, m), ``bias_ih`` (G·m,), ``bias_hh`` (G·m,), with the
  gate blocks stacked in PyTorch's order — LSTM (G = 4): i, f, g, o (g is the
  candidate c̃); GRU (G = 3): r, z, n. Converting needs no torch import.
"""

import math
from dataclasses import dataclass, fields
from typing import Any

import numpy as np

from impl import _numerics as kernels
from impl import _validation as check
from impl._typing import FloatArray, IntScalar

# --------------------------------------------------------------------------- helpers


_sigmoid = kernels.sigmoid


def _leading_broadcast(**arrays: FloatArray) -> tuple[int, ...]:
    """Check that the batch axes (all but the last) broadcast; return their shape."""
    try:
        return np.broadcast_shapes(*(a.shape[:-1] for a in arrays.values()))
    except ValueError:
        listing = ", ".join(f"{name} {a.shape}" for name, a in arrays.items())
        raise ValueError(f"batch axes (all but the last) do not broadcast: {listing}") from None


def _uniform(
    rng: np.random.Generator, shape: tuple[int, ...], bound: float, dtype: np.dtype[Any]
) -> FloatArray:
    drawn: FloatArray = rng.uniform(-bound, bound, size=shape).astype(dtype)
    return drawn


# --------------------------------------------------------------------------- parameters


@dataclass(frozen=True)
class GateParameters:
    r"""One gate's (or the candidate's) affine map W x + U h + b.

    Book: §6.5, e.g. the input gate i_t = σ(W_i x_t + U_i h_{t−1} + b_i).
    Shapes: ``W`` (m, n) acts on the input, ``U`` (m, m) on the previous hidden
    state, ``b`` (m,) is the single bias. With our row vectors the map is
    ``x @ W.T + h @ U.T + b``.
    """

    W: FloatArray
    U: FloatArray
    b: FloatArray

    def __post_init__(self) -> None:
        W = check.float_array(self.W, "W", min_ndim=2, nonempty=True)
        U = check.float_array(self.U, "U", min_ndim=2, nonempty=True)
        b = check.float_array(self.b, "b", min_ndim=1, nonempty=True)
        check.same_dtype(W=W, U=U, b=b)
        if W.ndim != 2 or U.ndim != 2 or b.ndim != 1:
            raise ValueError(
                f"W, U must be matrices and b a vector, got W {W.shape}, U {U.shape}, b {b.shape}"
            )
        m = U.shape[0]
        if U.shape != (m, m):
            raise ValueError(f"U must be square (m, m), got shape {U.shape}")
        if W.shape[0] != m or b.shape[0] != m:
            raise ValueError(
                f"W, U and b must share the hidden size m: W has {W.shape[0]} rows, "
                f"U has {m}, b has {b.shape[0]} entries"
            )
        if W.shape[1] == 0 or m == 0:
            raise ValueError(f"input size n and hidden size m must be positive, got W {W.shape}")
        check.frozen_fields(self, W=W, U=U, b=b)

    @property
    def input_size(self) -> int:
        """n, the width of the input x."""
        return int(self.W.shape[1])

    @property
    def hidden_size(self) -> int:
        """m, the width of the state h."""
        return int(self.U.shape[0])

    def affine(self, x: FloatArray, h: FloatArray) -> FloatArray:
        """W x + U h + b for row vectors x (..., n), h (..., m) -> (..., m) (checked).

        A pre-activation that overflows is a ValueError naming ``x`` and ``h``.
        """
        x_t, (h_t,) = _input_and_state(x, {"h": h}, self.hidden_size, self.W.dtype, self.input_size)
        pre = _affine(self, x_t, h_t)
        return check.finite_result(pre, "x and h", "keep |x|·|W| + |h|·|U| within the dtype")

    @classmethod
    def initialize(
        cls,
        rng: np.random.Generator,
        *,
        input_size: IntScalar,
        hidden_size: IntScalar,
        dtype: type[np.floating[Any]] = np.float64,
    ) -> "GateParameters":
        """Draw W, U, b uniformly in ±1/√m (PyTorch's default for recurrent cells)."""
        gen = check.generator(rng)
        n, m, chosen = _sizes(input_size, hidden_size, dtype, gates=1)
        bound = 1.0 / math.sqrt(m)
        return cls(
            W=_uniform(gen, (m, n), bound, chosen),
            U=_uniform(gen, (m, m), bound, chosen),
            b=_uniform(gen, (m,), bound, chosen),
        )


def _sizes(
    input_size: object, hidden_size: object, dtype: object, gates: int
) -> tuple[int, int, np.dtype[Any]]:
    """Checked (n, m, dtype) for ``initialize``: the cell's arrays must fit the allocation limit."""
    n = check.positive_int(input_size, "input_size")
    m = check.positive_int(hidden_size, "hidden_size")
    chosen = check.float_dtype(dtype)
    check.allocation(gates * m * (n + m + 2), chosen, "input_size and hidden_size", "the cell")
    return n, m, chosen


def _affine(gate: "GateParameters", x: FloatArray, h: FloatArray) -> FloatArray:
    """W x + U h + b (the kernel; may overflow to ±inf or NaN, which callers check)."""
    with np.errstate(over="ignore", invalid="ignore"):
        pre: FloatArray = x @ gate.W.T + h @ gate.U.T + gate.b
    return pre


def _check_gates(**gates: GateParameters) -> None:
    """All gates of one cell share n, m and the dtype."""
    first_name, first = next(iter(gates.items()))
    for name, gate in gates.items():
        if not isinstance(gate, GateParameters):
            raise TypeError(f"{name} must be a GateParameters, got {type(gate).__name__}")
        if (gate.input_size, gate.hidden_size) != (first.input_size, first.hidden_size):
            raise ValueError(
                f"{name} has (n, m) = ({gate.input_size}, {gate.hidden_size}), "
                f"{first_name} has ({first.input_size}, {first.hidden_size})"
            )
        if gate.W.dtype != first.W.dtype:
            raise TypeError(f"{name} has dtype {gate.W.dtype}, {first_name} has {first.W.dtype}")


@dataclass(frozen=True)
class LSTMParameters:
    r"""The four affine maps of an LSTM cell (book §6.5).

    ``input_gate`` (i), ``forget_gate`` (f), ``output_gate`` (o) and
    ``candidate`` (c̃, PyTorch's g), each a ``GateParameters`` with W (m, n),
    U (m, m), b (m,): 4m(m + n + 1) numbers in all (exercise 8-1).
    """

    input_gate: GateParameters
    forget_gate: GateParameters
    output_gate: GateParameters
    candidate: GateParameters

    def __post_init__(self) -> None:
        _check_gates(
            input_gate=self.input_gate,
            forget_gate=self.forget_gate,
            output_gate=self.output_gate,
            candidate=self.candidate,
        )

    @property
    def input_size(self) -> int:
        """n, the width of the input x."""
        return self.input_gate.input_size

    @property
    def hidden_size(self) -> int:
        """m, the width of h and c."""
        return self.input_gate.hidden_size

    @property
    def dtype(self) -> np.dtype[Any]:
        """The dtype shared by all arrays."""
        return self.input_gate.W.dtype

    def arrays(self) -> tuple[FloatArray, ...]:
        """Every parameter array (W, U, b of each gate, in field order)."""
        return tuple(a for f in fields(self) for a in _gate_arrays(getattr(self, f.name)))

    @classmethod
    def initialize(
        cls,
        rng: np.random.Generator,
        *,
        input_size: IntScalar,
        hidden_size: IntScalar,
        dtype: type[np.floating[Any]] = np.float64,
    ) -> "LSTMParameters":
        """Draw every array uniformly in ±1/√m (PyTorch's default) from ``rng``."""
        gen = check.generator(rng)
        n, m, chosen = _sizes(input_size, hidden_size, dtype, gates=4)

        def gate() -> GateParameters:
            return GateParameters.initialize(gen, input_size=n, hidden_size=m, dtype=chosen.type)

        return cls(input_gate=gate(), forget_gate=gate(), output_gate=gate(), candidate=gate())


@dataclass(frozen=True)
class GRUParameters:
    r"""The three affine maps of a GRU cell, plus the candidate's recurrent bias.

    ``reset_gate`` (r), ``update_gate`` (z), ``candidate`` (ĥ, PyTorch's n),
    each a ``GateParameters``; ``candidate_recurrent_bias`` (m,) is PyTorch's
    b_hn, which sits inside the reset gate's product (see ``gru_cell``) and so
    cannot be merged into ``candidate.b``. Storing it makes the count
    3m(m + n + 1) + m: one more m-vector than the book's one-bias GRU.
    """

    reset_gate: GateParameters
    update_gate: GateParameters
    candidate: GateParameters
    candidate_recurrent_bias: FloatArray

    def __post_init__(self) -> None:
        _check_gates(
            reset_gate=self.reset_gate, update_gate=self.update_gate, candidate=self.candidate
        )
        b_hn = check.float_array(self.candidate_recurrent_bias, "candidate_recurrent_bias")
        if b_hn.shape != (self.hidden_size,):
            raise ValueError(
                f"candidate_recurrent_bias must have shape ({self.hidden_size},), got {b_hn.shape}"
            )
        if b_hn.dtype != self.dtype:
            raise TypeError(
                f"candidate_recurrent_bias has dtype {b_hn.dtype}, the gates have {self.dtype}"
            )
        check.frozen_fields(self, candidate_recurrent_bias=b_hn)

    @property
    def input_size(self) -> int:
        """n, the width of the input x."""
        return self.reset_gate.input_size

    @property
    def hidden_size(self) -> int:
        """m, the width of h."""
        return self.reset_gate.hidden_size

    @property
    def dtype(self) -> np.dtype[Any]:
        """The dtype shared by all arrays."""
        return self.reset_gate.W.dtype

    def arrays(self) -> tuple[FloatArray, ...]:
        """Every parameter array (W, U, b of each gate, then b_hn)."""
        gates = (self.reset_gate, self.update_gate, self.candidate)
        return (*(a for g in gates for a in _gate_arrays(g)), self.candidate_recurrent_bias)

    @classmethod
    def initialize(
        cls,
        rng: np.random.Generator,
        *,
        input_size: IntScalar,
        hidden_size: IntScalar,
        dtype: type[np.floating[Any]] = np.float64,
    ) -> "GRUParameters":
        """Draw every array uniformly in ±1/√m (PyTorch's default) from ``rng``."""
        gen = check.generator(rng)
        n, m, chosen = _sizes(input_size, hidden_size, dtype, gates=3)

        def gate() -> GateParameters:
            return GateParameters.initialize(gen, input_size=n, hidden_size=m, dtype=chosen.type)

        reset, update, candidate = gate(), gate(), gate()
        return cls(
            reset_gate=reset,
            update_gate=update,
            candidate=candidate,
            candidate_recurrent_bias=_uniform(gen, (m,), 1.0 / math.sqrt(m), chosen),
        )


def _gate_arrays(gate: GateParameters) -> tuple[FloatArray, FloatArray, FloatArray]:
    return gate.W, gate.U, gate.b


@dataclass(frozen=True)
class TorchRNNWeights:
    r"""A recurrent cell's parameters in PyTorch's stacked layout (plain arrays).

    The names and shapes of ``torch.nn.LSTMCell`` / ``GRUCell``'s state dict:
    ``weight_ih`` (G·m, n), ``weight_hh`` (G·m, m), ``bias_ih`` (G·m,),
    ``bias_hh`` (G·m,), with G = 4 blocks (i, f, g, o) for an LSTM and G = 3
    (r, z, n) for a GRU. 4m(m + n + 2) resp. 3m(m + n + 2) numbers.
    """

    weight_ih: FloatArray
    weight_hh: FloatArray
    bias_ih: FloatArray
    bias_hh: FloatArray

    def __post_init__(self) -> None:
        w_ih = check.float_array(self.weight_ih, "weight_ih", min_ndim=2, nonempty=True)
        w_hh = check.float_array(self.weight_hh, "weight_hh", min_ndim=2, nonempty=True)
        b_ih = check.float_array(self.bias_ih, "bias_ih", min_ndim=1, nonempty=True)
        b_hh = check.float_array(self.bias_hh, "bias_hh", min_ndim=1, nonempty=True)
        check.same_dtype(weight_ih=w_ih, weight_hh=w_hh, bias_ih=b_ih, bias_hh=b_hh)
        if w_ih.ndim != 2 or w_hh.ndim != 2 or b_ih.ndim != 1 or b_hh.ndim != 1:
            raise ValueError(
                "weight_ih, weight_hh must be matrices and bias_ih, bias_hh vectors, got "
                f"{w_ih.shape}, {w_hh.shape}, {b_ih.shape}, {b_hh.shape}"
            )
        rows = w_hh.shape[0]
        if not w_ih.shape[0] == rows == b_ih.shape[0] == b_hh.shape[0]:
            raise ValueError(
                "weight_ih, weight_hh, bias_ih, bias_hh must have the same number of rows G·m, "
                f"got {w_ih.shape[0]}, {rows}, {b_ih.shape[0]}, {b_hh.shape[0]}"
            )
        check.frozen_fields(self, weight_ih=w_ih, weight_hh=w_hh, bias_ih=b_ih, bias_hh=b_hh)

    def arrays(self) -> tuple[FloatArray, ...]:
        """The four arrays, in PyTorch's state-dict order."""
        return self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh

    def blocks(self, name: str, gate_count: IntScalar) -> int:
        """Check the layout holds ``gate_count`` square blocks; return the hidden size m.

        ``name`` (a str, e.g. "LSTM") is used in the error; ``gate_count`` is a positive int.
        """
        if not isinstance(name, str):
            raise TypeError(f"name must be a str, got {type(name).__name__}")
        gate_count = check.int_in_range(gate_count, "gate_count", low=1, high=4)
        m = self.weight_hh.shape[1]
        if m == 0 or self.weight_hh.shape[0] != gate_count * m:
            raise ValueError(
                f"a {name} has weight_hh of shape ({gate_count}·m, m); got {self.weight_hh.shape}"
            )
        return int(m)


Parameters = LSTMParameters | GRUParameters | TorchRNNWeights
"""Anything whose parameters ``parameter_count`` can count."""


# --------------------------------------------------------------------------- cells


def _input_and_state(
    x: object,
    states: dict[str, object],
    hidden_size: int,
    dtype: np.dtype[Any],
    input_size: int,
    x_name: str = "x",
) -> tuple[FloatArray, list[FloatArray]]:
    """Check an input and its states once; ``states`` maps the caller's names to the arrays."""
    xs = check.float_array(x, x_name, min_ndim=1, nonempty=True)
    checked = [check.float_array(s, name, min_ndim=1, nonempty=True) for name, s in states.items()]
    named = dict(zip(states, checked, strict=True))
    check.same_dtype(**{x_name: xs}, **named)
    if xs.dtype != dtype:
        raise TypeError(f"{x_name} has dtype {xs.dtype}, the parameters have {dtype}")
    if xs.shape[-1] != input_size:
        raise ValueError(f"{x_name} has {xs.shape[-1]} features, the cell expects n = {input_size}")
    for name, s in named.items():
        if s.shape[-1] != hidden_size:
            raise ValueError(
                f"{name} has {s.shape[-1]} features, the cell expects m = {hidden_size}"
            )
    _leading_broadcast(**{x_name: xs}, **named)
    return xs, checked


def _lstm_step(
    x: FloatArray, h_prev: FloatArray, c_prev: FloatArray, params: "LSTMParameters"
) -> tuple[FloatArray, FloatArray]:
    """One LSTM step (the kernel; an overflow shows as inf/NaN, which callers check)."""
    i = kernels.sigmoid(_affine(params.input_gate, x, h_prev))
    f = kernels.sigmoid(_affine(params.forget_gate, x, h_prev))
    o = kernels.sigmoid(_affine(params.output_gate, x, h_prev))
    with np.errstate(over="ignore", invalid="ignore"):
        c_tilde: FloatArray = np.tanh(_affine(params.candidate, x, h_prev))
        c: FloatArray = f * c_prev + i * c_tilde
        h: FloatArray = o * np.tanh(c)
    return h, c


def _gru_step(x: FloatArray, h_prev: FloatArray, params: "GRUParameters") -> FloatArray:
    """One GRU step, PyTorch's "reset after" variant (the kernel)."""
    r = kernels.sigmoid(_affine(params.reset_gate, x, h_prev))
    z = kernels.sigmoid(_affine(params.update_gate, x, h_prev))
    cand = params.candidate
    one = np.asarray(1, dtype=params.dtype)
    with np.errstate(over="ignore", invalid="ignore"):
        recurrent: FloatArray = h_prev @ cand.U.T + params.candidate_recurrent_bias  # U_h h + b_hn
        h_hat: FloatArray = np.tanh(x @ cand.W.T + cand.b + r * recurrent)
        h_new: FloatArray = z * h_prev + (one - z) * h_hat
    return h_new


def _overflowed(state: str, x_name: str = "x") -> ValueError:
    return ValueError(
        f"{x_name}, {state} and params are too large: an intermediate (a gate pre-activation "
        "or the memory cell) overflowed the dtype; keep |W x + U h + b| and |c| + 1 within it"
    )


def lstm_cell(
    x: FloatArray, state: tuple[FloatArray, FloatArray], params: LSTMParameters
) -> tuple[FloatArray, FloatArray]:
    r"""One LSTM step: the new hidden state h_t and memory cell c_t.

    Book: §6.5 (LSTM):
        i_t = σ(W_i x_t + U_i h_{t−1} + b_i),  f_t = σ(W_f x_t + U_f h_{t−1} + b_f),
        o_t = σ(W_o x_t + U_o h_{t−1} + b_o),  c̃_t = tanh(W_c x_t + U_c h_{t−1} + b_c),
        c_t = f_t ⊙ c_{t−1} + i_t ⊙ c̃_t,       h_t = o_t ⊙ tanh(c_t).
    Shapes: x (..., n), state = (h_{t−1} (..., m), c_{t−1} (..., m)) (a tuple;
    errors name ``state[0]``, ``state[1]``) -> (h_t, c_t), each (..., broadcast
    batch, m), same dtype.
    Ranges: |h_t| ≤ 1 (< 1 in exact arithmetic) and |c_t| ≤ |c_{t−1}| + 1.
    Edges: see the module docstring.
    """
    p = check.instance(params, LSTMParameters, "params")
    h_given, c_given = check.pair(state, "state")
    x_t, (h_prev, c_prev) = _input_and_state(
        x, {"state[0]": h_given, "state[1]": c_given}, p.hidden_size, p.dtype, p.input_size
    )
    h, c = _lstm_step(x_t, h_prev, c_prev, p)
    if not (np.isfinite(h).all() and np.isfinite(c).all()):
        raise _overflowed("state")
    return h, c


def gru_cell(x: FloatArray, h: FloatArray, params: GRUParameters) -> FloatArray:
    r"""One GRU step: the new hidden state h_t (PyTorch's "reset after" variant).

    Book: §6.5 (GRU), with the update gate z_t weighting the OLD state as in the
    book and PyTorch:
        r_t = σ(W_r x_t + U_r h_{t−1} + b_r),   z_t = σ(W_z x_t + U_z h_{t−1} + b_z),
        ĥ_t = tanh(W_h x_t + b_h + r_t ⊙ (U_h h_{t−1} + b_hn)),
        h_t = z_t ⊙ h_{t−1} + (1 − z_t) ⊙ ĥ_t.
    Shapes: x (..., n), h (..., m) -> (..., broadcast batch, m), same dtype.
    Range: |h_t| ≤ max(|h_{t−1}|, 1) entrywise, up to rounding (a convex
    combination of h_{t−1} and ĥ_t ∈ [−1, 1]). Edges: see the module docstring.
    """
    # Note: the book (and Cho et al. 2014) reset the state BEFORE the matrix,
    # ĥ_t = tanh(W_h x_t + U_h (r_t ⊙ h_{t−1}) + b_h). We follow PyTorch/cuDNN,
    # r_t ⊙ (U_h h_{t−1} + b_hn), so that ``gru_from_torch`` reproduces
    # torch.nn.GRUCell exactly. The two variants are different functions.
    p = check.instance(params, GRUParameters, "params")
    x_t, (h_prev,) = _input_and_state(x, {"h": h}, p.hidden_size, p.dtype, p.input_size)
    h_new = _gru_step(x_t, h_prev, p)
    if not np.isfinite(h_new).all():
        raise _overflowed("h")
    return h_new


def _lstm_run(
    sequence: FloatArray, h: FloatArray, c: FloatArray, params: "LSTMParameters"
) -> tuple[FloatArray, tuple[FloatArray, FloatArray]]:
    """The LSTM over T ≥ 1 steps (the kernel): hs (..., T, m) and the final (h, c)."""
    outputs: list[FloatArray] = []
    for t in range(sequence.shape[-2]):
        h, c = _lstm_step(sequence[..., t, :], h, c, params)
        outputs.append(h)
    hs: FloatArray = np.stack(outputs, axis=-2)
    return hs, (h, c)


def lstm_sequence(
    xs: FloatArray,
    params: LSTMParameters,
    initial: tuple[FloatArray, FloatArray] | None = None,
) -> tuple[FloatArray, tuple[FloatArray, FloatArray]]:
    r"""Run the LSTM over a sequence: all hidden states h_1..h_T and the final (h_T, c_T).

    Book: §6.5 (LSTM unrolled over time), as the encoder/decoder of §8.2.1.
    Shapes: xs (..., T, n) (row t is the book's x_t); initial (h_0, c_0), each
    broadcastable to (..., m), default zeros (errors name ``initial[0]``,
    ``initial[1]``) -> hs (..., T, m) and (h_T, c_T) (..., m). T = 0 gives hs
    (..., 0, m) and the final state = the initial state (broadcast to the batch
    shape): the empty sequence leaves the state unchanged. Other zero-size
    axes are a ValueError; overflow as in the module docstring.
    """
    p = check.instance(params, LSTMParameters, "params")
    sequence = check.float_array(xs, "xs", min_ndim=2)
    if sequence.shape[-1] == 0 or math.prod(sequence.shape[:-2]) == 0:
        raise ValueError(
            f"xs must not have a zero-size batch or feature axis (only T may be 0), "
            f"got shape {sequence.shape}"
        )
    batch = sequence.shape[:-2]
    m = p.hidden_size
    step_input = np.zeros((*batch, sequence.shape[-1]), dtype=sequence.dtype)
    if initial is None:
        zeros = np.zeros((*batch, m), dtype=sequence.dtype)
        given: dict[str, object] = {"h": zeros, "c": zeros}
    else:
        h_given, c_given = check.pair(initial, "initial")
        given = {"initial[0]": h_given, "initial[1]": c_given}
    _, (h, c) = _input_and_state(step_input, given, m, p.dtype, p.input_size, "xs")
    if sequence.shape[-2] == 0:
        shape = (*_leading_broadcast(x=step_input, h=h, c=c), m)
        empty = np.zeros((*shape[:-1], 0, m), dtype=sequence.dtype)
        return empty, (np.broadcast_to(h, shape).copy(), np.broadcast_to(c, shape).copy())
    hs, (h_last, c_last) = _lstm_run(sequence, h, c, p)
    if not (np.isfinite(hs).all() and np.isfinite(c_last).all()):
        raise _overflowed("initial", "xs")
    return hs, (h_last, c_last)


# --------------------------------------------------------------------------- PyTorch layout

_LSTM_TORCH_ORDER = ("input_gate", "forget_gate", "candidate", "output_gate")  # i, f, g, o
_GRU_TORCH_ORDER = ("reset_gate", "update_gate", "candidate")  # r, z, n


def lstm_to_torch(params: LSTMParameters) -> TorchRNNWeights:
    r"""The LSTM's parameters in ``torch.nn.LSTMCell``'s layout.

    Book: §6.5 (LSTM) -> PyTorch's stacked blocks i, f, g, o.
    Shapes: W's stacked into weight_ih (4m, n), U's into weight_hh (4m, m);
    the book's single bias goes into ``bias_ih`` and ``bias_hh`` is all zeros.
    Round trip: ``lstm_from_torch(lstm_to_torch(p))`` equals p exactly
    (b + 0 = b in floating point).
    """
    check.instance(params, LSTMParameters, "params")
    gates = [getattr(params, name) for name in _LSTM_TORCH_ORDER]
    bias: FloatArray = np.concatenate([g.b for g in gates])
    return TorchRNNWeights(
        weight_ih=np.concatenate([g.W for g in gates], axis=0),
        weight_hh=np.concatenate([g.U for g in gates], axis=0),
        bias_ih=bias,
        bias_hh=np.zeros_like(bias),
    )


def _bias_sum(bias_ih: FloatArray, bias_hh: FloatArray) -> FloatArray:
    with np.errstate(over="ignore"):
        total: FloatArray = bias_ih + bias_hh
    if not np.isfinite(total).all():
        raise ValueError(
            "weights has bias_ih + bias_hh overflowing its dtype; keep each sum within its range"
        )
    return total


def lstm_from_torch(weights: TorchRNNWeights) -> LSTMParameters:
    r"""The book's LSTM parameters from ``torch.nn.LSTMCell``'s layout.

    Book: §6.5 (LSTM). Each gate's single bias is b = b_ih + b_hh: the two
    biases only ever appear as a sum inside the gate's pre-activation, so
    this is the same function (up to the rounding of that sum).
    Shapes: weight_ih (4m, n), weight_hh (4m, m), bias_ih, bias_hh (4m,),
    blocks in the order i, f, g, o.
    Round trip: ``lstm_to_torch(lstm_from_torch(w))`` has the same weights
    exactly and bias_ih' = b_ih + b_hh, bias_hh' = 0 — exact up to the bias
    split (the sums bias_ih + bias_hh agree exactly).
    """
    check.instance(weights, TorchRNNWeights, "weights")
    m = weights.blocks("LSTM", 4)
    bias = _bias_sum(weights.bias_ih, weights.bias_hh)
    gates = {
        name: GateParameters(
            W=weights.weight_ih[k * m : (k + 1) * m].copy(),
            U=weights.weight_hh[k * m : (k + 1) * m].copy(),
            b=bias[k * m : (k + 1) * m].copy(),
        )
        for k, name in enumerate(_LSTM_TORCH_ORDER)
    }
    return LSTMParameters(**gates)


def gru_to_torch(params: GRUParameters) -> TorchRNNWeights:
    r"""The GRU's parameters in ``torch.nn.GRUCell``'s layout.

    Book: §6.5 (GRU, PyTorch variant; see ``gru_cell``) -> blocks r, z, n.
    Shapes: weight_ih (3m, n), weight_hh (3m, m). ``bias_ih`` holds the
    gates' biases b_r, b_z, b_h; ``bias_hh`` is zero in the r and z blocks and
    holds ``candidate_recurrent_bias`` (b_hn) in the n block.
    Round trip: ``gru_from_torch(gru_to_torch(p))`` equals p exactly.
    """
    check.instance(params, GRUParameters, "params")
    gates = [getattr(params, name) for name in _GRU_TORCH_ORDER]
    zeros = np.zeros(2 * params.hidden_size, dtype=params.dtype)
    return TorchRNNWeights(
        weight_ih=np.concatenate([g.W for g in gates], axis=0),
        weight_hh=np.concatenate([g.U for g in gates], axis=0),
        bias_ih=np.concatenate([g.b for g in gates]),
        bias_hh=np.concatenate([zeros, params.candidate_recurrent_bias]),
    )


def gru_from_torch(weights: TorchRNNWeights) -> GRUParameters:
    r"""The GRU's parameters from ``torch.nn.GRUCell``'s layout.

    Book: §6.5 (GRU, PyTorch variant; see ``gru_cell``). The r and z gates'
    biases merge, b = b_ih + b_hh; the candidate keeps two: b_h = b_in and
    ``candidate_recurrent_bias`` = b_hn, because b_hn is multiplied by r_t.
    Shapes: weight_ih (3m, n), weight_hh (3m, m), biases (3m,), blocks r, z, n.
    Round trip: ``gru_to_torch(gru_from_torch(w))`` has the same weights and
    the same n-block biases exactly; in the r and z blocks bias_ih' = b_ih +
    b_hh and bias_hh' = 0 (exact up to the bias split).
    """
    check.instance(weights, TorchRNNWeights, "weights")
    m = weights.blocks("GRU", 3)
    merged = _bias_sum(weights.bias_ih, weights.bias_hh)
    biases = (merged[:m], merged[m : 2 * m], weights.bias_ih[2 * m :])
    gates = {
        name: GateParameters(
            W=weights.weight_ih[k * m : (k + 1) * m].copy(),
            U=weights.weight_hh[k * m : (k + 1) * m].copy(),
            b=biases[k].copy(),
        )
        for k, name in enumerate(_GRU_TORCH_ORDER)
    }
    return GRUParameters(**gates, candidate_recurrent_bias=weights.bias_hh[2 * m :].copy())


# --------------------------------------------------------------------------- counting


def parameter_count(params: Parameters) -> int:
    r"""The number of learnable numbers in a cell, counted from its arrays' shapes.

    Book: exercise 8-1. For ``LSTMParameters`` this is 4m(m + n + 1); for
    ``TorchRNNWeights`` of an LSTM 4m(m + n + 2), of a GRU 3m(m + n + 2); for
    ``GRUParameters`` (PyTorch variant, b_hn kept) 3m(m + n + 1) + m.
    Spec: ``spec.recurrent.lstm_parameter_count`` / ``gru_parameter_count``.
    """
    if not isinstance(params, LSTMParameters | GRUParameters | TorchRNNWeights):
        raise TypeError(
            "params must be LSTMParameters, GRUParameters or TorchRNNWeights, "
            f"got {type(params).__name__}"
        )
    return sum(math.prod(a.shape) for a in params.arrays())


def _sizes_and_biases(
    input_size: object, hidden_size: object, biases_per_gate: object
) -> tuple[int, ...]:
    n = check.positive_int(input_size, "input_size")
    m = check.positive_int(hidden_size, "hidden_size")
    b = check.positive_int(biases_per_gate, "biases_per_gate")
    if b not in (1, 2):
        raise ValueError(f"biases_per_gate must be 1 (the book) or 2 (PyTorch, cuDNN), got {b}")
    return n, m, b


def lstm_parameter_count(
    input_size: IntScalar, hidden_size: IntScalar, *, biases_per_gate: IntScalar = 1
) -> int:
    r"""4m(m + n + b): an LSTM's parameter count with b biases per gate.

    Book: exercise 8-1 (b = 1); PyTorch/cuDNN keep two biases (b = 2).
    Spec: ``spec.recurrent.lstm_parameter_count``.
    """
    n, m, b = _sizes_and_biases(input_size, hidden_size, biases_per_gate)
    return 4 * m * (m + n + b)


def gru_parameter_count(
    input_size: IntScalar,
    hidden_size: IntScalar,
    *,
    biases_per_gate: IntScalar = 1,
    reset_after: bool = False,
) -> int:
    r"""3m(m + n + b) (+ m): a GRU's parameter count with b biases per gate.

    Book: §6.5 (GRU) in the spirit of exercise 8-1. ``reset_after=True`` with
    one bias per gate is the PyTorch variant stored by ``GRUParameters``: it
    needs the extra b_hn, 3m(m + n + 1) + m. With two biases the variants have
    the same count, 3m(m + n + 2).
    Spec: ``spec.recurrent.gru_parameter_count``.
    """
    n, m, b = _sizes_and_biases(input_size, hidden_size, biases_per_gate)
    extra = m if (check.boolean(reset_after, "reset_after") and b == 1) else 0
    return 3 * m * (m + n + b) + extra
