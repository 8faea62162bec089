"""The kit's attention and backward checks driven by NumPy candidates only (no torch needed).

Each test hands a check a NumPy candidate: a correct one must pass, and a
deliberately wrong one (a planted bug, or a candidate built to sit just outside
one law's margin) must fail with that check and its law named. They run in the
default suite without torch, so the registry's runners, the default precision
of the entry points and the laws' margins are pinned even where the
torch-driven tests are skipped.
"""

from collections.abc import Callable
from dataclasses import replace
from typing import Any

import numpy as np
import pytest
from numpy.typing import NDArray

from impl.recurrent import TorchRNNWeights, gru_from_torch, lstm_from_torch
from impl.recurrent_backward import (
    gru_cell_vjp,
    gru_gradients_to_torch,
    lstm_cell_vjp,
    lstm_gradients_to_torch,
)
from impl.testing import CheckResult, Outcome, RunConfig
from impl.testing.attention import (
    MHA_CHECKS,
    check_log_softmax,
    check_mha,
    check_sdpa,
    check_softmax,
)
from impl.testing.backward import (
    BACKWARD_SAFETY,
    check_gru_cell_backward,
    check_lstm_cell_backward,
    check_sdpa_backward,
    recurrent_gradient_bound,
)
from impl.testing.bounds import SAFETY_FACTOR, Arithmetic
from impl.testing.references import MultiheadParameters, softmax_reference
from impl.testing.registry import kinds
from impl.testing.tolerances import gamma, precision_of
from tests import kit_zoo

A = NDArray[Any]
FAST = 25
"""Examples per check: each planted bug below is found within this many (seed 0)."""

WEIGHT_NAMES = ("weight_ih", "weight_hh", "bias_ih", "bias_hh")


def _failure(results: list[CheckResult], check: str) -> Any:
    """The failure of ``check`` (the test fails if it passed)."""
    found = {r.check: r for r in results}
    assert check in found, [r.check for r in results]
    result = found[check]
    assert result.outcome is Outcome.FAIL, result.report()
    assert result.failure is not None
    return result.failure


def _passed(results: list[CheckResult]) -> None:
    bad = [r.report() for r in results if r.outcome is not Outcome.PASS]
    assert not bad, "\n".join(bad)


# --------------------------------------------------------------------------- softmax


def log_softmax(x: A) -> A:
    """A correct log-softmax computing in its input's dtype (−inf stays −inf)."""
    with np.errstate(all="ignore"):
        m = np.max(x, axis=-1, keepdims=True)
        m = np.where(np.isfinite(m), m, 0).astype(x.dtype)
        shifted = x - m
        result: A = shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))
    return result


def log_softmax_clamped(x: A) -> A:
    """A log-softmax that clamps −inf to the dtype's most negative number."""
    result: A = np.maximum(log_softmax(x), np.finfo(x.dtype).min)
    return result


def test_correct_numpy_log_softmax_passes() -> None:
    """The NumPy log-softmax above passes every log_softmax check (so rejections are the bug's)."""
    for precision in ("float64", "float32"):
        _passed(check_log_softmax(log_softmax, precision=precision, max_examples=FAST))


def test_log_softmax_giving_finite_for_masked_logits_is_named_by_its_law() -> None:
    """A −inf logit must give −inf; a clamped log-softmax is rejected naming that law."""
    results = check_log_softmax(
        log_softmax_clamped, max_examples=FAST, checks=("log_softmax.masked_neg_inf",)
    )
    failure = _failure(results, "log_softmax.masked_neg_inf")
    assert failure.law == "masked positions give −inf"
    assert "−inf" in failure.message


def test_extreme_logits_failure_names_the_stability_law() -> None:
    """log∘softmax gives −inf for large logits: rejected by "stable for large logits" itself,
    not only as a difference from the reference. (Softmax without the shift is rejected by the
    same check, shrunk to an underflow to 0/0 → 0 that only the reference catches.)"""
    check_id = "log_softmax.extreme_logits"
    failure = _failure(check_log_softmax(kit_zoo.log_softmax_naive, checks=(check_id,)), check_id)
    assert failure.law == "stable for large logits"
    assert "NaN/inf" in failure.message
    _failure(
        check_softmax(kit_zoo.softmax_no_shift, checks=("softmax.extreme_logits",)),
        "softmax.extreme_logits",
    )


class _OffAfterPermuting:
    """Softmax that is exact, except when called on a permutation of its previous input:
    then off by ``factor`` times the kit's own float64 tolerance (a stale-cache-like bug)."""

    def __init__(self, factor: float) -> None:
        self.factor = factor
        self.last: tuple[A, A] | None = None

    def __call__(self, x: A) -> A:
        y = kit_zoo.softmax(x)
        key = np.sort(x, axis=-1)
        last, self.last = self.last, (key, x.copy())
        if (
            last is not None
            and last[0].shape == key.shape
            and np.array_equal(last[0], key)
            and not np.array_equal(last[1], x)
        ):
            arith = Arithmetic.of("float64")
            y = y + self.factor * softmax_reference(x, arith, SAFETY_FACTOR).tolerance
        return y


def test_permutation_margin_is_twice_the_reference_tolerance() -> None:
    """softmax.permutation allows 2× the reference tolerance (each of the two results is
    within it, nothing more): 1.5× off passes, 2.5× off is rejected."""
    check = ("softmax.permutation",)
    _passed(check_softmax(_OffAfterPermuting(1.5), max_examples=FAST, checks=check))
    failure = _failure(
        check_softmax(_OffAfterPermuting(2.5), max_examples=FAST, checks=check),
        "softmax.permutation",
    )
    assert failure.law == "permutation equivariance"


class _OffAlone:
    """Softmax that is exact, except for a row handed over alone right after the batch that
    held it: then off by ``factor`` times the kit's own float64 tolerance."""

    def __init__(self, factor: float) -> None:
        self.factor = factor
        self.pending: list[A] = []

    def __call__(self, x: A) -> A:
        y = kit_zoo.softmax(x)
        if x.shape[0] > 1:
            self.pending = list(x)
        elif self.pending and np.array_equal(self.pending[0], x[0]):
            self.pending.pop(0)
            arith = Arithmetic.of("float64")
            y = y + self.factor * softmax_reference(x, arith, SAFETY_FACTOR).tolerance
        else:
            self.pending = []
        return y


def test_batch_margin_is_twice_the_reference_tolerance_and_says_so() -> None:
    """softmax.batch allows 2× the reference tolerance between a row alone and in the batch
    (1.5× off passes, 2.5× off is rejected), and the report gives that reason."""
    check = ("softmax.batch",)
    _passed(check_softmax(_OffAlone(1.5), max_examples=FAST, checks=check))
    failure = _failure(
        check_softmax(_OffAlone(2.5), max_examples=FAST, checks=check), "softmax.batch"
    )
    assert failure.law == "batch consistency (one row alone = the same row in the batch)"
    assert failure.tolerance_how == "twice the reference tolerance (each result is within it)"


# --------------------------------------------------------------------------- SDPA


def sdpa_without_batch_axis(query: A, key: A, value: A, **options: Any) -> A:
    """A correct SDPA that returns only the first batch item (drops the batch axis)."""
    result: A = kit_zoo.sdpa(query, key, value, **options)[0]
    return result


def test_fully_masked_row_checks_report_a_wrong_output_rank() -> None:
    """An output without the batch axis fails the fully-masked-row checks as "output shape"
    (the rows are located from the output's leading axes, which must be (B, H))."""
    checks = ("sdpa.fully_masked_rows", "sdpa.fully_masked_float_rows")
    results = check_sdpa(sdpa_without_batch_axis, max_examples=FAST, checks=checks)
    for check in checks:
        assert _failure(results, check).law == "output shape"


# --------------------------------------------------------------------------- MHA


def test_correct_numpy_mha_runs_every_check_by_its_id() -> None:
    """The correct NumPy MHA passes, and every id in MHA_CHECKS is run, under that id."""
    results = check_mha(kit_zoo.mha, max_examples=10)
    _passed(results)
    assert sorted(r.check for r in results) == sorted(MHA_CHECKS)


def mha_kv_projections_swapped(
    query: A, key: A, value: A, params: MultiheadParameters, **options: Any
) -> tuple[A, A | None]:
    """Correct with one packed in_proj_weight; swaps k_proj/v_proj when they are separate."""
    if params.in_proj_weight is None:
        params = replace(
            params, k_proj_weight=params.v_proj_weight, v_proj_weight=params.k_proj_weight
        )
    return kit_zoo.mha(query, key, value, params, **options)


def test_separate_key_value_projections_are_checked_by_kdim_vdim() -> None:
    """Swapped separate k/v projections pass mha.reference (packed weights) and fail
    mha.kdim_vdim, whose cases have key/value widths of their own."""
    _passed(check_mha(mha_kv_projections_swapped, max_examples=10, checks=("mha.reference",)))
    results = check_mha(mha_kv_projections_swapped, max_examples=FAST, checks=("mha.kdim_vdim",))
    _failure(results, "mha.kdim_vdim")


def mha_per_head_weights_unpadded(
    query: A,
    key: A,
    value: A,
    params: MultiheadParameters,
    *,
    key_padding_mask: A | None = None,
    need_weights: bool = True,
    attn_mask: A | None = None,
    average_attn_weights: bool = True,
) -> tuple[A, A | None]:
    """Right output and averaged weights; per-head weights computed ignoring the padding."""
    out, weights = kit_zoo.mha(
        query,
        key,
        value,
        params,
        key_padding_mask=key_padding_mask,
        need_weights=need_weights,
        attn_mask=attn_mask,
        average_attn_weights=average_attn_weights,
    )
    if need_weights and not average_attn_weights:
        _, weights = kit_zoo.mha(
            query, key, value, params, attn_mask=attn_mask, average_attn_weights=False
        )
    return out, weights


def test_per_head_weights_are_checked_with_key_padding() -> None:
    """Per-head weights that ignore the key padding fail mha.per_head_weights (drawn with a
    padding mask); averaged weights with the same padding pass."""
    candidate = mha_per_head_weights_unpadded
    _passed(check_mha(candidate, max_examples=10, checks=("mha.key_padding_bool",)))
    results = check_mha(candidate, max_examples=FAST, checks=("mha.per_head_weights",))
    _failure(results, "mha.per_head_weights")


def mha_nan_when_fully_padded(
    query: A, key: A, value: A, params: MultiheadParameters, **options: Any
) -> tuple[A, A | None]:
    """PyTorch's fast path's behaviour: NaN output for a batch item whose keys are all padded."""
    out, weights = kit_zoo.mha(query, key, value, params, **options)
    kpm = options.get("key_padding_mask")
    if kpm is not None:
        ignored = kpm if kpm.dtype == np.bool_ else np.isneginf(kpm)
        out = np.where(ignored.all(axis=-1)[:, None, None], np.nan, out).astype(out.dtype)
    return out, weights


def test_nan_for_fully_padded_batch_items_is_rejected() -> None:
    """NaN for fully padded items fails mha.fully_padded_rows, naming its law."""
    results = check_mha(
        mha_nan_when_fully_padded, max_examples=FAST, checks=("mha.fully_padded_rows",)
    )
    failure = _failure(results, "mha.fully_padded_rows")
    assert failure.law == "fully padded queries give the output bias"


def test_mha_batch_check_runs_each_batch_item_alone() -> None:
    """mha.batch calls the candidate on the whole batch, then on each item alone, in order."""
    calls: list[A] = []

    def recording(query: A, *args: Any, **options: Any) -> tuple[A, A | None]:
        calls.append(np.array(query))
        return kit_zoo.mha(query, *args, **options)

    _passed(check_mha(recording, max_examples=FAST, checks=("mha.batch",)))
    batches = [i for i, q in enumerate(calls) if q.shape[0] == 2]
    assert batches, "no batch of two was drawn"
    for i in batches:
        whole = calls[i]
        assert np.array_equal(calls[i + 1], whole[0:1])
        assert np.array_equal(calls[i + 2], whole[1:2])


# --------------------------------------------------------------------------- backward


def sdpa_backward(
    q: A,
    k: A,
    v: A,
    g: A,
    attn_mask: Any = None,
    is_causal: bool = False,
    scale: float | None = None,
    enable_gqa: bool = False,
) -> tuple[A, A, A]:
    """nndl8's own SDPA VJP in the sdpa_backward convention, returning the input dtype."""
    from impl.attention_backward import scaled_dot_product_attention_vjp

    grads = scaled_dot_product_attention_vjp(
        q, k, v, g, attn_mask, is_causal=is_causal, scale=scale, enable_gqa=enable_gqa
    )
    d_q, d_k, d_v = (np.asarray(x).astype(q.dtype) for x in (grads.query, grads.key, grads.value))
    return d_q, d_k, d_v


def sdpa_backward_stale_rows(
    q: A, k: A, v: A, g: A, attn_mask: Any = None, **options: Any
) -> tuple[A, A, A]:
    """A fully masked query row takes the previous row's d_query (as if a blocked kernel did
    not reset its running softmax statistics for it); the first row stays right."""
    d_q, d_k, d_v = sdpa_backward(q, k, v, g, attn_mask, **options)
    if attn_mask is not None and attn_mask.dtype == np.bool_:
        d_q = d_q.copy()
        allowed: A = np.broadcast_to(attn_mask, (*q.shape[:-1], k.shape[-2]))
        empty: A = np.asarray(~allowed.any(axis=-1), dtype=bool)
        for row in range(1, q.shape[-2]):
            d_q[..., row, :] = np.where(
                empty[..., row, None], d_q[..., row - 1, :], d_q[..., row, :]
            )
    return d_q, d_k, d_v


def test_a_fully_masked_row_below_a_live_row_is_named_by_its_law() -> None:
    """A non-zero d_query for a fully masked row among rows that attend is rejected by
    sdpa_backward.fully_masked_rows with its own law (not only as a reference difference)."""
    results = check_sdpa_backward(
        sdpa_backward_stale_rows,
        config=RunConfig(max_examples=FAST, checks=("sdpa_backward.fully_masked_rows",)),
    )
    failure = _failure(results, "sdpa_backward.fully_masked_rows")
    assert failure.law == "a fully masked row gives zero gradient"


def gru_backward(bug: str = "") -> Callable[..., dict[str, A]]:
    """A NumPy GRU-cell backward (nndl8's VJP); ``bug="biases_alike"`` gives bias_hh the
    gradient of bias_ih, as if both biases entered the n block through their sum."""

    def backward(x: A, h: A, *rest: A) -> dict[str, A]:
        weight_ih, weight_hh, bias_ih, bias_hh, grad_h = rest
        params = gru_from_torch(TorchRNNWeights(weight_ih, weight_hh, bias_ih, bias_hh))
        grads = gru_cell_vjp(x, h, params, grad_h)
        layout = dict(zip(WEIGHT_NAMES, gru_gradients_to_torch(grads.params).arrays(), strict=True))
        if bug == "biases_alike":
            layout["bias_hh"] = layout["bias_ih"]
        return {"x": grads.x, "h": grads.h, **layout}

    return backward


def lstm_backward(x: A, h: A, c: A, *rest: A) -> dict[str, A]:
    """A NumPy LSTM-cell backward (nndl8's VJP) in the lstm_cell_backward convention."""
    weight_ih, weight_hh, bias_ih, bias_hh, grad_h, grad_c = rest
    params = lstm_from_torch(TorchRNNWeights(weight_ih, weight_hh, bias_ih, bias_hh))
    grads = lstm_cell_vjp(x, (h, c), params, grad_h, grad_c)
    layout = lstm_gradients_to_torch(grads.params).arrays()
    return {
        "x": grads.x,
        "h": grads.h,
        "c": grads.c,
        **dict(zip(WEIGHT_NAMES, layout, strict=True)),
    }


def test_registered_cell_backward_kinds_run_numpy_candidates() -> None:
    """The registry's lstm/gru backward runners pass a correct NumPy backward on to the checks."""
    registered = kinds()
    config = RunConfig(max_examples=10)
    for kind, candidate in (
        ("lstm_cell_backward", lstm_backward),
        ("gru_cell_backward", gru_backward()),
    ):
        results = registered[kind].run(candidate, config)
        assert [r.check for r in results] == [f"{kind}.gradients"]
        _passed(results)


def test_gru_backward_with_alike_biases_is_rejected_naming_bias_hh() -> None:
    """bias_hh's gradient in the n block carries the reset gate; taking bias_ih's is wrong."""
    failure = _failure(
        check_gru_cell_backward(gru_backward("biases_alike"), config=RunConfig(max_examples=FAST)),
        "gru_cell_backward.gradients",
    )
    assert failure.law == "d_bias_hh differs from the reference"


@pytest.mark.parametrize(
    "check", [check_sdpa_backward, check_lstm_cell_backward, check_gru_cell_backward]
)
def test_backward_entry_points_honour_precision_without_a_config(check: Any) -> None:
    """``precision=`` alone (no config) is the declared precision: float32 inputs are handed
    over and every result says float32."""
    seen: set[str] = set()
    candidates: dict[Any, Callable[..., Any]] = {
        check_sdpa_backward: sdpa_backward,
        check_lstm_cell_backward: lstm_backward,
        check_gru_cell_backward: gru_backward(),
    }
    candidate = candidates[check]

    def recording(*args: A, **options: Any) -> Any:
        seen.add(np.asarray(args[0]).dtype.name)
        return candidate(*args, **options)

    results = check(recording, precision="float32")
    assert {r.precision for r in results} == {"float32"}
    assert seen == {"float32"}


def test_recurrent_gradient_bound_is_normwise_in_the_reference() -> None:
    """Every entry's bound is safety · γ_n · (1 + a) · max|ḡ| of its array: it scales with
    the gradient (a gradient below 1 gets a bound below the factor) and is 0 for ḡ = 0."""
    reference = {"small": np.array([[0.5, -0.25]]), "zero": np.zeros(3), "big": np.array([-4.0])}
    bound = recurrent_gradient_bound(
        reference, pre_activation_scale=2.0, operations=10, precision="float32"
    )
    factor = BACKWARD_SAFETY * gamma(10, "float32") * 3.0
    np.testing.assert_array_equal(bound["small"], np.full((1, 2), factor * 0.5))
    np.testing.assert_array_equal(bound["zero"], np.zeros(3))
    np.testing.assert_array_equal(bound["big"], np.array([factor * 4.0]))


# --------------------------------------------------------------------------- registry, dtypes


def test_check_selection_matches_whole_id_components() -> None:
    """``checks`` selects an id or a dotted prefix of it; an unknown id selects nothing."""
    assert RunConfig(checks=("sdpa",)).selected("sdpa.causal")
    assert RunConfig(checks=("sdpa.",)).selected("sdpa.causal")
    assert not RunConfig(checks=("sdpa.X",)).selected("sdpa.causal")
    assert not RunConfig(checks=("sdp",)).selected("sdpa.causal")


def test_precision_of_rejects_a_non_float_dtype_naming_it() -> None:
    """precision_of maps the four float dtypes and names any other dtype in its error."""
    assert precision_of(np.dtype(np.float32)) == "float32"
    with pytest.raises(ValueError, match=r"int32.*float64, float32, float16, bfloat16"):
        precision_of(np.dtype(np.int32))


def test_extreme_logits_runs_its_documented_ten_patterns() -> None:
    """The extreme-logits law draws its budget of 10 examples (patterns of ±1, 0, ½
    scaled to huge logits), whatever max_examples the other laws get."""
    from impl.softmax import softmax

    results = check_softmax(softmax, checks=("softmax.extreme_logits",))
    (result,) = [r for r in results if r.check == "softmax.extreme_logits"]
    assert result.outcome is Outcome.PASS
    assert result.examples == 10
