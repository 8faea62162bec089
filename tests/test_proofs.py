"""Every proof script runs and its checks hold; the proof runner fails loudly.

Runs each module found by ``python -m proofs`` (``proofs.__main__.proof_names``)
through ``run_proof(module, quick=True)``: a ``ProofError`` (a check that does
not hold) or any other exception fails the test.
"""

import importlib

import pytest
import sympy

from proofs.__main__ import cli, proof_names, run_proof
from proofs._narrate import Derivation, ProofError


@pytest.mark.parametrize("name", proof_names())
def test_proof_holds(name: str, capsys: pytest.CaptureFixture[str]) -> None:
    """Each lemma's proof (module docstring names it) ends in passed checks and QED."""
    module = importlib.import_module(f"proofs.{name}")
    assert (module.__doc__ or "").strip(), f"proofs.{name} has no docstring naming its lemma"
    run_proof(module, quick=True)
    out = capsys.readouterr().out
    assert "QED" in out
    assert "[untagged]" not in out, f"proofs.{name} has a check without its strength tag"


def test_derivation_check_zero_rejects_nonzero_residual() -> None:
    """A non-zero residual raises ProofError (so a broken derivation cannot pass)."""
    d = Derivation("test", "none")
    x = sympy.Symbol("x", real=True)
    d.check_zero("(x + 1)² − (x² + 2x + 1)", (x + 1) ** 2 - (x**2 + 2 * x + 1))
    with pytest.raises(ProofError, match="residual"):
        d.check_zero("(x + 1)² − (x² + 1)", (x + 1) ** 2 - (x**2 + 1))


def test_derivation_qed_needs_a_check() -> None:
    """QED without any check raises ProofError."""
    with pytest.raises(ProofError, match="no step was checked"):
        Derivation("unchecked", "none").qed()


def test_proof_cli_unknown_name_exits_non_zero() -> None:
    """``python -m proofs NONEXISTENT`` exits with a non-zero status."""
    with pytest.raises(SystemExit) as raised:
        cli(["NONEXISTENT"])
    assert raised.value.code not in (0, None)


def test_proof_cli_list_exits_zero(capsys: pytest.CaptureFixture[str]) -> None:
    """``python -m proofs --list`` lists every proof and exits 0."""
    assert cli(["--list"]) == 0
    listing = capsys.readouterr().out
    assert all(name in listing for name in proof_names())
