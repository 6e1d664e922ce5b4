"""Warnings that make a run's trustworthiness visible next to its figures.

Each is ``{"code", "message"}``: the code is stable for tools and tests, the message is for
people and names what to do or how much to trust.
"""

from __future__ import annotations

from typing import Any

from reports.analysis import Analysis
from reports.closed_model import held_back, held_back_seconds
from reports.drift import RISE_LIMIT_PCT, RSS_TOLERANCE_PCT, Drift
from reports.generator import Generator
from reports.recovery import CONSECUTIVE, WINDOW_S, Recovery
from reports.run_format import GENERATOR_LOG, MODEL_OPEN
from reports.rundir import RunData

MIN_P99_SAMPLES = 100
MIN_PHASE_S = 10.0
FALLBACK_NOTE = (
    "There is no request log (requests.csv), so the requests were rebuilt from Locust's own "
    "CSVs and every figure is approximate: Locust rounds response times (147 ms is stored as "
    "150, 3,432 as 3,400), its history percentiles cover a sliding ~10 s window, and its totals "
    "can be up to a second stale because it does not rewrite its CSVs at shutdown. Keep "
    "requests.csv for exact figures."
)


def warning(code: str, message: str) -> dict[str, str]:
    return {"code": code, "message": message}


def collect(
    run: RunData,
    analysis: Analysis,
    phases_note: str | None,
    recovery: Recovery | None,
    recovery_unmeasured: str | None,
    drift: Drift | None,
    generator: Generator,
) -> list[dict[str, str]]:
    """Every warning that applies to this run, most important first."""
    found: list[dict[str, str]] = []
    if run.partial:
        reason = partial_reason(run).rstrip(". ")
        found.append(
            warning(
                "partial",
                f"The run is partial: {reason}. Its figures and verdict cover only the part "
                "that ran; run it again to completion for a full verdict.",
            )
        )
    if run.approximate:
        found.append(warning("fallback", FALLBACK_NOTE))
    if phases_note:
        found.append(warning("no_run_json", phases_note))
    failures = int(analysis.totals.get("failures", 0) or 0)
    if failures:
        requests = int(analysis.totals.get("requests", 0) or 0)
        top = "; ".join(
            f"{e['endpoint']}: {e['message']} (x{e['count']})" for e in analysis.top_errors[:3]
        )
        rate = failures / requests * 100 if requests else 0.0
        found.append(
            warning(
                "failures",
                f"{failures:,} of {requests:,} requests failed ({rate:.2f} %)."
                + (f" Top errors: {top}." if top else "")
                + " The report's errors table lists the most frequent.",
            )
        )
    found.extend(_dropped(run, analysis, generator))
    found.extend(_user_code_exceptions(run))
    if run.cpu_warning:
        found.append(
            warning(
                "load_generator_cpu",
                "The load generator's CPU was above 90 % (locust.log): it may have limited the "
                "throughput and inflated the response times. Run again with more --processes.",
            )
        )
    found.extend(_load_model_notes(run, analysis, generator))
    short = [p for p in analysis.phases if p.duration < MIN_PHASE_S]
    if short:
        listed = ", ".join(f"{p.name} ({p.duration:.1f} s)" for p in short)
        found.append(
            warning(
                "short_phase",
                f"Some phases are shorter than {MIN_PHASE_S:.0f} s: {listed}. Their "
                "percentiles rest on a few seconds of load; run with a larger --time-scale "
                "for firmer figures.",
            )
        )
    few = _few_samples(analysis)
    if few:
        found.append(few)
    if analysis.outside_phases:
        found.append(
            warning(
                "outside_phases",
                f"{_requests(analysis.outside_phases)} sent outside every phase (before the "
                "first, e.g. an open-model driver's symbol lookup, or after the last, e.g. by "
                "users still stopping at the end): they count "
                "in the endpoint totals but in no phase. Many of them mean that run.json's "
                "phases are off.",
            )
        )
    for i, phase in enumerate(analysis.phases):
        if i < len(analysis.phase_table) and analysis.phase_table["requests"].iloc[i] == 0:
            found.append(
                warning(
                    "empty_phase",
                    f"Phase {phase.name} has no requests, so it has no figures. Check that the "
                    "load generator was running then.",
                )
            )
    found.extend(_recovery_notes(run, recovery, recovery_unmeasured))
    if drift is not None:
        found.extend(_drift_notes(drift))
    return found


def _dropped(run: RunData, analysis: Analysis, generator: Generator) -> list[dict[str, str]]:
    """Arrivals an open-model generator dropped: requests no latency figure can show."""
    if not generator.dropped:
        return []
    where = [
        f"{count:,} in phase {phase.name}"
        for phase, count in zip(analysis.phases, generator.dropped_by_phase, strict=True)
        if count
    ]
    if generator.dropped_outside:
        where.append(f"{generator.dropped_outside:,} outside every phase")
    cap = run.meta.get("max_in_flight")
    limit = f" ({cap:,} requests)" if isinstance(cap, int) and not isinstance(cap, bool) else ""
    return [
        warning(
            "dropped",
            f"{_arrivals(generator.dropped)} dropped because the in-flight limit{limit} was "
            f"reached: {', '.join(where)}. The service met less than the offered load. The "
            "dropped requests are in no latency figure but count against the error-rate limits "
            "of their phase; raise --max-in-flight, or read the drops as the service falling "
            "behind.",
        )
    ]


def _load_model_notes(
    run: RunData, analysis: Analysis, generator: Generator
) -> list[dict[str, str]]:
    """A generator that fell behind (beyond Locust's own warning, which has its code), an open
    run that could not be read in full, and what a closed run's figures may hide."""
    notes = []
    open_run = run.model == MODEL_OPEN
    signs = generator.why(locust_warning=False)
    if signs:
        notes.append(
            warning(
                "generator_limited",
                f"The load generator did not keep up: {'; '.join(signs)}. The figures describe "
                "the load generator as much as the service; run again with more --processes "
                f"or {'a lower --rate' if open_run else 'fewer --users'}.",
            )
        )
    if open_run:
        if run.generator is None:
            notes.append(
                warning(
                    "no_generator_log",
                    f"This open-model run has no {GENERATOR_LOG}, so its dropped arrivals and "
                    "the generator's CPU are unknown: the report cannot tell whether the offered "
                    "load was sent.",
                )
            )
        if not analysis.corrected:
            notes.append(
                warning(
                    "latency_uncorrected",
                    "This open-model run has no intended start per request (no intended_start "
                    "in the request log, or no request log), so latencies are measured from the "
                    "actual send: a request held back by the load generator shows less than the "
                    "wait its client would have seen.",
                )
            )
    else:
        notes.extend(_closed_model(run, analysis))
    return notes


def _closed_model(run: RunData, analysis: Analysis) -> list[dict[str, str]]:
    found = [
        f"in phase {h.phase} each user sent {h.rate_per_user:,.2f} req/s against "
        f"{h.baseline_rate_per_user:,.2f} in phase {h.baseline} ({-h.fall_pct:+.0f} %) while "
        f"p95 rose {h.baseline_p95_ms:,.1f} → {h.p95_ms:,.1f} ms"
        for h in held_back(analysis)
    ]
    requests = run.requests
    seconds = held_back_seconds(
        requests["timestamp"].to_numpy(dtype=float),
        requests["response_time_ms"].to_numpy(dtype=float),
        analysis.phases,
    )
    if seconds is not None:
        found.append(
            f"{seconds.periods} times in {seconds.judged_s} s the users sent as few as "
            f"{seconds.fewest_sent:,} requests in a second against {seconds.median_sent:,.0f} "
            f"in a typical one, while a reply took up to {seconds.slowest_ms:,.0f} ms"
        )
    if not found:
        return []
    phases = "; ".join(found)
    return [
        warning(
            "closed_model",
            f"The closed model may hide slow periods: {phases}. Each user waits for a reply "
            "before its next request, so a slow service holds back the very requests that "
            "would have met it and the figures under-count it. Run again with --model open to "
            "measure latency from each request's intended start.",
        )
    ]


def partial_reason(run: RunData) -> str:
    reasons = []
    reason = run.meta.get("partial_reason")
    if run.meta.get("partial"):
        reasons.append(str(reason) if reason else "the run was interrupted")
    for name in run.truncated_files:
        reasons.append(f"{name}: the last line was cut off (a killed writer) and was dropped")
    return "; ".join(reasons)


def _few_samples(analysis: Analysis) -> dict[str, str] | None:
    thin = [
        f"{name} ({int(n)})"
        for name, n in analysis.endpoints["requests"].items()
        if n < MIN_P99_SAMPLES
    ]
    thin += [
        f"phase {p.name} ({int(n)})"
        for p, n in zip(analysis.phases, analysis.phase_table.get("requests", []), strict=False)
        if 0 < n < MIN_P99_SAMPLES
    ]
    pairs = sum(
        int(((block["requests"] > 0) & (block["requests"] < MIN_P99_SAMPLES)).sum())
        for block in analysis.phase_endpoints
        if not block.empty
    )
    if not thin and not pairs:
        return None
    parts = ", ".join(thin) if thin else ""
    if pairs:
        parts += ("; and " if parts else "") + f"{pairs} endpoint(s) within a phase"
    return warning(
        "few_samples",
        f"Fewer than {MIN_P99_SAMPLES} requests stand behind some p99 figures: {parts}. Such "
        "a p99 is close to the maximum: treat it as indicative, or run longer.",
    )


def _user_code_exceptions(run: RunData) -> list[dict[str, str]]:
    if run.exceptions is None or run.exceptions.empty:
        return []
    count = int(run.exceptions["Count"].sum())
    first = str(run.exceptions["Message"].iloc[0])[:200]
    return [
        warning(
            "user_exceptions",
            f"The test's own code raised {count:,} exception(s), e.g. {first}. These are bugs "
            "in the locustfile, not failures of the service: see locust_exceptions.csv.",
        )
    ]


def _recovery_notes(
    run: RunData, recovery: Recovery | None, unmeasured: str | None
) -> list[dict[str, Any]]:
    """``unmeasured``: why a spike's recovery was not measured; None when it was, or when
    the run has no spike (then ``recovery`` is None too)."""
    if unmeasured is not None:
        return [warning("recovery_unmeasured", unmeasured)]
    if recovery is None:
        return []
    notes = []
    if run.approximate:
        notes.append(
            warning(
                "recovery_lag",
                "Recovery is read from requests rebuilt from Locust's ~10 s windowed "
                "percentiles, so its time can be off by several seconds. Keep requests.csv for "
                "an exact recovery time.",
            )
        )
    if recovery.seconds is None:
        if not recovery.samples:
            notes.append(
                warning(
                    "recovery_no_data",
                    "No request was sent after the spike, so recovery is unknown. Let the run "
                    "continue into its recovery phase.",
                )
            )
        elif recovery.searched_s < WINDOW_S + CONSECUTIVE - 1:
            notes.append(
                warning(
                    "recovery_short",
                    f"Only {recovery.searched_s:.1f} s of data follow the spike: too short to "
                    f"see {CONSECUTIVE} consecutive healthy samples. Give the recovery phase "
                    "more time.",
                )
            )
    return notes


def _drift_notes(drift: Drift) -> list[dict[str, str]]:
    """A steady run whose p95 or memory creeps up: not a verdict, but worth a look."""
    s = drift.summary
    parts = []
    if s["p95_slope_significant"]:
        rise = s["p95_rise_pct"]
        parts.append(
            f"p95 rises {s['p95_slope_ms_per_min']:+,.1f} ms/min (windows "
            f"{s['p95_first_window_ms']:,.1f} -> {s['p95_last_window_ms']:,.1f} ms"
            + (
                f"; fitted rise {rise:+.0f} % over the run, above {RISE_LIMIT_PCT:.0f} %"
                if rise is not None
                else ""
            )
            + ")"
        )
    change = s["rss_change_pct"]
    if change is not None and change > RSS_TOLERANCE_PCT:
        parts.append(
            f"the service's RSS grew {change:+.1f} % after warm-up "
            f"({s['rss_start_mb']:,.1f} -> {s['rss_end_mb']:,.1f} MB)"
        )
    if not parts:
        return []
    return [
        warning(
            "drift",
            "Drift under steady load: "
            + "; ".join(parts)
            + ". The service may be leaking or queueing: a longer run will tell.",
        )
    ]


def _requests(count: int) -> str:
    return "1 request was" if count == 1 else f"{count:,} requests were"


def _arrivals(count: int) -> str:
    return "1 arrival was" if count == 1 else f"{count:,} arrivals were"
