"""Threshold boundaries and verdict rules, checked through the whole report."""

from __future__ import annotations

import pytest

from perf_lib.thresholds import Thresholds
from reports import analyse_run, build_report
from reports.exit_codes import exit_code
from tests.reports_helpers import START, block, constant_run, write_run

# Only p95 matters here: avg and p99 limits far away.
P95_ONLY = Thresholds.from_dict(
    {
        "default": {
            "avg_ms": {"healthy": 10_000, "degraded": 20_000},
            "p99_ms": {"healthy": 10_000, "degraded": 20_000},
        }
    }
)


@pytest.mark.parametrize(
    ("p95", "level"),
    [(199.99, "healthy"), (200.0, "degraded"), (500.0, "degraded"), (500.01, "critical")],
)
def test_p95_boundaries(tmp_path, p95, level):
    run_dir = constant_run(tmp_path / "run", {"/x": (p95, 200, 0)})
    report = analyse_run(run_dir, P95_ONLY).report
    (endpoint,) = report["endpoints"]
    assert endpoint["p95_ms"] == p95
    assert endpoint["checks"]["p95_ms"] == level
    assert endpoint["verdict"] == level
    assert report["phases"][0]["verdict"] == level
    assert report["verdict"] == level


@pytest.mark.parametrize(
    ("failures", "rate", "level"),
    [
        (0, 0.0, "healthy"),
        (1, 0.5, "healthy"),
        (2, 1.0, "degraded"),
        (10, 5.0, "degraded"),
        (11, 5.5, "critical"),
    ],
)
def test_error_rate_boundaries(tmp_path, failures, rate, level):
    run_dir = constant_run(tmp_path / "run", {"/x": (10.0, 200, failures)})
    (endpoint,) = analyse_run(run_dir, Thresholds()).report["endpoints"]
    assert (endpoint["error_rate_pct"], endpoint["checks"]["error_rate_pct"]) == (rate, level)


@pytest.mark.parametrize(
    ("avg", "level"),
    [(99.9, "healthy"), (100.0, "degraded"), (300.0, "degraded"), (300.1, "critical")],
)
def test_avg_boundaries_with_default_table(tmp_path, avg, level):
    run_dir = constant_run(tmp_path / "run", {"/x": (avg, 200, 0)})
    (endpoint,) = analyse_run(run_dir, Thresholds()).report["endpoints"]
    assert endpoint["checks"]["avg_ms"] == level


def test_per_endpoint_override(tmp_path):
    thresholds = Thresholds.from_dict(
        {"endpoints": {"/slow": {"p95_ms": {"healthy": 300, "degraded": 600}}}}
    )
    run_dir = constant_run(tmp_path / "run", {"/slow": (250.0, 200, 0), "/fast": (250.0, 200, 0)})
    report = analyse_run(run_dir, thresholds).report
    levels = {e["name"]: e["checks"]["p95_ms"] for e in report["endpoints"]}
    assert levels == {"/fast": "degraded", "/slow": "healthy"}
    assert report["thresholds"]["endpoints"]["/slow"]["p95_ms"] == {"healthy": 300, "degraded": 600}


def test_endpoint_verdict_is_its_worst_metric(tmp_path):
    run_dir = constant_run(tmp_path / "run", {"/x": (150.0, 200, 12)})  # avg degraded, 6 % errors
    (endpoint,) = analyse_run(run_dir, Thresholds()).report["endpoints"]
    assert endpoint["checks"] == {
        "avg_ms": "degraded",
        "p95_ms": "healthy",
        "p99_ms": "healthy",
        "error_rate_pct": "critical",
    }
    assert endpoint["verdict"] == "critical"


def _spike(recovery_rt, spike_rt=lambda s, j, n: n % 100 + 1):
    rows = (
        block(START, 30, 10, lambda s, j, n: n % 100 + 1)
        + block(START + 30, 30, 10, spike_rt)
        + block(START + 60, 60, 10, recovery_rt)
    )
    phases = [
        {"name": "normal", "start": START, "end": START + 30, "users": 10},
        {"name": "spike", "start": START + 30, "end": START + 60, "users": 50},
        {"name": "recovery", "start": START + 60, "end": START + 120, "users": 10},
    ]
    return rows, phases


def test_a_phase_can_make_the_run_worse_than_its_endpoints(tmp_path):
    # a tenth of the spike's requests take 250 ms: its p95 is degraded, the whole run's is not
    rows, phases = _spike(
        lambda s, j, n: n % 100 + 1, spike_rt=lambda s, j, n: 250.0 if j == 0 else n % 100 + 1
    )
    report = analyse_run(write_run(tmp_path / "run", rows, phases), P95_ONLY).report
    assert {e["verdict"] for e in report["endpoints"]} == {"healthy"}
    assert [p["verdict"] for p in report["phases"]] == ["healthy", "degraded", "healthy"]
    assert report["recovery_seconds"] == 0
    assert report["verdict"] == "degraded"
    assert [p["verdict_from"] for p in report["phases"]] == [
        None,
        {"endpoint": "/api/v1/historical", "metric": "p95_ms", "value": 250.0},
        None,
    ]


def test_verdict_from_names_the_endpoint_and_metric_furthest_past_its_limit(tmp_path):
    # both endpoints are degraded in the one phase: /a by its p95 (250 ms, 1.25 x the 200 ms
    # healthy limit), /b by its error rate (3 %, 3 x the 1 % limit) and its p95 (210 ms)
    rows = [
        (START + i * 0.25, name, value, not (name == "/b" and i % 100 < 3), "HTTP 503")
        for i in range(400)
        for name, value in (("/a", 250.0), ("/b", 210.0))
    ]
    phases = [{"name": "steady", "start": START, "end": START + 100}]
    report = analyse_run(write_run(tmp_path / "run", rows, phases), P95_ONLY).report
    (phase,) = report["phases"]
    assert [(e["name"], e["verdict"]) for e in phase["endpoints"]] == [
        ("/a", "degraded"),
        ("/b", "degraded"),
    ]
    assert phase["verdict"] == "degraded"
    assert phase["verdict_from"] == {"endpoint": "/b", "metric": "error_rate_pct", "value": 3.0}


def test_a_critical_phase_is_set_by_what_crossed_the_degraded_limit(tmp_path):
    run_dir = constant_run(tmp_path / "run", {"/x": (150.0, 200, 12), "/y": (600.0, 200, 0)})
    (phase,) = analyse_run(run_dir, Thresholds()).report["phases"]
    assert phase["verdict"] == "critical"
    # /x: 6 % errors, 1.2 x the 5 % degraded limit; /y: p95 600 ms, 1.2 x 500 and avg 2 x 300
    assert phase["verdict_from"] == {"endpoint": "/y", "metric": "avg_ms", "value": 600.0}


@pytest.mark.parametrize(
    ("verdict", "fail_on", "code"),
    [
        ("healthy", "degraded", 0),
        ("degraded", "degraded", 1),
        ("critical", "degraded", 1),
        ("degraded", "critical", 0),
        ("critical", "critical", 1),
        ("critical", "never", 0),
    ],
)
def test_exit_code_follows_fail_on(verdict, fail_on, code):
    assert exit_code(verdict, fail_on) == code


def test_build_exit_code(tmp_path):
    run_dir = constant_run(tmp_path / "run", {"/x": (250.0, 200, 0)})  # degraded
    assert build_report(run_dir, Thresholds(), fail_on="critical").exit_code == 0
    assert build_report(run_dir, Thresholds(), fail_on="degraded").exit_code == 1
    assert build_report(run_dir, Thresholds(), fail_on="never").exit_code == 0


def test_default_thresholds_file_in_current_directory(tmp_path, monkeypatch):
    run_dir = constant_run(tmp_path / "run", {"/x": (250.0, 200, 0)})
    monkeypatch.chdir(tmp_path)
    assert analyse_run(run_dir).report["verdict"] == "degraded"  # built-in table
    (tmp_path / "thresholds.toml").write_text(
        "[default]\np95_ms = { healthy = 300, degraded = 600 }\n"
        "avg_ms = { healthy = 300, degraded = 600 }\n"
    )
    report = analyse_run(run_dir).report
    assert report["verdict"] == "healthy"
    assert report["thresholds"]["source"] == "thresholds.toml"
