"""Conformance checks for softmax, log-softmax, scaled dot-product and multi-head attention.

Four kinds (calling conventions), each a suite of checks; every check combines
agreement with nndl8's float64 reference (``impl.testing.references``) within
the derived bound for the declared precision, and/or a law the function must
obey on its own:

* ``softmax`` / ``log_softmax``: ``candidate(x) -> y`` over the last axis.
* ``sdpa``: PyTorch's ``scaled_dot_product_attention(query, key, value,
  attn_mask=None, dropout_p=0.0, is_causal=False, scale=None, enable_gqa=False)``
  on (B, H, L, E) arrays (layout ``BHLE``; ``BLHE`` is JAX's BTNH). Only the
  arguments a check needs are passed, by keyword.
* ``mha``: ``candidate(query, key, value, params, *, key_padding_mask=None,
  need_weights=True, attn_mask=None, average_attn_weights=True) -> (output,
  weights)``, ``nn.MultiheadAttention(batch_first=True)``'s forward with its
  parameters given as a ``MultiheadParameters``.

The public entry points ``check_softmax``, ``check_log_softmax``, ``check_sdpa``
and ``check_mha`` return one ``CheckResult`` per check.
"""

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any, Literal

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from numpy.typing import NDArray

from impl.testing.bounds import SAFETY_FACTOR, Arithmetic, describe
from impl.testing.references import (
    MultiheadParameters,
    Reference,
    log_softmax_reference,
    multihead_reference,
    sdpa_reference,
    softmax_reference,
)
from impl.testing.registry import Kind, RunConfig, register_kind
from impl.testing.report import Failure
from impl.testing.runner import CheckFailed, CheckRun, call, compare, require, to_float64
from impl.testing.tolerances import Precision, precision_dtype, round_to

__all__ = [
    "LOG_SOFTMAX_CHECKS",
    "MHA_CHECKS",
    "SDPA_CHECKS",
    "SOFTMAX_CHECKS",
    "MhaCase",
    "SdpaCase",
    "check_log_softmax",
    "check_mha",
    "check_sdpa",
    "check_softmax",
    "mha_cases",
    "sdpa_cases",
]

F64 = NDArray[np.float64]
Candidate = Callable[..., Any]

EXTREME_LOGIT: dict[Precision, float] = {
    "float64": 1e300,
    "float32": 1e30,
    "float16": 3e4,  # float16's largest finite number is 65504: x_j − max stays finite
    "bfloat16": 1e30,
}
"""Logits this large overflow exp unless the row maximum is subtracted."""

EXTREME_QK: dict[Precision, float] = {
    "float64": 1e3,
    "float32": 1e3,
    "float16": 8.0,  # keeps E·|q|·|k| ≤ 512 ≪ 65504: scores stay finite in float16
    "bfloat16": 1e3,
}
"""|q|, |k| for the large-score check: scores up to ~10⁶ (exp overflows without the shift)."""


# --------------------------------------------------------------------------- helpers


def _values(
    shape: tuple[int, ...], magnitude: float, precision: Precision
) -> st.SearchStrategy[F64]:
    elements = st.floats(-magnitude, magnitude, allow_subnormal=False, width=64)
    return hnp.arrays(np.float64, shape, elements=elements).map(lambda a: round_to(a, precision))


def _cast(x: F64, precision: Precision) -> NDArray[Any]:
    return x.astype(precision_dtype(precision))


def _config_arith(config: RunConfig) -> tuple[Arithmetic, float, Precision]:
    safety = SAFETY_FACTOR if config.safety is None else config.safety
    return Arithmetic.of(config.precision), safety, config.precision


def _exactly_zero(
    got: F64, where: NDArray[np.bool_], law: str, message: str, inputs: dict[str, object]
) -> None:
    bad = where & (got != 0)
    if bad.any():
        worst = tuple(int(i) for i in np.argwhere(bad)[0])
        raise CheckFailed(
            Failure(
                law=law,
                message=message,
                inputs=inputs,
                expected=np.where(where, 0.0, np.nan),
                actual=got,
                tolerance=np.zeros_like(got),
                tolerance_how="exact: 0 required",
                worst=worst,
            )
        )


# --------------------------------------------------------------------------- softmax


SOFTMAX_CHECKS = (
    "softmax.reference",
    "softmax.distribution",
    "softmax.masked_exact_zero",
    "softmax.extreme_logits",
    "softmax.permutation",
    "softmax.batch",
)
LOG_SOFTMAX_CHECKS = (
    "log_softmax.reference",
    "log_softmax.normalised",
    "log_softmax.masked_neg_inf",
    "log_softmax.extreme_logits",
    "log_softmax.batch",
)


@st.composite
def _logits(
    draw: st.DrawFn, precision: Precision, *, neg_inf: bool = False, magnitude: float = 10.0
) -> F64:
    shape = (draw(st.integers(1, 3)), draw(st.integers(1, 12)))
    x = draw(_values(shape, magnitude, precision))
    if neg_inf:
        masked = draw(hnp.arrays(np.bool_, shape))
        masked[:, draw(st.integers(0, shape[1] - 1))] = False  # each row keeps one logit
        x = np.where(masked, -np.inf, x)
    return x


def _suite_softmax(candidate: Candidate, config: RunConfig, *, log: bool) -> list[Any]:
    arith, safety, precision = _config_arith(config)
    dtype = precision_dtype(precision)
    name = "log_softmax" if log else "softmax"
    reference = log_softmax_reference if log else softmax_reference
    how = describe(arith, f"{'log-' if log else ''}softmax, shifted by the row maximum", safety)
    run = CheckRun(config)

    def apply(x: F64) -> tuple[F64, Reference, dict[str, object]]:
        inputs: dict[str, object] = {"x": _cast(x, precision)}
        got = call(candidate, inputs, _cast(x, precision))
        ref = reference(x, arith, safety)
        compare(got, ref.value, ref.tolerance, inputs=inputs, how=how, dtype=dtype)
        return to_float64(got), ref, inputs

    def reference_only(x: F64) -> None:
        apply(x)

    run.check(f"{name}.reference", _logits(precision), reference_only)

    if not log:

        def distribution(x: F64) -> None:
            inputs: dict[str, object] = {"x": _cast(x, precision)}
            got = to_float64(call(candidate, inputs, _cast(x, precision)))
            require(got.shape == x.shape, "output shape", f"got {got.shape}", inputs)
            require(bool((got >= 0).all()), "weights are a distribution", "negative weight", inputs)
            ref = reference(x, arith, safety)
            total = ref.tolerance.sum(axis=-1)
            compare(
                got.sum(axis=-1),
                np.ones(x.shape[:-1]),
                total,
                inputs=inputs,
                how="Σ_j of the weights' tolerances: " + how,
                law="weights are a distribution (rows sum to 1)",
            )

        run.check(f"{name}.distribution", _logits(precision), distribution)

        def masked(x: F64) -> None:
            got, _, inputs = apply(x)
            _exactly_zero(
                got,
                np.isneginf(x),
                "masked positions exactly 0",
                "a −inf logit got a non-zero weight",
                inputs,
            )

        run.check(f"{name}.masked_exact_zero", _logits(precision, neg_inf=True), masked)

        def permutation(case: tuple[F64, list[int]]) -> None:
            x, perm = case
            got, ref, inputs = apply(x)
            inputs["permutation"] = np.asarray(perm)
            permuted = to_float64(call(candidate, inputs, _cast(x[:, perm], precision)))
            compare(
                permuted,
                got[:, perm],
                2 * ref.tolerance[:, perm],
                inputs=inputs,
                how="twice the reference tolerance (each result is within it)",
                law="permutation equivariance",
            )

        perm_cases = _logits(precision).flatmap(
            lambda x: st.tuples(st.just(x), st.permutations(list(range(x.shape[-1]))))
        )
        run.check(f"{name}.permutation", perm_cases, permutation)
    else:

        def normalised(x: F64) -> None:
            got, ref, inputs = apply(x)
            with np.errstate(over="ignore"):
                total = np.log(np.exp(got).sum(axis=-1))
            compare(
                total,
                np.zeros(x.shape[:-1]),
                ref.tolerance.max(axis=-1) * 1.5,
                inputs=inputs,
                how="1.5 × the largest entry tolerance of the row: " + how,
                law="log Σ exp(output) = 0",
            )

        run.check(f"{name}.normalised", _logits(precision), normalised)

        def neg_inf(x: F64) -> None:
            # The law first: after the agreement check it could never fire (the
            # reference's −inf entries must be matched exactly there).
            inputs: dict[str, object] = {"x": _cast(x, precision)}
            got = to_float64(call(candidate, inputs, _cast(x, precision)))
            require(got.shape == x.shape, "output shape", f"got {got.shape}", inputs)
            bad = np.isneginf(x) & ~np.isneginf(got)
            require(
                not bad.any(),
                "masked positions give −inf",
                "a −inf logit gave a log-weight other than −inf",
                inputs,
            )
            apply(x)

        run.check(f"{name}.masked_neg_inf", _logits(precision, neg_inf=True), neg_inf)

    big = EXTREME_LOGIT[precision]

    def extreme(sign_pattern: F64) -> None:
        # Finite logits give finite (log-)weights: the law first, since after the
        # agreement check a NaN/inf would already have failed as a difference.
        x = round_to(sign_pattern * big, precision)
        inputs: dict[str, object] = {"x": _cast(x, precision)}
        got = to_float64(call(candidate, inputs, _cast(x, precision)))
        require(
            bool(np.isfinite(got).all()),
            "stable for large logits",
            "NaN/inf output: is the row maximum subtracted before exp?",
            inputs,
        )
        apply(x)

    patterns = hnp.arrays(
        np.float64,
        st.tuples(st.integers(1, 2), st.integers(2, 5)),
        elements=st.sampled_from([-1.0, 0.0, 1.0, 0.5]),
    )
    run.check(f"{name}.extreme_logits", patterns, extreme, max_examples=10)

    def batch(x: F64) -> None:
        got, ref, inputs = apply(x)
        for row in range(x.shape[0]):
            single = to_float64(call(candidate, inputs, _cast(x[row : row + 1], precision)))
            compare(
                single,
                got[row : row + 1],
                2 * ref.tolerance[row : row + 1],
                inputs={**inputs, "row": row},
                how="twice the reference tolerance (each result is within it)",
                law="batch consistency (one row alone = the same row in the batch)",
            )

    run.check(f"{name}.batch", _logits(precision), batch)
    return run.results


def check_softmax(
    candidate: Candidate, config: RunConfig | None = None, **options: Any
) -> list[Any]:
    """Check ``candidate(x) -> softmax(x, axis=-1)``; ``options`` override ``RunConfig`` fields."""
    return _suite_softmax(candidate, (config or RunConfig()).with_(**options), log=False)


def check_log_softmax(
    candidate: Candidate, config: RunConfig | None = None, **options: Any
) -> list[Any]:
    """Check ``candidate(x) -> log_softmax(x, axis=-1)`` (same options as ``check_softmax``)."""
    return _suite_softmax(candidate, (config or RunConfig()).with_(**options), log=True)


# --------------------------------------------------------------------------- SDPA

SDPA_CHECKS = (
    "sdpa.reference",
    "sdpa.bool_mask",
    "sdpa.float_mask",
    "sdpa.causal",
    "sdpa.scale",
    "sdpa.gqa",
    "sdpa.fully_masked_rows",
    "sdpa.fully_masked_float_rows",
    "sdpa.weights_distribution",
    "sdpa.permutation",
    "sdpa.batch",
    "sdpa.large_scores",
)

MaskKind = Literal["none", "bool", "float", "causal", "empty_bool", "empty_float"]


@dataclass(frozen=True)
class SdpaCase:
    """One SDPA call: (B, H, L, E) query, (B, H_kv, S, E) key, (B, H_kv, S, E_v) value.

    All float64 holding numbers of the candidate's precision; ``attn_mask`` bool
    (True = may attend) or float (added), broadcastable to (B, H, L, S).
    """

    query: F64
    key: F64
    value: F64
    attn_mask: NDArray[Any] | None = None
    is_causal: bool = False
    scale: float | None = None
    enable_gqa: bool = False
    empty_rows: NDArray[np.bool_] | None = field(default=None, compare=False)

    def kwargs(self, precision: Precision) -> dict[str, Any]:
        """The keyword arguments this case passes (only those it needs)."""
        kw: dict[str, Any] = {}
        if self.attn_mask is not None:
            mask = self.attn_mask
            kw["attn_mask"] = mask if mask.dtype == np.bool_ else _cast(mask, precision)
        if self.is_causal:
            kw["is_causal"] = True
        if self.scale is not None:
            kw["scale"] = self.scale
        if self.enable_gqa:
            kw["enable_gqa"] = True
        return kw

    def inputs(self, precision: Precision) -> dict[str, object]:
        """The arguments, as the candidate receives them (for reports)."""
        return {
            "query": _cast(self.query, precision),
            "key": _cast(self.key, precision),
            "value": _cast(self.value, precision),
            **self.kwargs(precision),
        }

    def with_arrays(self, **arrays: Any) -> "SdpaCase":
        """A copy with some arrays replaced."""
        return replace(self, **arrays)


@st.composite
def sdpa_cases(
    draw: st.DrawFn,
    precision: Precision,
    *,
    mask: MaskKind = "none",
    scale: bool = False,
    gqa: bool = False,
    magnitude: float = 3.0,
    max_len: int = 6,
    max_dim: int = 8,
    same_value_dim: bool = False,
    square: bool = False,
) -> SdpaCase:
    """Draw an SDPA case; masked kinds keep one allowed key per row unless ``empty_*``."""
    batch = draw(st.integers(1, 2))
    kv_heads = draw(st.integers(1, 2))
    heads = kv_heads * draw(st.integers(2, 3)) if gqa else kv_heads
    length, memory = draw(st.integers(1, max_len)), draw(st.integers(1, max_len))
    e = memory if square else draw(st.integers(1, max_dim))
    e_v = e if same_value_dim else draw(st.integers(1, max_dim))
    q = draw(_values((batch, heads, length, e), magnitude, precision))
    k = draw(_values((batch, kv_heads, memory, e), magnitude, precision))
    v = draw(_values((batch, kv_heads, memory, e_v), 10.0, precision))
    attn_mask: NDArray[Any] | None = None
    empty: NDArray[np.bool_] | None = None
    if mask in ("bool", "float", "empty_bool", "empty_float"):
        shape = draw(
            st.sampled_from(
                [(length, memory), (batch, 1, length, memory), (batch, heads, length, memory)]
            )
        )
        allowed = draw(hnp.arrays(np.bool_, shape))
        keep = draw(st.integers(0, memory - 1))
        allowed[..., keep] |= ~allowed.any(axis=-1)  # every row keeps an allowed key
        if mask.startswith("empty"):
            empty = draw(hnp.arrays(np.bool_, shape[:-1]))
            empty.flat[draw(st.integers(0, empty.size - 1))] = True  # at least one empty row
            allowed = allowed & ~empty[..., None]
        if mask.endswith("bool"):
            attn_mask = allowed
        else:
            bias = draw(_values(shape, 5.0, precision))
            attn_mask = np.where(allowed, bias, -np.inf)
    return SdpaCase(
        q,
        k,
        v,
        attn_mask,
        is_causal=mask == "causal",
        scale=draw(st.floats(0.05, 2.0)) if scale else None,
        enable_gqa=gqa,
        empty_rows=empty,
    )


def _to_layout(x: NDArray[Any], layout: str) -> NDArray[Any]:
    return np.swapaxes(x, -2, -3) if layout == "BLHE" else x


def _sdpa_call(candidate: Candidate, case: SdpaCase, config: RunConfig) -> NDArray[Any]:
    p: Precision = config.precision
    layout = config.layout
    q, k, v = (_to_layout(_cast(x, p), layout) for x in (case.query, case.key, case.value))
    got = np.asarray(call(candidate, case.inputs(p), q, k, v, **case.kwargs(p)))
    return _to_layout(got, layout) if got.ndim >= 3 else got


def _sdpa_ref(case: SdpaCase, arith: Arithmetic, safety: float) -> Reference:
    return sdpa_reference(
        case.query,
        case.key,
        case.value,
        arith,
        safety,
        attn_mask=case.attn_mask,
        is_causal=case.is_causal,
        scale=case.scale,
        enable_gqa=case.enable_gqa,
    )


def _suite_sdpa(candidate: Candidate, config: RunConfig) -> list[Any]:
    arith, safety, precision = _config_arith(config)
    dtype = precision_dtype(precision)
    how = describe(arith, "scores γ_{E+4}, shifted softmax, output γ_{S+1}; see bounds.py", safety)
    run = CheckRun(config)
    same = "value_dim=key_dim" in config.restrictions

    def cases(**options: Any) -> st.SearchStrategy[SdpaCase]:
        return sdpa_cases(precision, same_value_dim=same, **options)

    def agree(case: SdpaCase) -> tuple[F64, Reference]:
        got = _sdpa_call(candidate, case, config)
        ref = _sdpa_ref(case, arith, safety)
        compare(got, ref.value, ref.tolerance, inputs=case.inputs(precision), how=how, dtype=dtype)
        return to_float64(got), ref

    def agrees(case: SdpaCase) -> None:
        agree(case)

    run.check("sdpa.reference", cases(), agrees)
    run.check("sdpa.bool_mask", cases(mask="bool"), agrees)
    run.check("sdpa.float_mask", cases(mask="float"), agrees)
    run.check("sdpa.causal", cases(mask="causal"), agrees)
    run.check("sdpa.scale", cases(mask="bool", scale=True), agrees)
    run.check("sdpa.gqa", cases(gqa=True), agrees)

    def empty_rows(case: SdpaCase) -> None:
        got = to_float64(_sdpa_call(candidate, case, config))
        assert case.empty_rows is not None
        rows = np.broadcast_to(case.empty_rows, (*got.shape[:-2], got.shape[-2]))
        where = np.broadcast_to(rows[..., None], got.shape)
        _exactly_zero(
            got,
            where,
            "fully masked rows give 0",
            "a query with no allowed key must output 0 (PyTorch ≥ 2.5 semantics)",
            case.inputs(precision),
        )
        agree(case)

    run.check("sdpa.fully_masked_rows", cases(mask="empty_bool"), empty_rows)
    run.check("sdpa.fully_masked_float_rows", cases(mask="empty_float"), empty_rows)

    def distribution(case: SdpaCase) -> None:
        s = case.key.shape[-2]
        eye = np.broadcast_to(np.eye(s), (*case.value.shape[:-2], s, s))
        case = case.with_arrays(value=np.ascontiguousarray(eye))
        raw = _sdpa_call(candidate, case, config)
        got = to_float64(raw)
        inputs = case.inputs(precision)
        require(got.shape[-1] == s, "output shape", f"got {got.shape}", inputs)
        assert case.attn_mask is not None
        allowed = np.broadcast_to(case.attn_mask, got.shape)
        _exactly_zero(
            got,
            ~allowed,
            "masked positions exactly 0",
            "with V = I the output is the weights; a masked key got a non-zero weight",
            inputs,
        )
        require(bool((got >= 0).all()), "weights are a distribution", "a negative weight", inputs)
        ref = _sdpa_ref(case, arith, safety)
        compare(
            got.sum(axis=-1),
            np.ones(got.shape[:-1]),
            ref.tolerance.sum(axis=-1),
            inputs=inputs,
            how="Σ_j of the weights' tolerances (V = I makes the output the weights): " + how,
            law="weights are a distribution (rows sum to 1)",
        )
        compare(raw, ref.value, ref.tolerance, inputs=inputs, how=how, dtype=dtype)

    run.check("sdpa.weights_distribution", cases(mask="bool", square=same), distribution)

    def permutation(pair: tuple[SdpaCase, list[int]]) -> None:
        case, perm = pair
        got, ref = agree(case)
        mask = case.attn_mask
        moved = case.with_arrays(
            key=case.key[..., perm, :],
            value=case.value[..., perm, :],
            attn_mask=None if mask is None else mask[..., perm],
        )
        permuted = to_float64(_sdpa_call(candidate, moved, config))
        compare(
            permuted,
            got,
            2 * ref.tolerance,
            inputs={**case.inputs(precision), "permutation": np.asarray(perm)},
            how="twice the reference tolerance (each result is within it)",
            law="permutation equivariance over the memory (keys, values, mask columns)",
        )

    perm_cases = cases(mask="bool").flatmap(
        lambda c: st.tuples(st.just(c), st.permutations(list(range(c.key.shape[-2]))))
    )
    run.check("sdpa.permutation", perm_cases, permutation)

    def batch(case: SdpaCase) -> None:
        got, ref = agree(case)
        mask = case.attn_mask
        for b in range(case.query.shape[0]):
            item = slice(b, b + 1)
            one = case.with_arrays(
                query=case.query[item],
                key=case.key[item],
                value=case.value[item],
                attn_mask=mask if mask is None or mask.ndim == 2 else mask[item],
            )
            single = to_float64(_sdpa_call(candidate, one, config))
            compare(
                single,
                got[item],
                2 * ref.tolerance[item],
                inputs={**case.inputs(precision), "batch_item": b},
                how="twice the reference tolerance (each result is within it)",
                law="batch consistency (one batch item alone = the same item in the batch)",
            )

    run.check("sdpa.batch", cases(mask="bool"), batch)

    def large(case: SdpaCase) -> None:
        got = to_float64(_sdpa_call(candidate, case, config))
        require(
            bool(np.isfinite(got).all()),
            "stable for large scores",
            "NaN or inf output: is the row maximum subtracted before exp?",
            case.inputs(precision),
        )
        agree(case)

    run.check(
        "sdpa.large_scores",
        cases(magnitude=EXTREME_QK[precision]),
        large,
        max_examples=max(10, config.max_examples // 4),
    )
    return run.results


def check_sdpa(candidate: Candidate, config: RunConfig | None = None, **options: Any) -> list[Any]:
    """Check a function with PyTorch's ``scaled_dot_product_attention`` signature.

    ``options`` override ``RunConfig`` fields (``precision="bfloat16"``,
    ``layout="BLHE"``, ``max_examples``, ``seed``, ``checks``...).
    """
    return _suite_sdpa(candidate, (config or RunConfig()).with_(**options))


# --------------------------------------------------------------------------- MHA

MHA_CHECKS = (
    "mha.reference",
    "mha.kdim_vdim",
    "mha.no_bias",
    "mha.bias_kv",
    "mha.zero_attn",
    "mha.per_head_weights",
    "mha.no_weights",
    "mha.key_padding_bool",
    "mha.key_padding_float",
    "mha.attn_mask_bool",
    "mha.attn_mask_float",
    "mha.weights_distribution",
    "mha.fully_padded_rows",
    "mha.batch",
)


@dataclass(frozen=True)
class MhaCase:
    """One ``nn.MultiheadAttention`` forward (batch_first): inputs, parameters and options.

    ``key_padding_mask`` (B, S) and ``attn_mask`` (L, S) or (B·h, L, S) in
    PyTorch's convention (bool True = ignore; float = added).
    """

    query: F64
    key: F64
    value: F64
    params: MultiheadParameters
    key_padding_mask: NDArray[Any] | None = None
    attn_mask: NDArray[Any] | None = None
    average_attn_weights: bool = True
    need_weights: bool = True

    def kwargs(self, precision: Precision) -> dict[str, Any]:
        """The keyword arguments passed to the candidate."""

        def as_mask(m: NDArray[Any] | None) -> NDArray[Any] | None:
            if m is None or m.dtype == np.bool_:
                return m
            return _cast(m, precision)

        kw: dict[str, Any] = {"need_weights": self.need_weights}
        if self.key_padding_mask is not None:
            kw["key_padding_mask"] = as_mask(self.key_padding_mask)
        if self.attn_mask is not None:
            kw["attn_mask"] = as_mask(self.attn_mask)
        if not self.average_attn_weights:
            kw["average_attn_weights"] = False
        return kw

    def inputs(self, precision: Precision) -> dict[str, object]:
        """The arguments, as the candidate receives them (for reports)."""
        p = self.params.as_dtype(precision_dtype(precision))
        return {
            "query": _cast(self.query, precision),
            "key": _cast(self.key, precision),
            "value": _cast(self.value, precision),
            **{n: getattr(p, n) for n in p.__dataclass_fields__ if getattr(p, n) is not None},
            **self.kwargs(precision),
        }


MhaVariant = Literal[
    "plain", "kdim_vdim", "no_bias", "bias_kv", "zero_attn", "kpm_bool", "kpm_float",
    "mask_bool", "mask_float", "empty",
]  # fmt: skip


@st.composite
def mha_cases(
    draw: st.DrawFn,
    precision: Precision,
    variant: MhaVariant = "plain",
    *,
    average: bool = True,
    need_weights: bool = True,
) -> MhaCase:
    """Draw an ``nn.MultiheadAttention`` forward of the given variant (small sizes)."""
    heads, head_dim = draw(st.integers(1, 2)), draw(st.integers(1, 3))
    e = heads * head_dim
    kdim = draw(st.integers(1, 4)) if variant == "kdim_vdim" else e
    vdim = draw(st.integers(1, 4)) if variant == "kdim_vdim" else e
    batch, length, memory = (
        draw(st.integers(1, 2)),
        draw(st.integers(1, 4)),
        draw(st.integers(1, 4)),
    )

    def arr(*shape: int, magnitude: float = 1.0) -> F64:
        return draw(_values(shape, magnitude, precision))

    bias = variant != "no_bias"
    separate = kdim != e or vdim != e
    params = MultiheadParameters(
        embed_dim=e,
        num_heads=heads,
        out_proj_weight=arr(e, e),
        in_proj_weight=None if separate else arr(3 * e, e),
        q_proj_weight=arr(e, e) if separate else None,
        k_proj_weight=arr(e, kdim) if separate else None,
        v_proj_weight=arr(e, vdim) if separate else None,
        in_proj_bias=arr(3 * e) if bias else None,
        out_proj_bias=arr(e) if bias else None,
        bias_k=arr(e) if variant == "bias_kv" else None,
        bias_v=arr(e) if variant == "bias_kv" else None,
        add_zero_attn=variant == "zero_attn",
    )
    query = arr(batch, length, e, magnitude=3.0)
    key = arr(batch, memory, kdim, magnitude=3.0)
    value = arr(batch, memory, vdim, magnitude=3.0)
    kpm: NDArray[Any] | None = None
    mask: NDArray[Any] | None = None
    if variant in ("kpm_bool", "kpm_float", "empty"):
        ignore = draw(hnp.arrays(np.bool_, (batch, memory)))
        if variant == "empty":
            ignore[draw(st.integers(0, batch - 1))] = True
        else:
            ignore[:, draw(st.integers(0, memory - 1))] = False  # every query keeps a key
        kpm = ignore if variant != "kpm_float" else np.where(ignore, -np.inf, arr(batch, memory))
    if variant in ("mask_bool", "mask_float"):
        shape = draw(st.sampled_from([(length, memory), (batch * heads, length, memory)]))
        ignore = draw(hnp.arrays(np.bool_, shape))
        ignore[..., draw(st.integers(0, memory - 1))] = False
        mask = ignore if variant == "mask_bool" else np.where(ignore, -np.inf, arr(*shape))
    return MhaCase(query, key, value, params, kpm, mask, average, need_weights)


def _mha_call(
    candidate: Candidate, case: MhaCase, config: RunConfig
) -> tuple[NDArray[Any], NDArray[Any] | None]:
    p: Precision = config.precision
    params = case.params.as_dtype(precision_dtype(p))
    inputs = case.inputs(p)
    result = call(
        candidate,
        inputs,
        _cast(case.query, p),
        _cast(case.key, p),
        _cast(case.value, p),
        params,
        **case.kwargs(p),
    )
    require(
        isinstance(result, tuple) and len(result) == 2,
        "returns (output, weights)",
        f"got {type(result).__name__}",
        inputs,
    )
    out, weights = result
    return np.asarray(out), None if weights is None else np.asarray(weights)


def _mha_ref(case: MhaCase, arith: Arithmetic, safety: float) -> Reference:
    return multihead_reference(
        case.query,
        case.key,
        case.value,
        case.params,
        arith,
        safety,
        key_padding_mask=case.key_padding_mask,
        attn_mask=case.attn_mask,
        average_attn_weights=case.average_attn_weights,
    )


def _suite_mha(candidate: Candidate, config: RunConfig) -> list[Any]:
    arith, safety, precision = _config_arith(config)
    dtype = precision_dtype(precision)
    how = describe(
        arith, "projections γ_{n+1}, per-head SDPA bound, output projection γ_{E+1}", safety
    )
    run = CheckRun(config)

    def agree(case: MhaCase) -> tuple[F64, F64 | None, Reference]:
        out, weights = _mha_call(candidate, case, config)
        ref = _mha_ref(case, arith, safety)
        inputs = case.inputs(precision)
        compare(out, ref.value, ref.tolerance, inputs=inputs, how=how, dtype=dtype)
        if not case.need_weights:
            require(weights is None, "no weights unless asked", "weights returned", inputs)
            return to_float64(out), None, ref
        require(weights is not None, "weights when asked", "need_weights=True gave None", inputs)
        assert weights is not None
        assert ref.weights is not None
        assert ref.weights_tolerance is not None
        which = "averaged over heads" if case.average_attn_weights else "per head"
        compare(
            weights,
            ref.weights,
            ref.weights_tolerance,
            inputs=inputs,
            how="weights: " + how,
            law=f"attention weights ({which}) differ from the reference",
        )
        return to_float64(out), to_float64(weights), ref

    def agrees(case: MhaCase) -> None:
        agree(case)

    variants: tuple[tuple[str, MhaVariant], ...] = (
        ("mha.reference", "plain"),
        ("mha.kdim_vdim", "kdim_vdim"),
        ("mha.no_bias", "no_bias"),
        ("mha.bias_kv", "bias_kv"),
        ("mha.zero_attn", "zero_attn"),
        ("mha.key_padding_bool", "kpm_bool"),
        ("mha.key_padding_float", "kpm_float"),
        ("mha.attn_mask_bool", "mask_bool"),
        ("mha.attn_mask_float", "mask_float"),
    )
    for check, variant in variants:
        run.check(check, mha_cases(precision, variant), agrees)
    run.check("mha.per_head_weights", mha_cases(precision, "kpm_bool", average=False), agrees)
    run.check("mha.no_weights", mha_cases(precision, "kpm_bool", need_weights=False), agrees)

    def distribution(case: MhaCase) -> None:
        _, weights, _ = agree(case)
        assert weights is not None
        assert case.attn_mask is not None
        inputs = case.inputs(precision)
        mask = case.attn_mask
        h = case.params.num_heads
        per_head = mask if mask.ndim == 2 else mask.reshape(-1, h, *mask.shape[-2:])
        ignored = np.broadcast_to(per_head, weights.shape)
        _exactly_zero(
            weights, ignored, "masked positions exactly 0", "a masked key got weight", inputs
        )
        require(bool((weights >= 0).all()), "weights are a distribution", "negative weight", inputs)

    run.check(
        "mha.weights_distribution",
        mha_cases(precision, "mask_bool", average=False),
        distribution,
    )

    def fully_padded(case: MhaCase) -> None:
        out, _ = _mha_call(candidate, case, config)
        got = to_float64(out)
        inputs = case.inputs(precision)
        require(
            bool(np.isfinite(got).all()),
            "fully padded queries give the output bias",
            "NaN/inf output for a batch item whose every key is padded",
            inputs,
        )
        agree(case)

    run.check("mha.fully_padded_rows", mha_cases(precision, "empty"), fully_padded)

    def batch(case: MhaCase) -> None:
        got, _, ref = agree(case)
        for b in range(case.query.shape[0]):
            item = slice(b, b + 1)
            kpm = case.key_padding_mask
            one = MhaCase(
                case.query[item],
                case.key[item],
                case.value[item],
                case.params,
                None if kpm is None else kpm[item],
                case.attn_mask,
            )
            single = to_float64(_mha_call(candidate, one, config)[0])
            compare(
                single,
                got[item],
                2 * ref.tolerance[item],
                inputs={**case.inputs(precision), "batch_item": b},
                how="twice the reference tolerance (each result is within it)",
                law="batch consistency (one batch item alone = the same item in the batch)",
            )

    run.check("mha.batch", mha_cases(precision, "kpm_bool"), batch)
    return run.results


def check_mha(candidate: Candidate, config: RunConfig | None = None, **options: Any) -> list[Any]:
    """Check an ``nn.MultiheadAttention``-semantics function (see the module docstring)."""
    return _suite_mha(candidate, (config or RunConfig()).with_(**options))


register_kind(
    Kind(
        "softmax",
        "candidate(x) -> softmax over the last axis",
        lambda c, cfg: _suite_softmax(c, cfg, log=False),
        SOFTMAX_CHECKS,
    )
)
register_kind(
    Kind(
        "log_softmax",
        "candidate(x) -> log_softmax over the last axis",
        lambda c, cfg: _suite_softmax(c, cfg, log=True),
        LOG_SOFTMAX_CHECKS,
    )
)
register_kind(
    Kind(
        "sdpa",
        "candidate(query, key, value, attn_mask=None, dropout_p=0.0, is_causal=False, "
        "scale=None, enable_gqa=False) on (B, H, L, E) arrays (PyTorch's signature)",
        _suite_sdpa,
        SDPA_CHECKS,
        layouts=("BHLE", "BLHE"),
    )
)
register_kind(
    Kind(
        "mha",
        "candidate(query, key, value, params: MultiheadParameters, *, key_padding_mask=None, "
        "need_weights=True, attn_mask=None, average_attn_weights=True) -> (output, weights)",
        _suite_mha,
        MHA_CHECKS,
        layouts=("BLE",),
    )
)
