"""A spike's report counts every request the service answered: none is lost at a phase change.

When the spike ends, 40 of its 50 users are removed; a user removed in the middle of a
request must finish it, or the request is answered (and counted) by the service but never
logged by the load generator. Against a slow service most removed users are mid-request.
"""

from __future__ import annotations

import numpy as np
import pytest
import requests

from scenarios.processes import start_service
from tests.e2e_helpers import requests_log, run_scenario, service_env

pytestmark = [pytest.mark.e2e, pytest.mark.concurrent]  # counts, not timing

#: What the spike's users call; the runner's start check adds one /health of its own.
USER_ROUTES = ("/api/v1/historical", "/api/v1/symbols", "/health")
RUNNER_CHECKS = {"/health": 1}


def route_counts(url: str) -> dict[str, int]:
    routes = requests.get(f"{url}/api/v1/metrics", timeout=10).json()["routes"]
    return {route: routes.get(route, {}).get("count", 0) for route in USER_ROUTES}


@pytest.mark.parametrize(
    "settings",
    [{}, {"cache": "off", "fault_db_latency_ms": "200"}],
    ids=["fast-service", "slow-service"],
)
def test_the_report_counts_exactly_what_the_service_answered(seeded_db, tmp_path, settings):
    service, url = start_service(tmp_path / "service.log", env=service_env(seeded_db, **settings))
    try:
        before = route_counts(url)
        result = run_scenario(
            # a short think time keeps most users mid-request when the spike ends
            ["spike", "--host", url, "--time-scale", "0.1", "--wait", "0.015,0.025"],
            tmp_path / "out",
            service_env(tmp_path),
        )  # fmt: skip
        after = route_counts(url)
    finally:
        service.stop()
    assert result.returncode in (0, 1), result.stderr
    served = {r: after[r] - before[r] - RUNNER_CHECKS.get(r, 0) for r in USER_ROUTES}
    reported = {e["name"]: e["requests"] for e in result.json("report.json")["endpoints"]}
    assert {r: reported.get(r, 0) for r in USER_ROUTES} == served

    log = requests_log(result.run_dir)
    assert len(log) == sum(served.values())
    if settings:  # the point of the slow service: users in flight when the spike ended
        phases = {p["role"]: p for p in result.json("run.json")["phases"]}
        spike_end = phases["spike"]["end"]
        sent = log["timestamp"].to_numpy()
        done = sent + log["response_time_ms"].to_numpy() / 1000.0
        in_flight = int(np.sum((sent < spike_end) & (done > spike_end)))
        assert in_flight >= 30, in_flight  # of 50 users, most of the 40 removed ones included
