"""Deliberately broken implementations ("mutants") that the tests must catch.

Every property in ``tests/`` has been seen to fail against a broken
implementation; this module makes that check repeatable. Each mutant replaces
one snippet of one impl file (flip a sign, drop a term, skip the max
subtraction, ...) in a temporary copy of the repository and runs the tests
named for it; the mutant is *killed* if they fail.

    python -m tests.mutants            # run all, print a table, exit 1 if any survives
    python -m tests.mutants --list
    python -m tests.mutants softmax-no-max-subtraction

(``make mutants`` runs them all; it is not part of ``make test``, since it runs
pytest once per mutant.)
"""

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Mutant:
    """One deliberate break: replace ``old`` by ``new`` in ``path``; ``tests`` must fail."""

    name: str
    path: str
    old: str
    new: str
    tests: tuple[str, ...]


MUTANTS: tuple[Mutant, ...] = (
    Mutant(
        "softmax-no-max-subtraction",
        "impl/softmax.py",
        "row_max = np.where(np.isfinite(row_max), row_max, 0).astype(logits.dtype)",
        "row_max = np.zeros_like(row_max)",
        ("tests/test_softmax.py",),
    ),
    Mutant(
        "softmax-mask-ignored",
        "impl/softmax.py",
        "valid = valid & mask",
        "valid = valid",
        ("tests/test_softmax.py",),
    ),
    Mutant(
        "softmax-fully-masked-nan",
        "impl/softmax.py",
        "np.where(total > 0, total, 1)",
        "total",
        ("tests/test_softmax.py",),
    ),
    Mutant(
        "softmax-jacobian-sign",
        "impl/softmax.py",
        "jacobian: FloatArray = diag - outer",
        "jacobian: FloatArray = diag + outer",
        ("tests/test_softmax.py", "tests/test_spec_softmax.py"),
    ),
    Mutant(
        "log-softmax-no-normaliser",
        "impl/softmax.py",
        "shifted - safe_log_total",
        "shifted",
        ("tests/test_softmax.py",),
    ),
    Mutant(
        "scaled-score-unscaled",
        "impl/scores.py",
        "scaled: FloatArray = scores / np.asarray(math.sqrt(query.shape[-1]), dtype=scores.dtype)",
        "scaled: FloatArray = scores",
        ("tests/test_spec_scores.py", "tests/test_attention.py"),
    ),
    Mutant(
        "key-value-sums-keys",
        "impl/attention.py",
        "    weights = attention_distribution(query, keys, score=score, mask=mask)\n"
        "    return _weighted_sum(weights, v)",
        "    weights = attention_distribution(query, keys, score=score, mask=mask)\n"
        "    return _weighted_sum(weights, k)",
        ("tests/test_attention.py",),
    ),
    Mutant(
        "hard-sample-always-first",
        "impl/attention.py",
        "u: FloatArray = gen.random(size=total.shape) * total",
        "u: FloatArray = gen.random(size=total.shape) * 0",
        ("tests/test_attention.py",),
    ),
    Mutant(
        "causal-mask-bottom-right",
        "impl/attention.py",
        "np.tri(length, keys, k=0",
        "np.tri(length, keys, k=keys - length",
        ("tests/test_attention.py",),
    ),
    Mutant(
        "sdpa-no-scale",
        "impl/attention.py",
        "scores: FloatArray = (q @ transposed_keys(k)) * np.asarray(factor, dtype=q.dtype)",
        "scores: FloatArray = q @ transposed_keys(k)",
        ("tests/test_attention.py",),
    ),
    Mutant(
        "reinforce-wrong-sign",
        "impl/attention.py",
        "score_function: FloatArray = one_hot - alpha",
        "score_function: FloatArray = alpha - one_hot",
        ("tests/test_reinforce.py",),
    ),
    Mutant(
        "mha-head-split-transposed",
        "impl/multihead.py",
        "split = projected.reshape(*projected.shape[:-1], heads, W.shape[1] // heads)\n"
        "    per_head: FloatArray = np.swapaxes(split, -2, -3)",
        "split = projected.reshape(*projected.shape[:-1], W.shape[1] // heads, heads)\n"
        "    per_head: FloatArray = np.swapaxes(np.swapaxes(split, -1, -2), -2, -3)",
        ("tests/test_multihead.py",),
    ),
    Mutant(
        "mha-padding-ignored",
        "impl/multihead.py",
        "allowed = padding_4d if allowed is None else allowed & padding_4d",
        "pass",
        ("tests/test_multihead.py",),
    ),
    Mutant(
        "crf-no-backward",
        "impl/structured_attention.py",
        "log_beta = _backward_log_messages(theta, edges)",
        "log_beta = np.zeros_like(theta)",
        ("tests/test_structured_attention.py",),
    ),
    Mutant(
        "crf-no-max-subtraction",
        "impl/structured_attention.py",
        "m: FloatArray = np.max(x, axis=axis, keepdims=True)",
        "m: FloatArray = np.zeros_like(np.max(x, axis=axis, keepdims=True))",
        ("tests/test_structured_attention.py",),
    ),
    Mutant(
        "han-empty-sentences-unmasked",
        "impl/hierarchical_attention.py",
        "np.any(mask, axis=-1, keepdims=False)",
        "np.ones(mask.shape[:-1], dtype=np.bool_)",
        ("tests/test_hierarchical_attention.py",),
    ),
    Mutant(
        "stack-reads-bottom",
        "impl/neural_stack.py",
        "read = _read(values, read_weights_from_top(strengths))\n"
        "    return ContinuousMemoryState(values, strengths), read\n\n\ndef queue_step",
        "read = _read(values, read_weights_from_bottom(strengths))\n"
        "    return ContinuousMemoryState(values, strengths), read\n\n\ndef queue_step",
        ("tests/test_neural_stack.py",),
    ),
    Mutant(
        "queue-pops-top",
        "impl/neural_stack.py",
        "popped = _removed(current.strengths, u, _exclusive_sum_below(current.strengths))",
        "popped = _removed(current.strengths, u, _exclusive_sum_above(current.strengths))",
        ("tests/test_neural_stack.py",),
    ),
    Mutant(
        "set-mask-ignored",
        "impl/set_memory.py",
        "mask=m.occupied[..., None, :])",
        "mask=None)",
        ("tests/test_set_memory.py",),
    ),
    Mutant(
        "set-order-dependent-read",
        "impl/set_memory.py",
        "read: FloatArray = weights @ m.values",
        "read: FloatArray = weights @ np.cumsum(m.values, axis=-2)",
        ("tests/test_set_memory.py",),
    ),
    Mutant(
        "set-contains-float64",
        "impl/set_memory.py",
        "result: FloatArray = masked.max(axis=-1).astype(q.dtype)",
        "result: FloatArray = masked.max(axis=-1).astype(np.float64)",
        ("tests/test_set_memory.py",),
    ),
    Mutant(
        "rf-width-not-minus-one",
        "spec/complexity.py",
        "summed = 1 + sympy.Sum((width - 1) * dilation, (_l, 0, layers - 1)).doit()",
        "summed = 1 + sympy.Sum(width * dilation, (_l, 0, layers - 1)).doit()",
        ("tests/test_spec_complexity.py",),
    ),
)


def _copy_repository(destination: Path) -> None:
    """Copy the tracked files (what a clean checkout holds) into ``destination``."""
    listed = subprocess.run(
        ["git", "ls-files", "-z"], cwd=ROOT, check=True, capture_output=True
    ).stdout.split(b"\0")
    for raw in listed:
        if not raw:
            continue
        relative = raw.decode()
        target = destination / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        if (ROOT / relative).is_file():
            shutil.copy2(ROOT / relative, target)


def _tests_pass(tests: tuple[str, ...], workdir: Path) -> bool:
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", *tests],
        cwd=workdir,
        capture_output=True,
        check=False,
    )
    return result.returncode == 0


def run_mutant(mutant: Mutant, workdir: Path) -> bool:
    """Apply ``mutant`` in ``workdir``, run its tests; True if they fail (killed)."""
    path = workdir / mutant.path
    original = path.read_text(encoding="utf-8")
    if original.count(mutant.old) != 1:
        raise ValueError(f"{mutant.name}: the snippet to replace is not unique in {mutant.path}")
    path.write_text(original.replace(mutant.old, mutant.new), encoding="utf-8")
    try:
        return not _tests_pass(mutant.tests, workdir)
    finally:
        path.write_text(original, encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    """Run the selected mutants and print which were killed; 1 if any survived."""
    parser = argparse.ArgumentParser(prog="python -m tests.mutants", description=__doc__)
    parser.add_argument("names", nargs="*")
    parser.add_argument("--list", action="store_true")
    args = parser.parse_args(argv)
    by_name = {m.name: m for m in MUTANTS}
    if args.list:
        for m in MUTANTS:
            print(f"{m.name:32} {m.path:28} {' '.join(m.tests)}")
        return 0
    unknown = [n for n in args.names if n not in by_name]
    if unknown:
        parser.error(f"unknown mutant(s) {unknown}")
    selected = [by_name[n] for n in args.names] or list(MUTANTS)
    survivors: list[str] = []
    with tempfile.TemporaryDirectory(prefix="nndl8-mutants-") as tmp:
        workdir = Path(tmp)
        _copy_repository(workdir)
        # A mutant only counts as killed if its tests pass on the unbroken code.
        baseline = tuple(sorted({test for m in selected for test in m.tests}))
        if not _tests_pass(baseline, workdir):
            print(f"the unmutated tests fail already: {' '.join(baseline)}")
            return 2
        for mutant in selected:
            start = time.perf_counter()
            killed = run_mutant(mutant, workdir)
            status = "killed" if killed else "SURVIVED"
            print(f"{status:9} {mutant.name:32} ({time.perf_counter() - start:.1f} s)", flush=True)
            if not killed:
                survivors.append(mutant.name)
    print(f"\n{len(selected) - len(survivors)} of {len(selected)} mutants killed.")
    return 1 if survivors else 0


if __name__ == "__main__":
    sys.exit(main())
