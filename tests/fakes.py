"""Test doubles shared by the unit tests."""

from __future__ import annotations


class FakeClock:
    """A clock that only moves when a test advances it, for TTLs and windows without sleeps."""

    def __init__(self, start: float = 1_000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds
