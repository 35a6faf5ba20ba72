# `make run` starts the whole local stack; `make test` runs every test.
# Both set everything up first: the virtual environment and packages; `make run` also
# its databases, migrations and development keys, `make test` Debian's Chromium.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
ENV_FILE := deploy/local.env
INSTALLED := $(VENV)/.installed

.PHONY: run test unit lint setup browser clean bench contracts announce

# A new service or library (its package's __init__.py) is linked into the venv too.
PACKAGES := $(wildcard libs/*/*/__init__.py services/*/*_service/__init__.py gateway/pages/*/__init__.py)
$(INSTALLED): requirements/constraints.txt requirements/runtime.txt requirements/dev.txt scripts/link_packages.py $(PACKAGES)
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c requirements/constraints.txt -r requirements/dev.txt
	$(BIN)/python scripts/link_packages.py
	touch $@

setup: $(INSTALLED)
	$(BIN)/python scripts/bootstrap.py $(ENV_FILE) prepare

run: setup
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/honcho --env $(ENV_FILE) --procfile Procfile start

lint: $(INSTALLED)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

# Debian's Chromium for tests/e2e/test_browser.py (apt-get when missing).
browser:
	sh scripts/ensure_chromium.sh

# Tests make databases, namespaces and keys of their own: only the servers must answer
# (the databases of `make run` are left alone).
test: $(INSTALLED) lint browser
	$(BIN)/python scripts/bootstrap.py $(ENV_FILE) check
	$(BIN)/python -m pytest

# The pure-rule tier: no servers and no network (sockets are refused), in seconds.
UNIT_TESTS := $(wildcard libs/*/tests/unit services/*/tests/unit)
unit: $(INSTALLED)
	$(BIN)/python -m pytest -q --disable-socket --allow-unix-socket $(UNIT_TESTS)

# Event schemas from the models (libs/event_contracts), then each service's OpenAPI document.
contracts: $(INSTALLED)
	$(BIN)/python -m event_contracts
	UPDATE_CONTRACTS=1 $(BIN)/python -m pytest -q -k test_openapi_matches_the_contract services

bench: setup
	$(BIN)/python -m benchmarks

# An operator's announcement (kind news) to every user who allows news, on the local stack:
#   make announce TITLE="Новое в приложении" BODY="..." [ROLES="realtor agency"]
announce: setup
	@test -n "$(TITLE)" -a -n "$(BODY)" || { echo 'usage: make announce TITLE="..." BODY="..." [ROLES="realtor agency"]' >&2; exit 2; }
	$(BIN)/honcho --env $(ENV_FILE) run sh -c 'DATABASE_URL=$$NOTIFICATIONS_DATABASE_URL exec $(BIN)/python -m notifications_service.announce "$$@"' announce --title "$(TITLE)" --body "$(BODY)" $(foreach role,$(ROLES),--role $(role))

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
