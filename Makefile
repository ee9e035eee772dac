# Takt: `make run` serves the API on SQLite; `make test` runs lint, types and the whole suite.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PG_DEFAULT_URL := postgresql+asyncpg://postgres@127.0.0.1:5432/test
PYTEST_ARGS ?=

.PHONY: run test check test-sqlite test-postgres format openapi docs clean lock

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Installs come from the hashed lock files, so every machine gets the versions CI tested;
# `make lock` refreshes them after a change to pyproject.toml's ranges (UPGRADE=1 takes the newest).
$(VENV)/.installed: requirements.lock pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet --require-hashes -r requirements.lock
	$(BIN)/pip install --quiet --no-deps -e .
	@touch $@

$(VENV)/.installed-test: requirements-test.lock pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet --require-hashes -r requirements-test.lock
	$(BIN)/pip install --quiet --no-deps -e .
	@touch $@ $(VENV)/.installed

LOCK_FLAGS := --universal --python-version 3.11 --generate-hashes --quiet $(if $(UPGRADE),--upgrade)
lock: | $(BIN)/python
	$(BIN)/pip install --quiet uv
	# The test lock is resolved first and the server's is held to it, so both pin the same versions.
	$(BIN)/uv pip compile pyproject.toml --extra test $(LOCK_FLAGS) -o requirements-test.lock
	$(BIN)/uv pip compile pyproject.toml $(LOCK_FLAGS) -c requirements-test.lock -o requirements.lock
	$(BIN)/python scripts/lockfile.py stamp

run: $(VENV)/.installed
	$(BIN)/takt migrate
	$(BIN)/takt demo --if-empty
	@base="http://$${TAKT_HOST:-127.0.0.1}:$${TAKT_PORT:-8000}"; \
	echo "Swagger UI: $$base/docs"; \
	echo "ReDoc:      $$base/redoc"; \
	echo "Schema:     $$base/openapi.json"
	$(BIN)/takt serve

check: $(VENV)/.installed-test
	$(BIN)/python scripts/lockfile.py check
	$(BIN)/ruff check src tests bench scripts
	$(BIN)/ruff format --check src tests bench scripts
	$(BIN)/mypy
	$(BIN)/lint-imports --no-cache
	$(BIN)/python -m pytest -q -p no:cacheprovider tests/test_boundaries.py tests/test_recipe.py

# The suite runs on SQLite, then on PostgreSQL when TAKT_TEST_DATABASE_URL is set or a server
# answers on 127.0.0.1:5432. TAKT_REQUIRE_POSTGRES=1 (CI) makes a missing PostgreSQL an error.
test: check test-sqlite test-postgres

test-sqlite: $(VENV)/.installed-test
	@echo "== pytest on SQLite"
	TAKT_TEST_DATABASE_URL= $(BIN)/python -m pytest -n 2 $(PYTEST_ARGS)

test-postgres: $(VENV)/.installed-test
	@url="$${TAKT_TEST_DATABASE_URL:-}"; \
	if [ -z "$$url" ] && $(BIN)/python -m takt.core.probe 127.0.0.1 5432; then url="$(PG_DEFAULT_URL)"; fi; \
	if [ -n "$$url" ]; then \
		echo "== pytest on PostgreSQL ($$url)"; \
		TAKT_TEST_DATABASE_URL="$$url" $(BIN)/python -m pytest -n 2 $(PYTEST_ARGS) || exit $$?; \
		echo "== ran: SQLite and PostgreSQL"; \
	elif [ "$${TAKT_REQUIRE_POSTGRES:-0}" = "1" ]; then \
		echo "PostgreSQL is required (TAKT_REQUIRE_POSTGRES=1) but 127.0.0.1:5432 does not answer"; \
		exit 1; \
	else \
		echo "== ran: SQLite only (no PostgreSQL on 127.0.0.1:5432; set TAKT_TEST_DATABASE_URL)"; \
	fi

format: $(VENV)/.installed-test
	$(BIN)/ruff format src tests bench
	$(BIN)/ruff check --fix src tests bench

# docs/events.md is generated from the event catalogue (a test checks it is up to date).
docs: $(VENV)/.installed
	$(BIN)/python -m takt.events.catalogue > docs/events.md

openapi: $(VENV)/.installed
	$(BIN)/takt openapi

clean:
	rm -rf $(VENV) data .mypy_cache .ruff_cache .pytest_cache
