"""perf_lib's FastAPI router: the three performance endpoints, on any FastAPI app."""

from __future__ import annotations

import subprocess
import sys
from datetime import datetime

import orjson
import pytest
from fastapi import FastAPI
from starlette.testclient import TestClient

from perf_lib.cache import QueryCache
from perf_lib.fastapi_router import performance_router
from perf_lib.monitor import PerformanceMonitor
from perf_lib.thresholds import Thresholds
from tests.fakes import FakeClock

#: The fields that clients of the three endpoints rely on (the endpoints may add more).
CACHE_FIELDS = {"size", "max_size", "hits", "misses", "hit_rate_pct", "default_ttl_seconds"}
STATS_FIELDS = {
    "query_type", "total", "successful", "failed", "error_rate_pct", "min_ms", "max_ms",
    "mean_ms", "median_ms", "p95_ms", "p99_ms", "stdev_ms",
}  # fmt: skip
BOTTLENECK_FIELDS = {"query_type", "slow_count", "threshold_ms", "avg_slow_ms"}
PERFORMANCE_FIELDS = {
    "total_queries", "successful", "failed", "error_rate_pct", "avg_duration_ms",
    "median_duration_ms", "p95_duration_ms", "p99_duration_ms", "min_duration_ms",
    "max_duration_ms", "window_hours",
}  # fmt: skip


@pytest.fixture
def parts() -> tuple[QueryCache, PerformanceMonitor]:
    cache = QueryCache(max_size=10, default_ttl=60)
    cache.set_sync("historical_data", b"x", symbol="AAPL")
    for _ in range(3):
        cache.get_sync("historical_data", symbol="AAPL")
    cache.get_sync("historical_data", symbol="MSFT")
    monitor = PerformanceMonitor(timer=lambda: 100.0)
    for i in range(100):
        monitor.record("historical_data", 10.0 + i, success=i % 50 != 0)
    monitor.record("status_check", 2.0)
    return cache, monitor


def get(app: FastAPI, path: str) -> dict:
    with TestClient(app) as client:
        response = client.get(path)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    return orjson.loads(response.content)


def app_with(cache, monitor, thresholds=None, **kwargs) -> FastAPI:
    app = FastAPI()
    app.include_router(performance_router(cache, monitor, thresholds, **kwargs))
    return app


def test_cache_endpoint_has_the_documented_fields(parts):
    body = get(app_with(*parts), "/api/v1/performance/cache")
    assert set(body) == {"timestamp", "cache"}
    assert datetime.fromisoformat(body["timestamp"]).tzinfo is not None
    assert set(body["cache"]) >= CACHE_FIELDS
    assert (body["cache"]["hits"], body["cache"]["misses"], body["cache"]["size"]) == (3, 1, 1)
    assert body["cache"]["hit_rate_pct"] == 75.0


def test_queries_endpoint_has_the_documented_fields(parts):
    body = get(app_with(*parts), "/api/v1/performance/queries")
    assert set(body["stats"]) >= STATS_FIELDS
    assert body["stats"]["total"] == 101 and body["stats"]["failed"] == 2
    assert body["query_types"] == {"historical_data": 100, "status_check": 1}
    assert body["stats_by_type"]["status_check"]["mean_ms"] == 2.0
    (slow,) = body["bottlenecks"]
    assert slow["query_type"] == "historical_data" and set(slow) >= BOTTLENECK_FIELDS


def test_summary_endpoint_has_the_documented_fields_and_advice(parts):
    body = get(app_with(*parts), "/api/v1/performance/summary")
    assert set(body) == {"timestamp", "cache", "performance", "bottlenecks", "recommendations"}
    assert set(body["performance"]) >= PERFORMANCE_FIELDS
    assert body["performance"]["error_rate_pct"] == pytest.approx(100 * 2 / 101)
    advice = body["recommendations"]
    assert advice[0] == "Cache hit rate is good at 75.0%"
    assert any(line.startswith("Error rate is degraded") for line in advice)
    assert any("historical_data" in line for line in advice)


class SteppingClock(FakeClock):
    """A clock that moves ``step`` seconds every time it is read."""

    step = 0.0

    def __call__(self) -> float:
        now = self.now
        self.now += self.step
        return now


def test_queries_are_answered_from_one_view_of_the_window():
    """Samples leave the window while the response is built (each read of the clock moves it
    on by 7 s), yet its totals, per-type figures and bottlenecks all describe one window."""
    clock = SteppingClock()
    monitor = PerformanceMonitor(window_seconds=60, timer=clock)
    for second in range(60):
        monitor.record("historical_data", float(second), success=second % 10 != 0)
        monitor.record("symbols", 100.0 + second)
        clock.advance(1)
    clock.step = 7.0
    body = get(app_with(QueryCache(), monitor), "/api/v1/performance/queries")
    by_type = body["stats_by_type"]
    assert body["query_types"] == {name: stats["total"] for name, stats in by_type.items()}
    assert body["stats"]["total"] == sum(body["query_types"].values()) == 120
    assert body["stats"]["failed"] == sum(stats["failed"] for stats in by_type.values())
    assert {b["query_type"] for b in body["bottlenecks"]} == set(by_type)
    for bottleneck in body["bottlenecks"]:
        of_type = by_type[bottleneck["query_type"]]
        assert bottleneck["threshold_ms"] == of_type["p95_ms"]
        assert bottleneck["max_slow_ms"] == of_type["max_ms"]
        assert bottleneck["pct_of_total"] == 100 * bottleneck["slow_count"] / of_type["total"]


def test_the_summary_is_answered_from_one_view_of_the_window():
    clock = SteppingClock()
    monitor = PerformanceMonitor(window_seconds=60, timer=clock)
    for second in range(60):
        monitor.record("historical_data", float(second))
        clock.advance(1)
    clock.step = 7.0
    body = get(app_with(QueryCache(), monitor), "/api/v1/performance/summary")
    performance, (bottleneck,) = body["performance"], body["bottlenecks"]
    assert performance["total_queries"] == 60
    assert bottleneck["threshold_ms"] == performance["p95_duration_ms"]
    assert bottleneck["max_slow_ms"] == performance["max_duration_ms"]
    assert bottleneck["pct_of_total"] == 100 * bottleneck["slow_count"] / 60


def test_thresholds_decide_the_advice(parts):
    lenient = Thresholds.from_dict({"default": {"error_rate_pct": {"healthy": 5, "degraded": 9}}})
    advice = get(app_with(*parts, lenient), "/api/v1/performance/summary")["recommendations"]
    assert any(line.startswith("Error rate is healthy") for line in advice)


def test_an_empty_monitor_answers_with_nulls_not_errors():
    app = app_with(QueryCache(), PerformanceMonitor(), prefix="/perf")
    body = get(app, "/perf/summary")
    assert body["performance"]["total_queries"] == 0
    assert body["performance"]["p95_duration_ms"] is None
    assert body["bottlenecks"] == []
    assert get(app, "/perf/queries")["stats"]["mean_ms"] is None


def test_the_endpoints_are_documented_in_openapi(parts):
    document = get(app_with(*parts), "/openapi.json")
    for name in ("cache", "queries", "summary"):
        responses = document["paths"][f"/api/v1/performance/{name}"]["get"]["responses"]
        assert "$ref" in responses["200"]["content"]["application/json"]["schema"]


@pytest.mark.e2e
@pytest.mark.concurrent
def test_perf_lib_does_not_depend_on_the_service():
    code = (
        "import sys, perf_lib.fastapi_router; "
        "sys.exit('market_api' in sys.modules or 'locust' in sys.modules)"
    )
    assert subprocess.run([sys.executable, "-c", code], timeout=60).returncode == 0
