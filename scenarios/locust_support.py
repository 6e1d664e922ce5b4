"""What every scenario module shares on the Locust side: options, the user base, shape bases.

Imported only by Locust processes (it imports locust, which patches the process with gevent).
"""

from __future__ import annotations

import json
import os
import random
import time
from pathlib import Path
from typing import Any, ClassVar

from locust import FastHttpUser, LoadTestShape, events
from locust.exception import StopUser

import scenarios.request_log  # noqa: F401  (registers the per-request log)
from scenarios.catalog import (
    BASIC_AUTH_ENV,
    DEFAULT_WAIT,
    PHASE_LOG,
    SCENARIOS,
    parse_think_time,
)
from scenarios.checks import Check
from scenarios.schedule import Phase, Schedule


@events.init_command_line_parser.add_listener
def _add_options(parser: Any) -> None:
    parser.add_argument(
        "--time-scale",
        type=float,
        default=1.0,
        include_in_web_ui=True,
        help="Multiply every phase's duration (0.1 = ten times shorter)",
    )
    parser.add_argument(
        "--think-time",
        type=str,
        default="",
        include_in_web_ui=True,
        help="Seconds between a user's requests, MIN,MAX (default: per scenario)",
    )
    parser.add_argument(
        "--duration",
        type=float,
        default=0.0,
        include_in_web_ui=True,
        help="Length of the sustained scenario in seconds (default 60)",
    )
    parser.add_argument(
        "--base-users",
        type=int,
        default=0,
        include_in_web_ui=True,
        help="Users in the first phase (default: the scenario's; the spike keeps its 5x ratio)",
    )
    parser.add_argument(
        "--run-dir",
        type=str,
        default="",
        include_in_web_ui=False,
        help="Where to write requests.csv and the phase log",
    )


class MarketUser(FastHttpUser):
    """A user that validates every response and may stop itself after a request budget."""

    abstract = True
    scenario: ClassVar[str] = "sustained"  # whose default think time applies
    request_budget: ClassVar[int | None] = None

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.budget_used = 0
        options = self.environment.parsed_options
        text = getattr(options, "think_time", "") if options else ""
        shape = self.environment.shape_class
        scenario = getattr(shape, "scenario", None) or self.scenario
        self.think = parse_think_time(text) if text else DEFAULT_WAIT[scenario]
        user, _, password = os.environ.get(BASIC_AUTH_ENV, "").partition(":")
        self.basic_auth = (user, password) if user or password else None

    def wait_time(self) -> float:
        low, high = self.think
        return low if low == high else random.uniform(low, high)

    def checked_get(self, name: str, check: Check, params: dict[str, str] | None = None) -> bytes:
        """GET the route ``name``, recording a failure with the check's message if invalid."""
        with self.client.get(
            name, params=params, name=name, catch_response=True, auth=self.basic_auth
        ) as response:
            body = response.content or b""
            error = check(response.status_code or 0, body)
            if error:
                response.failure(error)
        return body

    def spend_budget(self) -> None:
        """Count one budgeted request; the user stops itself once the budget is spent."""
        self.budget_used += 1
        if self.request_budget is not None and self.budget_used >= self.request_budget:
            raise StopUser()


def write_phase_event(run_dir: str, **event: Any) -> None:
    """Append one event to the run directory's phase log (read by the runner for run.json)."""
    if run_dir:
        with (Path(run_dir) / PHASE_LOG).open("a", encoding="utf-8") as log:
            log.write(json.dumps({"time": time.time(), **event}) + "\n")


class _LoggingShape(LoadTestShape):
    abstract = True
    scenario: ClassVar[str]

    def __init__(self) -> None:
        super().__init__()
        self.current: str | None = None

    def option(self, name: str, default: Any = None) -> Any:
        options = self.runner.environment.parsed_options if self.runner else None
        return getattr(options, name, default) if options else default

    def enter(self, name: str, users: int) -> None:
        if name != self.current:
            self.current = name
            write_phase_event(self.option("run_dir", ""), event="phase", name=name, users=users)

    def finish(self) -> None:
        if self.current != "<end>":
            self.current = "<end>"
            write_phase_event(self.option("run_dir", ""), event="end")


class ScheduleShape(_LoggingShape):
    """Follows a timed schedule of phases, then stops the test."""

    abstract = True

    def schedule(self) -> Schedule:
        scenario = SCENARIOS[self.scenario]
        users = self.option("base_users", 0) or scenario.users
        time_scale = self.option("time_scale", 1.0) or 1.0
        schedule = scenario.schedule(users, time_scale, self.option("duration", 0.0) or None)
        assert schedule is not None
        return schedule

    def tick(self) -> tuple[int, float] | None:
        if not hasattr(self, "_schedule"):
            self._schedule = self.schedule()
        phase: Phase | None = self._schedule.phase_at(self.get_run_time())
        if phase is None:
            self.finish()
            return None
        self.enter(phase.name, phase.users)
        return phase.users, phase.spawn_rate


class BudgetShape(_LoggingShape):
    """Starts every user at once and ends the test when all budgets have been spent."""

    abstract = True
    budgeted_routes: ClassVar[tuple[str, ...]]

    def tick(self) -> tuple[int, float] | None:
        scenario = SCENARIOS[self.scenario]
        users = self.option("base_users", 0) or scenario.users
        expected = users * (scenario.requests_per_user or 0)
        stats = self.runner.stats
        done = sum(stats.get(route, "GET").num_requests for route in self.budgeted_routes)
        if done >= expected:
            self.finish()
            return None
        self.enter(self.scenario, users)
        return users, float(users)
