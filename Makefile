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
OUT ?=
WEB_PORT ?= 8089
FAST_JOBS ?= 2
TEST_JOBS ?= 3
THRESHOLDS ?=
SERVICE_ACCESS_LOG ?=
LOCUSTFILE ?=
STAGES ?=
SCHEDULE ?=
HEALTH_PATH ?=
PROMETHEUS ?=
MODEL ?=
RATE ?=
MAX_IN_FLIGHT ?=
ARRIVALS ?=
START_RATE ?=
MAX_RATE ?=
MIN_CAPACITY ?=

RUN_FLAGS = $(if $(HOST),--host $(HOST)) $(if $(USERS),--users $(USERS)) --time-scale $(TIME_SCALE) --processes $(PROCESSES) --fail-on $(FAIL_ON) $(if $(OUT),--out $(OUT)) $(if $(THRESHOLDS),--thresholds $(THRESHOLDS)) $(if $(SERVICE_ACCESS_LOG),--service-access-log)
# Your own API: make spike LOCUSTFILE=examples/locustfile.py HOST=http://127.0.0.1:8000 HEALTH_PATH=/healthz
# The open model: make spike MODEL=open RATE=300
MODEL_FLAGS = $(if $(MODEL),--model $(MODEL)) $(if $(RATE),--rate $(RATE)) $(if $(MAX_IN_FLIGHT),--max-in-flight $(MAX_IN_FLIGHT)) $(if $(ARRIVALS),--arrivals $(ARRIVALS))
TARGET_FLAGS = $(if $(LOCUSTFILE),--locustfile $(LOCUSTFILE)) $(if $(STAGES),--stages $(STAGES)) $(if $(SCHEDULE),--schedule $(SCHEDULE)) $(if $(HEALTH_PATH),--health-path $(HEALTH_PATH)) $(if $(PROMETHEUS),--prometheus $(PROMETHEUS))

# The capacity search: make capacity MIN_CAPACITY=500 (START_RATE, MAX_RATE, HOST, PROCESSES, TIME_SCALE too)
CAPACITY_FLAGS = $(if $(HOST),--host $(HOST)) --time-scale $(TIME_SCALE) --processes $(PROCESSES) $(if $(OUT),--out $(OUT)) $(if $(THRESHOLDS),--thresholds $(THRESHOLDS)) $(if $(START_RATE),--start-rate $(START_RATE)) $(if $(MAX_RATE),--max-rate $(MAX_RATE)) $(if $(MIN_CAPACITY),--min-capacity $(MIN_CAPACITY)) $(if $(HEALTH_PATH),--health-path $(HEALTH_PATH)) $(if $(PROMETHEUS),--prometheus $(PROMETHEUS)) $(if $(MAX_IN_FLIGHT),--max-in-flight $(MAX_IN_FLIGHT)) $(if $(ARRIVALS),--arrivals $(ARRIVALS))

.PHONY: test test-fast bench lint fuzz soak serve ui report spike baseline historical sustained capacity browser clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet -e '.[dev]'
	touch $(STAMP)

browser:
	@tools/ensure-chromium

# The tests without processes run together with the end-to-end ones whose assertions hold on
# a busy machine, on TEST_JOBS workers (those mostly wait on their runs' clocks; an idle
# worker takes tests from a busy one's queue); the end-to-end ones that time real load run
# alone afterwards, with the CPU to themselves.
test: $(STAMP) browser
	$(PY) -m pytest -m "not e2e or concurrent" -n $(TEST_JOBS) --dist worksteal
	$(PY) -m pytest -m "e2e and not concurrent"

# The edit loop: every test that starts no process (no command line, service, Locust or
# browser), on FAST_JOBS processes (0: in this one).
test-fast: $(STAMP)
	HYPOTHESIS_PROFILE=fast $(PY) -m pytest -m "not e2e" -n $(FAST_JOBS)

lint: $(STAMP)
	$(VENV)/bin/ruff check .

bench: $(STAMP)
	@tools/ensure-wrk
	$(PY) -m benchmarks

serve: $(STAMP)
	$(PY) -m market_api

spike baseline historical sustained: $(STAMP)
	$(PY) -m scenarios run $@ $(RUN_FLAGS) $(TARGET_FLAGS) $(MODEL_FLAGS)

capacity: $(STAMP)
	$(PY) -m scenarios capacity $(CAPACITY_FLAGS)

soak: $(STAMP)
	$(PY) -m scenarios run sustained --duration 600 $(RUN_FLAGS)

fuzz: $(STAMP)
	$(PY) tools/fuzz_api.py

ui: $(STAMP)
	$(PY) -m scenarios ui --web-port $(WEB_PORT) $(if $(HOST),--host $(HOST)) $(if $(OUT),--out $(OUT)) $(if $(THRESHOLDS),--thresholds $(THRESHOLDS)) $(if $(SERVICE_ACCESS_LOG),--service-access-log)

report: $(STAMP)
	@test -n "$(RUN)" || { echo "usage: make report RUN=results/<run>" >&2; exit 2; }
	$(PY) -m reports build $(RUN) --fail-on $(FAIL_ON) $(if $(THRESHOLDS),--thresholds $(THRESHOLDS))

clean:
	rm -rf $(VENV) results .pytest_cache .ruff_cache .hypothesis
