# scadafw: `make generate` sets everything up and emits the example modules; `make test` checks.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
DEV_STAMP := $(VENV)/.installed-dev-stamp
CHECKOV_VENV := .venv-checkov
CHECKOV_VERSION := 3.3.30
CHECKOV_STAMP := $(CHECKOV_VENV)/.installed-$(CHECKOV_VERSION)
EXAMPLES := $(sort $(wildcard examples/*.yaml))

.PHONY: all generate test lint typecheck unit verify scan bench clean help

all: generate

help:
	@echo "make generate  create .venv if needed, then regenerate modules/ from examples/*.yaml"
	@echo "make test      lint, type-check, run the test suite and verify the examples"
	@echo "make verify    prove the example modules against the flow matrix"
	@echo "make scan      checkov over modules/ and examples/ (its own .venv-checkov)"
	@echo "make bench     fleet-scale timings beside aerleon; writes bench/results.md"
	@echo "make clean     remove what the Makefile made"

# The environment is rebuilt whenever pyproject.toml changes. `make generate` installs what
# the tool needs and nothing else; the test and lint tools come with the first `make test`.
$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "scadafw needs Python 3.11 or newer: set PYTHON=python3.11")'
	rm -rf $(VENV)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e .
	touch $(STAMP)

$(DEV_STAMP): $(STAMP)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	touch $(DEV_STAMP)

generate: $(STAMP)
	$(BIN)/scadafw generate $(EXAMPLES) --out modules

lint: $(DEV_STAMP)
	$(BIN)/ruff check generator tests

typecheck: $(DEV_STAMP)
	$(BIN)/mypy

unit: $(DEV_STAMP)
	$(BIN)/pytest -n auto --dist loadgroup

# Prove the committed example modules against the flow matrix (moto and the NSG evaluator).
verify: $(STAMP)
	$(BIN)/scadafw verify $(EXAMPLES) --modules modules > /dev/null
	@echo "verify: every example module allows exactly the Geo SCADA flows"

# checkov pins its own fork of the HCL parser, which installs a module named `hcl2` over
# python-hcl2's: it lives in its own virtual environment and runs as a command (docs/design.md).
$(CHECKOV_STAMP):
	rm -rf $(CHECKOV_VENV)
	$(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/python -m pip install --quiet --disable-pip-version-check checkov==$(CHECKOV_VERSION)
	touch $(CHECKOV_STAMP)

scan: $(CHECKOV_STAMP)
	$(CHECKOV_VENV)/bin/checkov --directory modules --directory examples --framework terraform \
		--skip-download --compact --quiet

test: lint typecheck unit verify scan

# Speed and memory at fleet scale, beside aerleon (the optional `bench` extra).
bench: $(STAMP)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[bench]'
	$(BIN)/python bench/run.py

clean:
	rm -rf $(VENV) $(CHECKOV_VENV) bench/out .mypy_cache .ruff_cache .pytest_cache .hypothesis *.egg-info
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
