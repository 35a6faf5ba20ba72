# `make run` starts the whole local stack; `make test` runs every test.
# Both set everything up first: virtual environment, packages, databases,
# migrations and development keys; `make test` also Debian's Chromium.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
ENV_FILE := deploy/local.env
INSTALLED := $(VENV)/.installed

.PHONY: run test unit lint setup browser clean bench contracts

$(INSTALLED): requirements/constraints.txt requirements/runtime.txt requirements/dev.txt scripts/link_packages.py
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

test: setup lint browser
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

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
