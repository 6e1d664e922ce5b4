"""A live "Verdict" tab in Locust's web UI: each endpoint's level against the thresholds,
the overall verdict, and the reports of the tests run in it.

It uses Locust's own extension points: ``extended_tabs``/``extended_tables`` in the page's
template arguments, ``extended_stats`` added to the ``/stats/requests`` poll and routes of
its Flask app. The same content is served as JSON at ``/verdict`` for scripts. Levels use the
last ~10 s of response times (Locust's current percentiles), so the tab shows how the service
is doing now. Locust's tables show plain text, so a small script on the page shows the
overall verdict above the table and colours the levels as the HTML report does. Each test's
run directory (``scenarios.run_session``) is served under ``/kit-reports/``.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import requests
from flask import Response, abort, jsonify, redirect, request, send_file
from locust import events
from locust.env import Environment

from perf_lib.thresholds import Level, Thresholds, worst
from reports.palette import LEVEL_COLOURS
from scenarios import run_session
from scenarios.catalog import CAPACITY, CAPACITY_DEFAULT_STEP_S, CAPACITY_PAUSE_S
from scenarios.kit_reports import LAST_REPORT, PREFIX, report_url, served_file
from scenarios.locust_support import load_thresholds
from scenarios.progress import capacity_line
from scenarios.run_record import read_capacity, read_phase_log

TAB_KEY = "verdict"
VERDICT_URL = "/verdict"
SCRIPT = Path(__file__).with_name("templates") / "verdict_tab.js"
CACHE_PROBE_EVERY_S = 2.0

TABLE = [
    {"key": "name", "title": "Endpoint"},
    {"key": "verdict", "title": "Verdict"},
    {"key": "requests", "title": "Requests"},
    {"key": "avg_ms", "title": "Avg ms"},
    {"key": "p95_ms", "title": "p95 ms (now)"},
    {"key": "p99_ms", "title": "p99 ms (now)"},
    {"key": "error_rate_pct", "title": "Errors %"},
    {"key": "levels", "title": "Avg / p95 / p99 / errors"},
]


def endpoint_rows(entries: list[Any], thresholds: Thresholds) -> list[dict[str, Any]]:
    """One row per Locust stats entry with its metrics and their levels."""
    rows = []
    for entry in entries:
        if not entry.num_requests:
            continue
        p95 = _current_percentile(entry, 0.95)
        p99 = _current_percentile(entry, 0.99)
        values = {
            "avg_ms": round(entry.avg_response_time, 1),
            "p95_ms": p95,
            "p99_ms": p99,
            "error_rate_pct": round(100.0 * entry.fail_ratio, 2),
        }
        levels = thresholds.check(values, entry.name)
        rows.append(
            {
                "name": entry.name,
                "requests": entry.num_requests,
                **values,
                "verdict": worst(levels.values()).label.upper(),
                "levels": " / ".join(levels[m].label for m in values),
            }
        )
    return rows


def _current_percentile(entry: Any, fraction: float) -> float | None:
    value = entry.get_current_response_time_percentile(fraction)
    if value is None:
        value = entry.get_response_time_percentile(fraction)
    return None if value is None else float(value)


class CacheProbe:
    """The service's cache hit rate, fetched at most every few seconds."""

    def __init__(self) -> None:
        self.at = 0.0
        self.value: float | None = None

    def hit_rate(self, host: str | None) -> float | None:
        if host and time.monotonic() - self.at > CACHE_PROBE_EVERY_S:
            self.at = time.monotonic()
            try:
                cache = requests.get(f"{host}/api/v1/performance/cache", timeout=1.0).json()
                self.value = float(cache["cache"]["hit_rate_pct"])
            except (requests.RequestException, ValueError, KeyError, TypeError):
                self.value = None
        return self.value


def live_verdict(environment: Environment, thresholds: Thresholds, probe: CacheProbe) -> dict:
    """The tab's rows (endpoints, then the service), the overall verdict (None before the
    first request) and the URL of the last built report (None before the first)."""
    runner = environment.runner
    entries = sorted(runner.stats.entries.values(), key=lambda e: e.name) if runner else []
    rows = endpoint_rows(entries, thresholds)
    overall = worst(Level[r["verdict"]] for r in rows).label.upper() if rows else None
    hit_rate = probe.hit_rate(environment.host)
    cache = "unavailable" if hit_rate is None else f"cache hit rate {hit_rate:.1f} %"
    rows.append({"name": "Service", "verdict": overall or "-", "levels": cache})
    report = run_session.last_report()
    return {
        "overall": overall,
        "report": report_url(report) if report else None,
        "rows": rows,
        "capacity": capacity_progress(environment),
    }


def capacity_progress(environment: Environment) -> str | None:
    """The capacity search's progress line while the capacity shape runs a test (the step, its
    rate, the bracket, the time); None otherwise."""
    run_dir = run_session.current_run_dir(environment)
    if getattr(environment.shape_class, "scenario", None) != CAPACITY.name or run_dir is None:
        return None
    options = environment.parsed_options
    step_s = float(getattr(options, "capacity_step_s", CAPACITY_DEFAULT_STEP_S))
    step_s *= float(getattr(options, "time_scale", 1.0) or 1.0)
    answer = read_capacity(run_dir)
    return capacity_line(read_phase_log(run_dir), answer, time.time(), step_s + CAPACITY_PAUSE_S)


@events.init.add_listener
def _add_verdict_tab(environment: Environment, **_kwargs: Any) -> None:
    web_ui = environment.web_ui
    if web_ui is None:
        return
    thresholds = load_thresholds(getattr(environment.parsed_options, "thresholds", ""))
    probe = CacheProbe()
    script = f"<script>{SCRIPT.read_text(encoding='utf-8')}</script>"
    web_ui.template_args["extended_tabs"] = [{"title": "Verdict", "key": TAB_KEY}]
    web_ui.template_args["extended_tables"] = [{"key": TAB_KEY, "structure": TABLE}]
    web_ui.template_args["kit_verdict"] = {
        "url": VERDICT_URL,
        "marker": TABLE[-1]["title"],
        "colours": LEVEL_COLOURS,
    }
    app = web_ui.app

    @app.route(VERDICT_URL)
    @web_ui.auth_required_if_enabled
    def verdict() -> Response:
        return jsonify(live_verdict(environment, thresholds, probe))

    @app.route(LAST_REPORT)
    @web_ui.auth_required_if_enabled
    def last_report() -> Response:
        run_dir = run_session.last_report()
        if run_dir is None:
            abort(404, "no test's report has been built yet")
        return redirect(report_url(run_dir))

    @app.route(f"{PREFIX}/<name>/<file>")
    @web_ui.auth_required_if_enabled
    def run_file(name: str, file: str) -> Response:
        path = served_file(run_session.run_dirs(), name, file)
        if path is None:
            abort(404)
        return send_file(path)

    @app.after_request
    def extend_pages(response: Response) -> Response:
        if response.status_code != 200:
            return response
        if request.path == "/stats/requests":
            document = json.loads(response.get_data())
            rows = live_verdict(environment, thresholds, probe)["rows"]
            document["extended_stats"] = [{"key": TAB_KEY, "data": rows}]
            response.set_data(json.dumps(document))
        elif request.endpoint == "locust.index":
            page = response.get_data(as_text=True)
            response.set_data(page.replace("</body>", f"{script}</body>", 1))
        return response
