"""What every scenario module shares on the Locust side: options, the user base, shape bases.

Imported only by Locust processes (it imports locust, which patches the process with gevent).
"""

from __future__ import annotations

import logging
import random
import time
from typing import Any, ClassVar

from locust import FastHttpUser, LoadTestShape, events
from locust.exception import StopUser
from locust.runners import MasterRunner

import scenarios.generator_log  # noqa: F401  (the generator's CPU, and open-model counts)
import scenarios.user_headers  # noqa: F401  (every user sends the run's headers)
from perf_lib.thresholds import Thresholds, ThresholdsError, resolve_thresholds
from reports.run_format import ROLE_BASELINE, ROLE_RECOVERY, ROLE_STEADY
from scenarios import arrival_clock
from scenarios.catalog import (
    DEFAULT_WAIT,
    REQUEST_TIMEOUT_S,
    SCENARIOS,
    parse_think_time,
)
from scenarios.checks import Check
from scenarios.recovery_watch import DISTRIBUTED_LAG_S, RecoveryWatch
from scenarios.run_session import write_phase_event
from scenarios.schedule import Phase, Schedule

logger = logging.getLogger(__name__)


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
    parser.add_argument(
        "--kit-schedule",
        type=str,
        default="",
        include_in_web_ui=False,
        help="The schedule to follow, as JSON phases (set by the runner; default: the scenario's)",
    )
    parser.add_argument(
        "--thresholds",
        type=str,
        default="",
        include_in_web_ui=False,
        help="Thresholds file for the Verdict tab and the spike's recovery watch "
        "(default: thresholds.toml in the current directory, else the built-in table)",
    )


class MarketUser(FastHttpUser):
    """A user that validates every response and may stop itself after a request budget."""

    abstract = True
    scenario: ClassVar[str] = "sustained"  # whose default think time applies
    request_budget: ClassVar[int | None] = None
    # Locust's own defaults, stated because the graceful stop timeout is derived from them.
    connection_timeout = REQUEST_TIMEOUT_S
    network_timeout = REQUEST_TIMEOUT_S

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.budget_used = 0
        options = self.environment.parsed_options
        text = getattr(options, "think_time", "") if options else ""
        shape = self.environment.shape_class
        scenario = getattr(shape, "scenario", None) or self.scenario
        self.think = parse_think_time(text) if text else DEFAULT_WAIT.get(scenario, (0.0, 0.0))

    def wait_time(self) -> float:
        low, high = self.think
        return low if low == high else random.uniform(low, high)

    def checked_get(self, name: str, check: Check, params: dict[str, str] | None = None) -> bytes:
        """GET the route ``name``, recording a failure with the check's message if invalid."""
        with self.client.get(name, params=params, name=name, catch_response=True) as response:
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


def load_thresholds(path: str) -> Thresholds:
    """The run's thresholds; the built-in table (with a warning) when the file is unusable.

    The runner refuses a bad file before it starts Locust, so this fallback only serves
    Locust started by hand.
    """
    try:
        return resolve_thresholds(path or None)
    except ThresholdsError as exc:
        logger.warning("%s; using the built-in thresholds", exc)
        return Thresholds()


class _LoggingShape(LoadTestShape):
    abstract = True
    scenario: ClassVar[str]

    def __init__(self) -> None:
        super().__init__()
        self.reset_run()

    def reset_run(self) -> None:
        """Forget the previous test (the web UI runs several with one shape)."""
        self.current: tuple[str, str, int] | None = None  # name, role, users
        self.entered: dict[str, float] = {}  # role -> when the shape entered it
        self.ended = False
        self.last_run_time = 0.0

    def run_time(self) -> float:
        """Seconds into the test; a new test (the clock went back) starts afresh."""
        elapsed = self.get_run_time()
        if elapsed < self.last_run_time:
            self.reset_run()
        self.last_run_time = elapsed
        return elapsed

    def option(self, name: str, default: Any = None) -> Any:
        options = self.runner.environment.parsed_options if self.runner else None
        return getattr(options, name, default) if options else default

    def log_event(self, at: float, **event: Any) -> None:
        if self.runner is not None:
            write_phase_event(self.runner.environment, at, **event)

    def enter(
        self, name: str, role: str, users: int, now: float, rate: float | None = None
    ) -> bool:
        """Log the phase if it is new (with its arrival rate in the open model); True if so."""
        if (name, role, users) == self.current:
            return False
        self.current = (name, role, users)
        self.entered[role] = now
        extra = {} if rate is None else {"rate": rate}
        self.log_event(now, event="phase", name=name, role=role, users=users, **extra)
        return True

    def finish(self, now: float) -> None:
        if not self.ended:
            self.ended = True
            self.log_event(now, event="end")


class ScheduleShape(_LoggingShape):
    """Follows a timed schedule of phases, then stops the test.

    A spike's recovery phase runs at least its scheduled length, then goes on at the
    recovery load until the recovery watch has seen the service back to normal, or until
    the recovery limit has passed (``scenarios.recovery_watch``).
    """

    abstract = True
    #: An open shape's phases are arrival rates, sent by OpenMarketDataUser's drivers.
    open_model: ClassVar[bool] = False

    def reset_run(self) -> None:
        super().reset_run()
        self._schedule: Schedule | None = None
        #: Open shapes: the epoch at which the arrivals' schedule starts (``arrival_clock``).
        self.origin: float | None = None
        self._phase: Phase | None = None
        self._watch: RecoveryWatch | None = None
        self._watched: tuple[Any, ...] | None = None

    def schedule(self) -> Schedule:
        """The runner's schedule when it gives one, else the scenario's from the options
        (as arrivals at ``--arrival-rate`` for an open shape)."""
        given = self.option("kit_schedule", "")
        if given:
            return Schedule.from_json(given)
        scenario = SCENARIOS[self.scenario]
        users = self.option("base_users", 0) or scenario.users
        time_scale = self.option("time_scale", 1.0) or 1.0
        schedule = scenario.schedule(users, time_scale, self.option("duration", 0.0) or None)
        assert schedule is not None
        return schedule.open_model(self.option("arrival_rate")) if self.open_model else schedule

    def make_watch(self, schedule: Schedule) -> RecoveryWatch | None:
        """A watch for schedules with a spike; None for the others."""
        recovery = schedule.index_of(ROLE_RECOVERY)
        if not schedule.has_spike or recovery is None:
            return None
        limits = load_thresholds(self.option("thresholds", "")).recovery
        limits = limits.scaled(self.option("time_scale", 1.0) or 1.0)
        lag = DISTRIBUTED_LAG_S if isinstance(self.runner, MasterRunner) else 0.0
        return RecoveryWatch(limits, schedule.phases[recovery].duration_s, lag)

    def tick(self) -> tuple[int, float] | None:
        elapsed = self.run_time()
        now = time.time()
        if self._schedule is None:
            self._schedule = self.schedule()
            self._watch = self.make_watch(self._schedule)
            if self.open_model:
                self.origin = now - elapsed + arrival_clock.LEAD_S
                segment = arrival_clock.Segment(
                    self.origin, self._schedule, endless=self._watch is not None
                )
                arrival_clock.publish(self.runner, segment)
        if self.origin is not None:
            elapsed = max(0.0, now - self.origin)  # the arrivals' clock
        watch = self._watch
        if watch is not None:
            total = self.runner.stats.total
            watch.observe(now, total.num_requests, total.num_failures, total.response_times)
        index = self._schedule.index_at(elapsed)
        if index is None:
            phase = self._phase
            if phase is None or not self._recovery_goes_on(phase, now):
                self.finish(self._end_time(now))
                return None
        else:
            phase = self._schedule.phases[index]
            self._enter_phase(phase, self._phase_start(index, now))
        self._note_watch(now)
        return phase.users, phase.spawn_rate

    def _phase_start(self, index: int, now: float) -> float:
        """When the phase at ``index`` began: an open phase when its arrivals did, not at the
        tick that noticed it."""
        if self.origin is None or self._schedule is None:
            return now
        return self.origin + self._schedule.start_s(index)

    def _end_time(self, now: float) -> float:
        """When the test ended: an open schedule that no watch extended when its arrivals
        did, not at the tick that noticed it."""
        if self.origin is None or self._schedule is None or self._watch is not None:
            return now
        return self.origin + self._schedule.duration_s

    def _enter_phase(self, phase: Phase, began: float) -> None:
        """Log a new phase, and tell the recovery watch when the baseline or the spike ended."""
        if not self.enter(phase.name, phase.role, phase.users, began, phase.rate):
            return
        left, self._phase = self._phase, phase
        watch = self._watch
        if watch is not None and left is not None and left.role == ROLE_BASELINE:
            watch.baseline_phase(self.entered[ROLE_BASELINE], began)
        if watch is not None and phase.role == ROLE_RECOVERY:
            watch.spike_ended(began)

    def _recovery_goes_on(self, phase: Phase, now: float) -> bool:
        """After the schedule: whether the recovery phase must go on (the watch says so)."""
        watch = self._watch
        return phase.role == ROLE_RECOVERY and watch is not None and not watch.done(now)

    def _note_watch(self, now: float) -> None:
        """Log the watch's state whenever it changes: the runner's progress line shows it."""
        watch = self._watch
        if watch is None or watch.spike_end is None or watch.baseline is None:
            return
        state = (watch.recovered_after_s(), watch.ends_at(), watch.deadline)
        if state != self._watched:
            self._watched = state
            recovered, ends, deadline = state
            self.log_event(
                now, event="watch", recovered_after_s=recovered, ends=ends, deadline=deadline
            )


class BudgetShape(_LoggingShape):
    """Starts every user at once and ends the test when all budgets have been spent."""

    abstract = True
    budgeted_routes: ClassVar[tuple[str, ...]]

    def tick(self) -> tuple[int, float] | None:
        self.run_time()
        scenario = SCENARIOS[self.scenario]
        users = self.option("base_users", 0) or scenario.users
        expected = users * (scenario.requests_per_user or 0)
        stats = self.runner.stats
        done = sum(stats.get(route, "GET").num_requests for route in self.budgeted_routes)
        now = time.time()
        if done >= expected:
            self.finish(now)
            return None
        self.enter(self.scenario, ROLE_STEADY, users, now)
        return users, float(users)
