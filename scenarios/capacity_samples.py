"""The capacity search's samples: what each step's steady part sent and saw, per process.

Every process that sends collects, for each step it is given (an ``arrival_clock`` segment),
the requests whose intended start falls in the step's steady part (after its warm-up): each
one's latency from the intended start, failure and send lag, the arrivals sent and dropped,
and the busiest second of the process's CPU. A worker ships what it collected to the master
with its regular report to the master; the master (or a single process) merges them, and the
capacity shape judges a step once its samples are in.

Imported only by Locust processes.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import gevent
from locust import events
from locust.env import Environment
from locust.runners import MasterRunner, WorkerRunner

from scenarios import arrival_clock
from scenarios.arrival_clock import Segment
from scenarios.capacity_judge import StepSamples
from scenarios.generator_log import OPEN_LOAD
from scenarios.request_log import INTENDED_START

REPORT_KEY = "kit_capacity"
SAMPLES_KEY, IN_FLIGHT_KEY = "samples", "in_flight"


@dataclass(frozen=True)
class Window:
    """The steady part of one step: from ``start`` (after the warm-up) to ``end``."""

    step: str
    start: float
    end: float

    def holds(self, at: float) -> bool:
        return self.start <= at < self.end


class StepCollector:
    """This process's samples per step, until the shape (or the master) takes them."""

    def __init__(self) -> None:
        self.windows: list[Window] = []
        self.samples: dict[str, StepSamples] = {}
        self.workers_in_flight: dict[str, int] = {}  # the master's view, per worker

    def in_flight(self) -> int:
        """Requests outstanding: this process's, or every worker's as last reported."""
        return OPEN_LOAD.in_flight + sum(self.workers_in_flight.values())

    def given(self, segment: Segment) -> None:
        if segment.steady_from is None:  # not a capacity step
            return
        phase = segment.schedule.phases[0]
        self.windows.append(
            Window(phase.name, segment.steady_from, segment.origin + phase.duration_s)
        )

    def _step(self, at: float) -> StepSamples | None:
        for window in reversed(self.windows):
            if window.holds(at):
                return self.samples.setdefault(window.step, StepSamples())
        return None

    def request(self, name: str, at: float, sent: float, response_ms: float, failed: bool) -> None:
        samples = self._step(at)
        if samples is not None:
            lag_ms = max(0.0, sent - at) * 1000.0
            samples.add(name, lag_ms + response_ms, failed, lag_ms)

    def arrival(self, at: float, sent: bool) -> None:
        samples = self._step(at)
        if samples is not None:
            if sent:
                samples.sent += 1
            else:
                samples.dropped += 1

    def busy(self, now: float, cpu_pct: float) -> None:
        """The CPU of the second that ended ``now``, for the step whose steady part holds the
        middle of that second (as the reports place generator.csv's rows)."""
        for window in self.windows:
            if window.holds(now - 0.5):
                samples = self.samples.setdefault(window.step, StepSamples())
                samples.cpu_max_pct = max(samples.cpu_max_pct, cpu_pct)

    def merge(self, client_id: str, shipped: dict[str, Any]) -> None:
        self.workers_in_flight[client_id] = int(shipped.get(IN_FLIGHT_KEY, 0))
        for step, data in (shipped.get(SAMPLES_KEY) or {}).items():
            self.samples.setdefault(step, StepSamples()).merge(StepSamples.from_message(data))

    def ship(self) -> dict[str, Any]:
        """Everything collected since the last shipment (emptied), and the requests in flight."""
        samples = {step: s.to_message() for step, s in self.samples.items()}
        self.samples = {}
        return {SAMPLES_KEY: samples, IN_FLIGHT_KEY: OPEN_LOAD.in_flight}

    def take(self, step: str) -> StepSamples:
        return self.samples.pop(step, StepSamples())

    def reset(self) -> None:
        self.windows, self.samples, self.workers_in_flight = [], {}, {}


COLLECTOR = StepCollector()


def _on_request(
    name: str,
    response_time: float,
    context: dict[str, Any] | None = None,
    exception: BaseException | None = None,
    start_time: float | None = None,
    **_kwargs: Any,
) -> None:
    at = (context or {}).get(INTENDED_START)
    if at is not None and start_time is not None:
        COLLECTOR.request(name, at, start_time, response_time, exception is not None)


def _watch_cpu() -> None:
    while True:
        gevent.sleep(1.0)
        COLLECTOR.busy(time.time(), OPEN_LOAD.cpu_pct)


def enable(environment: Environment) -> None:
    """Collect in this process (it sends), ship to the master (a worker) or merge what the
    workers ship (the master)."""
    runner = environment.runner
    if isinstance(runner, MasterRunner):
        environment.events.worker_report.add_listener(
            lambda client_id, data: COLLECTOR.merge(client_id, data.get(REPORT_KEY) or {})
        )
        return
    arrival_clock.on_segment.append(COLLECTOR.given)
    OPEN_LOAD.on_arrival.append(COLLECTOR.arrival)
    environment.events.request.add_listener(_on_request)
    gevent.spawn(_watch_cpu)
    if isinstance(runner, WorkerRunner):
        environment.events.report_to_master.add_listener(
            lambda client_id, data: data.__setitem__(REPORT_KEY, COLLECTOR.ship())
        )


@events.test_stop.add_listener
def _forget(**_kwargs: Any) -> None:
    COLLECTOR.reset()
