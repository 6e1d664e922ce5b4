"""The same analysis from Locust's own CSVs, for a run without a per-request log.

Locust keeps response times in rounded buckets (147 ms is stored as 150, 3,432 as 3,400), its
history percentiles cover a sliding ~10 s window, and it does not rewrite its CSVs at
shutdown, so totals can be up to a second stale. The report says so in a warning; these
figures are the best available, not exact. Per-phase counts come from the differences of the
history's cumulative totals at the phase bounds; per-phase percentiles are the request-weighted
mean of the windowed percentiles whose window lies inside the phase.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from reports.analysis import Analysis, chart_bucket, run_window
from reports.phases import Phase
from reports.recovery import Sample

AGGREGATED = "Aggregated"
LOCUST_WINDOW_S = 10.0
_PCT = {"p50_ms": "50%", "p95_ms": "95%", "p99_ms": "99%"}


def aggregated_rows(history: pd.DataFrame) -> pd.DataFrame:
    """The history's whole-run rows (one per second), sorted by time."""
    rows = history[history["Name"] == AGGREGATED]
    return rows.sort_values("Timestamp", kind="stable")


def users_series(history: pd.DataFrame) -> pd.DataFrame:
    """Absolute timestamp and user count, one row per history sample."""
    rows = aggregated_rows(history)
    return pd.DataFrame(
        {"timestamp": rows["Timestamp"].to_numpy(), "users": rows["User Count"].to_numpy()}
    )


def analyse_locust(
    stats: pd.DataFrame, history: pd.DataFrame, phases: list[Phase], failures: pd.DataFrame | None
) -> Analysis:
    """Endpoints from locust_stats.csv; phases and time series from the full history."""
    agg = aggregated_rows(history)
    stamps = agg["Timestamp"].to_numpy(dtype=float)
    first, last = (float(stamps[0]), float(stamps[-1])) if len(stamps) else (0.0, 0.0)
    t0, span = run_window(phases, first, last)

    is_total = stats["Name"] == AGGREGATED
    endpoints = _from_stats(stats[~is_total]).sort_index()
    total_rows = _from_stats(stats[is_total])
    totals = (
        total_rows.iloc[0].to_dict()
        if len(total_rows)
        else {
            "requests": 0,
            "failures": 0,
            "error_rate_pct": math.nan,
            "avg_ms": math.nan,
            "p50_ms": math.nan,
            "p95_ms": math.nan,
            "p99_ms": math.nan,
            "rps": math.nan,
        }
    )
    per_endpoint = {
        name: rows.sort_values("Timestamp", kind="stable")
        for name, rows in history[history["Name"] != AGGREGATED].groupby("Name", sort=True)
    }
    phase_table = pd.DataFrame([_phase_stats(agg, p) for p in phases])
    phase_endpoints = []
    for phase in phases:
        block = pd.DataFrame(
            {name: _phase_stats(rows, phase) for name, rows in per_endpoint.items()}
        ).T
        if not block.empty:
            block = block[block["requests"] > 0]
        block.index.name = "name"
        phase_endpoints.append(block)

    bucket = chart_bucket(span)
    series = pd.DataFrame(
        {
            "rps": agg["Requests/s"].to_numpy(),
            "fail_per_s": agg["Failures/s"].to_numpy(),
            **{key: agg[col].to_numpy() for key, col in _PCT.items()},
        },
        index=pd.Index(stamps - t0, name="t"),
    )
    with np.errstate(invalid="ignore", divide="ignore"):
        series["error_rate_pct"] = np.where(
            series["rps"] > 0, series["fail_per_s"] / series["rps"] * 100, np.nan
        )
    return Analysis(
        source="Locust stats",
        phases=phases,
        t0=t0,
        span_s=span,
        totals=totals,
        endpoints=endpoints,
        phase_table=phase_table,
        phase_endpoints=phase_endpoints,
        series=series,
        bucket_s=bucket,
        users=users_series(history),
        top_errors=failure_rows(failures),
    )


def history_samples(history: pd.DataFrame, spike_end: float, search_end: float) -> list[Sample]:
    """Recovery samples from the history's windowed p95 (it lags by up to ~10 s)."""
    agg = aggregated_rows(history)
    t = agg["Timestamp"].to_numpy(dtype=float)
    keep = (t >= spike_end) & (t <= search_end) & (agg["Requests/s"].to_numpy() > 0)
    keep &= agg["95%"].notna().to_numpy()
    rows = agg[keep]
    rps = rows["Requests/s"].to_numpy()
    fails = rows["Failures/s"].to_numpy()
    return [
        Sample(int(round(ts - spike_end)), int(round(r)), int(round(f)), float(p))
        for ts, r, f, p in zip(rows["Timestamp"], rps, fails, rows["95%"], strict=True)
    ]


def failure_rows(failures: pd.DataFrame | None, limit: int = 5) -> list[dict[str, object]]:
    """The most frequent failures listed by Locust's locust_failures.csv."""
    if failures is None or failures.empty:
        return []
    rows = failures.sort_values("Occurrences", ascending=False, kind="stable").head(limit)
    return [
        {"endpoint": name, "message": str(error)[:300], "count": int(count)}
        for name, error, count in zip(rows["Name"], rows["Error"], rows["Occurrences"], strict=True)
    ]


def _from_stats(rows: pd.DataFrame) -> pd.DataFrame:
    requests = rows["Request Count"].to_numpy()
    failures = rows["Failure Count"].to_numpy()
    with np.errstate(invalid="ignore", divide="ignore"):
        error_rate = np.where(requests > 0, failures / requests * 100, np.nan)
    frame = pd.DataFrame(
        {
            "requests": requests.astype(np.int64),
            "failures": failures.astype(np.int64),
            "error_rate_pct": error_rate,
            "avg_ms": np.where(requests > 0, rows["Average Response Time"].to_numpy(), np.nan),
            **{key: rows[col].to_numpy() for key, col in _PCT.items()},
            "rps": rows["Requests/s"].to_numpy(),
        },
        index=pd.Index(rows["Name"].to_numpy(), name="name"),
    )
    return frame


def _phase_stats(rows: pd.DataFrame, phase: Phase) -> dict[str, float]:
    """Counts from cumulative totals at the phase bounds; windowed percentiles averaged."""
    t = rows["Timestamp"].to_numpy(dtype=float)
    count = rows["Total Request Count"].to_numpy(dtype=float)
    fails = rows["Total Failure Count"].to_numpy(dtype=float)
    avg = rows["Total Average Response Time"].to_numpy(dtype=float)
    at = np.searchsorted(t, [phase.start, phase.end], side="right") - 1

    def value(array: np.ndarray, i: int) -> float:
        return float(array[i]) if i >= 0 else 0.0

    n = value(count, at[1]) - value(count, at[0])
    failed = value(fails, at[1]) - value(fails, at[0])
    total_ms = value(avg, at[1]) * value(count, at[1]) - value(avg, at[0]) * value(count, at[0])
    result = {
        "requests": n,
        "failures": failed,
        "error_rate_pct": failed / n * 100 if n > 0 else math.nan,
        "avg_ms": total_ms / n if n > 0 else math.nan,
        "rps": n / phase.duration if phase.duration > 0 else math.nan,
    }
    inside = (t > phase.start) & (t <= phase.end)
    settled = inside & (t >= phase.start + LOCUST_WINDOW_S)
    use = settled if settled.any() else inside
    weights = rows["Requests/s"].to_numpy(dtype=float)[use]
    for key, col in _PCT.items():
        values = rows[col].to_numpy(dtype=float)[use]
        ok = ~np.isnan(values) & (weights > 0)
        result[key] = float(np.average(values[ok], weights=weights[ok])) if ok.any() else math.nan
    return result
