# Two commands do all the set-up on a fresh machine:
#   make proofs   — build .venv, install nndl8, run every proof (the main job)
#   make test     — build .venv, install nndl8[dev], run ruff, mypy --strict, pytest
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: proofs test lint typecheck pytest bench mutants mutation clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

proofs: $(STAMP)
	$(BIN)/python -m proofs

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy

# One BLAS thread per xdist worker: two workers on two cores each spinning two
# OpenBLAS threads oversubscribe the machine (measured: a stacked matmul went
# from 8 ms to 250 ms). PyTorch's intra-op pool likewise (OMP_NUM_THREADS; measured:
# one LSTM conformance check 29 s with torch's 2 threads, 2 s with 1, when torch is
# installed). Override with OPENBLAS_NUM_THREADS=... OMP_NUM_THREADS=... make pytest.
pytest: $(STAMP)
	OPENBLAS_NUM_THREADS=$${OPENBLAS_NUM_THREADS:-1} OMP_NUM_THREADS=$${OMP_NUM_THREADS:-1} \
		$(BIN)/python -m pytest -n auto

test: lint typecheck pytest

# The benchmark sets the thread budget itself (--threads, default: the usable
# cores) for NumPy's BLAS (threadpoolctl) and PyTorch alike, and prints it.
# make bench BENCH_ARGS="--quick" (or "--threads 1", "--threshold", "--with-proofs").
bench: $(STAMP)
	$(BIN)/python -m tests.benchmarks $(BENCH_ARGS)

mutants: $(STAMP)
	$(BIN)/python -m tests.mutants

# The sampled mutmut run over impl/ and spec/ (tests/mutation.py): the full sample,
# every survivor killed or listed equivalent; CI runs MUTATION_ARGS="--sample ci".
mutation: $(STAMP)
	$(BIN)/python -m tests.mutation $(MUTATION_ARGS)

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache .hypothesis mutants
