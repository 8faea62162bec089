"""``nndl8 conformance``: run the conformance checks against a framework or your own function.

Usage::

    nndl8 conformance torch                         # every PyTorch target, float64/float32/bfloat16
    nndl8 conformance torch --device cuda --dtype float16
    nndl8 conformance jax
    nndl8 conformance my_module:my_attention --kind sdpa --dtype bfloat16 [--layout BLHE]
    nndl8 conformance torch --margins [--cases 10000]   # bound vs largest observed error
    nndl8 conformance --list                        # kinds, their signatures and checks

Prints one row per check (pass / expected difference / FAIL) and, for each
check that did not pass, a report (the broken law, shrunk inputs, expected, got,
tolerance and how it was computed, the command rerunning that example). Exits 1
if any check failed, 2 on a usage error or a missing framework, 0 otherwise.
"""

import argparse
import importlib
import shlex
import sys
import time
from collections.abc import Callable
from typing import Any

from impl.testing.registry import RunConfig, Target, kinds, targets
from impl.testing.report import CheckResult, Outcome, format_results
from impl.testing.tolerances import PRECISIONS, as_precision

__all__ = ["main"]

FRAMEWORKS = ("torch", "jax")
DEFAULT_PRECISIONS = ("float64", "float32", "bfloat16")
"""What ``nndl8 conformance torch`` checks without ``--dtype`` (float16 on request:
PyTorch's CPU float16 kernels are slow and its float16 is a GPU format)."""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="nndl8 conformance",
        description="Check softmax/attention/recurrent/memory kernels against nndl8's reference "
        "within derived rounding-error bounds, and against the laws they must obey.",
    )
    parser.add_argument(
        "target",
        nargs="?",
        help="torch, jax, or module:function (a candidate of the --kind's signature)",
    )
    parser.add_argument("--kind", action="append", default=[], help="restrict to these kinds")
    parser.add_argument(
        "--dtype",
        default=None,
        help=f"comma-separated precisions the candidate computes in ({', '.join(PRECISIONS)}); "
        f"default {','.join(DEFAULT_PRECISIONS)} for a framework, float64 for a function",
    )
    parser.add_argument("--layout", default=None, help="BHLE (default for sdpa) or BLHE (JAX)")
    parser.add_argument("--device", default="cpu", help="cpu or cuda (framework targets)")
    parser.add_argument("--examples", type=int, default=30, help="hypothesis examples per check")
    parser.add_argument("--seed", type=int, default=0, help="hypothesis seed (same seed, same run)")
    parser.add_argument(
        "--check", action="append", default=[], help="run only this check id (or family prefix)"
    )
    parser.add_argument("--list", action="store_true", help="list kinds and checks, then exit")
    parser.add_argument(
        "--margins",
        action="store_true",
        help="print, per precision and family, the bound against the largest observed error",
    )
    parser.add_argument("--cases", type=int, default=1000, help="random cases per row (--margins)")
    parser.add_argument("--quiet", action="store_true", help="print only checks that did not pass")
    return parser


def _list() -> int:
    for name, kind in sorted(kinds().items()):
        print(f"{name}: {kind.summary}")
        print(f"  layouts: {', '.join(kind.layouts)}")
        for check in kind.checks:
            print(f"  {check}")
    frameworks = sorted({t.framework for t in targets()})
    print(f"\nframework targets: {', '.join(frameworks)}")
    return 0


def _load_function(spec: str) -> Callable[..., Any]:
    module_name, _, attribute = spec.partition(":")
    if not module_name or not attribute:
        raise ValueError(f"target must be torch, jax or module:function, got {spec!r}")
    if "" not in sys.path:
        sys.path.insert(0, "")  # the current directory, as `python -m` would
    obj: Any = importlib.import_module(module_name)
    for part in attribute.split("."):
        obj = getattr(obj, part)
    if not callable(obj):
        raise ValueError(f"{spec} is not callable")
    return obj  # type: ignore[no-any-return]  # a user's callable


def _base_command(args: argparse.Namespace, kind: str, precision: str) -> str:
    parts = ["nndl8", "conformance", args.target, "--kind", kind, "--dtype", precision]
    if args.layout:
        parts += ["--layout", args.layout]
    if args.device != "cpu":
        parts += ["--device", args.device]
    if args.examples != 30:
        parts += ["--examples", str(args.examples)]
    return shlex.join(parts)


def _print(results: list[CheckResult], quiet: bool) -> None:
    shown = [r for r in results if not quiet or r.outcome is not Outcome.PASS]
    for r in shown:
        print(f"{r.outcome.value:20} {r.check:34} {r.precision:9} {r.label}", flush=True)


def _run(args: argparse.Namespace, precisions: list[str]) -> int:
    results: list[CheckResult] = []
    started = time.monotonic()
    if args.target in FRAMEWORKS:
        chosen: list[Target] = [
            t for t in targets(args.target) if not args.kind or t.kind in args.kind
        ]
        if not chosen:
            print(f"no {args.target} targets for kinds {args.kind}", file=sys.stderr)
            return 2
        try:
            framework = importlib.import_module(args.target)
        except ImportError:
            print(f"{args.target} is not installed: pip install {args.target}", file=sys.stderr)
            return 2
        if args.target == "torch" and args.device.startswith("cuda"):
            if not framework.cuda.is_available():
                print(f"--device {args.device}: torch sees no CUDA device", file=sys.stderr)
                return 2
        elif args.device != "cpu":
            print(f"--device {args.device} is supported for torch only", file=sys.stderr)
            return 2
        for precision in precisions:
            for target in chosen:
                if target.precisions and precision not in target.precisions:
                    continue
                config = RunConfig(
                    precision=as_precision(precision),
                    layout=args.layout or target.layout,
                    max_examples=min(args.examples, target.max_examples or args.examples),
                    seed=args.seed,
                    checks=tuple(args.check),
                    label=target.label,
                    command=_base_command(args, target.kind, precision),
                    expected=target.expected,
                    device=args.device,
                    restrictions=target.restrictions,
                )
                if args.check and not any(config.selected(c) for c in kinds()[target.kind].checks):
                    continue
                candidate = target.make(config)
                batch = kinds()[target.kind].run(candidate, config)
                _print(batch, args.quiet)
                results += batch
    else:
        if len(args.kind) != 1:
            print("a function target needs exactly one --kind (see --list)", file=sys.stderr)
            return 2
        kind = kinds().get(args.kind[0])
        if kind is None:
            print(f"unknown kind {args.kind[0]!r}; known: {', '.join(kinds())}", file=sys.stderr)
            return 2
        candidate = _load_function(args.target)
        for precision in precisions:
            config = RunConfig(
                precision=as_precision(precision),
                layout=args.layout or kind.layouts[0],
                max_examples=args.examples,
                seed=args.seed,
                checks=tuple(args.check),
                label=args.target,
                command=_base_command(args, kind.name, precision),
            )
            batch = kind.run(candidate, config)
            _print(batch, args.quiet)
            results += batch
    print()
    print(format_results(results).split("\n\n", 1)[-1] if results else "no checks ran")
    print(f"({time.monotonic() - started:.0f} s)")
    return 1 if any(r.outcome is Outcome.FAIL for r in results) else 0


def main(argv: list[str]) -> int:
    """Run ``nndl8 conformance ARGS``; return the exit status."""
    args = _parser().parse_args(argv)
    if args.list:
        return _list()
    if not args.target:
        _parser().print_usage()
        return 2
    try:
        default = DEFAULT_PRECISIONS if args.target in FRAMEWORKS else ("float64",)
        precisions = [as_precision(p.strip()) for p in (args.dtype or ",".join(default)).split(",")]
        if args.margins:
            from impl.testing.margins import print_margins

            return print_margins(args.target, precisions, args.device, args.cases, args.seed)
        return _run(args, list(precisions))
    except (ValueError, ImportError, AttributeError) as error:
        print(f"nndl8 conformance: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
