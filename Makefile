# One command to run the bot, one to test it; both set everything up on a fresh machine.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# pyproject.toml says what is installed; the lock files say which versions (`make lock` refreshes them).
# The run lock pins PostgreSQL's driver too, for a production install; make chat leaves it out.
RUN_LOCK := requirements/run.txt
TEST_LOCK := requirements/test.txt
# The test lock plus the benchmarks' load tool (Locust), for make bench-load only.
BENCH_LOCK := requirements/bench.txt
# What the bot needs to run (make chat) ...
RUN_STAMP := $(VENV)/.installed-run
# ... and that plus the PostgreSQL driver and the test tools (make test).
STAMP := $(VENV)/.installed
BENCH_STAMP := $(VENV)/.installed-bench
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

.PHONY: chat test lock lint bench bench-teams bench-load clean

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

$(BENCH_STAMP): pyproject.toml $(BENCH_LOCK) $(STAMP)
	@echo "==> Installing the benchmarks' load tool, at the versions in $(BENCH_LOCK)"
	$(PIP_INSTALL) --constraint $(BENCH_LOCK) --editable '.[postgres,test,bench]'
	touch $(BENCH_STAMP)

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
	$(LOCK) --extra postgres --extra test --extra bench --constraint $(TEST_LOCK) --output-file $(BENCH_LOCK)

bench: $(STAMP)
	$(BIN)/python bench/turns.py

bench-teams: $(STAMP)
	$(BIN)/python bench/teams_turn.py

# 1,000 concurrent conversations (Locust, another process) against one instance on SQLite and two on PostgreSQL.
bench-load: $(BENCH_STAMP)
	$(BIN)/python bench/load.py

clean:
	rm -rf $(VENV) .venv-* .mypy_cache .ruff_cache .pytest_cache node_modules

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
