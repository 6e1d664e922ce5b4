"""The app factory: wires settings, store, cache, monitor, metrics and routes together."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio.to_thread
from fastapi import FastAPI

from market_api.capacity import CapacityMiddleware
from market_api.errors import install_error_handlers
from market_api.faults import FaultInjector, FaultWindow
from market_api.metrics import ServiceMetrics
from market_api.middleware import ObservabilityMiddleware, RequestRecords
from market_api.queries import QueryObserver, QueryRunner
from market_api.routes import Runtime, add_api_routes, package_version
from market_api.settings import Settings
from market_api.stall import Stall, StallMiddleware
from market_api.store import open_sqlite_store
from perf_lib.cache import QueryCache
from perf_lib.fastapi_router import performance_router
from perf_lib.monitor import PerformanceMonitor

__all__ = ["create_app"]

_DOC_PATHS = frozenset({"/openapi.json", "/docs", "/docs/oauth2-redirect", "/redoc"})


def create_app(settings: Settings | None = None) -> FastAPI:
    """The service for ``settings`` (default: from the environment).

    The database is opened, and seeded first when its file is missing, by the lifespan, so
    creating the app is cheap and does no I/O. ``settings.observability=False`` leaves out
    the request middleware and the query monitoring, only to measure what they cost.
    """
    settings = settings if settings is not None else Settings.from_env()
    cache = QueryCache(max_size=settings.cache_max_size, default_ttl=settings.cache_ttl)
    monitor = PerformanceMonitor()
    metrics = ServiceMetrics(cache, monitor)
    observer: QueryObserver | None = monitor.record if settings.observability else None

    window = FaultWindow(settings.fault_window_s)
    faults = FaultInjector(
        settings.fault_db_latency_ms, settings.fault_error_rate, settings.fault_seed, window=window
    )
    runtime = Runtime(settings, cache, QueryRunner(faults, observer), metrics)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        runtime.store = await anyio.to_thread.run_sync(open_sqlite_store, settings.db_path)
        window.start()  # uvicorn answers once this start-up returns: faults count from here
        try:
            yield
        finally:
            runtime.store.close()

    app = FastAPI(
        title="market_api",
        version=package_version(),
        summary="Reference market-data service for the load-testing kit",
        description=(
            "Daily OHLCV bars from an embedded SQLite database, cached as encoded JSON in "
            "perf_lib's QueryCache and timed by its PerformanceMonitor. Every response has a "
            "`Server-Timing` header (`app;dur=`, plus `db;dur=` when the database was "
            "queried); cached endpoints add `X-Cache: HIT|MISS`. Errors are JSON "
            '`{"error": code, "detail": message}` and never quote the submitted values.'
        ),
        lifespan=lifespan,
    )
    app.state.runtime = runtime
    app.state.monitor = monitor
    install_error_handlers(app)
    add_api_routes(app, runtime)
    app.include_router(performance_router(cache, monitor))
    # Requests are matched against the routes in order: the service's first, docs last.
    app.router.routes.sort(key=lambda route: getattr(route, "path", None) in _DOC_PATHS)
    if settings.observability:
        records = RequestRecords(metrics, access_log=settings.access_log)
        app.add_middleware(ObservabilityMiddleware, records=records)
    # Added last, so outside the request middleware: their waits are not the service's own time.
    if settings.fault_capacity_rps is not None:
        app.add_middleware(CapacityMiddleware, rate_rps=settings.fault_capacity_rps, window=window)
    if settings.fault_stall_ms or settings.fault_stall_every_s:
        stall = Stall(settings.fault_stall_ms, settings.fault_stall_every_s, window)
        app.add_middleware(StallMiddleware, stall=stall)
    return app
