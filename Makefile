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
	for b in bench/fl.py bench/mpc.py bench/storage.py; do echo "== $$b"; $(BIN)/python $$b; done

lint: setup
	$(BIN)/ruff check flai
	$(BIN)/mypy flai

# Slither through solc's standard JSON, one contract layer at a time: brownie writes no artifact
# for OpenZeppelin's re-export-only IERC165.sol, which `--compile-force-framework brownie` needs.
# Fails on any Medium or High finding in contracts/ (node_modules and test doubles filtered).
SLITHER_LAYERS := $(wildcard contracts/platform contracts/subdao contracts/market)
slither: setup
	for layer in $(SLITHER_LAYERS); do \
	  echo "== slither $$layer"; \
	  $(BIN)/slither $$layer --solc-standard-json --solc tools/solc/bin/solc-v$(SOLC_VERSION) \
	    --solc-remaps "@openzeppelin=node_modules/@openzeppelin" \
	    --filter-paths "node_modules|contracts/test" --fail-medium || exit 1; \
	done

clean:
	rm -rf build .brownie-network $(VENV) node_modules
