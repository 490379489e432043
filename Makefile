# stgcn-geometry: `make test` runs the tests, `make book` builds the executed HTML book.
# Both work from a fresh clone: without an active virtual environment (or conda env) they
# create .venv and install the project from its own files first.
#
# Settings (environment or `make VAR=value`):
#   PROFILE          quick (default; CI and laptops), paper (the full study, meant for a GPU) or
#                    smoke (a check that every chapter runs on your DATASET; no results)
#   DEVICE           auto (default), cpu or cuda
#   DATASET          hdm05 (default) or the path of a .npz saved with SkeletonDataset.save
#   FRESH            FRESH=1 executes every chapter, even those unchanged since they last ran
#   PARAMS           chapter parameters, e.g. PARAMS="k=12 window=0.2" (each goes to the chapters
#                    whose parameters cell has it; only what depends on it is recomputed)
#   STGCN_DATA_DIR   the HDM05 folder (default ../shared/data/hdm05 beside the checkout)
#   STGCN_CACHE_DIR  artefact cache (default _build/cache)
#   TORCH_SPEC       how to install torch when it is missing (default torch==2.13.0)

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PROFILE ?= quick
DEVICE ?= auto
DATASET ?= hdm05
PARAMS ?=
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

.PHONY: help env test test-fast lint book chapters html browser-test bench clean clean-cache

help:
	@echo "make test    run the test suite (creates .venv on first use)"
	@echo "make book    execute every chapter (PROFILE=$(PROFILE)) and build the HTML book into $(BUILD)/html"
	@echo "make browser-test  open the built book in headless Chromium, offline (after make book)"
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
# A chapter whose text, parameters, helpers sources and data are unchanged since it last ran is
# copied from $(BUILD)/executed instead (see helpers/bookrun.py); FRESH=1 runs every chapter.
# Copies keep their modification times, so that Sphinx rebuilds only the pages that changed.
chapters: $(STAMP)
	rm -rf $(STAGE) && mkdir -p $(STAGE)/book
	cp -rp _config.yml _toc.yml intro.md api.md references.md references.bib _static _ext $(STAGE)/
	$(PY) -m helpers.bookrun --profile $(PROFILE) --device $(DEVICE) --dataset $(DATASET) \
		$(foreach p,$(PARAMS),--param $(p)) $(if $(FRESH),--fresh) --reuse $(BUILD)/executed \
		--out $(STAGE)/book $(CHAPTERS)

# MathJax served from the book itself, so that formulas render without a network: the npm
# package, fetched once into the build folder. Without npm the pages fall back to a CDN (and
# say so here).
MATHJAX_VERSION := 3.2.2
MATHJAX := $(BUILD)/mathjax-$(MATHJAX_VERSION)

$(MATHJAX)/tex-chtml.js:
	rm -rf $(MATHJAX) $(BUILD)/npm && mkdir -p $(BUILD)/npm $(MATHJAX)
	@if command -v npm >/dev/null 2>&1 && (cd $(BUILD)/npm && npm pack --silent mathjax@$(MATHJAX_VERSION)); then \
		tar -xzf $(BUILD)/npm/mathjax-$(MATHJAX_VERSION).tgz -C $(MATHJAX) --strip-components=2 package/es5; \
	else \
		echo "WARNING: npm could not fetch mathjax@$(MATHJAX_VERSION): the pages load MathJax from a CDN and need a network for formulas"; \
		printf '%s\n' "document.write('<script src=\"https://cdn.jsdelivr.net/npm/mathjax@$(MATHJAX_VERSION)/es5/tex-chtml.js\"><\/script>');" > $@.tmp; \
		mv $@.tmp $@; \
	fi

# The widget manager served from the book too (chapters 01 and 06 save ipywidgets state): require.js
# and @jupyter-widgets/html-manager's embed-amd.js from npm. The manager's bundles find their font
# files from their module URL, which they join as origin + path: a file:// page has origin "null",
# so the sed makes them keep file:// (the fonts sit in @jupyter-widgets/, beside the modules'
# URLs under the baseUrl that _static/widgets_offline.js sets). Without npm: CDN stubs, as above.
WIDGETS_VERSION := 1.0.6
REQUIREJS_VERSION := 2.3.7
WIDGETS := $(BUILD)/widgets-$(WIDGETS_VERSION)
FONTS := @jupyter-widgets/html-manager/dist

$(WIDGETS)/embed-amd.js:
	rm -rf $(WIDGETS) $(BUILD)/npm-widgets && mkdir -p $(BUILD)/npm-widgets $(WIDGETS)/$(FONTS)
	@if command -v npm >/dev/null 2>&1 && (cd $(BUILD)/npm-widgets && npm pack --silent \
			@jupyter-widgets/html-manager@$(WIDGETS_VERSION) requirejs@$(REQUIREJS_VERSION) >/dev/null); then \
		cd $(BUILD)/npm-widgets && mkdir hm rq \
		&& tar -xzf jupyter-widgets-html-manager-$(WIDGETS_VERSION).tgz -C hm \
		&& tar -xzf requirejs-$(REQUIREJS_VERSION).tgz -C rq && cd - >/dev/null \
		&& cp $(BUILD)/npm-widgets/rq/package/require.js $(WIDGETS)/require.js \
		&& find $(BUILD)/npm-widgets/hm/package/dist -maxdepth 1 -regextype posix-extended \
			-regex '.*/[0-9a-f]{20}\.(woff2?|ttf|eot|svg)' -exec cp {} $(WIDGETS)/$(FONTS)/ \; \
		&& cp $(WIDGETS)/$(FONTS)/* $(WIDGETS)/@jupyter-widgets/ \
		&& sed 's/\$${o.origin}\$${o.pathname}/$${o.origin==="null"?o.protocol+"\/\/":o.origin}$${o.pathname}/g' \
			$(BUILD)/npm-widgets/hm/package/dist/embed-amd.js > $@.tmp; \
	else \
		echo "WARNING: npm could not fetch the widget manager: pages with widgets load it from a CDN"; \
		printf '%s\n' "document.write('<script src=\"https://cdnjs.cloudflare.com/ajax/libs/require.js/2.3.4/require.min.js\"><\/script>');" > $(WIDGETS)/require.js; \
		printf '%s\n' "document.write('<script src=\"https://cdn.jsdelivr.net/npm/@jupyter-widgets/html-manager@$(WIDGETS_VERSION)/dist/embed-amd.js\"><\/script>');" > $@.tmp; \
	fi
	mv $@.tmp $@

# Build HTML from the executed copies; any Sphinx warning fails the build.
html: $(STAMP) $(MATHJAX)/tex-chtml.js $(WIDGETS)/embed-amd.js
	rm -rf $(STAGE)/_extra && mkdir -p $(STAGE)/_extra && cp -r $(MATHJAX) $(STAGE)/_extra/mathjax
	cp -r $(WIDGETS) $(STAGE)/_extra/widgets
	$(BIN)jupyter-book build $(STAGE) --path-output $(BUILD)/site -W --keep-going
	rm -rf $(BUILD)/html && cp -r $(BUILD)/site/_build/html $(BUILD)/html
	# an incremental Sphinx build with no page out of date skips html_extra_path: copy it here
	cp -r $(STAGE)/_extra/. $(BUILD)/html/
	@echo "The book is in $(BUILD)/html/index.html"

book: chapters
	$(MAKE) html

# The built book in headless Chromium, offline; screenshots go to $(BUILD)/html/screenshots.
# Debian's chromium and chromium-driver are installed when missing and apt-get can (as root);
# without a browser the test skips and says why, unless STGCN_REQUIRE_BROWSER=1 (CI sets it).
browser-test: $(STAMP)
	@if ! command -v chromium >/dev/null 2>&1 || ! command -v chromedriver >/dev/null 2>&1; then \
		if command -v apt-get >/dev/null 2>&1 && [ "$$(id -u)" = 0 ]; then \
			echo "installing Debian's chromium and chromium-driver"; \
			(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
				--no-install-recommends chromium chromium-driver >/dev/null) \
				|| echo "WARNING: apt-get could not install chromium"; \
		else \
			echo "no chromium here and no apt-get as root: install chromium and chromedriver yourself"; \
		fi; \
	fi
	STGCN_BOOK_HTML=$(BUILD)/html $(PY) -m pytest -q -rs tests/test_browser.py

bench: $(STAMP)
	$(PY) -m pip install -e ".[bench]"
	for b in benchmarks/bench_*.py; do echo "== $$b"; $(PY) $$b --quick; done

clean-cache:
	rm -rf $(BUILD)/cache

clean:
	rm -rf $(BUILD)
