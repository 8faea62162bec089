"""What a conformance check returns: an outcome per check, and a report a person can act on.

A check ends in one of three ``Outcome`` s: ``PASS``; ``EXPECTED`` (it failed,
but the adapter declares this very difference, with its reason, in its file of
expected differences); ``FAIL``. A failing check carries a ``Failure``: which
law was broken (or "differs from the reference"), the shrunk inputs, expected
and actual values at the worst entry and in full for small cases, the tolerance
and how it was computed, the declared precision and layout, and the command that
reruns exactly that example.
"""

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

__all__ = [
    "DIFFERS_FROM_REFERENCE",
    "CheckResult",
    "Failure",
    "Outcome",
    "format_array",
    "format_results",
]

DIFFERS_FROM_REFERENCE = "differs from the reference"
"""The law name of an agreement check (candidate vs nndl8's float64 reference)."""

_FULL_PRINT_LIMIT = 256
"""Arrays with at most this many entries are printed in full in a report."""


class Outcome(enum.Enum):
    """The outcome of one check."""

    PASS = "pass"
    EXPECTED = "expected difference"
    FAIL = "FAIL"


def format_array(x: object) -> str:
    """An array printed in full (if small) as copy-pasteable ``np.array(...)`` text."""
    if not isinstance(x, np.ndarray):
        return repr(x)
    a = x
    dtype = a.dtype.name
    if a.size > _FULL_PRINT_LIMIT:
        return f"<{dtype} array of shape {a.shape}, too large to print; rerun to inspect>"
    # ml_dtypes' types (bfloat16 among them) have dtype kind "V"; NumPy prints them
    # to a few digits, so they are shown through float64, which holds each exactly.
    shown = a.astype(np.float64) if a.dtype.kind == "V" else a
    body = np.array2string(
        shown,
        separator=", ",
        threshold=_FULL_PRINT_LIMIT + 1,
        max_line_width=100,
        floatmode="unique" if shown.dtype == np.float64 else "maxprec",
    )
    return f"np.array({body}, dtype={dtype!r})  # shape {a.shape}"


@dataclass(frozen=True)
class Failure:
    """Everything a person needs to act on a failed check.

    ``law`` is the broken law's name, or ``DIFFERS_FROM_REFERENCE``; ``message``
    says in words what went wrong (e.g. "NaN where the reference is finite");
    ``inputs`` are the (shrunk) arguments the candidate was called with;
    ``expected``/``actual``/``tolerance`` are whole arrays (printed in full when
    small), ``worst`` the index of the entry furthest outside the tolerance;
    ``tolerance_how`` says how the tolerance was computed.
    """

    law: str
    message: str
    inputs: Mapping[str, object] = field(default_factory=dict)
    expected: NDArray[Any] | None = None
    actual: NDArray[Any] | None = None
    tolerance: NDArray[Any] | None = None
    tolerance_how: str = ""
    worst: tuple[int, ...] | None = None


@dataclass(frozen=True)
class CheckResult:
    """One row of a conformance run: a check's id, outcome and (if not passed) its failure.

    ``check`` is a dotted id ``family.check`` (e.g. ``sdpa.causal``); ``label``
    names the candidate; ``precision`` and ``layout`` are what it declared;
    ``reason`` is the expected difference's reason when ``outcome`` is
    ``EXPECTED``; ``rerun`` is a shell command that reruns just this check with
    the same seed; ``examples`` counts the examples run.
    """

    check: str
    outcome: Outcome
    label: str = ""
    precision: str = ""
    layout: str = ""
    failure: Failure | None = None
    reason: str = ""
    rerun: str = ""
    examples: int = 0
    note: str = ""

    def report(self) -> str:
        """The full, multi-line report of this check (one line when it passed)."""
        head = f"{self.outcome.value:20} {self.check}"
        if self.outcome is Outcome.PASS:
            return head + (f"  ({self.note})" if self.note else "")
        lines = [head]
        if self.outcome is Outcome.EXPECTED:
            lines.append(f"  expected difference: {self.reason}")
        f = self.failure
        if f is not None:
            lines.append(f"  broken: {f.law} — {f.message}")
            lines.append(
                f"  candidate: {self.label} (declared precision {self.precision}"
                + (f", layout {self.layout})" if self.layout else ")")
            )
            if f.worst is not None and f.expected is not None and f.actual is not None:
                w = f.worst
                exp = float(np.asarray(f.expected, dtype=np.float64)[w])
                act = float(np.asarray(f.actual, dtype=np.float64)[w])
                tol = "" if f.tolerance is None else float(np.asarray(f.tolerance)[w])
                lines.append(
                    f"  worst entry {list(w)}: expected {exp!r}, got {act!r}, "
                    f"|difference| {abs(act - exp)!r} > tolerance {tol!r}"
                )
            if f.tolerance_how:
                lines.append(f"  tolerance: {f.tolerance_how}")
            if self.outcome is Outcome.FAIL:
                lines.append("  inputs (shrunk):")
                lines += [f"    {k} = {format_array(v)}" for k, v in f.inputs.items()]
                for name, arr in (
                    ("expected", f.expected),
                    ("got", f.actual),
                    ("tolerance", f.tolerance),
                ):
                    if arr is not None:
                        lines.append(f"  {name} = {format_array(arr)}")
        if self.rerun:
            lines.append(f"  rerun: {self.rerun}")
        return "\n".join(lines)


def format_results(results: Sequence[CheckResult]) -> str:
    """A table of one row per check, then the full report of each check that did not pass."""
    rows = [f"{r.outcome.value:20} {r.check:40} {r.label}" for r in results]
    counts = {o: sum(r.outcome is o for r in results) for o in Outcome}
    rows.append(
        f"\n{counts[Outcome.PASS]} passed, {counts[Outcome.EXPECTED]} expected differences, "
        f"{counts[Outcome.FAIL]} failed"
    )
    details = [r.report() for r in results if r.outcome is not Outcome.PASS]
    return "\n".join(rows + (["", *details] if details else []))
