"""Locust's CSVs rebuilt into a request frame: what is kept exactly, what is estimated, and
that the report built from it takes the same path as one from a request log."""

from __future__ import annotations

import csv

import numpy as np
import pandas as pd
import pytest

from reports import analyse_run, fallback
from reports.fallback import rebuild_requests
from reports.rundir import load_run
from tests.reports_helpers import spike_phases, spike_rows, write_run

T = 1_700_000_000


def history(rows):
    """Typed history rows: (t, name, total count, total failures, total avg, p50, p95, p99)."""
    return pd.DataFrame(
        [
            {
                "Timestamp": float(t),
                "User Count": 10.0,
                "Type": "" if name == "Aggregated" else "GET",
                "Name": name,
                "Requests/s": 0.0,
                "Failures/s": 0.0,
                "50%": p50,
                "95%": p95,
                "99%": p99,
                "Total Request Count": float(count),
                "Total Failure Count": float(failed),
                "Total Average Response Time": float(avg),
            }
            for t, name, count, failed, avg, p50, p95, p99 in rows
        ]
    )


def stats(rows):
    """Typed stats rows: (name, count, failures, avg, p50, p95, p99)."""
    return pd.DataFrame(
        [
            {
                "Type": "" if name == "Aggregated" else "GET",
                "Name": name,
                "Request Count": float(count),
                "Failure Count": float(failed),
                "Average Response Time": float(avg),
                "Requests/s": 1.0,
                "50%": p50,
                "95%": p95,
                "99%": p99,
            }
            for name, count, failed, avg, p50, p95, p99 in rows
        ]
    )


def failures(rows):
    return pd.DataFrame(
        [{"Method": "GET", "Name": n, "Error": e, "Occurrences": float(c)} for n, e, c in rows]
    )


def test_counts_come_from_the_cumulative_totals():
    frame = rebuild_requests(
        stats([("/x", 0, 0, 0, 10, 10, 10)]),
        history(
            [
                (T + 1, "/x", 10, 0, 10.0, 10, 10, 10),
                (T + 2, "/x", 30, 2, 10.0, 10, 10, 10),
                (T + 3, "/x", 5, 1, 10.0, 10, 10, 10),  # a stats reset: 5 since then
                (T + 1, "Aggregated", 10, 0, 10.0, 10, 10, 10),
            ]
        ),
        None,
    )
    seconds = np.floor(frame["timestamp"].to_numpy() - T).astype(int)
    assert np.bincount(seconds).tolist() == [10, 20, 5]
    assert (~frame["success"]).groupby(seconds).sum().tolist() == [0, 2, 1]
    assert frame["timestamp"].is_monotonic_increasing
    first = frame["timestamp"].to_numpy()[:10] - T
    np.testing.assert_allclose(
        first, np.arange(10) / 10 + 0.05, atol=1e-6
    )  # evenly over the second
    assert list(frame.columns) == ["timestamp", "name", "response_time_ms", "success", "exception"]


def test_a_seconds_times_follow_its_window_and_keep_its_mean():
    # 20 requests, window p50 20, p95 38, p99 40; Locust's exact mean of the second: 22.5
    frame = rebuild_requests(
        stats([]).reindex(columns=stats([("/x", 0, 0, 0, 1, 1, 1)]).columns),
        history(
            [(T + 1, "/x", 20, 0, 22.5, 20.0, 38.0, 40.0), (T + 1, "Aggregated", 0, 0, 0, 0, 0, 0)]
        ),
        None,
    )
    rt = frame["response_time_ms"].to_numpy()
    assert rt.mean() == pytest.approx(22.5)
    assert np.percentile(rt, 95) == pytest.approx(38.0, abs=1.0)
    assert np.median(rt) == pytest.approx(20.0, abs=1.5)
    assert np.all(np.diff(np.sort(rt)) >= 0) and rt.min() >= 0


@pytest.mark.parametrize(
    ("mean", "expected"),
    [
        (2.0, "scaled"),  # the window is stale: every time scaled down
        (200.0, "slowest"),  # one slow request the percentiles do not show
    ],
)
def test_a_mean_out_of_the_windows_reach_is_kept_exact(mean, expected):
    frame = rebuild_requests(
        stats([]).reindex(columns=stats([("/x", 0, 0, 0, 1, 1, 1)]).columns),
        history(
            [(T + 1, "/x", 10, 0, mean, 20.0, 30.0, 30.0), (T + 1, "Aggregated", 0, 0, 0, 0, 0, 0)]
        ),
        None,
    )
    rt = np.sort(frame["response_time_ms"].to_numpy())
    assert rt.mean() == pytest.approx(mean)
    if expected == "scaled":
        assert rt.max() < 20.0
    else:
        assert rt[:-1].max() <= 30.0 and rt[-1] > 1000.0


def test_locust_zero_percentiles_before_its_window_fills_are_missing():
    frame = rebuild_requests(
        stats([]).reindex(columns=stats([("/x", 0, 0, 0, 1, 1, 1)]).columns),
        history(
            [
                (T + 1, "/x", 10, 0, 14.0, 0.0, 0.0, 0.0),  # Locust: no window yet
                (T + 2, "/x", 20, 0, 14.0, 14.0, 20.0, 22.0),
                (T + 1, "Aggregated", 0, 0, 0, 0, 0, 0),
            ]
        ),
        None,
    )
    assert frame["response_time_ms"].to_numpy()[:10].min() > 0


def test_the_stats_file_adds_what_the_history_had_not_counted():
    frame = rebuild_requests(
        stats([("/x", 14, 1, 10.0, 10, 10, 10), ("/y", 3, 0, 50.0, 50, 50, 50)]),
        history(
            [(T + 1, "/x", 10, 0, 10.0, 10, 10, 10), (T + 1, "Aggregated", 10, 0, 10, 10, 10, 10)]
        ),
        None,
    )
    assert frame["name"].value_counts().to_dict() == {"/x": 14, "/y": 3}
    late = frame[frame["timestamp"] >= T + 1]
    assert len(late) == 7 and (~late["success"]).sum() == 1
    assert frame["response_time_ms"].mean() == pytest.approx((14 * 10 + 3 * 50) / 17)


def test_without_per_endpoint_history_the_stats_shares_name_the_requests():
    frame = rebuild_requests(
        stats(
            [
                ("/a", 30, 0, 10, 10, 10, 10),
                ("/b", 10, 0, 10, 10, 10, 10),
                ("Aggregated", 40, 0, 10, 10, 10, 10),
            ]
        ),
        history(
            [
                (T + 1, "Aggregated", 20, 0, 10.0, 10, 10, 10),
                (T + 2, "Aggregated", 40, 0, 10.0, 10, 10, 10),
            ]
        ),
        None,
    )
    assert frame["name"].value_counts().to_dict() == {"/a": 30, "/b": 10}
    first_second = frame[frame["timestamp"] < T + 1]["name"].value_counts().to_dict()
    assert first_second == {"/a": 15, "/b": 5}  # interleaved, not one endpoint after the other


def test_failure_messages_are_shared_by_occurrences():
    frame = rebuild_requests(
        stats([("/x", 0, 0, 0, 1, 1, 1)]),
        history(
            [(T + 1, "/x", 100, 40, 10.0, 10, 10, 10), (T + 1, "Aggregated", 0, 0, 0, 0, 0, 0)]
        ),
        failures([("/x", "HTTP 503", 30), ("/x", "timeout", 10), ("/gone", "x", 5)]),
    )
    messages = frame.loc[~frame["success"], "exception"].value_counts().to_dict()
    assert messages == {"HTTP 503": 30, "timeout": 10}
    assert (frame.loc[frame["success"], "exception"] == "").all()


def test_no_request_or_too_many_is_a_clear_error(monkeypatch):
    empty = history(
        [(T + 1, "/x", 0, 0, 0, None, None, None), (T + 1, "Aggregated", 0, 0, 0, 0, 0, 0)]
    )
    with pytest.raises(ValueError, match="Locust counted no request"):
        rebuild_requests(stats([("/x", 0, 0, 0, 1, 1, 1)]), empty, None)
    monkeypatch.setattr(fallback, "MAX_REBUILT_REQUESTS", 50)
    many = history([(T + 1, "/x", 51, 0, 1.0, 1, 1, 1), (T + 1, "Aggregated", 51, 0, 1, 1, 1, 1)])
    with pytest.raises(ValueError, match="Locust counted 51 requests, more than the 50"):
        rebuild_requests(stats([("/x", 0, 0, 0, 1, 1, 1)]), many, None)


# ---------------------------------------------------------------- through the report


def test_fallback_without_request_log(tmp_path):
    exact = analyse_run(write_run(tmp_path / "exact", spike_rows(7), spike_phases())).report
    run_dir = write_run(
        tmp_path / "run", spike_rows(7), spike_phases(), stale_by=3, requests_log=False
    )
    report = analyse_run(run_dir).report
    with (run_dir / "locust_stats.csv").open() as fh:
        locust_total = {row["Name"]: int(row["Request Count"]) for row in csv.DictReader(fh)}
    assert report["source"] == fallback.SOURCE
    assert locust_total["Aggregated"] == 1497  # stale: the history counted all 1,500
    assert report["totals"]["requests"] == 1500
    assert [p["requests"] for p in report["phases"]] == [300, 600, 600]
    assert [p["failures"] for p in report["phases"]] == [0, 60, 0]
    # means are exact: from Locust's cumulative averages
    assert [p["avg_ms"] for p in report["phases"]] == [p["avg_ms"] for p in exact["phases"]]
    # percentiles are estimates: within 10 % of the exact ones while the load is steady
    for mine, truth in zip(report["phases"][:2], exact["phases"][:2], strict=True):
        assert mine["p95_ms"] == pytest.approx(truth["p95_ms"], rel=0.1)
    for mine, truth in zip(report["endpoints"], exact["endpoints"], strict=True):
        assert mine["requests"] == truth["requests"]
        assert mine["avg_ms"] == pytest.approx(truth["avg_ms"])
        assert mine["p95_ms"] == pytest.approx(truth["p95_ms"], rel=0.1)
    # exactly 7 s; Locust's ~10 s window blurs it by up to half its length
    assert 7 <= report["recovery_seconds"] <= 12
    assert report["recovery"]["verdict"] == "healthy"
    codes = {w["code"]: w["message"] for w in report["warnings"]}
    assert "147 ms is stored as 150" in codes["fallback"]
    assert "recovery_lag" in codes


def test_a_rebuilt_run_takes_the_request_logs_path(tmp_path):
    """The report of a Locust-only run is the report of its rebuilt frame as a request log."""
    run_dir = write_run(tmp_path / "locust", spike_rows(7), spike_phases(), requests_log=False)
    rebuilt = load_run(run_dir).requests
    as_log = write_run(tmp_path / "log", spike_rows(7), spike_phases())
    rebuilt.to_csv(as_log / "requests.csv", index=False)
    locust, logged = analyse_run(run_dir).report, analyse_run(as_log).report

    def figures(report):
        skip = {"source", "warnings", "run", "generated_at", "recovery", "drift"}
        return {k: v for k, v in report.items() if k not in skip}

    assert figures(locust) == figures(logged)
    assert {k: v for k, v in locust["recovery"].items() if k != "method"} == {
        k: v for k, v in logged["recovery"].items() if k != "method"
    }
