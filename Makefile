# hcserver: `make run` serves on http://127.0.0.1:8000, `make test` runs the suite.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
DEV_STAMP := $(VENV)/.installed-dev
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test lint typecheck format venv dev-venv static prod-local

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(STAMP): requirements.txt | $(PY)
	$(PY) -m pip install --quiet -r requirements.txt
	touch $@

$(DEV_STAMP): requirements.txt requirements-dev.txt | $(PY)
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $(STAMP) $@

venv: $(STAMP)
dev-venv: $(DEV_STAMP)

static: $(STAMP)
	$(PY) manage.py collectstatic --noinput --verbosity 0

run: $(STAMP) static
	$(PY) manage.py migrate --noinput
	$(PY) manage.py bootstrap
	$(PY) manage.py serve --host $(HOST) --port $(PORT)

# SECRET_KEY only for the test run: tests never touch var/ or a real key.
test: $(DEV_STAMP)
	SECRET_KEY=$${SECRET_KEY:-test-only-secret-key} $(PY) -m pytest $(PYTEST_ARGS)

lint: $(DEV_STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(MAKE) --no-print-directory typecheck

# mypy with the django-stubs plugin imports settings, which want a SECRET_KEY.
typecheck: $(DEV_STAMP)
	SECRET_KEY=$${SECRET_KEY:-typecheck-only-secret-key} $(VENV)/bin/mypy checks integrations hcserver

format: $(DEV_STAMP)
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

# The production process layout without Docker (deploy/Procfile): migrate, then
# gunicorn + Celery worker + beat against DATABASE_URL and REDIS_URL; Ctrl-C stops all.
prod-local: $(STAMP) static
	PATH="$(CURDIR)/$(VENV)/bin:$$PATH" $(PY) deploy/procfile.py deploy/Procfile
