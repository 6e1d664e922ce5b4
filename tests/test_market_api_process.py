"""``python -m market_api`` as a real uvicorn subprocess on a free loopback port."""

from __future__ import annotations

import signal

import orjson
import pytest
import requests

from tests.market_api_helpers import HISTORICAL, start_live_service

pytestmark = [pytest.mark.e2e, pytest.mark.concurrent]  # starts a real process

MARKER = "QZXW"


def test_the_real_server_serves_logs_and_stops_cleanly(own_db, tmp_path):
    service = start_live_service(own_db, tmp_path / "service.log")
    try:
        with requests.Session() as http:
            health = http.get(f"{service.url}/health", timeout=5)
            miss = http.get(service.url + HISTORICAL, timeout=5)
            hit = http.get(service.url + HISTORICAL, timeout=5)
            unknown = http.get(f"{service.url}/api/v1/historical?symbol={MARKER}", timeout=5)
            summary = http.get(f"{service.url}/api/v1/performance/summary", timeout=5)
    finally:
        exit_code = service.child.stop()
    # uvicorn shuts down gracefully, then re-raises the signal so the parent sees it.
    assert exit_code == -signal.SIGTERM
    assert "Application shutdown complete" in service.log
    assert orjson.loads(health.content)["status"] == "ok"
    assert (miss.headers["x-cache"], hit.headers["x-cache"]) == ("MISS", "HIT")
    assert miss.content == hit.content and "server" not in miss.headers
    assert unknown.status_code == 404
    assert set(orjson.loads(summary.content)) == {
        "timestamp", "cache", "performance", "bottlenecks", "recommendations",
    }  # fmt: skip
    log = service.log
    access = [orjson.loads(line) for line in log.splitlines() if line.startswith("{")]
    assert [(a["route"], a["status"]) for a in access] == [
        ("/health", 200),  # the readiness probe
        ("/health", 200),
        ("/api/v1/historical", 200),
        ("/api/v1/historical", 200),
        ("/api/v1/historical", 404),
        ("/api/v1/performance/summary", 200),
    ]
    assert MARKER not in log and "Traceback" not in log


def test_the_real_server_seeds_a_missing_database_and_takes_flags(tmp_path):
    db = tmp_path / "data" / "new.db"
    service = start_live_service(db, tmp_path / "service.log", "--cache", "off")
    try:
        status = requests.get(f"{service.url}/api/v1/status", timeout=5)
        first = requests.get(service.url + HISTORICAL, timeout=5)
        second = requests.get(service.url + HISTORICAL, timeout=5)
    finally:
        service.child.stop()
    assert db.is_file()
    body = orjson.loads(status.content)
    assert body["cache"]["enabled"] is False and body["database"]["rows"]["bars"] >= 125_000
    assert (first.headers["x-cache"], second.headers["x-cache"]) == ("MISS", "MISS")


def test_with_the_access_log_off_the_real_server_logs_start_up_but_no_requests(own_db, tmp_path):
    service = start_live_service(own_db, tmp_path / "service.log", "--access-log", "off")
    try:
        with requests.Session() as http:
            for _ in range(3):
                assert http.get(service.url + HISTORICAL, timeout=5).status_code == 200
    finally:
        service.child.stop()
    log = service.log
    assert "Application startup complete" in log
    assert not [line for line in log.splitlines() if line.startswith("{")]
