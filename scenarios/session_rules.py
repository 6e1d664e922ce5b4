"""The rules of run sessions, apart from Locust: which mode, which names, what run.json says.

A Locust process in session mode (``--kit-out DIR``, or ``enable()`` in a locustfile) records
each test in its own run directory. ``scenarios.run_session`` does the I/O in the Locust
process; the decisions live here, where tests can import them without Locust (whose import
patches the whole process with gevent).
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from perf_lib.thresholds import ThresholdsError, resolve_thresholds
from reports.run_format import MODEL_OPEN, ROLE_STEADY
from scenarios.run_record import (
    RunRecord,
    dropped_arrivals,
    model_fields,
    read_capacity,
    read_phase_log,
)
from scenarios.schedule import Schedule

#: The phase of a test without a shape (users and spawn rate typed into the web UI).
MANUAL_PHASE = "manual"
END_EVENT: dict[str, Any] = {"event": "end"}
_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]+")


def option(options: Any, name: str, default: Any = None) -> Any:
    """A Locust option, or ``default`` when there are no options or no such option."""
    return getattr(options, name, default) if options is not None else default


def session_out(run_dir: str, kit_out: str, enabled: Path | None) -> Path | None:
    """Where each test gets a run directory; None when the runner names the one directory
    (``--run-dir``) or nothing asked for sessions. ``--kit-out`` overrides the locustfile."""
    if run_dir:
        return None
    return Path(kit_out) if kit_out else enabled


def scenario_name(shape: object | None, web_ui: bool) -> str:
    """The run directory's first word: the shape's scenario, else its class name; without a
    shape, "manual" in the web UI (users typed in its form) and "locust" headless. Only
    file-name-safe characters."""
    if shape is None:
        name = "manual" if web_ui else "locust"
    else:
        name = str(getattr(shape, "scenario", None) or type(shape).__name__.lower())
    return _UNSAFE.sub("-", name).strip(".-") or "locust"


class ManualPhases:
    """The phases of a test without a shape: a new one whenever the user count settles anew."""

    def __init__(self) -> None:
        self.users: int | None = None

    def settled(self, users: int) -> dict[str, Any] | None:
        """The phase event to log once spawning completes at ``users``; None when unchanged."""
        if users == self.users:
            return None
        self.users = users
        return {"event": "phase", "name": MANUAL_PHASE, "role": ROLE_STEADY, "users": users}


@dataclass
class Session:
    """One test being recorded."""

    run_dir: Path
    scenario: str
    started: float
    #: The phases to log for a test without a shape; None when a shape logs its own.
    manual: ManualPhases | None = None


def recovery_limits(
    schedule: Schedule | None, thresholds: str, time_scale: float
) -> dict[str, float] | None:
    """The scaled recovery limits a spike was watched for; None without a spike, or when the
    thresholds file is unusable (its report cannot be built either)."""
    if schedule is None or not schedule.has_spike:
        return None
    try:
        limits = resolve_thresholds(thresholds or None).recovery
    except ThresholdsError:
        return None
    return limits.scaled(time_scale).to_dict()


def first_users(events: list[dict[str, Any]], fallback: int) -> int:
    """The users of the test's first phase, as the runner records its base users."""
    phases = [e for e in events if e.get("event") == "phase" and isinstance(e.get("users"), int)]
    return phases[0]["users"] if phases else fallback


def session_record(
    session: Session,
    options: Any,
    host: str,
    ended: float,
    fallback_users: int,
    schedule: Schedule | None,
) -> RunRecord:
    """run.json of a finished test, from what its phase log and the options say."""
    time_scale = float(option(options, "time_scale", 1.0) or 1.0)
    events = read_phase_log(session.run_dir)
    # A shape logs its end when its schedule is over; without it the test was stopped early.
    stopped_early = session.manual is None and not any(e.get("event") == "end" for e in events)
    capacity = read_capacity(session.run_dir)
    rate = schedule.phases[0].rate if schedule is not None else None
    if capacity is not None:  # the capacity shape: open, from its first rate
        rate = (capacity.get("settings") or {}).get("start_rate")
    model = model_fields(rate, option(options, "max_in_flight"), option(options, "arrivals"))
    return RunRecord(
        scenario=session.scenario,
        host=host,
        started=session.started,
        ended=ended,
        time_scale=time_scale,
        users=first_users(events, fallback_users),
        processes=0,
        think_time=option(options, "think_time", "") or "default",
        recovery=recovery_limits(schedule, option(options, "thresholds", ""), time_scale),
        partial=stopped_early,
        partial_reason="stopped before the shape's schedule ended" if stopped_early else None,
        dropped=dropped_arrivals(session.run_dir) if model["model"] == MODEL_OPEN else None,
        capacity=capacity,
        **model,
    )


def report_argv(run_dir: Path, thresholds: str) -> list[str]:
    """The report build of a finished test: never a failing exit for its verdict."""
    argv = [sys.executable, "-m", "reports", "build", str(run_dir), "--fail-on", "never"]
    return argv + ["--thresholds", thresholds] if thresholds else argv
