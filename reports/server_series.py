"""Prometheus series sampled from the server: what each one means, per phase and per second.

server_history.csv in the series format holds one column per Prometheus sample name (summed over
its label sets), sampled about once a second. A counter (``_total``, ``_count``, ``_sum``) says
nothing by its value, only by its growth, so it is shown as a rate: growth over the seconds it
took, a drop counted as a restart from zero, as Prometheus' ``rate()`` does. A gauge is shown as
its mean. CPU seconds become % of one core and bytes MiB, the units people read.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd

from reports.phases import Phase

COUNTER_SUFFIXES = ("_total", "_count", "_sum")
#: Panels of the series chart: more would be too small to read (report.json has every series).
MAX_CHARTED = 8
MIB = float(2**20)
METHOD = (
    "Counters (names ending _total, _count or _sum) are rates: their growth between the last "
    "sample before a span and the last one in it, over the seconds between those samples (a "
    "drop counted as a restart from zero); gauges are the mean of their samples in the span. "
    "CPU seconds are shown as % of one core, bytes in MiB."
)


@dataclass(frozen=True)
class Metric:
    """How one series is shown: a counter as its rate, a gauge as sampled, times ``scale``."""

    name: str
    kind: Literal["counter", "gauge"]
    unit: str
    scale: float = 1.0
    conversion: str = ""  # how ``scale`` turns the series into ``unit``

    def how(self) -> str:
        """How its figures are measured: the report's ``source`` for it."""
        column = f"server_history.csv {self.name} (summed over label sets)"
        if self.kind == "counter":
            how = (
                f"{column}: growth between the last sample before the span and the last one in "
                "it (a drop counted as a restart from zero), over the seconds between them"
            )
        else:
            how = f"{column}: mean of the samples in the span"
        return f"{how}, {self.conversion}" if self.conversion else how


def describe(name: str) -> Metric:
    """What a series is, told by its name as Prometheus' naming conventions have it."""
    if not name.endswith(COUNTER_SUFFIXES):
        if name.endswith("_bytes"):
            return Metric(name, "gauge", "MiB", 1 / MIB, "in MiB (2^20 bytes)")
        return Metric(name, "gauge", "as sampled")
    if name.endswith("cpu_seconds_total"):
        return Metric(name, "counter", "% of one core", 100.0, "× 100: % of one core")
    if name.endswith("_bytes_total"):
        return Metric(name, "counter", "MiB per second", 1 / MIB, "in MiB (2^20 bytes)")
    return Metric(name, "counter", "per second")


def series_names(history: pd.DataFrame) -> list[str]:
    return [name for name in history.columns if name != "timestamp"]


def summarise(history: pd.DataFrame, phases: Sequence[Phase]) -> list[dict[str, Any]]:
    """report.json's ``series``: each one's kind and unit, its value over all the phases and in
    each (NaN where there is no data)."""
    start, end = phases[0].start, phases[-1].end
    out = []
    for name in series_names(history):
        metric = describe(name)
        t, v = samples(history, name)
        out.append(
            {
                "name": name,
                "kind": metric.kind,
                "unit": metric.unit,
                "overall": span_value(t, v, metric, start, end),
                "phases": [
                    {"phase": p.name, "value": span_value(t, v, metric, p.start, p.end)}
                    for p in phases
                ],
                "source": metric.how(),
            }
        )
    return out


def per_second(history: pd.DataFrame, t0: float) -> pd.DataFrame:
    """Each series as drawn, in its unit: a counter's rate between consecutive samples (at the
    later one), a gauge as sampled. Index: seconds from ``t0``."""
    columns = {}
    for name in series_names(history):
        metric = describe(name)
        t, v = samples(history, name)
        if metric.kind == "counter":
            t, v = t[1:], _growth(v) / np.diff(t)
        columns[name] = pd.Series(v * metric.scale, index=t - t0)
    return pd.DataFrame(columns, columns=series_names(history))


def samples(history: pd.DataFrame, name: str) -> tuple[np.ndarray, np.ndarray]:
    """The times and values of one series where it was present, in time order, one per time."""
    present = history[["timestamp", name]].dropna().sort_values("timestamp", kind="stable")
    present = present.drop_duplicates("timestamp", keep="last")
    return present["timestamp"].to_numpy(dtype=float), present[name].to_numpy(dtype=float)


def span_value(t: np.ndarray, v: np.ndarray, metric: Metric, start: float, end: float) -> float:
    """A gauge's mean in ``[start, end]``, or a counter's rate over it; NaN without the data."""
    if metric.kind == "gauge":
        inside = v[(t >= start) & (t <= end)]
        return float(inside.mean()) * metric.scale if len(inside) else math.nan
    bounds = bounding_samples(t, start, end)
    if bounds is None:
        return math.nan
    first, last = bounds
    return float(_growth(v[first : last + 1]).sum() / (t[last] - t[first])) * metric.scale


def bounding_samples(t: np.ndarray, start: float, end: float) -> tuple[int, int] | None:
    """The samples that a counter's growth over ``[start, end]`` is measured between: the last
    one at or before ``start`` (else the first inside) and the last inside. ``t`` is sorted;
    None without two distinct samples."""
    inside = np.flatnonzero((t >= start) & (t <= end))
    if len(inside) == 0:
        return None
    before = int(np.searchsorted(t, start, side="right")) - 1
    first = before if before >= 0 else int(inside[0])
    last = int(inside[-1])
    return (first, last) if t[last] > t[first] else None


def _growth(v: np.ndarray) -> np.ndarray:
    """A counter's growth between consecutive samples; after a drop (a restart), its new value."""
    steps = np.diff(v)
    return np.where(steps >= 0, steps, v[1:])
