# Every target bootstraps .venv by itself when it is missing or older than pyproject.toml.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

HOST ?=
TIME_SCALE ?= 1
PROCESSES ?= 0
USERS ?=
FAIL_ON ?= critical
RUN ?=
WEB_PORT ?= 8089

RUN_FLAGS = $(if $(HOST),--host $(HOST)) $(if $(USERS),--users $(USERS)) --time-scale $(TIME_SCALE) --processes $(PROCESSES) --fail-on $(FAIL_ON)

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
	@tools/ensure-wrk
	$(PY) -m benchmarks

serve: $(STAMP)
	$(PY) -m market_api

spike baseline historical sustained: $(STAMP)
	$(PY) -m scenarios run $@ $(RUN_FLAGS)

soak: $(STAMP)
	$(PY) -m scenarios run sustained --duration 600 $(RUN_FLAGS)

fuzz: $(STAMP)
	$(PY) tools/fuzz_api.py

ui: $(STAMP)
	$(PY) -m scenarios ui --web-port $(WEB_PORT) $(if $(HOST),--host $(HOST))

report: $(STAMP)
	@test -n "$(RUN)" || { echo "usage: make report RUN=results/<run>" >&2; exit 2; }
	$(PY) -m reports build $(RUN) --fail-on $(FAIL_ON)

clean:
	rm -rf $(VENV) results .pytest_cache .ruff_cache .hypothesis
