# The two commands the README gives:
#   make run   installs everything, creates the database, loads demo data, serves on :8000
#              with the Celery worker and beat running.
#   make test  installs everything (and Chromium for the browser tests) and runs the suite.
# SQLite and a filesystem Celery broker by default; set DATABASE_URL=mysql://... and
# REDIS_URL=redis://... to use MySQL/MariaDB and Redis instead.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test install migrate demo lint bench clean

$(STAMP): pyproject.toml
	@scripts/ensure-system-deps.sh
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP)

migrate: install
	$(BIN)/python manage.py migrate --noinput

demo: migrate
	$(BIN)/python manage.py seed_demo

run: demo
	@scripts/run.sh

test: install
	@scripts/ensure-system-deps.sh --browser
	$(BIN)/pytest -p no:cacheprovider $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check .

bench: install
	$(BIN)/python manage.py bench $(BENCH_ARGS)

clean:
	rm -rf $(VENV) var
