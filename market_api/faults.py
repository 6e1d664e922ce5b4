"""Fault injection for testing the load-testing kit itself: slow and failing database queries."""

from __future__ import annotations

import asyncio
import math
import random
import time
from collections.abc import Callable

__all__ = ["FaultInjector", "InjectedFault"]


class InjectedFault(Exception):
    """A database query made to fail on purpose; the request answers 503."""


class FaultInjector:
    """Applied before each database query: first the added latency, then the failure dice.

    The latency is an ``asyncio.sleep``, so a slow database never blocks the event loop and
    other requests (cache hits, /metrics) keep their speed, as with a real remote database.

    ``window`` (START, END) limits the faults to START..END seconds after ``start()``, which
    the app calls once it is ready to answer; without it they apply for the whole run. The
    window is kept as two instants of ``timer``, so a query only compares the time with them.
    """

    def __init__(
        self,
        latency_ms: float = 0.0,
        error_rate: float = 0.0,
        seed: int | None = None,
        *,
        window: tuple[float, float] | None = None,
        timer: Callable[[], float] = time.monotonic,
    ) -> None:
        if not 0.0 <= error_rate <= 1.0:
            raise ValueError(f"error_rate must be within 0..1, not {error_rate!r}")
        if not latency_ms >= 0.0:
            raise ValueError(f"latency_ms must be >= 0, not {latency_ms!r}")
        if window is not None and not 0.0 <= window[0] < window[1]:
            raise ValueError(f"window must be (start, end) with 0 <= start < end, not {window!r}")
        self.latency_ms = latency_ms
        self.error_rate = error_rate
        self.window = window
        self._timer = timer
        self._random = random.Random(seed)
        # Faults apply from _begins (inclusive) to _ends (exclusive), in timer() seconds.
        self._begins, self._ends = math.inf, math.inf  # never
        if (latency_ms > 0 or error_rate > 0) and window is None:
            self._begins, self._ends = -math.inf, math.inf  # always

    def start(self) -> None:
        """The service answers from now on: a fault window counts from this instant."""
        if self.window is not None and (self.latency_ms > 0 or self.error_rate > 0):
            now = self._timer()
            self._begins, self._ends = now + self.window[0], now + self.window[1]

    def in_effect(self) -> bool:
        """Whether a query starting now gets the faults."""
        return self._begins <= self._timer() < self._ends

    async def before_query(self) -> None:
        """Wait the configured latency; raise ``InjectedFault`` for the configured fraction."""
        if self.latency_ms:
            await asyncio.sleep(self.latency_ms / 1000.0)
        if self.error_rate and self._random.random() < self.error_rate:
            raise InjectedFault("injected database fault")
