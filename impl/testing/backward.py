"""Backward checks: is a candidate's gradient of attention or of an LSTM/GRU cell right?

A candidate backward is either

* a function returning gradients, in the kind's convention on NumPy arrays:
  ``sdpa_backward``: ``fn(query, key, value, grad_output, attn_mask=None,
  is_causal=False, scale=None, enable_gqa=False) -> (d_query, d_key, d_value)``
  on (…, H, L, E) arrays (PyTorch's SDPA signature plus the upstream
  gradient); ``lstm_cell_backward``: ``fn(x, h, c, weight_ih, weight_hh,
  bias_ih, bias_hh, grad_h, grad_c) -> dict`` with the gradients of ``x, h, c``
  and the four PyTorch-layout parameters; ``gru_cell_backward``: the same
  without ``c``/``grad_c``;
* or a differentiable framework function, wrapped by ``torch_autograd_sdpa``
  / ``torch_autograd_lstm_cell`` / ``torch_autograd_gru_cell``, which drive
  autograd (a ``torch.autograd.Function`` with a custom backward is such a
  function too).

Each check draws a case, rounds its inputs to the declared precision, calls
the candidate and compares every gradient with nndl8's float64 VJPs
(``impl.attention_backward``, ``impl.recurrent_backward``) within a derived
tolerance (``sdpa_gradient_bound``, ``recurrent_gradient_bound``), plus the
laws a correct backward obeys on its own: masked keys/values get exactly 0,
a fully masked row gives zero (never NaN) gradients.
"""

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
from hypothesis import strategies as st
from numpy.typing import NDArray

from impl.attention_backward import (
    _check_attention,
    _sdpa_forward,
    _sum_heads,
    _unbroadcast,
    scaled_dot_product_attention_vjp,
)
from impl.recurrent import TorchRNNWeights, gru_from_torch, lstm_from_torch
from impl.recurrent_backward import (
    gru_cell_vjp,
    gru_gradients_to_torch,
    lstm_cell_vjp,
    lstm_gradients_to_torch,
)
from impl.testing.registry import Kind, RunConfig, Target, register_kind, register_target
from impl.testing.report import CheckResult, Failure
from impl.testing.runner import CheckFailed, CheckRun, call, compare, to_float64
from impl.testing.tolerances import Precision, gamma, precision_dtype, round_to, unit_roundoff

__all__ = [
    "BACKWARD_SAFETY",
    "SDPA_BACKWARD_CHECKS",
    "check_gru_cell_backward",
    "check_lstm_cell_backward",
    "check_sdpa_backward",
    "recurrent_gradient_bound",
    "sdpa_gradient_bound",
    "torch_autograd_gru_cell",
    "torch_autograd_lstm_cell",
    "torch_autograd_sdpa",
]

F64 = NDArray[np.floating[Any]]
"""Float arrays (float64 for the reference and the bounds)."""

BACKWARD_SAFETY = 4.0
"""Safety factor on the derived bounds: 2 for the reference's own float64 error
and the candidate's adding (they are of the same size when the candidate is
float64), times 2 for first-order terms dropped from the error expansion."""

GRADIENT_NAMES = ("query", "key", "value")

# --------------------------------------------------------------------------- bounds


def sdpa_gradient_bound(
    query: F64,
    key: F64,
    value: F64,
    grad_output: F64,
    mask: NDArray[Any] | None,
    *,
    scale: float | None,
    is_causal: bool,
    enable_gqa: bool,
    precision: Precision,
) -> dict[str, F64]:
    r"""Entrywise rounding-error bounds for dQ, dK, dV computed in ``precision``.

    Standard model, γ_n = nu/(1 − nu) (Higham Lemma 3.1); magnitudes are the
    same formulas on absolute values (|·|), evaluated in float64:

    * scores S = s·QKᵀ: absolute error ≤ γ_D · A, A = |s|·|Q||K|ᵀ (+ |M|);
    * P = exp(S − max)/Σ: relative error e_P ≤ 2γ_D · max_n A_ln + γ_{S+3}
      per row (the exponent's absolute error becomes exp's relative error;
      S + 3 roundings in the normalisation);
    * dP = dO Vᵀ: absolute error ≤ γ_E · B, B = |dO||V|ᵀ;
    * dS = P ∘ (dP − rowsum(dP ∘ P)): absolute error ≤ e_S · C with
      C = P ∘ (B + rowsum(B ∘ P)) and e_S = 2(e_P + γ_E + γ_S) + 2u;
    * dQ = s dS K: ≤ (e_S + γ_S) |s| C|K|; dK = s dSᵀ Q: ≤ (e_S + γ_L) |s| Cᵀ|Q|;
      dV = Pᵀ dO: ≤ (e_P + γ_L) Pᵀ|dO|; grouped heads add γ_groups.

    Returned bounds are ``BACKWARD_SAFETY`` times these (see its reason).
    """
    inputs = _check_attention(query, key, value, mask, scale, is_causal, enable_gqa)
    _, p, _ = _sdpa_forward(inputs)
    q_abs, k_abs, v_abs = np.abs(inputs.q), np.abs(inputs.k), np.abs(inputs.v)
    s = abs(inputs.scale)
    a = s * (q_abs @ np.swapaxes(k_abs, -1, -2))
    if inputs.additive is not None:
        a = a + np.where(np.isfinite(inputs.additive), np.abs(inputs.additive), 0)
    a = np.where(p > 0, a, 0)
    L, S, D, E = inputs.q.shape[-2], inputs.k.shape[-2], inputs.q.shape[-1], inputs.v.shape[-1]
    u = unit_roundoff(precision)
    e_p = 2 * gamma(D, precision) * a.max(axis=-1, keepdims=True) + gamma(S + 3, precision)
    g_abs = np.abs(grad_output)
    b = g_abs @ np.swapaxes(v_abs, -1, -2)
    c = p * (b + (b * p).sum(axis=-1, keepdims=True))
    e_s = 2 * (e_p + gamma(E, precision) + gamma(S, precision)) + 2 * u
    groups = inputs.groups
    extra = gamma(groups, precision) if groups > 1 else 0.0
    d_q = (e_s + gamma(S, precision)) * s * (c @ k_abs)
    d_k = (e_s.max() + gamma(L, precision) + extra) * s * (np.swapaxes(c, -1, -2) @ q_abs)
    d_v = (e_p.max() + gamma(L, precision) + extra) * (np.swapaxes(p, -1, -2) @ g_abs)
    return {
        "query": BACKWARD_SAFETY * _unbroadcast(d_q, inputs.q.shape),
        "key": BACKWARD_SAFETY * _unbroadcast(_sum_heads(d_k, groups), inputs.key_shape),
        "value": BACKWARD_SAFETY * _unbroadcast(_sum_heads(d_v, groups), inputs.value_shape),
    }


def recurrent_gradient_bound(
    reference: Mapping[str, F64],
    *,
    pre_activation_scale: float,
    operations: int,
    precision: Precision,
) -> dict[str, F64]:
    r"""Normwise bounds for a cell's gradients: γ_n · (1 + a) · ‖ḡ‖_∞ per array, times the safety.

    ``operations`` n counts the roundings on the longest path of the backward
    (matrix products of length 4m or 3m, the input width n, the batch sum, and
    about 20 elementwise products and activations); ``pre_activation_scale``
    a = max |W||x| + |U||h| + |b| is how far a pre-activation's relative error
    γ_n · a spreads through σ and tanh (slopes ≤ 1). Normwise (per array, not
    per entry): a small entry may be judged against the array's largest.
    """
    factor = BACKWARD_SAFETY * gamma(operations, precision) * (1.0 + pre_activation_scale)
    return {
        name: np.full(g.shape, factor * float(np.max(np.abs(g), initial=0.0)))
        for name, g in reference.items()
    }


# --------------------------------------------------------------------------- adapters


def torch_autograd_sdpa(function: Callable[..., Any] | None = None) -> Callable[..., Any]:
    """A ``sdpa_backward`` candidate driving torch autograd through ``function``.

    ``function`` takes PyTorch's SDPA signature (default:
    ``torch.nn.functional.scaled_dot_product_attention``, so PyTorch's own
    backward is what is checked); inputs are converted to tensors of their
    NumPy dtype, the upstream gradient is fed to ``backward``.
    """
    import torch

    forward = torch.nn.functional.scaled_dot_product_attention if function is None else function

    def candidate(
        query: NDArray[Any],
        key: NDArray[Any],
        value: NDArray[Any],
        grad_output: NDArray[Any],
        attn_mask: NDArray[Any] | None = None,
        is_causal: bool = False,
        scale: float | None = None,
        enable_gqa: bool = False,
    ) -> tuple[NDArray[Any], NDArray[Any], NDArray[Any]]:
        q, k, v = (torch.tensor(x, requires_grad=True) for x in (query, key, value))
        mask = None if attn_mask is None else torch.tensor(attn_mask)
        kwargs: dict[str, Any] = {"attn_mask": mask, "is_causal": is_causal, "scale": scale}
        if enable_gqa:
            kwargs["enable_gqa"] = True
        out = forward(q, k, v, **kwargs)
        out.backward(torch.tensor(grad_output))
        grads = tuple(
            np.zeros(x.shape, dtype=x.dtype) if t.grad is None else t.grad.numpy()
            for t, x in ((q, query), (k, key), (v, value))
        )
        return grads[0], grads[1], grads[2]

    return candidate


def _torch_cell_candidate(cell_name: str) -> Callable[..., Any]:
    import torch

    lstm = cell_name == "lstm"

    def candidate(*arrays: NDArray[Any]) -> dict[str, NDArray[Any]]:
        names = ("x", "h", "c") if lstm else ("x", "h")
        states = dict(zip(names, arrays, strict=False))
        weight_ih, weight_hh, bias_ih, bias_hh = arrays[len(names) : len(names) + 4]
        upstream = arrays[len(names) + 4 :]
        n, m = weight_ih.shape[1], weight_hh.shape[1]
        dtype = getattr(torch, np.dtype(weight_ih.dtype).name)
        cell: Any = (torch.nn.LSTMCell if lstm else torch.nn.GRUCell)(n, m, dtype=dtype)
        with torch.no_grad():
            for name, value in zip(
                ("weight_ih", "weight_hh", "bias_ih", "bias_hh"),
                (weight_ih, weight_hh, bias_ih, bias_hh),
                strict=True,
            ):
                getattr(cell, name).copy_(torch.tensor(value))
        t = {k: torch.tensor(v, requires_grad=True) for k, v in states.items()}
        if lstm:
            h_new, c_new = cell(t["x"], (t["h"], t["c"]))
            loss = (h_new * torch.tensor(upstream[0])).sum()
            loss = loss + (c_new * torch.tensor(upstream[1])).sum()
        else:
            loss = (cell(t["x"], t["h"]) * torch.tensor(upstream[0])).sum()
        loss.backward()
        grads = {k: v.grad.numpy() for k, v in t.items() if v.grad is not None}
        for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
            grads[name] = getattr(cell, name).grad.numpy()
        return grads

    return candidate


def torch_autograd_lstm_cell() -> Callable[..., Any]:
    """``lstm_cell_backward`` candidate: autograd through ``torch.nn.LSTMCell``."""
    return _torch_cell_candidate("lstm")


def torch_autograd_gru_cell() -> Callable[..., Any]:
    """``gru_cell_backward`` candidate: autograd through ``torch.nn.GRUCell``."""
    return _torch_cell_candidate("gru")


# --------------------------------------------------------------------------- SDPA cases


@dataclass(frozen=True)
class SdpaCase:
    """One drawn case (float64, already rounded to the candidate's precision)."""

    query: F64
    key: F64
    value: F64
    grad_output: F64
    mask: NDArray[Any] | None
    is_causal: bool
    scale: float | None
    enable_gqa: bool

    def inputs(self) -> dict[str, object]:
        """The arguments, for a report."""
        return {
            "query": self.query,
            "key": self.key,
            "value": self.value,
            "grad_output": self.grad_output,
            "attn_mask": self.mask,
            "is_causal": self.is_causal,
            "scale": self.scale,
            "enable_gqa": self.enable_gqa,
        }


SDPA_BACKWARD_CHECKS = (
    "sdpa_backward.plain",
    "sdpa_backward.bool_mask",
    "sdpa_backward.float_mask",
    "sdpa_backward.causal",
    "sdpa_backward.explicit_scale",
    "sdpa_backward.grouped_query",
    "sdpa_backward.fully_masked_rows",
    "sdpa_backward.masked_keys",
)
"""The checks of the ``sdpa_backward`` kind."""


def _sdpa_cases(variant: str, precision: Precision) -> st.SearchStrategy[SdpaCase]:
    """Cases of one variant: B = 1, H ∈ {1, 2} (2 or 4 query heads if grouped), L ≠ S allowed."""

    @st.composite
    def draw(data: st.DrawFn) -> SdpaCase:
        length = data(st.integers(1, 4))
        memory = data(st.integers(1, 5))
        e_k, e_v = data(st.integers(1, 4)), data(st.integers(1, 4))
        seed = data(st.integers(0, 2**32 - 1))
        rng = np.random.default_rng(seed)
        kv_heads = data(st.integers(1, 2))
        q_heads = kv_heads * (2 if variant == "grouped_query" else 1)

        def arr(*shape: int) -> F64:
            return round_to(rng.uniform(-2, 2, size=shape), precision)

        mask: NDArray[Any] | None = None
        if variant in ("bool_mask", "fully_masked_rows", "masked_keys"):
            allowed = rng.random((length, memory)) < 0.7
            if variant == "fully_masked_rows":
                allowed[rng.integers(length)] = False
            if variant == "masked_keys":
                allowed[:, rng.integers(memory)] = False
            mask = allowed
        elif variant == "float_mask":
            additive = round_to(rng.uniform(-3, 1, size=(length, memory)), precision)
            additive[rng.random((length, memory)) < 0.2] = -np.inf
            mask = additive
        scale = (
            round_to(rng.uniform(0.1, 2.0), precision).item()
            if variant == "explicit_scale"
            else None
        )
        return SdpaCase(
            query=arr(1, q_heads, length, e_k),
            key=arr(1, kv_heads, memory, e_k),
            value=arr(1, kv_heads, memory, e_v),
            grad_output=arr(1, q_heads, length, e_v),
            mask=mask,
            is_causal=variant == "causal",
            scale=scale,
            enable_gqa=variant == "grouped_query",
        )

    return draw()


def _sdpa_reference(case: SdpaCase) -> dict[str, F64]:
    grads = scaled_dot_product_attention_vjp(
        case.query,
        case.key,
        case.value,
        case.grad_output,
        case.mask,
        scale=case.scale,
        is_causal=case.is_causal,
        enable_gqa=case.enable_gqa,
    )
    return {"query": grads.query, "key": grads.key, "value": grads.value}


def _sdpa_body(
    candidate: Callable[..., Any], variant: str, precision: Precision
) -> Callable[[SdpaCase], None]:
    dtype = precision_dtype(precision)

    def body(case: SdpaCase) -> None:
        inputs = case.inputs()
        mask = case.mask
        if mask is not None and mask.dtype != np.bool_:
            mask = mask.astype(dtype)
        got = call(
            candidate,
            inputs,
            case.query.astype(dtype),
            case.key.astype(dtype),
            case.value.astype(dtype),
            case.grad_output.astype(dtype),
            attn_mask=mask,
            is_causal=case.is_causal,
            scale=case.scale,
            enable_gqa=case.enable_gqa,
        )
        if not isinstance(got, tuple | list) or len(got) != 3:
            raise CheckFailed(
                Failure(
                    law="returns (d_query, d_key, d_value)",
                    message=f"got {type(got).__name__}",
                    inputs=inputs,
                )
            )
        expected = _sdpa_reference(case)
        bound = sdpa_gradient_bound(
            case.query,
            case.key,
            case.value,
            case.grad_output,
            case.mask,
            scale=case.scale,
            is_causal=case.is_causal,
            enable_gqa=case.enable_gqa,
            precision=precision,
        )
        actual = dict(zip(GRADIENT_NAMES, got, strict=True))
        for name in GRADIENT_NAMES:
            shape = np.shape(actual[name])
            if shape != expected[name].shape:
                raise CheckFailed(
                    Failure(
                        law="output shape",
                        message=f"d_{name} has shape {shape}, expected {expected[name].shape}",
                        inputs=inputs,
                    )
                )
        if variant == "fully_masked_rows" and case.mask is not None:
            empty = ~np.asarray(case.mask).any(axis=-1)
            row_grad = to_float64(np.asarray(actual["query"]))[..., empty, :]
            if not (np.isfinite(row_grad).all() and (row_grad == 0).all()):
                raise CheckFailed(
                    Failure(
                        law="a fully masked row gives zero gradient",
                        message="d_query of a fully masked query is not exactly 0 (or is NaN)",
                        inputs=inputs,
                        actual=to_float64(np.asarray(actual["query"])),
                    )
                )
        if variant == "masked_keys" and case.mask is not None:
            dead = ~np.asarray(case.mask).any(axis=-2)
            for name in ("key", "value"):
                part = to_float64(np.asarray(actual[name]))[..., dead, :]
                if not (part == 0).all():
                    raise CheckFailed(
                        Failure(
                            law="a masked key gets exactly zero gradient",
                            message=f"d_{name} of a key masked for every query is not 0",
                            inputs=inputs,
                            actual=to_float64(np.asarray(actual[name])),
                        )
                    )
        for name in GRADIENT_NAMES:
            compare(
                np.asarray(actual[name]),
                expected[name],
                bound[name],
                inputs=inputs,
                how=(
                    f"{BACKWARD_SAFETY}·(derived first-order bound of the backward in {precision}, "
                    "γ_n = nu/(1 − nu), magnitudes from |Q|, |K|, |V|, |dO|, P; "
                    "see impl.testing.backward.sdpa_gradient_bound)"
                ),
                law=f"d_{name} differs from the reference",
                dtype=dtype,
            )

    return body


def check_sdpa_backward(
    candidate: Callable[..., Any],
    *,
    precision: Precision = "float64",
    config: RunConfig | None = None,
) -> list[CheckResult]:
    """Run every ``sdpa_backward`` check on ``candidate``; one ``CheckResult`` per check."""
    run_config = config if config is not None else RunConfig(precision=precision, max_examples=25)
    run = CheckRun(run_config)
    for check_id in SDPA_BACKWARD_CHECKS:
        variant = check_id.split(".", 1)[1]
        run.check(
            check_id,
            _sdpa_cases(variant, run_config.precision),
            _sdpa_body(candidate, variant, run_config.precision),
        )
    return run.results


# --------------------------------------------------------------------------- cells


@dataclass(frozen=True)
class CellCase:
    """A drawn recurrent-cell case (float64, rounded to the precision), PyTorch layout."""

    x: F64
    h: F64
    c: F64 | None
    weights: TorchRNNWeights
    grad_h: F64
    grad_c: F64 | None

    def inputs(self) -> dict[str, object]:
        """The arguments, for a report."""
        named: dict[str, object] = {"x": self.x, "h": self.h}
        if self.c is not None:
            named["c"] = self.c
        named.update(
            zip(
                ("weight_ih", "weight_hh", "bias_ih", "bias_hh"), self.weights.arrays(), strict=True
            )
        )
        named["grad_h"] = self.grad_h
        if self.grad_c is not None:
            named["grad_c"] = self.grad_c
        return named


def _cell_cases(lstm: bool, precision: Precision) -> st.SearchStrategy[CellCase]:
    @st.composite
    def draw(data: st.DrawFn) -> CellCase:
        n, m, batch = data(st.integers(1, 4)), data(st.integers(1, 4)), data(st.integers(1, 3))
        rng = np.random.default_rng(data(st.integers(0, 2**32 - 1)))
        g = 4 if lstm else 3
        bound = 1 / math.sqrt(m)

        def arr(*shape: int, width: float = 1.0) -> F64:
            return round_to(rng.uniform(-width, width, size=shape), precision)

        weights = TorchRNNWeights(
            weight_ih=arr(g * m, n, width=bound),
            weight_hh=arr(g * m, m, width=bound),
            bias_ih=arr(g * m, width=bound),
            bias_hh=arr(g * m, width=bound),
        )
        return CellCase(
            x=arr(batch, n, width=2.0),
            h=arr(batch, m),
            c=arr(batch, m, width=2.0) if lstm else None,
            weights=weights,
            grad_h=arr(batch, m),
            grad_c=arr(batch, m) if lstm else None,
        )

    return draw()


def _cell_reference(case: CellCase) -> dict[str, F64]:
    if case.c is not None:
        grads = lstm_cell_vjp(
            case.x, (case.h, case.c), lstm_from_torch(case.weights), case.grad_h, case.grad_c
        )
        layout = lstm_gradients_to_torch(grads.params)
        states = {"x": grads.x, "h": grads.h, "c": grads.c}
    else:
        gru = gru_cell_vjp(case.x, case.h, gru_from_torch(case.weights), case.grad_h)
        layout = gru_gradients_to_torch(gru.params)
        states = {"x": gru.x, "h": gru.h}
    names = ("weight_ih", "weight_hh", "bias_ih", "bias_hh")
    return {**states, **dict(zip(names, layout.arrays(), strict=True))}


def _cell_body(candidate: Callable[..., Any], precision: Precision) -> Callable[[CellCase], None]:
    dtype = precision_dtype(precision)

    def body(case: CellCase) -> None:
        inputs = case.inputs()
        got = call(candidate, inputs, *(np.asarray(v).astype(dtype) for v in inputs.values()))
        expected = _cell_reference(case)
        if not isinstance(got, Mapping) or set(got) < set(expected):
            raise CheckFailed(
                Failure(
                    law="returns a gradient per argument",
                    message=f"expected keys {sorted(expected)}, got {got!r:.200}",
                    inputs=inputs,
                )
            )
        w = case.weights
        m = w.weight_hh.shape[1]
        scale = float(
            np.max(np.abs(case.x) @ np.abs(w.weight_ih).T + np.abs(case.h) @ np.abs(w.weight_hh).T)
            + np.max(np.abs(w.bias_ih) + np.abs(w.bias_hh))
        )
        operations = w.weight_hh.shape[0] + w.weight_ih.shape[1] + m + case.x.shape[0] + 20
        bound = recurrent_gradient_bound(
            expected, pre_activation_scale=scale, operations=operations, precision=precision
        )
        for name, reference in expected.items():
            compare(
                np.asarray(got[name]),
                reference,
                bound[name],
                inputs=inputs,
                how=(
                    f"{BACKWARD_SAFETY}·γ_{operations}({precision})·(1 + {scale:.3g})"
                    "·max|reference| (normwise; see impl.testing.backward.recurrent_gradient_bound)"
                ),
                law=f"d_{name} differs from the reference",
                dtype=dtype,
            )

    return body


def check_lstm_cell_backward(
    candidate: Callable[..., Any],
    *,
    precision: Precision = "float64",
    config: RunConfig | None = None,
) -> list[CheckResult]:
    """Check an LSTM-cell backward (``lstm_cell_backward`` convention, PyTorch layout)."""
    run_config = config if config is not None else RunConfig(precision=precision, max_examples=25)
    run = CheckRun(run_config)
    run.check(
        "lstm_cell_backward.gradients",
        _cell_cases(True, run_config.precision),
        _cell_body(candidate, run_config.precision),
    )
    return run.results


def check_gru_cell_backward(
    candidate: Callable[..., Any],
    *,
    precision: Precision = "float64",
    config: RunConfig | None = None,
) -> list[CheckResult]:
    """Check a GRU-cell backward (``gru_cell_backward`` convention, PyTorch layout)."""
    run_config = config if config is not None else RunConfig(precision=precision, max_examples=25)
    run = CheckRun(run_config)
    run.check(
        "gru_cell_backward.gradients",
        _cell_cases(False, run_config.precision),
        _cell_body(candidate, run_config.precision),
    )
    return run.results


# --------------------------------------------------------------------------- registration


def _run_sdpa(candidate: Callable[..., Any], config: RunConfig) -> list[Any]:
    return list(check_sdpa_backward(candidate, config=config))


def _run_lstm(candidate: Callable[..., Any], config: RunConfig) -> list[Any]:
    return list(check_lstm_cell_backward(candidate, config=config))


def _run_gru(candidate: Callable[..., Any], config: RunConfig) -> list[Any]:
    return list(check_gru_cell_backward(candidate, config=config))


register_kind(
    Kind(
        "sdpa_backward",
        "fn(query, key, value, grad_output, attn_mask=None, is_causal=False, scale=None, "
        "enable_gqa=False) -> (d_query, d_key, d_value)",
        _run_sdpa,
        SDPA_BACKWARD_CHECKS,
    )
)
register_kind(
    Kind(
        "lstm_cell_backward",
        "fn(x, h, c, weight_ih, weight_hh, bias_ih, bias_hh, grad_h, grad_c) -> dict of gradients",
        _run_lstm,
        ("lstm_cell_backward.gradients",),
    )
)
register_kind(
    Kind(
        "gru_cell_backward",
        "fn(x, h, weight_ih, weight_hh, bias_ih, bias_hh, grad_h) -> dict of gradients",
        _run_gru,
        ("gru_cell_backward.gradients",),
    )
)
# The backward bounds are derived and tested for float64 and float32 (the experiment in
# tests/test_kit_backward.py); bfloat16/float16 backward passes are not covered yet, so
# the PyTorch targets are run in those two precisions only. The adapters drive autograd
# on the CPU.
_BACKWARD_PRECISIONS = ("float64", "float32")
register_target(
    Target(
        "torch",
        "sdpa_backward",
        "torch SDPA autograd",
        lambda _: torch_autograd_sdpa(),
        precisions=_BACKWARD_PRECISIONS,
    )
)
register_target(
    Target(
        "torch",
        "lstm_cell_backward",
        "torch LSTMCell autograd",
        lambda _: torch_autograd_lstm_cell(),
        precisions=_BACKWARD_PRECISIONS,
    )
)
register_target(
    Target(
        "torch",
        "gru_cell_backward",
        "torch GRUCell autograd",
        lambda _: torch_autograd_gru_cell(),
        precisions=_BACKWARD_PRECISIONS,
    )
)
