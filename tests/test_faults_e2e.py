"""Faults end to end: injected latency and errors, a vanishing database, a killed service,
and interruptions at start-up, mid-spike and during report building."""

from __future__ import annotations

import shutil
import signal
from pathlib import Path

import orjson
import pytest

from tests.e2e_helpers import (
    alive,
    descendants,
    in_phase,
    requests_log,
    route_counts,
    run_scenario,
    service_env,
    start_scenario,
    target_of,
    wait_until,
)

pytestmark = pytest.mark.e2e


HISTORICAL = "/api/v1/historical"


def only_run_dir(out: Path) -> Path:
    (run_dir,) = [p for p in out.iterdir() if p.is_dir()]
    return run_dir


@pytest.mark.parametrize(
    ("settings", "verdict", "exit_code", "decisive"),
    [
        ({"fault_db_latency_ms": "150"}, "degraded", 0, ("avg_ms", "degraded")),
        ({"fault_error_rate": "0.03"}, "degraded", 0, ("error_rate_pct", "degraded")),
        ({"fault_error_rate": "0.10"}, "critical", 1, ("error_rate_pct", "critical")),
    ],
    ids=["latency-150ms", "errors-3pct", "errors-10pct"],
)
def test_injected_faults_get_the_verdict_the_thresholds_give(
    seeded_db, tmp_path, settings, verdict, exit_code, decisive
):
    env = service_env(seeded_db, cache="off", fault_seed="7", **settings)
    result = run_scenario(["historical"], tmp_path, env)
    assert result.returncode == exit_code, result.stderr
    report = result.json("report.json")
    assert report["verdict"] == verdict
    historical = {e["name"]: e for e in report["endpoints"]}["/api/v1/historical"]
    metric, level = decisive
    assert historical["checks"][metric] == level
    assert historical["verdict"] == verdict


@pytest.mark.concurrent  # it waits on the service's own counts, not on the clock
def test_a_vanishing_database_shows_as_failures_in_the_spike_phase(seeded_db, tmp_path):
    db = tmp_path / "market.db"
    shutil.copy(seeded_db, db)
    out = tmp_path / "out"
    runner = start_scenario(["spike", "--time-scale", "0.25"], out, service_env(db))
    try:
        url = target_of(runner)
        wait_until(lambda: in_phase(out, "spike"), 60, "the spike phase")
        answered, _ = route_counts(url, HISTORICAL)
        wait_until(
            lambda: route_counts(url, HISTORICAL)[0] >= answered + 100, 30, "100 spike requests"
        )
        db.rename(tmp_path / "away.db")  # the outage: mid-spike...
        _, errors_before = route_counts(url, HISTORICAL)
        # 200 failures are several % of the spike's few thousand requests.
        wait_until(lambda: route_counts(url, HISTORICAL)[1] >= errors_before + 200, 30, "200 503s")
        (tmp_path / "away.db").rename(db)  # ...and back, well before the spike ends
        assert runner.proc.wait(timeout=120) in (0, 1)
    finally:
        runner.stop()
    run_dir = only_run_dir(out)
    report = orjson.loads((run_dir / "report.json").read_bytes())
    phases = {p["name"]: p for p in report["phases"]}
    assert phases["spike"]["error_rate_pct"] > 1
    assert phases["normal"]["error_rate_pct"] == 0
    log = requests_log(run_dir)
    failed = log[log["success"] == 0]
    assert set(failed["status_code"]) <= {200, 503}  # 503s, and /health saying "degraded"
    assert not (log["status_code"] == 500).any()
    recovery = orjson.loads((run_dir / "run.json").read_bytes())["phases"][2]
    late = log[log["timestamp"] > recovery["start"] + 2]
    assert late["success"].all()  # recovered without a restart
    history = (run_dir / "service.log").read_text()
    assert "Traceback" not in history


@pytest.mark.concurrent  # process handling: it holds on a busy machine
def test_a_killed_service_ends_the_run_partial_with_exit_2(seeded_db, tmp_path):
    out = tmp_path / "out"
    runner = start_scenario(["spike", "--time-scale", "0.5"], out, service_env(seeded_db))
    try:
        url = target_of(runner)
        wait_until(lambda: in_phase(out, "normal"), 60, "the normal phase")
        wait_until(lambda: route_counts(url, HISTORICAL)[0] >= 200, 60, "200 requests answered")
        (service,) = [
            p for p in descendants(runner.proc.pid) if "market_api" in " ".join(p.cmdline())
        ]
        service.send_signal(signal.SIGKILL)
        assert runner.proc.wait(timeout=90) == 2
        children = descendants(runner.proc.pid)
    finally:
        runner.stop()
    assert alive(children) == []
    run_dir = only_run_dir(out)
    run = orjson.loads((run_dir / "run.json").read_bytes())
    assert run["partial"] is True
    assert "service exited" in run["partial_reason"]
    report = orjson.loads((run_dir / "report.json").read_bytes())
    assert report["partial"] is True
    log_text = (out / "runner.log").read_text()
    assert "service exited" in log_text and "Traceback" not in log_text


@pytest.mark.concurrent  # process handling: it holds on a busy machine
@pytest.mark.parametrize("moment", ["start-up", "mid-spike", "report building"])
def test_sigint_at_any_moment_keeps_the_data_and_leaves_no_process(seeded_db, tmp_path, moment):
    out = tmp_path / "out"
    runner = start_scenario(["spike", "--time-scale", "0.1"], out, service_env(seeded_db))
    children: list = []
    try:
        if moment == "start-up":
            wait_until(lambda: out.is_dir() and any(p.is_dir() for p in out.iterdir()), 60, moment)
        elif moment == "mid-spike":
            wait_until(lambda: in_phase(out, "spike"), 60, "the spike phase")
        else:
            wait_until(lambda: any(out.glob("*/run.json")), 120, "run.json")
        children = descendants(runner.proc.pid)
        runner.proc.send_signal(signal.SIGINT)
        code = runner.proc.wait(timeout=90)
    finally:
        runner.stop()
    assert alive(children) == []
    log_text = (out / "runner.log").read_text()
    assert "Traceback" not in log_text
    run_dir = only_run_dir(out)
    assert code == 2
    if moment == "start-up":
        assert orjson.loads((run_dir / "run.json").read_bytes())["partial"] is True
        assert "interrupted" in log_text
    elif moment == "mid-spike":
        report = orjson.loads((run_dir / "report.json").read_bytes())
        assert report["partial"] is True
        assert len(requests_log(run_dir)) > 0
    else:
        assert "report building interrupted" in log_text
        assert len(requests_log(run_dir)) > 0 and (run_dir / "locust.html").exists()
