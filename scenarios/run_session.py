"""Where a Locust process writes a run's own files: the request log, the phase log and, for
each test of a session, run.json and the report.

Two modes:

- given directory (``--run-dir DIR``, the runner's headless mode): the request log opens in
  DIR at start-up; the runner writes run.json and builds the report.
- session (``--kit-out DIR``, or ``enable()`` in a locustfile): each test gets its own run
  directory under DIR, created when it starts; when it stops (or the process quits during
  it), its request log is closed, run.json written and its report built by a subprocess. The
  web UI runs several tests in one process, each in its own directory. Local runners only.

Imported only by Locust processes; the decisions are ``scenarios.session_rules``'.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import gevent
from locust import events
from locust.env import Environment
from locust.runners import LocalRunner, MasterRunner

from reports.run_format import PHASE_LOG, REQUEST_LOG
from scenarios.catalog import BASIC_AUTH_ENV
from scenarios.kit_reports import REPORT_HTML
from scenarios.request_log import RequestLog, file_name
from scenarios.runner import RunError, create_run_dir
from scenarios.schedule import Schedule
from scenarios.session_rules import (
    END_EVENT,
    ManualPhases,
    Session,
    option,
    report_argv,
    scenario_name,
    session_out,
    session_record,
)

logger = logging.getLogger(__name__)

#: How long a quitting process waits for the reports still being built.
REPORT_WAIT_S = 120.0

_enabled_out: Path | None = None
_sessions: _Sessions | None = None


@events.init_command_line_parser.add_listener
def _add_option(parser: Any) -> None:
    parser.add_argument(
        "--kit-out",
        type=str,
        default="",
        include_in_web_ui=False,
        help="Record each test in its own run directory under this one, with its report",
    )


def enable(out: str | Path = "results") -> None:
    """Session mode for a locustfile of one's own: call it when the file is imported.

    ``--kit-out`` overrides ``out``; a runner's ``--run-dir`` overrides both.
    """
    global _enabled_out
    _enabled_out = Path(out)


class _Sessions:
    """The tests of this process, each recorded in its own run directory under ``out``."""

    def __init__(self, environment: Environment, out: Path) -> None:
        self.environment = environment
        self.out = out.resolve()  # the web UI serves its files whatever its working directory
        # Read once: the web UI's form may change options, never where files go.
        self.thresholds: str = option(environment.parsed_options, "thresholds", "") or ""
        self.current: Session | None = None
        self.run_dirs: dict[str, Path] = {}
        self.last_report: Path | None = None
        self._last_order = 0
        self.builds: list[gevent.Greenlet] = []
        # Registered first: ``quitting`` calls its listeners last first, so a test still
        # running is finished (its last requests logged) before the log closes.
        self.request_log = RequestLog()
        self.request_log.register(environment)
        hooks = environment.events
        hooks.test_start.add_listener(lambda **_kwargs: self.begin())
        hooks.spawning_complete.add_listener(self._spawning_complete)
        hooks.test_stop.add_listener(self._test_stop)
        hooks.quitting.add_listener(self._quitting)

    def begin(self, at: float | None = None) -> Session | None:
        """The running test's session, started ``at`` (default now) if need be: a shape logs
        its first phase just before the test starts."""
        if self.current is not None:
            return self.current
        environment = self.environment
        shape = environment.shape_class
        scenario = scenario_name(shape, environment.web_ui is not None)
        try:
            run_dir = create_run_dir(self.out, scenario)
        except RunError as exc:
            logger.error("this test is not recorded: %s", exc)
            return None
        manual = ManualPhases() if shape is None else None
        self.current = Session(run_dir, scenario, time.time() if at is None else at, manual)
        self.run_dirs[run_dir.name] = run_dir
        self.request_log.reopen(run_dir / REQUEST_LOG)
        logger.info("recording this test in %s", run_dir)
        return self.current

    def _spawning_complete(self, user_count: int, **_kwargs: Any) -> None:
        session = self.current
        if session is not None and session.manual is not None:
            event = session.manual.settled(user_count)
            if event is not None:
                _append(session.run_dir, time.time(), event)

    def _test_stop(self, **_kwargs: Any) -> None:
        session = self.current
        if session is None:
            return
        ended = time.time()
        if session.manual is not None:
            _append(session.run_dir, ended, END_EVENT)
        self.current = None
        self.request_log.close()
        environment = self.environment
        runner = environment.runner
        record = session_record(
            session,
            environment.parsed_options,
            environment.host or "",
            ended,
            runner.target_user_count if runner is not None else 0,
            _schedule_of(environment.shape_class),
        )
        record.write(session.run_dir)
        build = gevent.spawn(self._build_report, session.run_dir, len(self.run_dirs))
        self.builds = [b for b in self.builds if not b.ready()] + [build]

    def _build_report(self, run_dir: Path, order: int) -> None:
        """``reports build`` in a subprocess (gevent's: the load goes on meanwhile)."""
        env = {k: v for k, v in os.environ.items() if k != BASIC_AUTH_ENV}
        done = subprocess.run(
            report_argv(run_dir, self.thresholds), capture_output=True, text=True, env=env
        )
        if done.returncode != 0 or not (run_dir / REPORT_HTML).is_file():
            problem = (done.stderr.strip().splitlines() or ["no output"])[-1]
            logger.warning("no report for %s: %s", run_dir, problem)
            return
        if order > self._last_order:  # builds may end out of order
            self.last_report, self._last_order = run_dir, order
        verdict = (done.stdout.strip().splitlines() or [""])[0]
        logger.info("report: %s  (%s)", run_dir / REPORT_HTML, verdict)

    def _quitting(self, **_kwargs: Any) -> None:
        """A test still running ends like any other, then the reports being built are awaited.

        Locust fires ``quitting`` before it stops the runner, so the users are stopped here.
        """
        runner = self.environment.runner
        if self.current is not None and runner is not None:
            runner.stop()
        self._test_stop()
        gevent.joinall(self.builds, timeout=REPORT_WAIT_S)
        if any(not build.ready() for build in self.builds):
            logger.warning("a report is still being built: python -m reports build RUN_DIR")


def _schedule_of(shape: object | None) -> Schedule | None:
    """The kit shapes' timed schedule (for the recovery limits); None for any other shape."""
    make = getattr(shape, "schedule", None)
    schedule = make() if callable(make) else None
    return schedule if isinstance(schedule, Schedule) else None


@events.init.add_listener
def _start_recording(environment: Environment, **_kwargs: Any) -> None:
    global _sessions
    options = environment.parsed_options
    given = option(options, "run_dir", "")
    out = session_out(given, option(options, "kit_out", ""), _enabled_out)
    if given and not isinstance(environment.runner, MasterRunner):  # a master sends nothing
        RequestLog(Path(given) / file_name(options)).register(environment)
    if out is None:
        return
    if not isinstance(environment.runner, LocalRunner):
        logger.warning("--kit-out records the tests of a local runner only: nothing is recorded")
        return
    _sessions = _Sessions(environment, out)


def current_run_dir(environment: Environment) -> Path | None:
    """The directory the running test writes into; None when nothing is recorded."""
    given = option(environment.parsed_options, "run_dir", "")
    if given:
        return Path(given)
    session = _sessions.current if _sessions is not None else None
    return session.run_dir if session is not None else None


def write_phase_event(environment: Environment, at: float | None = None, **event: Any) -> None:
    """Append one event to the run directory's phase log (read for run.json's phases).

    In a session, the first event of a test (a shape's first phase) starts its session.
    """
    at = time.time() if at is None else at
    run_dir = current_run_dir(environment)
    if run_dir is None and _sessions is not None:
        session = _sessions.begin(at)
        run_dir = session.run_dir if session is not None else None
    if run_dir is not None:
        _append(run_dir, at, event)


def _append(run_dir: Path, at: float, event: Mapping[str, Any]) -> None:
    with (run_dir / PHASE_LOG).open("a", encoding="utf-8") as log:
        log.write(json.dumps({"time": at, **event}) + "\n")


def run_dirs() -> Mapping[str, Path]:
    """The run directories this process's sessions created, by name."""
    return dict(_sessions.run_dirs) if _sessions is not None else {}


def last_report() -> Path | None:
    """The run directory of the last test whose report was built; None before the first."""
    return _sessions.last_report if _sessions is not None else None
