# MusicPlayer developer commands. `make` (or `make help`) lists them.
# The services read `.env` themselves (pydantic-settings); nothing here needs it.

SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV := .venv
BIN := $(VENV)/bin
# Touched after a successful install, so requirements are re-installed only
# when a requirements file is newer than the last install.
STAMP := $(VENV)/.requirements-installed
# Prefer the interpreter the project targets; fall back to whatever python3 is.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
PYTEST_ARGS ?=
BENCH_ARGS ?=

.PHONY: help venv run test test-dbs test-e2e migrate seed bench-catalogue admin lint fmt clean clean-data

help: ## List the targets (this text)
	@echo "Usage: make <target>"
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z0-9_-]+:.*## / {printf "  %-16s %s\n", $$1, $$2}' \
		$(MAKEFILE_LIST)

venv: $(STAMP) ## Create .venv and install requirements-dev.txt (again only when they change)

$(BIN)/python:
	@test -n "$(PYTHON)" || { echo "python3.11 or python3 is needed to create $(VENV)" >&2; exit 1; }
	@# A failed attempt (Debian without python3-venv) leaves a half-made .venv
	@# that would look finished next time; remove it.
	$(PYTHON) -m venv $(VENV) || { rm -rf $(VENV); echo "venv failed: on Debian, apt-get install python3-venv" >&2; exit 1; }

# Order-only on the interpreter: its mtime says nothing about installed packages.
$(STAMP): requirements.txt requirements-dev.txt | $(BIN)/python
	$(BIN)/python -m pip install --disable-pip-version-check -r requirements-dev.txt
	@touch $@

run: venv ## Create keys, migrate, then run all four services (HOST, WORKERS from env)
	$(BIN)/python -m common.keys
	$(BIN)/python -m database migrate
	$(BIN)/python scripts/run_fleet.py

test: venv ## Run every test, end-to-end included (extra options: PYTEST_ARGS=...)
	$(BIN)/pytest -q $(PYTEST_ARGS)

# The URLs live only in this recipe's shell: nothing is left in the caller's
# environment or written to disk. Needs root or sudo to install/start servers.
test-dbs: venv ## Start local PostgreSQL + MariaDB (installs them if missing), run every test on them too
	@# The script prints `export TEST_..._URL=...` lines; `make test` inherits them.
	@urls="$$(scripts/test_databases.sh)" && eval "$$urls" && $(MAKE) --no-print-directory test

test-e2e: venv ## Run only the end-to-end tests against real service processes
	$(BIN)/pytest -q -m e2e $(PYTEST_ARGS)

migrate: venv ## Bring the database schema to the newest migration
	$(BIN)/python -m database migrate

seed: venv ## Add the demo catalogue (36 albums, about 425 songs); running it again adds nothing
	$(BIN)/python -m database.seed

bench-catalogue: venv ## Time catalogue pages at 1,000 vs 1,000,000 songs (slow; BENCH_ARGS=...)
	$(BIN)/python scripts/bench_catalogue.py $(BENCH_ARGS)

admin: venv ## Create or promote the admin from ADMIN_EMAIL / ADMIN_PASSWORD
	$(BIN)/python -m user_service.admin

lint: venv ## Check lint and formatting (ruff), changing nothing
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

fmt: venv ## Fix what ruff can fix and format the code
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

clean: ## Remove caches (keeps .venv and data/)
	rm -rf .pytest_cache .ruff_cache
	find . -path ./$(VENV) -prune -o -type d -name __pycache__ -prune -exec rm -rf {} +

clean-data: ## Delete data/: the SQLite database AND the signing keys
	rm -rf data
