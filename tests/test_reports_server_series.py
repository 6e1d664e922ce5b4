"""A server side that may not be sampled, or be sampled as Prometheus series."""

from __future__ import annotations

import io
import json

import numpy as np
import pandas as pd
import pytest
from matplotlib.image import imread

from perf_lib.thresholds import Thresholds
from reports import (
    ReportInputError,
    analyse_run,
    build_and_summarise,
    compare_runs,
    render_terminal,
)
from reports.charts import server_series_chart
from reports.cli import main
from reports.html import render_report
from reports.markdown import render_summary
from reports.server_series import describe, span_value
from tests.reports_helpers import (
    START,
    block,
    constant_run,
    requests_frame,
    spike_phases,
    write_run,
)

MIB = 2**20
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
NOTE = "no --prometheus URL and no /api/v1/performance/summary at the target"
TWO_PHASES = [
    {"name": "calm", "start": START, "end": START + 10, "users": 5},
    {"name": "busy", "start": START + 10, "end": START + 20, "users": 10},
]


def healthy_run(tmp_path, **meta):
    return constant_run(tmp_path / "run", {"/health": (10.0, 200, 0)}, **meta)


@pytest.mark.parametrize(
    "content",
    [None, "", "timestamp,cache_hit_rate_pct,p95_ms\n", "timestamp,process_cpu_seconds_total\n"],
    ids=["absent", "empty", "reference header only", "series header only"],
)
def test_a_server_side_not_sampled_is_a_plain_line_not_an_error(tmp_path, content):
    run_dir = healthy_run(tmp_path)
    if content is not None:
        (run_dir / "server_history.csv").write_text(content)
    result = build_and_summarise(run_dir, fail_on="degraded")
    server = json.loads((run_dir / "report.json").read_text())["server"]
    assert (server["sampled"], server["sampled_from"], server["note"]) == (
        False,
        None,
        "server side not sampled",
    )
    assert (result.report["verdict"], result.exit_code) == ("healthy", 0)
    assert result.report["warnings"] == []  # information, not a warning
    assert "\nServer side not sampled.\n" in result.terminal
    assert "\nServer side not sampled.\n" in (run_dir / "summary.md").read_text()
    html = result.html_path.read_text()
    assert '<p id="server-not-sampled">Server side not sampled.</p>' in html
    assert "server_series.png" not in result.report["charts"]


def test_run_json_says_what_was_sampled_and_why_not(tmp_path):
    run_dir = healthy_run(tmp_path, server_source=None, server_note=NOTE)
    (run_dir / "server_history.csv").write_text("timestamp\n")
    result = build_and_summarise(run_dir)
    assert result.report["server"]["note"] == f"server side not sampled: {NOTE}"
    assert f"Server side not sampled: {NOTE}." in result.terminal
    assert f"Server side not sampled: {NOTE}." in result.html_path.read_text()

    told = "Prometheus http://127.0.0.1:8000/metrics"
    run_dir = healthy_run(tmp_path / "sampled", server_source=told, server_note=None)
    pd.DataFrame({"timestamp": START + np.arange(3.0), "up": [1, 1, 1]}).to_csv(
        run_dir / "server_history.csv", index=False
    )
    server = analyse_run(run_dir, Thresholds()).report["server"]
    assert (server["sampled"], server["sampled_from"], server["note"]) == (True, told, None)


def write_series(run_dir, **columns):
    """server_history.csv in the series format: 20 samples at START + k + 0.5 s, k = 0..19."""
    frame = pd.DataFrame({"timestamp": START + np.arange(20) + 0.5, **columns})
    frame.to_csv(run_dir / "server_history.csv", index=False)


@pytest.fixture
def series_run(tmp_path):
    """Two 10 s phases, calm then busy, and five Prometheus series sampled once a second.

    The sample at k lies in calm for k <= 9, in busy from k = 10; so the growth up to sample k
    belongs to calm for k <= 9 and to busy from k = 10 (that step straddles the boundary).
    """
    rows = block(START, 20, 5, lambda s, j, n: 10.0)
    run_dir = write_run(tmp_path / "run", rows, TWO_PHASES, scenario="calm-busy")
    k = np.arange(20)
    in_flight = np.where(k < 10, 2.0, 6.0)
    in_flight[[3, 15]] = np.nan  # absent those seconds: no sample, not a zero
    write_series(
        run_dir,
        market_api_requests_total=np.cumsum(np.where(k < 10, 10, 20)) - 10,  # 0, 10, ..., 90, 110
        process_cpu_seconds_total=np.cumsum(np.where(k < 10, 0.25, 0.5)),
        process_resident_memory_bytes=np.where(k < 10, 100, 300) * MIB,
        http_requests_in_flight=in_flight,
        go_gc_duration_seconds_count=np.full(20, np.nan),
    )
    return run_dir


def test_series_are_rates_and_means_per_phase(series_run):
    series = analyse_run(series_run, Thresholds()).report["server"]["series"]
    by_name = {s["name"]: s for s in series}
    assert list(by_name) == [
        "market_api_requests_total",
        "process_cpu_seconds_total",
        "process_resident_memory_bytes",
        "http_requests_in_flight",
        "go_gc_duration_seconds_count",
    ]

    def values(name):
        entry = by_name[name]
        return entry["overall"], [(p["phase"], p["value"]) for p in entry["phases"]]

    # calm: samples 0..9, 9 steps of 10 in 9 s; busy: samples 9..19, 10 steps of 20 in 10 s;
    # the run: samples 0..19, 90 + 200 in 19 s
    requests = by_name["market_api_requests_total"]
    assert (requests["kind"], requests["unit"]) == ("counter", "per second")
    assert values("market_api_requests_total") == (
        round(290 / 19, 3),
        [("calm", 10.0), ("busy", 20.0)],
    )
    # a quarter of a CPU second each second, then half: 25 % and 50 % of one core
    cpu = by_name["process_cpu_seconds_total"]
    assert (cpu["kind"], cpu["unit"]) == ("counter", "% of one core")
    assert values("process_cpu_seconds_total") == (
        round((9 * 25 + 10 * 50) / 19, 3),
        [("calm", 25.0), ("busy", 50.0)],
    )
    rss = by_name["process_resident_memory_bytes"]
    assert (rss["kind"], rss["unit"]) == ("gauge", "MiB")
    assert values("process_resident_memory_bytes") == (200.0, [("calm", 100.0), ("busy", 300.0)])
    # the two empty cells are left out of the means
    assert values("http_requests_in_flight") == (4.0, [("calm", 2.0), ("busy", 6.0)])
    assert by_name["go_gc_duration_seconds_count"]["kind"] == "counter"
    assert values("go_gc_duration_seconds_count") == (None, [("calm", None), ("busy", None)])
    assert "% of one core" in cpu["source"] and "growth" in cpu["source"]
    assert "mean of the samples" in rss["source"] and "MiB" in rss["source"]


def test_a_counter_restart_counts_its_new_value_as_growth():
    counter = describe("market_api_requests_total")
    t = np.array([0.0, 1.0, 2.0, 3.0])
    # 5 -> 8 (+3), a restart to 2 (+2 since the restart), 2 -> 4 (+2): 7 in 3 s
    assert span_value(t, np.array([5.0, 8.0, 2.0, 4.0]), counter, 0.0, 3.0) == pytest.approx(7 / 3)
    assert np.isnan(span_value(t[:1], np.array([5.0]), counter, 0.0, 3.0))  # one sample: no rate


def test_the_step_across_a_phase_boundary_belongs_to_the_later_phase():
    counter = describe("market_api_requests_total")
    t = np.arange(5.0) + 0.5
    v = np.array([0.0, 1.0, 2.0, 12.0, 13.0])
    # [0, 3]: samples 0.5 to 2.5, 2 in 2 s; [3, 5]: from 2.5 (the last before it) to 4.5, 11 in 2 s
    assert span_value(t, v, counter, 0.0, 3.0) == 1.0
    assert span_value(t, v, counter, 3.0, 5.0) == 5.5


def test_series_chart_draws_one_panel_per_series_in_its_unit(series_run):
    result = build_and_summarise(series_run)
    data = (series_run / "server_series.png").read_bytes()
    assert data.startswith(PNG_MAGIC) and imread(io.BytesIO(data), format="png").shape[0] > 100
    assert "server_series.png" in result.report["charts"]

    model = analyse_run(series_run, Thresholds())
    panels = [ax for ax in server_series_chart(model).axes if ax.get_visible()]
    titles = [ax.get_title(loc="left") for ax in panels]
    assert titles[:3] == [
        "market_api_requests_total (per second)",
        "process_cpu_seconds_total (% of one core)",
        "process_resident_memory_bytes (MiB)",
    ]
    assert len(panels) == 5
    rates = panels[0].lines[0].get_ydata()
    assert set(np.round(rates, 6)) == {10.0, 20.0}
    assert set(np.round(panels[2].lines[0].get_ydata(), 6)) == {100.0, 300.0}

    html = result.html_path.read_text()
    assert 'id="server-series"' in html and "of one core" in html
    assert "Server side sampled from Prometheus metrics" in html
    markdown = (series_run / "summary.md").read_text()
    assert "| `process_resident_memory_bytes` | MiB | 200.00 | 100.00 | 300.00 |" in markdown


def test_more_series_than_panels_are_cut_and_the_report_says_so(tmp_path):
    run_dir = write_run(tmp_path / "run", block(START, 20, 5, lambda s, j, n: 10.0), TWO_PHASES)
    write_series(run_dir, **{f"queue_{i}_depth": np.full(20, float(i)) for i in range(10)})
    result = build_and_summarise(run_dir)
    assert len(result.report["server"]["series"]) == 10
    model = analyse_run(run_dir, Thresholds())
    assert sum(ax.get_visible() for ax in server_series_chart(model).axes) == 8
    assert "the first 8 of 10 series" in result.html_path.read_text()


def test_a_column_that_is_no_prometheus_name_is_one_line(tmp_path):
    run_dir = healthy_run(tmp_path)
    (run_dir / "server_history.csv").write_text("timestamp,process cpu\n1700000000,1\n")
    with pytest.raises(ReportInputError) as caught:
        analyse_run(run_dir, Thresholds())
    message = str(caught.value)
    assert "\n" not in message and message.startswith(str(run_dir / "server_history.csv"))
    assert "'process cpu' is not a Prometheus metric name" in message


def test_series_with_a_text_cell_is_one_line(tmp_path):
    run_dir = healthy_run(tmp_path)
    (run_dir / "server_history.csv").write_text("timestamp,up\n1700000000,yes\n")
    with pytest.raises(ReportInputError, match=r"server_history.csv: column 'up': 'yes' on line 2"):
        analyse_run(run_dir, Thresholds())


@pytest.mark.parametrize("server_history", [None, "timestamp,cache_hit_rate_pct\n"])
def test_every_request_404_is_a_full_critical_report_that_exits_1(tmp_path, server_history):
    error = "HTTPError('404 Client Error: Not Found')"
    rows = [(START + i / 10, "/api/v1/quotes", 4.0, False, error) for i in range(1200)]
    frame = requests_frame(rows).assign(status_code=404)
    run_dir = write_run(tmp_path / "run", frame, spike_phases())
    if server_history is not None:
        (run_dir / "server_history.csv").write_text(server_history)

    result = build_and_summarise(run_dir)
    report = result.report
    assert (report["verdict"], result.exit_code) == ("critical", 1)
    (endpoint,) = report["endpoints"]
    assert (endpoint["error_rate_pct"], endpoint["checks"]["error_rate_pct"]) == (100.0, "critical")
    assert [p["verdict_from"]["metric"] for p in report["phases"]] == ["error_rate_pct"] * 3
    assert report["errors"] == [{"endpoint": "/api/v1/quotes", "message": error, "count": 1200}]
    assert report["server"]["sampled"] is False
    # A baseline that already failed has no normal to recover to: never a green recovery.
    assert report["recovery"] is None and report["recovery_seconds"] is None
    (unmeasured,) = [w for w in report["warnings"] if w["code"] == "recovery_unmeasured"]
    assert "no normal to recover to" in unmeasured["message"]
    for name in ("report.json", "report.html", "summary.md", "junit.xml", "latency.png"):
        assert (run_dir / name).stat().st_size > 0
    assert main(["build", str(run_dir)]) == 1
    assert main(["build", str(run_dir), "--fail-on", "never"]) == 0


def test_compare_reads_a_report_from_before_the_server_fields(tmp_path):
    old_run = healthy_run(tmp_path / "old")
    build_and_summarise(old_run)
    old = json.loads((old_run / "report.json").read_text())
    old["server"] = None  # a report.json written before ``sampled`` existed
    (old_run / "report.json").write_text(json.dumps(old))
    new_run = healthy_run(tmp_path / "new")
    outcome = compare_runs(old_run / "report.json", new_run)
    assert outcome.exit_code == 0 and not outcome.comparison["regressed"]


def test_a_report_from_before_the_server_fields_still_renders(tmp_path):
    report = analyse_run(healthy_run(tmp_path), Thresholds()).report
    report["server"] = None  # what a run without any server data gave before ``sampled``
    outputs = [render_report(report, {}), render_summary(report), render_terminal(report)]
    assert not any("Server side" in text for text in outputs)
