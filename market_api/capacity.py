"""The capacity fault: a single-server FIFO queue of known capacity, R requests per second.

A service of known capacity lets the kit's capacity search and open-model runs be checked
against the right answer: below R the queue stays short, above it the wait grows without bound.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Awaitable, Callable

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from market_api.faults import FaultWindow, observer_route

__all__ = ["CapacityMiddleware"]


class CapacityMiddleware:
    """Serves the requests, but the observers', one at a time in arrival order, 1/R s each.

    A request waits for the line (``asyncio.Lock`` wakes its waiters first in, first out),
    is handled, and its response starts 1/R s after it got the line, or as soon as it is
    ready when handling took longer; the line is released once the response is sent. So the
    line is held for max(handling, 1/R) and at most R requests a second are answered. Only
    requests arriving inside the fault window join the line.

    Being outside the request middleware, the wait for the line and the hold to 1/R are not in
    ``Server-Timing``, as time in a full accept queue would not be: the report shows them as the
    difference between the client's and the server's time.
    """

    def __init__(
        self,
        app: ASGIApp,
        rate_rps: float,
        window: FaultWindow,
        *,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        if not (math.isfinite(rate_rps) and rate_rps > 0):
            raise ValueError(f"rate_rps must be > 0, not {rate_rps!r}")
        self.app = app
        self.interval = 1.0 / rate_rps
        self.window = window
        self._sleep = sleep
        self._line = asyncio.Lock()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or observer_route(scope["path"]) or not self.window.is_open():
            await self.app(scope, receive, send)
            return
        async with self._line:
            served = self.window.timer() + self.interval

            async def send_when_served(message: Message) -> None:
                if message["type"] == "http.response.start":
                    left = served - self.window.timer()
                    if left > 0:
                        await self._sleep(left)
                await send(message)

            await self.app(scope, receive, send_when_served)
