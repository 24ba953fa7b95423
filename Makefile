# The two README commands: `make run` and `make test`. Both create .venv when it is missing.
PY ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test test-lowest lint typecheck golden schemas docs-tables bench clean

$(BIN)/python:
	$(PY) -m venv $(VENV) || python3 -m venv $(VENV)

$(STAMP): $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/wargame run --force

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

# the README's "why the postures differ" tables (wargame posture-diff, 500 common seeds)
docs-tables: $(STAMP)
	$(BIN)/python -m engine.present.worked docs/model.md
	$(BIN)/python -m engine.levers.readme README.md docs/model.md

# issue 15's three ratios: the kernel per event and the log (kernel.py), sweep throughput per
# worker (sweep.py --quick; the 100,000-run version is sweep.py --full)
bench: $(STAMP)
	$(BIN)/python benchmarks/kernel.py
	$(BIN)/python benchmarks/sweep.py --quick

clean:
	rm -rf $(VENV) $(LOWEST) build *.egg-info .pytest_cache .ruff_cache .hypothesis

# the lowest versions pyproject.toml allows, resolved by uv, against a core subset of the tests
LOWEST := .venv-lowest
test-lowest:
	$(PY) -m venv $(LOWEST) || python3 -m venv $(LOWEST)
	$(LOWEST)/bin/python -m pip install --quiet uv
	$(LOWEST)/bin/uv pip install --quiet --python $(LOWEST)/bin/python --resolution lowest-direct -e '.[dev]'
	$(LOWEST)/bin/python -m pytest -q -p no:cacheprovider tests/spec tests/sim tests/io/test_eventlog.py \
		tests/io/test_replay.py tests/test_determinism.py tests/sweeps tests/classroom/test_room.py \
		tests/present/test_report.py tests/present/test_svgmap.py
