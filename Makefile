# stgcn-geometry: `make test` runs the tests, `make book` builds the executed HTML book.
# Both work from a fresh clone: without an active virtual environment (or conda env) they
# create .venv and install the project from its own files first.
#
# Settings (environment or `make VAR=value`):
#   PROFILE          quick (default; CI and laptops) or paper (the full study, meant for a GPU)
#   DEVICE           auto (default), cpu or cuda
#   DATASET          hdm05 (default) or the path of a .npz saved with SkeletonDataset.save
#   STGCN_DATA_DIR   the HDM05 folder (default ../shared/data/hdm05 beside the checkout)
#   STGCN_CACHE_DIR  artefact cache (default _build/cache)
#   TORCH_SPEC       how to install torch when it is missing (default torch==2.13.0)

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PROFILE ?= quick
DEVICE ?= auto
DATASET ?= hdm05
TORCH_SPEC ?= torch==2.13.0
BUILD := _build
STAGE := $(BUILD)/book-src
CHAPTERS := $(sort $(wildcard book/[0-9]*.md))

# An active virtualenv or conda env is used as is; otherwise .venv is created.
ACTIVE_ENV := $(or $(VIRTUAL_ENV),$(CONDA_PREFIX))
ifeq ($(ACTIVE_ENV),)
  ENV_DIR := .venv
  BIN := .venv/bin/
else
  ENV_DIR := $(ACTIVE_ENV)
  BIN :=
endif
PY := $(BIN)python
STAMP := $(ENV_DIR)/.stgcn-geometry-installed

.PHONY: help env test test-fast lint book chapters html bench clean clean-cache

help:
	@echo "make test    run the test suite (creates .venv on first use)"
	@echo "make book    execute every chapter (PROFILE=$(PROFILE)) and build the HTML book into $(BUILD)/html"
	@echo "make bench   run the benchmarks in benchmarks/"
	@echo "make lint    ruff over the whole tree (make test runs it too)"
	@echo "make clean   remove $(BUILD) (caches included)"

$(ENV_DIR)/bin/python:
	python3 -m venv $(ENV_DIR)

$(STAMP): pyproject.toml | $(ENV_DIR)/bin/python
	$(PY) -m pip install --upgrade pip
	$(PY) -c "import torch" 2>/dev/null || $(PY) -m pip install "$(TORCH_SPEC)"
	$(PY) -m pip install -e ".[dev]"
	touch $@

env: $(STAMP)

lint: $(STAMP)
	$(PY) -m ruff check .

test: lint
	$(PY) -m pytest -q

test-fast: lint
	$(PY) -m pytest -q -m "not slow"

# Execute every chapter (book/NN_name.md, MyST notebooks) with papermill into the staging
# folder as .ipynb; a cell error fails the build.
chapters: $(STAMP)
	rm -rf $(STAGE) && mkdir -p $(STAGE)/book
	cp -r _config.yml _toc.yml intro.md references.bib _static $(STAGE)/
	$(PY) -m helpers.bookrun --profile $(PROFILE) --device $(DEVICE) --dataset $(DATASET) \
		--out $(STAGE)/book $(CHAPTERS)

# Build HTML from the executed copies; any Sphinx warning fails the build.
html: $(STAMP)
	$(BIN)jupyter-book build $(STAGE) --path-output $(BUILD)/site -W --keep-going
	rm -rf $(BUILD)/html && cp -r $(BUILD)/site/_build/html $(BUILD)/html
	@echo "The book is in $(BUILD)/html/index.html"

book: chapters
	$(MAKE) html

bench: $(STAMP)
	$(PY) -m pip install -e ".[bench]"
	for b in benchmarks/bench_*.py; do echo "== $$b"; $(PY) $$b --quick; done

clean-cache:
	rm -rf $(BUILD)/cache

clean:
	rm -rf $(BUILD)
