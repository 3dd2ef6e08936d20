# Two commands: `make run` (set up, then materialise everything on the bundled sample) and
# `make test` (set up with the dev extras, then run the suite).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
DAGSTER_HOME ?= $(CURDIR)/.dagster
PORT ?= 3000
export DAGSTER_HOME

.PHONY: run test dev lint format clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

# An empty dagster.yaml: default (SQLite) storage in DAGSTER_HOME, without Dagster's warning.
$(DAGSTER_HOME):
	mkdir -p $(DAGSTER_HOME)
	touch $(DAGSTER_HOME)/dagster.yaml

run: $(VENV)/.installed | $(DAGSTER_HOME)
	$(BIN)/dagster asset materialize -m movielens_assets --select '*'
	@$(BIN)/python -m movielens_assets.report

test: $(VENV)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/pytest

# The UI on http://127.0.0.1:$(PORT) (loopback only); history stays in $(DAGSTER_HOME).
dev: $(VENV)/.installed | $(DAGSTER_HOME)
	$(BIN)/dagster dev --host 127.0.0.1 --port $(PORT)

lint: $(VENV)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(VENV)/.installed
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

clean:
	rm -rf data $(VENV) .dagster
