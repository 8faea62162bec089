"""The proof runner's command line: catalogue, selection, did-you-mean, exit status, output.

``nndl8 proofs`` / ``python -m proofs`` (``proofs.__main__.cli``). The exit
status means what it says: 0 all selected proofs hold, 1 a check failed, 2 a
usage error; a closed pipe or an ASCII-only terminal is not a failed proof.
"""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import sympy

import proofs.lstm_parameter_count
from proofs import _render
from proofs.__main__ import cli, proof_names, select, suggestions
from proofs._catalogue import CATALOGUE, RUNTIMES, SECTION_TITLES
from proofs._narrate import ProofError

ROOT = Path(__file__).resolve().parents[1]
FAST_PROOF = "lstm_parameter_count"  # 0.1 s; prints a table itself (an Output event)


def _run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[bytes]:
    """``python -m proofs ARGS`` in a fresh interpreter (stdout and stderr captured as bytes)."""
    return subprocess.run(
        [sys.executable, "-m", "proofs", *args],
        cwd=ROOT,
        env={**os.environ, "OPENBLAS_NUM_THREADS": "1", **(env or {})},
        capture_output=True,
        timeout=120,
        check=False,
    )


# ---- Catalogue -------------------------------------------------------------------------


def test_catalogue_has_every_proof_and_nothing_else() -> None:
    """Each proof module has one entry in proofs._catalogue.CATALOGUE (add a line for a new one)."""
    missing = sorted(set(proof_names()) - set(CATALOGUE))
    stale = sorted(set(CATALOGUE) - set(proof_names()))
    assert not missing, f"add catalogue entries (proofs/_catalogue.py) for {missing}"
    assert not stale, f"catalogue entries without a proof module: {stale}"


@pytest.mark.parametrize("name", sorted(CATALOGUE))
def test_catalogue_entry_well_formed(name: str) -> None:
    """Known book sections, exercises 8-1..8-6, a one-line claim, a defined run-time class."""
    entry = CATALOGUE[name]
    assert entry.sections, name
    assert all(section in SECTION_TITLES for section in entry.sections), entry.sections
    assert all(re.fullmatch(r"8-[1-6]", exercise) for exercise in entry.exercises)
    assert entry.claim.strip()
    assert "\n" not in entry.claim
    assert len(entry.claim) <= 120
    assert entry.runtime in RUNTIMES


# ---- Selection -------------------------------------------------------------------------


def test_select_by_exercise() -> None:
    """``8-6`` selects the proofs catalogued under exercise 8-6 (and only those)."""
    selected, unmatched = select(["8-6"], proof_names())
    assert unmatched == []
    assert selected == [n for n in proof_names() if "8-6" in CATALOGUE[n].exercises]
    assert "hopfield_energy_decrease" in selected
    assert "softmax_laws" not in selected


def test_select_by_section_includes_subsections() -> None:
    """``8.6`` selects §8.6.1 and §8.6.2 (and only §8.6); ``§8.6.1`` only §8.6.1."""
    available = proof_names()
    whole, _ = select(["8.6"], available)
    first, _ = select(["§8.6.1"], available)
    assert set(first) < set(whole)
    assert "modern_hopfield_is_attention" in whole
    assert "modern_hopfield_is_attention" not in first
    assert all(any(s.split(".")[:2] == ["8", "6"] for s in CATALOGUE[n].sections) for n in whole)


def test_select_keeps_order_without_repeats() -> None:
    """Overlapping requests run each proof once, in the order first asked for."""
    selected, unmatched = select(["softmax_laws", "8.2", "softmax_laws"], proof_names())
    assert unmatched == []
    assert selected[0] == "softmax_laws"
    assert len(selected) == len(set(selected))


def test_select_reports_unmatched() -> None:
    """A request matching no name, exercise or section is returned as unmatched."""
    assert select(["8-9", "9.1", "nonsense"], proof_names()) == ([], ["8-9", "9.1", "nonsense"])


def test_suggestions_for_a_typo() -> None:
    """difflib finds the proof a reader meant."""
    assert suggestions("hopfeld_energy_decrease", proof_names())[0] == "hopfield_energy_decrease"


def test_suggestions_for_a_misspelt_prefix() -> None:
    """A misspelt start of a name suggests the names that start that way."""
    near = suggestions("hopfeld", proof_names())
    assert near
    assert all(name.startswith("hopfield_") for name in near)
    assert suggestions("zzzzzz", proof_names()) == []


def test_cli_unknown_name_exits_2_with_did_you_mean(capsys: pytest.CaptureFixture[str]) -> None:
    """A typo is a usage error (status 2), not a failed proof, and the near miss is offered."""
    with pytest.raises(SystemExit) as raised:
        cli(["hopfeld_energy_decrease"])
    assert raised.value.code == 2
    assert "did you mean hopfield_energy_decrease?" in capsys.readouterr().err


def test_cli_list_shows_section_claim_and_runtime(capsys: pytest.CaptureFixture[str]) -> None:
    """``--list 8-6`` shows each selected proof's reference, run-time class and claim."""
    assert cli(["--list", "8-6"]) == 0
    listing = capsys.readouterr().out
    for name in select(["8-6"], proof_names())[0]:
        entry = CATALOGUE[name]
        assert re.search(rf"{name}\s+{re.escape(entry.reference)}\s+{entry.runtime}", listing)
        assert entry.claim.split()[0] in listing
    assert "softmax_laws" not in listing


# ---- Exit status -----------------------------------------------------------------------


def test_cli_exit_0_when_the_proof_holds(capsys: pytest.CaptureFixture[str]) -> None:
    """A proof whose checks hold: status 0 and its QED line."""
    assert cli([FAST_PROOF]) == 0
    out = capsys.readouterr().out
    assert "QED" in out
    assert "1 of 1 proofs hold" in out


def test_cli_exit_1_when_a_check_fails(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A ProofError (a check that does not hold) gives status 1 and names the proof."""

    def broken() -> None:
        raise ProofError("a deliberately broken check: residual 1 is not 0")

    monkeypatch.setattr(proofs.lstm_parameter_count, "main", broken)
    assert cli([FAST_PROOF]) == 1
    assert f"FAILED: {FAST_PROOF}" in capsys.readouterr().out


def test_cli_document_exit_1_and_failure_shown(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """In a document a failed proof is shown as FAILED with its message, and the status is 1."""

    def broken() -> None:
        raise ProofError("a deliberately broken check")

    monkeypatch.setattr(proofs.lstm_parameter_count, "main", broken)
    assert cli([FAST_PROOF, "--format", "markdown"]) == 1
    assert "**FAILED:** ProofError: a deliberately broken check" in capsys.readouterr().out


# ---- Output problems are not failed proofs ---------------------------------------------


def test_closed_pipe_before_any_output_is_not_a_failure() -> None:
    """The reader closes the pipe at once: status 0 (no check failed), no traceback."""
    process = subprocess.Popen(
        [sys.executable, "-m", "proofs", FAST_PROOF],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, "OPENBLAS_NUM_THREADS": "1"},
    )
    assert process.stdout is not None
    assert process.stderr is not None
    process.stdout.close()
    err = process.stderr.read().decode()
    assert process.wait(timeout=120) == 0, err
    assert "Traceback" not in err
    assert "BrokenPipe" not in err
    assert "FAILED" not in err


def test_pipe_into_head_is_not_a_failure() -> None:
    """``python -m proofs 8-6 | head -n 3``: the proofs' status is 0, stderr stays clean."""
    command = f"{sys.executable} -m proofs 8-6 | head -n 3; exit ${{PIPESTATUS[0]}}"
    result = subprocess.run(
        ["bash", "-c", command],
        cwd=ROOT,
        capture_output=True,
        timeout=120,
        check=False,
        env={**os.environ, "OPENBLAS_NUM_THREADS": "1"},
    )
    assert result.returncode == 0, result.stderr.decode()
    assert len(result.stdout.decode().splitlines()) == 3
    assert b"Traceback" not in result.stderr
    assert b"BrokenPipe" not in result.stderr


@pytest.mark.parametrize(
    "env",
    [{"PYTHONIOENCODING": "ascii"}, {"LC_ALL": "C", "LANG": "C", "PYTHONUTF8": "0"}],
    ids=["PYTHONIOENCODING=ascii", "LANG=C-without-utf8-mode"],
)
def test_ascii_terminal_gets_ascii_output(env: dict[str, str]) -> None:
    """An encoding that cannot show ✓, α, ∑: ASCII art and spelled symbols, status 0."""
    result = _run(FAST_PROOF, "softmax_laws", env=env)
    assert result.returncode == 0, result.stderr.decode(errors="replace")
    out = result.stdout.decode("ascii")  # raises if anything non-ASCII was written
    assert "OK [" in out
    assert "QED" in out
    assert "2 of 2 proofs hold" in out
    assert "alpha" in out
    assert "/__," in out


def test_c_locale_keeps_unicode() -> None:
    """With LANG=C Python uses UTF-8 (PEP 538/540), so the symbols stay."""
    result = _run(FAST_PROOF, env={"LANG": "C"})
    assert result.returncode == 0
    assert "✓" in result.stdout.decode("utf-8")


def test_ascii_text_spells_the_symbols() -> None:
    """The ASCII fallback: every character ends up ASCII, the maths still readable."""
    text = _render.ascii_text("α_c ≤ √x, qᵀk ∈ ℝ, σ⁴ — ✓ ∑_j")
    assert text.isascii()
    assert text == "alpha_c <= sqrtx, q^Tk  in  R, sigma^4 -- OK sum_j"


# ---- Width -----------------------------------------------------------------------------


@pytest.mark.parametrize("width", [60, 100])
def test_width_is_respected_without_midexpression_wraps(
    width: int, capsys: pytest.CaptureFixture[str]
) -> None:
    """--width N: no printed line is wider than N, and no sympy ↪ continuation appears."""
    assert cli(["hopfield_energy_decrease", "--width", str(width)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert max(len(line) for line in lines) <= width
    assert not any("↪" in line for line in lines)


def test_pretty_splits_a_wide_sum_between_terms() -> None:
    """A sum too wide for the line is split between whole terms, each block within the width."""
    x = sympy.IndexedBase("x")
    j = sympy.Symbol("j", integer=True)
    expr = sympy.Eq(
        sympy.Symbol("E"),
        sum(sympy.Sum(x[j] ** k / (k + 1), (j, 0, sympy.Symbol("M") - 1)) for k in range(8)),
    )
    wide = sympy.pretty(expr, use_unicode=True, wrap_line=False)
    assert max(len(line) for line in wide.splitlines()) > 80
    split = _render.pretty(expr, width=80, unicode=True)
    assert max(len(line) for line in split.splitlines()) <= 80
    assert "↪" not in split
    lines = split.splitlines()  # E; then a block whose baseline starts "=", then one with "+"
    assert lines[0] == "E"
    assert sum(line.startswith("=") for line in lines) == 1
    assert sum(line.startswith("+") for line in lines) >= 1
