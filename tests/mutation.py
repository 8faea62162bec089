"""A sampled, unbiased mutation run of ``impl/`` and ``spec/`` with mutmut (issue 8).

``tests/mutants.py`` holds the named, domain-specific bugs we chose; this run draws
its mutants from a tool instead, so it measures what our choice cannot: how much of
the code the suite really pins down. mutmut (pinned in the ``dev`` extra) writes
every mutant of every function into a copy of the sources under ``mutants/``
(operator and comparison swaps, changed numbers and constants, dropped arguments,
``None`` for a statement's value, swapped keywords, …) and runs, for each mutant, the
tests that reach that function, in a forked worker, stopping at the first failure.

The population is every mutant of every in-scope source file (about 30 000). Running
them all takes days on two cores, so a seeded sample is run instead:

* each mutant gets a rank, a hash of ``SEED`` and its name; a file's sample is its
  ``max(MIN_PER_FILE, ceil(rate × size))`` lowest-ranked mutants. A name's rank does
  not depend on any other file, so editing one file leaves the other samples alone;
* ``--sample full`` (``make mutation``, about 1 in 60) is the sample whose every
  survivor has been either killed by a new test or listed in
  ``tests/mutation_equivalents.py`` with the reason it cannot change behaviour;
* ``--sample ci`` (about 1 in 200, and a subset of the full sample: same ranks,
  lower cut) is what CI runs within its time budget.

The score of a group of files is detected / (sampled − listed equivalent), where a
mutant is detected if a test failed, it timed out (the suite refuses a hang), or it
crashed the worker. Survivors are mutants the suite ran on without failing, and
mutants that no test reaches (mutmut's "no tests"). The run prints the score of every
file and of ``impl/`` and ``spec/`` as wholes, lists each unlisted survivor with its
diff, and exits 1 when ``impl/`` or ``spec/`` is below ``TARGET``.

Out of scope, each with its reason: the PyTorch/JAX adapters of the conformance kit
(they need the optional frameworks, which the default suite never installs; CI's
conformance runs exercise them) and files with nothing to mutate.

Threads: ``--jobs`` forked workers (default 2, the machine's cores), each with one
BLAS thread (``OPENBLAS_NUM_THREADS=1``), so the run never oversubscribes.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import os
import subprocess
import sys
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MUTANTS = ROOT / "mutants"
SEED = "nndl8 mutation sample, issue 8"
TARGET = 0.90
MIN_PER_FILE = {"full": 6, "ci": 2}
RATE = {"full": 1 / 60, "ci": 1 / 200}

# Files of impl/ and spec/ left out of the population, and why.
OUT_OF_SCOPE = {
    "impl/testing/torch_adapters.py": "needs torch (optional); CI's conformance run covers it",
    "impl/testing/torch_recurrent.py": "needs torch (optional); CI's conformance run covers it",
    "impl/testing/torch_memory.py": "needs torch (optional); CI's conformance run covers it",
    "impl/testing/jax_adapters.py": "needs jax (optional); CI's JAX conformance run covers it",
    "impl/testing/margins.py": "measures margins against PyTorch/JAX kernels; needs them",
}
# Functions (mutmut's mangled names) of in-scope files that call PyTorch or JAX.
OUT_OF_SCOPE_FUNCTIONS = {
    "impl.testing.backward.x__torch_cell_candidate": "builds PyTorch modules",
    "impl.testing.backward.x_torch_autograd_": "PyTorch autograd adapters",
}

DETECTED = {"killed", "timeout", "segfault", "caught by type check"}
SURVIVED = {"survived", "no tests"}


@dataclass(frozen=True)
class Outcome:
    """One sampled mutant and what the suite did with it."""

    name: str
    source: str
    status: str


def rank(name: str) -> int:
    """The mutant's place in the seeded order: a hash of the seed and its name."""
    digest = hashlib.sha256(f"{SEED}\0{name}".encode()).digest()
    return int.from_bytes(digest[:8], "big")


def sample_size(population: int, sample: str) -> int:
    """How many of a file's ``population`` mutants the ``sample`` takes."""
    wanted = max(MIN_PER_FILE[sample], math.ceil(RATE[sample] * population))
    return min(population, wanted)


def draw(names_by_source: dict[str, list[str]], sample: str) -> dict[str, list[str]]:
    """Each file's sample: its lowest-ranked mutants."""
    drawn: dict[str, list[str]] = {}
    for source, names in sorted(names_by_source.items()):
        ordered = sorted(names, key=rank)
        drawn[source] = sorted(ordered[: sample_size(len(names), sample)])
    return drawn


def _meta_files() -> Iterable[tuple[str, Path]]:
    for meta in sorted(MUTANTS.glob("**/*.py.meta")):
        source = meta.relative_to(MUTANTS).as_posix().removesuffix(".meta")
        if source.split("/")[0] in {"impl", "spec"}:
            yield source, meta


def population() -> dict[str, list[str]]:
    """Every mutant mutmut generated, by source file, for the files in scope."""
    found: dict[str, list[str]] = {}
    for source, meta in _meta_files():
        if source in OUT_OF_SCOPE:
            continue
        names = [
            name
            for name in json.loads(meta.read_text())["exit_code_by_key"]
            if not any(name.startswith(prefix) for prefix in OUT_OF_SCOPE_FUNCTIONS)
        ]
        if names:
            found[source] = names
    return found


def generate(jobs: int) -> None:
    """Write every mutant into ``mutants/`` (mutmut's generation step only)."""
    from mutmut.__main__ import create_mutants
    from mutmut.mutation.trampoline import set_mutant_under_test
    from mutmut.utils.file_utils import copy_also_copy_files, copy_src_dir, setup_source_paths

    set_mutant_under_test("mutant_generation")
    MUTANTS.mkdir(exist_ok=True)
    copy_src_dir()
    copy_also_copy_files()
    setup_source_paths()
    create_mutants(jobs)


def run_mutmut(names: Sequence[str], jobs: int, log: Path) -> int:
    """Run ``mutmut run`` on the sampled names; its progress output goes to ``log``."""
    command = [
        str(Path(sys.executable).with_name("mutmut")),
        "run",
        "--max-children",
        str(jobs),
        *names,
    ]
    environment = {
        **os.environ,
        "OPENBLAS_NUM_THREADS": "1",
        "OMP_NUM_THREADS": "1",
        "HYPOTHESIS_PROFILE": "mutation",
    }
    with log.open("w") as sink:
        return subprocess.run(
            command, cwd=ROOT, env=environment, stdout=sink, stderr=subprocess.STDOUT, check=False
        ).returncode


def outcomes(drawn: dict[str, list[str]]) -> list[Outcome]:
    """Read each sampled mutant's status from mutmut's result files."""
    from mutmut.stats import status_by_exit_code

    found: list[Outcome] = []
    for source, meta in _meta_files():
        if source not in drawn:
            continue
        codes = json.loads(meta.read_text())["exit_code_by_key"]
        found.extend(
            Outcome(name, source, status_by_exit_code[codes.get(name)]) for name in drawn[source]
        )
    return found


def diff_of(outcome: Outcome) -> str:
    """The mutant's change, as mutmut shows it."""
    from mutmut.mutation.diff_apply import get_diff_for_mutant

    previous = Path.cwd()
    os.chdir(ROOT)
    try:
        return get_diff_for_mutant(outcome.name, path=MUTANTS / outcome.source)
    finally:
        os.chdir(previous)


@dataclass(frozen=True)
class Score:
    """Detected / behaviour-changing mutants of a group of files."""

    detected: int
    survived: int
    equivalent: int
    other: int

    @property
    def behaviour_changing(self) -> int:
        return self.detected + self.survived

    @property
    def value(self) -> float:
        return self.detected / self.behaviour_changing if self.behaviour_changing else 1.0


def score(group: Iterable[Outcome], equivalent: dict[str, str]) -> Score:
    detected = survived = listed = other = 0
    for outcome in group:
        if outcome.name in equivalent and outcome.status in SURVIVED:
            listed += 1
        elif outcome.status in DETECTED:
            detected += 1
        elif outcome.status in SURVIVED:
            survived += 1
        else:
            other += 1
    return Score(detected, survived, listed, other)


def report(results: list[Outcome], equivalent: dict[str, str], show_diffs: bool) -> bool:
    """Print the per-file and per-tree scores; True when both trees reach ``TARGET``."""
    by_source: dict[str, list[Outcome]] = {}
    for outcome in results:
        by_source.setdefault(outcome.source, []).append(outcome)
    print(f"\n{'file':44} {'sampled':>7} {'detected':>8} {'survived':>8} {'equiv.':>6} score")
    for source, group in sorted(by_source.items()):
        s = score(group, equivalent)
        sampled = len(group)
        print(
            f"{source:44} {sampled:7d} {s.detected:8d} {s.survived:8d} {s.equivalent:6d} "
            f"{s.value:6.1%}"
        )
    passed = True
    print()
    for tree in ("impl", "spec"):
        s = score((o for o in results if o.source.startswith(tree + "/")), equivalent)
        verdict = "ok" if s.value >= TARGET else f"BELOW the {TARGET:.0%} target"
        print(
            f"{tree}/: {s.detected} of {s.behaviour_changing} behaviour-changing mutants "
            f"detected = {s.value:.1%} ({s.equivalent} listed equivalent, {s.other} other) "
            f"{verdict}"
        )
        passed = passed and s.value >= TARGET
    unlisted = [o for o in results if o.status in SURVIVED and o.name not in equivalent]
    stale = [o.name for o in results if o.name in equivalent and o.status in DETECTED]
    if unlisted:
        print(f"\n{len(unlisted)} survivor(s) neither killed nor listed as equivalent:")
        for outcome in unlisted:
            print(f"\n# {outcome.name} ({outcome.status})")
            if show_diffs:
                print(diff_of(outcome).rstrip())
    if stale:
        print("\nListed as equivalent but detected (remove from the list): " + ", ".join(stale))
    others = [o for o in results if o.status not in DETECTED | SURVIVED]
    if others:
        print("\nNot run or suspicious: " + ", ".join(f"{o.name} ({o.status})" for o in others))
    return passed


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--sample", choices=sorted(RATE), default="full")
    parser.add_argument("--jobs", type=int, default=2, help="forked mutmut workers (cores)")
    parser.add_argument("--only", default="", help="run only files whose path contains this")
    parser.add_argument("--list", action="store_true", help="print the sample and stop")
    parser.add_argument("--report-only", action="store_true", help="read the last results")
    parser.add_argument("--no-diffs", action="store_true", help="do not print survivors' diffs")
    arguments = parser.parse_args(argv)

    from tests.mutation_equivalents import EQUIVALENT

    os.chdir(ROOT)
    started = time.monotonic()
    if not arguments.report_only:
        generate(arguments.jobs)
    everything = population()
    drawn = {
        source: names
        for source, names in draw(everything, arguments.sample).items()
        if arguments.only in source
    }
    names = [name for group in drawn.values() for name in group]
    print(
        f"mutmut population: {sum(map(len, everything.values()))} mutants in {len(everything)} "
        f"files; sample '{arguments.sample}' (seed {SEED!r}): {len(names)} mutants; "
        f"{arguments.jobs} worker(s), one BLAS thread each"
    )
    if arguments.list:
        print("\n".join(names))
        return 0
    if not arguments.report_only:
        log = MUTANTS / "mutmut-run.log"
        code = run_mutmut(names, arguments.jobs, log)
        print(f"mutmut run exit status {code} in {time.monotonic() - started:.0f} s (log: {log})")
        if code != 0:
            print(log.read_text()[-4000:])
            return 2
    passed = report(outcomes(drawn), EQUIVALENT, show_diffs=not arguments.no_diffs)
    print(f"\nmutation run: {time.monotonic() - started:.0f} s")
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
