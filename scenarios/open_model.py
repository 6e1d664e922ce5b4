"""The open model: MarketDataUser's requests, sent on their own schedule.

A closed user waits for each reply before it sends again, so a slow service slows its
clients and the slow seconds produce few samples (coordinated omission). Here one driver per
Locust process follows the arrival schedule (``scenarios.arrivals``): each arrival is issued
on its own greenlet at its intended time, whatever the replies are doing, with the same
request mix and response checks as the closed users. At most ``--max-in-flight`` requests are
outstanding; an arrival that finds them all taken is dropped and counted (generator.csv).
Each request's intended send time goes into the request log (``intended_start``), so the
report measures what a client arriving then would have seen. Arrivals are timed from the open
shape's origin (``scenarios.arrival_clock``), shared by every process of the run.

Imported only by Locust processes.
"""

from __future__ import annotations

import gc
import math
import random
import time
from collections.abc import Iterator
from typing import Any

import gevent.local
import gevent.pool
from locust import events
from locust.env import Environment
from locust.exception import StopUser
from locust.user.users import LOCUST_STATE_STOPPING

from scenarios import arrival_clock
from scenarios.arrival_clock import Segment
from scenarios.arrivals import ARRIVALS, UNIFORM, arrival_times
from scenarios.catalog import OPEN_DEFAULT_MAX_IN_FLIGHT, OPEN_DEFAULT_RATE
from scenarios.generator_log import OPEN_LOAD
from scenarios.request_log import INTENDED_START
from scenarios.schedule import constant_schedule
from scenarios.users import HistoricalClient, MarketDataUser

_arrival = gevent.local.local()  # the intended send time of the greenlet's request


@events.init_command_line_parser.add_listener
def _add_options(parser: Any) -> None:
    parser.add_argument(
        "--arrival-rate",
        type=float,
        default=OPEN_DEFAULT_RATE,
        include_in_web_ui=True,
        help="Open model: arrivals per second in the first phase (the spike's x5 follows)",
    )
    parser.add_argument(
        "--max-in-flight",
        type=int,
        default=OPEN_DEFAULT_MAX_IN_FLIGHT,
        include_in_web_ui=True,
        help="Open model: requests outstanding at most; later arrivals are dropped and counted",
    )
    parser.add_argument(
        "--arrivals",
        choices=ARRIVALS,
        default=UNIFORM,
        include_in_web_ui=True,
        help="Open model: evenly spaced arrivals, or a Poisson process",
    )
    parser.add_argument(
        "--arrival-seed",
        type=int,
        default=None,
        include_in_web_ui=False,
        help="Open model: the Poisson process's seed (default: random)",
    )
    parser.add_argument(
        "--open-workers",
        type=int,
        default=1,
        include_in_web_ui=False,
        help="Open model: the Locust processes sharing the rate (set by the runner)",
    )


class OpenMarketDataUser(HistoricalClient):
    """One driver: sends MarketDataUser's mix at the schedule's arrival rate.

    A sibling of MarketDataUser, not a subclass: Locust adds a base class's tasks to its
    subclasses', and the driver must run its arrivals alone.
    """

    mix = MarketDataUser.tasks  # weighted: history 8, symbols 1, health 1

    def __init__(self, environment: Environment) -> None:
        options = environment.parsed_options
        self.max_in_flight = max(1, getattr(options, "max_in_flight", OPEN_DEFAULT_MAX_IN_FLIGHT))
        self.concurrency = self.max_in_flight  # connections: never the limit below the cap
        super().__init__(environment)

    def context(self) -> dict[str, Any]:
        return {INTENDED_START: getattr(_arrival, "at", None)}

    def send_arrivals(self) -> None:
        pool = gevent.pool.Pool(self.max_in_flight)
        OPEN_LOAD.active = True
        # Full collections of start-up objects stalled the loop 30-90 ms; frozen, they take
        # 1-2 ms (send lag p99 at 2,000 req/s: 42.8 -> 3.9 ms, make bench open_model).
        gc.collect()
        gc.freeze()
        for segment in self._segments():
            self._send(segment, pool)
        pool.join()  # the requests in flight end (and are logged) before the driver stops
        raise StopUser()

    tasks = [send_arrivals]  # the mix's tasks are called by the arrivals, never by Locust

    def _segments(self) -> Iterator[Segment]:
        """The open shape's segments as it publishes them, until the test stops; without an
        open shape (the web UI's form), ``--arrival-rate`` from now on."""
        if not getattr(self.environment.shape_class, "open_model", False):
            rate = getattr(self.environment.parsed_options, "arrival_rate", OPEN_DEFAULT_RATE)
            manual = constant_schedule("manual", 1, math.inf).open_model(rate)
            yield Segment(time.time(), manual, endless=True)
            return
        while self._state != LOCUST_STATE_STOPPING:
            segment = arrival_clock.next_segment(timeout=0.2)
            if segment is not None:
                yield segment

    def _send(self, segment: Segment, pool: gevent.pool.Pool) -> None:
        """Each of the segment's arrivals on its own greenlet at its time; an arrival that
        finds ``max_in_flight`` requests outstanding is dropped and counted."""
        options = self.environment.parsed_options
        arrivals = arrival_times(
            segment.schedule,
            segment.origin,
            getattr(options, "arrivals", UNIFORM),
            getattr(options, "arrival_seed", None),
            worker=max(0, getattr(self.environment.runner, "worker_index", 0)),
            workers=max(1, getattr(options, "open_workers", 1)),
            endless=segment.endless,
        )
        for at in arrivals:
            if self._state == LOCUST_STATE_STOPPING:
                return
            delay = at - time.time()
            if delay > 0:
                gevent.sleep(delay)
            if pool.full():
                OPEN_LOAD.record_drop(at)
                continue
            pool.spawn(self._arrive, at)

    def _arrive(self, at: float) -> None:
        _arrival.at = at
        OPEN_LOAD.in_flight += 1
        OPEN_LOAD.record_sent(at, time.time())
        try:
            random.choice(self.mix)(self)
        finally:
            OPEN_LOAD.in_flight -= 1
