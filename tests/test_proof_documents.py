"""Proofs as documents: recorded events, Markdown (LaTeX) and standalone HTML (MathML).

The last tests open the HTML in headless Chromium (skipped where no Chromium is
installed; Debian: ``apt-get install chromium``) and check the screenshot: not
blank, and a MathML fraction laid out as a fraction (numerator, bar and
denominator stacked), not as a line of raw text.
"""

import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest
import sympy

from proofs import _narrate, _render
from proofs.__main__ import cli
from proofs._catalogue import CATALOGUE, Entry
from proofs._narrate import Check, Derivation, Output, ProofError, Step, Title, Verdict

_ENTRY = Entry(("8.2",), "a test claim", ("8-2",))


def _demo(fail: bool = False) -> _render.ProofRecord:
    """A small recorded proof: a claim, a step with a fraction, a printed table, checks."""
    x, y = sympy.symbols("x y", positive=True)
    error = ""
    with _narrate.recording() as recorded:
        try:
            d = Derivation("Demo derivation", "book §8.2")
            d.claim(sympy.Eq(sympy.Function("D")(x / y), x**2, evaluate=False), "a claim")
            d.step("a step with a fraction and δ_ij", x / y + sympy.KroneckerDelta(x, y))
            print("  table row 1\n  table row 2")
            d.check_equal(
                "(x + y)² expands", (x + y) ** 2, x**2 + 2 * x * y + y**2, strength="symbolic"
            )
            d.check_true("2 > 1", True, strength="finite")
            if fail:
                d.check_zero("x is not 0", x)
            d.qed()
        except ProofError as exc:
            error = f"ProofError: {exc}"
            recorded.derivations[-1].fail(error)
    return _render.ProofRecord("demo", _ENTRY, tuple(recorded.derivations), not error, error)


def test_recording_keeps_events_in_order_with_printed_output() -> None:
    """Inside recording() nothing is printed; events and the proof's own prints keep their order."""
    record = _demo()
    kinds = [type(event).__name__ for event in record.derivations[0].events]
    assert kinds == ["Title", "Claim", "Step", "Output", "Check", "Check", "Verdict"]
    events = record.derivations[0].events
    assert events[3] == Output("  table row 1\n  table row 2")
    assert isinstance(events[0], Title)
    assert isinstance(events[2], Step)
    assert events[4] == Check("(x + y)² expands: residual simplifies to 0", "symbolic")
    assert events[-1] == Verdict(True, "QED: 1 symbolic, 1 finite, 0 numeric, 0 statistical")


def test_markdown_has_latex_steps_and_strength_tags() -> None:
    """Markdown: a section per proof, $$ LaTeX $$ per step, ✓ lines with their strength."""
    text = _render.markdown_document([_demo()], "Demo")
    assert "## demo" in text
    assert "#### Step 1. a step with a fraction and δ\\_ij" in text
    assert "\\frac{x}{y}" in text
    assert "$$\nD{\\left(\\frac{x}{y} \\right)} = x^{2}\n$$" in text
    assert "- ✓ `[symbolic]` (x + y)² expands" in text
    assert "```text\n  table row 1\n  table row 2\n```" in text
    assert "**QED: 1 symbolic, 1 finite, 0 numeric, 0 statistical**" in text
    assert "1 of 1 proofs hold" in text


def test_markdown_and_html_show_a_failure() -> None:
    """A failed check is shown as FAILED with its message, and the summary counts it."""
    record = _demo(fail=True)
    assert not record.holds
    assert "**FAILED:** ProofError: x is not 0: residual x is not 0" in _render.markdown_document(
        [record], "Demo"
    )
    page = _render.html_document([record], "Demo")
    assert "0 of 1 proofs hold" in page
    assert '<p class="verdict fails">FAILED: ProofError: x is not 0' in page


class _TagBalance(HTMLParser):
    """Counts open and close tags (void elements excluded) to catch unbalanced markup."""

    VOID = frozenset({"meta", "img", "br", "hr", "link", "input"})

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[str] = []
        self.errors: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in self.VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"</{tag}> closes {self.stack[-1:] or 'nothing'}")
        else:
            self.stack.pop()


def test_html_is_standalone_balanced_mathml() -> None:
    """HTML: no script, no network, balanced tags, MathML maths, contents, strength badges."""
    page = _render.html_document([_demo()], "Demo")
    assert page.startswith("<!DOCTYPE html>")
    assert "<script" not in page
    assert not re.search(r"(src|href)=\"(https?:)?//", page)
    balance = _TagBalance()
    balance.feed(page)
    assert balance.errors == []
    assert balance.stack == []
    assert '<math display="block">' in page
    assert "<mfrac><mi>x</mi><mi>y</mi></mfrac>" in page
    assert '<span class="tag symbolic">symbolic</span>' in page
    assert "<nav><h2>Contents</h2>" in page
    assert "§8.2 The attention mechanism" in page


def test_mathml_fixes_for_sympy_printer_gaps() -> None:
    """D(x) keeps its capital, an Idx prints as its name, δ_ij as δ, a phrase as text."""
    i = sympy.Idx("i", (0, sympy.Symbol("N") - 1))
    s = sympy.IndexedBase("s")
    assert "<mi>D</mi>" in _render.mathml(sympy.Function("D")(sympy.Symbol("x")))
    assert "idx" not in _render.mathml(s[i]).lower()
    delta = _render.mathml(sympy.KroneckerDelta(sympy.Symbol("j"), sympy.Symbol("k")))
    assert "<msub><mi>&#948;</mi><mrow><mi>j</mi><mo>,</mo><mi>k</mi></mrow></msub>" in delta  # δ
    assert "kroneckerdelta" not in delta.lower()
    assert "<mtext>p(z_n = 1)</mtext>" in _render.mathml(sympy.Symbol("p(z_n = 1)"))


def test_cli_writes_index_and_one_file_per_proof(tmp_path: Path) -> None:
    """``--format html --output DIR``: DIR/index.html with every selected proof, one page each."""
    assert cli(["8-6", "--format", "html", "--output", str(tmp_path)]) == 0
    names = [n for n in sorted(CATALOGUE) if "8-6" in CATALOGUE[n].exercises]
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        ["index.html", *(f"{n}.html" for n in names)]
    )
    index = (tmp_path / "index.html").read_text(encoding="utf-8")
    assert all(f'<section id="{n}">' in index for n in names)
    assert f"{len(names)} of {len(names)} proofs hold" in index


# ---- In a real browser ------------------------------------------------------------------

_CHROMIUM = next(
    (shutil.which(n) for n in ("chromium", "chromium-browser", "google-chrome") if shutil.which(n)),
    None,
)


def _screenshot(page: Path, png: Path, profile: Path, size: str = "1000,1400") -> np.ndarray:
    """Render ``page`` in headless Chromium (offline, fresh profile); the image as grey levels."""
    assert _CHROMIUM is not None
    subprocess.run(
        [
            _CHROMIUM,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--no-first-run",
            "--disable-component-update",
            "--disable-sync",
            f"--user-data-dir={profile}",
            f"--window-size={size}",
            f"--screenshot={png}",
            page.as_uri(),
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )
    image = pytest.importorskip("matplotlib.image").imread(png)
    grey: np.ndarray = np.asarray(image)[..., :3].mean(axis=-1)
    return grey


def _ink_bands(grey: np.ndarray) -> int:
    """Number of separate horizontal bands of rows that contain dark pixels."""
    inked: np.ndarray = np.asarray((grey < 0.5).any(axis=1))
    starts = inked & ~np.concatenate([[False], inked[:-1]])
    return int(starts.sum())


@pytest.mark.skipif(
    _CHROMIUM is None, reason="Chromium is not installed (apt-get install chromium)"
)
def test_chromium_lays_out_the_mathml(tmp_path: Path) -> None:
    """A fraction from our MathML is drawn stacked (3 ink bands); as raw text it would be 1."""
    x, y = sympy.symbols("x y")
    probe = tmp_path / "probe.html"
    probe.write_text(
        "<!DOCTYPE html><html><head><meta charset='utf-8'></head>"
        "<body style='margin:40px;font-size:64px'>"
        f"{_render.mathml(x / y)}</body></html>",
        encoding="utf-8",
    )
    grey = _screenshot(probe, tmp_path / "probe.png", tmp_path / "profile", "400,400")
    assert _ink_bands(grey) == 3  # numerator, fraction bar, denominator
    text = tmp_path / "text.html"  # the same letters as plain text: one band (the check can fail)
    text.write_text(
        "<!DOCTYPE html><html><body style='margin:40px;font-size:64px'>xy</body></html>",
        encoding="utf-8",
    )
    assert _ink_bands(_screenshot(text, tmp_path / "t.png", tmp_path / "profile2", "400,400")) == 1


@pytest.mark.skipif(
    _CHROMIUM is None, reason="Chromium is not installed (apt-get install chromium)"
)
def test_chromium_renders_a_proof_page(tmp_path: Path) -> None:
    """A proof's HTML page renders offline to a screenshot that is not blank."""
    page = tmp_path / "demo.html"
    page.write_text(_render.html_document([_demo()], "Demo"), encoding="utf-8")
    grey = _screenshot(page, tmp_path / "demo.png", tmp_path / "profile")
    dark = float((grey < 0.5).mean())
    assert 0.002 < dark < 0.5  # text on a white page: some ink, far from all of it
    assert _ink_bands(grey) > 15  # headings, paragraphs, maths, checks: many lines
