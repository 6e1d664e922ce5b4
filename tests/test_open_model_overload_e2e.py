"""Overload in the open model: a service that cannot keep up is judged critical, never healthy.

The cache is off and every database query waits another 100 ms, so each request costs the
service a query and a tenth of a second. On this machine it then holds about 900 requests a
second; the run offers 3,000. The 200 requests in flight fill, later arrivals are dropped, and
the dropped share of the arrivals is judged by the error-rate limits: a client that was never
answered has failed.
"""

from __future__ import annotations

import os

import pytest

from scenarios.processes import start_service
from tests.e2e_helpers import run_scenario, service_env

pytestmark = [pytest.mark.e2e, pytest.mark.concurrent]

RATE = "3000"  # about three times what the slow service holds on a 2-core machine


@pytest.fixture
def slow_service(seeded_db, tmp_path):
    env = service_env(seeded_db, cache="off", fault_db_latency_ms="100")
    child, url = start_service(tmp_path / "service.log", env=env)
    try:
        yield url
    finally:
        child.stop()


def test_an_open_rate_above_capacity_is_critical(slow_service, tmp_path):
    args = ["sustained", "--duration", "6", "--host", slow_service, "--model", "open"]
    result = run_scenario([*args, "--rate", RATE], tmp_path / "out", dict(os.environ))
    assert result.returncode == 1, result.stderr  # critical reaches the default --fail-on
    report = result.json("report.json")

    assert report["verdict"] == "critical"
    (phase,) = report["phases"]
    assert phase["verdict"] == "critical"
    assert phase["offered_rps"] == float(RATE)
    assert phase["achieved_rps"] < 0.7 * float(RATE)  # the service fell behind
    assert phase["dropped"] > 0 and phase["dropped_pct"] > 5  # past the critical error rate
    assert phase["verdict_from"]["metric"] in ("dropped_pct", "avg_ms", "p95_ms", "p99_ms")
    assert phase["p95_ms"] > 100  # every request waited at least the added 100 ms
    assert "dropped" in [w["code"] for w in report["warnings"]]
