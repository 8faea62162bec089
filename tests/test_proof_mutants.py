"""The proof-mutant harness itself: snippets current, enough mutants per proof, kills detected.

The full run (every mutant, ~1–2 minutes) is ``python -m tests.proof_mutants``, which CI runs
after the test suite; here only what keeps the catalogue honest and the harness working.
"""

import sys
from collections import Counter
from pathlib import Path

import pytest

from proofs.__main__ import proof_names
from tests.proof_mutants import ROOT, ProofMutant, run_mutant, run_unmutated
from tests.proof_mutants_catalogue import NOT_YET_MUTATED, PROOF_MUTANTS

MIN_MUTANTS_PER_PROOF = 4
"""Issue 8: at least four mathematical changes per proof (equivalent ones not counted)."""


@pytest.mark.parametrize("mutant", PROOF_MUTANTS, ids=lambda m: m.name)
def test_proof_mutant_snippet_occurs_once(mutant: ProofMutant) -> None:
    """Each mutant's snippet is still in its file, exactly once (else the catalogue is stale)."""
    source = (ROOT / mutant.path).read_text(encoding="utf-8")
    assert source.count(mutant.old) == 1, f"{mutant.name}: snippet not unique in {mutant.path}"
    assert mutant.old != mutant.new


def test_proof_mutants_cover_every_proof() -> None:
    """Every proof has ≥ 4 non-equivalent mutants, or is listed with the reason it has not yet."""
    counts = Counter(m.proof for m in PROOF_MUTANTS if not m.equivalent)
    short = {
        name: counts[name]
        for name in proof_names()
        if counts[name] < MIN_MUTANTS_PER_PROOF and name not in NOT_YET_MUTATED
    }
    assert not short, f"proofs with fewer than {MIN_MUTANTS_PER_PROOF} mutants: {short}"
    assert len({m.name for m in PROOF_MUTANTS}) == len(PROOF_MUTANTS), "mutant names repeat"


def test_proof_mutant_is_killed_and_sources_restored() -> None:
    """A mutant of the softmax breaks softmax_laws; afterwards the real module is back."""
    mutant = next(m for m in PROOF_MUTANTS if m.name == "softmax-symbolic-plus-one")
    assert run_unmutated(mutant.proof) == "holds"
    assert run_mutant(mutant) == "fails"
    assert run_unmutated(mutant.proof) == "holds"
    real = sys.modules.get("spec.softmax")
    if real is not None:
        assert Path(real.__file__ or "").resolve() == (ROOT / mutant.path).resolve()


def test_equivalent_mutant_survives() -> None:
    """A mutant listed as equivalent (with its reason) leaves its proof holding."""
    mutant = next(m for m in PROOF_MUTANTS if m.name == "softmax-jacobian-transposed")
    assert mutant.equivalent
    assert run_mutant(mutant) == "holds"
