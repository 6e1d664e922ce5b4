"""Fault injection for testing the load-testing kit itself: when faults apply, and the slow
and failing database queries."""

from __future__ import annotations

import asyncio
import math
import random
import time
from collections.abc import Callable

__all__ = ["FaultInjector", "FaultWindow", "InjectedFault", "observer_route"]

_OBSERVER_PATHS = frozenset({"/metrics", "/api/v1/metrics"})


def observer_route(path: str) -> bool:
    """Whether ``path`` is one of the observers' own routes, which the request-path faults
    (stall, capacity) leave alone so that the sampler keeps its view of the service."""
    return path in _OBSERVER_PATHS or path.startswith("/api/v1/performance/")


class InjectedFault(Exception):
    """A database query made to fail on purpose; the request answers 503."""


class FaultWindow:
    """When the injected faults apply, shared by every fault so that one ``start()`` sets all.

    ``window`` (START, END) limits the faults to START..END seconds after ``start()``, which
    the app calls once it is ready to answer; without it they apply for the whole run. The
    window is kept as two instants of ``timer`` (``begins`` inclusive, ``ends`` exclusive), so
    a check only compares the time with them. ``started`` is the instant of ``start()``, from
    which schedules such as the stall's count.
    """

    def __init__(
        self,
        window: tuple[float, float] | None = None,
        *,
        timer: Callable[[], float] = time.monotonic,
    ) -> None:
        if window is not None and not 0.0 <= window[0] < window[1]:
            raise ValueError(f"window must be (start, end) with 0 <= start < end, not {window!r}")
        self.window = window
        self.timer = timer
        self.started: float | None = None
        self.begins, self.ends = (-math.inf, math.inf) if window is None else (math.inf, math.inf)

    def start(self) -> None:
        """The service answers from now on: the window and the schedules count from here."""
        self.started = now = self.timer()
        if self.window is not None:
            self.begins, self.ends = now + self.window[0], now + self.window[1]

    def contains(self, instant: float) -> bool:
        """Whether faults apply at ``instant`` (a reading of ``timer``)."""
        return self.begins <= instant < self.ends

    def is_open(self) -> bool:
        """Whether faults apply now."""
        return self.contains(self.timer())


class FaultInjector:
    """Applied before each database query: first the added latency, then the failure dice.

    The latency is an ``asyncio.sleep``, so a slow database never blocks the event loop and
    other requests (cache hits, /metrics) keep their speed, as with a real remote database.
    """

    def __init__(
        self,
        latency_ms: float = 0.0,
        error_rate: float = 0.0,
        seed: int | None = None,
        *,
        window: FaultWindow | None = None,
    ) -> None:
        if not 0.0 <= error_rate <= 1.0:
            raise ValueError(f"error_rate must be within 0..1, not {error_rate!r}")
        if not latency_ms >= 0.0:
            raise ValueError(f"latency_ms must be >= 0, not {latency_ms!r}")
        self.latency_ms = latency_ms
        self.error_rate = error_rate
        self.window = window if window is not None else FaultWindow()
        self._active = latency_ms > 0 or error_rate > 0
        self._random = random.Random(seed)

    def in_effect(self) -> bool:
        """Whether a query starting now gets the faults."""
        return self._active and self.window.is_open()

    async def before_query(self) -> None:
        """Wait the configured latency; raise ``InjectedFault`` for the configured fraction."""
        if self.latency_ms:
            await asyncio.sleep(self.latency_ms / 1000.0)
        if self.error_rate and self._random.random() < self.error_rate:
            raise InjectedFault("injected database fault")
