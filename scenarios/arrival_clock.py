"""One clock for an open run's arrivals, shared by the shape and every driver.

The open shape fixes when its schedule starts (``origin``, an epoch second) a little after
its first tick, so that the drivers are running before the first arrival is due. Each driver
schedules its arrivals from that origin, and the shape logs each phase at the origin plus the
phase's offset: the phases in run.json and the arrivals then share their boundaries exactly,
and the workers of a distributed run interleave their arrivals as one process would. A worker
learns the origin from the master's message, which reaches it before the command to spawn.

Imported only by Locust processes.
"""

from __future__ import annotations

from typing import Any

import gevent.event
from locust import events
from locust.env import Environment
from locust.runners import MasterRunner, Runner, WorkerRunner

#: Seconds between the open shape's first tick and its first arrival: time to start drivers
#: (a worker's driver started ~0.1 s after the master's first tick, measured).
LEAD_S = 0.5
MESSAGE = "kit_arrival_origin"
#: How long a driver waits for an open shape's origin before it starts its own clock.
WAIT_S = 5.0

_origin = gevent.event.AsyncResult()


def publish(runner: Runner | None, origin: float) -> None:
    """The open shape's origin, for this process's drivers and every worker's."""
    _origin.set(origin)
    if isinstance(runner, MasterRunner):
        runner.send_message(MESSAGE, {"origin": origin})


def wait(timeout: float = WAIT_S) -> float | None:
    """This test's origin; None when no open shape published one in time."""
    return _origin.wait(timeout)


def _received(environment: Environment, msg: Any, **_kwargs: Any) -> None:
    _origin.set(float(msg.data["origin"]))


@events.init.add_listener
def _listen(environment: Environment, **_kwargs: Any) -> None:
    if isinstance(environment.runner, WorkerRunner):
        environment.runner.register_message(MESSAGE, _received)


@events.test_stop.add_listener
def _forget(**_kwargs: Any) -> None:
    """The next test (the web UI runs several) waits for its own origin."""
    global _origin
    _origin = gevent.event.AsyncResult()
