# beluga-temporal: `make demo` and `make test` work on a fresh machine.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
BENCH_STAMP := $(VENV)/.bench-installed

.PHONY: demo test lint typecheck pytest bench install clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

# `make demo ARGS=--keep-running` keeps the Web UI up; ARGS go to workers/demo.py.
demo: $(STAMP)
	$(BIN)/python -m workers.demo $(ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy

pytest: $(STAMP)
	$(BIN)/pytest -q

test: lint typecheck pytest

# The peers and matplotlib come from the `bench` extra, never the runtime dependencies.
$(BENCH_STAMP): pyproject.toml $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[dev,bench]'
	touch $(BENCH_STAMP)

# Every script runs even when an earlier one misses a target; the exit status is 1 if any did.
BENCHMARKS := chain_overhead graph_overhead peers scaling long_runs throughput
bench: $(BENCH_STAMP)
	@status=0; for script in $(BENCHMARKS); do \
		$(BIN)/python benchmarks/$$script.py || status=1; \
	done; exit $$status

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
