"""The ``nndl8`` console script: ``nndl8 proofs ...`` and ``nndl8 conformance ...``.

A thin dispatcher. Each subcommand lives with what it serves and is imported
only when asked for, so ``nndl8 proofs`` never loads the conformance kit and
``nndl8 conformance`` never loads sympy's proofs:

- ``nndl8 proofs [ARGS]`` runs ``proofs.__main__.cli`` (the derivations of chapter 8);
- ``nndl8 conformance [ARGS]`` runs ``impl.testing.cli.main`` (check a kernel against
  the reference).
"""

import importlib
import sys
from collections.abc import Callable

_SUBCOMMANDS: dict[str, tuple[str, str, str]] = {
    "proofs": ("proofs.__main__", "cli", "run the derivations of chapter 8"),
    "conformance": ("impl.testing.cli", "main", "check a kernel against the reference"),
}


def _usage() -> str:
    lines = ["usage: nndl8 {proofs,conformance} [ARGS ...]", ""]
    lines += [f"  {name:12} {about}" for name, (_, _, about) in _SUBCOMMANDS.items()]
    lines.append("\n`nndl8 SUBCOMMAND --help` describes a subcommand's arguments.")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Dispatch ``argv`` (default: ``sys.argv[1:]``) to a subcommand; return its exit status."""
    args = sys.argv[1:] if argv is None else argv
    if not args or args[0] in ("-h", "--help"):
        print(_usage())
        return 0 if args else 2
    name, rest = args[0], args[1:]
    if name not in _SUBCOMMANDS:
        print(f"nndl8: unknown subcommand {name!r}\n\n{_usage()}", file=sys.stderr)
        return 2
    module_name, function_name, _ = _SUBCOMMANDS[name]
    run: Callable[[list[str]], int] = getattr(importlib.import_module(module_name), function_name)
    return run(rest)


if __name__ == "__main__":
    sys.exit(main())
