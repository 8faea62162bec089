"""The conformance kit's reports and runner: what a person reads when a check fails.

A report is only useful if it is exact and copy-pasteable: arrays print as
``np.array(...)`` text that evaluates back to the very array (float64 to its
last bit, bfloat16 at its exact value), the summary counts each outcome, a
failure without a single worst entry still prints its arrays, and a candidate's
own chatter on stdout neither breaks a check nor ends up in the output.
"""

import sys
from typing import Any

import ml_dtypes
import numpy as np
import pytest
from hypothesis import strategies as st

from impl.testing import Outcome, RunConfig
from impl.testing.report import CheckResult, Failure, format_array, format_results
from impl.testing.runner import CheckFailed, CheckRun, call, compare


def _evaluate(text: str) -> Any:
    """The array a ``format_array`` text denotes (the ``# shape`` comment dropped)."""
    return eval(text.split("  # shape")[0], {"np": np})  # our own report text


# ---- format_array ------------------------------------------------------------------------


def test_format_array_float64_round_trips_to_the_last_bit() -> None:
    """A float64 array prints with every digit it needs: 0.1 + 0.2 is 0.30000000000000004."""
    x = np.array([0.1 + 0.2, 1 / 3, -2.5])
    text = format_array(x)
    assert "0.30000000000000004" in text
    assert text.endswith("dtype='float64')  # shape (3,)")
    back = _evaluate(text)
    assert back.dtype == np.float64
    assert np.array_equal(back, x)


def test_format_array_bfloat16_shows_the_exact_value() -> None:
    """bfloat16 0.1 is 0.10009765625 exactly; the report says so (NumPy alone prints 0.100098),
    and the text evaluates back to the same bfloat16 array."""
    x = np.array([0.1, 1.5, -3.0], dtype=ml_dtypes.bfloat16)
    text = format_array(x)
    assert "0.10009765625" in text
    assert "dtype='bfloat16'" in text
    back = _evaluate(text)
    assert back.dtype == x.dtype
    assert np.array_equal(back.astype(np.float64), x.astype(np.float64))


# ---- format_results and CheckResult.report -----------------------------------------------


def _failure() -> Failure:
    return Failure(
        law="rows sum to 1",
        message="1 of 2 entries outside the tolerance",
        expected=np.array([1.0, 1.0]),
        actual=np.array([1.0, 1.25]),
        tolerance=np.array([0.0, 0.0]),
        worst=(1,),
    )


def test_format_results_counts_each_outcome() -> None:
    """The summary line counts passes, expected differences and failures (2, 1, 1 here)."""
    results = [
        CheckResult("softmax.reference", Outcome.PASS),
        CheckResult("softmax.distribution", Outcome.PASS),
        CheckResult("softmax.shift", Outcome.EXPECTED, failure=_failure(), reason="declared"),
        CheckResult("softmax.masked_exact_zero", Outcome.FAIL, failure=_failure()),
    ]
    text = format_results(results)
    assert "\n2 passed, 1 expected differences, 1 failed\n" in text
    assert "worst entry [1]: expected 1.0, got 1.25, |difference| 0.25 > tolerance 0.0" in text


def test_report_of_a_failure_without_a_worst_entry_prints_its_arrays() -> None:
    """A law broken as a whole (no single worst entry) still shows expected and got in full, and
    a worst index without arrays is not dereferenced."""
    whole = Failure(
        law="rows sum to 1",
        message="the row sums differ",
        expected=np.array([1.0, 1.0]),
        actual=np.array([1.0, 3.0]),
    )
    report = CheckResult("softmax.distribution", Outcome.FAIL, failure=whole).report()
    assert "worst entry" not in report
    assert "expected = np.array([1., 1.], dtype='float64')" in report
    assert "got = np.array([1., 3.], dtype='float64')" in report
    index_only = Failure(law="output shape", message="got (2,)", worst=(0,))
    report = CheckResult("softmax.reference", Outcome.FAIL, failure=index_only).report()
    assert "worst entry" not in report
    assert "broken: output shape — got (2,)" in report


# ---- runner ------------------------------------------------------------------------------


def test_compare_reports_the_reference_in_float64() -> None:
    """An integer reference (a Hopfield state of ±1) is compared and reported as float64, like
    the candidate's result beside it."""
    with pytest.raises(CheckFailed) as raised:
        compare(
            np.array([1.0, 0.5]),
            np.array([1, -1], dtype=np.int8),
            0.0,
            inputs={},
            how="exact",
        )
    failure = raised.value.failure
    assert failure.expected is not None
    assert failure.expected.dtype == np.float64
    assert failure.worst == (1,)
    report = CheckResult("hopfield.reference", Outcome.FAIL, failure=failure).report()
    assert "expected = np.array([ 1., -1.], dtype='float64')" in report


def test_check_run_silences_a_chatty_candidate(capsys: pytest.CaptureFixture[str]) -> None:
    """A candidate that writes to stdout (print or sys.stdout.write, as progress bars do) passes
    its check, and its chatter does not interleave with the CLI's rows."""

    def chatty(x: float) -> float:
        print("computing", x)
        sys.stdout.write("progress\n")
        return x

    def body(x: float) -> None:
        got = call(chatty, {"x": x}, x)
        assert got == x

    run = CheckRun(RunConfig(max_examples=3, label="chatty"))
    result = run.check("demo.chatty", st.floats(allow_nan=False), body)
    assert result is not None
    assert result.outcome is Outcome.PASS, result.report()
    assert result.examples == 3
    assert capsys.readouterr().out == ""


def test_format_array_lines_fit_in_100_columns() -> None:
    """A report's arrays wrap below 100 columns (a terminal, a CI log): NumPy's
    max_line_width=100 keeps every line shorter than 100. The seeded (5, 39) array below
    is one whose rows would be wrapped differently at 101 (a 100-character line)."""
    values = np.round(np.random.default_rng(0).normal(size=(5, 39)) * 10, 5)
    body = format_array(values).removeprefix("np.array(").split("  # shape")[0]
    assert max(len(line) for line in body.splitlines()) < 100
    assert np.array_equal(eval(format_array(values).split("  # shape")[0], {"np": np}), values)


def test_format_array_prints_in_full_whatever_the_callers_print_options() -> None:
    """A small array is printed in full even when the user has lowered NumPy's
    summarisation threshold: a report must be copy-pasteable, never '...'."""
    values = np.arange(100.0)
    with np.printoptions(threshold=5):
        text = format_array(values)
    assert "..." not in text
    assert np.array_equal(eval(text.split("  # shape")[0], {"np": np}), values)
