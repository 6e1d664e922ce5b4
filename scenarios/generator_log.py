"""generator.csv: the load generator's own health, once a second, in every process that sends.

A report can only be trusted as far as the generator kept up: a saturated Locust process
sends late and measures itself. Each second this writes the process's CPU and, in open runs,
what the driver meant to send, what it sent, what it dropped and how late it sent (the lag
of actual sends behind intended ones). Imported only by Locust processes.
"""

from __future__ import annotations

import csv
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import gevent
from locust import events
from locust.env import Environment
from locust.runners import STATE_RUNNING, STATE_SPAWNING, STATE_STOPPING, MasterRunner

from reports.run_format import GENERATOR_COLUMNS, GENERATOR_LOG, WORKER_GENERATOR_LOG, names
from scenarios.arrivals import SecondTally
from scenarios.request_log import process_file_name
from scenarios.run_session import current_run_dir

HEADER = names(GENERATOR_COLUMNS)
#: The runner states in which a test is sending (or finishing) requests.
SENDING = (STATE_SPAWNING, STATE_RUNNING, STATE_STOPPING)


class OpenLoadState:
    """The open driver's counts for the current second, read and reset by the writer."""

    def __init__(self) -> None:
        self.tally = SecondTally()
        self.in_flight = 0
        self.active = False  # an open driver runs in this process
        self.cpu_pct = 0.0  # the process's CPU in the last whole second (% of a core)
        #: Called with each arrival's intended time, and whether it was sent (else dropped):
        #: the capacity search counts them per step.
        self.on_arrival: list[Callable[[float, bool], None]] = []

    def record_sent(self, at: float, now: float) -> None:
        self.tally.record_sent(now - at)
        for listener in self.on_arrival:
            listener(at, True)

    def record_drop(self, at: float) -> None:
        self.tally.record_drop()
        for listener in self.on_arrival:
            listener(at, False)

    def take(self) -> SecondTally:
        tally, self.tally = self.tally, SecondTally()
        return tally


OPEN_LOAD = OpenLoadState()


def _append(path: Path, row: dict[str, Any]) -> None:
    new = not path.exists()
    with path.open("a", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        if new:
            writer.writerow(HEADER)
        writer.writerow(["" if row.get(c) is None else row[c] for c in HEADER])


def _write_every_second(environment: Environment) -> None:
    name = process_file_name(environment.parsed_options, GENERATOR_LOG, WORKER_GENERATOR_LOG)
    cpu, wall = time.process_time(), time.monotonic()
    while True:
        gevent.sleep(max(0.0, 1.0 - (time.monotonic() - wall)))
        now_cpu, now_wall = time.process_time(), time.monotonic()
        busy = 100.0 * (now_cpu - cpu) / max(now_wall - wall, 1e-6)
        cpu, wall = now_cpu, now_wall
        OPEN_LOAD.cpu_pct = busy
        tally = OPEN_LOAD.take()
        run_dir = current_run_dir(environment)
        runner = environment.runner
        if run_dir is None or runner is None or runner.state not in SENDING:
            continue
        row: dict[str, Any] = {"timestamp": f"{time.time():.3f}", "cpu_pct": round(busy, 1)}
        if OPEN_LOAD.active:
            row |= tally.row() | {"in_flight": OPEN_LOAD.in_flight}
        _append(run_dir / name, row)


@events.init.add_listener
def _start_writing(environment: Environment, **_kwargs: Any) -> None:
    if not isinstance(environment.runner, MasterRunner):  # a master sends nothing
        gevent.spawn(_write_every_second, environment)
