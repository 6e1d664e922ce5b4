"""The pure core: a checked run directory plus thresholds in, the report's content out.

Verdicts follow DESIGN.md: an endpoint is its worst metric; a phase is the worst of its
endpoints within that phase; the run is the worst of the endpoints (whole run), the phases
and, for a spike, the recovery.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from perf_lib.thresholds import METRICS, Level, Thresholds, worst
from reports import caveats
from reports.analysis import Analysis, analyse_requests
from reports.drift import Drift, measure_drift
from reports.fallback import analyse_locust, failure_rows, history_samples, users_series
from reports.phases import Phase, by_name, from_run_json, segment_by_users, whole_run
from reports.recovery import (
    CONSECUTIVE,
    WINDOW_S,
    Recovery,
    degradation_pct,
    exact_samples,
    find_recovery,
)
from reports.rundir import RunData
from reports.server import ServerSide, server_side

SCHEMA_VERSION = 1
ROW_FIELDS = (
    "requests",
    "failures",
    "error_rate_pct",
    "avg_ms",
    "p50_ms",
    "p95_ms",
    "p99_ms",
    "rps",
)


@dataclass
class ReportModel:
    """The report's JSON content and the analysis behind it (the charts need the series)."""

    report: dict[str, Any]
    analysis: Analysis
    recovery: Recovery | None
    server: ServerSide | None
    thresholds: Thresholds
    drift: Drift | None


def make_report(run: RunData, thresholds: Thresholds) -> ReportModel:
    """Analyse ``run`` and judge it against ``thresholds``."""
    phases, phases_note = resolve_phases(run)
    users = users_series(run.history) if run.history is not None else None
    if run.requests is not None:
        analysis = analyse_requests(run.requests, phases, users)
    else:
        assert run.stats is not None and run.history is not None
        analysis = analyse_locust(run.stats, run.history, phases, run.failures)
    if not analysis.top_errors and run.failures is not None:
        analysis.top_errors = failure_rows(run.failures)

    normal, spike = by_name(phases, "normal"), by_name(phases, "spike")
    spike_measured = normal is not None and spike is not None
    degradation = recovery = None
    if spike_measured:
        assert normal is not None and spike is not None
        table = analysis.phase_table
        degradation = degradation_pct(table["p95_ms"].iloc[normal], table["p95_ms"].iloc[spike])
        recovery = measure_recovery(run, analysis, normal, spike)
    server = server_side(analysis, run.requests, run.server_history)
    drift = measure_drift(run.scenario, analysis, run.requests, run.history, run.server_history)

    endpoints = [_judged(name, row, thresholds) for name, row in analysis.endpoints.iterrows()]
    phase_rows = [_phase(i, p, analysis, thresholds) for i, p in enumerate(phases)]
    levels = [Level.parse(e["verdict"]) for e in endpoints]
    levels += [Level.parse(p["verdict"]) for p in phase_rows]
    if recovery is not None:
        levels.append(recovery.level)
    verdict = worst(levels)

    report = {
        "schema_version": SCHEMA_VERSION,
        "scenario": run.scenario,
        "verdict": verdict.label,
        "partial": run.partial,
        "partial_reason": caveats.partial_reason(run) or None,
        "source": analysis.source,
        "run": _run_info(run, analysis),
        "totals": _numbers(analysis.totals, ROW_FIELDS),
        "thresholds": thresholds.to_dict(),
        "endpoints": endpoints,
        "phases": phase_rows,
        "degradation_pct": _num(degradation),
        "recovery_seconds": recovery.seconds if recovery else None,
        "recovery": _recovery(recovery),
        "server": _clean(server.summary) if server else None,
        "drift": _clean(drift.summary) if drift else None,
        "errors": analysis.top_errors,
        "warnings": caveats.collect(run, analysis, phases_note, recovery, spike_measured, drift),
        "generated_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    return ReportModel(report, analysis, recovery, server, thresholds, drift)


def resolve_phases(run: RunData) -> tuple[list[Phase], str | None]:
    """run.json's phases; else segmented from the user count; else one phase for everything."""
    problem = run.run_json_problem
    if problem is None:
        try:
            return from_run_json(run.meta), None
        except ValueError as exc:
            problem = str(exc)
    if run.history is not None:
        users = users_series(run.history)
        phases = segment_by_users(
            users["timestamp"].to_numpy(), users["users"].to_numpy(), run.scenario
        )
        if phases:
            names = ", ".join(p.name for p in phases)
            return phases, (
                f"{problem}: phases ({names}) were segmented from the user count in "
                "locust_stats_history.csv"
            )
    if run.requests is not None:
        ts = run.requests["timestamp"]
    else:
        assert run.history is not None
        ts = run.history["Timestamp"].sort_values()
    return whole_run(float(ts.iloc[0]), float(ts.iloc[-1]), run.scenario), (
        f"{problem}: the whole run is one phase"
    )


def measure_recovery(run: RunData, analysis: Analysis, normal: int, spike: int) -> Recovery | None:
    """Recovery after the spike, searched up to the end of the phase that follows it."""
    phases, table = analysis.phases, analysis.phase_table
    baseline_p95 = float(table["p95_ms"].iloc[normal])
    baseline_err = float(table["error_rate_pct"].iloc[normal])
    if not (math.isfinite(baseline_p95) and math.isfinite(baseline_err)):
        return None
    spike_end = phases[spike].end
    if spike + 1 < len(phases):
        search_end = phases[spike + 1].end
    elif run.requests is not None:
        search_end = float(run.requests["timestamp"].iloc[-1])
    else:
        search_end = float(analysis.t0 + analysis.series.index.max())
    if run.requests is not None:
        samples = exact_samples(
            run.requests["timestamp"].to_numpy(dtype=float),
            run.requests["response_time_ms"].to_numpy(dtype=float),
            ~run.requests["success"].to_numpy(dtype=bool),
            spike_end,
            search_end,
        )
        method = (
            f"exact p95 and error rate of the requests sent in [t, t + {WINDOW_S} s), "
            f"one sample per second after the spike; {CONSECUTIVE} consecutive samples needed"
        )
    else:
        assert run.history is not None
        samples = history_samples(run.history, spike_end, search_end)
        method = (
            "Locust's ~10 s windowed p95 (locust_stats_history.csv), one sample per second; "
            f"{CONSECUTIVE} consecutive samples needed"
        )
    return find_recovery(
        samples, baseline_p95, baseline_err, max(search_end - spike_end, 0.0), method
    )


def _judged(name: str, row: pd.Series, thresholds: Thresholds) -> dict[str, Any]:
    values = {m: _num(row.get(m)) for m in METRICS}
    checks = thresholds.check(values, endpoint=name)
    entry = {"name": name, **_numbers(row, ROW_FIELDS)}
    entry["verdict"] = worst(checks.values()).label
    entry["checks"] = {m: level.label for m, level in checks.items()}
    return entry


def _phase(i: int, phase: Phase, analysis: Analysis, thresholds: Thresholds) -> dict[str, Any]:
    row = analysis.phase_table.iloc[i] if i < len(analysis.phase_table) else pd.Series(dtype=float)
    block = analysis.phase_endpoints[i] if i < len(analysis.phase_endpoints) else pd.DataFrame()
    endpoints = [_judged(name, r, thresholds) for name, r in block.iterrows()]
    return {
        "name": phase.name,
        "start": phase.start,
        "end": phase.end,
        "duration_s": _num(phase.duration),
        "users": phase.users if phase.users is not None else _users_in(analysis, phase),
        **_numbers(row, ROW_FIELDS),
        "verdict": worst(Level.parse(e["verdict"]) for e in endpoints).label,
        "endpoints": endpoints,
    }


def _users_in(analysis: Analysis, phase: Phase) -> int | None:
    if analysis.users is None or analysis.users.empty:
        return None
    t = analysis.users["timestamp"]
    inside = analysis.users.loc[(t >= phase.start) & (t <= phase.end), "users"]
    return int(inside.max()) if len(inside) else None


def _recovery(recovery: Recovery | None) -> dict[str, Any] | None:
    if recovery is None:
        return None
    shown = recovery.samples
    if recovery.seconds is not None:
        cut = next(i for i, s in enumerate(shown) if s.offset_s == recovery.seconds)
        shown = shown[: cut + CONSECUTIVE]
    return {
        "status": recovery.status,
        "seconds": recovery.seconds,
        "verdict": recovery.level.label,
        "baseline_p95_ms": _num(recovery.baseline_p95_ms),
        "limit_p95_ms": _num(recovery.limit_p95_ms),
        "baseline_error_rate_pct": _num(recovery.baseline_error_rate_pct),
        "window_s": WINDOW_S,
        "consecutive": CONSECUTIVE,
        "searched_s": _num(recovery.searched_s),
        "method": recovery.method,
        "samples": [
            {
                "t": s.offset_s,
                "requests": s.requests,
                "failures": s.failures,
                "p95_ms": _num(s.p95_ms),
                "error_rate_pct": _num(s.error_rate_pct),
                "ok": s.ok,
            }
            for s in shown[:600]
        ],
    }


def _run_info(run: RunData, analysis: Analysis) -> dict[str, Any]:
    meta = run.meta
    return {
        "dir": str(run.run_dir),
        "host": meta.get("host"),
        "started": meta.get("started"),
        "ended": meta.get("ended"),
        "time_scale": meta.get("time_scale"),
        "duration_s": _num(analysis.span_s),
        "versions": meta.get("versions") if isinstance(meta.get("versions"), dict) else {},
        "request_files": run.request_files,
        "locust_html": "locust.html" if run.has_locust_html else None,
    }


def _numbers(row: Any, fields: tuple[str, ...]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key in fields:
        value = row.get(key) if hasattr(row, "get") else None
        out[key] = _int(value) if key in ("requests", "failures") else _num(value)
    return out


def _int(value: Any) -> int:
    number = _num(value)
    return int(round(number)) if number is not None else 0


def _num(value: Any, digits: int = 3) -> float | None:
    """Rounded for reading; NaN and missing values become None (null in JSON)."""
    if value is None:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    if not math.isfinite(number):
        return None
    return round(number, digits)


def _clean(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    if isinstance(value, float | np.floating):
        return _num(value)
    if isinstance(value, np.integer):
        return int(value)
    return value
