"""wrk2's test of coordinated omission, on the kit: a service that stalls 500 ms every 5 s.

A tenth of the arrivals land in a stall, so the truth is a p95 near 250 ms and a p99 near
450 ms. The open model measures it; the closed model, whose users wait out the stall instead
of sending, reports a p95 far lower, and its report says what it may hide.
"""

from __future__ import annotations

import os

import orjson
import pytest

from scenarios.processes import start_service
from tests.e2e_helpers import run_scenario, service_env

pytestmark = [pytest.mark.e2e, pytest.mark.concurrent]

DURATION_S = "20"  # four stalls


@pytest.fixture(scope="module")
def stalling_service(seeded_db, tmp_path_factory):
    log = tmp_path_factory.mktemp("stall") / "service.log"
    env = service_env(seeded_db, fault_stall_ms="500", fault_stall_every_s="5")
    child, url = start_service(log, env=env)
    try:
        yield url
    finally:
        child.stop()


def report_of(args: list[str], out) -> dict:
    result = run_scenario(args, out, dict(os.environ), timeout=240)
    assert result.returncode in (0, 1), result.stderr
    assert result.run_dir is not None
    return orjson.loads((result.run_dir / "report.json").read_bytes())


def test_the_open_model_sees_the_stalls_and_the_closed_model_hides_them(stalling_service, tmp_path):
    common = ["sustained", "--duration", DURATION_S, "--host", stalling_service]
    opened = report_of([*common, "--model", "open", "--rate", "200"], tmp_path / "open")
    # three users hide the stalls as ten would, at a third of the load on a shared machine
    closed = report_of([*common, "--users", "3"], tmp_path / "closed")

    assert opened["model"] == "open"
    assert opened["totals"]["p95_ms"] >= 200
    assert opened["totals"]["p99_ms"] >= 400
    assert sum(p["dropped"] for p in opened["phases"]) == 0

    assert closed["model"] == "closed"
    assert closed["totals"]["p95_ms"] < opened["totals"]["p95_ms"] / 4  # far lower
    codes = [w["code"] for w in closed["warnings"]]
    assert "closed_model" in codes
    assert "closed_model" not in [w["code"] for w in opened["warnings"]]
