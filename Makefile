# HeartSearch. `make run` on a fresh machine: install, index corpus/, serve.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
PIP    := $(VENV)/bin/pip
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export PYTHONPATH := $(CURDIR)

.PHONY: help install install-browser run index serve test clean

help:
	@echo "make run      install, build the index from corpus/ if needed, serve on http://127.0.0.1:8000"
	@echo "make test     install and run the test suite"
	@echo "make install  create .venv with the pinned requirements"
	@echo "make index    (re)build the index from corpus/ (only changed articles are embedded)"
	@echo "make serve    serve the existing index with waitress"

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

test: install
	$(PY) -m pytest

clean:
	rm -rf data .pytest_cache tests/artifacts
