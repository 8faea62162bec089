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


NTM_FILE = "impl/neural_turing_machine.py"
NTM_TESTS = ("tests/test_neural_turing_machine.py",)
MEMN2N_FILE = "impl/memory_network.py"
MEMN2N_TESTS = ("tests/test_memory_network.py",)

MUTANTS: tuple[Mutant, ...] = (
    Mutant(
        "softmax-no-max-subtraction",
        "impl/_numerics.py",
        "row_max = np.where(np.isfinite(row_max), row_max, 0).astype(logits.dtype)",
        "row_max = np.zeros_like(row_max)",
        ("tests/test_softmax.py",),
    ),
    Mutant(
        "softmax-mask-ignored",
        "impl/_numerics.py",
        "valid = valid & allowed",
        "valid = valid",
        ("tests/test_softmax.py",),
    ),
    Mutant(
        "softmax-fully-masked-nan",
        "impl/_numerics.py",
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
        "impl/_numerics.py",
        "shifted - safe_log_total",
        "shifted",
        ("tests/test_softmax.py",),
    ),
    Mutant(
        "scaled-score-unscaled",
        "impl/scores.py",
        "scaled: FloatArray = _dot(q, k) / np.asarray(math.sqrt(q.shape[-1]), dtype=q.dtype)",
        "scaled: FloatArray = _dot(q, k)",
        ("tests/test_spec_scores.py", "tests/test_attention.py"),
    ),
    Mutant(
        "key-value-sums-keys",
        "impl/attention.py",
        "return _weighted_sum(_distribution(q, k, score, allowed), v)",
        "return _weighted_sum(_distribution(q, k, score, allowed), k)",
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
        "scores = (q @ _transposed(k)) * np.asarray(factor, dtype=q.dtype)",
        "scores = q @ _transposed(k)",
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
        "impl/_numerics.py",
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
        "weights = _weights_from_bottom(strengths) if queue else _weights_from_top(strengths)",
        "weights = _weights_from_bottom(strengths) if queue else _weights_from_bottom(strengths)",
        ("tests/test_neural_stack.py",),
    ),
    Mutant(
        "queue-pops-top",
        "impl/neural_stack.py",
        "before = _exclusive_sum_below if queue else _exclusive_sum_above",
        "before = _exclusive_sum_above if queue else _exclusive_sum_above",
        ("tests/test_neural_stack.py",),
    ),
    Mutant(
        "set-mask-ignored",
        "impl/set_memory.py",
        "return num.softmax(checked, m.occupied[..., None, :])",
        "return num.softmax(checked, None)",
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
    Mutant(
        "ntm-cos-unnormalised",
        NTM_FILE,
        "products: FloatArray = _unit_rows(q) @ np.swapaxes(_unit_rows(k), -1, -2)",
        "products: FloatArray = q @ np.swapaxes(k, -1, -2)",
        NTM_TESTS,
    ),
    Mutant(
        "ntm-cos-zero-nan",
        NTM_FILE,
        "safe_norm = np.where(norm > 0, norm, 1).astype(x.dtype)",
        "safe_norm = norm",
        NTM_TESTS,
    ),
    Mutant(
        "ntm-content-no-beta",
        NTM_FILE,
        "scores: FloatArray = (beta_column * cos).astype(m.dtype)",
        "scores: FloatArray = cos",
        NTM_TESTS,
    ),
    Mutant(
        "ntm-interpolate-swapped",
        NTM_FILE,
        "gated: FloatArray = (g * wc + (1 - g) * previous)",
        "gated: FloatArray = (g * previous + (1 - g) * wc)",
        NTM_TESTS,
    ),
    Mutant(
        "ntm-shift-direction",
        NTM_FILE,
        "shifted = shifted + probability * np.roll(w, offset, axis=-1)",
        "shifted = shifted + probability * np.roll(w, -offset, axis=-1)",
        NTM_TESTS,
    ),
    Mutant(
        "ntm-shift-not-circular",
        NTM_FILE,
        "shifted = shifted + probability * np.roll(w, offset, axis=-1)",
        "shifted = shifted + probability * np.pad(w, [(0, 0)] * (w.ndim - 1) + [(max(offset, 0), max(-offset, 0))])[..., max(-offset, 0) : max(-offset, 0) + w.shape[-1]]",
        NTM_TESTS,
    ),
    Mutant(
        "ntm-sharpen-no-gamma",
        NTM_FILE,
        "logits: FloatArray = (gamma * log_w).astype(w.dtype)",
        "logits: FloatArray = log_w",
        NTM_TESTS,
    ),
    Mutant(
        "ntm-sharpen-direct-powers",
        NTM_FILE,
        "    sharpened = softmax(logits)\n",
        "    powered = w**gamma\n    sharpened = (powered / powered.sum(axis=-1, keepdims=True)).astype(w.dtype)\n",
        NTM_TESTS,
    ),
    Mutant(
        "ntm-write-add-then-erase",
        NTM_FILE,
        "written: FloatArray = (m * retain + added).astype(m.dtype)",
        "written: FloatArray = ((m + added) * retain).astype(m.dtype)",
        NTM_TESTS,
    ),
    Mutant(
        "ntm-write-first-head-erase-only",
        NTM_FILE,
        "retain: FloatArray = np.prod(1 - w_nd * e[..., :, None, :], axis=-3)",
        "retain: FloatArray = (1 - w_nd * e[..., :, None, :])[..., 0, :, :]",
        NTM_TESTS,
    ),
    Mutant(
        "ntm-write-erase-ignores-weight",
        NTM_FILE,
        "retain: FloatArray = np.prod(1 - w_nd * e[..., :, None, :], axis=-3)",
        "retain: FloatArray = np.prod(1 - 0 * w_nd + 0 * e[..., :, None, :] - e[..., :, None, :], axis=-3)",
        NTM_TESTS,
    ),
    Mutant(
        "ntm-read-reversed-slots",
        NTM_FILE,
        "result: FloatArray = (w[..., None, :] @ m)[..., 0, :]",
        "result: FloatArray = (w[..., None, :] @ m[..., ::-1, :])[..., 0, :]",
        NTM_TESTS,
    ),
    Mutant(
        "ntm-gate-unbounded",
        NTM_FILE,
        'g = _head_scalar(gate, "gate", m.dtype, lower=0, upper=1, expected="0 ≤ g ≤ 1", batch=batch)',
        'g = _head_scalar(gate, "gate", m.dtype, lower=0, expected="0 ≤ g ≤ 1", batch=batch)',
        NTM_TESTS,
    ),
    Mutant(
        "ntm-distribution-sum-unchecked",
        NTM_FILE,
        "return check.distribution(w, name, tolerance=distribution_tolerance(dtype))",
        "return check.distribution(w, name, tolerance=1e9)",
        NTM_TESTS,
    ),
    Mutant(
        "ntm-erase-unchecked",
        NTM_FILE,
        "v = check.unit_interval(x, name, min_ndim=1)",
        "v = check.float_array(x, name, min_ndim=1)",
        NTM_TESTS,
    ),
    Mutant(
        "mn-pe-sign",
        MEMN2N_FILE,
        "weights = (1 - ratio) - (k / dim) * (1 - 2 * ratio)",
        "weights = (1 - ratio) + (k / dim) * (1 - 2 * ratio)",
        MEMN2N_TESTS,
    ),
    Mutant(
        "mn-pe-padded-length",
        MEMN2N_FILE,
        "lengths = real.sum(axis=-1, keepdims=True).astype(np.float64)",
        "lengths = np.full((*real.shape[:-1], 1), float(real.shape[-1]))",
        MEMN2N_TESTS,
    ),
    Mutant(
        "mn-position-encoding-table",
        MEMN2N_FILE,
        "weights: FloatArray = ((1 - j / J) - (k / d) * (1 - 2 * j / J)).astype(chosen)",
        "weights: FloatArray = ((1 - j / J) - (k / (d + 1)) * (1 - 2 * j / J)).astype(chosen)",
        MEMN2N_TESTS,
    ),
    Mutant(
        "mn-empty-slots-unmasked",
        MEMN2N_FILE,
        "read, p_k, finite = _hop(u, keys, values, mask)",
        "read, p_k, finite = _hop(u, keys, values, None)",
        MEMN2N_TESTS,
    ),
    Mutant(
        "mn-hop-drops-read",
        MEMN2N_FILE,
        "u = (mapped + hop.read).astype(p.dtype)",
        "u = mapped.astype(p.dtype)",
        MEMN2N_TESTS,
    ),
    Mutant(
        "mn-hop-map-ignored",
        MEMN2N_FILE,
        "mapped: FloatArray = u if p.hop_map is None else u @ p.hop_map.T",
        "mapped: FloatArray = u",
        MEMN2N_TESTS,
    ),
    Mutant(
        "mn-hop-map-transposed",
        MEMN2N_FILE,
        "mapped: FloatArray = u if p.hop_map is None else u @ p.hop_map.T",
        "mapped: FloatArray = u if p.hop_map is None else u @ p.hop_map",
        MEMN2N_TESTS,
    ),
    Mutant(
        "mn-final-without-query",
        MEMN2N_FILE,
        "final: FloatArray = (queries[-1] + reads[-1]).astype(p.dtype)",
        "final: FloatArray = reads[-1]",
        MEMN2N_TESTS,
    ),
    Mutant(
        "mn-temporal-ignored",
        MEMN2N_FILE,
        "encoded: FloatArray = (sentences + t[:n]).astype(sentences.dtype)",
        "encoded: FloatArray = sentences",
        MEMN2N_TESTS,
    ),
    Mutant(
        "mn-adjacent-untied",
        MEMN2N_FILE,
        "chain[0], tuple(chain[:K]), tuple(chain[1:]), chain[K], None, t_keys, t_values",
        "chain[0].copy(), tuple(c.copy() for c in chain[:K]), tuple(chain[1:]), chain[K].copy(), None, t_keys, t_values",
        MEMN2N_TESTS,
    ),
    Mutant(
        "mn-count-duplicates",
        MEMN2N_FILE,
        "seen.setdefault(id(array), array)",
        "seen.setdefault(len(seen), array)",
        MEMN2N_TESTS,
    ),
    Mutant(
        "mn-token-range-off-by-one",
        MEMN2N_FILE,
        "if tokens.size and (tokens.min() < 0 or tokens.max() >= vocabulary_size):",
        "if tokens.size and (tokens.min() < 0 or tokens.max() > vocabulary_size):",
        MEMN2N_TESTS,
    ),
    Mutant(
        "mn-writes-embedding",
        MEMN2N_FILE,
        "    vectors: FloatArray = e[ids]  # (..., J, d): row j is A x_j\n",
        "    e[PADDING_ID] = 0\n    vectors: FloatArray = e[ids]  # (..., J, d): row j is A x_j\n",
        MEMN2N_TESTS,
    ),
    Mutant(
        "mn-padding-order-unchecked",
        MEMN2N_FILE,
        "    if np.any(real[..., 1:] & ~real[..., :-1]):",
        "    if False:",
        MEMN2N_TESTS,
    ),
    Mutant(
        "ntm-shift-drops-last-offset",
        NTM_FILE,
        "offsets = range(-radius, radius + 1)",
        "offsets = range(-radius, radius)",
        NTM_TESTS,
    ),
    Mutant(
        "ntm-sharpen-gamma-plus-one",
        NTM_FILE,
        "logits: FloatArray = (gamma * log_w).astype(w.dtype)",
        "logits: FloatArray = ((gamma + 1) * log_w).astype(w.dtype)",
        NTM_TESTS,
    ),
    Mutant(
        "ntm-sharpen-flattens",
        NTM_FILE,
        "logits: FloatArray = (gamma * log_w).astype(w.dtype)",
        "logits: FloatArray = (log_w / gamma).astype(w.dtype)",
        NTM_TESTS,
    ),
    Mutant(
        "ntm-read-nonlinear",
        NTM_FILE,
        "result: FloatArray = (w[..., None, :] @ m)[..., 0, :]",
        "result: FloatArray = (w[..., None, :] @ (m * np.abs(m)))[..., 0, :]",
        NTM_TESTS,
    ),
    Mutant(
        "ntm-add-ignores-weight",
        NTM_FILE,
        "added: FloatArray = np.sum(w_nd * a[..., :, None, :], axis=-3)",
        "added: FloatArray = np.sum(0 * w_nd + a[..., :, None, :], axis=-3)",
        NTM_TESTS,
    ),
    Mutant(
        "ntm-read-writes-memory",
        NTM_FILE,
        "    result: FloatArray = (w[..., None, :] @ m)[..., 0, :]",
        "    m[...] = m\n    result: FloatArray = (w[..., None, :] @ m)[..., 0, :]",
        NTM_TESTS,
    ),
    Mutant(
        "ntm-write-promotes-float64",
        NTM_FILE,
        "written: FloatArray = (m * retain + added).astype(m.dtype)",
        "written: FloatArray = (m * retain + added).astype(np.float64)",
        NTM_TESTS,
    ),
    Mutant(
        "ntm-shift-rolls-flattened",
        NTM_FILE,
        "np.roll(w, offset, axis=-1)",
        "np.roll(w, offset)",
        NTM_TESTS,
    ),
    Mutant(
        "ntm-controller-gate-unsquashed",
        NTM_FILE,
        "gate=num.sigmoid(g[..., 0]),",
        "gate=g[..., 0],",
        NTM_TESTS,
    ),
    Mutant(
        "mn-hop-values-are-keys",
        MEMN2N_FILE,
        "read: FloatArray = (weights[..., None, :] @ values)[..., 0, :]",
        "read: FloatArray = (weights[..., None, :] @ keys)[..., 0, :]",
        MEMN2N_TESTS,
    ),
    Mutant(
        "mn-hop-scaled-score",
        MEMN2N_FILE,
        "scores: FloatArray = (keys @ u[..., :, None])[..., 0]",
        "scores: FloatArray = (keys * 2 @ u[..., :, None])[..., 0]",
        MEMN2N_TESTS,
    ),
    Mutant(
        "mn-hop-mask-dropped",
        MEMN2N_FILE,
        "    weights = num.softmax(scores, mask)",
        "    weights = num.softmax(scores, None)",
        MEMN2N_TESTS,
    ),
    Mutant(
        "mn-hop-mask-batch-axis",
        MEMN2N_FILE,
        "    weights = num.softmax(scores, mask)",
        "    weights = num.softmax(scores, None if mask is None else mask[None, ...])",
        MEMN2N_TESTS,
    ),
    Mutant(
        "mn-slot-position-leak",
        MEMN2N_FILE,
        "        return sentences\n",
        "        return (sentences * np.arange(1, sentences.shape[-2] + 1)[:, None]).astype(sentences.dtype)\n",
        MEMN2N_TESTS,
    ),
    Mutant(
        "mn-empty-sentence-division",
        MEMN2N_FILE,
        "safe = np.where(lengths > 0, lengths, 1.0)",
        "safe = lengths",
        MEMN2N_TESTS,
    ),
    Mutant(
        "mn-layer-wise-untied",
        MEMN2N_FILE,
        "return cls(B, (A,) * K, (C,) * K, W, H, t_keys, t_values)",
        "return cls(B, tuple(A.copy() for _ in range(K)), (C,) * K, W, H, t_keys, t_values)",
        MEMN2N_TESTS,
    ),
    Mutant(
        "mn-answer-unnormalised",
        MEMN2N_FILE,
        "probabilities = num.softmax(logits)",
        "probabilities = np.exp(logits)",
        MEMN2N_TESTS,
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
