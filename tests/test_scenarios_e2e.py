"""The run command end to end: real service, real Locust subprocess, real report."""

from __future__ import annotations

import re
import signal
import time

import pandas as pd
import pytest
import requests

from tests.e2e_helpers import (
    alive,
    descendants,
    in_phase,
    process_kinds,
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

RUN_FILES = {
    "locust_stats.csv", "locust_stats_history.csv", "locust_failures.csv",
    "locust_exceptions.csv", "locust.html", "requests.csv", "server_history.csv", "run.json",
    "report.json", "report.html", "junit.xml", "summary.md",
}  # fmt: skip


def test_spike_gives_a_complete_run_with_three_phases(seeded_db, tmp_path):
    result = run_scenario(["spike", "--time-scale", "0.1"], tmp_path, service_env(seeded_db))
    assert result.returncode == 0, result.stderr
    assert {p.name for p in result.run_dir.iterdir()} >= RUN_FILES
    assert list(result.run_dir.glob("*.png"))
    run = result.json("run.json")
    assert [(p["name"], p["users"]) for p in run["phases"]] == [
        ("normal", 10), ("spike", 50), ("recovery", 10)
    ]  # fmt: skip
    durations = [p["end"] - p["start"] for p in run["phases"]]
    assert durations == pytest.approx([3, 3, 6], abs=1.2)
    assert run["partial"] is False and run["time_scale"] == 0.1
    log = requests_log(result.run_dir)
    assert len(log) > 500 and log["success"].all()
    report = result.json("report.json")
    assert report["partial"] is False
    assert sum(e["failures"] for e in report["endpoints"]) == 0
    assert sum(e["requests"] for e in report["endpoints"]) == len(log)
    assert report["degradation_pct"] is not None
    # The verdict first (marked when the load generator limited the run).
    verdict = report["verdict"].upper()
    assert re.match(rf"spike: {verdict}( — generator-limited)?  ·", result.stdout)
    assert "report.html" in result.stdout
    assert "phase spike, 50 users" in result.stderr  # progress lines


@pytest.mark.concurrent
def test_baseline_makes_exactly_1000_requests_and_ends_by_itself(seeded_db, tmp_path):
    started = time.monotonic()
    result = run_scenario(["baseline"], tmp_path, service_env(seeded_db))
    assert result.returncode == 0, result.stderr
    assert time.monotonic() - started < 60
    log = requests_log(result.run_dir)
    assert len(log) == 1000
    assert log["name"].value_counts().to_dict() == {
        "/health": 250, "/api/v1/status": 250, "/api/v1/symbols": 250, "/api/v1/metrics": 250
    }  # fmt: skip
    assert sum(e["requests"] for e in result.json("report.json")["endpoints"]) == 1000


@pytest.mark.concurrent
def test_historical_makes_exactly_500_requests_as_the_service_counted(live_service, tmp_path):
    before = requests.get(f"{live_service}/api/v1/metrics", timeout=5).json()
    result = run_scenario(["historical", "--host", live_service], tmp_path, service_env(tmp_path))
    assert result.returncode == 0, result.stderr
    after = requests.get(f"{live_service}/api/v1/metrics", timeout=5).json()
    counted = after["routes"]["/api/v1/historical"]["count"]
    counted -= before["routes"].get("/api/v1/historical", {}).get("count", 0)
    log = requests_log(result.run_dir)
    historical = log[log["name"] == "/api/v1/historical"]
    assert len(historical) == 500 == counted
    assert historical["success"].all()
    endpoint = {e["name"]: e for e in result.json("report.json")["endpoints"]}
    assert endpoint["/api/v1/historical"]["requests"] == 500
    assert result.json("run.json")["host"] == live_service


@pytest.mark.concurrent  # a busier machine is only slower: still critical
def test_slow_database_without_cache_is_critical_and_exits_1(seeded_db, tmp_path):
    env = service_env(seeded_db, cache="off", fault_db_latency_ms="350")
    result = run_scenario(["historical"], tmp_path, env)
    assert result.returncode == 1, result.stderr
    report = result.json("report.json")
    assert report["verdict"] == "critical"
    historical = {e["name"]: e for e in report["endpoints"]}["/api/v1/historical"]
    assert historical["avg_ms"] > 350 and historical["checks"]["avg_ms"] == "critical"


@pytest.mark.concurrent  # completion and counts, not timing: it holds on a busy machine
def test_distributed_run_with_two_workers_completes_a_spike(seeded_db, tmp_path):
    result = run_scenario(["spike", "--time-scale", "0.1", "--processes", "2"], tmp_path,
                          service_env(seeded_db))  # fmt: skip
    assert result.returncode == 0, result.stderr
    worker_logs = sorted(result.run_dir.glob("requests-*.csv"))
    assert len(worker_logs) == 2
    log = requests_log(result.run_dir)
    assert log["success"].all() and len(log) > 300
    run = result.json("run.json")
    assert [p["users"] for p in run["phases"]] == [10, 50, 10] and run["processes"] == 2
    assert sum(e["requests"] for e in result.json("report.json")["endpoints"]) == len(log)


@pytest.mark.concurrent  # process handling: it holds on a busy machine
def test_ctrl_c_mid_run_leaves_a_partial_report_and_no_process(seeded_db, tmp_path):
    runner = start_scenario(["spike", "--time-scale", "0.5"], tmp_path, service_env(seeded_db))
    url = target_of(runner)
    wait_until(lambda: in_phase(tmp_path, "normal"), 60, "the normal phase")
    # Well into the normal phase: a few hundred requests answered.
    wait_until(lambda: route_counts(url, HISTORICAL)[0] >= 300, 60, "300 requests answered")
    children = descendants(runner.proc.pid)
    assert process_kinds(children) == {"market_api", "locust"}
    runner.proc.send_signal(signal.SIGINT)
    assert runner.proc.wait(timeout=90) == 2
    runner.stop()
    assert alive(children) == []
    (run_dir,) = [p for p in tmp_path.iterdir() if p.is_dir()]
    report = pd.read_json(run_dir / "report.json", typ="series")
    assert bool(report["partial"]) is True
    run = pd.read_json(run_dir / "run.json", typ="series")
    assert bool(run["partial"]) is True and "interrupted" in run["partial_reason"]
    assert (run_dir / "report.html").exists() and (run_dir / "locust.html").exists()
    assert len(requests_log(run_dir)) > 0


@pytest.mark.concurrent
@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["nosuch"], "invalid choice"),
        (["spike", "--bogus"], "unrecognized arguments: --bogus"),
        (["spike", "--time-scale", "-1"], "must be a positive number"),
        (["spike", "--users", "0"], "must be at least 1"),
        (["spike", "--wait", "0.5,0.1"], "think time"),
        (["spike", "--host", "ftp://x"], "must be an http"),
        (["spike", "--host", "http://127.0.0.1:9"], "cannot reach http://127.0.0.1:9"),
    ],
)
def test_bad_command_lines_exit_2_with_one_line(args, message, tmp_path):
    result = run_scenario(args, tmp_path / "out", service_env(tmp_path), timeout=60)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.concurrent
def test_an_unwritable_out_directory_exits_2(tmp_path, live_service):
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    result = run_scenario(["baseline", "--host", live_service], blocker, service_env(tmp_path))
    assert result.returncode == 2
    assert result.stderr.strip().splitlines()[-1].startswith("error: cannot create a run directory")
    assert "Traceback" not in result.stderr
