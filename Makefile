# postdeploy: `make up` (the main job), `make test`, `make demo`. Needs only python3 (3.11+).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

export PREFECT_SERVER_ANALYTICS_ENABLED := false
export DO_NOT_TRACK := 1

.PHONY: install up worker test lint typecheck unit demo bench clean

install: $(STAMP)

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "postdeploy needs Python 3.11 or newer")'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

up: install
	$(BIN)/postdeploy up

# One process worker on the `postdeploy` work pool (docs/scaling.md): run one per host, with
# PREFECT_API_URL (default http://127.0.0.1:4200/api) and POSTDEPLOY_DATABASE_URL set.
worker: install
	$(BIN)/postdeploy worker

demo: install
	$(BIN)/postdeploy demo

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: install
	$(BIN)/mypy

test: lint typecheck
	$(BIN)/pytest -n auto --dist loadfile

unit: install
	$(BIN)/pytest tests/unit

bench: install
	$(BIN)/python benchmarks/check_sweep.py --runs 5

clean:
	rm -rf $(VENV) var reports/uptime .pytest_cache .mypy_cache .ruff_cache
