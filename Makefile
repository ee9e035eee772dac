# Takt: `make run` builds the web app and serves it with the API on SQLite; `make test` runs lint,
# types, the whole suite and the web app's checks (docs/web-app.md).
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PG_DEFAULT_URL := postgresql+asyncpg://postgres@127.0.0.1:5432/test
# The slowest tests are printed after each pass, so a run that slows down says where.
PYTEST_ARGS ?= --durations=25
# The web app (frontend/, docs/web-app.md): Node.js and npm build it; Takt serves frontend/dist.
FRONTEND := frontend
NPM := npm --prefix $(FRONTEND)
NODE_MIN := 20.19
WEB_INSTALLED := $(FRONTEND)/node_modules/.takt-installed
WEB_BUILT := $(FRONTEND)/dist/index.html
WEB_SOURCES = $(shell find $(FRONTEND)/src $(FRONTEND)/public -type f 2>/dev/null) \
	$(wildcard $(FRONTEND)/index.html $(FRONTEND)/vite.config.ts $(FRONTEND)/tsconfig*.json)
WEB_CLIENT := $(FRONTEND)/src/api/schema.d.ts
OPENAPI_JSON := data/openapi.json

.PHONY: run test check test-sqlite test-postgres format openapi docs clean lock
.PHONY: node-check web web-client web-check e2e test-e2e

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

run: node-check web $(VENV)/.installed
	$(BIN)/takt migrate
	$(BIN)/takt demo --if-empty
	@base="http://$${TAKT_HOST:-127.0.0.1}:$${TAKT_PORT:-8000}"; \
	echo "Web app:    $$base/"; \
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
test: check test-sqlite test-postgres web-check test-e2e

# Slow load, soak and crash tests (`@pytest.mark.slow`) run on PostgreSQL, where several
# processes share the work; SQLite runs them too with SLOW=1 (a laptop without PostgreSQL).
SQLITE_MARKS := $(if $(SLOW),,-m "not slow")
test-sqlite: $(VENV)/.installed-test
	@echo "== pytest on SQLite$(if $(SLOW),, (slow tests on PostgreSQL; SLOW=1 runs them here))"
	TAKT_TEST_DATABASE_URL= $(BIN)/python -m pytest -n 2 $(SQLITE_MARKS) $(PYTEST_ARGS)

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

# --- The web app (docs/web-app.md) -------------------------------------------------------------
node-check:
	@command -v node >/dev/null 2>&1 || { \
		echo "Node.js $(NODE_MIN) or later is needed to build the web app, and \`node\` is not on PATH." >&2; \
		echo "Install Node.js (20 LTS or later) and npm, e.g. \`sudo apt-get install nodejs npm\`, then run make again." >&2; \
		exit 1; }
	@node -e 'const [a, b] = process.versions.node.split(".").map(Number); process.exit(a > 20 || (a === 20 && b >= 19) ? 0 : 1)' || { \
		echo "Node.js $$(node --version) is too old: the web app needs $(NODE_MIN) or later (20 LTS or newer)." >&2; \
		exit 1; }
	@command -v npm >/dev/null 2>&1 || { \
		echo "npm is needed to build the web app and is not on PATH (it comes with Node.js; on Debian: \`sudo apt-get install npm\`)." >&2; \
		exit 1; }

# npm ci only when the dependencies changed, the build only when a source did (the stamps).
$(WEB_INSTALLED): $(FRONTEND)/package.json $(FRONTEND)/package-lock.json | node-check
	$(NPM) ci --no-audit --no-fund
	@touch $@

$(WEB_BUILT): $(WEB_INSTALLED) $(WEB_SOURCES) | node-check
	$(NPM) run build
	@touch $@

web: $(WEB_BUILT)

# The typed client (frontend/src/api/schema.d.ts) from the schema the app itself prints, no server.
web-client: $(VENV)/.installed $(WEB_INSTALLED)
	@mkdir -p $(dir $(OPENAPI_JSON))
	@$(MAKE) --no-print-directory -s openapi > $(OPENAPI_JSON)
	TAKT_OPENAPI="$(CURDIR)/$(OPENAPI_JSON)" $(NPM) run gen:api

# The client can't drift from the API (CI regenerates it and fails on a difference), then the
# app's types and unit tests.
web-check: web-client
	@if git ls-files --error-unmatch $(WEB_CLIENT) >/dev/null 2>&1; then \
		git diff --exit-code --stat -- $(WEB_CLIENT) || { \
			echo "$(WEB_CLIENT) differed from the API's schema; it is regenerated now: commit it." >&2; exit 1; }; \
	else \
		echo "$(WEB_CLIENT) is not committed yet: no drift to check."; \
	fi
	$(NPM) run typecheck
	$(NPM) run test

# End-to-end: Playwright drives the system Chromium against a real `takt serve` that
# frontend/e2e/server.mjs starts (Playwright's webServer) on a fresh database: a new SQLite file,
# then a new PostgreSQL database when one answers (dropped after; TAKT_REQUIRE_POSTGRES=1 makes
# a missing PostgreSQL an error, as for the suite).
CHROMIUM ?= /usr/bin/chromium
PG_CREATE := import asyncio, sys; from tests.conftest import create_postgres_database as f; print(asyncio.run(f(sys.argv[1])))
PG_DROP := import asyncio, sys; from tests.conftest import drop_postgres_database as f; asyncio.run(f(sys.argv[1]))
e2e: web $(VENV)/.installed-test
	@echo "== e2e on SQLite"
	E2E_SKIP_BUILD=1 CHROMIUM_PATH=$(CHROMIUM) TAKT_E2E_DATABASE_URL= $(NPM) run e2e
	@base="$${TAKT_TEST_DATABASE_URL:-}"; \
	if [ -z "$$base" ] && $(BIN)/python -m takt.core.probe 127.0.0.1 5432; then base="$(PG_DEFAULT_URL)"; fi; \
	if [ -n "$$base" ]; then \
		url="$$($(BIN)/python -c '$(PG_CREATE)' "$$base")" || exit 1; \
		echo "== e2e on PostgreSQL"; \
		E2E_SKIP_BUILD=1 CHROMIUM_PATH=$(CHROMIUM) TAKT_E2E_DATABASE_URL="$$url" $(NPM) run e2e; status=$$?; \
		$(BIN)/python -c '$(PG_DROP)' "$$url"; \
		[ $$status -eq 0 ] && echo "== e2e ran: SQLite and PostgreSQL"; exit $$status; \
	elif [ "$${TAKT_REQUIRE_POSTGRES:-0}" = "1" ]; then \
		echo "PostgreSQL is required (TAKT_REQUIRE_POSTGRES=1) but 127.0.0.1:5432 does not answer"; \
		exit 1; \
	else \
		echo "== e2e ran: SQLite only (no PostgreSQL on 127.0.0.1:5432; set TAKT_TEST_DATABASE_URL)"; \
	fi

# In `make test`: the end-to-end run when Chromium is there (TAKT_REQUIRE_E2E=1, as in CI: must be).
test-e2e:
	@if [ -x "$(CHROMIUM)" ]; then \
		$(MAKE) --no-print-directory e2e; \
	elif [ "$${TAKT_REQUIRE_E2E:-0}" = "1" ]; then \
		echo "The end-to-end tests are required (TAKT_REQUIRE_E2E=1) but there is no Chromium at $(CHROMIUM) (Debian: apt-get install chromium)." >&2; \
		exit 1; \
	else \
		echo "== e2e skipped: no Chromium at $(CHROMIUM) (Debian: apt-get install chromium; CI requires it)"; \
	fi

clean:
	rm -rf $(VENV) data .mypy_cache .ruff_cache .pytest_cache
