"""ObservabilityMiddleware: access log, request metrics and timing headers for each request.

Pure ASGI rather than ``BaseHTTPMiddleware``, which runs the app in a separate task and
streams the body through memory channels, at a real cost in throughput.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any, get_args

import orjson
from starlette.routing import BaseRoute
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from market_api.context import RequestContext, request_context
from market_api.metrics import UNMATCHED, ServiceMetrics

__all__ = ["ObservabilityMiddleware", "access_logger"]

access_logger = logging.getLogger("market_api.access")
#: start, end, method, matched route or None, status, cache result, database ms or None
RequestEntry = tuple[float, float, str, BaseRoute | None, int, str | None, float | None]
_ENTRY_FIELDS = len(get_args(RequestEntry))


class RequestRecords:
    """What each request leaves behind, applied in batches: its metrics and its log line.

    A request only appends what it observed; everything derived from that (the route
    template, the duration, the log line) is worked out here. Every ``max_delay``
    seconds, every ``max_entries`` requests, before the metrics are read and at shutdown,
    the batch is applied: each entry is counted in ``ServiceMetrics`` and written as one
    JSON line of the access log. The whole batch is a single log record (one line per
    request in the stream), so the logging machinery runs once a batch.

    With ``access_log=False`` only the lines of 5xx answers are written: the errors stay in
    the log, the routine requests do not.

    The batch is one flat list of each request's ``RequestEntry`` values: numbers, strings,
    None and the app's own route objects, none of them a new object for the garbage
    collector to track. A tuple or an object per request would live through hundreds of
    requests, long enough to be promoted to the collector's older generations and, under
    load, to set off full collections that stall the event loop for tens of milliseconds.
    """

    def __init__(
        self,
        metrics: ServiceMetrics,
        logger: logging.Logger = access_logger,
        max_entries: int = 1024,
        max_delay: float = 0.1,
        *,
        access_log: bool = True,
    ) -> None:
        self.metrics = metrics
        self.logger = logger
        self.max_entries = max_entries
        self.max_delay = max_delay
        self.access_log = access_log
        self._entries: list[Any] = []
        # Wall-clock time of a perf_counter reading, so requests need not read both clocks.
        self._wall_offset = time.time() - time.perf_counter()
        metrics.before_read(self.flush)

    def add(self, entry: RequestEntry) -> None:
        """Queue what one request observed."""
        self._entries.extend(entry)
        pending = len(self._entries) // _ENTRY_FIELDS
        if pending >= self.max_entries:
            self.flush()
        elif pending == 1:  # the first request of a batch schedules the batch's flush
            asyncio.get_running_loop().call_later(self.max_delay, self.flush)

    def flush(self) -> None:
        """Count every pending request and write its log line."""
        entries, self._entries = self._entries, []
        logging_on = self.logger.isEnabledFor(logging.INFO)
        lines = []
        for first in range(0, len(entries), _ENTRY_FIELDS):
            start, end, method, route, status, cache, db_ms = entries[first : first + _ENTRY_FIELDS]
            path = getattr(route, "path", None) or UNMATCHED
            seconds = end - start
            labels = self.metrics.request_labels(path, method, status)
            self.metrics.requests.observe(labels, seconds)
            if logging_on and (self.access_log or status >= 500):
                ts = self._wall_offset + start
                lines.append(_log_line(ts, method, path, status, seconds * 1000.0, db_ms, cache))
        if lines:
            self.logger.info(b"\n".join(lines).decode())
            _flush_handlers(self.logger)


def _log_line(
    ts: float,
    method: str,
    route: str,
    status: int,
    duration_ms: float,
    db_ms: float | None,
    cache: str | None,
) -> bytes:
    """One access log line, JSON: ``ts`` in seconds, durations in ms, each to 3 decimals."""
    return orjson.dumps(
        {
            "ts": round(ts, 3),
            "method": method,
            "route": route,
            "status": status,
            "duration_ms": round(duration_ms, 3),
            "db_ms": None if db_ms is None else round(db_ms, 3),
            "cache": cache,
        }
    )


def _flush_handlers(logger: logging.Logger) -> None:
    """Flush every handler a record of ``logger`` reaches, so a batch leaves the process now."""
    current: logging.Logger | None = logger
    while current is not None:
        for handler in current.handlers:
            handler.flush()
        current = current.parent if current.propagate else None


class ObservabilityMiddleware:
    """For each HTTP request: one JSON log line, the metrics, and two response headers.

    The log line has the method, route template, status, duration and cache result, never
    the path or the query string, which carry the submitted values. ``Server-Timing`` gives
    ``app;dur=`` (time to the response start, ms) and ``db;dur=`` when the database was
    queried; ``X-Cache: HIT|MISS`` is set where the handler went through the cache.
    """

    def __init__(self, app: ASGIApp, records: RequestRecords) -> None:
        self.app = app
        self.records = records

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            try:
                await self.app(scope, receive, send)
            finally:
                if scope["type"] == "lifespan":  # the app has shut down: write what is left
                    self.records.flush()
            return
        start = time.perf_counter()
        context = RequestContext()
        token = request_context.set(context)

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                context.status = message["status"]
                app_ms = (time.perf_counter() - start) * 1000.0
                timing = f"app;dur={app_ms:.3f}"
                if context.db_queries:
                    timing += f", db;dur={context.db_ms:.3f}"
                headers = [*message.get("headers", ()), (b"server-timing", timing.encode())]
                if context.cache is not None:
                    headers.append((b"x-cache", context.cache.encode()))
                message["headers"] = headers
            await send(message)

        try:
            await self.app(scope, receive, send_with_headers)
        finally:
            request_context.reset(token)
            db_ms = context.db_ms if context.db_queries else None
            end = time.perf_counter()
            route = scope.get("route")
            self.records.add(
                (start, end, scope["method"], route, context.status, context.cache, db_ms)
            )
