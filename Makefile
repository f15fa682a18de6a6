# FLAI Protocol — every target sets up what it needs (idempotently) and then runs.
#   make test   the whole suite (contracts on Anvil + off-chain library)
#   make demo   the RFM lifecycle on a local Anvil chain, with a printed report
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := test

PYTHON ?= python3
VENV := .venv
BIN := $(CURDIR)/$(VENV)/bin
SOLC_VERSION := 0.8.28
BROWNIE_ACCOUNTS := 20

export SOLCX_BINARY_PATH := $(CURDIR)/tools/solc/bin
export PATH := $(BIN):$(CURDIR)/node_modules/@foundry-rs/anvil-linux-amd64/bin:$(PATH)
export PYTHONDONTWRITEBYTECODE := 1

.PHONY: setup compile test demo bench lint slither clean

setup: $(VENV)/.installed node_modules/.installed .brownie-network

$(VENV)/.installed: requirements.txt pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.txt
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps -e .
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

# Brownie's `development` network is Anvil; the scenario needs more than its default 10 accounts.
.brownie-network: $(VENV)/.installed
	$(BIN)/python -c "import brownie._config" >/dev/null
	$(BIN)/brownie networks modify development accounts=$(BROWNIE_ACCOUNTS) gas_limit=30000000 base_fee=0 >/dev/null
	touch $@

compile: setup
	$(BIN)/brownie compile

test: compile
	$(BIN)/brownie test tests

demo: compile
	$(BIN)/brownie run scripts/demo.py

bench: compile
	$(BIN)/python bench/gas.py
	for b in bench/fl.py bench/mpc.py bench/inference.py bench/storage.py; do echo "== $$b"; $(BIN)/python $$b; done

lint: setup
	$(BIN)/ruff check flai
	$(BIN)/mypy flai

# `slither . --compile-force-framework brownie` on a fresh copy of the working tree: brownie prunes
# the artifacts of libraries only its dependencies use (ECDSA, Strings, ...) every time it reloads
# a built project, and slither cannot resolve imports of files without an artifact. Fails on any
# Medium or High finding in contracts/ (node_modules and the test doubles are filtered out).
SLITHER_DIR := $(or $(TMPDIR),/tmp)/flai-slither
slither: setup
	rm -rf $(SLITHER_DIR) && mkdir -p $(SLITHER_DIR)
	tar -c --exclude=./build --exclude=./.venv --exclude=./node_modules --exclude=./.git \
	  --exclude=./.hypothesis --exclude=./reports . | tar -x -C $(SLITHER_DIR)
	ln -s $(CURDIR)/node_modules $(SLITHER_DIR)/node_modules
	cd $(SLITHER_DIR) && $(BIN)/slither . --compile-force-framework brownie \
	  --filter-paths "node_modules|contracts/test" --fail-medium

clean:
	rm -rf build .brownie-network $(VENV) node_modules
