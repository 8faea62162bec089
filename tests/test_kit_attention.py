"""The conformance kit's attention checks: correct kernels pass, each planted bug is named.

Zoo: ``tests.kit_zoo`` (one correct NumPy SDPA/MHA computing in its input's
dtype, and one wrong implementation per classic bug). PyTorch's real kernels
are checked when torch is installed (importorskip).
"""

from typing import Any

import numpy as np
import pytest
from numpy.typing import NDArray

from impl.multihead import TransformerAttentionParameters, multi_head_attention_with_weights
from impl.testing import CheckResult, Outcome, RunConfig
from impl.testing.attention import (
    check_log_softmax,
    check_mha,
    check_sdpa,
    check_softmax,
)
from impl.testing.bounds import SAFETY_FACTOR, Arithmetic
from impl.testing.references import MultiheadParameters, multihead_reference
from tests import kit_zoo

FAST = 25
"""Hypothesis examples per check in these tests: every planted bug below is found within
this many (seen: ≤ 10 for each, with seed 0), and the suite stays in seconds."""


def _failed(results: list[CheckResult], check: str) -> list[CheckResult]:
    return [r for r in results if r.check == check and r.outcome is Outcome.FAIL]


@pytest.mark.parametrize("precision", ["float64", "float32", "float16"])
def test_kit_sdpa_correct_numpy_kernel_passes(precision: str) -> None:
    """A plain NumPy SDPA computing in the declared precision passes every SDPA check."""
    results = check_sdpa(kit_zoo.sdpa, precision=precision, max_examples=FAST)
    bad = [r.report() for r in results if r.outcome is not Outcome.PASS]
    assert not bad, "\n".join(bad)
    assert len(results) == 12


ZOO_CASES = [
    (name, precision)
    for name in sorted(kit_zoo.SDPA_ZOO)
    for precision in ("float64", "float32")
    # Note: an ε of 1e-6 in the denominator is ≈ 17u of float32, inside the rounding the
    # float32 bound allows a correct kernel (seen: not caught in float32); float64 catches it.
    if (name, precision) != ("epsilon_denominator", "float32")
]


@pytest.mark.parametrize(("name", "precision"), ZOO_CASES)
def test_kit_sdpa_zoo_rejected_by_named_check(name: str, precision: str) -> None:
    """Each wrong SDPA fails the check that names its bug, with an actionable report."""
    candidate, check = kit_zoo.SDPA_ZOO[name]
    results = check_sdpa(candidate, precision=precision, max_examples=FAST, checks=(check,))
    failed = _failed(results, check)
    assert failed, f"{name} was not rejected by {check}"
    report = failed[0].report()
    assert "broken:" in report
    assert "rerun:" in report
    assert "inputs (shrunk):" in report
    assert "Explanation" not in report
    assert "hypothesis" not in report.lower().replace("impl.testing", "")


def test_kit_sdpa_float32_computing_in_float16_is_rejected() -> None:
    """Useful bound: a float32 kernel that computes internally in float16 fails float32."""
    results = check_sdpa(
        kit_zoo.sdpa_in_float16, precision="float32", max_examples=FAST, checks=("sdpa.reference",)
    )
    assert _failed(results, "sdpa.reference")


def test_kit_sdpa_layout_blhe() -> None:
    """A candidate in JAX's BTNH layout passes with layout="BLHE" and fails without it."""

    def t(x: NDArray[Any]) -> NDArray[Any]:
        return np.swapaxes(x, -2, -3)

    def blhe(q: NDArray[Any], k: NDArray[Any], v: NDArray[Any], **kw: Any) -> NDArray[Any]:
        return t(kit_zoo.sdpa(t(q), t(k), t(v), **kw))

    ok = check_sdpa(blhe, layout="BLHE", max_examples=10, checks=("sdpa.reference",))
    assert ok[0].outcome is Outcome.PASS
    bad = check_sdpa(blhe, layout="BHLE", max_examples=FAST, checks=("sdpa.reference",))
    assert bad[0].outcome is Outcome.FAIL


def test_kit_softmax_correct_and_zoo() -> None:
    """softmax/log-softmax: correct kernels pass; no shift, wrong axis, log∘softmax rejected."""
    for precision in ("float64", "float32", "float16"):
        ok = check_softmax(kit_zoo.softmax, precision=precision, max_examples=FAST)
        assert all(r.outcome is Outcome.PASS for r in ok), [r.report() for r in ok]
    assert _failed(
        check_softmax(kit_zoo.softmax_no_shift, max_examples=FAST), "softmax.extreme_logits"
    )
    assert _failed(
        check_softmax(kit_zoo.softmax_first_axis, max_examples=FAST), "softmax.reference"
    )
    assert _failed(
        check_log_softmax(kit_zoo.log_softmax_naive, max_examples=FAST),
        "log_softmax.extreme_logits",
    )


def test_kit_impl_kernels_pass() -> None:
    """nndl8's own softmax and log-softmax pass their checks in float32 and float64."""
    from impl.softmax import log_softmax, softmax

    for precision in ("float64", "float32"):
        for results in (
            check_softmax(softmax, precision=precision, max_examples=FAST),
            check_log_softmax(log_softmax, precision=precision, max_examples=FAST),
        ):
            assert all(r.outcome is Outcome.PASS for r in results), [r.report() for r in results]


@pytest.mark.parametrize("precision", ["float64", "float32"])
def test_kit_mha_correct_numpy_kernel_passes(precision: str) -> None:
    """A NumPy nn.MultiheadAttention (attention 0 for fully padded rows) passes every check."""
    results = check_mha(kit_zoo.mha, precision=precision, max_examples=FAST)
    bad = [r.report() for r in results if r.outcome is not Outcome.PASS]
    assert not bad, "\n".join(bad)


@pytest.mark.parametrize("name", sorted(kit_zoo.MHA_ZOO))
def test_kit_mha_zoo_rejected_by_named_check(name: str) -> None:
    """Head split transposed, output projection dropped, padding polarity flipped: rejected."""
    candidate, check = kit_zoo.MHA_ZOO[name]
    # 100, not FAST: a transposed head split is invisible unless heads > 1 and head size
    # > 1, and hypothesis seeds its float pool from constants in the modules loaded so
    # far, so the 25 seeded examples differ with test order (seen once: none had both).
    results = check_mha(candidate, max_examples=100, checks=(check,))
    assert _failed(results, check), f"{name} was not rejected by {check}"


def test_kit_multihead_reference_matches_impl_multihead() -> None:
    """Where impl.multihead covers it (bool masks, no bias_kv/zero_attn) the references agree."""
    rng = np.random.default_rng(0)
    arith = Arithmetic.of("float64")
    for _ in range(20):
        h, d = int(rng.integers(1, 3)), int(rng.integers(1, 4))
        e, b, length, memory = h * d, 2, int(rng.integers(1, 5)), int(rng.integers(1, 5))
        params = MultiheadParameters(
            e,
            h,
            rng.normal(size=(e, e)),
            in_proj_weight=rng.normal(size=(3 * e, e)),
            in_proj_bias=rng.normal(size=3 * e),
            out_proj_bias=rng.normal(size=e),
        )
        q, k, v = (rng.normal(size=(b, n, e)) for n in (length, memory, memory))
        ignore = rng.random((b, memory)) < 0.3
        ignore[:, 0] = False
        ours = multihead_reference(q, k, v, params, arith, SAFETY_FACTOR, key_padding_mask=ignore)
        assert params.in_proj_weight is not None
        theirs = TransformerAttentionParameters.from_torch_layout(
            params.in_proj_weight, params.out_proj_weight, h, params.in_proj_bias,
            params.out_proj_bias,
        )  # fmt: skip
        out, weights = multi_head_attention_with_weights(q, k, v, theirs, key_padding_mask=~ignore)
        np.testing.assert_allclose(ours.value, out, rtol=1e-12, atol=1e-12)  # same sums, reordered
        assert ours.weights is not None
        np.testing.assert_allclose(ours.weights, weights.mean(axis=1), rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("precision", ["float64", "float32", "bfloat16"])
def test_kit_torch_kernels_pass(precision: str) -> None:
    """PyTorch's softmax, log_softmax, SDPA and nn.MultiheadAttention pass (CPU), with the
    declared expected difference (MHA's NaN for fully padded rows) reported as such."""
    pytest.importorskip("torch")
    from impl.testing.registry import targets

    for target in targets("torch"):
        if target.kind not in ("softmax", "log_softmax", "sdpa", "mha"):
            continue
        config = RunConfig(
            precision=precision,  # type: ignore[arg-type]  # a Precision literal
            max_examples=8,
            expected=target.expected,
            layout=target.layout,
            label=target.label,
        )
        from impl.testing.registry import kinds

        results = kinds()[target.kind].run(target.make(config), config)
        failed = [r.report() for r in results if r.outcome is Outcome.FAIL]
        assert not failed, "\n".join(failed)
        if target.kind == "mha":
            expected = [r.check for r in results if r.outcome is Outcome.EXPECTED]
            assert expected == ["mha.fully_padded_rows"]
