"""What a request's handlers tell the observability middleware: database time, cache result.

The middleware puts a fresh ``RequestContext`` in a context variable before calling the app;
handlers and the query runner run in the same task (or in tasks that copied its context), so
they fill in the same object and the middleware reads it when the response starts.
"""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass

__all__ = ["HIT", "MISS", "RequestContext", "current_request", "request_context"]

HIT = "HIT"
MISS = "MISS"


@dataclass(slots=True)
class RequestContext:
    db_ms: float = 0.0
    db_queries: int = 0
    #: HIT or MISS on endpoints served through the cache, None elsewhere.
    cache: str | None = None
    #: The response's status, set by the middleware; 500 if the app raised before answering.
    status: int = 500


request_context: ContextVar[RequestContext | None] = ContextVar("market_api_request", default=None)


def current_request() -> RequestContext | None:
    """The current request's context; None outside the middleware (it is optional)."""
    return request_context.get()
