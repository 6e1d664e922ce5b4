"""The service's own endpoints: health, status, symbols, historical bars and metrics.

Historical and symbols bodies are cached as encoded JSON bytes, so a cache hit costs a
dictionary lookup: no database query, no serialisation, no response validation.
"""

from __future__ import annotations

import os
import resource
import sys
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from typing import Any

import orjson
from fastapi import FastAPI, Request
from fastapi.responses import Response
from prometheus_client import CONTENT_TYPE_LATEST

from market_api.context import HIT, MISS, current_request
from market_api.errors import ErrorBody
from market_api.faults import InjectedFault
from market_api.history import (
    DEFAULT_SPAN_DAYS,
    MAX_BARS,
    OPENAPI_PARAMETERS,
    encode_history,
    parse_request,
    query_history,
)
from market_api.metrics import ServiceMetrics
from market_api.queries import QueryRunner
from market_api.schemas import (
    HealthResponse,
    HistoricalResponse,
    MetricsResponse,
    StatusResponse,
    SymbolsResponse,
)
from market_api.settings import Settings
from market_api.store import Store, StoreUnavailable
from perf_lib.cache import QueryCache
from perf_lib.fastapi_router import json_response

__all__ = ["Runtime", "add_api_routes", "package_version"]

_PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")
_UNAVAILABLE = (StoreUnavailable, InjectedFault)
_SERVER_TIMING = {
    "Server-Timing": {
        "description": "`app;dur=` ms to the response; `db;dur=` when the database was queried",
        "schema": {"type": "string"},
    }
}
_TIMED: dict[int | str, dict[str, Any]] = {200: {"headers": _SERVER_TIMING}}
_CACHE_HEADERS = {
    **_SERVER_TIMING,
    "X-Cache": {
        "description": "HIT when served from the cache (MISS always, with the cache off)",
        "schema": {"type": "string", "enum": ["HIT", "MISS"]},
    },
}
_ERROR_503 = {"model": ErrorBody, "description": "Database unavailable (or an injected fault)"}


@dataclass
class Runtime:
    """What the handlers share. The store is opened by the app's lifespan."""

    settings: Settings
    cache: QueryCache
    runner: QueryRunner
    metrics: ServiceMetrics
    store: Store | None = None

    def require_store(self) -> Store:
        if self.store is None:
            raise StoreUnavailable("database not opened yet")
        return self.store


def package_version() -> str:
    """The installed package's version (the service's version in /api/v1/status and OpenAPI)."""
    try:
        return version("market-loadkit")
    except PackageNotFoundError:  # a source tree that was never installed
        return "0.0.0+unknown"


def rss_bytes() -> int:
    """This process's resident set size now (peak size where /proc is missing)."""
    try:
        with open("/proc/self/statm", "rb") as statm:
            return int(statm.read().split()[1]) * _PAGE_SIZE
    except OSError:
        scale = 1 if sys.platform == "darwin" else 1024
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * scale


def add_api_routes(app: FastAPI, runtime: Runtime) -> None:
    """The service's routes, added to ``app`` itself: an included router is one more level
    of matching for every request."""
    settings, runner, metrics = runtime.settings, runtime.runner, runtime.metrics
    cache = runtime.cache if settings.cache_enabled else None
    service_version = package_version()

    async def cached_json(
        namespace: str, load: Callable[[], Awaitable[bytes]], **params: Any
    ) -> Response:
        """The body from the cache, or from ``load`` once for concurrent misses."""
        context = current_request()
        if cache is None:
            if context is not None:
                context.cache = MISS
            body = await load()
        else:
            if context is not None:
                context.cache = HIT  # a request that joins another's load did no query either

            async def load_as_miss() -> bytes:
                if context is not None:
                    context.cache = MISS
                return await load()

            body = await cache.get_or_load(namespace, load_as_miss, **params)
        return Response(body, media_type="application/json")

    async def database_ok(
        query_type: str, query: Callable[[Store], Any], *, inline: bool = False
    ) -> tuple[bool, Any]:
        """(True, result) or (False, None) when the database is unavailable."""
        try:
            return True, await runner.run(
                query_type, lambda: query(runtime.require_store()), inline=inline
            )
        except _UNAVAILABLE:
            return False, None

    @app.get(
        "/health",
        response_model=HealthResponse,
        responses=_TIMED,
        tags=["service"],
        summary="Liveness and database reachability",
        description=(
            "Always 200, so that a load balancer sees a degraded service rather than a dead "
            "one: `status` is `degraded` and `database` `unavailable` while the database "
            "cannot be queried (the fault knobs apply to this ping like to any query)."
        ),
    )
    async def health() -> Response:
        ok, _ = await database_ok("health_check", lambda store: store.ping(), inline=True)
        return json_response(
            {
                "status": "ok" if ok else "degraded",
                "database": "ok" if ok else "unavailable",
                "uptime_seconds": round(metrics.uptime_seconds(), 3),
            }
        )

    @app.get(
        "/api/v1/status",
        response_model=StatusResponse,
        responses=_TIMED,
        tags=["service"],
        summary="Service status: version, database, cache, faults, memory",
        description="Always 200; `database.rows` is null while the database is unavailable.",
    )
    async def status() -> Response:
        ok, counts = await database_ok("status_check", lambda store: store.counts())
        return json_response(
            {
                "status": "ok" if ok else "degraded",
                "version": service_version,
                "uptime_seconds": round(metrics.uptime_seconds(), 3),
                "database": {
                    "kind": runtime.require_store().kind,
                    "status": "ok" if ok else "unavailable",
                    "rows": counts,
                },
                "symbol_count": counts["symbols"] if counts else None,
                "cache": {
                    "enabled": settings.cache_enabled,
                    "max_size": settings.cache_max_size,
                    "ttl_seconds": settings.cache_ttl,
                    "size": len(runtime.cache),
                },
                "faults": {
                    "db_latency_ms": settings.fault_db_latency_ms,
                    "error_rate": settings.fault_error_rate,
                    "window_s": settings.fault_window_s,
                    "stall_ms": settings.fault_stall_ms,
                    "stall_every_s": settings.fault_stall_every_s,
                    "capacity_rps": settings.fault_capacity_rps,
                },
                "observability": settings.observability,
                "process": {"pid": os.getpid(), "rss_bytes": rss_bytes()},
            }
        )

    @app.get(
        "/api/v1/symbols",
        response_model=SymbolsResponse,
        responses={200: {"headers": _CACHE_HEADERS}, 503: _ERROR_503},
        tags=["market data"],
        summary="Every symbol with its name and date range",
    )
    async def symbols() -> Response:
        async def load() -> bytes:
            infos = await runner.run("symbols", lambda: runtime.require_store().symbols())
            return orjson.dumps({"count": len(infos), "symbols": infos})

        return await cached_json("symbols", load)

    @app.get(
        "/api/v1/historical",
        response_model=HistoricalResponse,
        responses={
            200: {"headers": _CACHE_HEADERS},
            404: {"model": ErrorBody, "description": "Unknown symbol"},
            422: {"model": ErrorBody, "description": "Malformed symbol or date, bad range"},
            503: _ERROR_503,
        },
        tags=["market data"],
        summary="Daily OHLCV bars of one symbol",
        description=(
            f"Bars of `symbol` from `start` to `end` inclusive, in date order. Without `end` "
            f"the range ends at the symbol's last bar; without `start` it begins "
            f"{DEFAULT_SPAN_DAYS} days before `end`. A range may span at most {MAX_BARS} "
            f"business days (about ten years), so a response holds at most {MAX_BARS} bars: "
            f"a longer range, a reversed one or an invalid date answers 422; an unknown "
            f"symbol 404."
        ),
        openapi_extra={"parameters": OPENAPI_PARAMETERS},
    )
    async def historical(request: Request) -> Response:
        wanted = parse_request(request.query_params)

        async def load() -> bytes:
            served = await runner.run(
                "historical_data", lambda: query_history(runtime.require_store(), wanted)
            )
            return encode_history(wanted.symbol, *served)

        return await cached_json(
            "historical_data",
            load,
            symbol=wanted.symbol,
            start=wanted.start_text,
            end=wanted.end_text,
        )

    @app.get(
        "/api/v1/metrics",
        response_model=MetricsResponse,
        responses=_TIMED,
        tags=["service"],
        summary="Request counts and mean latency per route template",
        description=(
            "Counted by the request middleware since start-up; `errors` are 5xx answers and "
            "`client_errors` 4xx answers."
        ),
    )
    async def request_metrics() -> Response:
        return json_response(metrics.summary())

    @app.get(
        "/metrics",
        response_class=Response,
        tags=["service"],
        summary="Prometheus metrics",
        responses={200: {"content": {CONTENT_TYPE_LATEST: {}}, "headers": _SERVER_TIMING}},
    )
    async def prometheus_metrics() -> Response:
        return Response(metrics.exposition(), media_type=CONTENT_TYPE_LATEST)
