"""ObservabilityMiddleware: access log, request metrics and timing headers for each request.

Pure ASGI rather than ``BaseHTTPMiddleware``, which runs the app in a separate task and
streams the body through memory channels, at a real cost in throughput.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable
from typing import Any, get_args

import orjson
from starlette.routing import BaseRoute
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from market_api.context import HIT, MISS, RequestContext, request_context
from market_api.metrics import UNMATCHED, ServiceMetrics

__all__ = ["ObservabilityMiddleware", "access_logger"]

access_logger = logging.getLogger("market_api.access")
_CACHE_HEADER = {HIT: HIT.encode(), MISS: MISS.encode()}
_JSON_CACHE = {None: "null", HIT: '"HIT"', MISS: '"MISS"'}
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
    request in the stream), so the logging machinery runs once a batch. Counting and
    formatting in one tight loop costs a fraction of doing it between two requests, and a
    read of the metrics is still exact.

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
    ) -> None:
        self.metrics = metrics
        self.logger = logger
        self.max_entries = max_entries
        self.max_delay = max_delay
        self._entries: list[Any] = []
        # Wall-clock time of a perf_counter reading, so requests need not read both clocks.
        self._wall_offset = time.time() - time.perf_counter()
        self._kinds: dict[tuple[Any, ...], tuple[tuple[Any, ...], str]] = {}
        metrics.before_read(self.flush)

    def add(self, entry: RequestEntry) -> None:
        """Queue what one request observed."""
        entries = self._entries
        entries.extend(entry)
        if len(entries) >= self.max_entries * _ENTRY_FIELDS:
            self.flush()
        elif len(entries) == _ENTRY_FIELDS:
            asyncio.get_running_loop().call_later(self.max_delay, self.flush)

    def flush(self) -> None:
        entries, self._entries = self._entries, []
        if not entries:
            return
        observe, kinds, wall = self.metrics.requests.observe, self._kinds, self._wall_offset
        logged = self.logger.isEnabledFor(logging.INFO)
        lines = []
        # The same iterator _ENTRY_FIELDS times over: zip regroups the flat list by request.
        requests = zip(*[iter(entries)] * _ENTRY_FIELDS, strict=True)
        for start, end, method, route, status, cache, db_ms in requests:
            path = getattr(route, "path", None) or UNMATCHED
            kind = (method, path, status, cache, db_ms is None)
            labels, line_format = kinds.get(kind) or self._kind(kind)
            seconds = end - start
            observe(labels, seconds)
            if logged:
                lines.append(line_format % (wall + start, seconds * 1e3, db_ms))
        if lines:
            logger = self.logger
            # makeRecord + handle rather than info(): info() would look up the caller's frame.
            logger.handle(
                logger.makeRecord(logger.name, logging.INFO, "", 0, "\n".join(lines), (), None)
            )
            _flush_handlers(logger)

    def _kind(self, kind: tuple[Any, ...]) -> tuple[tuple[Any, ...], str]:
        """The metric labels and the %-format of the log line of a kind of request.

        Everything but the time, the duration and the database time is the same for every
        request of a (method, route, status, cache, no database) kind, and kinds are few.
        """
        method, path, status, cache, no_db = kind
        labels = self.metrics.request_labels(path, method, status)
        method, path = (orjson.dumps(text).decode().replace("%", "%%") for text in (method, path))
        line_format = (
            f'{{"ts":%.3f,"method":{method},"route":{path},"status":{status},'
            f'"duration_ms":%.3f,"db_ms":{"null%.0s" if no_db else "%.3f"},'
            f'"cache":{_JSON_CACHE[cache]}}}'
        )
        if len(self._kinds) < 1024:
            self._kinds[kind] = (labels, line_format)
        return labels, line_format


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

        def send_with_headers(message: Message) -> Awaitable[None]:
            # A plain function returning send's awaitable: no coroutine frame of its own.
            if message["type"] == "http.response.start":
                context.status = message["status"]
                app_ms = (time.perf_counter() - start) * 1000.0
                if context.db_queries:
                    timing = b"app;dur=%.3f, db;dur=%.3f" % (app_ms, context.db_ms)
                else:
                    timing = b"app;dur=%.3f" % app_ms
                headers = [*message.get("headers", ()), (b"server-timing", timing)]
                if context.cache is not None:
                    headers.append((b"x-cache", _CACHE_HEADER[context.cache]))
                message["headers"] = headers
            return send(message)

        try:
            await self.app(scope, receive, send_with_headers)
        finally:
            request_context.reset(token)
            self.records.add((
                start, time.perf_counter(), scope["method"], scope.get("route"),
                context.status, context.cache, context.db_ms if context.db_queries else None,
            ))  # fmt: skip
