"""Command line: run all proofs, or the ones named; exit 1 if any fails."""

import argparse
import importlib
import inspect
import pkgutil
import sys
import time
import traceback
from types import ModuleType

import proofs


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


def _summary(module: ModuleType) -> str:
    doc = (module.__doc__ or "").strip()
    return doc.splitlines()[0] if doc else ""


def cli(argv: list[str] | None = None) -> int:
    """Parse arguments, run proofs, print a summary; return the exit status."""
    parser = argparse.ArgumentParser(prog="python -m proofs", description=proofs.__doc__)
    parser.add_argument("names", nargs="*", help="proofs to run (default: all)")
    parser.add_argument("--list", action="store_true", help="list the proofs and exit")
    parser.add_argument("--quick", action="store_true", help="smaller experiments")
    args = parser.parse_args(argv)
    available = proof_names()
    if args.list:
        for name in available:
            print(f"{name:32} {_summary(importlib.import_module(f'proofs.{name}'))}")
        return 0
    unknown = [name for name in args.names if name not in available]
    if unknown:
        parser.error(f"unknown proof(s) {unknown}; available: {', '.join(available)}")
    failed: list[str] = []
    selected = args.names or available
    for name in selected:
        print(f"\n{'=' * 78}\n{name}\n{'=' * 78}")
        start = time.perf_counter()
        try:
            run_proof(importlib.import_module(f"proofs.{name}"), quick=args.quick)
        except Exception:
            traceback.print_exc()
            failed.append(name)
            print(f"FAILED: {name}")
        else:
            print(f"[{name}: ok in {time.perf_counter() - start:.1f} s]")
    print(f"\n{len(selected) - len(failed)} of {len(selected)} proofs hold.")
    if failed:
        print(f"FAILED: {', '.join(failed)}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(cli())
