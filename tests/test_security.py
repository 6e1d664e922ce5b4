"""Secure defaults: loopback binding, no parameter value anywhere, read-only performance
endpoints, and run directories without secrets."""

from __future__ import annotations

import sys

import orjson
import psutil
import pytest
import requests

from scenarios.processes import ChildProcess, free_port
from tests.e2e_helpers import REPO_ROOT, run_scenario, service_env, wait_until

pytestmark = [pytest.mark.e2e, pytest.mark.concurrent]

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
    sent = len(probes) + 1 + len(EXPOSED)  # none of them to /health, unlike the readiness probe
    log_path = tmp_path / "service.log"
    # The structured access log has a line for every request above...
    wait_until(lambda: len(access_lines(log_path.read_text())) >= sent, 10, f"{sent} access lines")
    log = log_path.read_text()
    assert len(access_lines(log)) == sent
    assert MARKER not in log and MARKER.lower() not in log  # ...without the values


def access_lines(log: str) -> list[dict]:
    """The access log's lines (JSON, one per request) other than those of /health."""
    lines = (orjson.loads(line) for line in log.splitlines() if line.startswith('{"ts"'))
    return [line for line in lines if line["route"] != "/health"]


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


def listening(pid: int) -> set[tuple[str, int]]:
    """(address, port) of every TCP socket listening in ``pid`` or any of its descendants."""
    try:
        root = psutil.Process(pid)
        processes = [root, *root.children(recursive=True)]
    except psutil.NoSuchProcess:
        return set()
    found = set()
    for process in processes:
        try:
            connections = process.net_connections(kind="tcp")
        except psutil.NoSuchProcess:
            continue
        found |= {(c.laddr.ip, c.laddr.port) for c in connections if c.status == psutil.CONN_LISTEN}
    return found


@pytest.mark.parametrize("command", ["service", "web ui"])
def test_servers_bind_loopback_by_default(seeded_db, tmp_path, monkeypatch, command):
    port = free_port()
    if command == "service":
        argv = [sys.executable, "-m", "market_api", "--port", str(port)]
        announced = f"Uvicorn running on http://127.0.0.1:{port}"
        servers = 1
    else:  # the service first, then Locust's web UI on ``port``
        argv = [sys.executable, "-m", "scenarios", "ui", "--web-port", str(port)]
        announced = f"Locust web UI: http://127.0.0.1:{port}"
        servers = 2
    monkeypatch.chdir(tmp_path)  # the UI's logs go to ./results/
    env = {**service_env(seeded_db), "PYTHONPATH": str(REPO_ROOT), "PYTHONUNBUFFERED": "1"}
    log = tmp_path / "log.txt"
    child = ChildProcess(argv, log, env)

    def bound() -> set[tuple[str, int]] | None:
        found = listening(child.proc.pid)
        return found if port in {p for _, p in found} and len(found) >= servers else None

    try:
        sockets = wait_until(bound, 90, f"{servers} listening sockets, one on port {port}")
        assert {ip for ip, _ in sockets} == {"127.0.0.1"}, sockets
        assert ("127.0.0.1", port) in sockets
        wait_until(lambda: announced in log.read_text(), 10, f"{announced!r} in the log")
    finally:
        child.stop()
