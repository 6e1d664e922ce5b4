"""perf_lib's FastAPI router: the seed's three performance endpoints, on any FastAPI app."""

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

SEED_CACHE = {"size", "max_size", "hits", "misses", "hit_rate_pct", "default_ttl_seconds"}
SEED_STATS = {
    "query_type", "total", "successful", "failed", "error_rate_pct", "min_ms", "max_ms",
    "mean_ms", "median_ms", "p95_ms", "p99_ms", "stdev_ms",
}  # fmt: skip
SEED_BOTTLENECK = {"query_type", "slow_count", "threshold_ms", "avg_slow_ms"}
SEED_PERFORMANCE = {
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


def test_cache_endpoint_has_the_seed_shape(parts):
    body = get(app_with(*parts), "/api/v1/performance/cache")
    assert set(body) == {"timestamp", "cache"}
    assert datetime.fromisoformat(body["timestamp"]).tzinfo is not None
    assert set(body["cache"]) >= SEED_CACHE
    assert (body["cache"]["hits"], body["cache"]["misses"], body["cache"]["size"]) == (3, 1, 1)
    assert body["cache"]["hit_rate_pct"] == 75.0


def test_queries_endpoint_has_the_seed_shape(parts):
    body = get(app_with(*parts), "/api/v1/performance/queries")
    assert set(body["stats"]) >= SEED_STATS
    assert body["stats"]["total"] == 101 and body["stats"]["failed"] == 2
    assert body["query_types"] == {"historical_data": 100, "status_check": 1}
    assert body["stats_by_type"]["status_check"]["mean_ms"] == 2.0
    (slow,) = body["bottlenecks"]
    assert slow["query_type"] == "historical_data" and set(slow) >= SEED_BOTTLENECK


def test_summary_endpoint_has_the_seed_shape_and_advice(parts):
    body = get(app_with(*parts), "/api/v1/performance/summary")
    assert set(body) == {"timestamp", "cache", "performance", "bottlenecks", "recommendations"}
    assert set(body["performance"]) >= SEED_PERFORMANCE
    assert body["performance"]["error_rate_pct"] == pytest.approx(100 * 2 / 101)
    advice = body["recommendations"]
    assert advice[0] == "Cache hit rate is good at 75.0%"
    assert any(line.startswith("Error rate is degraded") for line in advice)
    assert any("historical_data" in line for line in advice)


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


def test_perf_lib_does_not_depend_on_the_service():
    code = (
        "import sys, perf_lib.fastapi_router; "
        "sys.exit('market_api' in sys.modules or 'locust' in sys.modules)"
    )
    assert subprocess.run([sys.executable, "-c", code], timeout=60).returncode == 0
