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
# on each other supported version that is installed (`pyenv prefix 3.12`, else a `python3.12` on
# PATH that runs), two at a time on the two cores, each in its own .venv-<version> installed by the
# same recipe as .venv. One that is absent is skipped, loudly, at the start and at the end.
OTHER_PYTHONS ?= 3.12 3.13
# The fast subset: what can differ between Python versions, on SQLite. The pure engine's dates,
# time zones and parsing (tests/dialogs), SQLAlchemy and Alembic (tests/store), asyncio, threads and
# the channel SDKs (the inbox, the channels, reminder delivery), and what each module imports
# (tests/test_layers.py). Left to the one whole run: the PostgreSQL variants (the same Python on
# another database), the transcripts, the case service and the CLI (plain Python over the store),
# and the Teams client end-to-end test (Node).
PYTHONS_SUBSET := -m "not postgres" tests/dialogs tests/store tests/bot/test_inbox.py tests/bot/channels \
	tests/bot/reminders tests/test_layers.py tests/test_timing.py \
	--ignore=tests/bot/channels/teams/test_playground.py
# The interpreter for version $$version, or nothing (shell, for the recipes below).
FIND_PYTHON = python=""; \
	prefix=$$(pyenv prefix $$version 2>/dev/null) && python="$$prefix/bin/python$$version"; \
	if [ -z "$$python" ] || ! "$$python" -c pass 2>/dev/null; then \
		python=python$$version; "$$python" -c pass 2>/dev/null || python=""; \
	fi
MISSING_PYTHONS = missing=""; for version in $(OTHER_PYTHONS); do \
		$(FIND_PYTHON); [ -n "$$python" ] || missing="$$missing $$version"; \
	done; \
	if [ -n "$$missing" ]; then echo "!!! NOT TESTED on Python$$missing: not installed (pyenv or python3.x on PATH)"; fi

.PHONY: test-pythons test-venv

# The install for whichever VENV and PYTHON it is called with (test-pythons calls it per version).
test-venv: $(STAMP)
	@:

test-pythons:
	@$(MISSING_PYTHONS)
	@# Installed one after the other (editable installs of one source tree share its build files),
	@# then tested side by side.
	@for version in $(OTHER_PYTHONS); do \
		$(FIND_PYTHON); [ -z "$$python" ] || \
		$(MAKE) --no-print-directory VENV=.venv-$$version PYTHON="$$python" test-venv || exit 1; \
	done
	@$(MAKE) --no-print-directory -j2 --output-sync=target $(addprefix test-python-,$(OTHER_PYTHONS))
	@$(MISSING_PYTHONS)

test-python-%:
	@version=$*; $(FIND_PYTHON); \
	if [ -z "$$python" ]; then echo "!!! Python $$version NOT FOUND: its tests are SKIPPED"; exit 0; fi; \
	echo "--- Python $$version ($$python): the fast subset"; \
	.venv-$$version/bin/python -m pytest -p no:cacheprovider $(PYTHONS_SUBSET)
