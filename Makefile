# `make run` and `make test` are the two commands; each bootstraps what it needs first.
# Every step is idempotent: stamps keyed on the content of pyproject.toml and infra/pom.xml
# skip work already done, so a second `make setup` takes about a second.

SHELL := bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help
MAKEFLAGS += --no-builtin-rules --no-print-directory

PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
KAFKA_LIBS := .cache/kafka-libs
POM := infra/pom.xml
BOOTSTRAP := bash infra/bootstrap.sh

# A new pyproject.toml / pom.xml means a new stamp name, hence a reinstall.
INSTALL_STAMP := $(VENV)/.installed-$(shell sha256sum pyproject.toml | cut -c1-16)
JARS_STAMP := $(KAFKA_LIBS)/.pom-$(shell sha256sum $(POM) | cut -c1-16)

TEST_DIRS := $(wildcard tests/unit tests/integration tests/e2e)
PYTEST_FLAGS ?= -q -p no:cacheprovider --durations=30

.PHONY: help setup run test lint bench clean

help:
	@echo "make run    start Chirp locally (Kafka, Redis, worker, API); Ctrl-C stops it"
	@echo "make test   lint, type-check and run the unit, integration and e2e tests"
	@echo "make setup  bootstrap only: .venv, Python packages, Kafka jars, redis-server, libmagic, chromium"
	@echo "make lint   ruff, mypy and the import-layer contracts"
	@echo "make bench  the benchmarks (never part of make test)"
	@echo "make clean  stop local services and delete var/ (all local data)"

setup: $(INSTALL_STAMP) $(JARS_STAMP)
	@$(BOOTSTRAP) java
	@$(BOOTSTRAP) redis
	@$(BOOTSTRAP) libmagic
	@$(BOOTSTRAP) promtool
	@$(BOOTSTRAP) chromium

$(PY):
	@command -v $(PYTHON) >/dev/null || \
		{ echo "$(PYTHON) not found: install Python 3.11 (or pass PYTHON=...)" >&2; exit 1; }
	$(PYTHON) -m venv $(VENV)

$(INSTALL_STAMP): | $(PY)
	$(PY) -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	@rm -f $(VENV)/.installed-*
	@touch $@

# Copied into a fresh directory, then swapped in: a pom change never leaves old jars behind.
$(JARS_STAMP):
	@$(BOOTSTRAP) java
	@$(BOOTSTRAP) mvn
	rm -rf $(KAFKA_LIBS).tmp
	mvn -q -B -f $(POM) dependency:copy-dependencies -DincludeScope=runtime \
		-DoutputDirectory=$(CURDIR)/$(KAFKA_LIBS).tmp
	rm -rf $(KAFKA_LIBS)
	mv $(KAFKA_LIBS).tmp $(KAFKA_LIBS)
	@touch $@

run: setup
	$(VENV)/bin/chirp up

lint: $(INSTALL_STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports

test: setup lint
	$(PY) -m pytest $(PYTEST_FLAGS) $(TEST_DIRS)

bench: setup
	$(PY) -m tests.perf

clean:
	@if [[ -x $(VENV)/bin/chirp ]]; then $(VENV)/bin/chirp down || true; fi
	rm -rf var
