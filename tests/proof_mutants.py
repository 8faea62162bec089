"""Proof mutants: deliberate changes to the mathematics a proof starts from, which it must catch.

A proof that still prints QED after its definitions were changed proves less than it says. Each
mutant below replaces one snippet of a ``spec`` definition (or of the independently stated target
a proof compares with) by a mathematically different one — a ½ dropped, a sign flipped, √D for D,
an index shifted — and runs the proof it is meant to break. The mutant is *killed* when the proof
raises ``ProofError`` (a check that does not hold); a proof that crashes with any other exception
has not shown that its checks can fail, and is reported as such.

Everything runs in this process: the mutated module is served from memory by an import hook, and
every ``spec``, ``impl`` and ``proofs`` module is imported afresh for each mutant (sympy and NumPy
stay loaded), so a mutant costs one proof run, not a new interpreter. (Proofs that start from
``impl`` — the capacity experiment, the memory organisations — are mutated there.)

    python -m tests.proof_mutants            # all mutants; a table; exit 1 unless all killed
    python -m tests.proof_mutants --list
    python -m tests.proof_mutants --proof softmax_laws

A mutant that cannot change a proof's verdict (an *equivalent* mutant) is listed with the reason
in ``equivalent``; it must survive, and is reported apart from the kills.
"""

import argparse
import contextlib
import importlib
import importlib.abc
import importlib.machinery
import importlib.util
import inspect
import io
import sys
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class ProofMutant:
    """Replace ``old`` (exactly once) by ``new`` in ``path``; proof ``proof`` must then fail."""

    name: str
    proof: str
    path: str
    old: str
    new: str
    what: str
    equivalent: str = ""

    @property
    def module(self) -> str:
        """The dotted module name of ``path`` (``spec/softmax.py`` → ``spec.softmax``)."""
        return self.path.removesuffix(".py").replace("/", ".")


class _MutatedSourceFinder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Serve one module's source from memory instead of its file."""

    def __init__(self, module: str, path: Path, source: str) -> None:
        self._module, self._path, self._source = module, path, source

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname != self._module:
            return None
        return importlib.util.spec_from_loader(fullname, self, origin=str(self._path))

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType | None:
        return None

    def exec_module(self, module: ModuleType) -> None:
        module.__file__ = str(self._path)
        exec(compile(self._source, str(self._path), "exec"), module.__dict__)


def _project_modules() -> list[str]:
    return [name for name in sys.modules if name.split(".")[0] in ("spec", "impl", "proofs")]


@contextlib.contextmanager
def _fresh_project_imports(finder: _MutatedSourceFinder | None) -> Iterator[None]:
    """Import spec, impl and proofs afresh inside the block (through ``finder``), then restore."""
    saved = {name: sys.modules.pop(name) for name in _project_modules()}
    if finder is not None:
        sys.meta_path.insert(0, finder)
    try:
        yield
    finally:
        if finder is not None:
            sys.meta_path.remove(finder)
        for name in _project_modules():
            del sys.modules[name]
        sys.modules.update(saved)


def run_proof_quietly(proof: str) -> str:
    """Run ``proofs.<proof>`` (quick mode if it has one) with its output captured.

    Returns ``"holds"``, ``"fails"`` (a ``ProofError``: a check did not hold) or
    ``"crashes: <exception>"`` (anything else went wrong).
    """
    module = importlib.import_module(f"proofs.{proof}")
    proof_error = importlib.import_module("proofs._narrate").ProofError
    main = module.main
    kwargs = {"quick": True} if "quick" in inspect.signature(main).parameters else {}
    with contextlib.redirect_stdout(io.StringIO()):
        try:
            main(**kwargs)
        except proof_error:
            return "fails"
        except Exception as error:  # a crash is not a failed check: report it as such
            return f"crashes: {type(error).__name__}: {error}"[:200]
    return "holds"


def run_mutant(mutant: ProofMutant) -> str:
    """Apply ``mutant`` in memory and run its proof; return the proof's verdict."""
    path = ROOT / mutant.path
    original = path.read_text(encoding="utf-8")
    count = original.count(mutant.old)
    if count != 1:
        raise ValueError(f"{mutant.name}: the snippet occurs {count} times in {mutant.path}")
    finder = _MutatedSourceFinder(mutant.module, path, original.replace(mutant.old, mutant.new))
    with _fresh_project_imports(finder):
        return run_proof_quietly(mutant.proof)


def run_unmutated(proof: str) -> str:
    """Run ``proof`` on the unchanged sources (a mutant counts only if this holds)."""
    with _fresh_project_imports(None):
        return run_proof_quietly(proof)


def main(argv: list[str] | None = None) -> int:
    """Run the selected mutants; print a row each and a summary per proof; 1 unless all killed."""
    from tests.proof_mutants_catalogue import PROOF_MUTANTS

    parser = argparse.ArgumentParser(prog="python -m tests.proof_mutants", description=__doc__)
    parser.add_argument("names", nargs="*", help="mutants to run (default: all)")
    parser.add_argument("--proof", action="append", default=[], help="only this proof's mutants")
    parser.add_argument("--list", action="store_true")
    args = parser.parse_args(argv)
    by_name = {m.name: m for m in PROOF_MUTANTS}
    if args.list:
        for m in PROOF_MUTANTS:
            print(f"{m.name:44} {m.proof:34} {m.what}")
        return 0
    unknown = [n for n in args.names if n not in by_name]
    if unknown:
        parser.error(f"unknown mutant(s) {unknown}")
    selected = [by_name[n] for n in args.names] or [
        m for m in PROOF_MUTANTS if not args.proof or m.proof in args.proof
    ]
    baseline = {proof: run_unmutated(proof) for proof in sorted({m.proof for m in selected})}
    broken = {proof: verdict for proof, verdict in baseline.items() if verdict != "holds"}
    if broken:
        print(f"the unmutated proofs do not hold: {broken}")
        return 2
    killed: Counter[str] = Counter()
    total: Counter[str] = Counter()
    problems: list[str] = []
    for mutant in selected:
        start = time.perf_counter()
        try:
            verdict = run_mutant(mutant)
        except ValueError as error:  # the snippet is gone: the catalogue needs updating
            verdict = f"crashes: {error}"
        total[mutant.proof] += 1
        if mutant.equivalent:
            status = "equivalent" if verdict == "holds" else f"NOT EQUIVALENT ({verdict})"
            if verdict != "holds":
                problems.append(mutant.name)
        elif verdict == "fails":
            status = "killed"
            killed[mutant.proof] += 1
        else:
            status = "SURVIVED" if verdict == "holds" else f"CRASHED ({verdict})"
            problems.append(mutant.name)
        elapsed = time.perf_counter() - start
        print(f"{status:10} {mutant.name:44} {mutant.proof:32} ({elapsed:.1f} s)", flush=True)
    print("\nper proof: killed / mutants")
    for proof in sorted(total):
        print(f"  {proof:34} {killed[proof]:3} / {total[proof]}")
    print(
        f"\n{sum(killed.values())} of {len(selected)} proof mutants killed"
        f" ({sum(1 for m in selected if m.equivalent)} listed as equivalent)."
    )
    if problems:
        print(f"not killed as required: {', '.join(problems)}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
