"""Request and query metrics: one Prometheus registry per app, and its JSON summary.

Requests and queries are counted on the event loop thread only, so the counts are plain
Python lists updated without a lock: a few hundred nanoseconds per request, where
prometheus_client's locked counter and histogram cost several times that. A collector turns
them into Prometheus counters and histograms when ``/metrics`` is scraped, and
``/api/v1/metrics`` is computed from the same counts, so the two views never disagree.

Labels are bounded: routes are templates (paths that match no route share ``<unmatched>``)
and unusual methods share ``OTHER``, so random URLs and methods cannot grow memory.
"""

from __future__ import annotations

import time
from bisect import bisect_left
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from prometheus_client import CollectorRegistry, ProcessCollector, generate_latest
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.utils import floatToGoString

from perf_lib.cache import QueryCache
from perf_lib.monitor import PerformanceMonitor

__all__ = ["UNMATCHED", "LabelledHistogram", "ServiceMetrics"]

UNMATCHED = "<unmatched>"
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
LATENCY_BUCKETS = (
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
)  # fmt: skip


class LabelledHistogram:
    """Count, sum and bucket counts of observations per label values; single-threaded.

    Each label set holds ``[count, sum, bucket_0, ..., bucket_n, overflow]`` with
    non-cumulative buckets (cumulated when collected).
    """

    def __init__(
        self,
        counter_name: str,
        histogram_name: str,
        documentation: str,
        labelnames: tuple[str, ...],
        buckets: tuple[float, ...] = LATENCY_BUCKETS,
    ) -> None:
        self.counter_name = counter_name
        self.histogram_name = histogram_name
        self.documentation = documentation
        self.labelnames = labelnames
        self.buckets = tuple(buckets)
        self.series: dict[tuple[str, ...], list[Any]] = {}

    def observe(self, labels: tuple[str, ...], value: float) -> None:
        series = self.series.get(labels)
        if series is None:
            series = self.series[labels] = [0, 0.0] + [0] * (len(self.buckets) + 1)
        series[0] += 1
        series[1] += value
        series[2 + bisect_left(self.buckets, value)] += 1

    def collect(self) -> Iterator[Metric]:
        """The counter (count per label set) and the histogram (durations, seconds)."""
        counter = CounterMetricFamily(self.counter_name, self.documentation, labels=self.labelnames)
        histogram = HistogramMetricFamily(
            self.histogram_name, self.documentation, labels=self.labelnames
        )
        bounds = [*map(floatToGoString, self.buckets), "+Inf"]
        for labels, series in list(self.series.items()):
            labels = tuple(map(str, labels))
            counter.add_metric(labels, series[0])
            cumulative, total = [], 0
            for bound, count in zip(bounds, series[2:], strict=True):
                total += count
                cumulative.append((bound, total))
            histogram.add_metric(labels, cumulative, series[1])
        yield counter
        yield histogram


class _Collector:
    """Adapts ``collect`` callables to prometheus_client's collector interface."""

    def __init__(self, *sources: Callable[[], Iterable[Metric]]) -> None:
        self._sources = sources

    def collect(self) -> Iterator[Metric]:
        for source in self._sources:
            yield from source()


class ServiceMetrics:
    """Counts requests by route template, method and status, and database queries by type."""

    def __init__(self, cache: QueryCache, monitor: PerformanceMonitor) -> None:
        self.started = time.monotonic()
        self._cache = cache
        self._monitor = monitor
        self.requests = LabelledHistogram(
            "market_api_requests",
            "market_api_request_duration_seconds",
            "HTTP requests by route template, method and status",
            ("route", "method", "status"),
        )
        self._before_read: list[Callable[[], None]] = []
        self.registry = CollectorRegistry()
        self.registry.register(
            _Collector(self.requests.collect, self._collect_queries, self._collect_cache)
        )
        # The process's CPU seconds and resident memory, for a sampler that reads /metrics.
        ProcessCollector(registry=self.registry)

    def before_read(self, apply_pending: Callable[[], None]) -> None:
        """Have ``apply_pending`` (requests recorded but not yet counted) run before a read."""
        self._before_read.append(apply_pending)

    def _apply_pending(self) -> None:
        for apply_pending in self._before_read:
            apply_pending()

    def uptime_seconds(self) -> float:
        return time.monotonic() - self.started

    @staticmethod
    def request_labels(route: str, method: str, status: int) -> tuple[str, str, int]:
        """What ``requests`` counts a request under; the status becomes a label when collected.

        Unusual methods share ``OTHER``."""
        return (route, method if method in _METHODS else "OTHER", status)

    def _collect_queries(self) -> Iterator[Metric]:
        """Database queries from the PerformanceMonitor's window, read at scrape time.

        The monitor already times every query, so the scrape reads it instead of a second
        per-query histogram: nothing is added to the query path. Window figures go up and
        down as the window rolls, so they are gauges (client-side quantiles, as a Prometheus
        summary computes them).
        """
        labels = ("query_type",)
        total = GaugeMetricFamily(
            "market_api_db_queries_window",
            "Database queries in the monitor's window",
            labels=labels,
        )
        failed = GaugeMetricFamily(
            "market_api_db_query_failures_window",
            "Failed queries in the monitor's window",
            labels=labels,
        )
        quantiles = GaugeMetricFamily(
            "market_api_db_query_duration_ms",
            "Query duration quantiles over the monitor's window (injected latency included)",
            labels=("query_type", "quantile"),
        )
        for name, stats in self._monitor.snapshot().stats_by_type().items():
            total.add_metric((name,), stats["total"])
            failed.add_metric((name,), stats["failed"])
            for quantile, key in (("0.5", "median_ms"), ("0.95", "p95_ms"), ("0.99", "p99_ms")):
                quantiles.add_metric((name, quantile), stats[key])
        yield total
        yield failed
        yield quantiles

    def _collect_cache(self) -> Iterator[Metric]:
        stats = self._cache.stats()
        for name, documentation in (
            ("hits", "Cache lookups that found a live entry"),
            ("misses", "Cache lookups that found nothing (or an expired entry)"),
            ("evictions", "Entries evicted to stay within max_size"),
        ):
            yield CounterMetricFamily(f"market_api_cache_{name}", documentation, stats[name])
        yield GaugeMetricFamily("market_api_cache_size", "Entries in the cache", stats["size"])
        yield GaugeMetricFamily(
            "market_api_cache_max_size", "Capacity of the cache", stats["max_size"]
        )

    def summary(self) -> dict[str, Any]:
        """The ``/api/v1/metrics`` body: totals and, per route template, count/errors/avg_ms.

        ``errors`` are 5xx answers, ``client_errors`` 4xx answers.
        """
        self._apply_pending()
        routes: dict[str, dict[str, Any]] = {}
        for (route, _method, status), series in list(self.requests.series.items()):
            entry = routes.setdefault(
                route, {"count": 0, "errors": 0, "client_errors": 0, "seconds": 0.0}
            )
            entry["count"] += series[0]
            entry["seconds"] += series[1]
            if status >= 500:
                entry["errors"] += series[0]
            elif status >= 400:
                entry["client_errors"] += series[0]
        for entry in routes.values():
            entry["avg_ms"] = round(1000.0 * entry.pop("seconds") / entry["count"], 3)
        return {
            "requests_total": sum(e["count"] for e in routes.values()),
            "errors_total": sum(e["errors"] for e in routes.values()),
            "client_errors_total": sum(e["client_errors"] for e in routes.values()),
            "routes": dict(sorted(routes.items())),
            "uptime_seconds": round(self.uptime_seconds(), 3),
        }

    def exposition(self) -> bytes:
        """The Prometheus text format of every metric in this app's registry."""
        self._apply_pending()
        return generate_latest(self.registry)
