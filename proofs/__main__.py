"""Command line (``python -m proofs`` or ``nndl8 proofs``): list, run or write the proofs.

Exit status: 0 when every selected proof holds, 1 when a check fails (or a
proof raises), 2 for a usage error (an unknown proof name). Problems with the
output are not failed proofs: a closed pipe (``| head``) stops the run quietly
with the status of the checks run so far, and a terminal encoding that cannot
show the symbols gets ASCII art and spelled-out symbols instead.
"""

import argparse
import difflib
import importlib
import inspect
import io
import os
import pkgutil
import re
import sys
import textwrap
import time
import traceback
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, TextIO

import proofs
from proofs import _narrate
from proofs._catalogue import CATALOGUE, RUNTIMES, Entry

if TYPE_CHECKING:  # imported when documents are written: --list need not load the printers
    from proofs._render import ProofRecord

_DEFAULT_WIDTH = 100
"""Line width when neither --width, $COLUMNS nor a terminal says otherwise."""

_SYMBOL_PROBE = "✓α∑√ᵀ≤─⎛"
"""Characters the Unicode output needs; if the encoding cannot show them we fall back to ASCII."""

_DOCUMENT_TITLE = "nndl8: the derivations of chapter 8 (attention and external memory)"


def proof_names() -> list[str]:
    """Names of all proof modules (every module of ``proofs`` not starting with ``_``)."""
    return sorted(
        info.name for info in pkgutil.iter_modules(proofs.__path__) if not info.name.startswith("_")
    )


def run_proof(module: ModuleType, *, quick: bool) -> None:
    """Call the proof's ``main``, passing ``quick`` if it accepts it."""
    main = module.main
    if "quick" in inspect.signature(main).parameters:
        main(quick=quick)
    else:
        main()


def entry_for(name: str) -> Entry:
    """The proof's catalogue entry (a placeholder from its docstring if it has none yet)."""
    if name in CATALOGUE:
        return CATALOGUE[name]
    doc = (importlib.import_module(f"proofs.{name}").__doc__ or "").strip()
    return Entry(("?",), (doc.splitlines() or ["(not catalogued)"])[0])


# ---- Selection ---------------------------------------------------------------------------


def _section_parts(text: str) -> tuple[str, ...]:
    return tuple(text.split("."))


def select(requests: Sequence[str], available: Sequence[str]) -> tuple[list[str], list[str]]:
    """Proofs matching each request (a name, an exercise ``8-6``, a section ``8.6.1`` or ``§8.6``).

    A section selects every proof filed under it or under one of its subsections.
    Returns (selected names in order, without repeats; requests that matched nothing).
    """
    selected: list[str] = []
    unmatched: list[str] = []
    for request in requests:
        key = request.strip().removeprefix("§").lower().removeprefix("exercise")
        if request in available:
            matches = [request]
        elif re.fullmatch(r"\d+-\d+", key):
            matches = [n for n in available if key in entry_for(n).exercises]
        elif re.fullmatch(r"\d+(\.\d+)*", key):
            wanted = _section_parts(key)
            matches = [
                n
                for n in available
                if any(_section_parts(s)[: len(wanted)] == wanted for s in entry_for(n).sections)
            ]
        else:
            matches = []
        if not matches:
            unmatched.append(request)
        selected += [name for name in matches if name not in selected]
    return selected, unmatched


def suggestions(request: str, available: Sequence[str]) -> list[str]:
    """Near misses for an unknown request: proof names, exercises and sections."""
    choices = set(available)
    for name in available:
        entry = entry_for(name)
        choices.update(entry.exercises)
        choices.update(entry.sections)
    close = difflib.get_close_matches(request, sorted(choices), n=3, cutoff=0.6)
    if close:
        return close
    # A misspelt start of a name ("hopfeld"): names whose start of the same length is close.
    return [
        name
        for name in available
        if difflib.SequenceMatcher(None, request, name[: len(request)]).ratio() >= 0.75
    ][:6]


# ---- Output streams ----------------------------------------------------------------------


class _AsciiStream(io.TextIOBase):
    """A text stream that spells every character its encoding cannot show in ASCII."""

    def __init__(self, raw: TextIO) -> None:
        self._raw = raw

    def write(self, text: str) -> int:
        from proofs._render import ascii_text

        self._raw.write(ascii_text(text))
        return len(text)

    def flush(self) -> None:
        self._raw.flush()

    def fileno(self) -> int:
        return self._raw.fileno()

    def isatty(self) -> bool:
        return self._raw.isatty()

    @property
    def encoding(self) -> str:  # type: ignore[override]  # TextIOBase declares it read-only
        return getattr(self._raw, "encoding", None) or "ascii"


def can_show_symbols(stream: TextIO) -> bool:
    """Whether ``stream``'s encoding can show the proofs' Unicode (✓, α, ∑, box drawing)."""
    encoding = getattr(stream, "encoding", None) or "ascii"
    try:
        _SYMBOL_PROBE.encode(encoding)
    except (UnicodeEncodeError, LookupError):
        return False
    return True


@contextmanager
def _ascii_stdout(enabled: bool) -> Iterator[None]:
    if not enabled:
        yield
        return
    saved = sys.stdout
    sys.stdout = _AsciiStream(saved)
    try:
        yield
    finally:
        sys.stdout = saved


def terminal_width(option: int | None) -> int | None:
    """Line width: --width (0: unlimited), else $COLUMNS, else the terminal's, else 100."""
    if option is not None:
        return option or None
    if os.environ.get("COLUMNS", "").isdigit():
        return int(os.environ["COLUMNS"]) or None
    for stream in (sys.stdout, sys.stderr):
        try:
            return os.get_terminal_size(stream.fileno()).columns
        except (OSError, ValueError, AttributeError, io.UnsupportedOperation):
            continue
    return _DEFAULT_WIDTH


def _silence_stdout() -> None:
    """After the reader closed the pipe: send what is left in the buffers to /dev/null."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError, io.UnsupportedOperation):
        pass


# ---- Running -----------------------------------------------------------------------------


@dataclass
class _Run:
    """Proofs run so far and the ones that failed (so a closed pipe can report honestly)."""

    failed: list[str] = field(default_factory=list)
    done: int = 0


def _list(names: Sequence[str], width: int | None) -> None:
    for name in names:
        entry = entry_for(name)
        print(f"{name:32} {entry.reference:30} {entry.runtime}")
        print(
            textwrap.fill(
                entry.claim, width or 1000, initial_indent="    ", subsequent_indent="    "
            )
        )
    print("\nRun times: " + "; ".join(f"{k}: {v}" for k, v in RUNTIMES.items()) + ".")


def _run_terminal(names: Sequence[str], quick: bool, width: int | None, run: _Run) -> None:
    rule = "=" * min(width or 78, 78)
    for name in names:
        print(f"\n{rule}\n{name}    ({entry_for(name).reference})\n{rule}", flush=True)
        start = time.perf_counter()
        try:
            run_proof(importlib.import_module(f"proofs.{name}"), quick=quick)
        except BrokenPipeError:
            raise
        except Exception:
            sys.stdout.flush()
            traceback.print_exc()
            run.failed.append(name)
            print(f"FAILED: {name}")
        else:
            print(f"[{name}: ok in {time.perf_counter() - start:.1f} s]")
        run.done += 1
    print(f"\n{len(names) - len(run.failed)} of {len(names)} proofs hold.")
    if run.failed:
        print(f"FAILED: {', '.join(run.failed)}")


def _record(names: Sequence[str], quick: bool, run: _Run) -> list["ProofRecord"]:
    from proofs._render import ProofRecord

    records = []
    for k, name in enumerate(names, start=1):
        print(f"[{k}/{len(names)}] {name}", file=sys.stderr, flush=True)
        start = time.perf_counter()
        error = ""
        with _narrate.recording() as recorded:
            try:
                run_proof(importlib.import_module(f"proofs.{name}"), quick=quick)
            except Exception as exc:
                error = f"{type(exc).__name__}: {exc}"
                if recorded.derivations and recorded.derivations[-1].verdict is None:
                    recorded.derivations[-1].fail(error)
        if error:
            run.failed.append(name)
        records.append(
            ProofRecord(
                name,
                entry_for(name),
                tuple(recorded.derivations),
                not error,
                error,
                time.perf_counter() - start,
            )
        )
    return records


def _write_documents(
    records: Sequence["ProofRecord"], fmt: str, output: Path | None, quick: bool
) -> None:
    from proofs import _render

    title = _DOCUMENT_TITLE + (" (quick mode)" if quick else "")

    def render(selection: Sequence["ProofRecord"], heading: str) -> str:
        if fmt == "html":
            return _render.html_document(selection, heading)
        return _render.markdown_document(selection, heading, base=output)

    if output is None:
        sys.stdout.write(render(records, title))
        return
    output.mkdir(parents=True, exist_ok=True)
    suffix = "html" if fmt == "html" else "md"
    (output / f"index.{suffix}").write_text(render(records, title), encoding="utf-8")
    for record in records:
        page = render([record], f"{record.name}: {record.entry.claim}")
        (output / f"{record.name}.{suffix}").write_text(page, encoding="utf-8")
    print(f"wrote {output / f'index.{suffix}'} (all proofs) and {len(records)} per-proof files")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="nndl8 proofs",
        description="Run the narrated, machine-checked derivations of chapter 8.",
        epilog="Examples: `nndl8 proofs --list`; `nndl8 proofs 8-6` (exercise 8-6); "
        "`nndl8 proofs 8.6.1` (section); `nndl8 proofs softmax_laws`; "
        "`nndl8 proofs --format html --output out/proofs`. Exit status: 0 all hold, "
        "1 a check failed, 2 usage error.",
    )
    parser.add_argument(
        "select",
        nargs="*",
        metavar="NAME|EXERCISE|SECTION",
        help="proofs to run: a name, an exercise (8-6) or a book section (8.6.1); default all",
    )
    parser.add_argument("--list", action="store_true", help="list the proofs (selected) and exit")
    parser.add_argument("--quick", action="store_true", help="smaller experiments (seconds)")
    parser.add_argument(
        "--format",
        choices=("terminal", "markdown", "html"),
        default="terminal",
        help="terminal (default; printed as it runs), markdown (LaTeX maths) or html (MathML)",
    )
    parser.add_argument(
        "--output",
        type=Path,
        metavar="DIR",
        help="with --format markdown/html: write DIR/index.* (all) and DIR/NAME.* (one per proof)",
    )
    parser.add_argument(
        "--width",
        type=int,
        metavar="COLUMNS",
        help="terminal line width (default: the terminal's, else 100; 0: unlimited)",
    )
    parser.add_argument(
        "--ascii", action="store_true", help="ASCII output (automatic if the encoding needs it)"
    )
    return parser


def _main(argv: list[str] | None, run: _Run) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if args.width is not None and args.width < 0:
        parser.error(f"--width must be ≥ 0, got {args.width}")
    if args.output is not None and args.format == "terminal":
        parser.error("--output needs --format markdown or --format html")
    available = proof_names()
    names, unmatched = select(args.select, available) if args.select else (available, [])
    if unmatched:
        lines = []
        for request in unmatched:
            near = suggestions(request, available)
            listed = ", ".join(near[:-1]) + " or " + near[-1] if len(near) > 1 else "".join(near)
            hint = f"; did you mean {listed}?" if near else ""
            lines.append(f"no proof, exercise or section matches {request!r}{hint}")
        parser.error("\n".join(lines) + "\n(`nndl8 proofs --list` lists them all)")
    width = terminal_width(args.width)
    unicode = not args.ascii and can_show_symbols(sys.stdout)
    with _ascii_stdout(not unicode), _narrate.terminal_style(width=width, unicode=unicode):
        if args.list:
            _list(names, width)
            return 0
        if args.format == "terminal":
            _run_terminal(names, args.quick, width, run)
        else:
            with _narrate.artefacts_in(args.output or _narrate.artefact_dir()):
                records = _record(names, args.quick, run)
            _write_documents(records, args.format, args.output, args.quick)
    return 1 if run.failed else 0


def cli(argv: list[str] | None = None) -> int:
    """Parse arguments, list/run/write proofs; return the exit status (1 only if a check fails)."""
    run = _Run()
    try:
        return _main(argv, run)
    except BrokenPipeError:
        # The reader closed the pipe (`| head`): nothing more can be shown. Not a failed
        # proof: the status says whether a check failed among the proofs run so far.
        _silence_stdout()
        return 1 if run.failed else 0


if __name__ == "__main__":
    sys.exit(cli())
