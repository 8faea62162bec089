"""The backward checks of the conformance kit reject wrong backward passes and pass correct ones.

A zoo of deliberately wrong backward passes (each a plausible bug of a
hand-written attention or LSTM backward) must each be rejected, with the failed
check and its law named; our own VJPs and PyTorch's autograd (math and default
CPU kernels) must pass every check.
"""

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from impl.attention_backward import scaled_dot_product_attention_vjp
from impl.recurrent import lstm_from_torch
from impl.recurrent_backward import lstm_cell_vjp, lstm_gradients_to_torch
from impl.testing.backward import (
    SDPA_BACKWARD_CHECKS,
    check_gru_cell_backward,
    check_lstm_cell_backward,
    check_sdpa_backward,
    torch_autograd_gru_cell,
    torch_autograd_lstm_cell,
    torch_autograd_sdpa,
)
from impl.testing.registry import RunConfig, kinds
from impl.testing.report import CheckResult, Outcome

QUICK = 10
"""Examples per check in this file (each wrong pass is caught on most cases; seconds in all)."""


def ours(
    q: np.ndarray,
    k: np.ndarray,
    v: np.ndarray,
    g: np.ndarray,
    attn_mask: Any = None,
    is_causal: bool = False,
    scale: float | None = None,
    enable_gqa: bool = False,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """nndl8's own VJP in the ``sdpa_backward`` convention."""
    grads = scaled_dot_product_attention_vjp(
        q, k, v, g, attn_mask, is_causal=is_causal, scale=scale, enable_gqa=enable_gqa
    )
    return grads.query, grads.key, grads.value


def buggy_sdpa(bug: str) -> Callable[..., tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """A hand-written NumPy SDPA backward with one named bug."""

    def backward(
        q: np.ndarray,
        k: np.ndarray,
        v: np.ndarray,
        g: np.ndarray,
        attn_mask: Any = None,
        is_causal: bool = False,
        scale: float | None = None,
        enable_gqa: bool = False,
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        groups = q.shape[-3] // k.shape[-3] if enable_gqa else 1
        kr, vr = np.repeat(k, groups, axis=-3), np.repeat(v, groups, axis=-3)
        s = 1 / math.sqrt(q.shape[-1]) if scale is None else scale
        scores = s * q @ np.swapaxes(kr, -1, -2)
        length, memory = q.shape[-2], k.shape[-2]
        allowed = np.ones((length, memory), dtype=bool)
        if is_causal:
            allowed = np.tri(length, memory, dtype=bool)
        elif attn_mask is not None and attn_mask.dtype == bool:
            allowed = attn_mask
        elif attn_mask is not None:
            scores = scores + attn_mask
        if bug != "leak_to_masked_keys":
            scores = np.where(allowed, scores, -np.inf)
        with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
            top = scores.max(axis=-1, keepdims=True)
            if bug != "nan_for_fully_masked_rows":
                top = np.where(np.isfinite(top), top, 0)
            e = np.exp(scores - top)
            total = e.sum(axis=-1, keepdims=True)
            p = e / (total if bug == "nan_for_fully_masked_rows" else np.where(total > 0, total, 1))
        d_v = np.swapaxes(p, -1, -2) @ g
        d_p = g @ np.swapaxes(vr, -1, -2)
        delta = 0 if bug == "rowsum_dropped" else (d_p * p).sum(axis=-1, keepdims=True)
        d_s = p * (d_p - delta)
        factor = {"scale_twice": s * s, "scale_missing": 1.0}.get(bug, s)
        d_q = factor * d_s @ kr
        d_k = factor * (np.swapaxes(d_s, -1, -2) @ q)
        if groups > 1:
            d_k = d_k.reshape(*k.shape[:-3], k.shape[-3], groups, *d_k.shape[-2:]).sum(axis=-3)
        if groups > 1:
            d_v = d_v.reshape(*v.shape[:-3], v.shape[-3], groups, *d_v.shape[-2:]).sum(axis=-3)
        if bug == "dk_transposed":
            d_k = np.swapaxes(d_k, -1, -2)  # (…, E, S) instead of (…, S, E)
        dtype = q.dtype
        return d_q.astype(dtype), d_k.astype(dtype), d_v.astype(dtype)

    return backward


SDPA_ZOO = {
    "rowsum_dropped": "sdpa_backward.plain",
    "scale_twice": "sdpa_backward.plain",
    "scale_missing": "sdpa_backward.plain",
    "dk_transposed": "sdpa_backward.plain",
    "leak_to_masked_keys": "sdpa_backward.masked_keys",
    "nan_for_fully_masked_rows": "sdpa_backward.fully_masked_rows",
}
"""Each wrong backward and a check that must reject it."""


def _failed(results: list[CheckResult]) -> dict[str, CheckResult]:
    return {r.check: r for r in results if r.outcome is Outcome.FAIL}


def test_our_own_vjp_passes_every_backward_check() -> None:
    """nndl8's VJPs pass all sdpa_backward checks in float64 and float32 (the bound is honest)."""
    for precision in ("float64", "float32"):
        results = check_sdpa_backward(
            ours, config=RunConfig(precision=precision, max_examples=QUICK)
        )
        assert [r.check for r in results] == list(SDPA_BACKWARD_CHECKS)
        assert not _failed(results), "\n".join(r.report() for r in results)


def test_the_correct_numpy_backward_passes() -> None:
    """The zoo's template without a bug passes (so each rejection below is the bug's doing)."""
    results = check_sdpa_backward(buggy_sdpa("none"), config=RunConfig(max_examples=QUICK))
    assert not _failed(results), "\n".join(r.report() for r in results)


@pytest.mark.parametrize(("bug", "check"), list(SDPA_ZOO.items()))
def test_each_wrong_sdpa_backward_is_rejected_naming_the_check(bug: str, check: str) -> None:
    """Each wrong backward fails the named check; the report names the broken law."""
    results = check_sdpa_backward(buggy_sdpa(bug), config=RunConfig(max_examples=QUICK))
    failed = _failed(results)
    assert check in failed, f"{bug} was not rejected by {check}: {[r.check for r in results]}"
    report = failed[check].report()
    assert check in report
    failure = failed[check].failure
    assert failure is not None
    law = failure.law
    assert law, report
    if bug == "nan_for_fully_masked_rows":  # the law itself fires, not only the reference
        assert law == "a fully masked row gives zero gradient"
    if bug == "leak_to_masked_keys":
        assert "masked key" in law
    if bug == "dk_transposed":
        assert "d_key" in law or "shape" in law


def buggy_lstm(bug: str) -> Callable[..., dict[str, np.ndarray]]:
    """nndl8's LSTM-cell VJP with the forget gate's gradient taken with c_t instead of c_{t−1}."""

    def backward(
        x: np.ndarray, h: np.ndarray, c: np.ndarray, *rest: np.ndarray
    ) -> dict[str, np.ndarray]:
        weight_ih, weight_hh, bias_ih, bias_hh, grad_h, grad_c = rest
        from impl.recurrent import TorchRNNWeights, lstm_cell

        params = lstm_from_torch(TorchRNNWeights(weight_ih, weight_hh, bias_ih, bias_hh))
        # The bug: backpropagate as if the previous cell state were c_t.
        c_used = lstm_cell(x, (h, c), params)[1] if bug == "forget_uses_c_t" else c
        grads = lstm_cell_vjp(x, (h, c_used), params, grad_h, grad_c)
        honest = lstm_cell_vjp(x, (h, c), params, grad_h, grad_c)
        gate = type(honest.params)(
            input_gate=honest.params.input_gate,
            forget_gate=grads.params.forget_gate,
            output_gate=honest.params.output_gate,
            candidate=honest.params.candidate,
        )
        layout = lstm_gradients_to_torch(gate)
        names = ("weight_ih", "weight_hh", "bias_ih", "bias_hh")
        return {
            "x": honest.x,
            "h": honest.h,
            "c": honest.c,
            **dict(zip(names, layout.arrays(), strict=True)),
        }

    return backward


def test_lstm_forget_gate_with_c_t_is_rejected_and_the_honest_one_passes() -> None:
    """The forget-gate gradient taken with c_t instead of c_{t−1} is rejected, naming a weight."""
    good = check_lstm_cell_backward(buggy_lstm("none"), config=RunConfig(max_examples=QUICK))
    assert not _failed(good), "\n".join(r.report() for r in good)
    bad = _failed(
        check_lstm_cell_backward(
            buggy_lstm("forget_uses_c_t"), config=RunConfig(max_examples=QUICK)
        )
    )
    assert "lstm_cell_backward.gradients" in bad
    failure = bad["lstm_cell_backward.gradients"].failure
    assert failure is not None
    assert failure.law.startswith("d_weight") or failure.law.startswith("d_bias")


@pytest.mark.parametrize("precision", ["float64", "float32"])
def test_torch_autograd_passes_every_backward_check(precision: Any) -> None:
    """PyTorch's own backward (default CPU kernel and the math kernel) passes every check."""
    torch = pytest.importorskip("torch")
    from torch.nn.attention import SDPBackend, sdpa_kernel

    config = RunConfig(precision=precision, max_examples=QUICK)
    results = check_sdpa_backward(torch_autograd_sdpa(), config=config)
    assert not _failed(results), "\n".join(r.report() for r in results)
    if precision == "float64":  # the math kernel once (the default CPU kernel runs in both dtypes)
        with sdpa_kernel(SDPBackend.MATH):
            results = check_sdpa_backward(torch_autograd_sdpa(), config=config)
        assert not _failed(results), "\n".join(r.report() for r in results)
    for check, candidate in (
        (check_lstm_cell_backward, torch_autograd_lstm_cell()),
        (check_gru_cell_backward, torch_autograd_gru_cell()),
    ):
        cell_results = check(candidate, config=config)
        assert not _failed(cell_results), "\n".join(r.report() for r in cell_results)
    del torch


def test_backward_kinds_are_registered() -> None:
    """The kinds are registered for ``nndl8 conformance`` (once this module is imported)."""
    try:
        registered = kinds()
    except ImportError as error:  # another family module of the kit is mid-change
        pytest.skip(f"the kit's family modules do not all import: {error}")
    for name in ("sdpa_backward", "lstm_cell_backward", "gru_cell_backward"):
        assert name in registered


def test_a_float32_backward_computing_in_float16_is_rejected() -> None:
    """The float32 bound is tight enough to catch a kernel that silently computes in float16."""

    def half(
        q: np.ndarray, k: np.ndarray, v: np.ndarray, g: np.ndarray, attn_mask: Any = None, **kw: Any
    ) -> tuple[np.ndarray, ...]:
        low = [a.astype(np.float16).astype(np.float32) for a in (q, k, v, g)]
        mask = (
            attn_mask
            if attn_mask is None or attn_mask.dtype == bool
            else attn_mask.astype(np.float16).astype(np.float32)
        )
        grads = ours(low[0], low[1], low[2], low[3], mask, **kw)
        return tuple(x.astype(np.float16).astype(np.float32) for x in grads)

    results = check_sdpa_backward(half, config=RunConfig(precision="float32", max_examples=QUICK))
    assert "sdpa_backward.plain" in _failed(results)
