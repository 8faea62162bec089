"""impl.recurrent_backward: LSTM/GRU step VJPs and BPTT vs finite differences, the spec, PyTorch.

Book: §6.5 (LSTM, GRU) as used by §8.2.1; §6.2 (BPTT).

Finite differences: central differences of the public forward (``impl.recurrent``)
in float64 with h = ε^{1/3} ≈ 6.1e-6; with inputs in [−2, 2], T ≤ 4 and the cells'
bounded activations, |ℓ| ≤ 1e2 and the third derivative along a step M₃ ≤ 1e2,
so the error h²M₃/6 + 2ε|ℓ|/h < 1e-8; ``FD_TOL`` = 1e-6 leaves a factor 100.
"""

from typing import Any

import numpy as np
import pytest
import sympy
from hypothesis import given
from hypothesis import strategies as st

from impl.recurrent import (
    GateParameters,
    GRUParameters,
    LSTMParameters,
    gru_cell,
    gru_to_torch,
    lstm_cell,
    lstm_sequence,
    lstm_to_torch,
)
from impl.recurrent_backward import (
    gru_cell_vjp,
    gru_gradients_to_torch,
    gru_sequence,
    gru_sequence_vjp,
    lstm_cell_vjp,
    lstm_gradients_to_torch,
    lstm_sequence_vjp,
)
from impl.testing.backward import recurrent_gradient_bound
from impl.testing.tolerances import Precision
from spec.recurrent_backward import lstm_bptt

FD_STEP = float(np.finfo(np.float64).eps) ** (1 / 3)
"""Central-difference step (see the module docstring)."""

FD_TOL = 1e-6
"""Absolute tolerance of central differences (derivation in the module docstring)."""

EXACT_REPLAY = 1e-12
"""Two float64 evaluations of the same gradient in a different operation order:
γ_n·magnitude with n ≤ 100 roundings and magnitudes ≤ 10 is ≈ 1e-13; 1e-12 rounds up."""


def numeric_gradient(f: Any, x: np.ndarray) -> np.ndarray:
    """Central differences of a scalar function, entry by entry."""
    grad = np.zeros_like(x)
    for index in np.ndindex(x.shape):
        step = np.zeros_like(x)
        step[index] = FD_STEP
        grad[index] = (f(x + step) - f(x - step)) / (2 * FD_STEP)
    return grad


def _replace_gate(params: Any, field: str, part: str, value: np.ndarray) -> Any:
    gate = getattr(params, field)
    arrays = {"W": gate.W, "U": gate.U, "b": gate.b, part: value}
    return type(params)(**{**params.__dict__, field: GateParameters(**arrays)})


LSTM_FIELDS = ("input_gate", "forget_gate", "output_gate", "candidate")
GRU_FIELDS = ("reset_gate", "update_gate", "candidate")


@given(st.integers(0, 2**32 - 1), st.integers(1, 3), st.integers(1, 3))
def test_lstm_cell_vjp_matches_finite_differences(seed: int, n: int, m: int) -> None:
    """Every input, state and parameter gradient of one LSTM step vs central differences."""
    rng = np.random.default_rng(seed)
    p = LSTMParameters.initialize(rng, input_size=n, hidden_size=m)
    x, h, c = rng.uniform(-2, 2, (2, n)), rng.uniform(-1, 1, (2, m)), rng.uniform(-2, 2, (2, m))
    gh, gc = rng.uniform(-2, 2, (2, m)), rng.uniform(-2, 2, (2, m))
    grads = lstm_cell_vjp(x, (h, c), p, gh, gc)

    def loss(xx: np.ndarray, hh: np.ndarray, cc: np.ndarray, pp: LSTMParameters) -> float:
        h_new, c_new = lstm_cell(xx, (hh, cc), pp)
        return float((h_new * gh).sum() + (c_new * gc).sum())

    np.testing.assert_allclose(
        grads.x, numeric_gradient(lambda a: loss(a, h, c, p), x), atol=FD_TOL
    )
    np.testing.assert_allclose(
        grads.h, numeric_gradient(lambda a: loss(x, a, c, p), h), atol=FD_TOL
    )
    np.testing.assert_allclose(
        grads.c, numeric_gradient(lambda a: loss(x, h, a, p), c), atol=FD_TOL
    )
    for field in LSTM_FIELDS:
        for part in "WUb":
            value = getattr(getattr(p, field), part)

            def f(a: np.ndarray, field: str = field, part: str = part) -> float:
                return loss(x, h, c, _replace_gate(p, field, part, a))

            got = getattr(getattr(grads.params, field), part)
            np.testing.assert_allclose(got, numeric_gradient(f, value), atol=FD_TOL)


@given(st.integers(0, 2**32 - 1), st.integers(1, 3), st.integers(1, 3))
def test_gru_cell_vjp_matches_finite_differences(seed: int, n: int, m: int) -> None:
    """Every input, state and parameter gradient (b_hn included) of one GRU step vs differences."""
    rng = np.random.default_rng(seed)
    p = GRUParameters.initialize(rng, input_size=n, hidden_size=m)
    x, h, gh = rng.uniform(-2, 2, (2, n)), rng.uniform(-1, 1, (2, m)), rng.uniform(-2, 2, (2, m))
    grads = gru_cell_vjp(x, h, p, gh)

    def loss(xx: np.ndarray, hh: np.ndarray, pp: GRUParameters) -> float:
        return float((gru_cell(xx, hh, pp) * gh).sum())

    np.testing.assert_allclose(grads.x, numeric_gradient(lambda a: loss(a, h, p), x), atol=FD_TOL)
    np.testing.assert_allclose(grads.h, numeric_gradient(lambda a: loss(x, a, p), h), atol=FD_TOL)
    for field in GRU_FIELDS:
        for part in "WUb":

            def f(a: np.ndarray, field: str = field, part: str = part) -> float:
                return loss(x, h, _replace_gate(p, field, part, a))

            got = getattr(getattr(grads.params, field), part)
            value = getattr(getattr(p, field), part)
            np.testing.assert_allclose(got, numeric_gradient(f, value), atol=FD_TOL)

    def f_bhn(a: np.ndarray) -> float:
        changed = GRUParameters(p.reset_gate, p.update_gate, p.candidate, a)
        return loss(x, h, changed)

    np.testing.assert_allclose(
        grads.params.candidate_recurrent_bias,
        numeric_gradient(f_bhn, p.candidate_recurrent_bias),
        atol=FD_TOL,
    )


@given(st.integers(0, 2**32 - 1), st.integers(1, 4))
def test_lstm_bptt_matches_finite_differences(seed: int, steps: int) -> None:
    """BPTT over T steps: xs, h_0, c_0 and the forget gate's U against central differences."""
    rng = np.random.default_rng(seed)
    p = LSTMParameters.initialize(rng, input_size=2, hidden_size=3)
    xs = rng.uniform(-2, 2, (2, steps, 2))
    h0, c0 = rng.uniform(-1, 1, (2, 3)), rng.uniform(-1, 1, (2, 3))
    ghs, gh, gc = (
        rng.uniform(-1, 1, (2, steps, 3)),
        rng.uniform(-1, 1, (2, 3)),
        rng.uniform(-1, 1, (2, 3)),
    )
    grads = lstm_sequence_vjp(xs, p, ghs, (h0, c0), (gh, gc))

    def loss(xx: np.ndarray, hh: np.ndarray, cc: np.ndarray, pp: LSTMParameters) -> float:
        hs, (h_t, c_t) = lstm_sequence(xx, pp, (hh, cc))
        return float((hs * ghs).sum() + (h_t * gh).sum() + (c_t * gc).sum())

    np.testing.assert_allclose(
        grads.xs, numeric_gradient(lambda a: loss(a, h0, c0, p), xs), atol=FD_TOL
    )
    np.testing.assert_allclose(
        grads.h0, numeric_gradient(lambda a: loss(xs, a, c0, p), h0), atol=FD_TOL
    )
    np.testing.assert_allclose(
        grads.c0, numeric_gradient(lambda a: loss(xs, h0, a, p), c0), atol=FD_TOL
    )
    numeric = numeric_gradient(
        lambda a: loss(xs, h0, c0, _replace_gate(p, "forget_gate", "U", a)), p.forget_gate.U
    )
    np.testing.assert_allclose(grads.params.forget_gate.U, numeric, atol=FD_TOL)


def test_gru_bptt_matches_finite_differences() -> None:
    """GRU BPTT: xs, h_0 and the candidate's U (inside r ∘ ·) against central differences."""
    rng = np.random.default_rng(3)
    p = GRUParameters.initialize(rng, input_size=2, hidden_size=3)
    xs, h0, ghs = (
        rng.uniform(-2, 2, (2, 4, 2)),
        rng.uniform(-1, 1, (2, 3)),
        rng.uniform(-1, 1, (2, 4, 3)),
    )
    grads = gru_sequence_vjp(xs, p, ghs, h0)

    def loss(xx: np.ndarray, hh: np.ndarray, pp: GRUParameters) -> float:
        return float((gru_sequence(xx, pp, hh) * ghs).sum())

    np.testing.assert_allclose(
        grads.xs, numeric_gradient(lambda a: loss(a, h0, p), xs), atol=FD_TOL
    )
    np.testing.assert_allclose(
        grads.h0, numeric_gradient(lambda a: loss(xs, a, p), h0), atol=FD_TOL
    )
    numeric = numeric_gradient(
        lambda a: loss(xs, h0, _replace_gate(p, "candidate", "U", a)), p.candidate.U
    )
    np.testing.assert_allclose(grads.params.candidate.U, numeric, atol=FD_TOL)


def test_gru_sequence_steps_equal_gru_cell() -> None:
    """gru_sequence is gru_cell applied step by step (the same kernels in the same order)."""
    rng = np.random.default_rng(1)
    p = GRUParameters.initialize(rng, input_size=2, hidden_size=3)
    xs = rng.normal(size=(3, 2))
    h: Any = np.zeros(3)
    hs = gru_sequence(xs, p)
    for t in range(3):
        h = gru_cell(xs[t], h, p)
        np.testing.assert_allclose(hs[t], h, atol=EXACT_REPLAY)


def test_lstm_bptt_matches_spec_lambdified() -> None:
    """lstm_sequence_vjp equals the spec's derivation (unrolled loss, (T, n, m) = (2, 1, 1))."""
    symbols, derived = lstm_bptt(2, 1, 1)
    rng = np.random.default_rng(12)
    p = LSTMParameters.initialize(rng, input_size=1, hidden_size=1)
    xs, h0, c0, ghs = (
        rng.normal(size=(2, 1)),
        rng.normal(size=1),
        rng.normal(size=1),
        rng.normal(size=(2, 1)),
    )
    order = ("input_gate", "forget_gate", "output_gate", "candidate")
    params = [
        v
        for g in order
        for a in (getattr(p, g).W, getattr(p, g).U, getattr(p, g).b)
        for v in a.ravel()
    ]
    values = [*xs.ravel(), *h0, *c0, *ghs.ravel(), *params]
    grads = lstm_sequence_vjp(xs, p, ghs, (h0, c0))
    short = dict(zip(order, "ifoc", strict=True))

    def spec(name: str) -> np.ndarray:
        # σ evaluated from its definition 1/(1 + e^{−x}) (the spec keeps it as an atom).
        sigmoid = {"Sigmoid": lambda x: 1 / (1 + np.exp(-x))}
        function = sympy.lambdify(symbols, derived[name], modules=[sigmoid, "numpy"])
        return np.array(function(*values), dtype=float)

    np.testing.assert_allclose(grads.xs, spec("xs"), atol=EXACT_REPLAY)
    np.testing.assert_allclose(grads.h0, spec("h0").ravel(), atol=EXACT_REPLAY)
    np.testing.assert_allclose(grads.c0, spec("c0").ravel(), atol=EXACT_REPLAY)
    for gate, s in short.items():
        for part in "WUb":
            got = getattr(getattr(grads.params, gate), part)
            np.testing.assert_allclose(
                got, spec(f"{part}{s}").reshape(got.shape), atol=EXACT_REPLAY
            )


@given(st.integers(0, 2**32 - 1), st.floats(-3, 3))
def test_lstm_bptt_is_linear_in_the_upstream_gradient(seed: int, a: float) -> None:
    """BPTT(a·ḡ₁ + ḡ₂) = a·BPTT(ḡ₁) + BPTT(ḡ₂)."""
    rng = np.random.default_rng(seed)
    p = LSTMParameters.initialize(rng, input_size=2, hidden_size=2)
    xs, g1, g2 = rng.normal(size=(3, 2)), rng.normal(size=(3, 2)), rng.normal(size=(3, 2))
    both, one, two = (lstm_sequence_vjp(xs, p, g) for g in (a * g1 + g2, g1, g2))
    np.testing.assert_allclose(both.xs, a * one.xs + two.xs, atol=10 * EXACT_REPLAY)
    np.testing.assert_allclose(
        both.params.forget_gate.W,
        a * one.params.forget_gate.W + two.params.forget_gate.W,
        atol=10 * EXACT_REPLAY,
    )


def _param_arrays(params: Any) -> list[np.ndarray]:
    """Every parameter-gradient array of an LSTM or GRU container, in field order."""
    arrays = []
    for value in params.__dict__.values():
        arrays.extend([value.W, value.U, value.b] if isinstance(value, GateParameters) else [value])
    return arrays


BATCH_SUM = 10 * EXACT_REPLAY
"""A batch's parameter gradient vs the sum of its 6 examples' gradients: the same
products summed in another order, magnitudes ≤ 10 (γ_n·10 with n ≤ 100 is ≈ 1e-12)."""


def test_vjps_treat_batch_axes_as_independent_examples() -> None:
    """Batch axes (..., ·) are examples: over a (2, 3) batch, the input and state
    gradients of each example are those of that example alone (unbatched, m = 3 > 1
    so a gradient counted m times shows), and the parameter gradients are their sum."""
    rng = np.random.default_rng(21)
    n, m, steps, batch = 2, 3, 3, (2, 3)
    lstm = LSTMParameters.initialize(rng, input_size=n, hidden_size=m)
    gru = GRUParameters.initialize(rng, input_size=n, hidden_size=m)
    x, h, c, gh, gc = (rng.uniform(-1, 1, (*batch, w)) for w in (n, m, m, m, m))
    xs, ghs = rng.uniform(-1, 1, (*batch, steps, n)), rng.uniform(-1, 1, (*batch, steps, m))

    def runs(k: tuple[int, ...]) -> dict[str, Any]:
        return {
            "lstm_cell": lstm_cell_vjp(x[k], (h[k], c[k]), lstm, gh[k], gc[k]),
            "gru_cell": gru_cell_vjp(x[k], h[k], gru, gh[k]),
            "lstm_sequence": lstm_sequence_vjp(xs[k], lstm, ghs[k], (h[k], c[k]), (gh[k], gc[k])),
            "gru_sequence": gru_sequence_vjp(xs[k], gru, ghs[k], h[k]),
        }

    whole = runs(())
    examples = {k: runs(k) for k in np.ndindex(batch)}
    for name, grads in whole.items():
        for field, value in grads.__dict__.items():
            if field == "params":
                summed = [
                    sum(parts)
                    for parts in zip(
                        *(_param_arrays(e[name].params) for e in examples.values()), strict=True
                    )
                ]
                for got, want in zip(_param_arrays(value), summed, strict=True):
                    np.testing.assert_allclose(got, want, atol=BATCH_SUM, err_msg=name)
            else:
                for k, e in examples.items():
                    np.testing.assert_allclose(
                        value[k], getattr(e[name], field), atol=EXACT_REPLAY, err_msg=name
                    )


def test_sequence_vjps_default_initial_state_is_zero() -> None:
    """``initial=None`` means h_0 (and c_0) = 0, batched or not: the gradients equal
    those computed with explicit zeros (the same operations, so bit for bit)."""
    rng = np.random.default_rng(22)
    lstm = LSTMParameters.initialize(rng, input_size=2, hidden_size=3)
    gru = GRUParameters.initialize(rng, input_size=2, hidden_size=3)
    for batch in ((), (2,), (2, 2)):
        xs, ghs = rng.normal(size=(*batch, 4, 2)), rng.normal(size=(*batch, 4, 3))
        zero = np.zeros((*batch, 3))
        pairs = (
            (gru_sequence_vjp(xs, gru, ghs), gru_sequence_vjp(xs, gru, ghs, zero)),
            (lstm_sequence_vjp(xs, lstm, ghs), lstm_sequence_vjp(xs, lstm, ghs, (zero, zero))),
        )
        for default, explicit in pairs:
            for field, value in default.__dict__.items():
                if field == "params":
                    got, want = _param_arrays(value), _param_arrays(explicit.params)
                else:
                    got, want = [value], [getattr(explicit, field)]
                for a, b in zip(got, want, strict=True):
                    assert a.shape == b.shape
                    np.testing.assert_array_equal(a, b)


def test_cell_vjps_name_bad_arguments() -> None:
    """A wrong upstream shape or a missing state is a named error."""
    rng = np.random.default_rng(0)
    p = LSTMParameters.initialize(rng, input_size=2, hidden_size=3)
    x, h = np.zeros(2), np.zeros(3)
    with pytest.raises(ValueError, match="grad_h"):
        lstm_cell_vjp(x, (h, h), p, np.zeros(2))
    with pytest.raises(TypeError, match="state"):
        lstm_cell_vjp(x, h, p, np.zeros(3))  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="grad_hs"):
        lstm_sequence_vjp(np.zeros((3, 2)), p, np.zeros((2, 3)))
    # A state of the wrong width names which part and the book's m it must have.
    with pytest.raises(ValueError, match=r"^state\[1\] has 2 features, the cell expects m = 3$"):
        lstm_cell_vjp(x, (h, np.zeros(2)), p, np.zeros(3))


def _torch_layer(torch: Any, cls: Any, weights: Any, n: int, m: int, dtype: Any) -> Any:
    layer = cls(n, m, batch_first=True, dtype=dtype)
    state = dict(
        zip(
            ("weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0"),
            weights.arrays(),
            strict=True,
        )
    )
    layer.load_state_dict({k: torch.tensor(v) for k, v in state.items()})
    return layer


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_lstm_bptt_agrees_with_torch_autograd(dtype: Any) -> None:
    """Every gradient equals ``nn.LSTM``'s autograd in its layout, within the derived bound."""
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(5)
    n, m, batch, steps = 3, 4, 2, 5
    p = LSTMParameters.initialize(rng, input_size=n, hidden_size=m)
    xs, h0, c0 = (
        rng.normal(size=(batch, steps, n)),
        rng.normal(size=(batch, m)),
        rng.normal(size=(batch, m)),
    )
    ghs = rng.normal(size=(batch, steps, m))
    grads = lstm_sequence_vjp(xs, p, ghs, (h0, c0))
    weights = lstm_to_torch(p)
    low = [a.astype(dtype) for a in weights.arrays()]
    layer = _torch_layer(
        torch, torch.nn.LSTM, type(weights)(*low), n, m, getattr(torch, np.dtype(dtype).name)
    )
    tx, th, tc = (torch.tensor(a.astype(dtype), requires_grad=True) for a in (xs, h0, c0))
    out, _ = layer(tx, (th[None], tc[None]))
    out.backward(torch.tensor(ghs.astype(dtype)))
    ours = {"xs": grads.xs, "h0": grads.h0, "c0": grads.c0}
    ours.update(
        zip(
            ("weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0"),
            lstm_gradients_to_torch(grads.params).arrays(),
            strict=True,
        )
    )
    theirs = {"xs": tx.grad.numpy(), "h0": th.grad.numpy(), "c0": tc.grad.numpy()}
    theirs.update(
        {
            k: getattr(layer, k).grad.numpy()
            for k in ("weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0")
        }
    )
    scale = float(
        np.abs(xs).max() * np.abs(weights.weight_ih).sum(axis=1).max()
        + np.abs(weights.weight_hh).sum(axis=1).max()
        + np.abs(weights.bias_ih).max()
    )
    precision: Precision = "float64" if dtype == np.float64 else "float32"
    operations = steps * (4 * m + n + m + batch + 20)
    bound = recurrent_gradient_bound(
        ours, pre_activation_scale=scale, operations=operations, precision=precision
    )
    for name, value in theirs.items():
        assert value.dtype == dtype
        assert (np.abs(value - ours[name]) <= bound[name]).all(), name


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_gru_bptt_agrees_with_torch_autograd(dtype: Any) -> None:
    """Every gradient equals ``nn.GRU``'s autograd in its layout (b_hn in bias_hh's n block)."""
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(8)
    n, m, batch, steps = 3, 4, 2, 5
    p = GRUParameters.initialize(rng, input_size=n, hidden_size=m)
    xs, h0, ghs = (
        rng.normal(size=(batch, steps, n)),
        rng.normal(size=(batch, m)),
        rng.normal(size=(batch, steps, m)),
    )
    grads = gru_sequence_vjp(xs, p, ghs, h0)
    weights = gru_to_torch(p)
    low = [a.astype(dtype) for a in weights.arrays()]
    layer = _torch_layer(
        torch, torch.nn.GRU, type(weights)(*low), n, m, getattr(torch, np.dtype(dtype).name)
    )
    tx, th = (torch.tensor(a.astype(dtype), requires_grad=True) for a in (xs, h0))
    out, _ = layer(tx, th[None])
    out.backward(torch.tensor(ghs.astype(dtype)))
    names = ("weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0")
    ours = {
        "xs": grads.xs,
        "h0": grads.h0,
        **dict(zip(names, gru_gradients_to_torch(grads.params).arrays(), strict=True)),
    }
    theirs = {
        "xs": tx.grad.numpy(),
        "h0": th.grad.numpy(),
        **{k: getattr(layer, k).grad.numpy() for k in names},
    }
    scale = float(
        np.abs(xs).max() * np.abs(weights.weight_ih).sum(axis=1).max()
        + np.abs(weights.weight_hh).sum(axis=1).max()
        + np.abs(weights.bias_ih).max()
        + np.abs(weights.bias_hh).max()
    )
    precision: Precision = "float64" if dtype == np.float64 else "float32"
    bound = recurrent_gradient_bound(
        ours,
        pre_activation_scale=scale,
        operations=steps * (3 * m + n + m + batch + 20),
        precision=precision,
    )
    for name, value in theirs.items():
        assert (np.abs(value - ours[name]) <= bound[name]).all(), name
