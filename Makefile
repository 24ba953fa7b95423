# The two README commands: `make run` and `make test`. Both create .venv when it is missing.
PY ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint typecheck golden schemas bench clean

$(BIN)/python:
	$(PY) -m venv $(VENV) || python3 -m venv $(VENV)

$(STAMP): $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/wargame run

test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/python -m pytest -q

lint: $(STAMP)
	$(BIN)/ruff check .

typecheck: $(STAMP)
	$(BIN)/mypy

golden: $(STAMP)
	$(BIN)/python -m engine.testing regenerate-golden tests/golden
	$(BIN)/python -m engine.present.playthrough regenerate tests/golden

schemas: $(STAMP)
	$(BIN)/wargame schema scenario > engine/data/schemas/scenario.schema.json
	$(BIN)/wargame schema rules > engine/data/schemas/rules.schema.json

bench: $(STAMP)
	$(BIN)/python benchmarks/kernel.py

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .ruff_cache .hypothesis
