"""report.html: one self-contained page (CSS inline, charts as base64 PNGs) from a template."""

from __future__ import annotations

import base64
import datetime as dt
from pathlib import Path
from typing import Any

import jinja2

from reports import explain
from reports.capacity import rate_text
from reports.drift import MIN_T, RISE_LIMIT_PCT, RSS_TOLERANCE_PCT
from reports.numbers import count, num, seconds, signed
from reports.palette import LEVEL_COLOURS
from reports.server_series import MAX_CHARTED, METHOD

TEMPLATES = Path(__file__).with_name("templates")
CHART_ALT = {
    "capacity.png": "The capacity search's knee: corrected p50/p95/p99 of each step against its "
    "offered rate, the achieved rate on the right axis, held steps green, failed steps red, the "
    "p95 limits dashed",
    "latency.png": "Response time p50/p95/p99 over the run, phases shaded, p95 limits dashed",
    "throughput.png": "Throughput (requests/s) and users over the run",
    "errors.png": "Failures per second and error rate over the run",
    "endpoints.png": "p95 per endpoint coloured by verdict, with the p95 limits",
    "recovery.png": "Recovery after the spike: p95 per window against the back-to-normal limit",
    "server.png": "Server-side p95, the time that is not the server's, and cache hit rate",
    "server_series.png": "Server metrics sampled from Prometheus, one panel per series: counters "
    "as per-second rates, CPU seconds as % of one core, bytes in MiB, phases shaded",
    "drift.png": "p95 per window with its least-squares line, and the service's RSS over the run",
}
DRIFT_CHART = "drift.png"  # shown in the Drift section rather than among the other charts
CAPACITY_CHART = "capacity.png"  # shown in the Capacity section
SERIES_CHART = "server_series.png"
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
    env.filters["num"] = num
    env.filters["thousands"] = count
    env.filters["signed"] = signed
    env.filters["seconds"] = seconds
    env.filters["rate"] = rate_text
    env.globals["colours"] = LEVEL_COLOURS
    return env


def render_report(report: dict[str, Any], charts: dict[str, bytes]) -> str:
    """The HTML page for ``report`` with ``charts`` (file name -> PNG bytes) embedded."""
    started = report["run"].get("started")
    embedded = {
        name: {
            "name": name,
            "alt": _caption(name, report),
            "data": base64.b64encode(data).decode("ascii"),
        }
        for name, data in charts.items()
    }
    recovery = report.get("recovery")
    capacity = explain.capacity_block(report)
    return (
        environment()
        .get_template("report.html.j2")
        .render(
            r=report,
            reasons=explain.reasons(report),
            verdict_words=explain.verdict_words(report),
            limited=explain.generator_limited(report),
            limited_mark=explain.LIMITED_MARK,
            load_summary=explain.load_summary(report),
            open_run=report.get("model") == "open",
            corrected=isinstance(report["totals"].get("uncorrected"), dict),
            partial_sentence=explain.partial_sentence(report) if report.get("partial") else None,
            phase_causes=[explain.phase_cause(p) for p in report["phases"]],
            phase_drops=[explain.dropped_cell(p) for p in report["phases"]],
            degradation=explain.degradation(report),
            recovery_rule=explain.recovery_rule(
                recovery or {"limits": report["thresholds"].get("recovery")}
            ),
            tolerance=explain.tolerance_text(recovery) if recovery else None,
            baseline=explain.baseline_sentence(report),
            no_failures_chart="errors.png" not in charts and not report["totals"].get("failures"),
            started=_utc(started),
            charts=[c for name, c in embedded.items() if name not in (DRIFT_CHART, CAPACITY_CHART)],
            drift_chart=embedded.get(DRIFT_CHART),
            capacity=capacity,
            capacity_line=explain.capacity_line(report),
            capacity_header=explain.CAPACITY_HEADER,
            capacity_rows=explain.capacity_rows(capacity) if capacity else [],
            capacity_verdict=explain.capacity_verdict_sentence(capacity) if capacity else None,
            first_to_break=explain.first_to_break(capacity) if capacity else [],
            capacity_chart=embedded.get(CAPACITY_CHART),
            drift_rules=DRIFT_RULES,
            server_line=explain.server_not_sampled(report),
            server_figures=explain.has_server_figures(report.get("server")),
            series_method=METHOD,
        )
    )


def _caption(name: str, report: dict[str, Any]) -> str:
    """The chart's alt text and caption; the series chart's says which series it leaves out,
    the capacity chart's where the capacity line stands."""
    caption = CHART_ALT.get(name, name)
    healthy = (explain.capacity_block(report) or {}).get("healthy_rps")
    if name == CAPACITY_CHART and healthy is not None:
        held = rate_text(healthy, held=True)
        caption += f"; the vertical line is the highest rate held, {held} req/s"
    series = (report.get("server") or {}).get("series") or []
    if name == SERIES_CHART and len(series) > MAX_CHARTED:
        caption += (
            f". It shows the first {MAX_CHARTED} of {len(series)} series; the Server side "
            "table has every one"
        )
    return caption


def _utc(epoch: Any) -> str | None:
    if not isinstance(epoch, int | float):
        return None
    try:
        return dt.datetime.fromtimestamp(epoch, dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    except (OverflowError, OSError, ValueError):  # run.json's "started" is no real time
        return None
