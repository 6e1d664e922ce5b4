"""The I/O shell of ``reports build``: read a run directory, judge it, write every output.

``build_and_summarise`` is what a caller that prints the outcome (the run CLI) calls: it takes
the thresholds file's path, so that a bad one is the same one-line ``ReportInputError`` as any
other bad input.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from perf_lib.thresholds import Thresholds, ThresholdsError
from perf_lib.thresholds import resolve_thresholds as _thresholds_file
from reports.charts import render_all
from reports.errors import ReportInputError
from reports.exit_codes import exit_code, parse_fail_on
from reports.html import render_report
from reports.junit import render_junit
from reports.markdown import render_summary
from reports.report import ReportModel, make_report
from reports.rundir import load_run
from reports.terminal import render_terminal


@dataclass
class BuildResult:
    """What a build made: the report's content, the exit code, where it wrote, and the verdict
    table to print (``terminal``)."""

    report: dict[str, Any]
    exit_code: int
    html_path: Path
    run_dir: Path
    files: list[Path] = field(default_factory=list)
    terminal: str = ""


def load_thresholds(path: str | Path | None = None) -> Thresholds:
    """``path``; else ``thresholds.toml`` in the current directory; else the built-in table.

    A missing or malformed file raises ``ReportInputError`` (one line naming the file).
    """
    try:
        return _thresholds_file(path)
    except ThresholdsError as exc:
        raise ReportInputError(str(exc)) from None


def analyse_run(run_dir: str | Path, thresholds: Thresholds | None = None) -> ReportModel:
    """The report's content for ``run_dir``, without writing anything."""
    return make_report(load_run(run_dir), thresholds or load_thresholds())


def build_and_summarise(
    run_dir: str | Path, thresholds_path: str | Path | None = None, fail_on: str = "critical"
) -> BuildResult:
    """Build every report file of ``run_dir`` against the thresholds file ``thresholds_path``
    (default: ./thresholds.toml, else the built-in table); ``terminal`` is the table to print.

    Raises ``ReportInputError`` (one-line message) for bad input, a bad thresholds file included.
    """
    parse_fail_on(fail_on)
    return build_report(run_dir, load_thresholds(thresholds_path), fail_on)


def build_report(
    run_dir: str | Path, thresholds: Thresholds | None = None, fail_on: str = "critical"
) -> BuildResult:
    """Build report.json, report.html, the PNG charts, junit.xml and summary.md in ``run_dir``.

    Raises ``ReportInputError`` (one-line message) for bad input.
    """
    parse_fail_on(fail_on)
    run_dir = Path(run_dir)
    model = analyse_run(run_dir, thresholds)
    report = model.report
    charts = render_all(model)
    report["fail_on"] = fail_on
    report["exit_code"] = exit_code(report["verdict"], fail_on)
    report["charts"] = list(charts)
    report["files"] = {
        "html": "report.html",
        "json": "report.json",
        "junit": "junit.xml",
        "summary": "summary.md",
    }
    outputs: dict[str, bytes] = dict(charts)
    outputs["report.json"] = dump_json(report)
    outputs["report.html"] = render_report(report, charts).encode("utf-8")
    outputs["junit.xml"] = render_junit(report, fail_on)
    outputs["summary.md"] = render_summary(report).encode("utf-8")
    written = [write_file(run_dir / name, data) for name, data in outputs.items()]
    html_path = run_dir / "report.html"
    return BuildResult(
        report,
        report["exit_code"],
        html_path,
        run_dir,
        written,
        render_terminal(report, str(html_path)),
    )


def dump_json(document: Any) -> bytes:
    return orjson.dumps(document, option=orjson.OPT_INDENT_2 | orjson.OPT_SERIALIZE_NUMPY) + b"\n"


def write_file(path: Path, data: bytes) -> Path:
    """Write atomically (temp file + rename) so a reader never sees half a report."""
    temporary = path.with_name(f".{path.name}.tmp")
    try:
        temporary.write_bytes(data)
        temporary.replace(path)
    except OSError as exc:
        raise ReportInputError(f"{path}: cannot write ({exc.strerror})") from None
    return path
