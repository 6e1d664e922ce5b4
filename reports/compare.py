"""Run-to-run comparison: per endpoint and per phase, regressions flagged, improvements shown.

A p95 regresses when it grows by more than ``max_regression_pct`` % of the base value. The
error rate is compared the same way, but against a base of at least 0.1 % (one failure in a
thousand), so that a base run with no failure at all does not turn a single stray failure into
an infinite regression; an error rate rising from 0 to 0.5 % is still +500 %.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from perf_lib.thresholds import Thresholds
from reports.errors import ReportInputError

FLAGGED = ("p95_ms", "error_rate_pct")
COMPARED = ("p50_ms", "p95_ms", "p99_ms", "avg_ms", "error_rate_pct", "rps")
ERROR_RATE_FLOOR_PCT = 0.1
DEFAULT_MAX_REGRESSION_PCT = 10.0


@dataclass
class CompareResult:
    comparison: dict[str, Any]
    exit_code: int
    files: list[Path] = field(default_factory=list)


def change_pct(metric: str, base: float | None, new: float | None) -> float | None:
    """Relative change of ``new`` against ``base`` in % (see the module's note on error rates)."""
    if base is None or new is None:
        return None
    if metric == "error_rate_pct":
        return (new - base) / max(base, ERROR_RATE_FLOOR_PCT) * 100.0
    if base == 0:
        return None  # no meaningful ratio against a zero base
    return (new - base) / base * 100.0


def compare_rows(
    base: dict[str, Any] | None, new: dict[str, Any] | None, limit_pct: float
) -> dict[str, Any]:
    """One endpoint's (or phase's) metrics side by side, with each flagged metric's status."""
    metrics = {}
    status = "unchanged"
    for metric in COMPARED:
        b = base.get(metric) if base else None
        n = new.get(metric) if new else None
        change = change_pct(metric, b, n)
        entry: dict[str, Any] = {"base": b, "new": n, "change_pct": _round(change)}
        if metric in FLAGGED and change is not None:
            if change > limit_pct:
                entry["status"] = "regression"
                status = "regression"
            elif change < -limit_pct:
                entry["status"] = "improvement"
                if status == "unchanged":
                    status = "improvement"
            else:
                entry["status"] = "unchanged"
        metrics[metric] = entry
    if base is None:
        status = "only in new"
    elif new is None:
        status = "only in base"
    return {
        "verdict": {
            "base": base.get("verdict") if base else None,
            "new": new.get("verdict") if new else None,
        },
        "status": status,
        "metrics": metrics,
    }


def compare_reports(
    base: dict[str, Any],
    new: dict[str, Any],
    max_regression_pct: float = DEFAULT_MAX_REGRESSION_PCT,
) -> dict[str, Any]:
    """The comparison document (compare.json)."""
    sections: dict[str, list[dict[str, Any]]] = {}
    for key in ("endpoints", "phases"):
        b_rows = {row["name"]: row for row in base.get(key, [])}
        n_rows = {row["name"]: row for row in new.get(key, [])}
        names = list(b_rows) + [name for name in n_rows if name not in b_rows]
        sections[key] = [
            {"name": name, **compare_rows(b_rows.get(name), n_rows.get(name), max_regression_pct)}
            for name in names
        ]
    totals = {
        "name": "whole run",
        **compare_rows(
            {**base["totals"], "verdict": base["verdict"]},
            {**new["totals"], "verdict": new["verdict"]},
            max_regression_pct,
        ),
    }
    regressions, improvements = [], []
    for kind, rows in (
        ("endpoint", sections["endpoints"]),
        ("phase", sections["phases"]),
        ("run", [totals]),
    ):
        for row in rows:
            for metric, entry in row["metrics"].items():
                if entry.get("status") == "regression":
                    regressions.append(_line(kind, row["name"], metric, entry))
                elif entry.get("status") == "improvement":
                    improvements.append(_line(kind, row["name"], metric, entry))
    notes = []
    if base.get("scenario") != new.get("scenario"):
        notes.append(f"different scenarios: {base.get('scenario')} vs {new.get('scenario')}")
    for label, report in (("base", base), ("new", new)):
        if report.get("partial"):
            notes.append(f"the {label} run is partial")
        if report.get("source") != "request log":
            notes.append(
                f"the {label} run has no request log: its percentiles are Locust's rounded ones"
            )
    return {
        "max_regression_pct": max_regression_pct,
        "regressed": bool(regressions),
        "base": _identity(base),
        "new": _identity(new),
        "totals": totals,
        "endpoints": sections["endpoints"],
        "phases": sections["phases"],
        "spike": {
            "degradation_pct": {
                "base": base.get("degradation_pct"),
                "new": new.get("degradation_pct"),
            },
            "recovery_seconds": {
                "base": base.get("recovery_seconds"),
                "new": new.get("recovery_seconds"),
            },
        },
        "regressions": regressions,
        "improvements": improvements,
        "notes": notes,
    }


def load_for_compare(path: str | Path, thresholds: Thresholds | None = None) -> dict[str, Any]:
    """A run's report content: analysed afresh from its data, or its saved report.json."""
    from reports.build import analyse_run  # the build pipeline is only needed here

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
    """Compare two runs; write compare.json, compare.html and compare.md (default: in ``new``)."""
    from reports.build import dump_json, write_file
    from reports.compare_render import render_compare_html, render_compare_md

    if not math.isfinite(max_regression_pct) or max_regression_pct < 0:
        raise ReportInputError(f"--max-regression-pct must be >= 0, not {max_regression_pct}")
    comparison = compare_reports(
        load_for_compare(base, thresholds), load_for_compare(new, thresholds), max_regression_pct
    )
    target = Path(out_dir) if out_dir is not None else Path(new)
    if target.is_file():
        target = target.parent
    if not target.is_dir():
        raise ReportInputError(f"{target}: output directory not found")
    files = [
        write_file(target / "compare.json", dump_json(comparison)),
        write_file(target / "compare.html", render_compare_html(comparison).encode("utf-8")),
        write_file(target / "compare.md", render_compare_md(comparison).encode("utf-8")),
    ]
    return CompareResult(comparison, 1 if comparison["regressed"] else 0, files)


def _read_report_json(path: Path) -> dict[str, Any]:
    try:
        document = orjson.loads(path.read_bytes())
    except (OSError, orjson.JSONDecodeError):
        raise ReportInputError(f"{path}: not a readable report.json") from None
    needed = {"scenario", "verdict", "totals", "endpoints", "phases"}
    if not isinstance(document, dict) or not needed <= set(document):
        raise ReportInputError(f"{path}: not a report.json (missing {', '.join(sorted(needed))})")
    return document


def _identity(report: dict[str, Any]) -> dict[str, Any]:
    return {
        "dir": report.get("run", {}).get("dir"),
        "scenario": report.get("scenario"),
        "verdict": report.get("verdict"),
        "requests": report.get("totals", {}).get("requests"),
        "generated_at": report.get("generated_at"),
    }


def _line(kind: str, name: str, metric: str, entry: dict[str, Any]) -> str:
    unit = " %" if metric.endswith("_pct") else " ms"
    return (
        f"{kind} {name}: {metric} {entry['change_pct']:+.1f} % "
        f"({_fmt(entry['base'])}{unit} -> {_fmt(entry['new'])}{unit})"
    )


def _fmt(value: float | None) -> str:
    return "n/a" if value is None else f"{value:,.2f}"


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 3)
