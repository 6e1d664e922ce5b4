"""The files a build writes: report.json, PNG charts, report.html, junit.xml, summary.md."""

from __future__ import annotations

import base64
import csv
import re
import xml.etree.ElementTree as ET

import orjson
import pytest

from perf_lib.thresholds import METRICS, Thresholds
from reports import build_report, render_terminal
from reports.junit import render_junit
from tests.reports_helpers import (
    HEALTH,
    HISTORICAL,
    copy_real_fixture,
    spike_phases,
    spike_rows,
    write_run,
)

PNG = b"\x89PNG\r\n\x1a\n"
ENDPOINT_FIELDS = {
    "name",
    "requests",
    "failures",
    "error_rate_pct",
    "avg_ms",
    "p50_ms",
    "p95_ms",
    "p99_ms",
    "rps",
    "verdict",
    "checks",
}
PHASE_FIELDS = {
    "name",
    "start",
    "end",
    "users",
    "requests",
    "rps",
    "avg_ms",
    "p95_ms",
    "p99_ms",
    "error_rate_pct",
    "verdict",
}


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    run_dir = write_run(
        tmp_path_factory.mktemp("out") / "spike-20250101T000000Z", spike_rows(7), spike_phases()
    )
    (run_dir / "locust.html").write_text("<html>locust</html>")
    return build_report(run_dir, Thresholds(), fail_on="critical")


def test_report_json_has_the_design_fields(built):
    on_disk = orjson.loads((built.run_dir / "report.json").read_bytes())
    assert on_disk == built.report
    for key in (
        "scenario",
        "verdict",
        "thresholds",
        "endpoints",
        "phases",
        "degradation_pct",
        "recovery_seconds",
        "server",
        "warnings",
        "partial",
    ):
        assert key in on_disk
    assert on_disk["scenario"] == "spike"
    assert on_disk["verdict"] == "critical"
    assert on_disk["exit_code"] == built.exit_code == 1
    assert all(set(e) >= ENDPOINT_FIELDS for e in on_disk["endpoints"])
    assert all(set(p) >= PHASE_FIELDS for p in on_disk["phases"])
    assert set(on_disk["endpoints"][0]["checks"]) == set(METRICS)
    assert on_disk["thresholds"]["default"]["p95_ms"] == {"healthy": 200, "degraded": 500}


def test_charts_are_pngs_and_embedded(built):
    charts = built.report["charts"]
    assert charts == [
        "latency.png",
        "throughput.png",
        "errors.png",
        "endpoints.png",
        "recovery.png",
        "server.png",
    ]
    html = built.html_path.read_text()
    embedded = re.findall(r'src="data:image/png;base64,([A-Za-z0-9+/=]+)"', html)
    assert len(embedded) == len(charts)
    for name, data in zip(charts, embedded, strict=True):
        png = (built.run_dir / name).read_bytes()
        assert png.startswith(PNG) and base64.b64decode(data) == png


def test_html_reads_as_a_report(built):
    html = built.html_path.read_text()
    assert 'data-verdict="critical"' in html
    assert "The run is critical" in html
    assert "Recovered 7 s after the spike (healthy; limits: within 30 s healthy" in html
    assert '<a id="locust-link" href="locust.html">' in html
    for text in (
        "normal",
        "spike",
        "recovery",
        HISTORICAL,
        HEALTH,
        "Thresholds used",
        "Server side",
        f"{built.report['degradation_pct']:+.1f} %",
    ):
        assert text in html
    assert 'src="http' not in html and "<script" not in html  # self-contained, static


def test_no_locust_link_without_locust_html(tmp_path):
    run_dir = write_run(tmp_path / "run", spike_rows(7), spike_phases())
    result = build_report(run_dir, Thresholds())
    assert "locust-link" not in result.html_path.read_text()
    assert result.report["run"]["locust_html"] is None


def test_junit_one_case_per_endpoint_and_metric(built):
    root = ET.parse(built.run_dir / "junit.xml").getroot()
    cases = root.findall("./testsuite/testcase")
    assert len(cases) == len(built.report["endpoints"]) * len(METRICS) == 8
    names = {(c.get("classname"), c.get("name")) for c in cases}
    assert (f"spike.{HEALTH}", "error_rate_pct") in names
    failed = {(c.get("classname"), c.get("name")) for c in cases if c.find("failure") is not None}
    assert failed == {(f"spike.{HEALTH}", "error_rate_pct")}  # 8 % errors: critical
    suite = root.find("testsuite")
    assert (suite.get("tests"), suite.get("failures")) == ("8", "1")
    props = {p.get("name"): p.get("value") for p in suite.iter("property")}
    assert props["verdict"] == "critical" and props["recovery_seconds"] == "7"


@pytest.mark.parametrize(("fail_on", "failures"), [("degraded", 7), ("critical", 1), ("never", 0)])
def test_junit_fails_at_the_fail_on_level(built, fail_on, failures):
    levels = [lvl for e in built.report["endpoints"] for lvl in e["checks"].values()]
    assert (levels.count("degraded"), levels.count("critical")) == (6, 1)
    root = ET.fromstring(render_junit(built.report, fail_on))
    assert len(root.findall(".//failure")) == failures
    assert root.find("testsuite").get("failures") == str(failures)


def test_summary_markdown(built):
    text = (built.run_dir / "summary.md").read_text()
    assert text.startswith("## 🔴 Load test `spike`: **CRITICAL**\n")
    degradation = built.report["degradation_pct"]
    assert f"Spike degradation: {degradation:+.1f} % (p95 " in text
    assert "Recovery: **7 s** (healthy; limits: within 30 s healthy, within 180 s degraded" in text
    assert "| normal | 10 | 300 | 10.0 | 50.5 | 95.0 | 99.0 | 0.00 | 🟢 healthy |  |" in text
    assert f"| `{HEALTH}` | 750 | 60 | 8.00 |" in text
    assert "### Warnings" in text and "60 of 1,500 requests failed" in text
    assert text.rstrip().endswith(f"`{built.run_dir}/report.html`")


def test_terminal_table(built):
    text = render_terminal(built.report, str(built.html_path))
    lines = text.splitlines()
    assert lines[0] == (
        "spike: CRITICAL  ·  1,500 requests, 4.00 % errors, p95 300.0 ms  ·  "
        "closed model, generator not checked"
    )
    spike = next(line for line in lines if line.startswith("phase spike"))
    assert spike.endswith(f"CRITICAL  {HEALTH} error rate 20.00 %")  # the verdict, and its cause
    assert f"spike degradation {built.report['degradation_pct']:+.1f} % (p95 " in text
    assert "recovery 7 s (HEALTHY; limits: within 30 s healthy, within 180 s degraded" in text
    assert lines[-1] == f"report: {built.html_path}"


def test_real_locust_run(tmp_path):
    run_dir = copy_real_fixture(tmp_path / "real")
    with (run_dir / "requests.csv").open() as fh:
        rows = list(csv.DictReader(fh))
    result = build_report(run_dir, Thresholds(), fail_on="never")
    report = result.report
    assert result.exit_code == 0
    assert report["source"] == "request log"
    assert report["totals"]["requests"] == len(rows)
    counts = {e["name"]: e["requests"] for e in report["endpoints"]}
    assert counts == {name: sum(r["name"] == name for r in rows) for name in counts}
    assert report["totals"]["failures"] == sum(r["success"] == "0" for r in rows)
    assert [p["name"] for p in report["phases"]] == ["normal", "spike", "recovery"]
    assert [p["users"] for p in report["phases"]] == [3, 9, 3]
    assert sum(p["requests"] for p in report["phases"]) + _outside(report) == len(rows)
    assert report["degradation_pct"] is not None and report["recovery"] is not None
    assert report["server"]["source"]["server_p95"].startswith("Server-Timing")
    assert report["run"]["locust_html"] == "locust.html"
    assert "short_phase" in {w["code"] for w in report["warnings"]}
    assert (run_dir / "junit.xml").exists() and (run_dir / "summary.md").exists()

    (run_dir / "requests.csv").unlink()  # the same run from Locust's CSVs alone
    with (run_dir / "locust_stats.csv").open() as fh:
        stats = {row["Name"]: row for row in csv.DictReader(fh)}
    fallback = build_report(run_dir, Thresholds(), fail_on="never").report
    assert fallback["source"].startswith("Locust stats")
    assert fallback["totals"]["requests"] == int(stats["Aggregated"]["Request Count"])
    # percentiles rebuilt from Locust's rounded, windowed ones: close to its own, not equal
    assert fallback["totals"]["p95_ms"] == pytest.approx(
        float(stats["Aggregated"]["95%"]), rel=0.05
    )
    assert "fallback" in {w["code"] for w in fallback["warnings"]}


def _outside(report) -> int:
    for w in report["warnings"]:
        if w["code"] == "outside_phases":
            return int(w["message"].split()[0].replace(",", ""))
    return 0
