# Tollgate: `make run` for the demo on this machine, `make test` for the test suite.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
export DJANGO_SETTINGS_MODULE := tollgate.settings

.PHONY: setup run serve test test-fast lint format migrations-check worker beat bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# Re-install only when the pinned dependencies change.
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet --disable-pip-version-check -e ".[dev]"
	touch $@

setup: $(VENV)/.installed .env

# A random SECRET_KEY for this checkout (settings read .env): with DEBUG off nothing starts without one.
.env:
	@$(PYTHON) -c "import secrets; print('SECRET_KEY=' + secrets.token_urlsafe(50))" > $@
	@echo "Wrote a random SECRET_KEY to .env"

run: setup
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py load_demo
	@# Served like production (DEBUG off: the site's own 404 and 500 pages, static files through WhiteNoise);
	@# `make run DEBUG=1` for Django's debug pages while developing.
	$(BIN)/python manage.py collectstatic --noinput --verbosity 0
	@echo ""
	@echo "Tollgate is running at http://127.0.0.1:$(PORT)/   (Ctrl-C stops it)"
	@echo "Database: $${DATABASE_URL:-SQLite (db.sqlite3)}; Celery: $${CELERY_BROKER_URL:-$${REDIS_URL:-tasks run in-process}}"
	@echo ""
	@# Without a broker, the scheduled jobs run in-process beside the web server (run_jobs); Ctrl-C stops both.
	@if [ -z "$${CELERY_BROKER_URL:-$${REDIS_URL:-}}" ]; then \
	  $(BIN)/python manage.py run_jobs > jobs.log 2>&1 & jobs=$$!; \
	  trap "kill $$jobs 2>/dev/null" EXIT INT TERM; \
	  echo "Scheduled jobs run in-process (log: jobs.log)"; \
	fi; \
	DEBUG=$${DEBUG:-0} $(BIN)/python manage.py runserver --noreload 127.0.0.1:$(PORT)

# The single sign-on tests' OpenID Connect provider (Node.js): installed when npm is here, else those tests skip.
OIDC_PROVIDER := tests/oidc_provider/node_modules/.package-lock.json
$(OIDC_PROVIDER): tests/oidc_provider/package-lock.json
	npm ci --prefix tests/oidc_provider --no-audit --no-fund --loglevel=error

test: setup $(if $(shell command -v npm),$(OIDC_PROVIDER))
	$(BIN)/python manage.py makemigrations --check --dry-run
	$(BIN)/pytest

test-fast: setup $(if $(shell command -v npm),$(OIDC_PROVIDER))
	$(BIN)/pytest -x -q -m "not browser"

lint: setup
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/mypy bench/*.py  # the benchmark scripts, each a script of its own
	$(BIN)/python manage.py makemigrations --check --dry-run

format: setup
	$(BIN)/ruff check --fix .

# Benchmarks print figures; they are never timed unit tests. The FOCUS and forecast ones need PostgreSQL
# (bench/focus_ingestion.py, bench/forecast.py), the FOCUS scale-out one Redis too (real Celery workers), the load one
# PostgreSQL and Redis (bench/load.py); the sprawl ones, the inventory import one and the call-stack one use a
# throw-away SQLite database.
bench: setup
	$(BIN)/python bench/focus_ingestion.py
	$(BIN)/python bench/focus_scaleout.py
	$(BIN)/python bench/forecast.py
	$(BIN)/python bench/sprawl_rank.py
	$(BIN)/python bench/sprawl_quality.py --reporting
	$(BIN)/python bench/sprawl_quality.py --late
	$(BIN)/python bench/sprawl_reliability.py
	$(BIN)/python bench/sprawl_feedback.py
	$(BIN)/python bench/sprawl_scale.py
	$(BIN)/python bench/possible_duplicates.py
	$(BIN)/python bench/signals.py
	$(BIN)/python bench/dashboard.py
	$(BIN)/python bench/inventory_import.py
	$(BIN)/python bench/call_stack.py
	$(BIN)/python bench/load.py

# Production-style processes (need REDIS_URL / CELERY_BROKER_URL).
worker: setup
	$(BIN)/celery -A tollgate worker --loglevel=info

beat: setup
	$(BIN)/celery -A tollgate beat --loglevel=info

clean:
	rm -rf $(VENV) staticfiles .pytest_cache .ruff_cache
