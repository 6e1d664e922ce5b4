"""FastAPI glue: the cache's and the monitor's figures under ``/api/v1/performance/*``.

Any service that embeds a ``QueryCache`` and a ``PerformanceMonitor`` mounts this router to
serve its three endpoints: cache, queries and summary. Bodies are encoded with orjson and
returned as ready responses, so the pydantic models below only document the schema in
OpenAPI and cost nothing per request.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import orjson
from fastapi import APIRouter
from fastapi.responses import Response
from pydantic import BaseModel

from perf_lib.cache import QueryCache
from perf_lib.monitor import PerformanceMonitor
from perf_lib.recommendations import recommendations
from perf_lib.thresholds import Thresholds

__all__ = ["json_response", "performance_router"]


def json_response(
    content: Any, status_code: int = 200, headers: Mapping[str, str] | None = None
) -> Response:
    """A JSON response encoded by orjson (datetimes, dates and numpy numbers included)."""
    return Response(
        orjson.dumps(content, option=orjson.OPT_SERIALIZE_NUMPY),
        status_code=status_code,
        headers=headers,
        media_type="application/json",
    )


def _now() -> str:
    return datetime.now(UTC).isoformat()


class CacheStats(BaseModel):
    size: int
    max_size: int
    hits: int
    misses: int
    hit_rate_pct: float
    default_ttl_seconds: float
    evictions: int
    expirations: int
    loads: int
    coalesced: int
    namespaces: int
    hashed_keys: bool


class CacheResponse(BaseModel):
    timestamp: str
    cache: CacheStats


class QueryStats(BaseModel):
    query_type: str
    total: int
    successful: int
    failed: int
    error_rate_pct: float
    min_ms: float | None
    max_ms: float | None
    mean_ms: float | None
    median_ms: float | None
    p95_ms: float | None
    p99_ms: float | None
    stdev_ms: float | None


class Bottleneck(BaseModel):
    query_type: str
    slow_count: int
    threshold_ms: float
    avg_slow_ms: float
    max_slow_ms: float
    pct_of_total: float


class QueriesResponse(BaseModel):
    timestamp: str
    stats: QueryStats
    stats_by_type: dict[str, QueryStats]
    bottlenecks: list[Bottleneck]
    query_types: dict[str, int]


class Performance(BaseModel):
    total_queries: int
    successful: int
    failed: int
    error_rate_pct: float
    avg_duration_ms: float | None
    median_duration_ms: float | None
    p95_duration_ms: float | None
    p99_duration_ms: float | None
    min_duration_ms: float | None
    max_duration_ms: float | None
    stdev_duration_ms: float | None
    window_hours: float
    window_seconds_covered: float
    exact: bool


class SummaryResponse(BaseModel):
    timestamp: str
    cache: CacheStats
    performance: Performance
    bottlenecks: list[Bottleneck]
    recommendations: list[str]


def performance_router(
    cache: QueryCache,
    monitor: PerformanceMonitor,
    thresholds: Thresholds | None = None,
    *,
    prefix: str = "/api/v1/performance",
) -> APIRouter:
    """GET ``{prefix}/cache``, ``{prefix}/queries`` and ``{prefix}/summary``.

    ``thresholds`` (default: the built-in healthy/degraded/critical table) decides what the
    recommendations call healthy. Each response is built from one snapshot of the
    monitor, so its figures agree with each other.
    """
    router = APIRouter(prefix=prefix, tags=["performance"])

    @router.get(
        "/cache",
        response_model=CacheResponse,
        summary="Query cache statistics",
        description="Size, hits, misses and hit rate of the query cache. Never a key or value.",
    )
    async def cache_stats() -> Response:
        return json_response({"timestamp": _now(), "cache": cache.stats()})

    @router.get(
        "/queries",
        response_model=QueriesResponse,
        summary="Query timings and bottlenecks",
        description=(
            "`stats` covers every query type together, `stats_by_type` each type; "
            "`bottlenecks` lists, per type, the queries above that type's p95."
        ),
    )
    async def queries() -> Response:
        window = monitor.snapshot()  # once, so that the figures below agree with each other
        return json_response(
            {
                "timestamp": _now(),
                "stats": window.stats(),
                "stats_by_type": window.stats_by_type(),
                "bottlenecks": window.bottlenecks(),
                "query_types": window.query_types(),
            }
        )

    @router.get(
        "/summary",
        response_model=SummaryResponse,
        summary="Cache, query performance and recommendations",
        description="One object for dashboards and samplers: cache, timings, advice.",
    )
    async def summary() -> Response:
        cache_stats = cache.stats()
        window = monitor.snapshot()
        performance = window.summary()
        bottlenecks = window.bottlenecks()
        return json_response(
            {
                "timestamp": _now(),
                "cache": cache_stats,
                "performance": performance,
                "bottlenecks": bottlenecks,
                "recommendations": recommendations(
                    cache_stats, performance, bottlenecks, thresholds
                ),
            }
        )

    return router
