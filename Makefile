# The README's quick start: `make lab` and `make test`. Both install the same way.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

SANDBOX_PORT ?= 8765
LAB_PORT     ?= 8888

.PHONY: install postgresql lab sandbox test lint format bench fuzz binder-check clean

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@# lighter-sdk pins urllib3<2.1 and kalshi-python needs urllib3>=2.1: no environment satisfies
	@# both pins. Only the SDK's native signer and its thin Python layer are used, and both run on
	@# current urllib3, so it is installed without its pins (its other needs are in [dev]).
	$(BIN)/python -m pip install --quiet --no-deps 'lighter-sdk>=1.1.8'
	@touch $(STAMP)

install: $(STAMP)

## Debian's PostgreSQL server programs (initdb, pg_ctl), for the throwaway server the tests and the
## benchmarks start on a unix socket of their own: installed with apt when missing, as Chromium is.
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo -n)
postgresql:
	@ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1 || command -v pg_ctl >/dev/null 2>&1 || { \
		echo "Installing Debian's postgresql for the tests' throwaway server"; \
		$(SUDO) apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends postgresql; }

## Create the venv, install, start the sandbox and JupyterLab on notebooks/.
lab: install
	@SANDBOX_PORT=$(SANDBOX_PORT) LAB_PORT=$(LAB_PORT) BIN=$(BIN) bash scripts/lab

## Only the sandbox, in the foreground.
sandbox: install
	$(BIN)/toolkit sandbox --port $(SANDBOX_PORT)

lint: install
	$(BIN)/ruff check toolkit tests benchmarks notebooks conftest.py
	$(BIN)/ruff format --check toolkit tests benchmarks conftest.py
	$(BIN)/nbstripout --verify notebooks/*.ipynb

format: install
	$(BIN)/ruff format toolkit tests benchmarks
	$(BIN)/ruff check --fix toolkit tests benchmarks
	$(BIN)/nbstripout notebooks/*.ipynb

## The whole suite: lint, unit, integration (real sandbox over loopback), schemathesis, notebooks (nbval).
# The tests run in a shuffled order (pytest-randomly, a fixed seed so a failure can be replayed with
# the same order), on TEST_WORKERS processes (pytest-xdist), each with its own sandbox and home. A
# file stays on one process (a notebook runs cell by cell, in its own order), and the notebooks and
# the modules marked heavy start first.
TEST_SEED ?= 7
TEST_WORKERS ?= 3
test: lint postgresql
	$(BIN)/python -m pytest -p no:cacheprovider -p randomly --randomly-seed=$(TEST_SEED) \
		-n $(TEST_WORKERS) --dist loadfile \
		--nbval-lax --nbval-current-env --nbval-cell-timeout=600 tests notebooks

## Hostile requests against every route family, ten times make test's count: none may answer 5xx.
fuzz: install
	FUZZ_CASES=$${FUZZ_CASES:-200000} SCHEMATHESIS_EXAMPLES=$${SCHEMATHESIS_EXAMPLES:-200} $(BIN)/python -m pytest -p no:cacheprovider -q tests/integration/test_fuzz.py tests/integration/test_schemathesis.py

## What Binder builds: a fresh venv from binder/requirements.txt, every notebook run by binder/start.
binder-check:
	bash scripts/binder-check

bench: install postgresql
	$(BIN)/python -m benchmarks

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .hypothesis build *.egg-info
