"""Printing and checking helpers shared by the proof scripts.

A proof prints its claim, then numbered steps (each with its reason), and ends
with ``qed()`` after at least one ``check_*`` call. Every check raises
``ProofError`` when it does not hold, so a broken derivation fails loudly
(and ``python -m proofs`` exits non-zero).

A ``Derivation`` records what it narrates as a list of events (``Title``,
``Claim``, ``Step``, ``Note``, ``Check``, ``Output``, ``Figure``, ``Verdict``).
By default each event is printed to the terminal as it happens
(``proofs._render.terminal_event``); inside ``recording()`` the events are
collected instead, together with anything the proof prints itself, so that
``proofs._render`` can turn them into Markdown or HTML.
"""

import io
import sys
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager, redirect_stdout
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import sympy

Strength = Literal["symbolic", "finite", "numeric", "statistical"]
"""How much a check establishes (printed beside it and counted in the QED line):

- ``symbolic``: holds for every size (a sympy derivation over symbolic sizes, or induction);
- ``finite``: exact, but only for the sizes listed in the check's text;
- ``numeric``: a floating-point evaluation;
- ``statistical``: a sampled experiment, with its confidence stated.
"""

STRENGTHS: tuple[Strength, ...] = ("symbolic", "finite", "numeric", "statistical")


class ProofError(AssertionError):
    """A step of a derivation did not hold."""


# ---- Events: what a derivation narrates, in order ----------------------------------------


@dataclass(frozen=True)
class Title:
    """The derivation's title and its book reference."""

    title: str
    book: str


@dataclass(frozen=True)
class Claim:
    """The claim: a sympy relation or expression, and a sentence about it."""

    statement: Any
    text: str


@dataclass(frozen=True)
class Note:
    """A line of explanation."""

    text: str


@dataclass(frozen=True)
class Step:
    """A numbered step, its reason and (optionally) its expression."""

    number: int
    reason: str
    expr: Any = None


@dataclass(frozen=True)
class Check:
    """A check that held, with its strength tag (``"untagged"`` when none was given)."""

    text: str
    strength: str


@dataclass(frozen=True)
class Output:
    """Text the proof printed itself (a table of measurements)."""

    text: str


@dataclass(frozen=True)
class Figure:
    """An image file the proof wrote (a plot)."""

    path: Path
    caption: str


@dataclass(frozen=True)
class Verdict:
    """The end of a derivation: QED with its strength counts, or the failure."""

    holds: bool
    text: str


Event = Title | Claim | Note | Step | Check | Output | Figure | Verdict


# ---- Where events go: the terminal (default) or a recording ------------------------------


@dataclass
class TerminalStyle:
    """How events are printed: line width (None: unlimited) and Unicode or ASCII art."""

    width: int | None = 100
    unicode: bool = True


@dataclass
class Recording:
    """Derivations collected by ``recording()``, with the text their proofs printed."""

    derivations: list["Derivation"] = field(default_factory=list)
    captured: io.StringIO = field(default_factory=io.StringIO)

    def drain(self) -> None:
        """Move what the proof printed since the last event into the current derivation."""
        text = self.captured.getvalue()
        if not text.strip() or not self.derivations:
            return
        self.captured.seek(0)
        self.captured.truncate()
        self.derivations[-1].events.append(Output(text.strip("\n")))


_style = TerminalStyle()
_recordings: list[Recording] = []
_artefacts = Path("out")


def artefact_dir() -> Path:
    """Where proofs write files (figures): ``out/`` under the working directory by default."""
    return _artefacts


@contextmanager
def artefacts_in(directory: Path) -> Iterator[None]:
    """Have the proofs run inside write their files (figures) to ``directory``."""
    global _artefacts
    saved = _artefacts
    _artefacts = directory
    try:
        yield
    finally:
        _artefacts = saved


@contextmanager
def terminal_style(*, width: int | None, unicode: bool) -> Iterator[None]:
    """Print events at most ``width`` columns wide (None: no limit), in Unicode or ASCII."""
    global _style
    saved = _style
    _style = TerminalStyle(width, unicode)
    try:
        yield
    finally:
        _style = saved


@contextmanager
def recording() -> Iterator[Recording]:
    """Collect the derivations started inside, and what their proofs print, without printing."""
    record = Recording()
    _recordings.append(record)
    try:
        with redirect_stdout(record.captured):
            yield record
    finally:
        record.drain()
        _recordings.pop()


def _print_event(event: Event) -> None:
    from proofs._render import terminal_event  # here: _render imports this module's events

    sys.stdout.write(terminal_event(event, width=_style.width, unicode=_style.unicode))
    sys.stdout.flush()


# ---- The derivation ----------------------------------------------------------------------


class Derivation:
    """Narrates one derivation: claim, steps, checks, QED."""

    def __init__(self, title: str, book: str) -> None:
        self.title = title
        self.book = book
        self.events: list[Event] = []
        self._step = 0
        self._checks = 0
        self.strength_counts: Counter[str] = Counter()
        if _recordings:
            _recordings[-1].drain()
            _recordings[-1].derivations.append(self)
        self._emit(Title(title, book))

    def _emit(self, event: Event) -> None:
        if _recordings:
            _recordings[-1].drain()
            self.events.append(event)
        else:
            self.events.append(event)
            _print_event(event)

    def claim(self, statement: Any, text: str = "") -> None:
        """Print the claim (a sympy relation or expression)."""
        self._emit(Claim(statement, text))

    def note(self, text: str) -> None:
        """Print a line of explanation."""
        self._emit(Note(text))

    def step(self, reason: str, expr: Any = None) -> None:
        """Print a numbered step, its reason and (optionally) its expression."""
        self._step += 1
        self._emit(Step(self._step, reason, expr))

    def figure(self, path: Path, caption: str) -> None:
        """Show an image the proof wrote (its path on the terminal; embedded in documents)."""
        self._emit(Figure(path, caption))

    def check_zero(self, what: str, residual: Any, *, strength: Strength | None = None) -> None:
        """Check that a residual simplifies to exactly 0."""
        reduced = sympy.simplify(residual)
        if reduced != 0:
            raise ProofError(f"{what}: residual {reduced} is not 0")
        self._passed(f"{what}: residual simplifies to 0", strength)

    def check_equal(
        self, what: str, lhs: Any, rhs: Any, *, strength: Strength | None = None
    ) -> None:
        """Check lhs − rhs simplifies to 0 (a derived result against its closed form)."""
        if isinstance(lhs, sympy.MatrixBase) or isinstance(rhs, sympy.MatrixBase):
            difference = (sympy.Matrix(lhs) - sympy.Matrix(rhs)).applyfunc(sympy.simplify)
            if any(entry != 0 for entry in difference):
                raise ProofError(f"{what}: matrices differ by {difference}")
            self._passed(f"{what}: matrices agree entrywise", strength)
            return
        self.check_zero(what, lhs - rhs, strength=strength)

    def check_true(self, what: str, condition: bool, *, strength: Strength | None = None) -> None:
        """Check a boolean condition (an inequality decided exactly, a numeric bound)."""
        if not condition:
            raise ProofError(f"{what}: does not hold")
        self._passed(what, strength)

    def _passed(self, text: str, strength: Strength | None) -> None:
        self._checks += 1
        tag = strength or "untagged"
        self.strength_counts[tag] += 1
        self._emit(Check(text, tag))

    def strength_summary(self) -> str:
        """``"9 symbolic, 4 finite, 0 numeric, 0 statistical"`` (plus any untagged checks)."""
        parts = [f"{self.strength_counts[s]} {s}" for s in STRENGTHS]
        if self.strength_counts["untagged"]:
            parts.append(f"{self.strength_counts['untagged']} untagged")
        return ", ".join(parts)

    def fail(self, message: str) -> None:
        """Record that the derivation did not hold (the runner calls this on an exception)."""
        self._emit(Verdict(False, message))

    @property
    def verdict(self) -> Verdict | None:
        """The derivation's verdict, or None while it is still running (or was cut short)."""
        last = self.events[-1]
        return last if isinstance(last, Verdict) else None

    def qed(self) -> None:
        """End the derivation; it must have checked at least one thing."""
        if self._checks == 0:
            raise ProofError(f"{self.title}: no step was checked")
        self._emit(Verdict(True, f"QED: {self.strength_summary()}"))
