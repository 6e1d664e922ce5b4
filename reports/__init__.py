"""Post-run analysis of a load-test run directory: verdict, report files, run comparison.

    from reports import build_and_summarise
    result = build_and_summarise("results/spike-20250101T000000Z", "thresholds.toml")
    print(result.terminal)

Names are imported on first use, so that ``python -m reports`` answers a bad command line
without first loading pandas and matplotlib.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from reports.build import (
        BuildResult,
        analyse_run,
        build_and_summarise,
        build_report,
        load_thresholds,
    )
    from reports.compare import CompareResult, compare_reports, compare_runs
    from reports.errors import ReportInputError
    from reports.terminal import render_terminal

_EXPORTS = {
    "BuildResult": "reports.build",
    "analyse_run": "reports.build",
    "build_and_summarise": "reports.build",
    "build_report": "reports.build",
    "load_thresholds": "reports.build",
    "CompareResult": "reports.compare",
    "compare_reports": "reports.compare",
    "compare_runs": "reports.compare",
    "ReportInputError": "reports.errors",
    "render_terminal": "reports.terminal",
}
__all__ = [
    "BuildResult",
    "CompareResult",
    "ReportInputError",
    "analyse_run",
    "build_and_summarise",
    "build_report",
    "compare_reports",
    "compare_runs",
    "load_thresholds",
    "render_terminal",
]


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'reports' has no attribute {name!r}")
    value = getattr(importlib.import_module(_EXPORTS[name]), name)
    globals()[name] = value
    return value
