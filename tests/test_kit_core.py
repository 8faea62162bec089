"""The conformance kit's machinery: precisions and γ_n, reports, expected differences, the CLI,
and the tolerance experiment (honest: correct kernels never exceed the bound; useful: a
float32 kernel computing in a lower precision does)."""

import io
import os
import sys
import types
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import impl.testing.cli
from impl.testing import Outcome, RunConfig, gamma, unit_roundoff
from impl.testing.attention import check_sdpa
from impl.testing.cli import main
from impl.testing.margins import FAMILIES, downcast, impl_kernels, margins, torch_kernels
from impl.testing.registry import ExpectedDifference, Target
from impl.testing.tolerances import precision_dtype, round_to
from tests import kit_zoo

THOROUGH = os.environ.get("HYPOTHESIS_PROFILE") == "thorough"
CASES = 10_000 if THOROUGH else 150
"""Random cases per (precision, family) in the tolerance experiment: ≥ 10⁴ in the thorough
profile (the issue's size), a few seconds' worth by default."""


def test_kit_unit_roundoff_and_gamma() -> None:
    """u per precision (Higham Table 2.1) and γ_n = nu/(1 − nu) (Lemma 3.1)."""
    assert unit_roundoff("float64") == 2.0**-53
    assert unit_roundoff("float32") == 2.0**-24
    assert unit_roundoff("float16") == 2.0**-11
    assert unit_roundoff("bfloat16") == 2.0**-8
    assert gamma(3, "bfloat16") == pytest.approx(3 * 2.0**-8 / (1 - 3 * 2.0**-8), rel=1e-15)
    with pytest.raises(ValueError, match="undefined"):
        gamma(256, "bfloat16")
    # u is half the spacing just above 1: rounding 1 + u·1.5 gives 1 + 2u.
    for p in ("float32", "float16", "bfloat16"):
        u = unit_roundoff(p)
        assert round_to(1 + 1.5 * u, p)[()] == 1 + 2 * u
        assert np.dtype(precision_dtype(p)).itemsize in (2, 4)


def test_kit_expected_difference_is_reported_not_skipped() -> None:
    """A failing check listed as expected is reported as such, with its reason and the failure."""
    config = RunConfig(
        expected=(ExpectedDifference("sdpa.fully_masked_rows", "planted for the test"),),
        max_examples=20,
        checks=("sdpa.fully_masked_rows", "sdpa.reference"),
    )
    results = check_sdpa(kit_zoo.nan_on_empty_rows, config)
    outcome = {r.check: r for r in results}
    assert outcome["sdpa.fully_masked_rows"].outcome is Outcome.EXPECTED
    assert outcome["sdpa.fully_masked_rows"].failure is not None
    assert "planted for the test" in outcome["sdpa.fully_masked_rows"].report()
    assert outcome["sdpa.reference"].outcome is Outcome.PASS


def test_kit_expected_difference_not_observed_is_noted() -> None:
    """An expected difference that does not occur passes with a note (so stale entries show)."""
    config = RunConfig(
        expected=(ExpectedDifference("sdpa.reference", "stale"),),
        max_examples=5,
        checks=("sdpa.reference",),
    )
    (result,) = check_sdpa(kit_zoo.sdpa, config)
    assert result.outcome is Outcome.PASS
    assert "not observed" in result.note


def test_kit_cli_function_target(capsys: pytest.CaptureFixture[str]) -> None:
    """`nndl8 conformance module:function --kind sdpa` exits 1 on a wrong kernel, with a rerun
    line that reproduces it, and 0 on a correct one."""
    argv = ["tests.kit_zoo:bottom_right_causal", "--kind", "sdpa", "--dtype", "float32"]
    assert main([*argv, "--check", "sdpa.causal", "--examples", "20"]) == 1
    out = capsys.readouterr().out
    assert "FAIL" in out
    # The summary counts the outcomes before the failures' reports.
    assert "\n\n0 passed, 0 expected differences, 1 failed\n\nFAIL" in out
    assert "rerun: nndl8 conformance tests.kit_zoo:bottom_right_causal --kind sdpa" in out
    rerun = out.split("rerun: ")[1].split("\n")[0].split()[2:]
    assert main(rerun) == 1  # the same example again
    good = ["tests.kit_zoo:sdpa", "--kind", "sdpa", "--dtype", "float64,bfloat16"]
    assert main([*good, "--examples", "5"]) == 0
    assert main(["--list"]) == 0
    assert "sdpa.gqa" in capsys.readouterr().out
    assert main(["tests.kit_zoo:sdpa"]) == 2  # no --kind


class _FlushRecorder(io.StringIO):
    """A stdout that remembers what had been written at each flush."""

    def __init__(self) -> None:
        super().__init__()
        self.at_flush: list[str] = []

    def flush(self) -> None:
        self.at_flush.append(self.getvalue())
        super().flush()


def test_kit_cli_rows_are_flushed_as_checks_finish(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each row is flushed as its check finishes, so a run of minutes piped into a file or
    ``tee`` shows its progress instead of all rows at the end."""
    stdout = _FlushRecorder()
    monkeypatch.setattr(sys, "stdout", stdout)
    assert main(["tests.kit_zoo:softmax", "--kind", "softmax", "--examples", "3"]) == 0
    rows = [line for line in stdout.getvalue().splitlines() if line.startswith("pass ")]
    assert len(rows) == 6
    flushed_rows = [text.splitlines()[-1] for text in stdout.at_flush if text.endswith("\n")]
    assert all(row in flushed_rows for row in rows)


def test_kit_cli_framework_target_caps_examples(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A framework target's ``max_examples`` caps ``--examples`` (JAX compiles every new shape);
    without a cap ``--examples`` holds. Checked on a stand-in framework of NumPy kernels."""
    seen: list[tuple[str, int]] = []

    def make(config: RunConfig) -> Callable[..., Any]:
        seen.append((config.label, config.max_examples))
        return kit_zoo.softmax

    fake = [
        Target("jax", "softmax", "capped", make, max_examples=3),
        Target("jax", "softmax", "cap above", make, max_examples=50),
        Target("jax", "softmax", "uncapped", make),
    ]
    monkeypatch.setattr(impl.testing.cli, "targets", lambda framework=None: fake)
    monkeypatch.setitem(sys.modules, "jax", types.ModuleType("jax"))
    argv = ["jax", "--dtype", "float64", "--examples", "5", "--check", "softmax.reference"]
    assert main(argv) == 0
    assert seen == [("capped", 3), ("cap above", 5), ("uncapped", 5)]
    assert "3 passed, 0 expected differences, 0 failed" in capsys.readouterr().out


@pytest.mark.parametrize("precision", ["float64", "float32"])
def test_kit_bound_honest_for_impl_kernels(precision: str) -> None:
    """nndl8's own kernels, run in the precision, never exceed the derived bound."""
    kernels = impl_kernels()
    for family in FAMILIES:
        if family in kernels:
            m = margins(kernels, family, precision, CASES)  # type: ignore[arg-type]
            assert m.worst <= 1, (family, m)


def test_kit_bound_honest_for_numpy_float16_kernel() -> None:
    """A NumPy SDPA and softmax computing in float16 stay within the float16 bound."""
    kernels = {"softmax": kit_zoo.softmax, "sdpa": kit_zoo.sdpa, "sdpa_causal": kit_zoo.sdpa}
    for family in kernels:
        m = margins(kernels, family, "float16", CASES)
        assert m.worst <= 1, (family, m)


def test_kit_bound_useful_against_hidden_lower_precision() -> None:
    """A float32 kernel computing in float16 exceeds the float32 bound (by a wide margin)."""
    planted = downcast({"softmax": kit_zoo.softmax, "sdpa": kit_zoo.sdpa}, "float16", "float32")
    for family in planted:
        assert margins(planted, family, "float32", 50).worst > 10, family


@pytest.mark.parametrize("precision", ["float64", "float32", "bfloat16", "float16"])
def test_kit_bound_honest_for_torch_kernels(precision: str) -> None:
    """PyTorch's CPU kernels never exceed the bound; in bfloat16 computation they exceed the
    float32 one."""
    pytest.importorskip("torch")
    kernels = torch_kernels("cpu", precision)  # type: ignore[arg-type]
    for family in FAMILIES:
        m = margins(kernels, family, precision, CASES // 3)  # type: ignore[arg-type]
        assert m.worst <= 1, (family, m)
    if precision == "bfloat16":
        planted = downcast(kernels, "bfloat16", "float32")
        assert margins(planted, "sdpa", "float32", 30).worst > 10
