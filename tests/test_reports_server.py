"""The server's side: its own time, the time that is not its own, and the cache hit rate."""

from __future__ import annotations

import numpy as np
import pandas as pd

from reports import analyse_run
from tests.reports_helpers import START, requests_frame, spike_phases, spike_rows, write_run


def report_of(tmp_path, rows, phases=None, **kw):
    return analyse_run(write_run(tmp_path / "run", rows, phases, **kw)).report


def test_server_side_from_request_log(tmp_path):
    report = report_of(tmp_path, spike_rows(7), spike_phases())
    server = report["server"]
    normal, spike, _ = server["phases"]
    # spike_rows: server_ms is half of each response time, so the rest is the other half
    assert normal == {
        "name": "normal",
        "role": "baseline",
        "client_p95_ms": 95.05,
        "server_p95_ms": 47.525,
        "non_server_p50_ms": 25.25,
        "non_server_p95_ms": 47.525,
        "cache_hit_rate_pct": 70.0,
    }
    assert (spike["server_p95_ms"], spike["cache_hit_rate_pct"]) == (142.575, 75.0)
    assert server["source"]["server_p95"].startswith("Server-Timing")
    assert server["source"]["cache_hit_rate"].startswith("X-Cache")
    assert server["source"]["non_server"].startswith("response_time_ms - server_ms")


def test_non_server_time_is_a_percentile_of_each_requests_difference(tmp_path):
    # 100 requests of 101..200 ms: the first 50 spent all but 50 ms on the server, the others
    # all but 1 ms. So 50 % of the requests waited 1 ms outside the server, and 50 % 50 ms.
    rt = np.arange(101.0, 201.0)
    other = np.where(np.arange(100) < 50, 50.0, 1.0)
    rows = [
        (START + i * 0.3, "/x", float(rt[i]), True, "", "HIT", float(rt[i] - other[i]))
        for i in range(100)
    ]
    report = report_of(tmp_path, rows, [{"name": "steady", "start": START, "end": START + 30}])
    server = report["server"]
    (phase,) = server["phases"]
    assert (phase["non_server_p50_ms"], phase["non_server_p95_ms"]) == (25.5, 50.0)
    assert (server["non_server_p50_ms"], server["non_server_p95_ms"]) == (25.5, 50.0)
    # the difference of the two p95s is no percentile of anything: here it would say 1 ms
    assert round(phase["client_p95_ms"] - phase["server_p95_ms"], 3) == 1.0
    assert "non_server_ms" not in phase and "non_server_ms" not in server


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
    # without each request's server time, the time outside the server is unknown
    assert (spike["non_server_p50_ms"], spike["non_server_p95_ms"]) == (None, None)
    assert server["non_server_p95_ms"] is None and server["source"]["non_server"] is None
    assert server["source"]["cache_hit_rate"].startswith("server_history.csv cache_hits")
    # an old run.json says nothing of the sampler: the file's columns tell the reference API
    assert (server["sampled"], server["note"], server["series"]) == (True, None, None)
    assert server["sampled_from"].startswith("reference API /api/v1/performance/summary")


def test_no_server_data_means_null_figures_and_not_sampled(tmp_path):
    frame = requests_frame(spike_rows(7)).drop(columns=["x_cache", "server_ms"])
    server = report_of(tmp_path, frame, spike_phases())["server"]
    assert (server["sampled"], server["sampled_from"], server["note"], server["series"]) == (
        False,
        None,
        "server side not sampled",
        None,
    )
    assert server["source"] == {"server_p95": None, "cache_hit_rate": None, "non_server": None}
    assert server["server_p95_ms"] is None and server["cache_hit_rate_pct"] is None
    assert [p["server_p95_ms"] for p in server["phases"]] == [None, None, None]
