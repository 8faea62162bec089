r"""Conformance checks for LSTM and GRU cells and sequences with PyTorch's semantics.

Book: §6.5 (LSTM, GRU), as used by §8.2.1 and exercise 8-1.
Reference: ``impl.recurrent`` (``lstm_cell``, ``gru_cell``, ``lstm_from_torch``,
``gru_from_torch``) evaluated in float64 on exactly the numbers handed to the
candidate. Tolerance: the forward rounding-error bound of each step derived in
``spec.rounding_error_recurrent`` (Higham's standard model, γ_K), evaluated on
the actual inputs for the candidate's declared precision and propagated over
the sequence (the state's bound of step t is the input bound of step t + 1),
plus the same bound at float64 for the reference's own rounding, times
``SAFETY_FACTOR``.

Calling conventions (the candidate receives and returns NumPy arrays in the
declared precision; ``params`` holds the arrays under PyTorch's state-dict
names, as ``torch.func.functional_call(module, params, (input, hx))`` takes them):

* ``lstm_cell``: ``candidate(input (B, n), (h (B, m), c (B, m)), params) -> (h', c')``,
  params ``weight_ih`` (4m, n), ``weight_hh`` (4m, m), ``bias_ih``, ``bias_hh``
  (4m,) — the biases absent for ``bias=False``; gate blocks i, f, g, o.
* ``gru_cell``: ``candidate(input (B, n), h (B, m), params) -> h'``; blocks r, z, n,
  n = tanh(W_in x + b_in + r ⊙ (W_hn h + b_hn)) (PyTorch's "reset after").
* ``lstm``: ``candidate(input (T, B, n), (h0 (1, B, r), c0 (1, B, m)), params)
  -> (output (T, B, r), (h_n (1, B, r), c_n (1, B, m)))`` with ``weight_ih_l0``,
  ``weight_hh_l0`` (4m, r), ``bias_ih_l0``, ``bias_hh_l0`` and, with
  ``proj_size`` p > 0, ``weight_hr_l0`` (p, m); r = p if p > 0 else m.
* ``gru``: ``candidate(input (T, B, n), h0 (1, B, m), params) -> (output, h_n)``.

Checks (ids ``KIND.NAME``): ``agrees`` (with biases), ``no_bias`` (``bias=False``),
``proj_size`` (LSTM sequences), ``batch_consistency`` (a batch equals its rows
called one at a time, within the two bounds), ``ranges`` (|h| ≤ 1 for the
unprojected LSTM, |h_j| ≤ Σ_k |W_hr[j, k]| with a projection; |h'| ≤ max(|h|, 1)
for the GRU — laws of the cell, not of our reference), ``final_state``
(sequences: h_n is exactly the last output), ``parameter_count`` (for adapters
that can count a module's parameters: the closed forms of
``spec.rounding_error_recurrent``, proj_size and bias=False included).
"""

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
from hypothesis import strategies as st
from numpy.typing import NDArray

from impl import recurrent as reference
from impl.testing import bounds
from impl.testing.registry import Kind, RunConfig, register_kind
from impl.testing.report import CheckResult, Failure
from impl.testing.runner import CheckRun, call, compare, require
from impl.testing.tolerances import Precision, precision_dtype, round_to, unit_roundoff
from spec import rounding_error_recurrent as rules

__all__ = [
    "RECURRENT_KINDS",
    "SAFETY_FACTOR",
    "RecurrentCase",
    "RecurrentKind",
    "RecurrentMargin",
    "RecurrentShape",
    "StepBound",
    "check_gru",
    "check_gru_cell",
    "check_lstm",
    "check_lstm_cell",
    "gru_reference",
    "gru_step_bound",
    "lstm_reference",
    "lstm_step_bound",
    "recurrent_cases",
    "recurrent_margins",
    "sequence_bound",
]

F64 = NDArray[np.float64]
RecurrentKind = Literal["lstm_cell", "lstm", "gru_cell", "gru"]
RECURRENT_KINDS: tuple[RecurrentKind, ...] = ("lstm_cell", "lstm", "gru_cell", "gru")

SAFETY_FACTOR = bounds.SAFETY_FACTOR
"""Multiplies the derived bound (the kit's common factor, ``impl.testing.bounds``). The bound
is a worst case under the standard model; the factor covers evaluation orders it does not
enumerate (fused gate kernels) at the cost of one bit of sharpness."""

ACTIVATION_ROUNDINGS = 3
"""σ(z) = 1/(1 + e^{−z}) rounds three times after its exp (the add, the division, the store);
a library tanh rounds fewer. So σ and tanh are within (``ELEMENTARY_ULPS`` + 3)·u relative."""


def _function_ulps(precision: Precision) -> float:
    """c of γ_c for σ and tanh in ``precision``: the kit's exp accuracy + the roundings after it."""
    return bounds.ELEMENTARY_ULPS[precision] + ACTIVATION_ROUNDINGS


# --------------------------------------------------------------------------- cases


@dataclass(frozen=True)
class RecurrentShape:
    """Sizes of a case: input n, hidden m, projection p (0: none), batch B, steps T, biases."""

    input_size: int
    hidden_size: int
    proj_size: int = 0
    batch: int = 1
    steps: int = 1
    bias: bool = True

    @property
    def state_size(self) -> int:
        """r, the width of h: p when projecting, else m."""
        return self.proj_size if self.proj_size else self.hidden_size


@dataclass(frozen=True)
class RecurrentCase:
    """One drawn example, all arrays float64 holding numbers exact in the declared precision.

    ``x`` is (B, n) for a cell and (T, B, n) for a sequence; ``h`` (B, r) and
    ``c`` (B, m) the initial state (``c`` None for a GRU); ``params`` the
    arrays under PyTorch's names (suffix ``_l0`` for sequences).
    """

    kind: RecurrentKind
    shape: RecurrentShape
    x: F64
    h: F64
    c: F64 | None
    params: dict[str, F64] = field(default_factory=dict)

    def inputs(self) -> dict[str, object]:
        """The case as the failure report prints it."""
        shown: dict[str, object] = {"kind": self.kind, "shape": self.shape, "input": self.x}
        shown["h0"] = self.h
        if self.c is not None:
            shown["c0"] = self.c
        return {**shown, **self.params}


def _gates(kind: RecurrentKind) -> int:
    return 4 if kind.startswith("lstm") else 3


def _draw_case(
    kind: RecurrentKind, shape: RecurrentShape, seed: int, precision: Precision
) -> RecurrentCase:
    """Draw inputs and PyTorch-initialised parameters, rounded to the precision."""
    rng = np.random.default_rng(seed)
    n, m, r, B = shape.input_size, shape.hidden_size, shape.state_size, shape.batch
    bound = 1.0 / math.sqrt(m)  # PyTorch's U(−1/√m, 1/√m) initialisation
    g = _gates(kind)
    suffix = "" if kind.endswith("cell") else "_l0"

    def q(a: F64) -> F64:
        return round_to(a, precision)

    params = {
        f"weight_ih{suffix}": q(rng.uniform(-bound, bound, (g * m, n))),
        f"weight_hh{suffix}": q(rng.uniform(-bound, bound, (g * m, r))),
    }
    if shape.bias:
        params[f"bias_ih{suffix}"] = q(rng.uniform(-bound, bound, g * m))
        params[f"bias_hh{suffix}"] = q(rng.uniform(-bound, bound, g * m))
    if shape.proj_size:
        params[f"weight_hr{suffix}"] = q(rng.uniform(-bound, bound, (shape.proj_size, m)))
    x_shape = (B, n) if kind.endswith("cell") else (shape.steps, B, n)
    x = q(rng.normal(0.0, 1.0, x_shape))
    h = q(rng.uniform(-1.0, 1.0, (B, r)))
    c = q(rng.normal(0.0, 1.0, (B, m))) if kind.startswith("lstm") else None
    return RecurrentCase(kind, shape, x, h, c, params)


def recurrent_cases(
    kind: RecurrentKind,
    precision: Precision,
    *,
    bias: bool | None = True,
    projection: bool = False,
    fixed: RecurrentShape | None = None,
) -> st.SearchStrategy[RecurrentCase]:
    """Hypothesis cases for a kind: small sizes (shrinking to 1), a seed for the values.

    ``bias`` None draws both; ``projection`` draws 1 ≤ p < m (LSTM sequences);
    ``fixed`` pins the sizes (a module with its own sizes) and draws batch/steps.
    """

    def build(
        n: int, m: int, p_fraction: float, batch: int, steps: int, with_bias: bool, seed: int
    ) -> RecurrentCase:
        if fixed is not None:
            n, m, with_bias = fixed.input_size, fixed.hidden_size, fixed.bias
            p = fixed.proj_size
        else:
            p = min(m - 1, max(1, int(p_fraction * m))) if projection and m > 1 else 0
        shape = RecurrentShape(n, m, p, batch, steps, with_bias)
        return _draw_case(kind, shape, seed, precision)

    bias_strategy = st.booleans() if bias is None else st.just(bias)
    return st.builds(
        build,
        st.integers(1, 6),
        st.integers(2 if projection else 1, 8),
        st.floats(0.0, 1.0),
        st.integers(1, 3),
        st.integers(1, 5),
        bias_strategy,
        st.integers(0, 2**32 - 1),
    )


# --------------------------------------------------------------------------- reference


def _torch_weights(params: Mapping[str, F64], suffix: str, m: int, g: int) -> Any:
    zeros = np.zeros(g * m)
    w_hh = params[f"weight_hh{suffix}"]
    if w_hh.shape[1] != m:  # projection: pad U to (g·m, m), h is padded with zeros to match
        w_hh = np.concatenate([w_hh, np.zeros((g * m, m - w_hh.shape[1]))], axis=1)
    return reference.TorchRNNWeights(
        weight_ih=params[f"weight_ih{suffix}"],
        weight_hh=w_hh,
        bias_ih=params.get(f"bias_ih{suffix}", zeros),
        bias_hh=params.get(f"bias_hh{suffix}", zeros),
    )


def lstm_reference(case: RecurrentCase) -> tuple[F64, F64, F64]:
    """float64 reference (hs (T, B, r), h_T (B, r), c_T (B, m)) via ``impl.recurrent``.

    With a projection (p > 0), h (p wide) is padded with zeros to m and U with
    zero columns, so ``impl.recurrent.lstm_cell`` computes the gates exactly
    as PyTorch's (the padding adds exact zeros); its h = o ⊙ tanh(c) is then
    projected, h ← W_hr h.
    """
    s = case.shape
    m, p = s.hidden_size, s.proj_size
    suffix = "" if case.kind.endswith("cell") else "_l0"
    params = reference.lstm_from_torch(_torch_weights(case.params, suffix, m, 4))
    xs = case.x[None] if case.kind.endswith("cell") else case.x
    h: F64 = case.h
    assert case.c is not None
    c: F64 = case.c
    outputs = []
    for t in range(xs.shape[0]):
        h_in = np.concatenate([h, np.zeros((h.shape[0], m - h.shape[1]))], axis=1) if p else h
        h_full, c_new = reference.lstm_cell(xs[t], (h_in, c), params)
        c = c_new.astype(np.float64)
        h = (h_full @ case.params[f"weight_hr{suffix}"].T if p else h_full).astype(np.float64)
        outputs.append(h)
    return np.stack(outputs), h, c


def gru_reference(case: RecurrentCase) -> tuple[F64, F64]:
    """float64 reference (hs (T, B, m), h_T (B, m)) via ``impl.recurrent.gru_cell``."""
    m = case.shape.hidden_size
    suffix = "" if case.kind.endswith("cell") else "_l0"
    params = reference.gru_from_torch(_torch_weights(case.params, suffix, m, 3))
    xs = case.x[None] if case.kind.endswith("cell") else case.x
    h: F64 = case.h
    outputs = []
    for t in range(xs.shape[0]):
        h = reference.gru_cell(xs[t], h, params).astype(np.float64)
        outputs.append(h)
    return np.stack(outputs), h


# --------------------------------------------------------------------------- bounds


@dataclass(frozen=True)
class StepBound:
    """Values of a step (float64) and bounds on a candidate's deviation from them."""

    h: F64
    c: F64 | None
    error_h: F64
    error_c: F64 | None


def _sigmoid(z: F64) -> F64:
    result: F64 = 0.5 * (1.0 + np.tanh(0.5 * z))
    return result


def _sigmoid_slope(z: F64) -> F64:
    s = _sigmoid(z)
    result: F64 = s * (1.0 - s)
    return result


def _tanh_slope(z: F64) -> F64:
    t = np.tanh(z)
    result: F64 = 1.0 - t * t
    return result


def _lipschitz(slope: Callable[[F64], F64], z: F64, halfwidth: F64) -> F64:
    """sup of an even, unimodal slope (σ', tanh') on [z − w, z + w]: its value nearest 0."""
    return slope(np.maximum(np.abs(z) - halfwidth, 0.0))


def _activation(
    z: F64, ez: F64, ez64: F64, u: float, ulps: float, kind: Literal["sigmoid", "tanh"]
) -> tuple[F64, F64]:
    """σ(z) or tanh(z) and the bound on a computed value from ẑ = z ± e_z.

    The bound is capped at the width of the function's range (1 for σ ∈ [0, 1],
    2 for tanh ∈ [−1, 1]): a correct kernel's σ and tanh stay in their ranges in
    floating point (rounding is monotone), so no error can exceed that width.
    Without the cap the linear bound grows without limit over long bfloat16
    sequences (and overflowed to inf once, which would have passed anything).
    """
    if kind == "sigmoid":
        value, slope, width = _sigmoid(z), _sigmoid_slope, 1.0
    else:
        value, slope, width = np.tanh(z), _tanh_slope, 2.0
    lipschitz = _lipschitz(slope, z, ez + ez64)
    error: F64 = np.minimum(rules.function_error(lipschitz, ez, np.abs(value), ulps, u), width)
    return value, error


def _affine(
    x: F64, h: F64, eh: F64, w_ih: F64, w_hh: F64, biases: list[F64]
) -> tuple[F64, F64, F64]:
    """z = W x + U h + Σ b, Σ|·| of its terms, Σ|U| e_h."""
    z: F64 = x @ w_ih.T + h @ w_hh.T + sum(biases, np.zeros(w_ih.shape[0]))
    absolute: F64 = np.abs(x) @ np.abs(w_ih).T + np.abs(h) @ np.abs(w_hh).T
    absolute = absolute + sum((np.abs(b) for b in biases), np.zeros(w_ih.shape[0]))
    propagated: F64 = eh @ np.abs(w_hh).T
    return z, absolute, propagated


def lstm_step_bound(
    x: F64,
    h: F64,
    c: F64,
    eh: F64,
    ec: F64,
    params: Mapping[str, F64],
    suffix: str,
    u: float,
    ulps: float,
) -> StepBound:
    """Bound on one LSTM step computed in precision u from a state off by (e_h, e_c).

    Pre-activations: ``dot_error`` with K = n + r + (number of biases);
    gates: ``function_error`` with σ' or tanh' sharpened on the interval;
    c' = f c + i g: ``product_error`` twice and ``sum_error``; h̃ = o tanh(c'):
    ``function_error`` and ``product_error``; projection: ``dot_error`` with K = m.
    """
    w_ih, w_hh = params[f"weight_ih{suffix}"], params[f"weight_hh{suffix}"]
    biases = [params[k] for k in (f"bias_ih{suffix}", f"bias_hh{suffix}") if k in params]
    m = w_hh.shape[0] // 4
    terms = rules.lstm_gate_terms(w_ih.shape[1], w_hh.shape[1], len(biases))
    z, absolute, propagated = _affine(x, h, eh, w_ih, w_hh, biases)
    ez: F64 = rules.dot_error(absolute, propagated, terms, u)
    ez64: F64 = rules.dot_error(absolute, 0.0 * absolute, terms, unit_roundoff("float64"))
    blocks = [slice(k * m, (k + 1) * m) for k in range(4)]  # i, f, g, o
    (i, ei), (f, ef), (g, eg), (o, eo) = (
        _activation(z[..., b], ez[..., b], ez64[..., b], u, ulps, "tanh" if k == 2 else "sigmoid")
        for k, b in enumerate(blocks)
    )
    e_fc = rules.product_error(np.abs(f), ef, np.abs(c), ec, u)
    e_ig = rules.product_error(np.abs(i), ei, np.abs(g), eg, u)
    c_new: F64 = f * c + i * g
    ec_new: F64 = rules.sum_error(np.abs(f * c), e_fc, np.abs(i * g), e_ig, u)
    ec64: F64 = 8 * unit_roundoff("float64") * (np.abs(f * c) + np.abs(i * g) + 1.0)
    tc, etc = _activation(c_new, ec_new, ec64, u, ulps, "tanh")
    h_full: F64 = o * tc
    eh_full: F64 = rules.product_error(np.abs(o), eo, np.abs(tc), etc, u)
    w_hr = params.get(f"weight_hr{suffix}")
    if w_hr is None:
        return StepBound(h_full, c_new, eh_full, ec_new)
    h_new: F64 = h_full @ w_hr.T
    eh_new: F64 = rules.dot_error(np.abs(h_full) @ np.abs(w_hr).T, eh_full @ np.abs(w_hr).T, m, u)
    return StepBound(h_new, c_new, eh_new, ec_new)


def gru_step_bound(
    x: F64, h: F64, eh: F64, params: Mapping[str, F64], suffix: str, u: float, ulps: float
) -> StepBound:
    """Bound on one GRU step (reset after) in precision u from a state off by e_h.

    r, z: ``dot_error`` over both products and both biases (K = n + m + biases);
    W_in x + b_in and W_hn h + b_hn: ``dot_error`` each; r ⊙ (·): ``product_error``;
    their sum: ``sum_error``; tanh: ``function_error``; h' = (1 − z) n + z h:
    ``convex_update_error``.
    """
    w_ih, w_hh = params[f"weight_ih{suffix}"], params[f"weight_hh{suffix}"]
    m = w_hh.shape[0] // 3
    b_ih, b_hh = params.get(f"bias_ih{suffix}"), params.get(f"bias_hh{suffix}")
    zero = np.zeros(3 * m)
    b_ih = zero if b_ih is None else b_ih
    b_hh = zero if b_hh is None else b_hh
    nb = 2 if f"bias_ih{suffix}" in params else 0
    n = w_ih.shape[1]
    u64 = unit_roundoff("float64")
    rz = slice(0, 2 * m)
    z_rz, abs_rz, prop_rz = _affine(x, h, eh, w_ih[rz], w_hh[rz], [b_ih[rz], b_hh[rz]])
    terms = rules.lstm_gate_terms(n, m, nb)
    e_rz: F64 = rules.dot_error(abs_rz, prop_rz, terms, u)
    e_rz64: F64 = rules.dot_error(abs_rz, 0.0 * abs_rz, terms, u64)
    r, er = _activation(z_rz[..., :m], e_rz[..., :m], e_rz64[..., :m], u, ulps, "sigmoid")
    zg, ezg = _activation(z_rz[..., m:], e_rz[..., m:], e_rz64[..., m:], u, ulps, "sigmoid")
    nn_ = slice(2 * m, 3 * m)
    gi: F64 = x @ w_ih[nn_].T + b_ih[nn_]
    abs_gi: F64 = np.abs(x) @ np.abs(w_ih[nn_]).T + np.abs(b_ih[nn_])
    e_gi: F64 = rules.dot_error(abs_gi, 0.0 * gi, n + nb // 2, u)
    gh: F64 = h @ w_hh[nn_].T + b_hh[nn_]
    abs_gh: F64 = np.abs(h) @ np.abs(w_hh[nn_]).T + np.abs(b_hh[nn_])
    e_gh: F64 = rules.dot_error(
        abs_gh,
        eh @ np.abs(w_hh[nn_]).T,
        m + nb // 2,
        u,
    )
    e_rgh = rules.product_error(np.abs(r), er, np.abs(gh), e_gh, u)
    pre: F64 = gi + r * gh
    e_pre: F64 = rules.sum_error(np.abs(gi), e_gi, np.abs(r * gh), e_rgh, u)
    # The float64 reference's own error in the candidate pre-activation (it only widens the
    # interval on which tanh's slope is taken): both dots, the product by r and the sum.
    e_gi64: F64 = rules.dot_error(abs_gi, 0.0 * gi, n + nb // 2, u64)
    e_gh64: F64 = rules.dot_error(abs_gh, 0.0 * gh, m + nb // 2, u64)
    e_r64 = rules.function_error(0.25, e_rz64[..., :m], np.abs(r), _function_ulps("float64"), u64)
    e_rgh64 = rules.product_error(np.abs(r), e_r64, np.abs(gh), e_gh64, u64)
    e_pre64: F64 = rules.sum_error(np.abs(gi), e_gi64, np.abs(r * gh), e_rgh64, u64)
    cand, e_cand = _activation(pre, e_pre, e_pre64, u, ulps, "tanh")
    h_new: F64 = (1.0 - zg) * cand + zg * h
    e_new: F64 = rules.convex_update_error(zg, ezg, np.abs(cand), e_cand, np.abs(h), eh, u)
    return StepBound(h_new, None, e_new, None)


def sequence_bound(case: RecurrentCase, precision: Precision) -> tuple[F64, F64, F64 | None]:
    """Elementwise bounds (on every output (T, B, r), on h_T, on c_T) for the declared precision.

    The candidate's bound (its precision's u) and the reference's own (float64)
    are propagated separately from an exact initial state and added; each step's
    state bound is the next step's input bound.
    """
    suffix = "" if case.kind.endswith("cell") else "_l0"
    xs = case.x[None] if case.kind.endswith("cell") else case.x
    totals: list[F64] = []
    last_h = last_c = None
    for which in (precision, "float64"):
        u, ulps = unit_roundoff(which), _function_ulps(which)
        h, c = case.h, case.c
        eh: F64 = np.zeros_like(h)
        ec: F64 | None = None if c is None else np.zeros_like(c)
        per_step = []
        for t in range(xs.shape[0]):
            if case.kind.startswith("lstm"):
                assert c is not None
                assert ec is not None
                step = lstm_step_bound(xs[t], h, c, eh, ec, case.params, suffix, u, ulps)
            else:
                step = gru_step_bound(xs[t], h, eh, case.params, suffix, u, ulps)
            h, c, eh, ec = step.h, step.c, step.error_h, step.error_c
            per_step.append(eh)
        totals.append(np.stack(per_step))
        last_c = ec if last_c is None or ec is None else last_c + ec
        last_h = eh if last_h is None else last_h + eh
    assert last_h is not None
    outputs: F64 = totals[0] + totals[1]
    return outputs, last_h, last_c


# --------------------------------------------------------------------------- calling


def _to_candidate(a: F64, precision: Precision) -> NDArray[Any]:
    return a.astype(precision_dtype(precision))


def _call(
    candidate: Callable[..., Any], case: RecurrentCase, precision: Precision
) -> tuple[NDArray[Any], NDArray[Any], NDArray[Any] | None]:
    """Call the candidate; return (outputs (T, B, r), h_T (B, r), c_T (B, m) or None).

    A result of another shape fails the law "output shape" here, before any check
    slices or broadcasts it.
    """
    outputs, h_t, c_t = _call_raw(candidate, case, precision)
    s = case.shape
    steps = 1 if case.kind.endswith("cell") else case.x.shape[0]
    expected = [("output", outputs, (steps, s.batch, s.state_size)), ("h", h_t, case.h.shape)]
    if c_t is not None and case.c is not None:
        expected.append(("c", c_t, case.c.shape))
    for name, array, shape in expected:
        require(
            array.shape == shape,
            "output shape",
            f"{name} has shape {array.shape}, expected {shape}",
            case.inputs(),
        )
    return outputs, h_t, c_t


def _call_raw(
    candidate: Callable[..., Any], case: RecurrentCase, precision: Precision
) -> tuple[NDArray[Any], NDArray[Any], NDArray[Any] | None]:
    x = _to_candidate(case.x, precision)
    h = _to_candidate(case.h, precision)
    params = {k: _to_candidate(v, precision) for k, v in case.params.items()}
    inputs = case.inputs()
    if case.kind == "lstm_cell":
        assert case.c is not None
        got = call(candidate, inputs, x, (h, _to_candidate(case.c, precision)), params)
        h_new, c_new = _pair(got, "(h', c')", inputs)
        return h_new[None], h_new, c_new
    if case.kind == "gru_cell":
        h_new = np.asarray(call(candidate, inputs, x, h, params))
        return h_new[None], h_new, None
    if case.kind == "lstm":
        assert case.c is not None
        hx = (h[None], _to_candidate(case.c, precision)[None])
        output, state = _pair(
            call(candidate, inputs, x, hx, params), "(output, (h_n, c_n))", inputs
        )
        h_n, c_n = _pair(state, "(h_n, c_n)", inputs)
        return output, _squeeze_layer(h_n, inputs), _squeeze_layer(c_n, inputs)
    output, h_n = _pair(call(candidate, inputs, x, h[None], params), "(output, h_n)", inputs)
    return output, _squeeze_layer(h_n, inputs), None


def _pair(value: object, what: str, inputs: Mapping[str, object]) -> tuple[Any, Any]:
    require(
        isinstance(value, tuple | list) and len(value) == 2,
        "output structure",
        f"the candidate must return a pair {what}, got {type(value).__name__}",
        inputs,
    )
    assert isinstance(value, tuple | list)
    first, second = value
    return (first if isinstance(first, tuple) else np.asarray(first)), (
        second if isinstance(second, tuple) else np.asarray(second)
    )


def _squeeze_layer(a: NDArray[Any], inputs: Mapping[str, object]) -> NDArray[Any]:
    require(
        a.ndim == 3 and a.shape[0] == 1,
        "output shape",
        f"a final state must be (num_layers·directions = 1, B, ·), got shape {a.shape}",
        inputs,
    )
    squeezed: NDArray[Any] = a[0]
    return squeezed


def _how(precision: Precision, safety: float) -> str:
    return (
        f"{safety:g} × (step bound in {precision}, u = {unit_roundoff(precision):.3g}, + the "
        "float64 reference's), propagated over the steps: γ_K for the K = n + r + biases terms "
        "of each gate, σ/tanh within "
        f"{_function_ulps(precision):g}u and their slope on the interval, γ-rules for the products "
        "(spec.rounding_error_recurrent)"
    )


def _agreement(
    candidate: Callable[..., Any], case: RecurrentCase, precision: Precision, safety: float
) -> None:
    outputs, h_t, c_t = _call(candidate, case, precision)
    if case.kind.startswith("lstm"):
        ref_out, ref_h, ref_c = lstm_reference(case)
    else:
        ref_out, ref_h = gru_reference(case)
        ref_c = None
    bound_out, bound_h, bound_c = sequence_bound(case, precision)
    dtype = precision_dtype(precision)
    how, inputs = _how(precision, safety), case.inputs()
    if not case.kind.endswith("cell"):  # a cell's only output is h_t itself
        compare(outputs, ref_out, safety * bound_out, inputs=inputs, how=how, dtype=dtype)
    compare(h_t, ref_h, safety * bound_h, inputs=inputs, how=how, dtype=dtype)
    if ref_c is not None and c_t is not None and bound_c is not None:
        compare(c_t, ref_c, safety * bound_c, inputs=inputs, how=how, dtype=dtype)


def _batch_consistency(
    candidate: Callable[..., Any], case: RecurrentCase, precision: Precision, safety: float
) -> None:
    """Each batch row, called alone, agrees with the batched call within twice the bound."""
    outputs, _, _ = _call(candidate, case, precision)
    bound_out, _, _ = sequence_bound(case, precision)
    axis = 0 if case.kind.endswith("cell") else 1
    for b in range(case.shape.batch):
        row = RecurrentCase(
            case.kind,
            RecurrentShape(**{**vars(case.shape), "batch": 1}),
            np.take(case.x, [b], axis=axis),
            case.h[b : b + 1],
            None if case.c is None else case.c[b : b + 1],
            case.params,
        )
        single, _, _ = _call(candidate, row, precision)
        compare(
            single,
            outputs[:, b : b + 1].astype(np.float64),
            2 * safety * bound_out[:, b : b + 1],
            inputs=case.inputs(),
            how=f"row {b} alone vs in the batch: 2 × {_how(precision, safety)}",
            law="batch consistency",
        )


def _ranges(
    candidate: Callable[..., Any], case: RecurrentCase, precision: Precision, safety: float
) -> None:
    """LSTM |h| ≤ 1 (h = o ⊙ tanh(c)), projected |h_j| ≤ Σ_k |W_hr[j, k]|; GRU |h'| ≤ max(|h|, 1).

    Each up to the step's bound: a law of the cell, checked without our reference.
    """
    outputs, _, _ = _call(candidate, case, precision)
    bound_out, _, _ = sequence_bound(case, precision)
    got = np.asarray(outputs, dtype=np.float64)
    w_hr = case.params.get("weight_hr_l0")
    if case.kind.startswith("lstm") and w_hr is not None:
        limit: F64 = np.broadcast_to(np.abs(w_hr).sum(axis=-1), bound_out.shape)
        law = "|h_j| ≤ Σ_k |W_hr[j, k]| (h = W_hr (o ⊙ tanh(c)))"
    elif case.kind.startswith("lstm"):
        limit = np.ones_like(bound_out)
        law = "|h| ≤ 1 (h = o ⊙ tanh(c))"
    else:
        previous = np.concatenate([case.h[None], got[:-1]], axis=0)
        limit = np.maximum(np.abs(previous), 1.0)
        law = "|h'| ≤ max(|h|, 1) (a convex combination of h and tanh(·))"
    excess = np.abs(got) - limit - safety * bound_out
    require(
        not got.size or bool(np.all(excess <= 0)),
        law,
        f"largest |h| beyond its limit by {float(np.max(excess)):.3g}",
        case.inputs(),
    )


def _final_state(
    candidate: Callable[..., Any], case: RecurrentCase, precision: Precision, safety: float
) -> None:
    """h_n is exactly the last output (one layer, one direction)."""
    del safety
    outputs, h_t, _ = _call(candidate, case, precision)
    require(
        outputs.shape[0] == case.x.shape[0] and np.array_equal(outputs[-1], h_t),
        "h_n = output[-1]",
        "the final hidden state is not exactly the last step's output",
        case.inputs(),
    )


# --------------------------------------------------------------------------- margins


@dataclass(frozen=True)
class RecurrentMargin:
    """Bound vs observed error of a candidate over many random cases (no safety factor).

    ``worst_ratio`` = max over all entries of |candidate − reference| / bound
    (≤ 1: the bound is honest); ``largest_error`` the largest |difference| seen;
    ``bound_at_largest`` the bound at that entry; ``factor`` =
    bound_at_largest / largest_error (how loose the bound is where it matters most);
    ``error_at_worst``/``bound_at_worst``: the entry where error/bound is largest.
    """

    kind: str
    precision: str
    cases: int
    worst_ratio: float
    largest_error: float
    bound_at_largest: float
    error_at_worst: float = 0.0
    bound_at_worst: float = 0.0

    @property
    def factor(self) -> float:
        """bound / error at the entry with the largest error (∞ if no error was seen)."""
        return self.bound_at_largest / self.largest_error if self.largest_error else math.inf

    def row(self) -> str:
        """One line of the margins table."""
        return (
            f"{self.kind:9} {self.precision:8} {self.cases:6d} cases  largest error "
            f"{self.largest_error:.3e}  bound there {self.bound_at_largest:.3e}  "
            f"(factor {self.factor:.3g})  worst error/bound {self.worst_ratio:.3g}"
        )


def recurrent_margins(
    candidate: Callable[..., Any],
    kind: RecurrentKind,
    precision: Precision,
    *,
    cases: int = 200,
    seed: int = 0,
) -> RecurrentMargin:
    """Measure a candidate's error against the derived bound on ``cases`` random cases.

    Sizes n ∈ [1, 16], m ∈ [1, 32], batch ∈ [1, 4], steps ∈ [1, 8] (LSTM
    sequences: a projection half the time, biases half the time), values as in
    the checks; one seeded Generator draws everything.
    """
    rng = np.random.default_rng(seed)
    worst, largest, bound_there, error_worst, bound_worst = 0.0, 0.0, 0.0, 0.0, 0.0
    for _ in range(cases):
        m = int(rng.integers(1, 33))
        p = int(rng.integers(1, m)) if kind == "lstm" and m > 1 and rng.random() < 0.5 else 0
        shape = RecurrentShape(
            input_size=int(rng.integers(1, 17)),
            hidden_size=m,
            proj_size=p,
            batch=int(rng.integers(1, 5)),
            steps=1 if kind.endswith("cell") else int(rng.integers(1, 9)),
            bias=bool(rng.random() < 0.5),
        )
        case = _draw_case(kind, shape, int(rng.integers(2**32)), precision)
        outputs, _, _ = _call(candidate, case, precision)
        ref = lstm_reference(case)[0] if kind.startswith("lstm") else gru_reference(case)[0]
        bound, _, _ = sequence_bound(case, precision)
        error = np.abs(np.asarray(outputs, dtype=np.float64) - ref)
        ratio = error / bound
        w = int(np.argmax(ratio))
        if float(ratio.flat[w]) > worst:
            worst, error_worst, bound_worst = (
                float(ratio.flat[w]),
                float(error.flat[w]),
                float(bound.flat[w]),
            )
        k = int(np.argmax(error))
        if float(error.flat[k]) > largest:
            largest, bound_there = float(error.flat[k]), float(bound.flat[k])
    return RecurrentMargin(
        kind, precision, cases, worst, largest, bound_there, error_worst, bound_worst
    )


# --------------------------------------------------------------------------- suites

Body = Callable[[Callable[..., Any], RecurrentCase, Precision, float], None]


def _suite(kind: RecurrentKind) -> list[tuple[str, dict[str, Any], Body]]:
    checks: list[tuple[str, dict[str, Any], Body]] = [
        ("agrees", {"bias": True}, _agreement),
        ("no_bias", {"bias": False}, _agreement),
    ]
    if kind == "lstm":
        checks.append(("proj_size", {"bias": None, "projection": True}, _agreement))
    checks += [
        ("batch_consistency", {"bias": True}, _batch_consistency),
        ("ranges", {"bias": None}, _ranges),
    ]
    if not kind.endswith("cell"):
        checks.append(("final_state", {"bias": True}, _final_state))
    return checks


def _run(
    kind: RecurrentKind, candidate: Callable[..., Any], config: RunConfig
) -> list[CheckResult]:
    run = CheckRun(config)
    precision = config.precision
    safety = SAFETY_FACTOR if config.safety is None else config.safety
    fixed: RecurrentShape | None = getattr(candidate, "recurrent_shape", None)
    for name, options, body in _suite(kind):
        if fixed is not None and name == "proj_size" and not fixed.proj_size:
            continue
        if fixed is not None and name == "no_bias" and fixed.bias:
            continue
        strategy = recurrent_cases(kind, precision, fixed=fixed, **options)

        def check(case: RecurrentCase, body: Body = body) -> None:
            body(candidate, case, precision, safety)

        run.check(f"{kind}.{name}", strategy, check)
    counter = getattr(candidate, "parameter_count", None)
    if callable(counter):
        run.record(f"{kind}.parameter_count", _parameter_count_failure(kind, counter))
    return run.results


def _parameter_count_failure(kind: RecurrentKind, counter: Callable[..., int]) -> Failure | None:
    """The module's parameter count equals the closed form (spec) for several configurations."""
    for n, m, p, bias in ((3, 5, 0, True), (3, 5, 2, True), (4, 2, 0, False), (2, 6, 3, False)):
        if p and kind != "lstm":
            continue
        got = counter(input_size=n, hidden_size=m, proj_size=p, bias=bias)
        biases = 2 if bias else 0
        if kind.startswith("lstm"):
            expected = rules.lstm_parameter_count(n, m, p, biases)
        else:
            expected = rules.gru_parameter_count(n, m, biases)
        if got != expected:
            return Failure(
                law="parameter count",
                message=f"{got} parameters, the closed form gives {expected}",
                inputs={"input_size": n, "hidden_size": m, "proj_size": p, "bias": bias},
            )
    return None


def check_lstm_cell(
    candidate: Callable[..., Any], precision: Precision = "float64", **options: Any
) -> list[CheckResult]:
    """Run the ``lstm_cell`` suite (``candidate(input, (h, c), params) -> (h', c')``)."""
    return _run("lstm_cell", candidate, RunConfig(precision=precision, **options))


def check_lstm(
    candidate: Callable[..., Any], precision: Precision = "float64", **options: Any
) -> list[CheckResult]:
    """Run the ``lstm`` suite (``candidate(input, (h0, c0), params) -> (output, (h_n, c_n))``)."""
    return _run("lstm", candidate, RunConfig(precision=precision, **options))


def check_gru_cell(
    candidate: Callable[..., Any], precision: Precision = "float64", **options: Any
) -> list[CheckResult]:
    """Run the ``gru_cell`` suite (``candidate(input, h, params) -> h'``)."""
    return _run("gru_cell", candidate, RunConfig(precision=precision, **options))


def check_gru(
    candidate: Callable[..., Any], precision: Precision = "float64", **options: Any
) -> list[CheckResult]:
    """Run the ``gru`` suite (``candidate(input, h0, params) -> (output, h_n)``)."""
    return _run("gru", candidate, RunConfig(precision=precision, **options))


_SUMMARIES: dict[RecurrentKind, str] = {
    "lstm_cell": "candidate(input (B,n), (h, c), params) -> (h', c'); nn.LSTMCell's state dict",
    "lstm": "candidate(input (T,B,n), (h0, c0), params) -> (output, (h_n, c_n)); nn.LSTM's",
    "gru_cell": "candidate(input (B,n), h, params) -> h'; nn.GRUCell's state dict",
    "gru": "candidate(input (T,B,n), h0, params) -> (output, h_n); nn.GRU's state dict",
}


def _runner(kind: RecurrentKind) -> Callable[[Callable[..., Any], RunConfig], list[Any]]:
    def run(candidate: Callable[..., Any], config: RunConfig) -> list[Any]:
        return _run(kind, candidate, config)

    return run


def _register() -> None:
    for kind in RECURRENT_KINDS:
        ids = tuple(f"{kind}.{name}" for name, _, _ in _suite(kind))
        register_kind(
            Kind(
                kind,
                _SUMMARIES[kind],
                _runner(kind),
                checks=(*ids, f"{kind}.parameter_count"),
                layouts=("TBE",),
            )
        )


_register()
