"""The analysis against synthetic runs whose every figure is known in advance."""

from __future__ import annotations

import csv

import numpy as np
import pandas as pd
import pytest

from reports import analyse_run
from tests.reports_helpers import (
    HEALTH,
    HISTORICAL,
    START,
    block,
    requests_frame,
    spike_phases,
    spike_rows,
    write_run,
)


def report_of(tmp_path, rows, phases=None, **kw):
    return analyse_run(write_run(tmp_path / "run", rows, phases, **kw)).report


def test_phase_figures_are_exact(tmp_path):
    rows = spike_rows(recover_at=7)
    report = report_of(tmp_path, rows, spike_phases())
    normal, spike, recovery = report["phases"]
    assert [p["name"] for p in report["phases"]] == ["normal", "spike", "recovery"]
    assert (normal["requests"], normal["failures"], normal["rps"]) == (300, 0, 10.0)
    assert (normal["p50_ms"], normal["p95_ms"], normal["p99_ms"]) == (50.5, 95.05, 99.01)
    assert normal["avg_ms"] == 50.5
    assert (spike["requests"], spike["failures"], spike["rps"]) == (600, 60, 20.0)
    assert (spike["p95_ms"], spike["error_rate_pct"]) == (285.15, 10.0)
    assert (recovery["requests"], recovery["p95_ms"]) == (600, 500.0)
    assert [p["users"] for p in report["phases"]] == [10, 50, 10]
    assert report["degradation_pct"] == 200.0
    assert (normal["start"], normal["end"], normal["duration_s"]) == (START, START + 30, 30.0)


def test_endpoint_figures_match_numpy(tmp_path):
    rows = spike_rows(recover_at=7)
    report = report_of(tmp_path, rows, spike_phases())
    frame = requests_frame(rows)
    by_name = {e["name"]: e for e in report["endpoints"]}
    assert list(by_name) == [HISTORICAL, HEALTH]
    for name, entry in by_name.items():
        rt = frame.loc[frame["name"] == name, "response_time_ms"].to_numpy()
        fails = int((frame.loc[frame["name"] == name, "success"] == 0).sum())
        assert entry["requests"] == len(rt) == 750
        assert entry["failures"] == fails
        assert entry["error_rate_pct"] == round(fails / len(rt) * 100, 3)
        for key, q in (("p50_ms", 50), ("p95_ms", 95), ("p99_ms", 99)):
            assert entry[key] == round(float(np.percentile(rt, q)), 3)
        assert entry["avg_ms"] == round(float(rt.mean()), 3)
        assert entry["rps"] == 6.25  # 750 requests over the 120 s of the phases
    assert by_name[HEALTH]["failures"] == 60
    assert report["totals"]["requests"] == 1500
    assert report["totals"]["failures"] == 60
    assert report["totals"]["p95_ms"] == round(
        float(np.percentile(frame["response_time_ms"], 95)), 3
    )


def test_totals_come_from_the_request_log_not_stale_locust_stats(tmp_path):
    run_dir = write_run(tmp_path / "run", spike_rows(), spike_phases(), stale_by=3)
    with (run_dir / "locust_stats.csv").open() as fh:
        locust_total = {row["Name"]: int(row["Request Count"]) for row in csv.DictReader(fh)}
    assert locust_total["Aggregated"] == 1497  # Locust's own CSV lags behind
    report = analyse_run(run_dir).report
    assert report["totals"]["requests"] == 1500
    assert {e["name"]: e["requests"] for e in report["endpoints"]} == {HISTORICAL: 750, HEALTH: 750}
    assert report["source"] == "request log"


@pytest.mark.parametrize(
    ("recover_at", "errors_until", "recovery_s", "seconds", "verdict"),
    [
        (0, 0, 60, 0, "healthy"),
        (7, 0, 60, 7, "healthy"),
        (7, 12, 60, 12, "healthy"),  # latency back at 7 s, errors only at 12 s
        (30, 0, 60, 30, "healthy"),
        (31, 0, 60, 31, "degraded"),
        (180, 0, 200, 180, "degraded"),
        (181, 0, 200, 181, "critical"),
    ],
)
def test_recovery_point(tmp_path, recover_at, errors_until, recovery_s, seconds, verdict):
    report = report_of(
        tmp_path, spike_rows(recover_at, recovery_s, errors_until), spike_phases(recovery_s)
    )
    assert report["recovery_seconds"] == seconds
    assert report["recovery"]["status"] == "recovered"
    assert report["recovery"]["verdict"] == verdict
    assert report["recovery"]["limit_p95_ms"] == round(95.05 * 1.1, 3)
    assert report["recovery"]["baseline_error_rate_pct"] == 0.0
    first = report["recovery"]["samples"][seconds]
    assert first == {
        "t": seconds,
        "requests": 30,
        "failures": 0,
        "p95_ms": 100.0,
        "error_rate_pct": 0.0,
        "ok": True,
    }
    if verdict == "critical":
        assert report["verdict"] == "critical"


def test_never_recovered_is_null_and_critical(tmp_path):
    report = report_of(tmp_path, spike_rows(recover_at=60), spike_phases())
    assert report["recovery_seconds"] is None
    assert report["recovery"]["status"] == "not recovered"
    assert report["recovery"]["verdict"] == "critical"
    assert report["verdict"] == "critical"


def test_two_healthy_seconds_at_the_very_end_are_not_a_recovery(tmp_path):
    report = report_of(tmp_path, spike_rows(recover_at=58), spike_phases())
    assert report["recovery_seconds"] is None
    assert [s["t"] for s in report["recovery"]["samples"] if s["ok"]] == [58, 59]


def test_seconds_without_requests_are_skipped_not_counted(tmp_path):
    rows = [r for r in spike_rows(recover_at=7) if not START + 68 <= r[0] < START + 70]
    report = report_of(tmp_path, rows, spike_phases())
    samples = [s["t"] for s in report["recovery"]["samples"]]
    assert 8 not in samples and 9 not in samples
    assert report["recovery_seconds"] == 7  # samples 7, 10, 11 are the three consecutive ones

    only_two = [r for r in spike_rows(recover_at=7) if r[0] < START + 69]
    report = report_of(tmp_path / "b", only_two, spike_phases())
    assert report["recovery_seconds"] is None  # samples 7 and 8 only: empty seconds don't count


def test_recovery_only_measured_with_normal_and_spike_phases(tmp_path):
    rows = block(START, 20, 10, lambda s, j, n: 10.0)
    report = report_of(tmp_path, rows, scenario="sustained")
    assert [p["name"] for p in report["phases"]] == ["sustained"]
    assert report["degradation_pct"] is None
    assert report["recovery_seconds"] is None and report["recovery"] is None


def test_time_scale_tenth_short_phases_still_report_and_warn(tmp_path):
    rows = (
        block(START, 3, 10, lambda s, j, n: n % 30 + 1)
        + block(START + 3, 3, 20, lambda s, j, n: 200.0 + n % 30)
        + block(START + 6, 6, 10, lambda s, j, n: 300.0 if s < 1 else n % 30 + 1)
    )
    phases = [
        {"name": "normal", "start": START, "end": START + 3, "users": 10},
        {"name": "spike", "start": START + 3, "end": START + 6, "users": 50},
        {"name": "recovery", "start": START + 6, "end": START + 12, "users": 10},
    ]
    report = report_of(tmp_path, rows, phases, time_scale=0.1)
    assert report["recovery_seconds"] == 1
    codes = {w["code"]: w["message"] for w in report["warnings"]}
    assert "normal (3.0 s), spike (3.0 s), recovery (6.0 s)" in codes["short_phase"]
    assert "few_samples" in codes


def test_no_request_after_the_spike(tmp_path):
    rows = [r for r in spike_rows() if r[0] < START + 60]
    report = report_of(tmp_path, rows, spike_phases()[:2])
    assert report["recovery_seconds"] is None
    assert "recovery_no_data" in {w["code"] for w in report["warnings"]}


def test_fallback_without_request_log(tmp_path):
    run_dir = write_run(
        tmp_path / "run", spike_rows(7), spike_phases(), stale_by=3, requests_log=False
    )
    report = analyse_run(run_dir).report
    with (run_dir / "locust_stats.csv").open() as fh:
        stats = {row["Name"]: row for row in csv.DictReader(fh)}
    assert report["source"] == "Locust stats"
    assert report["totals"]["requests"] == 1497  # Locust's (stale) figure: all there is
    for entry in report["endpoints"]:
        assert entry["requests"] == int(stats[entry["name"]]["Request Count"])
        assert entry["p95_ms"] == float(stats[entry["name"]]["95%"])
    # per-phase counts from the history's cumulative totals at the phase bounds
    assert [p["requests"] for p in report["phases"]] == [300, 600, 600]
    assert [p["failures"] for p in report["phases"]] == [0, 60, 0]
    # windowed percentiles, rounded as Locust stores them: 95.05 -> 95, 285.15 -> 290
    assert report["phases"][0]["p95_ms"] == 95.0
    assert report["phases"][1]["p95_ms"] == 290.0
    assert report["degradation_pct"] == round((290 / 95 - 1) * 100, 3)
    # Locust's 10 s window still holds slow requests until 17 s after the spike
    assert report["recovery_seconds"] == 17
    codes = {w["code"]: w["message"] for w in report["warnings"]}
    assert "147 ms is stored as 150" in codes["fallback"]
    assert "recovery_lag" in codes


def test_phases_segmented_from_user_count_without_run_json(tmp_path):
    report = report_of(tmp_path, spike_rows(7), spike_phases(), run_json=False)
    phases = report["phases"]
    assert [p["name"] for p in phases] == ["normal", "spike", "recovery"]
    assert [p["users"] for p in phases] == [10, 50, 10]
    assert (phases[1]["start"], phases[1]["end"]) == (START + 30, START + 60)
    assert report["recovery_seconds"] == 7
    codes = {w["code"]: w["message"] for w in report["warnings"]}
    assert codes["no_run_json"].startswith("no run.json: phases (normal, spike, recovery)")
    assert report["scenario"] == "run"  # no run.json and a directory name without a timestamp


def test_unreadable_run_json_is_a_warning(tmp_path):
    run_dir = write_run(tmp_path / "spike-20250101T120000Z", spike_rows(7), spike_phases())
    (run_dir / "run.json").write_text("{not json")
    report = analyse_run(run_dir).report
    assert report["scenario"] == "spike"  # from the directory name
    assert (
        "run.json is unreadable"
        in {w["code"]: w["message"] for w in report["warnings"]}["no_run_json"]
    )


def test_partial_run_from_run_json(tmp_path):
    report = report_of(
        tmp_path,
        spike_rows(7),
        spike_phases(),
        partial=True,
        partial_reason="interrupted by SIGINT",
    )
    assert report["partial"] is True
    assert report["partial_reason"] == "interrupted by SIGINT"
    assert report["warnings"][0] == {
        "code": "partial",
        "message": "partial run: interrupted by SIGINT",
    }


def test_truncated_last_line_is_dropped_and_marks_partial(tmp_path):
    run_dir = write_run(tmp_path / "run", spike_rows(7), spike_phases())
    with (run_dir / "requests.csv").open("a") as fh:
        fh.write(f"{START + 119.5},GET,/health,12.")  # a killed writer: no newline
    report = analyse_run(run_dir).report
    assert report["totals"]["requests"] == 1500
    assert report["partial"] is True
    assert "requests.csv: the last line was cut off" in report["partial_reason"]


def test_distributed_worker_logs_are_concatenated(tmp_path):
    run_dir = write_run(tmp_path / "run", spike_rows(7), spike_phases())
    frame = pd.read_csv(run_dir / "requests.csv")
    (run_dir / "requests.csv").unlink()
    frame.iloc[::2].to_csv(run_dir / "requests-worker1.csv", index=False)
    frame.iloc[1::2].to_csv(run_dir / "requests-worker2.csv", index=False)
    frame.iloc[:0].to_csv(run_dir / "requests-worker3.csv", index=False)  # an idle worker
    report = analyse_run(run_dir).report
    assert report["totals"]["requests"] == 1500
    assert report["recovery_seconds"] == 7
    assert report["run"]["request_files"] == [
        "requests-worker1.csv",
        "requests-worker2.csv",
        "requests-worker3.csv",
    ]


def test_failures_warning_lists_top_errors(tmp_path):
    report = report_of(tmp_path, spike_rows(7), spike_phases())
    assert report["errors"] == [
        {"endpoint": HEALTH, "message": "HTTPError('503 Server Error')", "count": 60}
    ]
    message = {w["code"]: w["message"] for w in report["warnings"]}["failures"]
    assert message.startswith("60 of 1,500 requests failed (4.00 %)")
    assert "HTTPError('503 Server Error') (x60)" in message


def test_few_samples_behind_p99(tmp_path):
    rows = block(START, 10, 5, lambda s, j, n: 10.0, name_of=lambda s, j: HEALTH)
    rows += block(START, 10, 20, lambda s, j, n: 10.0, name_of=lambda s, j: HISTORICAL)
    rows.sort(key=lambda r: r[0])
    report = report_of(tmp_path, rows, [{"name": "sustained", "start": START, "end": START + 10}])
    message = {w["code"]: w["message"] for w in report["warnings"]}["few_samples"]
    assert f"{HEALTH} (50)" in message
    assert HISTORICAL not in message.split(":")[1]  # 200 samples: enough


def test_load_generator_cpu_warning(tmp_path):
    run_dir = write_run(tmp_path / "run", spike_rows(7), spike_phases())
    (run_dir / "locust.log").write_text(
        "[2025-01-01 00:00:00,000] host/WARNING/root: CPU usage above 90%! This may constrain "
        "your throughput and may even give inconsistent response time measurements!\n"
    )
    codes = {w["code"] for w in analyse_run(run_dir).report["warnings"]}
    assert "load_generator_cpu" in codes


def test_server_side_from_request_log(tmp_path):
    report = report_of(tmp_path, spike_rows(7), spike_phases())
    server = report["server"]
    normal, spike, _ = server["phases"]
    assert normal == {
        "name": "normal",
        "client_p95_ms": 95.05,
        "server_p95_ms": 47.525,
        "non_server_ms": 47.525,
        "cache_hit_rate_pct": 70.0,
    }
    assert (spike["server_p95_ms"], spike["cache_hit_rate_pct"]) == (142.575, 75.0)
    assert server["source"]["server_p95"].startswith("Server-Timing")
    assert server["source"]["cache_hit_rate"].startswith("X-Cache")


def test_server_side_from_server_history(tmp_path):
    frame = requests_frame(spike_rows(7)).drop(columns=["x_cache", "server_ms"])
    run_dir = write_run(tmp_path / "run", frame, spike_phases())
    t = START + np.arange(120) + 0.5
    in_spike = (t >= START + 30) & (t < START + 60)
    pd.DataFrame(
        {
            "timestamp": t,
            "cache_hits": np.cumsum(np.where(in_spike, 5, 8)),
            "cache_misses": np.cumsum(np.where(in_spike, 5, 2)),
            "p95_ms": np.where(in_spike, 40.0, 12.0),
        }
    ).to_csv(run_dir / "server_history.csv", index=False)
    server = analyse_run(run_dir).report["server"]
    normal, spike, recovery = server["phases"]
    assert (normal["cache_hit_rate_pct"], spike["cache_hit_rate_pct"]) == (80.0, 50.0)
    assert (normal["server_p95_ms"], spike["server_p95_ms"], recovery["server_p95_ms"]) == (
        12.0,
        40.0,
        12.0,
    )
    assert spike["non_server_ms"] == round(285.15 - 40.0, 3)
    assert server["source"]["cache_hit_rate"].startswith("server_history.csv cache_hits")


def test_no_server_data_means_null(tmp_path):
    frame = requests_frame(spike_rows(7)).drop(columns=["x_cache", "server_ms"])
    assert report_of(tmp_path, frame, spike_phases())["server"] is None
