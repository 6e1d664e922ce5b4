"""report.html: one self-contained page (CSS inline, charts as base64 PNGs) from a template."""

from __future__ import annotations

import base64
import datetime as dt
import functools
from pathlib import Path
from typing import Any

import jinja2

from reports.drift import MIN_T, RISE_LIMIT_PCT, RSS_TOLERANCE_PCT
from reports.explain import reasons

TEMPLATES = Path(__file__).with_name("templates")
CHART_ALT = {
    "latency.png": "Response time p50/p95/p99 over the run, phases shaded, p95 limits dashed",
    "throughput.png": "Throughput (requests/s) and users over the run",
    "errors.png": "Failures per second and error rate over the run",
    "endpoints.png": "p95 per endpoint coloured by verdict",
    "recovery.png": "Recovery after the spike: p95 per 3 s window against the normal p95 + 10 %",
    "server.png": "Server-side p95 and cache hit rate against the client p95",
    "drift.png": "p95 per window with its least-squares line, and the service's RSS over the run",
}
DRIFT_CHART = "drift.png"  # shown in the Drift section rather than among the other charts
#: The drift section's rules, as its note states them.
DRIFT_RULES = {"rise_pct": RISE_LIMIT_PCT, "min_t": MIN_T, "rss_pct": RSS_TOLERANCE_PCT}


def environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=jinja2.select_autoescape(["html", "j2"]),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["num"] = _num
    env.filters["thousands"] = _thousands
    env.filters["signed"] = functools.partial(_num, sign=True)
    return env


def render_report(report: dict[str, Any], charts: dict[str, bytes]) -> str:
    """The HTML page for ``report`` with ``charts`` (file name -> PNG bytes) embedded."""
    started = report["run"].get("started")
    embedded = {
        name: {
            "name": name,
            "alt": CHART_ALT.get(name, name),
            "data": base64.b64encode(data).decode("ascii"),
        }
        for name, data in charts.items()
    }
    return (
        environment()
        .get_template("report.html.j2")
        .render(
            r=report,
            reasons=reasons(report),
            started=_utc(started),
            charts=[c for name, c in embedded.items() if name != DRIFT_CHART],
            drift_chart=embedded.get(DRIFT_CHART),
            drift_rules=DRIFT_RULES,
        )
    )


def _num(value: Any, digits: int = 1, sign: bool = False) -> str:
    if value is None:
        return "–"
    return f"{float(value):{'+' if sign else ''},.{digits}f}"


def _thousands(value: Any) -> str:
    return "–" if value is None else f"{int(value):,}"


def _utc(epoch: Any) -> str | None:
    if not isinstance(epoch, int | float):
        return None
    try:
        return dt.datetime.fromtimestamp(epoch, dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    except (OverflowError, OSError, ValueError):  # run.json's "started" is no real time
        return None
