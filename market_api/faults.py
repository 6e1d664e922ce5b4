"""Fault injection for testing the load-testing kit itself: slow and failing database queries."""

from __future__ import annotations

import asyncio
import random

__all__ = ["FaultInjector", "InjectedFault"]


class InjectedFault(Exception):
    """A database query made to fail on purpose; the request answers 503."""


class FaultInjector:
    """Applied before each database query: first the added latency, then the failure dice.

    The latency is an ``asyncio.sleep``, so a slow database never blocks the event loop and
    other requests (cache hits, /metrics) keep their speed, as with a real remote database.
    """

    def __init__(self, latency_ms: float = 0.0, error_rate: float = 0.0, seed: int | None = None):
        if not 0.0 <= error_rate <= 1.0:
            raise ValueError(f"error_rate must be within 0..1, not {error_rate!r}")
        if not latency_ms >= 0.0:
            raise ValueError(f"latency_ms must be >= 0, not {latency_ms!r}")
        self.latency_ms = latency_ms
        self.error_rate = error_rate
        self.active = latency_ms > 0 or error_rate > 0
        self._random = random.Random(seed)

    async def before_query(self) -> None:
        """Wait the configured latency; raise ``InjectedFault`` for the configured fraction."""
        if self.latency_ms:
            await asyncio.sleep(self.latency_ms / 1000.0)
        if self.error_rate and self._random.random() < self.error_rate:
            raise InjectedFault("injected database fault")
