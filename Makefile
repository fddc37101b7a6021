# Two commands for a newcomer: `make run` (chat with the bot) and `make test` (the whole suite).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install run demo test lint typecheck check clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[dev]"
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)  ## chat with the bot in this terminal (console + SQLite, no tokens)
	$(BIN)/concierge chat

demo: $(STAMP)  ## print a scripted walkthrough of the whole flow
	$(BIN)/concierge demo

test: $(STAMP)  ## run every test; PostgreSQL tests skip (with the reason) when no server answers
	$(BIN)/pytest -q -rs

lint: $(STAMP)
	$(BIN)/ruff check .

typecheck: $(STAMP)
	$(BIN)/mypy

check: lint typecheck test

clean:
	rm -rf $(VENV) .concierge-cache concierge.db concierge.db-wal concierge.db-shm .pytest_cache .mypy_cache .ruff_cache
