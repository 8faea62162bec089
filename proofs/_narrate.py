"""Printing and checking helpers shared by the proof scripts.

A proof prints its claim, then numbered steps (each with its reason), and ends
with ``qed()`` after at least one ``check_*`` call. Every check raises
``ProofError`` when it does not hold, so a broken derivation fails loudly
(and ``python -m proofs`` exits non-zero).
"""

from collections import Counter
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


class Derivation:
    """Narrates one derivation: claim, steps, checks, QED."""

    def __init__(self, title: str, book: str) -> None:
        self.title = title
        self._step = 0
        self._checks = 0
        self.strength_counts: Counter[str] = Counter()
        print(f"{title}\n  ({book})\n")

    def claim(self, statement: Any, text: str = "") -> None:
        """Print the claim (a sympy relation or expression)."""
        print("Claim:" + (f" {text}" if text else ""))
        sympy.pprint(statement, use_unicode=True)
        print()

    def note(self, text: str) -> None:
        """Print a line of explanation."""
        print(f"  {text}")

    def step(self, reason: str, expr: Any = None) -> None:
        """Print a numbered step, its reason and (optionally) its expression."""
        self._step += 1
        print(f"Step {self._step}. {reason}")
        if expr is not None:
            sympy.pprint(expr, use_unicode=True)
        print()

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
        print(f"  ✓ [{tag}] {text}")

    def strength_summary(self) -> str:
        """``"9 symbolic, 4 finite, 0 numeric, 0 statistical"`` (plus any untagged checks)."""
        parts = [f"{self.strength_counts[s]} {s}" for s in STRENGTHS]
        if self.strength_counts["untagged"]:
            parts.append(f"{self.strength_counts['untagged']} untagged")
        return ", ".join(parts)

    def qed(self) -> None:
        """End the derivation; it must have checked at least one thing."""
        if self._checks == 0:
            raise ProofError(f"{self.title}: no step was checked")
        print(f"\nQED: {self.strength_summary()}")
