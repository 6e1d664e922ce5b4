"""Run-to-run comparison: regressions flagged (exit 1), improvements reported, files written."""

from __future__ import annotations

import orjson
import pytest

from perf_lib.thresholds import Thresholds
from reports import ReportInputError, build_report, compare_runs
from reports.compare import change_pct, compare_reports
from tests.reports_helpers import HEALTH, HISTORICAL, spike_phases, spike_rows, write_run


def _run(path, factor=1.0, health_fail_every=None):
    rows = []
    for ts, name, rt, ok, *rest in spike_rows(7):
        if name == HISTORICAL:
            rt = rt * factor
        rows.append((ts, name, rt, ok, *rest))
    return write_run(path, rows, spike_phases())


@pytest.fixture
def base(tmp_path):
    return _run(tmp_path / "base")


def test_regression_is_flagged_and_exits_1(tmp_path, base):
    new = _run(tmp_path / "new", factor=1.2)
    result = compare_runs(base, new, max_regression_pct=10, thresholds=Thresholds())
    assert result.exit_code == 1
    c = result.comparison
    assert c["regressed"] is True
    endpoints = {row["name"]: row for row in c["endpoints"]}
    p95 = endpoints[HISTORICAL]["metrics"]["p95_ms"]
    assert p95["change_pct"] == 20.0 and p95["status"] == "regression"
    assert endpoints[HISTORICAL]["status"] == "regression"
    assert endpoints[HEALTH]["status"] == "unchanged"
    assert any(
        line.startswith(f"endpoint {HISTORICAL}: p95_ms +20.0 %") for line in c["regressions"]
    )
    assert {p["name"]: p["status"] for p in c["phases"]}["normal"] == "regression"
    assert [f.name for f in result.files] == ["compare.json", "compare.html", "compare.md"]
    assert orjson.loads((new / "compare.json").read_bytes()) == c
    assert "REGRESSION" in (new / "compare.html").read_text()
    assert (new / "compare.md").read_text().startswith("## 🔴 Run comparison: **REGRESSION**")


def test_improvement_is_reported_and_exits_0(tmp_path, base):
    faster = _run(tmp_path / "faster", factor=0.5)
    result = compare_runs(base, faster, thresholds=Thresholds())
    assert result.exit_code == 0
    assert result.comparison["regressions"] == []
    assert any(
        line.startswith(f"endpoint {HISTORICAL}: p95_ms -50.0 %")
        for line in result.comparison["improvements"]
    )
    assert "Improvements" in (faster / "compare.md").read_text()


def test_within_the_limit_is_no_regression(tmp_path, base):
    new = _run(tmp_path / "new", factor=1.2)
    assert compare_runs(base, new, max_regression_pct=25, thresholds=Thresholds()).exit_code == 0


def test_same_run_is_unchanged(tmp_path, base):
    result = compare_runs(base, _run(tmp_path / "same"), out_dir=tmp_path, thresholds=Thresholds())
    assert result.exit_code == 0
    assert {row["status"] for row in result.comparison["endpoints"]} == {"unchanged"}
    assert (tmp_path / "compare.json").exists()


def test_compare_from_saved_reports(tmp_path, base):
    new = _run(tmp_path / "new", factor=1.2)
    build_report(base, Thresholds())
    build_report(new, Thresholds())
    result = compare_runs(base / "report.json", new / "report.json", out_dir=tmp_path)
    assert result.exit_code == 1


def test_error_rate_change_uses_a_floor():
    assert change_pct("error_rate_pct", 0.0, 0.0) == 0.0
    assert change_pct("error_rate_pct", 0.0, 0.5) == pytest.approx(400.0 + 100.0)
    assert change_pct("error_rate_pct", 2.0, 2.1) == pytest.approx(5.0)
    assert change_pct("p95_ms", 0.0, 5.0) is None
    assert change_pct("p95_ms", 100.0, 111.0) == pytest.approx(11.0)


def test_endpoints_only_in_one_run():
    def report(names):
        return {
            "scenario": "s",
            "verdict": "healthy",
            "totals": {},
            "phases": [],
            "endpoints": [{"name": n, "p95_ms": 10.0, "error_rate_pct": 0.0} for n in names],
        }

    c = compare_reports(report(["/a", "/b"]), report(["/b", "/c"]))
    assert {row["name"]: row["status"] for row in c["endpoints"]} == {
        "/a": "only in base",
        "/b": "unchanged",
        "/c": "only in new",
    }


def test_bad_compare_input(tmp_path, base):
    with pytest.raises(ReportInputError, match="run directory not found"):
        compare_runs(base, tmp_path / "missing")
    (tmp_path / "x.json").write_text("[]")
    with pytest.raises(ReportInputError, match="not a report.json"):
        compare_runs(base, tmp_path / "x.json")


def test_out_dir_is_created_with_its_parents(tmp_path, base):
    target = tmp_path / "comparisons" / "today"
    result = compare_runs(base, _run(tmp_path / "new"), out_dir=target, thresholds=Thresholds())
    assert [f.parent for f in result.files] == [target] * 3
    assert all(f.is_file() for f in result.files)


def test_out_dir_that_is_a_file_is_bad_input(tmp_path, base):
    (tmp_path / "file").write_text("x")
    with pytest.raises(ReportInputError, match="not a directory"):
        compare_runs(base, base, out_dir=tmp_path / "file", thresholds=Thresholds())


@pytest.mark.e2e
@pytest.mark.concurrent
def test_comparison_and_its_rendering_import_one_way():
    import subprocess
    import sys

    code = (
        "import sys; import reports.comparison; "
        "assert not {'reports.compare', 'reports.compare_render', 'reports.html'} "
        "& set(sys.modules), sorted(m for m in sys.modules if m.startswith('reports')); "
        "import reports.compare_render; "
        "assert 'reports.compare' not in sys.modules, 'compare_render imports compare'"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
