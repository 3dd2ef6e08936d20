# Two commands: `make run` (set up, then materialise everything on the bundled sample) and
# `make test` (set up with the dev extras, then run the suite).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
DAGSTER_HOME ?= $(CURDIR)/.dagster
export DAGSTER_HOME

.PHONY: run test dev lint format clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

$(DAGSTER_HOME):
	mkdir -p $(DAGSTER_HOME)

run: $(VENV)/.installed | $(DAGSTER_HOME)
	$(BIN)/dagster asset materialize -m movielens_assets --select '*'
	@$(BIN)/python -m movielens_assets.report

test: $(VENV)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/pytest

dev: $(VENV)/.installed | $(DAGSTER_HOME)
	$(BIN)/dagster dev --host 127.0.0.1

lint: $(VENV)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(VENV)/.installed
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

clean:
	rm -rf data $(VENV) .dagster
