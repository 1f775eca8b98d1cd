# The two commands of the README. Each creates .venv when missing and installs the
# package with its dev extras first, so both work on a fresh machine. `make check` is the
# quick loop while working: ruff and the import contracts, then the unit, conformance and
# study tests less those marked slow. `make test` (CI) lints the same way, then runs every
# test. Both run the tests in PYTEST_WORKERS processes (pytest-xdist), a file to a process
# so that a file's shared fixtures are made once: most of a test's time is spent waiting
# (a Ray starting, a driver process importing), so two processes keep two cores busy
# (measured: the two cores 96% busy with two; three were no faster). PYTEST_WORKERS=0
# runs them in this process, one by one. `make test` runs the tests marked `serial` (timed
# against the wall clock, or a Ray cluster of several processes) alone, after the rest.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PYTEST_WORKERS ?= 2
PYTEST := $(BIN)/python -m pytest -n $(PYTEST_WORKERS) --dist loadfile

.PHONY: demo check test lint install bench bench-peers clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

# pip compiles every file to bytecode (45 s of a 95 s install): keep it. With --no-compile
# nothing here wrote the bytecode afterwards (PYTHONDONTWRITEBYTECODE is set on these
# machines), so every process compiled torch, ray and scikit-learn anew: the parallel suite
# took 1,317 s instead of about 720, and trials did not finish within their budgets.
$(STAMP): $(BIN)/python pyproject.toml
	$(BIN)/pip install --quiet -e ".[dev]"
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/automl fit data/adult_sample.csv --target income --time-budget 60s --holdout 0.2 --out runs

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/lint-imports

check: lint
	$(PYTEST) tests/unit tests/conformance studies/tests -m "not slow"

# The cluster tests stay alone: beside even one process of quick tests, the nodes' trial
# workers started so slowly that every trial of the cluster fit ran on one node (tried).
test: lint
	$(PYTEST) -m "not serial"
	$(BIN)/python -m pytest -m serial

bench: $(STAMP)
	$(BIN)/automl bench --time-budget 60s --out bench_out

clean:
	rm -rf runs bench_out .pytest_cache

# AutoGluon pins pandas<2.4, so it gets its own environment; the bench runs it there.
AG_VENV := .venv-autogluon
bench-peers: $(STAMP)
	$(PYTHON) -m venv $(AG_VENV)
	$(AG_VENV)/bin/pip install --quiet "autogluon.tabular[lightgbm,catboost,xgboost]" pyarrow pydantic PyYAML
	$(AG_VENV)/bin/pip install --quiet --no-deps -e .
	$(BIN)/pip install --quiet -e ".[bench]"
	AUTOML_BENCH_PYTHON_AUTOGLUON=$(AG_VENV)/bin/python $(BIN)/automl bench \
		--systems automl,xgb_default,flaml,autogluon --time-budget 60s --out bench_out
