"""The ``nndl8`` console script (``impl.cli.main``): usage, exit status, dispatch.

``nndl8 SUBCOMMAND ARGS`` hands ``ARGS`` to the subcommand and returns its
status; ``nndl8 --help`` exits 0, ``nndl8`` alone and an unknown subcommand are
usage errors (2). The dispatcher is called in-process here (so the mutation run
sees it); one subprocess test runs the installed script itself.
"""

import importlib.metadata
import subprocess
import sys
from pathlib import Path

import pytest

import impl.cli
from impl.cli import main

USAGE = "usage: nndl8 {proofs,conformance} [ARGS ...]"


@pytest.mark.parametrize("flag", ["--help", "-h"])
def test_help_exits_0_and_names_every_subcommand(
    flag: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """``nndl8 --help`` prints the usage and one line per subcommand, and succeeds."""
    assert main([flag]) == 0
    out = capsys.readouterr().out
    assert out.startswith(USAGE + "\n")
    assert "  proofs       run the derivations of chapter 8" in out
    assert "  conformance  check a kernel against the reference" in out


def test_no_subcommand_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    """``nndl8`` alone prints the usage and exits 2 (a usage error, not success)."""
    assert main([]) == 2
    assert capsys.readouterr().out.startswith(USAGE)


def test_unknown_subcommand_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    """A misspelt subcommand is named on stderr with the usage, and exits 2."""
    assert main(["proof", "hopfield_energy_decrease"]) == 2
    err = capsys.readouterr().err
    assert "nndl8: unknown subcommand 'proof'" in err
    assert USAGE in err


def test_conformance_is_dispatched_with_its_arguments(capsys: pytest.CaptureFixture[str]) -> None:
    """``nndl8 conformance ARGS`` is ``impl.testing.cli.main(ARGS)``: its output and status."""
    assert main(["conformance", "--list"]) == 0
    assert "sdpa.gqa" in capsys.readouterr().out
    assert main(["conformance", "tests.kit_zoo:sdpa"]) == 2  # its own usage error: no --kind
    assert "exactly one --kind" in capsys.readouterr().err


def test_proofs_is_dispatched_with_its_arguments(capsys: pytest.CaptureFixture[str]) -> None:
    """``nndl8 proofs ARGS`` is ``proofs.__main__.cli(ARGS)``."""
    assert main(["proofs", "--list", "8-6"]) == 0
    assert "hopfield_energy_decrease" in capsys.readouterr().out


def test_arguments_default_to_the_command_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Without ``argv``, ``main`` reads ``sys.argv[1:]`` (after the program's name)."""
    monkeypatch.setattr(sys, "argv", ["nndl8", "--help"])
    assert main() == 0
    assert capsys.readouterr().out.startswith(USAGE)
    monkeypatch.setattr(sys, "argv", ["nndl8", "conformance", "--list"])
    assert main() == 0
    assert "sdpa.gqa" in capsys.readouterr().out


def test_console_script_is_this_main() -> None:
    """The installed distribution's ``nndl8`` entry point is ``impl.cli:main``."""
    (entry,) = importlib.metadata.entry_points(group="console_scripts", name="nndl8")
    assert entry.value == "impl.cli:main"
    assert entry.load() is impl.cli.main


def test_console_script_runs() -> None:
    """The installed ``nndl8`` script runs in a fresh process: ``--help`` exits 0, a bad
    subcommand 2."""
    script = Path(sys.executable).with_name("nndl8")
    if not script.exists():
        pytest.skip("the nndl8 console script is not installed beside this interpreter")
    ok = subprocess.run([script, "--help"], capture_output=True, text=True, timeout=60, check=False)
    assert ok.returncode == 0
    assert ok.stdout.startswith(USAGE)
    bad = subprocess.run([script, "proof"], capture_output=True, text=True, timeout=60, check=False)
    assert bad.returncode == 2
    assert "unknown subcommand 'proof'" in bad.stderr
