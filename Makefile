# One command to run the bot, one to test it; both set everything up on a fresh machine.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# pyproject.toml says what is installed; the lock files say which versions (`make lock` refreshes them).
# The run lock pins PostgreSQL's driver too, for a production install; make chat leaves it out.
RUN_LOCK := requirements/run.txt
TEST_LOCK := requirements/test.txt
# What the bot needs to run (make chat) ...
RUN_STAMP := $(VENV)/.installed-run
# ... and that plus the PostgreSQL driver and the test tools (make test).
STAMP := $(VENV)/.installed
# pip prints a line per package and a progress bar per download, so a first install is never silent.
PIP_INSTALL := $(BIN)/python -m pip install --progress-bar on
# The lock tool, pinned like everything else; only `make lock` installs it.
UV_VERSION := 0.13.9
# The oldest Python supported: the locks are universal, with markers for every newer version.
LOCK_PYTHON := 3.11
LOCK := $(BIN)/uv pip compile pyproject.toml --universal --python-version $(LOCK_PYTHON) \
	--custom-compile-command "make lock" $(if $(UPGRADE),--upgrade)
# The Microsoft 365 Agents Playground (a local Teams client) for the Teams end-to-end test.
NPM_STAMP := node_modules/.installed

.PHONY: chat test lock lint bench bench-teams clean

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11 or newer is needed (set PYTHON=python3.11)")'
	@echo "==> Creating the virtual environment $(VENV) with $(PYTHON)"
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --upgrade pip

$(RUN_STAMP): pyproject.toml $(RUN_LOCK) | $(BIN)/python
	@echo "==> Installing what the bot needs to run, at the versions in $(RUN_LOCK) (the first time: a minute or two)"
	$(PIP_INSTALL) --constraint $(RUN_LOCK) --editable .
	touch $(RUN_STAMP)

$(STAMP): pyproject.toml $(TEST_LOCK) | $(BIN)/python
	@echo "==> Installing the bot, the PostgreSQL driver and the test tools, at the versions in $(TEST_LOCK)"
	$(PIP_INSTALL) --constraint $(TEST_LOCK) --editable '.[postgres,test]'
	touch $(STAMP) $(RUN_STAMP)

$(NPM_STAMP): package.json package-lock.json
	@if command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1; then \
		npm ci --no-audit --no-fund && touch $(NPM_STAMP); \
	else \
		echo "!!! node or npm not found: the Teams end-to-end test (Agents Playground) will be SKIPPED"; \
	fi

# GNU make defines AS (the assembler, `as`) itself: only an AS given by the person counts.
USER_AS := $(if $(filter-out default undefined,$(origin AS)),$(AS))

chat: $(RUN_STAMP)
	$(BIN)/hampshire chat $(if $(USER_AS),--as $(USER_AS))

test: $(STAMP) $(NPM_STAMP)
	$(BIN)/ruff format --check bot dialogs store tests bench
	$(BIN)/ruff check bot dialogs store tests bench
	$(BIN)/mypy
	$(BIN)/hampshire pack check
	$(BIN)/python -m pytest

# Run after changing dependencies in pyproject.toml; `make lock UPGRADE=1` moves every pin to the newest.
lock: | $(BIN)/python
	$(PIP_INSTALL) uv==$(UV_VERSION)
	$(LOCK) --extra postgres --output-file $(RUN_LOCK)
	$(LOCK) --extra postgres --extra test --constraint $(RUN_LOCK) --output-file $(TEST_LOCK)

bench: $(STAMP)
	$(BIN)/python bench/turns.py

bench-teams: $(STAMP)
	$(BIN)/python bench/teams_turn.py

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache node_modules
