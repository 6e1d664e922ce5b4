"""The pure core: a checked run directory plus thresholds in, the report's content out.

An endpoint's verdict is its worst metric; a phase's is the worst of its endpoints within that
phase (``verdict_from`` names which endpoint and metric); the run's is the worst of the endpoints
(whole run), the phases and, when there is a spike, the recovery. Degradation and recovery are
measured by the phases' roles, whatever the phases are called; degradation is context only.

An open-model run's figures are latencies from each request's intended start (``open_model``);
each table then shows the percentiles measured from the actual send beside them
(``uncorrected``), each phase its offered and achieved rates and its drops, and ``generator``
says whether the load generator kept up. A generator that did not leaves the verdict as it is,
but every output marks it: the figures describe the generator as much as the service.

A capacity search's run (run.json's ``capacity`` block) pushes its steps past the knee on
purpose: its verdict is the capacity's (``capacity.verdict``), while each step keeps its own.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from perf_lib.thresholds import METRICS, Level, Limit, RecoveryLimits, Thresholds, worst
from reports import caveats
from reports.analysis import UNCORRECTED_COLUMNS, Analysis, analyse_requests, span_stats
from reports.capacity import read_capacity
from reports.drift import Drift, measure_drift
from reports.generator import Generator, measure_generator
from reports.numbers import as_float
from reports.open_model import FROM_INTENDED, FROM_SEND, FROM_SEND_OPEN
from reports.phases import Phase, by_role, from_run_json, segment_by_users, whole_run
from reports.recovery import (
    CONSECUTIVE,
    DEGRADATION_NOTE,
    WARMUP_METHOD,
    WINDOW_S,
    Recovery,
    baseline_window,
    degradation_pct,
    exact_samples,
    find_recovery,
)
from reports.run_format import MODEL_OPEN, ROLE_BASELINE, ROLE_RECOVERY, ROLE_SPIKE
from reports.rundir import RunData
from reports.server import ServerSide, server_side

SCHEMA_VERSION = 1
ERROR_RATE = "error_rate_pct"
#: A phase's dropped arrivals as a share of its arrivals (open model), in %.
DROPPED_PCT = "dropped_pct"
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
    server: ServerSide
    thresholds: Thresholds
    drift: Drift | None
    generator: Generator


@dataclass(frozen=True)
class Baseline:
    """The baseline phase's figures that a spike is measured against, warm-up left out."""

    phase: Phase
    start: float
    requests: int
    p95_ms: float
    error_rate_pct: float

    @property
    def warmup_s(self) -> float:
        return self.start - self.phase.start


@dataclass(frozen=True)
class Spike:
    """A run with a baseline and a spike phase: how much worse the spike was, and recovery."""

    baseline: Baseline
    spike: Phase
    spike_p95_ms: float
    degradation_pct: float | None
    recovery: Recovery | None
    limits: RecoveryLimits
    #: Why recovery was not measured, when it was not.
    unmeasured: str | None = None


def make_report(run: RunData, thresholds: Thresholds) -> ReportModel:
    """Analyse ``run`` and judge it against ``thresholds``."""
    phases, phases_note = resolve_phases(run)
    analysis = analyse_requests(run.requests, phases, run.users, run.source)
    spike = measure_spike(run, analysis, thresholds)
    recovery = spike.recovery if spike else None
    server = server_side(analysis, run)
    drift = measure_drift(analysis, run.requests, run.server_history, run.time_scale)
    generator = measure_generator(run, phases)
    open_run = run.model == MODEL_OPEN
    capacity = read_capacity(run.meta, run.scenario, run.partial)

    endpoints = [_judged(name, row, thresholds) for name, row in analysis.endpoints.iterrows()]
    phase_rows = [
        _phase(i, p, analysis, thresholds, open_run, generator.dropped_by_phase[i])
        for i, p in enumerate(phases)
    ]
    levels = [Level.parse(e["verdict"]) for e in endpoints]
    levels += [Level.parse(p["verdict"]) for p in phase_rows]
    if recovery is not None:
        levels.append(recovery.level)
    verdict = worst(levels)
    if capacity.block is not None:  # the steps past the knee fail by design
        verdict = Level.parse(capacity.block["verdict"])

    report = {
        "schema_version": SCHEMA_VERSION,
        "scenario": run.scenario,
        "verdict": verdict.label,
        "partial": run.partial,
        "partial_reason": caveats.partial_reason(run) or None,
        "source": analysis.source,
        "model": run.model,
        "latency_measured_from": _measured_from(open_run, analysis.corrected),
        "run": _run_info(run, analysis),
        "totals": {
            **_numbers(analysis.totals, ROW_FIELDS),
            "uncorrected": _uncorrected(analysis.totals),
        },
        "thresholds": thresholds.to_dict(),
        "endpoints": endpoints,
        "phases": phase_rows,
        "baseline": _baseline(spike.baseline) if spike else None,
        "degradation_pct": _num(spike.degradation_pct) if spike else None,
        "degradation": _degradation(spike) if spike else None,
        "recovery_seconds": recovery.seconds if recovery else None,
        "recovery": _recovery(recovery, spike.limits) if spike and recovery else None,
        "server": _clean(server.summary),
        "generator": _clean(generator.summary()),
        "drift": _clean(drift.summary) if drift else None,
        "capacity": capacity.block,
        "errors": analysis.top_errors,
        "warnings": [caveats.warning(code, text) for code, text in capacity.warnings]
        + caveats.collect(
            run,
            analysis,
            phases_note,
            recovery,
            spike.unmeasured if spike else None,
            drift,
            generator,
        ),
        "generated_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    return ReportModel(report, analysis, recovery, server, thresholds, drift, generator)


def resolve_phases(run: RunData) -> tuple[list[Phase], str | None]:
    """run.json's phases; else segmented from the user count; else one phase for everything."""
    problem = run.run_json_problem
    if problem is None:
        try:
            return from_run_json(run.meta), None
        except ValueError as exc:
            problem = str(exc)
    if run.users is not None:
        phases = segment_by_users(
            run.users["timestamp"].to_numpy(), run.users["users"].to_numpy(), run.scenario
        )
        if phases:
            names = ", ".join(p.name for p in phases)
            return phases, (
                f"The phases could not be read from run.json ({problem}), so the phases "
                f"({names}) were segmented from the user count in locust_stats_history.csv: "
                "their bounds are approximate."
            )
    ts = run.requests["timestamp"]
    return whole_run(float(ts.iloc[0]), float(ts.iloc[-1]), run.scenario), (
        f"The phases could not be read from run.json ({problem}) and there is no user count "
        "to segment, so the whole run is one phase: there are no per-phase figures, "
        "degradation or recovery."
    )


UNUSABLE_BASELINE = (
    "The baseline phase has no usable p95, so degradation and recovery cannot be measured. "
    "Check that requests were sent during the baseline phase."
)
BROKEN_BASELINE = (
    "The baseline phase already failed {:.1f} % of its requests (critical), so there is no "
    "normal to recover to: recovery is not measured."
)


def measure_spike(run: RunData, analysis: Analysis, thresholds: Thresholds) -> Spike | None:
    """Degradation and recovery, for a run with a baseline phase followed by a spike."""
    phases = analysis.phases
    first = by_role(phases, ROLE_BASELINE)
    spike = by_role(phases, ROLE_SPIKE, after=first) if first is not None else None
    if first is None or spike is None:
        return None
    start, end = baseline_window(phases[first].start, phases[first].end)
    figures = span_stats(run.requests, start, end)
    baseline = Baseline(
        phases[first],
        start,
        int(figures["requests"]),
        float(figures["p95_ms"]),
        float(figures["error_rate_pct"]),
    )
    spike_p95 = float(analysis.phase_table["p95_ms"].iloc[spike])
    limits = thresholds.recovery.scaled(run.time_scale)
    recovery, unmeasured = None, UNUSABLE_BASELINE
    if thresholds.level("error_rate_pct", baseline.error_rate_pct) is Level.CRITICAL:
        unmeasured = BROKEN_BASELINE.format(baseline.error_rate_pct)
    else:
        recovery = measure_recovery(run, analysis, baseline, spike, limits)
    return Spike(
        baseline,
        phases[spike],
        spike_p95,
        degradation_pct(baseline.p95_ms, spike_p95),
        recovery,
        limits,
        None if recovery is not None else unmeasured,
    )


def measure_recovery(
    run: RunData, analysis: Analysis, baseline: Baseline, spike: int, limits: RecoveryLimits
) -> Recovery | None:
    """Recovery after the spike, searched to the end of the recovery phase that follows it
    (to the last request when there is none); None without a baseline to go back to."""
    if not (math.isfinite(baseline.p95_ms) and math.isfinite(baseline.error_rate_pct)):
        return None
    phases = analysis.phases
    ts = run.requests["timestamp"].to_numpy(dtype=float)
    spike_end = phases[spike].end
    after = by_role(phases, ROLE_RECOVERY, after=spike)
    search_end = phases[after].end if after is not None else float(ts[-1])
    samples = exact_samples(
        ts,
        run.requests["response_time_ms"].to_numpy(dtype=float),
        ~run.requests["success"].to_numpy(dtype=bool),
        spike_end,
        search_end,
    )
    method = (
        f"p95 and error rate of the requests sent in [t, t + {WINDOW_S} s) ({analysis.source}), "
        f"one sample per second after the spike; {CONSECUTIVE} consecutive samples needed"
    )
    return find_recovery(
        samples,
        baseline.p95_ms,
        baseline.error_rate_pct,
        limits,
        max(search_end - spike_end, 0.0),
        method,
    )


def _judged(name: str, row: pd.Series, thresholds: Thresholds) -> dict[str, Any]:
    values = {m: _num(row.get(m)) for m in METRICS}
    checks = thresholds.check(values, endpoint=name)
    entry = {"name": name, **_numbers(row, ROW_FIELDS), "uncorrected": _uncorrected(row)}
    entry["verdict"] = worst(checks.values()).label
    entry["checks"] = {m: level.label for m, level in checks.items()}
    return entry


def _uncorrected(row: Any) -> dict[str, Any] | None:
    """The percentiles measured from the actual send, and how much larger the corrected p99 is;
    None when no latency was corrected (closed runs)."""
    if UNCORRECTED_COLUMNS["p99_ms"] not in row:
        return None
    figures = {key: _num(row.get(column)) for key, column in UNCORRECTED_COLUMNS.items()}
    corrected, measured = (as_float(row.get(c)) for c in ("p99_ms", UNCORRECTED_COLUMNS["p99_ms"]))
    ratio = corrected / measured if corrected is not None and measured else None
    return {**figures, "p99_ratio": _num(ratio)}


def _measured_from(open_run: bool, corrected: bool) -> str:
    if not open_run:
        return FROM_SEND
    return FROM_INTENDED if corrected else FROM_SEND_OPEN


def _phase(
    i: int,
    phase: Phase,
    analysis: Analysis,
    thresholds: Thresholds,
    open_run: bool,
    dropped: int | None,
) -> dict[str, Any]:
    row = analysis.phase_table.iloc[i] if i < len(analysis.phase_table) else pd.Series(dtype=float)
    block = analysis.phase_endpoints[i] if i < len(analysis.phase_endpoints) else pd.DataFrame()
    endpoints = [_judged(name, r, thresholds) for name, r in block.iterrows()]
    level = worst(Level.parse(e["verdict"]) for e in endpoints)
    drops = dropped_pct(row.get("requests"), dropped) if open_run else None
    level, source = _with_drops(
        level, verdict_from(endpoints, level, thresholds), drops, thresholds
    )
    return {
        "name": phase.name,
        "role": phase.role,
        "start": phase.start,
        "end": phase.end,
        "duration_s": _num(phase.duration),
        "users": phase.users if phase.users is not None else _users_in(analysis, phase),
        **_numbers(row, ROW_FIELDS),
        "offered_rps": _num(phase.rate) if open_run else None,
        "achieved_rps": _num(row.get("rps")),
        "dropped": dropped,
        DROPPED_PCT: _num(drops),
        "uncorrected": _uncorrected(row),
        "verdict": level.label,
        "verdict_from": source,
        "endpoints": endpoints,
    }


def verdict_from(
    endpoints: list[dict[str, Any]], level: Level, thresholds: Thresholds
) -> dict[str, Any] | None:
    """The endpoint and metric that set a phase's ``level``: of those at that level, the one
    furthest past the limit it crossed (relative to that limit). None when healthy."""
    if level is Level.HEALTHY:
        return None
    found: tuple[float, dict[str, Any]] | None = None
    for entry in endpoints:
        limits = thresholds.limits_for(entry["name"])
        for metric, label in entry["checks"].items():
            value = entry.get(metric)
            if label != level.label or value is None:
                continue
            excess = _excess(value, limits[metric], level)
            if found is None or excess > found[0]:
                found = (excess, {"endpoint": entry["name"], "metric": metric, "value": value})
    return found[1] if found else None


def _with_drops(
    level: Level, source: dict[str, Any] | None, drops: float | None, thresholds: Thresholds
) -> tuple[Level, dict[str, Any] | None]:
    """A phase's verdict and what set it, once its dropped arrivals are judged: they count
    against the error-rate limits, and name the verdict when they went furthest past them."""
    if drops is None:
        return level, source
    limit = thresholds.limits_for(None)[ERROR_RATE]
    drop_level = limit.level(drops)
    if drop_level is Level.HEALTHY or drop_level < level:
        return level, source
    if drop_level == level and source is not None:
        crossed = thresholds.limits_for(source["endpoint"])[source["metric"]]
        if _excess(source["value"], crossed, level) >= _excess(drops, limit, level):
            return level, source
    return drop_level, {"endpoint": None, "metric": DROPPED_PCT, "value": _num(drops)}


def _excess(value: float, limit: Limit, level: Level) -> float:
    """How far ``value`` went past the limit it crossed to reach ``level``, relative to it."""
    crossed = limit.healthy if level is Level.DEGRADED else limit.degraded
    return value / crossed if crossed > 0 else math.inf


def dropped_pct(requests: Any, dropped: int | None) -> float | None:
    """The share of a phase's arrivals that were dropped, in %: a dropped arrival is a request
    its client never got an answer to, so it is judged by the error-rate limits."""
    sent = as_float(requests) or 0.0
    if dropped is None or sent + dropped <= 0:
        return None
    return 100.0 * dropped / (sent + dropped)


def _users_in(analysis: Analysis, phase: Phase) -> int | None:
    if analysis.users is None or analysis.users.empty:
        return None
    t = analysis.users["timestamp"]
    inside = analysis.users.loc[(t >= phase.start) & (t <= phase.end), "users"]
    return int(inside.max()) if len(inside) else None


def _baseline(baseline: Baseline) -> dict[str, Any]:
    return {
        "phase": baseline.phase.name,
        "warmup_s": _num(baseline.warmup_s),
        "start": baseline.start,
        "end": baseline.phase.end,
        "requests": baseline.requests,
        "p95_ms": _num(baseline.p95_ms),
        "error_rate_pct": _num(baseline.error_rate_pct),
        "method": WARMUP_METHOD,
    }


def _degradation(spike: Spike) -> dict[str, Any]:
    return {
        "pct": _num(spike.degradation_pct),
        "baseline_p95_ms": _num(spike.baseline.p95_ms),
        "spike_p95_ms": _num(spike.spike_p95_ms),
        "judged": False,
        "note": DEGRADATION_NOTE,
    }


def _recovery(recovery: Recovery, limits: RecoveryLimits) -> dict[str, Any]:
    shown = recovery.samples
    if recovery.seconds is not None:
        cut = next(i for i, s in enumerate(shown) if s.offset_s == recovery.seconds)
        shown = shown[: cut + CONSECUTIVE]
    return {
        "status": recovery.status,
        "seconds": recovery.seconds,
        "verdict": recovery.level.label,
        "limits": {key: _num(value) for key, value in limits.to_dict().items()},
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
        "locustfile": _text(meta.get("locustfile")),
        "schedule": _text(meta.get("schedule")),
        "rate": _num(meta.get("rate")),
        "max_in_flight": _whole(meta.get("max_in_flight")),
        "arrivals": _text(meta.get("arrivals")),
        "duration_s": _num(analysis.span_s),
        "versions": meta.get("versions") if isinstance(meta.get("versions"), dict) else {},
        "request_files": run.request_files,
        "locust_html": "locust.html" if run.has_locust_html else None,
    }


def _text(value: Any) -> str | None:
    """A run.json string shown in the report; None for anything else."""
    return value if isinstance(value, str) and value else None


def _numbers(row: Any, fields: tuple[str, ...]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key in fields:
        value = row.get(key) if hasattr(row, "get") else None
        out[key] = _int(value) if key in ("requests", "failures") else _num(value)
    return out


def _whole(value: Any) -> int | None:
    """A run.json count shown in the report; None for anything that is not a whole number."""
    number = _num(value)
    return int(number) if number is not None and number.is_integer() else None


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
