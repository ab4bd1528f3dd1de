# The README's two commands: `make run` and `make test`. Everything else is a helper of those two.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
PIP    := $(BIN)/python -m pip install --quiet --disable-pip-version-check

# Offline and quiet: no telemetry from Prefect's server or client.
export DO_NOT_TRACK := 1
export PREFECT_SERVER_ANALYTICS_ENABLED := false

.PHONY: run cluster-demo ledger-demo test lint bench system-deps install install-test constraints audit clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# Pinned: constraints.txt holds the exact version of every dependency the tests passed with.
install: $(BIN)/python
	$(PIP) -c constraints.txt -e .

install-test: $(BIN)/python
	$(PIP) -c constraints.txt -e '.[test,dev]'

system-deps:
	@bash scripts/system-deps.sh

# The appliance: Prefect server + UI on 127.0.0.1:4200, served deployments, the reviewer workbench on
# http://localhost:8600 (with a demo invitation), the watcher, a sample inbox; it prints where to drop files,
# where results appear, both addresses and the report command.
# Ctrl-C (or SIGTERM) stops everything cleanly; the next `make run` resumes where it stopped.
run: install system-deps
	$(BIN)/docval up

# Many workers on this machine, witnessed: a C2SP witness (`docval witness`) cosigns the root's checkpoints;
# PostgreSQL + Prefect server + work pool + three process workers, each writing its own ledger shard, which the
# root anchors; the sample inbox is processed, what waits for approval is listed, then the root and every shard
# are verified with the ledger key and the witness key pinned (scripts/cluster-demo.sh). Ctrl-C stops everything.
# Its own port (4210), so a running `make run` appliance (4200, SQLite) is not mistaken for the cluster's server.
cluster-demo: install system-deps
	bash scripts/cluster-demo.sh

# The ledger on its own: a few entries, a signed checkpoint, verify.
ledger-demo: install
	$(BIN)/docval init
	$(BIN)/docval keys init --if-missing
	@printf '%s\n' \
	  '{"kind": "note", "doc": null, "actor": "make-run", "data": {"message": "demo started"}}' \
	  '{"kind": "doc.claimed", "doc": "demo-0001", "actor": "make-run", "data": {"source_hash": "demo", "size": 1024}}' \
	  '{"kind": "doc.ingested", "doc": "demo-0001", "actor": "make-run", "data": {"pages": 1, "text_pages": 1, "ocr_pages": 0}}' \
	  | $(BIN)/docval ledger append
	$(BIN)/docval ledger checkpoint
	$(BIN)/docval ledger verify

test: install-test system-deps
	$(BIN)/python -m pytest

lint: install-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

bench: install-test
	@for script in benchmarks/*_bench.py benchmarks/robustness.py; do echo "== $$script"; $(BIN)/python $$script || exit 1; done

# After changing a dependency in pyproject.toml: re-pin from the working venv (keeps the header).
constraints: install-test
	{ grep '^#' constraints.txt; $(BIN)/python -m pip freeze --exclude-editable; } > constraints.txt.new
	mv constraints.txt.new constraints.txt

# Known vulnerabilities in the pinned versions. Online: pip-audit asks PyPI's advisory data (or -s osv);
# --strict fails when a package could not be checked, so an unreachable service is never a clean report.
# pip-audit gets its own venv so the project's pinned one stays exactly as constraints.txt says.
audit:
	$(PYTHON) -m venv .venv-audit
	.venv-audit/bin/python -m pip install --quiet --disable-pip-version-check pip-audit
	.venv-audit/bin/pip-audit -r constraints.txt --no-deps --disable-pip --strict

clean:
	rm -rf $(VENV) .venv-audit var var-cluster var-witness .pytest_cache .hypothesis
