"""Per-endpoint, per-phase and per-second statistics from the per-request frame.

Every count and percentile comes from the response times of the requests themselves, so with a
request log totals are exact (Locust's own CSVs can be a second stale) and percentiles are not
rounded. Without one, the frame holds the requests ``fallback.py`` rebuilt from Locust's CSVs:
the same computation, on approximate data, which ``source`` names.

An open-model run's response times are measured from each request's intended start; the times
measured from the actual send (``uncorrected_ms``) then get their own percentiles beside them, in
the ``uncorrected_*`` columns of every table, so the report can show what the correction changed.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from reports.open_model import UNCORRECTED
from reports.phases import Phase, assign
from reports.stats import QUANTILES, group_stats, grouped_quantiles

# Charts stay readable and fast with at most this many time buckets.
MAX_CHART_BUCKETS = 1800
TOP_ERRORS = 5
#: Each percentile column's twin for the times measured from the actual send (corrected runs).
UNCORRECTED_COLUMNS = {column: f"uncorrected_{column}" for column in QUANTILES}


@dataclass
class Analysis:
    """What the report says about the client side, whatever the data source."""

    source: str
    phases: list[Phase]
    t0: float
    span_s: float
    totals: dict[str, float]
    endpoints: pd.DataFrame
    phase_table: pd.DataFrame
    phase_endpoints: list[pd.DataFrame]
    series: pd.DataFrame
    bucket_s: float
    users: pd.DataFrame | None = None
    top_errors: list[dict[str, object]] = field(default_factory=list)
    outside_phases: int = 0
    #: Whether response times are measured from the intended start (tables then also hold
    #: the ``UNCORRECTED_COLUMNS``).
    corrected: bool = False


def chart_bucket(span_s: float) -> float:
    """Seconds per chart bucket: 1 s up to 30 min, coarser beyond so charts stay light."""
    return float(max(1, math.ceil(span_s / MAX_CHART_BUCKETS)))


def run_window(phases: Sequence[Phase], first: float, last: float) -> tuple[float, float]:
    """The run's start and length: the phases' span, or the requests' span without phases."""
    if phases:
        return phases[0].start, max(phases[-1].end - phases[0].start, 0.0)
    return first, max(last - first, 0.0)


def analyse_requests(
    requests: pd.DataFrame,
    phases: list[Phase],
    users: pd.DataFrame | None = None,
    source: str = "request log",
) -> Analysis:
    """The full client-side analysis of a (time-sorted) request frame."""
    ts = requests["timestamp"].to_numpy(dtype=np.float64)
    rt = requests["response_time_ms"].to_numpy(dtype=np.float64)
    failed = ~requests["success"].to_numpy(dtype=bool)
    measured = requests[UNCORRECTED].to_numpy(dtype=np.float64) if UNCORRECTED in requests else None

    def grouped(codes: np.ndarray, keep: np.ndarray | slice, n: int) -> pd.DataFrame:
        """``group_stats`` of the ``keep`` rows, and their uncorrected percentiles if any."""
        frame = group_stats(codes, rt[keep], failed[keep], n)
        if measured is not None:
            q = grouped_quantiles(codes, measured[keep], n, tuple(QUANTILES.values()))
            for j, column in enumerate(UNCORRECTED_COLUMNS.values()):
                frame[column] = q[:, j]
        return frame

    everything = slice(None)
    names = requests["name"].cat
    name_codes = names.codes.to_numpy(dtype=np.int64)
    categories = list(names.categories)
    t0, span = run_window(phases, float(ts[0]), float(ts[-1]))

    endpoints = _with_rps(grouped(name_codes, everything, len(categories)), span)
    endpoints.index = pd.Index(categories, name="name")
    endpoints = endpoints[endpoints["requests"] > 0].sort_index()

    totals = grouped(np.zeros(len(ts), np.int64), everything, 1).iloc[0].to_dict()
    totals["rps"] = _rate(totals["requests"], span)

    phase_of = assign(ts, phases)
    inside = phase_of >= 0
    phase_table = grouped(phase_of[inside], inside, len(phases))
    phase_table["rps"] = [
        _rate(n, p.duration) for n, p in zip(phase_table["requests"], phases, strict=True)
    ]
    combined = phase_of[inside] * len(categories) + name_codes[inside]
    per_pair = grouped(combined, inside, len(phases) * len(categories))
    phase_endpoints = []
    for i, phase in enumerate(phases):
        block = per_pair.iloc[i * len(categories) : (i + 1) * len(categories)].copy()
        block.index = pd.Index(categories, name="name")
        block = _with_rps(block[block["requests"] > 0], phase.duration).sort_index()
        phase_endpoints.append(block)

    # The charts cover the phases and every request, even when run.json's phases are far off.
    bucket = chart_bucket(max(t0 + span, float(ts[-1])) - min(t0, float(ts[0])))
    return Analysis(
        source=source,
        phases=phases,
        t0=t0,
        span_s=span,
        totals=totals,
        endpoints=endpoints,
        phase_table=phase_table,
        phase_endpoints=phase_endpoints,
        series=time_series(ts, rt, failed, t0, bucket),
        bucket_s=bucket,
        users=users,
        top_errors=top_errors(requests, failed),
        outside_phases=int((~inside).sum()) if phases else 0,
        corrected=measured is not None,
    )


def span_stats(requests: pd.DataFrame, start: float, end: float) -> dict[str, float]:
    """Requests, failures, error rate, mean and percentiles of those sent in ``[start, end)``."""
    ts = requests["timestamp"].to_numpy(dtype=np.float64)
    first, last = np.searchsorted(ts, [start, end], side="left")
    rt = requests["response_time_ms"].to_numpy(dtype=np.float64)[first:last]
    failed = ~requests["success"].to_numpy(dtype=bool)[first:last]
    return group_stats(np.zeros(len(rt), np.int64), rt, failed, 1).iloc[0].to_dict()


def time_series(
    ts: np.ndarray, rt: np.ndarray, failed: np.ndarray, t0: float, bucket: float
) -> pd.DataFrame:
    """Exact statistics per time bucket of send time; index = bucket start, seconds from t0."""
    offsets = np.floor((ts - t0) / bucket).astype(np.int64)
    low = min(int(offsets.min()), 0) if len(offsets) else 0
    offsets -= low
    n = int(offsets.max()) + 1 if len(offsets) else 0
    frame = group_stats(offsets, rt, failed, n)
    frame["rps"] = frame["requests"] / bucket
    frame["fail_per_s"] = frame["failures"] / bucket
    frame.index = pd.Index((np.arange(n) + low) * bucket, name="t")
    return frame


def top_errors(requests: pd.DataFrame, failed: np.ndarray) -> list[dict[str, object]]:
    """The most frequent failures per endpoint and message, from the request log."""
    if not failed.any():
        return []
    rows = requests.loc[failed, ["name"]].astype({"name": str})
    if "exception" in requests:
        rows["message"] = requests.loc[failed, "exception"].str.slice(0, 300)
    else:
        rows["message"] = ""
    if "status_code" in requests:
        codes = requests.loc[failed, "status_code"].fillna(0).astype(np.int64)
        status = ("HTTP " + codes.astype(str)).where(codes != 0, "no response")
        rows["message"] = rows["message"].where(rows["message"] != "", status)
    rows["message"] = rows["message"].where(rows["message"] != "", "failed (no message)")
    counts = rows.value_counts(["name", "message"]).head(TOP_ERRORS)
    return [
        {"endpoint": name, "message": message, "count": int(count)}
        for (name, message), count in counts.items()
    ]


def _with_rps(frame: pd.DataFrame, seconds: float) -> pd.DataFrame:
    frame = frame.copy()
    frame["rps"] = [_rate(n, seconds) for n in frame["requests"]]
    return frame


def _rate(count: float, seconds: float) -> float:
    return float(count) / seconds if seconds > 0 else math.nan
