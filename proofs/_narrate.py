"""Printing and checking helpers shared by the proof scripts.

A proof prints its claim, then numbered steps (each with its reason), and ends
with ``qed()`` after at least one ``check_*`` call. Every check raises
``ProofError`` when it does not hold, so a broken derivation fails loudly
(and ``python -m proofs`` exits non-zero).
"""

from typing import Any

import sympy


class ProofError(AssertionError):
    """A step of a derivation did not hold."""


class Derivation:
    """Narrates one derivation: claim, steps, checks, QED."""

    def __init__(self, title: str, book: str) -> None:
        self.title = title
        self._step = 0
        self._checks = 0
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

    def check_zero(self, what: str, residual: Any) -> None:
        """Check that a residual simplifies to exactly 0."""
        reduced = sympy.simplify(residual)
        if reduced != 0:
            raise ProofError(f"{what}: residual {reduced} is not 0")
        self._passed(f"{what}: residual simplifies to 0")

    def check_equal(self, what: str, lhs: Any, rhs: Any) -> None:
        """Check lhs − rhs simplifies to 0 (a derived result against its closed form)."""
        if isinstance(lhs, sympy.MatrixBase) or isinstance(rhs, sympy.MatrixBase):
            difference = (sympy.Matrix(lhs) - sympy.Matrix(rhs)).applyfunc(sympy.simplify)
            if any(entry != 0 for entry in difference):
                raise ProofError(f"{what}: matrices differ by {difference}")
            self._passed(f"{what}: matrices agree entrywise")
            return
        self.check_zero(what, lhs - rhs)

    def check_true(self, what: str, condition: bool) -> None:
        """Check a boolean condition (an inequality decided exactly, a numeric bound)."""
        if not condition:
            raise ProofError(f"{what}: does not hold")
        self._passed(what)

    def _passed(self, text: str) -> None:
        self._checks += 1
        print(f"  ✓ {text}")

    def qed(self) -> None:
        """End the derivation; it must have checked at least one thing."""
        if self._checks == 0:
            raise ProofError(f"{self.title}: no step was checked")
        print(f"\nQED ({self._checks} checks)")
