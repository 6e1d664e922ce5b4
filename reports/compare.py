"""``reports compare``: read two runs, compare them, write compare.json, .html and .md.

The comparison itself is pure (``reports.comparison``) and its rendering separate
(``reports.compare_render``); this module only does the reading and writing around them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from perf_lib.thresholds import Thresholds
from reports.build import analyse_run, dump_json, write_file
from reports.compare_render import render_compare_html, render_compare_md
from reports.comparison import (
    COMPARED,
    DEFAULT_MAX_REGRESSION_PCT,
    change_pct,
    compare_reports,
    compare_rows,
)
from reports.errors import ReportInputError

__all__ = [
    "COMPARED",
    "DEFAULT_MAX_REGRESSION_PCT",
    "CompareResult",
    "change_pct",
    "compare_reports",
    "compare_rows",
    "compare_runs",
    "load_for_compare",
]


@dataclass
class CompareResult:
    comparison: dict[str, Any]
    exit_code: int
    files: list[Path] = field(default_factory=list)


def load_for_compare(path: str | Path, thresholds: Thresholds | None = None) -> dict[str, Any]:
    """A run's report content: analysed afresh from its data, or its saved report.json."""
    path = Path(path)
    if path.is_file() and path.suffix == ".json":
        return _read_report_json(path)
    if not path.is_dir():
        raise ReportInputError(f"{path}: run directory not found")
    has_data = any(path.glob("requests*.csv")) or (path / "locust_stats.csv").exists()
    if not has_data and (path / "report.json").is_file():
        return _read_report_json(path / "report.json")
    return analyse_run(path, thresholds).report


def compare_runs(
    base: str | Path,
    new: str | Path,
    out_dir: str | Path | None = None,
    max_regression_pct: float = DEFAULT_MAX_REGRESSION_PCT,
    thresholds: Thresholds | None = None,
) -> CompareResult:
    """Compare two runs; write compare.json, compare.html and compare.md.

    They go to ``out_dir`` (created with its parents when missing), else into ``new``.
    """
    if not math.isfinite(max_regression_pct) or max_regression_pct < 0:
        raise ReportInputError(f"--max-regression-pct must be >= 0, not {max_regression_pct}")
    comparison = compare_reports(
        load_for_compare(base, thresholds), load_for_compare(new, thresholds), max_regression_pct
    )
    target = _output_dir(Path(new), None if out_dir is None else Path(out_dir))
    files = [
        write_file(target / "compare.json", dump_json(comparison)),
        write_file(target / "compare.html", render_compare_html(comparison).encode("utf-8")),
        write_file(target / "compare.md", render_compare_md(comparison).encode("utf-8")),
    ]
    return CompareResult(comparison, 1 if comparison["regressed"] else 0, files)


def _output_dir(new: Path, out_dir: Path | None) -> Path:
    """``out_dir``, made when missing; else the new run's directory (or report.json's)."""
    if out_dir is None:
        return new.parent if new.is_file() else new
    if out_dir.exists() and not out_dir.is_dir():
        raise ReportInputError(f"{out_dir}: not a directory")
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ReportInputError(f"{out_dir}: cannot create ({exc.strerror})") from None
    return out_dir


def _read_report_json(path: Path) -> dict[str, Any]:
    try:
        document = orjson.loads(path.read_bytes())
    except (OSError, orjson.JSONDecodeError):
        raise ReportInputError(f"{path}: not a readable report.json") from None
    needed = {"scenario", "verdict", "totals", "endpoints", "phases"}
    if not isinstance(document, dict) or not needed <= set(document):
        raise ReportInputError(f"{path}: not a report.json (missing {', '.join(sorted(needed))})")
    return document
