"""The request log's figures, per endpoint and per phase, against synthetic runs whose every
figure is known in advance."""

from __future__ import annotations

import csv

import numpy as np

from reports import analyse_run
from tests.reports_helpers import (
    HEALTH,
    HISTORICAL,
    START,
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
