"""Every database query goes through ``QueryRunner``: faults, a worker thread, timing.

One place that runs blocking store calls off the event loop, applies the injected faults,
adds the time to the request's ``Server-Timing: db`` and reports it to the observer (the
performance monitor, which ``/metrics`` also reads its query figures from).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import TypeVar

from market_api.context import current_request
from market_api.errors import ClientError
from market_api.faults import FaultInjector

__all__ = ["QueryObserver", "QueryRunner"]

T = TypeVar("T")

#: Called with (query type, duration in ms, success) after every query.
QueryObserver = Callable[[str, float, bool], None]


class QueryRunner:
    def __init__(self, faults: FaultInjector, observer: QueryObserver | None = None) -> None:
        self._faults = faults
        self._observer = observer

    async def run(self, query_type: str, query: Callable[[], T], *, inline: bool = False) -> T:
        """``query()`` in a worker thread, after the injected faults.

        ``inline`` runs it on the event loop instead, for queries that only read pages SQLite
        already holds in memory (the health ping: a few microseconds). A thread hop costs
        ten times that, and under load every hop waits for the loop to release the GIL.

        A ``ClientError`` raised by the query (unknown symbol, bad range) is a successful
        query with a 4xx answer; any other exception is a failed query. A cancelled query is
        not recorded.
        """
        start = time.perf_counter()
        try:
            if self._faults.in_effect():
                await self._faults.before_query()
            result = query() if inline else await asyncio.to_thread(query)
        except ClientError:
            self._finish(query_type, start, True)
            raise
        except Exception:
            self._finish(query_type, start, False)
            raise
        self._finish(query_type, start, True)
        return result

    def _finish(self, query_type: str, start: float, success: bool) -> None:
        duration_ms = (time.perf_counter() - start) * 1000.0
        context = current_request()
        if context is not None:
            context.db_ms += duration_ms
            context.db_queries += 1
        if self._observer is not None:
            self._observer(query_type, duration_ms, success)
