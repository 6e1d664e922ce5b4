"""Drift over a steady run: do latency, errors and the service's memory creep up under load?

It applies to a run that is one steady phase (role ``steady``, or a ``baseline`` alone) of at
least a minute at full scale (its length divided by ``--time-scale``, so that a time-scaled smoke
run of a sustained test still gets its drift): the load is constant there, so a trend over time
is the system's, not the load's.

Windows. The run is cut into consecutive windows of ``WINDOW_S`` = 10 s and each window gets the
aggregated p95 and error rate of the requests sent in it. Ten seconds because at the kit's load
(10 users) a window holds a hundred requests or more, so its p95 rests on several slow ones rather
than on the slowest; a one-minute run still gives six points to the fit and a ten-minute soak
sixty; and Locust's history percentiles cover the same ~10 s, so without a request log the
rebuilt requests' windows mean the same thing. A run shorter than a minute (a time-scaled smoke
run) is cut into ``MIN_WINDOWS`` windows instead, none shorter than 1 s, and one longer than five
hours into as many windows as its charts have points (1,800). Only whole windows count:
a last partial one would weigh as much as the others in the fit while resting on fewer requests.

Slopes are least-squares lines (``numpy.polyfit``, degree 1) through the windows' values at their
centres, per minute. A rising p95 is significant when the fitted rise from the first window to the
last exceeds ``RISE_LIMIT_PCT`` (20 %) of the first window's p95 (a change a user would notice)
and the slope is at least ``MIN_T`` standard errors above zero (about 95 % confidence that it is
a trend and not the windows' noise).

Memory comes from ``server_history.csv``'s ``rss_bytes`` (the service's RSS, once a second). Its
first samples are the warm-up (imports, the database's page cache, the query cache filling up to
its working set): the first 10 % of the samples or those of the first 30 s, whichever are fewer.
The 10 % leaves a short run most of its samples; the 30 s cap keeps a long soak from hiding early
growth in its warm-up. RSS is flat when every sample after the warm-up is within
``RSS_TOLERANCE_PCT`` (10 %) of the first one after it. MB are 10^6 bytes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from reports.analysis import MAX_CHART_BUCKETS, Analysis
from reports.phases import Phase
from reports.run_format import ROLE_BASELINE, ROLE_STEADY
from reports.stats import group_stats

STEADY_ROLES = (ROLE_STEADY, ROLE_BASELINE)
MIN_SPAN_S = 60.0
WINDOW_S = 10.0
MIN_WINDOWS = 6
MIN_FIT_POINTS = 3
RISE_LIMIT_PCT = 20.0
MIN_T = 2.0
WARMUP_FRACTION = 0.10
WARMUP_MAX_S = 30.0
RSS_TOLERANCE_PCT = 10.0
MB = 1e6
WINDOW_COLUMNS = ["requests", "failures", "error_rate_pct", "p95_ms"]


@dataclass
class Drift:
    """``summary`` goes into report.json; the series feed the drift chart."""

    summary: dict[str, Any]
    windows: pd.DataFrame  # index: window start, s from t0; WINDOW_COLUMNS + p95_fit_ms
    rss_mb: pd.Series | None  # index: s from t0


@dataclass(frozen=True)
class Line:
    """A least-squares line per minute, and the standard error of its slope."""

    slope: float
    intercept: float
    stderr: float


def applies(phases: list[Phase], time_scale: float = 1.0) -> bool:
    """One steady phase, lasting at least a minute at full scale, long enough for a trend."""
    return (
        len(phases) == 1
        and phases[0].role in STEADY_ROLES
        and phases[0].duration >= MIN_SPAN_S * time_scale - 1e-9
    )


def window_length(span_s: float) -> float:
    """``WINDOW_S``; shorter for a run under a minute, so that it still has ``MIN_WINDOWS``;
    longer for a run over five hours, so that it has no more windows than a chart has points."""
    if span_s < MIN_SPAN_S:
        return max(1.0, span_s / MIN_WINDOWS)
    return max(WINDOW_S, span_s / MAX_CHART_BUCKETS)


def measure_drift(
    analysis: Analysis,
    requests: pd.DataFrame,
    server_history: pd.DataFrame | None,
    time_scale: float = 1.0,
) -> Drift | None:
    """None when drift does not apply or fewer than ``MIN_FIT_POINTS`` windows have data."""
    if not applies(analysis.phases, time_scale):
        return None
    window = window_length(analysis.span_s)
    count = math.floor(analysis.span_s / window + 1e-9)
    t0 = analysis.t0
    windows = request_windows(requests, t0, window, count)
    windows.index = pd.Index(np.arange(count) * window, name="t")
    minutes = (windows.index.to_numpy(dtype=float) + window / 2) / 60.0
    p95 = windows["p95_ms"].to_numpy(dtype=float)
    p95_line = fit(minutes, p95)
    if p95_line is None:
        return None
    error_line = fit(minutes, windows["error_rate_pct"].to_numpy(dtype=float))
    windows["p95_fit_ms"] = p95_line.intercept + p95_line.slope * minutes
    measured = np.flatnonzero(np.isfinite(p95))
    first, last = float(p95[measured[0]]), float(p95[measured[-1]])
    rise = p95_line.slope * float(minutes[measured[-1]] - minutes[measured[0]])
    summary: dict[str, Any] = {
        "source": analysis.source,
        "window_s": window,
        "windows": count,
        "p95_first_window_ms": first,
        "p95_last_window_ms": last,
        "p95_slope_ms_per_min": p95_line.slope,
        "p95_rise_pct": rise / first * 100.0 if first > 0 else None,
        "p95_slope_significant": bool(
            rise > RISE_LIMIT_PCT / 100.0 * first
            and p95_line.slope > 0
            and p95_line.slope >= MIN_T * p95_line.stderr
        ),
        "error_rate_slope_pct_per_min": error_line.slope if error_line else None,
    }
    end = t0 + count * window
    rss_summary, rss = rss_drift(server_history, t0, end)
    summary.update(rss_summary)
    summary["cache_size_max"] = _cache_size_max(server_history, t0, end)
    summary["series"] = [
        {
            "t": float(t),
            "requests": int(row.requests),
            "failures": int(row.failures),
            "p95_ms": float(row.p95_ms),
            "error_rate_pct": float(row.error_rate_pct),
        }
        for t, row in zip(windows.index, windows.itertuples(), strict=True)
    ]
    return Drift(summary, windows, rss)


def request_windows(requests: pd.DataFrame, t0: float, window: float, count: int) -> pd.DataFrame:
    """Exact requests, failures, error rate and p95 of the requests sent in each window."""
    ts = requests["timestamp"].to_numpy(dtype=float)
    index = np.floor((ts - t0) / window).astype(np.int64)
    keep = (index >= 0) & (index < count)
    rt = requests["response_time_ms"].to_numpy(dtype=float)
    failed = ~requests["success"].to_numpy(dtype=bool)
    frame = group_stats(index[keep], rt[keep], failed[keep], count)
    return frame[WINDOW_COLUMNS].copy()


def fit(x: np.ndarray, y: np.ndarray) -> Line | None:
    """The least-squares line through the finite points; None with fewer than three."""
    ok = np.isfinite(y)
    if ok.sum() < MIN_FIT_POINTS:
        return None
    x, y = x[ok], y[ok]
    slope, intercept = np.polyfit(x, y, 1)
    residuals = y - (intercept + slope * x)
    spread = float(((x - x.mean()) ** 2).sum())
    stderr = math.sqrt(float((residuals**2).sum()) / (len(x) - 2) / spread)
    return Line(float(slope), float(intercept), stderr)


def rss_drift(
    server_history: pd.DataFrame | None, t0: float, end: float
) -> tuple[dict[str, Any], pd.Series | None]:
    """RSS after the warm-up and at the end, its peak, change, flatness and slope."""
    summary: dict[str, Any] = dict.fromkeys(
        (
            "rss_warmup_s",
            "rss_start_mb",
            "rss_end_mb",
            "rss_max_mb",
            "rss_change_pct",
            "rss_flat",
            "rss_slope_mb_per_min",
        )
    )
    samples = _in_run(server_history, "rss_bytes", t0, end)
    if samples is None or len(samples) < 2:
        return summary, None
    ts = samples.index.to_numpy(dtype=float)
    mb = samples.to_numpy(dtype=float) / MB
    skip = min(
        int(len(mb) * WARMUP_FRACTION),
        int(np.searchsorted(ts, ts[0] + WARMUP_MAX_S, side="left")),
    )
    start, after = float(mb[skip]), mb[skip:]
    line = fit((ts[skip:] - t0) / 60.0, after) if len(after) >= MIN_FIT_POINTS else None
    summary.update(
        rss_warmup_s=float(ts[skip] - ts[0]),
        rss_start_mb=start,
        rss_end_mb=float(mb[-1]),
        rss_max_mb=float(mb.max()),
        rss_change_pct=(mb[-1] - start) / start * 100.0 if start > 0 else None,
        rss_flat=bool(np.all(np.abs(after - start) <= RSS_TOLERANCE_PCT / 100.0 * start)),
        rss_slope_mb_per_min=line.slope if line else None,
    )
    return summary, pd.Series(mb, index=pd.Index(ts - t0, name="t"))


def _cache_size_max(
    server_history: pd.DataFrame | None, t0: float, end: float
) -> int | float | None:
    sizes = _in_run(server_history, "cache_size", t0, end)
    if sizes is None or not len(sizes):
        return None
    peak = float(sizes.max())
    return int(peak) if peak.is_integer() else peak


def _in_run(frame: pd.DataFrame | None, column: str, t0: float, end: float) -> pd.Series | None:
    """``column``'s values sampled within the run, indexed by their time, sorted."""
    if frame is None or column not in frame:
        return None
    t = frame["timestamp"]
    values = frame.loc[(t >= t0) & (t <= end), ["timestamp", column]].dropna()
    values = values.sort_values("timestamp", kind="stable")
    return pd.Series(values[column].to_numpy(dtype=float), index=values["timestamp"].to_numpy())
