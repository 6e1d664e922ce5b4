# Every target bootstraps .venv by itself when it is missing or older than pyproject.toml.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

HOST ?=
TIME_SCALE ?= 1
PROCESSES ?= 0
FAIL_ON ?= critical
RUN ?=

RUN_FLAGS = $(if $(HOST),--host $(HOST)) --time-scale $(TIME_SCALE) --processes $(PROCESSES) --fail-on $(FAIL_ON)

.PHONY: test bench lint fuzz soak serve ui report spike baseline historical sustained browser clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet -e '.[dev]'
	touch $(STAMP)

browser:
	@tools/ensure-chromium

test: $(STAMP) browser
	$(PY) -m pytest

lint: $(STAMP)
	$(VENV)/bin/ruff check .

bench: $(STAMP)
	$(PY) -m benchmarks

clean:
	rm -rf $(VENV) results .pytest_cache .ruff_cache .hypothesis
