# HeartSearch. `make run` on a fresh machine: install, index corpus/, serve.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
PIP    := $(VENV)/bin/pip
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export PYTHONPATH := $(CURDIR)

MEDQUAD := ../shared/corpora/medquad-heart.jsonl
DEV_QUERIES := ../shared/eval/dev-queries.jsonl

.PHONY: help install install-browser run index serve test eval clean

help:
	@echo "make run      install, build the index from corpus/ if needed, serve on http://127.0.0.1:8000"
	@echo "make test     install and run the test suite"
	@echo "make install  create .venv with the pinned requirements"
	@echo "make install-browser  Debian's chromium (apt, only if missing) + Python Playwright, for the browser tests"
	@echo "make index    (re)build the index from corpus/ (only changed articles are embedded)"
	@echo "make serve    serve the existing index with waitress"
	@echo "make eval     ranking quality (MRR@10, nDCG@10, Recall@10/50) on the shared dev queries"

install: $(VENV)/.installed

# torch first, pinned, so pip takes the CPU wheel instead of a multi-GB CUDA build.
$(VENV)/.installed: requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --disable-pip-version-check torch==$$(sed -n 's/^torch==//p' requirements.txt)
	$(PIP) install --quiet --disable-pip-version-check -r requirements.txt
	touch $@

index: install
	$(PY) -m indexer build corpus

serve: install
	$(PY) -m search_app

run: index serve

# The browser tests drive Debian's chromium with Python Playwright; never
# `playwright install` (no browser download). apt runs only if chromium is missing.
CHROMIUM := /usr/bin/chromium
SUDO := $(shell [ "$$(id -u)" -eq 0 ] || echo sudo)

install-browser: install
	@if [ ! -x $(CHROMIUM) ]; then \
		echo "installing chromium with apt-get"; \
		$(SUDO) apt-get update && $(SUDO) apt-get install -y chromium chromium-driver; \
	fi
	$(PIP) install --quiet --disable-pip-version-check playwright==$$(sed -n 's/^playwright==//p' requirements.txt)

test: install install-browser
	$(PY) -m pytest

# Ranking quality on the shared NIH corpus and dev queries (see docs/quality.md).
eval: install
	@if [ ! -f $(MEDQUAD) ] || [ ! -f $(DEV_QUERIES) ]; then \
		echo "make eval needs $(MEDQUAD) and $(DEV_QUERIES); not found, nothing to do"; exit 0; fi; \
	$(PY) -m indexer build $(MEDQUAD) --index-dir data/medquad-index && \
	$(PY) -m indexer eval --index-dir data/medquad-index --queries $(DEV_QUERIES) --out data/eval-ranks.jsonl

clean:
	rm -rf data .pytest_cache tests/artifacts
