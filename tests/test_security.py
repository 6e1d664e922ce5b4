"""Secure defaults: loopback binding, no parameter value anywhere, read-only performance
endpoints, and run directories without secrets."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import psutil
import pytest
import requests

from scenarios.processes import ChildProcess, free_port
from tests.e2e_helpers import run_scenario, service_env

pytestmark = pytest.mark.e2e

MARKER = "QZMARK7F3"  # a well-formed ticker that no seeded symbol uses
EXPOSED = [
    "/api/v1/performance/cache",
    "/api/v1/performance/queries",
    "/api/v1/performance/summary",
    "/api/v1/metrics",
    "/api/v1/status",
    "/metrics",
]


def test_no_parameter_value_reaches_logs_metrics_or_stats(live_service, tmp_path):
    probes = [
        ("/api/v1/historical", {"symbol": MARKER}),
        ("/api/v1/historical", {"symbol": MARKER.lower()}),
        ("/api/v1/historical", {"symbol": "AAPL", "start": MARKER}),
        ("/api/v1/historical", {"symbol": "AAPL", "note": MARKER}),
        ("/api/v1/historical", {"symbol": "AAPL", "end": f"2024-01-{MARKER}"}),
        (f"/api/v1/{MARKER}", {}),
        ("/api/v1/symbols", {"filter": MARKER}),
    ]
    for path, params in probes:
        response = requests.get(live_service + path, params=params, timeout=5)
        assert response.status_code < 500
        assert response.headers["content-type"].startswith("application/json")
        assert MARKER not in response.text and MARKER.lower() not in response.text
    requests.get(live_service + "/api/v1/historical", params={"symbol": "AAPL"}, timeout=5)
    for path in EXPOSED:
        body = requests.get(live_service + path, timeout=5).text
        assert MARKER not in body and MARKER.lower() not in body, path
    time.sleep(0.2)  # let the access log reach the file
    log = (tmp_path / "service.log").read_text()
    assert '"route"' in log  # the structured access log is there...
    assert MARKER not in log and MARKER.lower() not in log  # ...without the values


@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH", "DELETE"])
@pytest.mark.parametrize("path", EXPOSED[:3])
def test_performance_endpoints_are_read_only(live_service, method, path):
    before = requests.get(live_service + "/api/v1/performance/cache", timeout=5).json()["cache"]
    response = requests.request(method, live_service + path, timeout=5)
    assert response.status_code == 405
    assert response.headers["content-type"].startswith("application/json")
    after = requests.get(live_service + "/api/v1/performance/cache", timeout=5).json()["cache"]
    assert after["size"] == before["size"]


def test_run_directories_keep_no_credentials(live_service, tmp_path):
    secret = "S3CRETpw"
    host = live_service.replace("http://", f"http://loadtester:{secret}@")
    result = run_scenario(["baseline", "--host", host], tmp_path, service_env(tmp_path))
    assert result.returncode == 0, result.stderr
    assert result.json("run.json")["host"] == live_service
    for path in result.run_dir.rglob("*"):
        if path.is_file():
            assert secret.encode() not in path.read_bytes(), path.name
    assert secret not in result.stdout + result.stderr


def listening_addresses(pid: int) -> set[str]:
    processes = [psutil.Process(pid), *psutil.Process(pid).children(recursive=True)]
    return {
        c.laddr.ip
        for p in processes
        for c in p.net_connections(kind="tcp")
        if c.status == psutil.CONN_LISTEN
    }


def wait_listening(pid: int, timeout: float = 60.0) -> set[str]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        addresses = listening_addresses(pid)
        if addresses:
            return addresses
        time.sleep(0.2)
    raise AssertionError("nothing listening")


@pytest.mark.parametrize("command", ["service", "web ui"])
def test_servers_bind_loopback_by_default(seeded_db, tmp_path, command):
    port = free_port()
    argv = (
        [sys.executable, "-m", "market_api", "--port", str(port)]
        if command == "service"
        else [sys.executable, "-m", "scenarios", "ui", "--web-port", str(port)]
    )
    child = ChildProcess(argv, tmp_path / "log.txt", service_env(seeded_db))
    try:
        wait_listening(child.proc.pid)
        time.sleep(2 if command == "web ui" else 0)  # the UI starts the service first
        assert listening_addresses(child.proc.pid) == {"127.0.0.1"}
    finally:
        child.stop()
    assert Path(tmp_path / "log.txt").exists()
