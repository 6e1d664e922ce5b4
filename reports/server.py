"""The server's side: whether and how it was sampled, its own time and cache hit rate per phase,
and the Prometheus series it was sampled from.

A run need not sample the server at all: ``sampled`` says whether server_history.csv holds
samples, ``sampled_from`` what they came from (run.json's ``server_source``, else inferred from
the file's columns) and ``note`` why there are none (run.json's ``server_note``). That is
information, never an error, and the per-request figures below hold either way.

Exact per-request data wins: the ``server_ms`` column (the response's ``Server-Timing app;dur``)
and the ``x_cache`` column of the request log. Without them the per-second
``server_history.csv`` is used: cache counters' differences over the phase, and its rolling
DB-query p95.

The time that is not the server's own work (queueing, network, the load generator itself) is
each request's ``response_time_ms - server_ms``, and its p50 and p95 are percentiles of those
differences. The client's p95 minus the server's p95 would be no percentile of anything: the
slowest requests on the client are not the slowest on the server. Without a per-request
``server_ms`` it is unknown (null).

A server_history.csv of Prometheus series instead has ``series``: each one per phase, as
``server_series`` measures it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from reports.analysis import Analysis
from reports.phases import Phase, assign
from reports.rundir import RunData
from reports.server_series import bounding_samples, per_second, summarise
from reports.stats import grouped_quantiles

SOURCE_TIMING = "Server-Timing app;dur of each request (requests.csv server_ms)"
SOURCE_HISTORY_P95 = "server_history.csv p95_ms (the server's rolling DB-query p95, median)"
SOURCE_XCACHE = "X-Cache of each request (requests.csv x_cache)"
SOURCE_COUNTERS = "server_history.csv cache_hits/cache_misses differences"
SOURCE_HIT_RATE = "server_history.csv cache_hit_rate_pct (mean)"
SOURCE_NON_SERVER = "response_time_ms - server_ms of each request (requests.csv)"
NON_SERVER_QUANTILES = (0.50, 0.95)
SAMPLED_REFERENCE = (
    "reference API /api/v1/performance/summary (inferred from server_history.csv's columns)"
)
SAMPLED_SERIES = "Prometheus metrics (inferred from server_history.csv's columns)"
NOT_SAMPLED = "server side not sampled"


@dataclass
class ServerSide:
    """``summary`` goes into report.json; the frames feed the server charts."""

    summary: dict[str, Any]
    timing: pd.DataFrame | None  # per chart bucket (index: seconds from t0): server_p95_ms,
    # non_server_p50_ms, non_server_p95_ms and/or cache_hit_rate_pct from the request log
    history: pd.DataFrame | None  # server_history.csv, index: seconds from t0
    series: pd.DataFrame | None  # Prometheus series as drawn (``server_series.per_second``)


def server_side(analysis: Analysis, run: RunData) -> ServerSide:
    """Every server figure the run holds; null figures (and ``sampled`` false) when none."""
    phases = analysis.phases
    requests, history, series = run.requests, run.server_history, run.server_series
    ts = requests["timestamp"].to_numpy(dtype=float)
    server_ms = _column(requests, "server_ms")
    has_timing = server_ms is not None and bool(np.isfinite(server_ms).any())
    x_cache = requests["x_cache"].str.upper() if "x_cache" in requests else None
    has_xcache = x_cache is not None and bool(x_cache.isin(["HIT", "MISS"]).any())
    hist = history.sort_values("timestamp", kind="stable") if history is not None else None
    has_hist_p95 = hist is not None and "p95_ms" in hist and hist["p95_ms"].notna().any()
    has_counters = hist is not None and {"cache_hits", "cache_misses"} <= set(hist.columns)
    has_rate = hist is not None and "cache_hit_rate_pct" in hist

    n = len(phases)
    server_p95 = [math.nan] * n
    hit_rate = [math.nan] * n
    non_server = np.full((n, len(NON_SERVER_QUANTILES)), math.nan)
    overall_non_server = [math.nan] * len(NON_SERVER_QUANTILES)
    overall_p95 = overall_hit = math.nan
    p95_source = hit_source = non_server_source = None
    if has_timing:
        assert server_ms is not None
        p95_source, non_server_source = SOURCE_TIMING, SOURCE_NON_SERVER
        ok = np.isfinite(server_ms)
        phase_of = assign(ts, phases)
        sel = ok & (phase_of >= 0)
        server_p95 = list(grouped_quantiles(phase_of[sel], server_ms[sel], n, (0.95,))[:, 0])
        overall_p95 = float(np.percentile(server_ms[ok], 95))
        other = requests["response_time_ms"].to_numpy(dtype=float) - server_ms
        non_server = grouped_quantiles(phase_of[sel], other[sel], n, NON_SERVER_QUANTILES)
        overall_non_server = list(np.quantile(other[ok], NON_SERVER_QUANTILES))
    elif has_hist_p95:
        assert hist is not None
        p95_source = SOURCE_HISTORY_P95
        server_p95 = [_in_phase(hist, "p95_ms", p).median() for p in phases]
        overall_p95 = float(hist["p95_ms"].median())
    if has_xcache:
        assert x_cache is not None
        hit_source = SOURCE_XCACHE
        hits = (x_cache == "HIT").to_numpy()
        known = hits | (x_cache == "MISS").to_numpy()
        phase_of = assign(ts, phases)
        sel = known & (phase_of >= 0)
        hit_n = np.bincount(phase_of[sel], weights=hits[sel], minlength=n)
        all_n = np.bincount(phase_of[sel], minlength=n)
        hit_rate = [h / a * 100 if a else math.nan for h, a in zip(hit_n, all_n, strict=True)]
        overall_hit = float(hits.sum() / known.sum() * 100)
    elif has_counters:
        assert hist is not None
        hit_source = SOURCE_COUNTERS
        hit_rate = [_counter_rate(hist, p.start, p.end) for p in phases]
        overall_hit = _counter_rate(hist, -math.inf, math.inf)
    elif has_rate:
        assert hist is not None
        hit_source = SOURCE_HIT_RATE
        hit_rate = [_in_phase(hist, "cache_hit_rate_pct", p).mean() for p in phases]
        overall_hit = float(hist["cache_hit_rate_pct"].mean())

    rows = [
        {
            "name": phase.name,
            "role": phase.role,
            "client_p95_ms": float(analysis.phase_table["p95_ms"].iloc[i]),
            "server_p95_ms": float(server_p95[i]),
            "non_server_p50_ms": float(non_server[i, 0]),
            "non_server_p95_ms": float(non_server[i, 1]),
            "cache_hit_rate_pct": float(hit_rate[i]),
        }
        for i, phase in enumerate(phases)
    ]
    summary = {
        **_sampling(run),
        "cache_hit_rate_pct": overall_hit,
        "client_p95_ms": float(analysis.totals.get("p95_ms", math.nan)),
        "server_p95_ms": overall_p95,
        "non_server_p50_ms": float(overall_non_server[0]),
        "non_server_p95_ms": float(overall_non_server[1]),
        "phases": rows,
        "source": {
            "server_p95": p95_source,
            "cache_hit_rate": hit_source,
            "non_server": non_server_source,
        },
        "series": summarise(series, phases) if series is not None else None,
    }
    timing = _per_bucket(
        analysis,
        ts,
        server_ms if has_timing else None,
        requests["response_time_ms"].to_numpy(dtype=float),
        x_cache if has_xcache else None,
    )
    history_view = None
    if hist is not None:
        history_view = hist.set_index(hist["timestamp"] - analysis.t0)
        if has_counters and not has_rate:
            d_hits = history_view["cache_hits"].diff()
            d_all = d_hits + history_view["cache_misses"].diff()
            history_view = history_view.assign(cache_hit_rate_pct=d_hits / d_all * 100)
    series_view = per_second(series, analysis.t0) if series is not None else None
    return ServerSide(summary, timing, history_view, series_view)


def _sampling(run: RunData) -> dict[str, Any]:
    """Whether the server side was sampled, from what, and if not, why."""
    sampled = run.server_history is not None or run.server_series is not None
    told, why = (_text(run.meta.get(key)) for key in ("server_source", "server_note"))
    inferred = None
    if run.server_series is not None:
        inferred = SAMPLED_SERIES
    elif sampled:
        inferred = SAMPLED_REFERENCE
    return {
        "sampled": sampled,
        "sampled_from": told or inferred,
        "note": None if sampled else NOT_SAMPLED + (f": {why}" if why else ""),
    }


def _text(value: Any) -> str | None:
    return value.strip() if isinstance(value, str) and value.strip() else None


def _per_bucket(
    analysis: Analysis,
    ts: np.ndarray,
    server_ms: np.ndarray | None,
    response_ms: np.ndarray,
    x_cache: pd.Series | None,
) -> pd.DataFrame | None:
    """Exact server p95, time outside the server (p50, p95) and X-Cache hit rate per bucket."""
    if server_ms is None and x_cache is None:
        return None
    buckets = np.floor((ts - analysis.t0) / analysis.bucket_s).astype(np.int64)
    low = int(buckets.min())
    buckets -= low
    n = int(buckets.max()) + 1
    frame = pd.DataFrame(index=(np.arange(n) + low) * analysis.bucket_s)
    if server_ms is not None:
        ok = np.isfinite(server_ms)
        frame["server_p95_ms"] = grouped_quantiles(buckets[ok], server_ms[ok], n, (0.95,))[:, 0]
        other = response_ms[ok] - server_ms[ok]
        quantiles = grouped_quantiles(buckets[ok], other, n, NON_SERVER_QUANTILES)
        frame["non_server_p50_ms"], frame["non_server_p95_ms"] = quantiles[:, 0], quantiles[:, 1]
    if x_cache is not None:
        hits = (x_cache == "HIT").to_numpy()
        known = hits | (x_cache == "MISS").to_numpy()
        hit_n = np.bincount(buckets[known], weights=hits[known], minlength=n)
        all_n = np.bincount(buckets[known], minlength=n)
        with np.errstate(invalid="ignore", divide="ignore"):
            frame["cache_hit_rate_pct"] = np.where(all_n > 0, hit_n / all_n * 100, np.nan)
    return frame


def _column(frame: pd.DataFrame, name: str) -> np.ndarray | None:
    if name not in frame:
        return None
    return frame[name].to_numpy(dtype=float)


def _in_phase(hist: pd.DataFrame, column: str, phase: Phase) -> pd.Series:
    t = hist["timestamp"]
    return hist.loc[(t >= phase.start) & (t <= phase.end), column]


def _counter_rate(hist: pd.DataFrame, start: float, end: float) -> float:
    """Hit rate from the cumulative counters' growth between the samples bounding the span."""
    bounds = bounding_samples(hist["timestamp"].to_numpy(dtype=float), start, end)
    if bounds is None:
        return math.nan
    first, last = bounds
    hits = hist["cache_hits"].iloc[last] - hist["cache_hits"].iloc[first]
    misses = hist["cache_misses"].iloc[last] - hist["cache_misses"].iloc[first]
    total = hits + misses
    return float(hits / total * 100) if total > 0 else math.nan
