# One command to run the bot, one to test it; both set everything up on a fresh machine.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# The Microsoft 365 Agents Playground (a local Teams client) for the Teams end-to-end test.
NPM_STAMP := node_modules/.installed

.PHONY: chat test lint bench bench-teams clean

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11 or newer is needed (set PYTHON=python3.11)")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

$(NPM_STAMP): package.json package-lock.json
	@if command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1; then \
		npm ci --no-audit --no-fund && touch $(NPM_STAMP); \
	else \
		echo "!!! node or npm not found: the Teams end-to-end test (Agents Playground) will be SKIPPED"; \
	fi

# GNU make defines AS (the assembler, `as`) itself: only an AS given by the person counts.
USER_AS := $(if $(filter-out default undefined,$(origin AS)),$(AS))

chat: $(STAMP)
	$(BIN)/hampshire chat $(if $(USER_AS),--as $(USER_AS))

test: $(STAMP) $(NPM_STAMP)
	$(BIN)/ruff format --check bot dialogs store tests bench
	$(BIN)/ruff check bot dialogs store tests bench
	$(BIN)/mypy
	$(BIN)/hampshire pack check
	$(BIN)/python -m pytest

bench: $(STAMP)
	$(BIN)/python bench/turns.py

bench-teams: $(STAMP)
	$(BIN)/python bench/teams_turn.py

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache node_modules
