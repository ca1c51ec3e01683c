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

# --- other Pythons (CI runs `make test test-pythons`) ------------------------------------------
# `make test` runs everything on one Python (3.11 here); `make test-pythons` runs the fast subset
# on each other supported version that is installed: `pyenv prefix 3.12`, else a `python3.12` on
# PATH that runs. One that is absent is skipped, loudly. Each gets its own .venv-<version>.
OTHER_PYTHONS ?= 3.12 3.13
# The fast subset: what can differ between Python versions (asyncio and threads, the channel SDKs,
# dates and time zones, imports, the store) on SQLite. Left to the one whole run: the PostgreSQL
# variants (the same Python code on another database), the transcripts (every conversation on
# every channel) and the Teams client end-to-end test (Node, not Python).
PYTHONS_SUBSET := tests -m "not postgres" --ignore=tests/bot/test_transcripts.py \
	--ignore=tests/bot/channels/teams/test_playground.py

.PHONY: test-pythons test-venv

# The install for whichever VENV and PYTHON it is called with (test-pythons calls it per version).
test-venv: $(STAMP)

test-pythons:
	@missing=""; \
	for version in $(OTHER_PYTHONS); do \
		python=""; \
		prefix=$$(pyenv prefix $$version 2>/dev/null) && python="$$prefix/bin/python$$version"; \
		if [ -z "$$python" ] || ! "$$python" -c pass 2>/dev/null; then \
			python=python$$version; \
			"$$python" -c pass 2>/dev/null || python=""; \
		fi; \
		if [ -z "$$python" ]; then \
			echo "!!! Python $$version NOT FOUND (pyenv or python$$version on PATH): its tests are SKIPPED"; \
			missing="$$missing $$version"; \
			continue; \
		fi; \
		echo "--- Python $$version ($$python): the fast subset"; \
		$(MAKE) --no-print-directory VENV=.venv-$$version PYTHON="$$python" test-venv || exit 1; \
		.venv-$$version/bin/python -m pytest -p no:cacheprovider $(PYTHONS_SUBSET) || exit 1; \
	done; \
	if [ -n "$$missing" ]; then echo "!!! not tested on Python$$missing: not installed"; fi
