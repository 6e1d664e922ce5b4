"""A spike against a service that stays slow past the scheduled recovery phase.

The service's database is slow from the spike until some seconds after the recovery phase
was due to end (``MARKET_API_FAULT_WINDOW_S``). The recovery phase must go on until the
service is back to normal and the report can confirm it, instead of ending on time and
reporting "not recovered".
"""

from __future__ import annotations

import pytest

from scenarios.processes import start_service
from scenarios.recovery_watch import CONFIRM_S, MARGIN_S
from tests.e2e_helpers import run_scenario, service_env

pytestmark = pytest.mark.e2e

TIME_SCALE = 0.2  # normal 6 s, spike 6 s, recovery 12 s; recovery limits 6 s and 36 s
RECOVERY_S, DEGRADED_S = 12.0, 36.0
#: Seconds after the service started: Locust takes a few seconds to start its first phase
#: (``LOCUST_START_S``), so the fault begins during the spike and ends about 15 s after it.
FAULT_WINDOW = (12.5, 32.0)
LOCUST_START_S = (1.0, 6.5)
#: Think time: the live watch and the report each judge one-second windows of requests; at
#: the default pacing's ~190 req/s their p95s can differ by seconds, at ~450 they agree.
WAIT = "0.015,0.025"


def test_the_recovery_phase_runs_until_the_recovery_is_confirmed(seeded_db, tmp_path):
    settings = {"cache": "off", "fault_db_latency_ms": "150",
                "fault_window_s": ",".join(map(str, FAULT_WINDOW))}  # fmt: skip
    service, url = start_service(tmp_path / "service.log", env=service_env(seeded_db, **settings))
    try:
        result = run_scenario(
            ["spike", "--host", url, "--time-scale", str(TIME_SCALE), "--wait", WAIT],
            tmp_path / "out",
            service_env(tmp_path), timeout=240,
        )  # fmt: skip
    finally:
        service.stop()
    assert result.returncode in (0, 1), result.stderr
    run = result.json("run.json")
    normal, spike, recovery = run["phases"]
    assert [p["role"] for p in run["phases"]] == ["baseline", "spike", "recovery"]
    report = result.json("report.json")
    assert report["phases"][0]["p95_ms"] < 100, "the fault began before the spike did"

    lasted = recovery["end"] - recovery["start"]
    assert lasted > RECOVERY_S + 2, lasted  # extended past its scheduled 12 s
    assert lasted < DEGRADED_S + CONFIRM_S + MARGIN_S + 2
    assert "watching recovery" in result.stderr
    recovered = report["recovery_seconds"]
    assert recovered is not None, report.get("recovery")
    assert RECOVERY_S < recovered < lasted - CONFIRM_S + 1
    assert run["recovery"]["degraded_s"] == pytest.approx(DEGRADED_S)
