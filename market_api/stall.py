"""The stall fault: every P seconds the service answers nothing for D ms, then carries on.

This is the pause of wrk2's coordinated-omission demonstration: a load generator that waits
for each answer before sending the next request sends nothing during a stall, and so hides
it unless it corrects for the requests it should have sent.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Awaitable, Callable

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from market_api.faults import FaultWindow, observer_route

__all__ = ["Stall", "StallMiddleware"]


class Stall:
    """The stall schedule: stalls begin P, 2P, 3P... seconds after the service started
    answering (``window.start()``) and last D ms each. Within a fault window only the part of
    a stall inside the window applies. The first stall comes one period in, so that start-up
    checks and a run's first moments see the service as it is.
    """

    def __init__(
        self,
        duration_ms: float,
        every_s: float,
        window: FaultWindow,
        *,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        if not (math.isfinite(every_s) and every_s > 0):
            raise ValueError(f"every_s must be > 0, not {every_s!r}")
        if not 0 < duration_ms < every_s * 1000.0:
            raise ValueError(f"duration_ms must be > 0 and < every_s * 1000, not {duration_ms!r}")
        self.duration = duration_ms / 1000.0
        self.every = every_s
        self.window = window
        self._sleep = sleep

    def time_left(self, now: float) -> float:
        """Seconds until the stall in progress at ``now`` ends; 0 between stalls."""
        started = self.window.started
        if started is None or not self.window.contains(now) or now - started < self.every:
            return 0.0
        into = (now - started) % self.every
        if into >= self.duration:
            return 0.0
        return min(self.duration - into, self.window.ends - now)

    async def wait(self) -> None:
        """Return once no stall is in progress: at once between stalls."""
        while (left := self.time_left(self.window.timer())) > 0:
            await self._sleep(left)


class StallMiddleware:
    """Holds every request but the observers' while a stall is in progress.

    A request arriving during a stall waits for its end before it is handled; one already
    being handled when a stall begins waits at its response start. Being outside the request
    middleware, neither wait is in ``Server-Timing``: a paused process does not time its pause.
    """

    def __init__(self, app: ASGIApp, stall: Stall) -> None:
        self.app = app
        self.stall = stall

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or observer_route(scope["path"]):
            await self.app(scope, receive, send)
            return
        await self.stall.wait()

        async def send_after_stall(message: Message) -> None:
            if message["type"] == "http.response.start":
                await self.stall.wait()
            await send(message)

        await self.app(scope, receive, send_after_stall)
