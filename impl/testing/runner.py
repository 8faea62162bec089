"""Run one check with hypothesis and turn its outcome into a ``CheckResult``.

A check is a strategy of cases and a body that calls the candidate and raises
``CheckFailed`` (carrying a ``Failure``) when a law is broken. ``CheckRun.check``
runs it under hypothesis with a fixed seed (same seed → same examples, so the
report's "rerun" line reproduces the failure), shrinks a failing case, and
formats the result itself: hypothesis's "explain" phase (whose lines point into
NumPy's printing code) and its own falsifying-example printout are switched off.

Helpers for bodies: ``call`` (the candidate's exceptions become failures),
``compare`` (agreement within an elementwise tolerance, NaN-aware), ``require``.
"""

import contextlib
import io
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

import numpy as np
from hypothesis import HealthCheck, Phase, Verbosity, given, seed, settings
from hypothesis import strategies as st
from hypothesis.errors import FailedHealthCheck, Flaky, HypothesisException
from numpy.typing import ArrayLike, NDArray

from impl.testing.registry import RunConfig
from impl.testing.report import DIFFERS_FROM_REFERENCE, CheckResult, Failure, Outcome

__all__ = ["CheckFailed", "CheckRun", "call", "compare", "require", "to_float64"]

T = TypeVar("T")


class CheckFailed(AssertionError):  # noqa: N818  # it is an assertion, named for what it carries
    """Raised by a check's body: a law was broken; ``failure`` says which and how."""

    def __init__(self, failure: Failure) -> None:
        super().__init__(f"{failure.law}: {failure.message}")
        self.failure = failure


def to_float64(x: object) -> NDArray[np.float64]:
    """A candidate's result as a float64 array (bfloat16/float16/float32 converted exactly)."""
    a = np.asarray(x)
    result: NDArray[np.float64] = a.astype(np.float64)
    return result


def call(
    candidate: Callable[..., Any], inputs: Mapping[str, object], *args: object, **kwargs: object
) -> Any:
    """Call the candidate; an exception it raises becomes a ``CheckFailed`` naming it."""
    try:
        return candidate(*args, **kwargs)
    except CheckFailed:
        raise
    except Exception as error:
        raise CheckFailed(
            Failure(
                law="candidate raised",
                message=f"{type(error).__name__}: {error}",
                inputs=dict(inputs),
            )
        ) from error


def require(condition: bool, law: str, message: str, inputs: Mapping[str, object]) -> None:
    """Raise ``CheckFailed(law, message)`` unless ``condition``."""
    if not condition:
        raise CheckFailed(Failure(law=law, message=message, inputs=dict(inputs)))


def compare(
    actual: ArrayLike,
    expected: ArrayLike,
    tolerance: ArrayLike,
    *,
    inputs: Mapping[str, object],
    how: str,
    law: str = DIFFERS_FROM_REFERENCE,
    dtype: np.dtype[Any] | None = None,
) -> None:
    """Require |actual − expected| ≤ tolerance entrywise (after shape and dtype checks).

    ``expected`` and ``tolerance`` are float64 (the reference and its derived
    bound); ``actual`` is the candidate's result. Non-finite expected entries
    (−inf of a log-softmax) must be matched exactly; NaN in ``actual`` where the
    reference is a number always fails. ``dtype``: the dtype ``actual`` must have.
    """
    raw = np.asarray(actual)
    exp = np.asarray(expected, dtype=np.float64)
    tol = np.broadcast_to(np.asarray(tolerance, dtype=np.float64), exp.shape)
    if raw.shape != exp.shape:
        raise CheckFailed(
            Failure(
                law="output shape",
                message=f"got shape {raw.shape}, expected {exp.shape}",
                inputs=dict(inputs),
            )
        )
    if dtype is not None and raw.dtype != dtype:
        raise CheckFailed(
            Failure(
                law="output dtype",
                message=f"got dtype {raw.dtype}, expected the declared {np.dtype(dtype).name}",
                inputs=dict(inputs),
            )
        )
    got = to_float64(raw)
    with np.errstate(invalid="ignore"):
        finite = np.isfinite(exp)
        error = np.where(finite, np.abs(got - exp), np.where(got == exp, 0.0, np.inf))
        error = np.where(np.isnan(error), np.inf, error)
        excess = error - tol
    if exp.size and float(np.max(excess)) > 0:
        worst = tuple(int(i) for i in np.unravel_index(int(np.argmax(excess)), exp.shape))
        nan = bool(np.isnan(got[worst]))
        message = (
            "NaN where the reference is a number"
            if nan
            else f"{int(np.sum(excess > 0))} of {exp.size} entries outside the tolerance"
        )
        raise CheckFailed(
            Failure(
                law=law,
                message=message,
                inputs=dict(inputs),
                expected=exp,
                actual=got,
                tolerance=np.array(tol),
                tolerance_how=how,
                worst=worst,
            )
        )


class CheckRun:
    """Collects the results of a suite's checks under one ``RunConfig``.

    ``check(id, strategy, body)`` runs ``body(case)`` on hypothesis-drawn cases
    unless ``config.checks`` deselects the id; ``results`` holds one
    ``CheckResult`` per check run.
    """

    def __init__(self, config: RunConfig) -> None:
        self.config = config
        self.results: list[CheckResult] = []

    def check(
        self,
        check_id: str,
        strategy: st.SearchStrategy[T],
        body: Callable[[T], None],
        *,
        max_examples: int | None = None,
    ) -> CheckResult | None:
        """Run one check (if selected) and record its result."""
        config = self.config
        if not config.selected(check_id):
            return None
        examples = config.max_examples if max_examples is None else max_examples
        counter = [0]

        def counted(case: T) -> None:
            counter[0] += 1
            body(case)

        test = settings(
            max_examples=examples,
            database=None,
            deadline=None,
            derandomize=False,
            # No "explain" phase: its notes point into NumPy's printing code.
            phases=(Phase.explicit, Phase.generate, Phase.shrink),
            report_multiple_bugs=False,
            print_blob=False,
            verbosity=Verbosity.quiet,
            suppress_health_check=list(HealthCheck),
        )(seed(config.seed)(given(strategy)(counted)))
        failure: Failure | None = None
        try:
            with contextlib.redirect_stdout(io.StringIO()):
                test()
        except CheckFailed as failed:
            failure = failed.failure
        except (Flaky, FailedHealthCheck, HypothesisException) as error:
            failure = Failure(law="unstable candidate", message=f"{type(error).__name__}: {error}")
        result = self._result(check_id, failure, counter[0])
        self.results.append(result)
        return result

    def record(self, check_id: str, failure: Failure | None, *, note: str = "") -> None:
        """Record the outcome of a check run without hypothesis (a fixed example)."""
        if self.config.selected(check_id):
            self.results.append(self._result(check_id, failure, 1, note=note))

    def _result(
        self, check_id: str, failure: Failure | None, examples: int, *, note: str = ""
    ) -> CheckResult:
        config = self.config
        expected = config.expected_difference(check_id)
        common: dict[str, Any] = {
            "check": check_id,
            "label": config.label,
            "precision": config.precision,
            "layout": config.layout,
            "examples": examples,
        }
        if failure is None:
            if expected is not None:
                note = "declared expected difference not observed"
            return CheckResult(outcome=Outcome.PASS, note=note, **common)
        if expected is not None:
            return CheckResult(
                outcome=Outcome.EXPECTED, failure=failure, reason=expected.reason, **common
            )
        return CheckResult(
            outcome=Outcome.FAIL, failure=failure, rerun=config.rerun(check_id), **common
        )
