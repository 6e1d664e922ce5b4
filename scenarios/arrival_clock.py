"""What an open run's drivers send, and from when: segments of arrivals from the shape.

An open shape hands its drivers *segments*: a schedule of arrival rates and the epoch second
it starts at (``origin``), fixed a little after the tick that makes it, so that the drivers are
ready before the first arrival is due. A timed shape sends one segment, its whole schedule; the
capacity search sends one per step, as it decides them. Each driver times its arrivals from
the segment's origin, and the shape logs each phase at the origin plus the phase's offset: the
phases in run.json and the arrivals share their boundaries exactly, and the workers of a
distributed run interleave their arrivals as one process would. A worker gets each segment in
a message from the master, which reaches it before the command to spawn.

Imported only by Locust processes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import gevent.queue
from locust import events
from locust.env import Environment
from locust.runners import MasterRunner, Runner, WorkerRunner

from scenarios.schedule import Schedule

#: Seconds between the tick that makes a segment and its first arrival: time to start
#: drivers (a worker's driver started ~0.1 s after the master's first tick, measured).
LEAD_S = 0.5
MESSAGE = "kit_arrival_segment"


@dataclass(frozen=True)
class Segment:
    """Arrivals to send: ``schedule``'s rates from ``origin`` on. ``endless``: its last phase
    goes on until the test stops (a recovery the watch may extend)."""

    origin: float
    schedule: Schedule
    endless: bool = False
    #: A capacity step's judged part starts here (after its warm-up); None for other shapes.
    steady_from: float | None = None

    def to_message(self) -> dict[str, Any]:
        return {
            "origin": self.origin,
            "schedule": self.schedule.to_json(),
            "endless": self.endless,
            "steady_from": self.steady_from,
        }

    @classmethod
    def from_message(cls, data: dict[str, Any]) -> Segment:
        steady_from = data.get("steady_from")
        return cls(
            float(data["origin"]),
            Schedule.from_json(data["schedule"]),
            bool(data["endless"]),
            None if steady_from is None else float(steady_from),
        )


_segments: gevent.queue.Queue[Segment] = gevent.queue.Queue()
#: Called with each segment this process's drivers are given (the capacity search's samples).
on_segment: list[Callable[[Segment], None]] = []


def publish(runner: Runner | None, segment: Segment) -> None:
    """``segment`` for this process's drivers and every worker's."""
    _given(segment)
    if isinstance(runner, MasterRunner):
        runner.send_message(MESSAGE, segment.to_message())


def _given(segment: Segment) -> None:
    _segments.put(segment)
    for listener in on_segment:
        listener(segment)


def next_segment(timeout: float) -> Segment | None:
    """The next segment to send; None when the shape has given none within ``timeout``."""
    try:
        return _segments.get(timeout=timeout)
    except gevent.queue.Empty:
        return None


def _received(environment: Environment, msg: Any, **_kwargs: Any) -> None:
    _given(Segment.from_message(msg.data))


@events.init.add_listener
def _listen(environment: Environment, **_kwargs: Any) -> None:
    if isinstance(environment.runner, WorkerRunner):
        environment.runner.register_message(MESSAGE, _received)


@events.test_stop.add_listener
def _forget(**_kwargs: Any) -> None:
    """The next test (the web UI runs several) starts with its own segments."""
    while not _segments.empty():
        _segments.get_nowait()
