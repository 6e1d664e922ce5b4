"""Why a verdict is what it is, in a few short lines shared by every output format."""

from __future__ import annotations

from typing import Any

METRIC_LABELS = {"avg_ms": "avg", "p95_ms": "p95", "p99_ms": "p99", "error_rate_pct": "error rate"}


def metric_text(metric: str, value: float | None) -> str:
    """``p95 612.3 ms`` or ``error rate 6.07 %``."""
    label = METRIC_LABELS.get(metric, metric)
    if value is None:
        return f"{label} n/a"
    return f"{label} {value:,.2f} %" if metric.endswith("_pct") else f"{label} {value:,.1f} ms"


def drivers(entry: dict[str, Any]) -> str:
    """The metrics of an endpoint entry that are at its verdict's level."""
    hits = [m for m, level in entry.get("checks", {}).items() if level == entry["verdict"]]
    return ", ".join(metric_text(m, entry.get(m)) for m in hits)


def reasons(report: dict[str, Any]) -> list[str]:
    """One line per part of the run that is not healthy, and the recovery outcome."""
    lines = []
    bad_endpoints = [e for e in report["endpoints"] if e["verdict"] != "healthy"]
    for entry in bad_endpoints:
        lines.append(f"Endpoint {entry['name']} is {entry['verdict']}: {drivers(entry)}.")
    for phase in report["phases"]:
        if phase["verdict"] == "healthy":
            continue
        worst = [e for e in phase["endpoints"] if e["verdict"] == phase["verdict"]]
        detail = "; ".join(f"{e['name']} {drivers(e)}" for e in worst[:3])
        lines.append(f"Phase {phase['name']} is {phase['verdict']}: {detail}.")
    recovery = report.get("recovery")
    if recovery:
        if recovery["seconds"] is not None:
            lines.append(
                f"Recovered {recovery['seconds']} s after the spike ({recovery['verdict']})."
            )
        else:
            lines.append("Not recovered after the spike (critical).")
    if not bad_endpoints and all(p["verdict"] == "healthy" for p in report["phases"]):
        lines.insert(0, "Every endpoint and phase is within the healthy limits.")
    return lines


def drift_line(drift: dict[str, Any]) -> str:
    """The drift section in one line: p95 and error-rate slopes, the RSS change, cache peak."""
    parts = [
        f"p95 {_fixed(drift['p95_first_window_ms'])} → {_fixed(drift['p95_last_window_ms'])} ms, "
        f"{_fixed(drift['p95_slope_ms_per_min'], sign=True)} ms/min"
        + (" (significant)" if drift["p95_slope_significant"] else ""),
        f"errors {_fixed(drift['error_rate_slope_pct_per_min'], 2, sign=True)} %/min",
    ]
    if drift["rss_start_mb"] is not None:
        parts.append(
            f"RSS {_fixed(drift['rss_start_mb'])} → {_fixed(drift['rss_end_mb'])} MB "
            f"({_fixed(drift['rss_change_pct'], sign=True)} %, "
            + ("flat)" if drift["rss_flat"] else "not flat)")
        )
    if drift["cache_size_max"] is not None:
        parts.append(f"cache size max {drift['cache_size_max']:,}")
    return "drift: " + "; ".join(parts)


def _fixed(value: float | None, digits: int = 1, sign: bool = False) -> str:
    if value is None:
        return "n/a"
    return f"{value:{'+' if sign else ''},.{digits}f}"
