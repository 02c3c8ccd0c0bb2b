# Every target installs what it needs: a fresh clone has only Python, Node.js and npm.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
AZURITE := .tools/node_modules/.bin/azurite-blob
# Microsoft's KQL parser (Kusto.Language, compiled to JavaScript): the reference the saved queries and alerts are checked against.
KUSTO := .tools/node_modules/@kusto/language-service-next/package.json
DATE ?= $(shell date -u +%F)
WORKDIR ?= .local/run

.PHONY: run test lint install clean chaos bench-extract bench-transform bench-incremental

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

$(AZURITE):
	npm install --silent --no-audit --no-fund --prefix .tools azurite@3

$(KUSTO):
	npm install --silent --no-audit --no-fund --prefix .tools @kusto/language-service-next@12.4.1

install: $(STAMP) $(AZURITE) $(KUSTO)

run: $(STAMP)
	$(PY) scripts/run_local.py --date $(DATE) --workdir $(WORKDIR)

# Lint first: it takes seconds and names the file and line, where a test failure would be indirect.
test: lint $(AZURITE) $(KUSTO)
	$(PY) -m pytest -n 2 -q

# Kill -9 the whole local run at every stage boundary and inside every publish step, rerun, check (tests/chaos/).
# `make test` runs three of the moments; this runs them all (a few minutes) and prints each rerun's requests.
chaos: $(STAMP)
	CHAOS=all $(PY) -m pytest -n 2 -q -rA tests/chaos

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy

clean:
	rm -rf $(VENV) .tools .local

# Extraction client vs a sequential requests loop against the twin at 30 ms latency; last line speedup_vs_baseline.
bench-extract: $(STAMP)
	$(PY) bench/bench_extract.py

bench-transform: $(STAMP)
	$(PY) bench/bench_transform.py

bench-incremental: $(STAMP)
	$(PY) bench/bench_incremental.py
