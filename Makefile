# One command to run the bot, one to test it; both set everything up on a fresh machine.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: chat test lint bench clean

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11 or newer is needed (set PYTHON=python3.11)")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

chat: $(STAMP)
	$(BIN)/hampshire chat $(if $(AS),--as $(AS))

test: $(STAMP)
	$(BIN)/ruff format --check bot dialogs store tests bench
	$(BIN)/ruff check bot dialogs store tests bench
	$(BIN)/mypy
	$(BIN)/hampshire pack check
	$(BIN)/python -m pytest

bench: $(STAMP)
	$(BIN)/python bench/turns.py

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
