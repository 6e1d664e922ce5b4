"""A run's options, checked and resolved before anything starts.

Everything that can be known to be wrong before the load is refused here, with one line: an
option the chosen scenario does not use, a phase too short for Locust to follow, a bad
thresholds, schedule or locustfile, a header whose environment variable is missing. Found
later, each of these would cost the user a whole run.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from perf_lib.thresholds import Thresholds, ThresholdsError, resolve_thresholds, thresholds_path
from reports.run_format import MODEL_CLOSED, MODEL_OPEN
from scenarios.capacity_search import SearchSettings
from scenarios.catalog import (
    CAPACITY,
    CAPACITY_DEFAULT_MAX_RATE,
    CAPACITY_DEFAULT_PRECISION,
    CAPACITY_DEFAULT_START_RATE,
    CAPACITY_DEFAULT_STEP_S,
    OPEN_DEFAULT_RATE,
    SCENARIOS,
    Scenario,
)
from scenarios.headers import resolve_headers
from scenarios.health import HEALTH_PATH, parse_health_path
from scenarios.locustfile_check import LocustfileError, user_classes
from scenarios.schedule import Schedule
from scenarios.stages import load_schedule_file, parse_stages

#: Locust changes the load once a second: a shorter phase would not be followed.
MIN_PHASE_S = 1.0


class PlanError(ValueError):
    """An option that cannot work; the message is the one line the user sees."""


@dataclass(frozen=True)
class RunOptions:
    scenario: str
    host: str | None = None
    out: Path = Path("results")
    users: int | None = None
    time_scale: float = 1.0
    processes: int = 0
    fail_on: str = "critical"
    duration: float | None = None
    think_time: str | None = None
    thresholds: Path | None = None
    service_access_log: bool = False
    locustfile: Path | None = None
    stages: str | None = None
    schedule_file: Path | None = None
    health_path: str = HEALTH_PATH
    headers: tuple[str, ...] = field(default=(), repr=False)  # may hold secrets
    prometheus: str | None = None
    server_metrics: tuple[str, ...] = ()
    model: str = MODEL_CLOSED
    rate: float | None = None
    max_in_flight: int | None = None
    arrivals: str | None = None
    capacity: CapacitySettings | None = None  # the capacity search's, for that command only


@dataclass(frozen=True)
class CapacitySettings:
    """What ``python -m scenarios capacity`` searches: rates in req/s, seconds at time scale 1."""

    start_rate: float = CAPACITY_DEFAULT_START_RATE
    max_rate: float = CAPACITY_DEFAULT_MAX_RATE
    step_s: float = CAPACITY_DEFAULT_STEP_S
    precision: float = CAPACITY_DEFAULT_PRECISION
    min_capacity: float | None = None

    def search(self) -> SearchSettings:
        """The search's own settings; ValueError naming a bad one."""
        return SearchSettings(self.start_rate, self.max_rate, precision=self.precision)


@dataclass(frozen=True)
class RunPlan:
    options: RunOptions
    scenario: Scenario
    schedule: Schedule | None  # None: a budgeted scenario
    schedule_origin: str
    thresholds_path: Path | None  # absolute; None: the built-in table
    thresholds: Thresholds
    health_path: str | None  # None: no start check
    headers: dict[str, str] = field(repr=False)  # values are secrets: never shown
    locust_users: list[str] | None = None  # the locustfile's user classes


def plan_run(
    options: RunOptions,
    environ: Mapping[str, str] = os.environ,
    inspect_locustfile: Callable[[Path], list[str]] = user_classes,
) -> RunPlan:
    """The checked plan of ``options``; PlanError for the first option that cannot work."""
    if options.capacity is not None:
        scenario = CAPACITY
        schedule, origin = None, "the capacity search"
        _check_capacity(options.capacity, options.time_scale)
    elif options.scenario not in SCENARIOS:
        raise PlanError(f"unknown scenario {options.scenario!r}")
    else:
        scenario = SCENARIOS[options.scenario]
        _check_applicable(options, scenario)
        schedule, origin = _schedule(options, scenario)
    found = thresholds_file(options.thresholds)
    try:
        thresholds = resolve_thresholds(found)
        health_path = parse_health_path(options.health_path)
        headers = resolve_headers(options.headers, environ)
    except (ThresholdsError, ValueError) as exc:
        raise PlanError(str(exc)) from None
    users = None
    if options.locustfile is not None:
        try:
            users = inspect_locustfile(options.locustfile)
        except LocustfileError as exc:
            raise PlanError(str(exc)) from None
    return RunPlan(
        options, scenario, schedule, origin, found, thresholds, health_path, headers, users
    )


def thresholds_file(path: Path | None) -> Path | None:
    """The thresholds file a run uses, absolute (Locust gets it); None for the built-in table."""
    found = thresholds_path(path)
    return None if found is None else found.resolve()


def _check_applicable(options: RunOptions, scenario: Scenario) -> None:
    """Refuse what the scenario would ignore: a silently ignored option misleads."""
    timed = scenario.requests_per_user is None
    if not timed:
        for given, option in (
            (options.locustfile, "--locustfile"),
            (options.stages, "--stages"),
            (options.schedule_file, "--schedule"),
        ):
            if given is not None:
                raise PlanError(
                    f"{scenario.name} is specific to the reference API (a fixed request budget "
                    f"of its own endpoints): {option} works with spike or sustained"
                )
    if options.locustfile is not None and options.think_time is not None:
        raise PlanError(
            "--wait sets the built-in users' think time; a locustfile's users have their own "
            "wait_time"
        )
    _check_model(options, scenario, timed)
    if options.stages is not None and options.schedule_file is not None:
        raise PlanError("--stages and --schedule both set the phases: give one of them")
    own_schedule = options.stages is not None or options.schedule_file is not None
    if options.duration is not None and (scenario.duration_s is None or own_schedule):
        if own_schedule:
            used = "the stages set the length"
        elif timed:
            used = "its phases have fixed lengths"
        else:
            used = "it runs a fixed request budget"
        raise PlanError(f"--duration applies to sustained only; {scenario.name}: {used}")
    if options.server_metrics and options.prometheus is None:
        raise PlanError("--server-metric chooses series of --prometheus: give its URL too")
    if options.users is not None and own_schedule:
        raise PlanError("--users does not apply with --stages or --schedule: they set the users")


def _check_capacity(settings: CapacitySettings, time_scale: float) -> None:
    try:
        settings.search()
    except ValueError as exc:
        raise PlanError(f"capacity: {exc}") from None
    step_s = settings.step_s * time_scale
    if step_s < 2 * MIN_PHASE_S:
        raise PlanError(
            f"a capacity step of {step_s:.2g} s is too short: it needs at least "
            f"{2 * MIN_PHASE_S:g} s (a warm-up, then the part that is judged)"
        )
    if settings.min_capacity is not None and not settings.min_capacity > 0:
        raise PlanError(f"--min-capacity must be > 0, not {settings.min_capacity:g}")


def _check_model(options: RunOptions, scenario: Scenario, timed: bool) -> None:
    open_only = (
        (options.rate, "--rate"),
        (options.max_in_flight, "--max-in-flight"),
        (options.arrivals, "--arrivals"),
    )
    if options.model != MODEL_OPEN:
        for given, option in open_only:
            if given is not None:
                raise PlanError(f"{option} applies to the open model: add --model open")
        return
    if not timed:
        raise PlanError(f"--model open runs spike or sustained; {scenario.name} runs a budget")
    if options.locustfile is not None:
        raise PlanError("--model open sends the built-in users' mix; a locustfile runs closed")
    if options.users is not None:
        raise PlanError("the open model sets arrivals, not users: use --rate")
    if options.think_time is not None:
        raise PlanError("the open model has no think time: arrivals follow --rate")
    if options.rate is not None and (options.stages or options.schedule_file):
        raise PlanError("with --model open, the stages' numbers are the rates: drop --rate")


def _schedule(options: RunOptions, scenario: Scenario) -> tuple[Schedule | None, str]:
    """The run's schedule, scaled, and where it came from."""
    try:
        if options.stages is not None:
            own, origin = parse_stages(options.stages), f"--stages {options.stages}"
        elif options.schedule_file is not None:
            own, origin = load_schedule_file(options.schedule_file), str(options.schedule_file)
        else:
            own, origin = None, f"the {scenario.name} scenario"
    except ValueError as exc:
        where = "--stages: " if options.stages is not None else ""
        raise PlanError(f"{where}{exc}") from None
    if own is not None:
        schedule: Schedule | None = own.scaled(options.time_scale)
    else:
        schedule = scenario.schedule(options.users, options.time_scale, options.duration)
    if options.model == MODEL_OPEN and schedule is not None:
        # Own stages give rates (DURATION:RATE); the scenarios' phases scale from --rate.
        first = schedule.phases[0].users if own is not None else None
        rate = options.rate or first or OPEN_DEFAULT_RATE
        schedule = schedule.open_model(rate, drivers=max(1, options.processes))
    if schedule is not None:
        shortest = schedule.shortest_phase()
        if shortest.duration_s < MIN_PHASE_S:
            cause = (
                f"--time-scale {options.time_scale:g} leaves phase"
                if options.time_scale != 1
                else "phase"
            )
            raise PlanError(
                f"{cause} {shortest.name!r} {shortest.duration_s:.2g} s long; a phase needs at "
                f"least {MIN_PHASE_S:g} s (Locust changes the load once a second)"
            )
    return schedule, origin
