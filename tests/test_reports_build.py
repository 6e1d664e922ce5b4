"""The runner's entry point: build every report file and get the verdict table to print."""

from __future__ import annotations

import pytest

from reports import ReportInputError, build_and_summarise, render_terminal
from reports.build import load_thresholds
from tests.reports_helpers import constant_run


def test_build_and_summarise_writes_the_report_and_returns_the_table(tmp_path):
    run_dir = constant_run(tmp_path / "sustained-20250101T000000Z", {"/x": (250.0, 200, 0)})
    result = build_and_summarise(run_dir, None, "degraded")
    assert (result.report["verdict"], result.exit_code) == ("degraded", 1)
    assert result.terminal == render_terminal(result.report, str(run_dir / "report.html"))
    assert result.terminal.splitlines()[0].startswith("sustained: DEGRADED")
    assert {p.name for p in result.files} >= {"report.json", "report.html", "summary.md"}


def test_the_thresholds_file_is_a_path(tmp_path):
    run_dir = constant_run(tmp_path / "run", {"/x": (250.0, 200, 0)})
    lenient = tmp_path / "lenient.toml"
    lenient.write_text(
        "[default]\np95_ms = { healthy = 300, degraded = 600 }\n"
        "avg_ms = { healthy = 300, degraded = 600 }\n"
    )
    result = build_and_summarise(run_dir, lenient)
    assert result.report["verdict"] == "healthy"
    assert result.report["thresholds"]["source"] == str(lenient)


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (None, "thresholds file not found"),
        ("[recovery]\nhealthy_s = 999\n", "healthy_s 999 is above degraded_s 180"),
        ("[default\n", "not valid TOML"),
    ],
)
def test_a_bad_thresholds_file_is_bad_input(tmp_path, content, expected):
    run_dir = constant_run(tmp_path / "run", {"/x": (25.0, 200, 0)})
    path = tmp_path / "t.toml"
    if content is not None:
        path.write_text(content)
    with pytest.raises(ReportInputError) as caught:
        build_and_summarise(run_dir, path)
    assert expected in str(caught.value) and "\n" not in str(caught.value)
    with pytest.raises(ReportInputError, match=expected):
        load_thresholds(path)


def test_bad_input_before_anything_is_written(tmp_path):
    with pytest.raises(ReportInputError, match="run directory not found"):
        build_and_summarise(tmp_path / "nope", None)
    run_dir = constant_run(tmp_path / "run", {"/x": (25.0, 200, 0)})
    with pytest.raises(ReportInputError, match="unknown --fail-on level"):
        build_and_summarise(run_dir, None, "sometimes")
    assert not (run_dir / "report.json").exists()
