"""Why a verdict is what it is, in short phrases shared by every output format.

Every renderer reads the report through these helpers, so that the terminal, Markdown, HTML and
JUnit say the same thing, and so that a report.json written before a field existed still
renders (each helper falls back to what older reports hold).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from reports import capacity
from reports.numbers import NA, as_float, count, num, seconds, signed, span
from reports.recovery import DEGRADATION_NOTE

METRIC_LABELS = {
    "avg_ms": "avg",
    "p95_ms": "p95",
    "p99_ms": "p99",
    "error_rate_pct": "error rate",
    "dropped_pct": "dropped",
}
#: What ``verdict_from`` names when a phase's dropped arrivals set its verdict (no endpoint).
DROPPED_SOURCE = "arrivals"
#: What a report without ``recovery.limits`` was judged by.
FIXED_RECOVERY_LIMITS = {"healthy_s": 30, "degraded_s": 180, "tolerance_pct": 10}


def metric_text(metric: str | None, value: Any) -> str:
    """``p95 612.3 ms`` or ``error rate 6.07 %``."""
    name = metric or "value"
    label = METRIC_LABELS.get(name, name)
    if as_float(value) is None:
        return f"{label} {NA}"
    if name.endswith("_pct"):
        return f"{label} {num(value, 2)} %"
    return f"{label} {num(value)} ms"


def drivers(entry: dict[str, Any]) -> str:
    """The metrics of an endpoint entry that are at its verdict's level."""
    hits = [m for m, level in entry.get("checks", {}).items() if level == entry.get("verdict")]
    return ", ".join(metric_text(m, entry.get(m)) for m in hits)


def verdict_source(phase: dict[str, Any]) -> tuple[str, str] | None:
    """``("/api/v1/historical", "p95 612.3 ms")``, or ``("arrivals", "dropped 12.50 %")``: what
    set a phase's verdict; None if healthy.

    ``verdict_from`` names it; a report without that field is read from the phase's endpoints
    (the first endpoint at the phase's level, and its first metric at that level).
    """
    verdict = phase.get("verdict")
    if verdict in (None, "healthy"):
        return None
    source = phase.get("verdict_from")
    if isinstance(source, dict) and (source.get("endpoint") or source.get("metric")):
        where = source.get("endpoint") or DROPPED_SOURCE
        return str(where), metric_text(source.get("metric"), source.get("value"))
    for entry in phase.get("endpoints") or []:
        if entry.get("verdict") != verdict:
            continue
        metric = next((m for m, lv in entry.get("checks", {}).items() if lv == verdict), None)
        return str(entry["name"]), metric_text(metric, entry.get(metric or ""))
    return None


def phase_cause(phase: dict[str, Any]) -> str | None:
    """``/api/v1/historical p95 612.3 ms``: ``verdict_source`` as one phrase."""
    source = verdict_source(phase)
    return None if source is None else " ".join(source)


def reasons(report: dict[str, Any]) -> list[str]:
    """One line per part of the run that is not healthy, and the recovery outcome; first, when
    the load generator did not keep up, the sentence that says what that means. A capacity
    run's are its answer and where its verdict comes from: its failing steps are no problem."""
    block = capacity_block(report)
    if block is not None:
        lines = [_sentence(capacity.answer(block)), capacity_verdict_sentence(block)]
        limited = generator_sentence(report)
        return [limited, *lines] if limited else lines
    lines = []
    bad_endpoints = [e for e in report["endpoints"] if e["verdict"] != "healthy"]
    for entry in bad_endpoints:
        lines.append(f"Endpoint {entry['name']} is {entry['verdict']}: {drivers(entry)}.")
    for phase in report["phases"]:
        cause = phase_cause(phase)
        if cause is not None:
            lines.append(f"Phase {phase['name']} is {phase['verdict']}, set by {cause}.")
    recovery = report.get("recovery")
    if recovery:
        lines.append(recovery_sentence(recovery) + ".")
    if not bad_endpoints and all(p["verdict"] == "healthy" for p in report["phases"]):
        lines.insert(0, "Every endpoint and phase is within the healthy limits.")
    limited = generator_sentence(report)
    return [limited, *lines] if limited else lines


def capacity_block(report: dict[str, Any]) -> dict[str, Any] | None:
    """report.json's ``capacity`` block; None for any other run (and reports from before it)."""
    block = report.get("capacity")
    return block if isinstance(block, dict) else None


def capacity_line(report: dict[str, Any]) -> str | None:
    """The capacity search's answer in one line (``capacity.answer``); None for other runs."""
    block = capacity_block(report)
    return None if block is None else capacity.answer(block)


def capacity_verdict_sentence(block: dict[str, Any]) -> str:
    """Where a capacity run's verdict comes from, and why its failing steps do not count."""
    return (
        f"The verdict comes from the capacity: {block['verdict_reason']}. The search pushes "
        "the rate past the service's limit on purpose, so the steps that failed are its "
        "measurement, not problems."
    )


#: The columns of a capacity search's step table.
CAPACITY_HEADER = (
    "rate/s",
    "rep",
    "outcome",
    "p95 ms",
    "p99 ms",
    "achieved/s",
    "dropped",
    "level",
)


def capacity_rows(block: dict[str, Any]) -> list[list[str]]:
    """One row of ``CAPACITY_HEADER`` per step, in the order the search ran them."""
    return [
        [
            capacity.rate_text(step["rate"]),
            "–" if step["repetition"] is None else str(step["repetition"]),
            str(step["outcome"]),
            num(step["p95_ms"]),
            num(step["p99_ms"]),
            num(step["achieved_rps"]),
            count(step["dropped"]),
            str(step["level"] or "–"),
        ]
        for step in block["steps"]
    ]


def first_to_break(block: dict[str, Any]) -> list[str]:
    """``/api/v1/historical at 175.2 req/s: p95 212 ms (degraded)``: each endpoint (or the
    arrivals) in the order they broke."""
    lines = []
    for entry in block["first_to_break"]:
        where = entry["endpoint"] or DROPPED_SOURCE
        shown = dict(entry, endpoint=None)
        level = f" ({entry['level']})" if entry["level"] and entry["metric"] else ""
        lines.append(
            f"{where} at {capacity.rate_text(entry['rate'])} req/s: "
            f"{capacity.break_text(shown)}{level}"
        )
    return lines


#: The marker beside the verdict of a run whose load generator did not keep up.
LIMITED_MARK = "generator-limited"


def generator_limited(report: dict[str, Any]) -> bool:
    """Whether the load generator fell behind (False for a report from before ``generator``)."""
    generator = report.get("generator")
    return isinstance(generator, dict) and generator.get("limited") is True


def verdict_words(report: dict[str, Any]) -> str:
    """``HEALTHY``, or ``HEALTHY — generator-limited``: never a plain verdict when the load
    generator did not keep up."""
    words = str(report["verdict"]).upper()
    return f"{words} — {LIMITED_MARK}" if generator_limited(report) else words


def generator_sentence(report: dict[str, Any]) -> str | None:
    """What a generator-limited run's figures are worth; None when the generator kept up."""
    if not generator_limited(report):
        return None
    why = [str(reason) for reason in report["generator"].get("why") or []]
    signs = f": {'; '.join(why)}" if why else ""
    return (
        "The load generator did not keep up, so the figures describe the load generator as "
        f"much as the service{signs}."
    )


def load_line(report: dict[str, Any]) -> str:
    """``open model at 200 req/s (poisson arrivals, at most 500 in flight), 1,234 arrivals
    dropped (spike: 1,234), generator kept up``: which model ran, what it dropped, whether the
    generator kept up. A report from before the open model reads as a closed run."""
    run = report.get("run") or {}
    parts = []
    search = capacity_block(report)
    if report.get("model") == "open":
        rate = as_float(run.get("rate"))
        at = "stepped by the capacity search from" if search is not None else "at"
        head = "open model" + (f" {at} {num(rate)} req/s" if rate is not None else "")
        details = []
        if run.get("arrivals"):
            details.append(f"{run['arrivals']} arrivals")
        if as_float(run.get("max_in_flight")) is not None:
            details.append(f"at most {count(run['max_in_flight'])} in flight")
        parts.append(head + (f" ({', '.join(details)})" if details else ""))
        parts.append(_drops(report))
    else:
        parts.append("closed model")
    generator = report.get("generator")
    ran_out = _generator_ran_out(search)
    if ran_out is not None:
        parts.append(f"generator ran out at {capacity.rate_text(ran_out)} req/s")
    elif isinstance(generator, dict):
        if generator.get("limited"):
            parts.append(LIMITED_MARK)
        else:
            parts.append(
                "generator kept up" if generator.get("checked") else "generator not checked"
            )
    return ", ".join(parts)


def _generator_ran_out(search: dict[str, Any] | None) -> float | None:
    """The rate of the capacity step at which the load generator ran out; None when it did
    not (the whole run's lag can stay low while the last, fastest step's did not)."""
    if search is None or search.get("limited_by") != "generator":
        return None
    limited = [step for step in search.get("steps") or [] if step.get("generator_limited")]
    return as_float(limited[-1].get("rate")) if limited else None


def load_summary(report: dict[str, Any]) -> str:
    """``load_line`` and, when latencies were corrected, ``latency_line``, as sentences."""
    latency = latency_line(report)
    return _sentence(load_line(report)) + (f" {_sentence(latency)}" if latency else "")


def dropped_cell(phase: dict[str, Any]) -> str:
    """A phase's dropped arrivals with their share of its arrivals: ``1,234 (5.88 %)``."""
    dropped, share = phase.get("dropped"), as_float(phase.get("dropped_pct"))
    if not dropped or share is None:
        return count(dropped)
    return f"{count(dropped)} ({num(share, 2)} %)"


def _drops(report: dict[str, Any]) -> str:
    dropped = as_float((report.get("generator") or {}).get("dropped"))
    if dropped is None:
        return "drops unknown"
    if not dropped:
        return "nothing dropped"
    where = ", ".join(
        f"{p['name']}: {count(p['dropped'])}" for p in report["phases"] if p.get("dropped")
    )
    noun = "arrival" if dropped == 1 else "arrivals"
    return f"{count(dropped)} {noun} dropped" + (f" ({where})" if where else "")


def latency_line(report: dict[str, Any]) -> str | None:
    """``latency from the intended start: p99 905.1 ms, 181.02× the 5.0 ms measured from the
    actual send``; None when no latency was corrected."""
    uncorrected = (report.get("totals") or {}).get("uncorrected")
    if not isinstance(uncorrected, dict):
        return None
    ratio = as_float(uncorrected.get("p99_ratio"))
    times = f", {num(ratio, 2)}×" if ratio is not None else ","
    return (
        f"latency from the intended start: p99 {num(report['totals'].get('p99_ms'))} ms{times} "
        f"the {num(uncorrected.get('p99_ms'))} ms measured from the actual send"
    )


def partial_sentence(report: dict[str, Any]) -> str:
    """Why a partial run's figures are not the whole story."""
    reason = report.get("partial_reason")
    why = f" ({reason})" if reason else ""
    return f"The run did not complete{why}: the figures cover only the part that ran."


@dataclass(frozen=True)
class Degradation:
    """The spike's p95 against the baseline's, with both values and what it means."""

    pct: float | None
    baseline_p95_ms: float | None
    spike_p95_ms: float | None
    note: str

    def text(self) -> str:
        """``+45.7 % (p95 2.5 → 3.6 ms)``."""
        if self.pct is None:
            return NA
        change = f"{signed(self.pct)} %"
        if self.baseline_p95_ms is None or self.spike_p95_ms is None:
            return change
        return f"{change} (p95 {span(self.baseline_p95_ms, self.spike_p95_ms)})"


def degradation(report: dict[str, Any]) -> Degradation | None:
    """The ``degradation`` block; for an older report, rebuilt from its phases."""
    block = report.get("degradation")
    if isinstance(block, dict):
        return Degradation(
            as_float(block.get("pct", report.get("degradation_pct"))),
            as_float(block.get("baseline_p95_ms")),
            as_float(block.get("spike_p95_ms")),
            _sentence(str(block.get("note") or DEGRADATION_NOTE)),
        )
    pct = as_float(report.get("degradation_pct"))
    if pct is None and not report.get("recovery"):
        return None
    baseline = report.get("baseline")
    recovery = report.get("recovery") or {}
    normal = _phase(report, "baseline", "normal") or {}
    baseline_p95 = next(
        (
            value
            for value in (
                as_float(baseline.get("p95_ms")) if isinstance(baseline, dict) else None,
                as_float(recovery.get("baseline_p95_ms")),
                as_float(normal.get("p95_ms")),
            )
            if value is not None
        ),
        None,
    )
    spike = _phase(report, "spike", "spike")
    return Degradation(
        pct,
        baseline_p95,
        as_float(spike.get("p95_ms")) if spike else None,
        _sentence(DEGRADATION_NOTE),
    )


def recovery_limits(recovery: dict[str, Any]) -> dict[str, float | None]:
    """The limits a recovery was judged by (already scaled to the run's time scale)."""
    limits = recovery.get("limits")
    source = limits if isinstance(limits, dict) else FIXED_RECOVERY_LIMITS
    return {
        key: as_float(source.get(key))
        for key in ("healthy_s", "degraded_s", "tolerance_pct", "tolerance_ms")
    }


def recovery_rule(recovery: dict[str, Any]) -> str:
    """``within 3 s healthy, within 18 s degraded, later or never critical``."""
    limits = recovery_limits(recovery)
    return (
        f"within {seconds(limits['healthy_s'], missing=NA)} healthy, "
        f"within {seconds(limits['degraded_s'], missing=NA)} degraded, later or never critical"
    )


def tolerance_text(recovery: dict[str, Any]) -> str:
    """``+ 10 % or + 5 ms, whichever is larger``: how far above the baseline is still normal."""
    limits = recovery_limits(recovery)
    pct, ms = limits["tolerance_pct"], limits["tolerance_ms"]
    parts = []
    if pct is not None:
        parts.append(f"+ {num(pct, 0 if pct == round(pct) else 1)} %")
    if ms is not None:
        parts.append(f"+ {num(ms, 0 if ms == round(ms) else 1)} ms")
    if len(parts) == 2:
        return f"{parts[0]} or {parts[1]}, whichever is larger"
    return parts[0] if parts else NA


def recovery_sentence(recovery: dict[str, Any]) -> str:
    """``Recovered 7 s after the spike (healthy; limits: within 30 s healthy, ...)``."""
    verdict = recovery.get("verdict", NA)
    rule = recovery_rule(recovery)
    if recovery.get("seconds") is not None:
        when = seconds(recovery["seconds"])
        return f"Recovered {when} after the spike ({verdict}; limits: {rule})"
    return f"Not recovered after the spike ({verdict}; limits: {rule})"


def baseline_sentence(report: dict[str, Any]) -> str | None:
    """Where the baseline p95 comes from, warm-up left out; None for a report without it."""
    baseline = report.get("baseline")
    if not isinstance(baseline, dict):
        return None
    text = f"Baseline p95 {num(baseline.get('p95_ms'), missing=NA)} ms"
    if baseline.get("phase"):
        text += f" from phase {baseline['phase']}"
    if as_float(baseline.get("requests")) is not None:
        text += f" ({count(baseline['requests'])} requests)"
    warmup = as_float(baseline.get("warmup_s"))
    if warmup:
        text += f", its first {num(warmup)} s left out as warm-up"
    text += "."
    if baseline.get("method"):
        text += f" Method: {_sentence(str(baseline['method']))}"
    return text


def server_not_sampled(report: dict[str, Any]) -> str | None:
    """``Server side not sampled: <why>.``: information, not a warning; None when it was sampled
    (or for a report from before ``sampled`` existed)."""
    server = report.get("server")
    sampled = not isinstance(server, dict) or server.get("sampled") is not False
    note = None if sampled else server.get("note")
    return _sentence(str(note)) if note else None


def has_server_figures(server: dict[str, Any] | None) -> bool:
    """Whether the server table has anything to show: a figure with a source."""
    return isinstance(server, dict) and any((server.get("source") or {}).values())


def drift_line(drift: dict[str, Any]) -> str:
    """The drift section in one line: p95 and error-rate slopes, the RSS change, cache peak."""
    parts = [
        f"p95 {span(drift['p95_first_window_ms'], drift['p95_last_window_ms'])}, "
        f"{signed(drift['p95_slope_ms_per_min'], missing=NA)} ms/min"
        + (" (significant)" if drift["p95_slope_significant"] else ""),
        f"errors {signed(drift['error_rate_slope_pct_per_min'], 2, missing=NA)} %/min",
    ]
    if drift["rss_start_mb"] is not None:
        parts.append(
            f"RSS {span(drift['rss_start_mb'], drift['rss_end_mb'], 'MB')} "
            f"({signed(drift['rss_change_pct'], missing=NA)} %, "
            + ("flat)" if drift["rss_flat"] else "not flat)")
        )
    if drift["cache_size_max"] is not None:
        parts.append(f"cache size max {drift['cache_size_max']:,}")
    return "drift: " + "; ".join(parts)


def _phase(report: dict[str, Any], role: str, name: str) -> dict[str, Any] | None:
    """The phase with ``role``; for a report without roles, the phase called ``name``."""
    phases = report.get("phases") or []
    found = next((p for p in phases if p.get("role") == role), None)
    return found or next((p for p in phases if p.get("name") == name), None)


def _sentence(text: str) -> str:
    """``text`` capitalised and ending with a full stop."""
    text = text.strip()
    if not text:
        return text
    return text[0].upper() + text[1:] + ("" if text.endswith((".", "!", "?")) else ".")
