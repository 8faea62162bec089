"""Render a derivation's events for the terminal, as Markdown (LaTeX maths) or as HTML (MathML).

- ``terminal_event``: sympy's 2-D pretty printer at a given width. A formula
  wider than the width is split between whole terms (at a relation sign, then
  between the terms of a sum), and only as a last resort printed as one line
  of text broken at spaces, so a formula never wraps in the middle of a
  symbol. ``unicode=False`` gives sympy's ASCII art (for terminals whose
  encoding cannot show the symbols; ``ascii_text`` spells out the rest).
- ``markdown_document``: one section per proof, one subsection per step, maths
  as ``$$…$$`` LaTeX from ``sympy.latex``, checks as ✓ lines with their strength.
- ``html_document``: a standalone page (inline CSS, no script, no network),
  maths as presentation MathML (rendered natively by current browsers), a table
  of contents by book section, each proof's claim, steps, checks, verdict and
  strength counts; figures embedded as data URIs.
"""

import base64
import html
import importlib
import re
import textwrap
import unicodedata
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sympy

from proofs._catalogue import SECTION_TITLES, Entry
from proofs._narrate import (
    STRENGTHS,
    Check,
    Claim,
    Derivation,
    Event,
    Figure,
    Note,
    Output,
    Step,
    Title,
    Verdict,
)

# sympy's printer classes, loaded by name: the project's sympy stubs cover only the public API
# the derivations use, and these are untyped internals (Any).
_RELATIONAL: Any = importlib.import_module("sympy.core.relational").Relational
_APPLIED_UNDEF: Any = importlib.import_module("sympy.core.function").AppliedUndef
_coeff_isneg: Any = importlib.import_module("sympy.core.function")._coeff_isneg
_PRETTY_PRINTER: Any = importlib.import_module("sympy.printing.pretty.pretty").PrettyPrinter
_PRETTY_FORM: Any = importlib.import_module("sympy.printing.pretty.stringpict").prettyForm
_MATHML_PRINTER: Any = importlib.import_module("sympy.printing.mathml").MathMLPresentationPrinter

# ---- ASCII fallback --------------------------------------------------------------------

_ASCII = {
    "✓": "OK",
    "✗": "X",
    "−": "-",
    "–": "-",
    "—": "--",
    "×": "x",
    "·": "*",
    "⋅": "*",
    "…": "...",
    "√": "sqrt",
    "∑": "sum",
    "∏": "prod",
    "∫": "int",
    "∂": "d",
    "∇": "grad",
    "≤": "<=",
    "≥": ">=",
    "≠": "!=",
    "≈": "~",
    "∼": "~",
    "≡": "==",
    "∝": "~",
    "→": "->",
    "←": "<-",
    "↔": "<->",
    "⇒": "=>",
    "⇔": "<=>",
    "∞": "inf",
    "∈": " in ",
    "∉": " not in ",
    "∀": "for all ",
    "∃": "exists ",
    "⊕": "(+)",
    "⊙": "(.)",
    "∘": "o",
    "ℝ": "R",
    "½": "1/2",
    "¼": "1/4",
    "⌊": "floor(",
    "⌋": ")",
    "⌈": "ceil(",
    "⌉": ")",
    "‖": "||",
    "ᵀ": "^T",
    "§": "section ",
    "‘": "'",
    "’": "'",
    "“": '"',
    "”": '"',
    "±": "+-",
    "∓": "-+",
    "∪": " u ",
    "∩": " n ",
    "⊆": " subset of ",
    "∅": "{}",
    "│": "|",
    "█": "#",
}
_SUPERSCRIPTS = "⁰¹²³⁴⁵⁶⁷⁸⁹⁺⁻⁼⁽⁾ⁿⁱ"
_SUBSCRIPTS = "₀₁₂₃₄₅₆₇₈₉₊₋₌₍₎ₐₑₒₓₔₕₖₗₘₙₚₛₜᵢⱼᵣᵤᵥ"


def _ascii_char(char: str) -> str:
    if char.isascii():
        return char
    if char in _ASCII:
        return _ASCII[char]
    if char in _SUPERSCRIPTS:
        return "^" + unicodedata.normalize("NFKD", char)
    if char in _SUBSCRIPTS:
        return "_" + unicodedata.normalize("NFKD", char)
    name = unicodedata.name(char, "")
    if name.startswith("GREEK"):  # "GREEK SMALL LETTER ALPHA" -> "alpha"
        letter = name.split()[-1].lower()
        return letter.capitalize() if "CAPITAL" in name else letter
    decomposed = unicodedata.normalize("NFKD", char).encode("ascii", "ignore").decode()
    return decomposed or "?"


def ascii_text(text: str) -> str:
    """Spell ``text`` in ASCII: α → alpha, ≤ → <=, ᵀ → ^T, ✓ → OK, anything else → its base or ?."""
    return "".join(_ascii_char(char) for char in text)


# ---- Terminal ----------------------------------------------------------------------------


def _block_width(text: str) -> int:
    return max((len(line) for line in text.splitlines()), default=0)


def _printer(unicode: bool) -> Any:
    return _PRETTY_PRINTER({"use_unicode": unicode, "wrap_line": False})


def _form_text(form: Any) -> str:
    text: str = form.render(wrap_line=False)
    return text


def _pieces(expr: Any, width: int, printer: Any) -> list[Any]:
    """Pretty forms of whole sub-expressions that together read as ``expr``, each ≤ width."""
    form: Any = printer._print(expr)
    if form.width() <= width:
        return [form]
    if isinstance(expr, _RELATIONAL):
        symbol = {"==": "=", "!=": "≠", "<=": "≤", ">=": "≥"}.get(expr.rel_op, expr.rel_op)
        if not printer._use_unicode:
            symbol = expr.rel_op if expr.rel_op != "==" else "="
        lhs = _pieces(expr.lhs, width, printer)
        rhs = _pieces(expr.rhs, width - len(symbol) - 1, printer)
        first = _PRETTY_FORM(*rhs[0].left(f"{symbol} "))
        return [*lhs, first, *rhs[1:]]
    if isinstance(expr, sympy.Add):
        terms = printer._as_ordered_terms(expr)
        lines: list[Any] = []
        chunk: list[Any] = []
        for term in [*terms, None]:
            trial = [*chunk, term] if term is not None else chunk
            rendered = _chunk_form(trial, printer, continued=bool(lines))
            if term is not None and (rendered.width() <= width or not chunk):
                chunk = trial
                continue
            done = _chunk_form(chunk, printer, continued=bool(lines))
            if done.width() > width and len(chunk) == 1:
                lines.extend(_pieces(chunk[0], width - 2, printer))
            else:
                lines.append(done)
            chunk = [term] if term is not None else []
        return lines
    return [form]


def _chunk_form(terms: list[Any], printer: Any, *, continued: bool) -> Any:
    form: Any = printer._print(sympy.Add(*terms, evaluate=False))
    if continued and not _coeff_isneg(terms[0]):
        form = _PRETTY_FORM(*form.left("+ "))
    return form


def pretty(expr: Any, *, width: int | None, unicode: bool) -> str:
    """Pretty-print ``expr`` at most ``width`` columns wide, split between whole terms."""
    printer = _printer(unicode)
    text = printer.doprint(expr)
    if width is None or _block_width(text) <= width:
        return str(text)
    blocks = [_form_text(form) for form in _pieces(expr, width, printer)]
    if all(_block_width(block) <= width for block in blocks):
        return "\n".join(blocks)
    # Last resort: one line of text (sympy's str form) broken at spaces between terms.
    linear = sympy.sstr(expr) if isinstance(expr, sympy.Basic) else str(expr)
    return "\n".join(textwrap.wrap(linear, width, break_long_words=False, break_on_hyphens=False))


def _wrap(text: str, width: int | None, indent: str = "", hang: str = "") -> str:
    if width is None:
        return indent + text
    return textwrap.fill(
        text,
        width,
        initial_indent=indent,
        subsequent_indent=hang or indent,
        break_long_words=False,
        break_on_hyphens=False,
    )


def _ascii_event(event: Event) -> Event:
    match event:
        case Title(title, book):
            return Title(ascii_text(title), ascii_text(book))
        case Claim(statement, text):
            return Claim(statement, ascii_text(text))
        case Note(text):
            return Note(ascii_text(text))
        case Step(number, reason, expr):
            return Step(number, ascii_text(reason), expr)
        case Check(text, strength):
            return Check(ascii_text(text), strength)
        case Figure(path, caption):
            return Figure(path, ascii_text(caption))
        case Verdict(holds, text):
            return Verdict(holds, ascii_text(text))
    return event


def terminal_event(event: Event, *, width: int | None, unicode: bool) -> str:
    """The text printed for one event (ends with a newline)."""
    parts: list[str]
    if not unicode:  # spell the text in ASCII before it is wrapped, so lines keep the width
        event = _ascii_event(event)
    match event:
        case Title(title, book):
            parts = [_wrap(title, width), _wrap(f"({book})", width, "  ", "   "), ""]
        case Claim(statement, text):
            parts = [_wrap("Claim:" + (f" {text}" if text else ""), width, "", "  ")]
            parts += [pretty(statement, width=width, unicode=unicode), ""]
        case Note(text):
            parts = [_wrap(text, width, "  ", "  ")]
        case Step(number, reason, expr):
            parts = [_wrap(f"Step {number}. {reason}", width, "", "  ")]
            if expr is not None:
                parts.append(pretty(expr, width=width, unicode=unicode))
            parts.append("")
        case Check(text, strength):
            parts = [_wrap(f"✓ [{strength}] {text}", width, "  ", "      ")]
        case Output(text):
            parts = [text]
        case Figure(path, caption):
            parts = [_wrap(f"Figure: {caption} ({path})", width, "  ", "  ")]
        case Verdict(holds, text):
            parts = ["", _wrap(text if holds else f"FAILED: {text}", width, "", "  ")]
    out = "\n".join(parts) + "\n"
    return out if unicode else ascii_text(out)


# ---- Documents ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ProofRecord:
    """One proof run for a document: its name, catalogue entry, derivations and verdict."""

    name: str
    entry: Entry
    derivations: Sequence[Derivation]
    holds: bool
    error: str = ""
    seconds: float = 0.0

    def strength_counts(self) -> Counter[str]:
        """Checks by strength over all the proof's derivations."""
        total: Counter[str] = Counter()
        for derivation in self.derivations:
            total.update(derivation.strength_counts)
        return total


def strength_line(counts: Counter[str]) -> str:
    """``"9 symbolic, 4 finite, 0 numeric, 0 statistical"`` (plus untagged when any)."""
    parts = [f"{counts[s]} {s}" for s in STRENGTHS]
    if counts["untagged"]:
        parts.append(f"{counts['untagged']} untagged")
    return ", ".join(parts)


def _verdict_text(record: ProofRecord) -> str:
    if record.holds:
        return f"holds: {strength_line(record.strength_counts())}"
    return f"FAILED: {record.error}"


_TEXTUAL = re.compile(r"[ ()\[\]/,=·]")
"""A symbol whose name has one of these is a phrase ("p(z_n = 1)"), printed as text, not maths."""

_LATEX_TEXT_ESCAPES = {c: "\\" + c for c in "_^{}%$#&"} | {"\\": r"\textbackslash{}"}


def _textual_symbols(expr: Any) -> list[Any]:
    symbols: set[Any] = getattr(expr, "free_symbols", set())
    return [s for s in symbols if isinstance(s, sympy.Symbol) and _TEXTUAL.search(s.name)]


def _latex_text(name: str) -> str:
    return r"\text{" + "".join(_LATEX_TEXT_ESCAPES.get(c, c) for c in name) + "}"


def _latex(expr: Any) -> str:
    try:
        names = {s: _latex_text(s.name) for s in _textual_symbols(expr)}
        return str(sympy.latex(expr, symbol_names=names))
    except Exception:  # a printer gap: show the plain form rather than lose the step
        return r"\text{" + str(expr).replace("}", r"\}").replace("{", r"\{") + "}"


def _section_key(section: str) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", section))


def group_by_section(records: Iterable[ProofRecord]) -> list[tuple[str, list[ProofRecord]]]:
    """Records grouped by their primary book section, in book order (exercises last)."""
    groups: dict[str, list[ProofRecord]] = {}
    for record in records:
        groups.setdefault(record.entry.primary_section, []).append(record)
    return sorted(groups.items(), key=lambda item: _section_key(item[0]) or (99,))


def _section_heading(section: str) -> str:
    return f"§{section} {SECTION_TITLES.get(section, '')}".strip()


_MARKDOWN_SPECIAL = re.compile(r"([\\`*_<\[\]])")


def _md(text: str) -> str:
    """Text with Markdown's emphasis, code and link characters escaped."""
    return _MARKDOWN_SPECIAL.sub(r"\\\1", text)


def markdown_proof(record: ProofRecord, base: Path | None = None) -> str:
    """One proof as Markdown: claim, steps (LaTeX), checks with strength tags, verdict.

    Figures are linked relative to ``base`` (the document's folder) when they lie inside it.
    """
    entry = record.entry
    lines = [f"## {record.name}", "", f"*{_md(entry.reference)}* — {_md(entry.claim)}", ""]
    for derivation in record.derivations:
        previous: Event | None = None
        for event in derivation.events:
            if isinstance(previous, Check) and not isinstance(event, Check):
                lines.append("")
            previous = event
            match event:
                case Title(title, book):
                    lines += [f"### {_md(title)}", "", f"({_md(book)})", ""]
                case Claim(statement, text):
                    lines += [f"**Claim.** {_md(text)}", "", f"$$\n{_latex(statement)}\n$$", ""]
                case Step(number, reason, expr):
                    lines += [f"#### Step {number}. {_md(reason)}", ""]
                    if expr is not None:
                        lines += [f"$$\n{_latex(expr)}\n$$", ""]
                case Note(text):
                    lines += [_md(text), ""]
                case Check(text, strength):
                    lines += [f"- ✓ `[{strength}]` {_md(text)}"]
                case Output(text):
                    lines += ["```text", text, "```", ""]
                case Figure(path, caption):
                    link = path.relative_to(base) if base and path.is_relative_to(base) else path
                    lines += [f"![{_md(caption)}]({link.as_posix()})", ""]
                case Verdict(holds, text):
                    lines += [f"**{_md(text)}**" if holds else f"**FAILED:** {_md(text)}", ""]
    if not record.holds and not any(d.verdict for d in record.derivations):
        lines += [f"**FAILED:** {record.error}", ""]
    return "\n".join(lines)


def markdown_document(
    records: Sequence[ProofRecord], title: str, *, base: Path | None = None
) -> str:
    """All records as one Markdown document, with a contents list by book section."""
    held = sum(record.holds for record in records)
    total: Counter[str] = Counter()
    for record in records:
        total.update(record.strength_counts())
    lines = [f"# {title}", "", f"{held} of {len(records)} proofs hold; checks: "]
    lines[-1] += strength_line(total) + "."
    lines += ["", "## Contents", ""]
    for section, group in group_by_section(records):
        lines.append(f"- {_section_heading(section)}")
        lines += [f"  - [{r.name}](#{r.name.replace('_', '-')}): {r.entry.claim}" for r in group]
    lines.append("")
    for _, group in group_by_section(records):
        lines += [markdown_proof(record, base) for record in group]
    return "\n".join(lines)


def _mathml_symbol(printer: Any, sym: Any, style: str = "plain") -> Any:
    if not _TEXTUAL.search(sym.name):
        return _MATHML_PRINTER._print_Symbol(printer, sym, style)
    text = printer.dom.createElement("mtext")
    text.appendChild(printer.dom.createTextNode(sym.name))
    return text


def _mathml_idx(printer: Any, e: Any) -> Any:
    return printer._print(e.label)  # an index, not its range: i rather than idx(i, (0, N − 1))


def _mathml_kronecker(printer: Any, e: Any) -> Any:
    dom = printer.dom
    sub = dom.createElement("msub")
    delta = dom.createElement("mi")
    delta.appendChild(dom.createTextNode("δ"))
    indices = dom.createElement("mrow")
    for k, index in enumerate(e.args):
        if k:
            comma = dom.createElement("mo")
            comma.appendChild(dom.createTextNode(","))
            indices.appendChild(comma)
        indices.appendChild(printer._print(index))
    sub.appendChild(delta)
    sub.appendChild(indices)
    return sub


def _mathml_tag(printer: Any, e: Any) -> str:
    if isinstance(e, _APPLIED_UNDEF):
        return str(e.func.__name__)
    tag: str = _MATHML_PRINTER.mathml_tag(printer, e)
    return tag


# sympy's presentation-MathML printer, keeping the case of undefined functions (it lower-cases
# their names, so the variance D(x) would read d(x)), printing phrase-like symbols as text, an
# index Idx by its name and δ_ij as δ with subscripts (sympy prints both as raw function calls).
_MathMLPrinter: Any = type(
    "_MathMLPrinter",
    (_MATHML_PRINTER,),
    {
        "mathml_tag": _mathml_tag,
        "_print_Symbol": _mathml_symbol,
        "_print_Idx": _mathml_idx,
        "_print_KroneckerDelta": _mathml_kronecker,
    },
)


def mathml(expr: Any) -> str:
    """``expr`` as a display ``<math>`` element (presentation MathML)."""
    try:
        body = _MathMLPrinter().doprint(sympy.sympify(expr) if isinstance(expr, tuple) else expr)
    except Exception:  # a printer gap: show the plain form rather than lose the step
        return f'<pre class="plain">{html.escape(str(expr))}</pre>'
    return f'<math display="block">{body}</math>'


_CSS = """
body { font: 16px/1.5 Georgia, 'DejaVu Serif', serif; max-width: 60rem; margin: 2rem auto;
       padding: 0 1rem; color: #1a1a1a; background: #fff; }
h1 { font-size: 1.8rem; } h2 { border-bottom: 1px solid #ccc; margin-top: 3rem; }
h3 { font-size: 1.1rem; } .book { color: #555; font-style: italic; }
.claim { background: #f3f6fb; border-left: 4px solid #4a6fa5; padding: .5rem 1rem; }
.step { margin: 1rem 0; } .step-reason { font-weight: bold; }
math[display=block] { margin: .6rem 0; overflow-x: auto; overflow-y: hidden; font-size: 1.1em; }
ul.checks { list-style: none; padding-left: 1rem; } ul.checks li::before { content: "✓ ";
       color: #1d7a2e; font-weight: bold; }
.tag { font: .75rem monospace; padding: 0 .35rem; border-radius: .25rem; color: #fff; }
.symbolic { background: #1d6b3a; } .finite { background: #2f5fa0; }
.numeric { background: #a0652f; } .statistical { background: #7a3fa0; }
.untagged { background: #888; }
.verdict { font-weight: bold; padding: .4rem 1rem; margin: 1rem 0; }
.holds { background: #e6f4ea; color: #1d6b3a; } .fails { background: #fbe9e7; color: #a0281d; }
pre { background: #f6f6f6; padding: .5rem; overflow-x: auto; font-size: .8rem; }
nav li { margin: .15rem 0; } img { max-width: 100%; }
"""


def _html_text(text: str) -> str:
    """Escaped text; ᵀ as a superscript T (several serif fonts, bold ones above all, lack it)."""
    return html.escape(text).replace("ᵀ", "<sup>T</sup>")


def _tag(strength: str) -> str:
    return f'<span class="tag {html.escape(strength)}">{html.escape(strength)}</span>'


def html_proof(record: ProofRecord, figures: dict[str, str] | None = None) -> str:
    """One proof as an HTML ``<section>``."""
    e = _html_text
    entry = record.entry
    out = [
        f'<section id="{html.escape(record.name)}">',
        f"<h2>{e(record.name)}</h2>",
        f'<p class="book">{e(entry.reference)} · run time: {e(entry.runtime)}</p>',
        f"<p>{e(entry.claim)}</p>",
    ]
    checks_open = False
    for derivation in record.derivations:
        for event in derivation.events:
            if checks_open and not isinstance(event, Check):
                out.append("</ul>")
                checks_open = False
            match event:
                case Title(title, book):
                    out += [f"<h3>{e(title)}</h3>", f'<p class="book">{e(book)}</p>']
                case Claim(statement, text):
                    out += [
                        '<div class="claim">',
                        f"<p><strong>Claim.</strong> {e(text)}</p>",
                        mathml(statement),
                        "</div>",
                    ]
                case Step(number, reason, expr):
                    out.append(
                        f'<div class="step"><p><span class="step-reason">Step {number}.</span> '
                        f"{e(reason)}</p>"
                    )
                    if expr is not None:
                        out.append(mathml(expr))
                    out.append("</div>")
                case Note(text):
                    out.append(f'<p class="note">{e(text)}</p>')
                case Check(text, strength):
                    if not checks_open:
                        out.append('<ul class="checks">')
                        checks_open = True
                    out.append(f"<li>{_tag(strength)} {e(text)}</li>")
                case Output(text):
                    out.append(f"<pre>{e(text)}</pre>")
                case Figure(path, caption):
                    source = (figures or {}).get(str(path)) or _data_uri(path)
                    out.append(
                        f'<figure><img src="{html.escape(source)}" alt="{html.escape(caption)}">'
                        f"<figcaption>{e(caption)}</figcaption></figure>"
                    )
                case Verdict(holds, text):
                    kind = "holds" if holds else "fails"
                    label = text if holds else f"FAILED: {text}"
                    out.append(f'<p class="verdict {kind}">{e(label)}</p>')
    if checks_open:
        out.append("</ul>")
    if not record.holds and not any(d.verdict for d in record.derivations):
        out.append(f'<p class="verdict fails">FAILED: {e(record.error)}</p>')
    if len(record.derivations) > 1:  # several derivations: their verdicts, then the total
        kind = "holds" if record.holds else "fails"
        out += [f'<p class="verdict {kind}">{e(record.name)}: {e(_verdict_text(record))}</p>']
    out.append("</section>")
    return "\n".join(out)


def _data_uri(path: Path) -> str:
    """The image inlined as a data URI (the page stays standalone); its path if unreadable."""
    try:
        data = base64.b64encode(path.read_bytes()).decode("ascii")
    except OSError:
        return str(path)
    return f"data:image/png;base64,{data}"


def html_document(records: Sequence[ProofRecord], title: str) -> str:
    """A standalone HTML page: summary, contents by book section, then every proof."""
    e = _html_text
    held = sum(record.holds for record in records)
    total: Counter[str] = Counter()
    for record in records:
        total.update(record.strength_counts())
    nav = ["<nav><h2>Contents</h2><ul>"]
    for section, group in group_by_section(records):
        nav.append(f"<li>{e(_section_heading(section))}<ul>")
        for record in group:
            mark = "✓" if record.holds else "✗"
            href = f"#{record.name}"
            nav.append(
                f'<li>{mark} <a href="{html.escape(href)}">{e(record.name)}</a>: '
                f"{e(record.entry.claim)} "
                f"<small>({e(record.entry.reference)})</small></li>"
            )
        nav.append("</ul></li>")
    nav.append("</ul></nav>")
    body = [html_proof(record) for _, group in group_by_section(records) for record in group]
    return "\n".join(
        [
            "<!DOCTYPE html>",
            '<html lang="en">',
            "<head>",
            '<meta charset="utf-8">',
            '<meta name="viewport" content="width=device-width, initial-scale=1">',
            f"<title>{e(title)}</title>",
            f"<style>{_CSS}</style>",
            "</head>",
            "<body>",
            f"<h1>{e(title)}</h1>",
            f"<p>{held} of {len(records)} proofs hold. Checks by strength: "
            f"{e(strength_line(total))}.</p>",
            "<p>Strength tags: <em>symbolic</em> holds for every size; <em>finite</em> is exact "
            "for the sizes listed; <em>numeric</em> is a floating-point evaluation; "
            "<em>statistical</em> is a sampled experiment with its confidence.</p>",
            *nav,
            *body,
            "</body>",
            "</html>",
            "",
        ]
    )
