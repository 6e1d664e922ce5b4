"""The Prometheus sampler against real endpoints: the reference service's /metrics and a plain
prometheus_client exporter in its own process, each scraped for a few seconds on loopback."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
import requests

from scenarios.processes import ChildProcess, free_port
from scenarios.prometheus_text import DEFAULT_PATTERNS
from scenarios.sampler import Sampler, choose_server_side
from scenarios.server_sources import Source
from tests.e2e_helpers import REPO_ROOT, wait_until

pytestmark = [pytest.mark.e2e, pytest.mark.concurrent]

SAMPLING_S = 3.0
#: Any app instrumented with prometheus_client's defaults: process and Python runtime series.
EXPORTER = (
    "import sys, time\n"
    "from prometheus_client import start_http_server\n"
    "start_http_server(int(sys.argv[1]), addr='127.0.0.1')\n"
    "time.sleep(120)\n"
)


def sample_for(source: Source, path: Path, meanwhile: Callable[[], object]) -> list[dict[str, str]]:
    """server_history.csv's rows after ``SAMPLING_S`` of sampling, calling ``meanwhile`` often."""
    sampler = Sampler(source, path)
    sampler.start()
    try:
        deadline = time.monotonic() + SAMPLING_S
        while time.monotonic() < deadline:
            meanwhile()
            time.sleep(0.1)
    finally:
        sampler.stop()
    with path.open(newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def test_the_reference_services_request_counter_is_sampled_as_it_grows(live_service, tmp_path):
    side = choose_server_side(live_service, live_service + "/metrics", DEFAULT_PATTERNS, {})
    assert side.source is not None, side.note
    columns = side.source.columns()
    assert {"market_api_requests_total", "process_cpu_seconds_total"} <= set(columns)
    assert "process_resident_memory_bytes" in columns
    assert side.description == f"Prometheus {live_service}/metrics ({len(columns)} series)"

    rows = sample_for(
        side.source,
        tmp_path / "server_history.csv",
        lambda: requests.get(live_service + "/api/v1/symbols", timeout=2),
    )
    assert len(rows) >= 2
    assert all(float(row[name]) > 0 for row in rows for name in columns)
    counts = [float(row["market_api_requests_total"]) for row in rows]
    assert counts == sorted(counts) and counts[-1] > counts[0]


def test_an_apps_process_cpu_and_memory_are_sampled(tmp_path):
    port = free_port()
    exporter = ChildProcess([sys.executable, "-c", EXPORTER, str(port)], tmp_path / "app.log")
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until(lambda: answers(url + "/metrics"), 30, "the exporter to answer")
        side = choose_server_side(url, url + "/metrics", DEFAULT_PATTERNS, {})
        assert side.source is not None, side.note
        columns = side.source.columns()
        assert columns == ["process_cpu_seconds_total", "process_resident_memory_bytes"]
        rows = sample_for(side.source, tmp_path / "server_history.csv", lambda: None)
    finally:
        exporter.stop()
    assert len(rows) >= 2
    assert all(float(row[name]) > 0 for row in rows for name in columns)


def test_a_run_records_the_chosen_series_and_charts_them(live_service, tmp_path):
    out = tmp_path / "out"
    done = subprocess.run(
        [sys.executable, "-m", "scenarios", "run", "sustained", "--duration", "4",
         "--host", live_service, "--prometheus", live_service + "/metrics",
         "--server-metric", "process_resident_memory_bytes",
         "--server-metric", "market_api_requests_*", "--out", str(out)],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=180,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    (run_dir,) = out.iterdir()
    with (run_dir / "server_history.csv").open(newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert list(rows[0]) == [
        "timestamp", "market_api_requests_total", "process_resident_memory_bytes"
    ]  # fmt: skip
    assert len(rows) >= 3
    report = json.loads((run_dir / "report.json").read_text())
    server = report["server"]
    assert server["sampled"] is True
    assert server["sampled_from"] == f"Prometheus {live_service}/metrics (2 series)"
    by_name = {s["name"]: s for s in server["series"]}
    assert by_name["market_api_requests_total"]["kind"] == "counter"
    assert by_name["market_api_requests_total"]["overall"] > 100  # requests per second
    assert by_name["process_resident_memory_bytes"]["overall"] > 10  # MiB
    assert (run_dir / "server_series.png").read_bytes().startswith(b"\x89PNG")
    assert "server_series.png" in (run_dir / "report.html").read_text()


def answers(url: str) -> bool:
    try:
        return requests.get(url, timeout=1).ok
    except requests.RequestException:
        return False
