"""PerformanceMonitor: rolling-window query timings, percentiles and bottlenecks.

Recording sits on every query's path, so it is one ``array.extend`` of three doubles and no
lock: the extend is a single C call under the GIL, so concurrent threads never interleave
part of a sample. The first double packs the query type and the time (type id * 2**32 plus
seconds since the monitor started: about a millisecond of resolution with 1,024 types); the
second is the duration in ms and the third 1.0 for a failed query, 0.0 otherwise. That is
24 bytes a sample and no object per sample.

The buffer keeps the newest ``max_samples`` samples. While it still holds every sample of
the window, statistics are exact. Older samples are folded, minute by minute and type by
type, into mergeable aggregates (``perf_lib.aggregates``): count, failures, min, max, mean
and stdev stay exact, percentiles come from log-bucket histograms within 1 %, and memory is
bounded by the window's minutes rather than by the traffic.

Every figure is read from a ``WindowSnapshot``: the window copied once, so that figures read
from the same snapshot (a total and its per-type counts, a p95 and the bottlenecks above
it) always agree, whatever is recorded meanwhile.
"""

from __future__ import annotations

import math
import threading
import time
from array import array
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np

from perf_lib.aggregates import Aggregate, Samples, merge_all

__all__ = ["PerformanceMonitor", "WindowSnapshot", "get_performance_monitor"]

# Type and time share a double: 24 B a sample, not 32 (-25 % on "monitor memory per sample").
_SPAN = 2.0**32  # seconds per type id in a packed stamp
_FIELDS = 3  # doubles per sample: packed type and time, duration (ms), failed (1.0 or 0.0)
_MINUTE = 60.0
_OTHER = "other"
_INF = math.inf

Window = Samples | Aggregate


@dataclass(frozen=True)
class WindowSnapshot:
    """The monitor's window at one instant; every figure read from it is consistent.

    Built by ``PerformanceMonitor.snapshot()``. While the window's samples are all still in
    the monitor's buffer (``exact``) it holds them; otherwise one aggregate per query type.
    """

    names: list[str]
    window_seconds: float
    covered_seconds: float
    exact: bool
    # Exact mode: the window's raw samples.
    type_ids: np.ndarray | None = None
    samples: Samples | None = None
    # Aggregate mode: one aggregate per type.
    aggregates: dict[str, Aggregate] | None = None

    @cached_property
    def _by_type(self) -> dict[str, Window]:
        if self.aggregates is not None:
            return dict(self.aggregates)
        assert self.samples is not None and self.type_ids is not None
        split: dict[str, Window] = {}
        for type_id, name in enumerate(self.names):
            mine = self.type_ids == type_id
            if mine.any():
                split[name] = Samples(self.samples.durations[mine], self.samples.failed[mine])
        return split

    def _combined(self) -> Window | None:
        if self.samples is not None:
            return self.samples if self.samples.count else None
        return merge_all(self.aggregates.values()) if self.aggregates else None

    def stats(self, query_type: str | None = None) -> dict[str, Any]:
        """The "stats" object of one query type, or of all types together."""
        data = self._combined() if query_type is None else self._by_type.get(query_type)
        return {"query_type": query_type if query_type is not None else "all", **_stats(data)}

    def stats_by_type(self) -> dict[str, dict[str, Any]]:
        """The "stats" object of every query type in the window."""
        return {name: {"query_type": name, **_stats(data)} for name, data in self._by_type.items()}

    def query_types(self) -> dict[str, int]:
        """How many queries of each type the window holds."""
        return {name: data.count for name, data in self._by_type.items()}

    def bottlenecks(self, threshold_ms: float | None = None) -> list[dict[str, Any]]:
        """Per query type, the queries above ``threshold_ms`` (default: that type's p95),
        the types with the most slow time first."""
        bottlenecks = []
        for name, data in self._by_type.items():
            threshold = data.percentiles([95])[0] if threshold_ms is None else threshold_ms
            slow_count, avg_slow, max_slow = data.above(threshold)
            if slow_count:
                bottlenecks.append(
                    {
                        "query_type": name,
                        "slow_count": slow_count,
                        "threshold_ms": threshold,
                        "avg_slow_ms": avg_slow,
                        "max_slow_ms": max_slow,
                        "pct_of_total": 100.0 * slow_count / data.count,
                    }
                )
        bottlenecks.sort(key=lambda b: b["slow_count"] * b["avg_slow_ms"], reverse=True)
        return bottlenecks

    def summary(self) -> dict[str, Any]:
        """The "performance" object: all types together, plus the window actually covered."""
        stats = _stats(self._combined())
        return {
            "total_queries": stats["total"],
            "successful": stats["successful"],
            "failed": stats["failed"],
            "error_rate_pct": stats["error_rate_pct"],
            "avg_duration_ms": stats["mean_ms"],
            "median_duration_ms": stats["median_ms"],
            "p95_duration_ms": stats["p95_ms"],
            "p99_duration_ms": stats["p99_ms"],
            "min_duration_ms": stats["min_ms"],
            "max_duration_ms": stats["max_ms"],
            "stdev_duration_ms": stats["stdev_ms"],
            "window_hours": self.window_seconds / 3600.0,
            "window_seconds_covered": self.covered_seconds,
            "exact": self.exact,
        }


class PerformanceMonitor:
    """Query timings over a rolling window (``window_seconds``, default 24 h).

    ``timer`` (default ``time.monotonic``) is the clock for the window and for ``timer()``
    blocks, so tests move time instead of sleeping. Metadata passed to ``record_query`` is
    accepted for call-site compatibility and discarded: it is never stored.

    Memory: the buffer holds at most 1.4 x ``max_samples`` samples of 24 bytes; beyond it,
    one aggregate per minute of the window and query type, each under 500 bytes plus 12
    bytes per occupied histogram bucket (about 3,000 buckets span 1 ns to 2.8 h).
    """

    def __init__(
        self,
        window_seconds: float = 86400.0,
        max_samples: int = 10_000,
        *,
        timer: Callable[[], float] = time.monotonic,
        max_query_types: int = 1024,
    ) -> None:
        if not (isinstance(window_seconds, int | float) and 0 < window_seconds < _INF):
            raise ValueError(f"window_seconds must be a positive number, not {window_seconds!r}")
        if isinstance(max_samples, bool) or not isinstance(max_samples, int) or max_samples < 1:
            raise ValueError(f"max_samples must be a positive integer, not {max_samples!r}")
        if not 1 <= max_query_types <= 1024:
            raise ValueError("max_query_types must be between 1 and 1024")
        self.window_seconds = float(window_seconds)
        self.max_samples = max_samples
        self.max_query_types = max_query_types
        self._timer = timer
        self._t0 = timer()
        self._buffer = array("d")
        # Compact once the buffer is 40 % over: folds come in batches that amortise their
        # fixed cost, and the buffer stays within 1.4 samples per max_samples slot.
        self._limit = _FIELDS * (max_samples + max(max_samples * 2 // 5, 1))
        self._offsets: dict[str, float] = {}
        self._names: list[str] = []
        self._lock = threading.Lock()
        self._minutes: dict[int, dict[int, Aggregate]] = {}
        self._folded_until = -_INF  # time of the newest sample folded out of the buffer

    # ------------------------------------------------------------ recording

    def record(self, query_type: str, duration_ms: float, success: bool = True) -> None:
        """Record one query; raises ValueError for a negative or non-finite duration."""
        if not 0.0 <= duration_ms < _INF:
            raise ValueError(f"duration_ms must be a finite number >= 0, not {duration_ms!r}")
        offset = self._offsets.get(query_type)
        if offset is None:
            offset = self._register(query_type)
        self._buffer.extend((offset + self._timer(), duration_ms, 0.0 if success else 1.0))
        if len(self._buffer) > self._limit:
            self._compact()

    async def record_query(
        self, query_type: str, duration_ms: float, success: bool = True, **metadata: Any
    ) -> None:
        """Async twin of ``record``; ``metadata`` is accepted and never kept."""
        self.record(query_type, duration_ms, success)

    @contextmanager
    def timer(self, query_type: str) -> Iterator[None]:
        """Time a block; an exception records a failure and propagates."""
        start = self._timer()
        try:
            yield
        except Exception:
            self.record(query_type, max(0.0, (self._timer() - start) * 1000.0), success=False)
            raise
        self.record(query_type, max(0.0, (self._timer() - start) * 1000.0), success=True)

    def _register(self, query_type: str) -> float:
        if not isinstance(query_type, str):
            raise TypeError(f"query_type must be a str, not {type(query_type).__name__}")
        with self._lock:
            if query_type in self._offsets:
                return self._offsets[query_type]
            if len(self._names) >= self.max_query_types - 1 and query_type != _OTHER:
                # Past the cap, new names share one bucket instead of growing memory.
                if _OTHER not in self._offsets:
                    self._add_type(_OTHER)
                return self._offsets[_OTHER]
            return self._add_type(query_type)

    def _add_type(self, name: str) -> float:
        offset = len(self._names) * _SPAN - self._t0
        self._names.append(name)
        self._offsets[name] = offset
        return offset

    # ----------------------------------------------------- buffer and folds

    def _decode(self, raw: array) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(type ids, seconds since start, durations, failed) of packed samples."""
        samples = np.frombuffer(raw, dtype=np.float64).reshape(-1, _FIELDS)
        stamps = samples[:, 0]
        type_ids = np.floor((stamps + _SPAN / 2) / _SPAN)
        seconds = stamps - type_ids * _SPAN
        return type_ids.astype(np.int64), seconds, samples[:, 1], samples[:, 2] != 0.0

    def _compact(self) -> None:
        with self._lock:
            buffer = self._buffer
            excess = len(buffer) - _FIELDS * self.max_samples
            if excess <= 0:
                return
            oldest = buffer[:excess]  # a copy; other threads only ever append meanwhile
            del buffer[:excess]
            self._fold(*self._decode(oldest))

    def _fold(
        self, type_ids: np.ndarray, seconds: np.ndarray, durations: np.ndarray, failed: np.ndarray
    ) -> None:
        """Merge samples leaving the buffer into per-minute aggregates; caller holds the lock."""
        self._folded_until = max(self._folded_until, float(seconds.max()))
        first_minute = self._first_minute(self._timer() - self._t0)
        minutes = np.floor(seconds / _MINUTE).astype(np.int64)
        keep = minutes >= first_minute
        if not keep.any():
            self._drop_minutes_before(first_minute)
            return
        groups = minutes[keep] * 2048 + type_ids[keep]
        durations, failed = durations[keep], failed[keep]
        if groups[0] == groups[-1] and (groups == groups[0]).all():
            self._merge_into(int(groups[0]), Aggregate.of(durations, failed))  # the usual case
        else:
            order = np.argsort(groups, kind="stable")
            groups, durations, failed = groups[order], durations[order], failed[order]
            edges = np.flatnonzero(np.diff(groups)) + 1
            for start, end in zip(
                [0, *edges.tolist()], [*edges.tolist(), groups.size], strict=True
            ):
                part = Aggregate.of(durations[start:end], failed[start:end])
                self._merge_into(int(groups[start]), part)
        self._drop_minutes_before(first_minute)

    def _merge_into(self, group: int, part: Aggregate) -> None:
        minute, type_id = divmod(group, 2048)
        by_type = self._minutes.setdefault(minute, {})
        previous = by_type.get(type_id)
        by_type[type_id] = part if previous is None else previous.merge(part)

    def _drop_minutes_before(self, first_minute: int) -> None:
        for minute in [m for m in self._minutes if m < first_minute]:
            del self._minutes[minute]

    def _first_minute(self, now: float) -> int:
        """The first whole minute inside the window ending at ``now``."""
        return math.ceil((now - self.window_seconds) / _MINUTE)

    # ------------------------------------------------------------- reading

    def snapshot(self) -> WindowSnapshot:
        """The window as it is now, copied once: read several figures from one snapshot and
        they agree with each other, whatever is recorded meanwhile."""
        with self._lock:
            now = self._timer() - self._t0
            raw = self._buffer[:]
            minutes = {m: dict(by_type) for m, by_type in self._minutes.items()}
            folded_until = self._folded_until
            names = list(self._names)
        type_ids, seconds, durations, failed = self._decode(raw)
        cutoff = now - self.window_seconds
        if folded_until < cutoff:
            # Every sample of the window is still in the buffer: answer exactly.
            inside = seconds >= cutoff
            return WindowSnapshot(
                names,
                self.window_seconds,
                now - max(cutoff, 0.0),
                exact=True,
                type_ids=type_ids[inside],
                samples=Samples(durations[inside], failed[inside]),
            )
        first_minute = self._first_minute(now)
        start = first_minute * _MINUTE
        inside = seconds >= start
        aggregates: dict[str, Aggregate] = {}
        for type_id, name in enumerate(names):
            parts = [
                by_type[type_id]
                for minute, by_type in minutes.items()
                if minute >= first_minute and type_id in by_type
            ]
            mine = inside & (type_ids == type_id)
            if mine.any():
                parts.append(Aggregate.of(durations[mine], failed[mine]))
            combined = merge_all(parts)
            if combined is not None:
                aggregates[name] = combined
        return WindowSnapshot(
            names, self.window_seconds, now - max(start, 0.0), exact=False, aggregates=aggregates
        )

    async def get_stats(self, query_type: str | None = None) -> dict[str, Any]:
        """The "stats" object for one query type, or all types together."""
        return self.snapshot().stats(query_type)

    async def get_bottlenecks(self, threshold_ms: float | None = None) -> list[dict[str, Any]]:
        """Per query type, the queries above ``threshold_ms`` (default: that type's p95)."""
        return self.snapshot().bottlenecks(threshold_ms)

    async def get_summary(self) -> dict[str, Any]:
        """The "performance" object, plus the window it actually covers."""
        return self.snapshot().summary()

    def __repr__(self) -> str:
        return (
            f"PerformanceMonitor(window_seconds={self.window_seconds:g}, "
            f"max_samples={self.max_samples}, query_types={len(self._names)})"
        )


def _stats(data: Window | None) -> dict[str, Any]:
    if data is None or data.count == 0:
        return {
            "total": 0, "successful": 0, "failed": 0, "error_rate_pct": 0.0,
            "min_ms": None, "max_ms": None, "mean_ms": None, "median_ms": None,
            "p95_ms": None, "p99_ms": None, "stdev_ms": None,
        }  # fmt: skip
    median, p95, p99 = data.percentiles([50, 95, 99])
    failed = data.failures
    return {
        "total": data.count,
        "successful": data.count - failed,
        "failed": failed,
        "error_rate_pct": 100.0 * failed / data.count,
        "min_ms": data.min,
        "max_ms": data.max,
        "mean_ms": data.mean,
        "median_ms": median,
        "p95_ms": p95,
        "p99_ms": p99,
        "stdev_ms": data.stdev,
    }


_default_monitor: PerformanceMonitor | None = None
_default_lock = threading.Lock()


def get_performance_monitor() -> PerformanceMonitor:
    """The process-wide monitor (24 h window, 10,000 exact samples), created on first use."""
    global _default_monitor
    if _default_monitor is None:
        with _default_lock:
            if _default_monitor is None:
                _default_monitor = PerformanceMonitor()
    return _default_monitor
