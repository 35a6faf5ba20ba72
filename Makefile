# `make run` starts the whole local stack; `make test` runs every test.
# Both set everything up first: virtual environment, packages, databases,
# migrations and development keys.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
ENV_FILE := deploy/local.env
INSTALLED := $(VENV)/.installed

.PHONY: run test unit lint setup clean bench contracts

$(INSTALLED): requirements/constraints.txt requirements/runtime.txt requirements/dev.txt
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

test: setup lint
	$(BIN)/python -m pytest

# The pure-rule tier: no servers and no network (sockets are refused), in seconds.
UNIT_TESTS := $(wildcard libs/*/tests/unit services/*/tests/unit)
unit: $(INSTALLED)
	$(BIN)/python -m pytest -q --disable-socket --allow-unix-socket $(UNIT_TESTS)

contracts: $(INSTALLED)
	UPDATE_CONTRACTS=1 $(BIN)/python -m pytest -q -k test_openapi_matches_the_contract services

bench: setup
	$(BIN)/python -m benchmarks

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
