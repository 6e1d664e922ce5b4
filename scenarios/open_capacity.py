"""The capacity search in Locust: an open shape whose rate steps as the search decides.

``python -m scenarios capacity`` runs Locust on this module. The shape asks the search
(``scenarios.capacity_search``) for a rate, hands the drivers one step at that rate (an
``arrival_clock`` segment), judges the step's steady part once its samples are in
(``scenarios.capacity_samples``, ``scenarios.capacity_judge``) and asks again, until the
search is over. Between steps the load pauses while the step is judged (about a second, plus
a worker's report interval); after a failed step it pauses until the service has worked off
its backlog, so that no step inherits the last one's queue. Each step is a phase of run.json
that ends where its arrivals do (a "pause" in the phase log). After every step
``capacity.json`` holds the answer so far, so an interrupted search still says what it found.

Imported only by Locust processes.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from locust import LoadTestShape, events
from locust.runners import WORKER_REPORT_INTERVAL, MasterRunner

from reports.run_format import CAPACITY_FILE, ROLE_STEADY
from scenarios import arrival_clock, capacity_samples
from scenarios.capacity_judge import judge_step
from scenarios.capacity_search import CapacitySearch, SearchSettings
from scenarios.catalog import (
    CAPACITY_DEFAULT_MAX_RATE,
    CAPACITY_DEFAULT_PRECISION,
    CAPACITY_DEFAULT_START_RATE,
    CAPACITY_DEFAULT_STEP_S,
    CAPACITY_DEFAULT_WARMUP_S,
    CAPACITY_REST_LIMIT_S,
)
from scenarios.locust_support import load_thresholds
from scenarios.open_model import OpenMarketDataUser
from scenarios.run_session import current_run_dir, write_phase_event
from scenarios.schedule import constant_schedule

__all__ = ["CapacityShape", "OpenMarketDataUser"]

#: After a step's end, how long its last replies (and a worker's report) may take to come in.
SETTLE_S = 1.0


#: The search's options: flag, default, shown in the web UI's form, what it sets.
OPTIONS: tuple[tuple[str, float | None, bool, str], ...] = (
    ("--capacity-start-rate", CAPACITY_DEFAULT_START_RATE, True, "the first rate tried (req/s)"),
    ("--capacity-max-rate", CAPACITY_DEFAULT_MAX_RATE, True, "the highest rate tried (req/s)"),
    ("--capacity-step-s", CAPACITY_DEFAULT_STEP_S, True, "seconds per step (x --time-scale)"),
    ("--capacity-warmup-s", CAPACITY_DEFAULT_WARMUP_S, False, "a step's first seconds, not judged"),
    (
        "--capacity-precision",
        CAPACITY_DEFAULT_PRECISION,
        True,
        "bisect until failing/healthy <= 1 + this",
    ),
    ("--capacity-factor", 1.5, False, "each rate over the last one's while climbing"),
    ("--min-capacity", None, True, "the rate below which the run fails (req/s)"),
)


@events.init_command_line_parser.add_listener
def _add_options(parser: Any) -> None:
    for flag, default, in_web_ui, sets in OPTIONS:
        parser.add_argument(
            flag, type=float, default=default, include_in_web_ui=in_web_ui, help=f"Capacity: {sets}"
        )


@events.init.add_listener
def _collect(environment: Any, **_kwargs: Any) -> None:
    capacity_samples.enable(environment)


@dataclass(frozen=True)
class Step:
    name: str
    rate: float
    origin: float  # the first arrival
    steady_from: float  # after the warm-up: the part that is judged
    end: float  # the judged part's end; the rate goes on until the next step starts


class CapacityShape(LoadTestShape):
    """Steps the open model's rate as the capacity search decides, then ends the test."""

    scenario: ClassVar[str] = "capacity"
    open_model: ClassVar[bool] = True

    def __init__(self) -> None:
        super().__init__()
        self.reset_run()

    def reset_run(self) -> None:
        """Forget the previous test (the web UI runs several with one shape)."""
        self.search: CapacitySearch | None = None
        self.step: Step | None = None
        self.steps: list[Step] = []
        self.rest_until: float | None = None  # after a failed step: the rest's latest end
        self.last_run_time = 0.0
        self.ended = False

    def option(self, name: str, default: Any = None) -> Any:
        options = self.runner.environment.parsed_options if self.runner else None
        value = getattr(options, name, default) if options else default
        return default if value is None else value

    @property
    def drivers(self) -> int:
        return max(1, int(self.option("open_workers", 1)))

    def tick(self) -> tuple[int, float] | None:
        elapsed = self.get_run_time()
        if elapsed < self.last_run_time:
            self.reset_run()
        self.last_run_time = elapsed
        now = time.time()
        if self.ended:
            return None
        if self.search is None:
            self.search = CapacitySearch(self.settings())
            self.thresholds = load_thresholds(self.option("thresholds", ""))
            self._start_step(now)
        elif self.rest_until is not None:
            if now >= self.rest_until or capacity_samples.COLLECTOR.in_flight() == 0:
                self.rest_until = None
                self._start_step(now)
        elif self.step is not None and now >= self.step.end + self._settle_s():
            write_phase_event(self.runner.environment, self.step.end, event="pause")
            held = self._judge(self.step)
            if self.search.done:
                self._finish(now)
                return None
            if held:
                self._start_step(now)
            else:
                self.rest_until = now + self._scaled(CAPACITY_REST_LIMIT_S)
        return self.drivers, float(self.drivers)

    def settings(self) -> SearchSettings:
        return SearchSettings(
            start_rate=float(self.option("capacity_start_rate", CAPACITY_DEFAULT_START_RATE)),
            max_rate=float(self.option("capacity_max_rate", CAPACITY_DEFAULT_MAX_RATE)),
            factor=float(self.option("capacity_factor", 1.5)),
            precision=float(self.option("capacity_precision", CAPACITY_DEFAULT_PRECISION)),
        )

    def _scaled(self, seconds: float) -> float:
        return seconds * float(self.option("time_scale", 1.0) or 1.0)

    def _settle_s(self) -> float:
        # a worker's samples reach the master with its next report
        distributed = isinstance(self.runner, MasterRunner)
        return SETTLE_S + (WORKER_REPORT_INTERVAL if distributed else 0.0)

    def _start_step(self, now: float) -> None:
        assert self.search is not None
        rate = self.search.next_rate()
        assert rate is not None
        length = self._scaled(float(self.option("capacity_step_s", CAPACITY_DEFAULT_STEP_S)))
        warmup = self._scaled(float(self.option("capacity_warmup_s", CAPACITY_DEFAULT_WARMUP_S)))
        origin = now + arrival_clock.LEAD_S
        name = f"step {len(self.steps) + 1}"
        self.step = Step(name, rate, origin, origin + min(warmup, length / 2), origin + length)
        self.steps.append(self.step)
        schedule = constant_schedule(name, self.drivers, length).open_model(rate, self.drivers)
        write_phase_event(
            self.runner.environment, origin, event="phase", name=name, role=ROLE_STEADY,
            users=self.drivers, rate=rate,
        )  # fmt: skip
        segment = arrival_clock.Segment(origin, schedule, False, self.step.steady_from)
        arrival_clock.publish(self.runner, segment)

    def _judge(self, step: Step) -> bool:
        """Judge the step and tell the search; whether it held."""
        assert self.search is not None
        samples = capacity_samples.COLLECTOR.take(step.name)
        trial = judge_step(step.rate, samples, step.end - step.steady_from, self.thresholds)
        self.search.record(trial)
        self._write_answer()
        return trial.held

    def _finish(self, now: float) -> None:
        self.ended = True
        write_phase_event(self.runner.environment, now, event="end")

    def _write_answer(self) -> None:
        """capacity.json: the settings, the answer so far and each step's window."""
        assert self.search is not None
        run_dir = current_run_dir(self.runner.environment)
        if run_dir is None:
            return
        answer = self.search.answer().to_dict()
        for record, step in zip(answer["steps"], self.steps, strict=False):
            record |= {"phase": step.name, "start": step.origin, "end": step.end,
                       "steady_from": step.steady_from}  # fmt: skip
        settings = self.search.settings
        answer["settings"] = {
            "start_rate": settings.start_rate, "max_rate": settings.max_rate,
            "factor": settings.factor, "precision": settings.precision,
            "confirmations": settings.confirmations,
            "step_s": self._scaled(float(self.option("capacity_step_s", CAPACITY_DEFAULT_STEP_S))),
            "warmup_s": self.steps[0].steady_from - self.steps[0].origin if self.steps else None,
            "min_capacity": self.option("min_capacity", None),
        }  # fmt: skip
        _write_json(run_dir / CAPACITY_FILE, answer)


def _write_json(path: Path, document: dict[str, Any]) -> None:
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    tmp.replace(path)
