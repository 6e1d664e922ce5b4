"""``scenarios run``: service up, Locust headless, server sampled, service down, report built.

Whatever happens (a normal end, Ctrl-C, the service dying, Locust failing), the children are
stopped, run.json is written with what is known, and a report is built from the data so far,
marked partial when the run did not finish. The report is ``reports``' business: the runner
calls its one entry point, and imports it only then, so that the runner stays light while the
load runs.
"""

from __future__ import annotations

import contextlib
import math
import os
import signal
import sys
import time
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType

from perf_lib.thresholds import Thresholds, ThresholdsError, resolve_thresholds
from reports.errors import ReportInputError
from reports.run_format import (
    LOCUST_CSV_PREFIX,
    LOCUST_HTML,
    LOCUST_LOG,
    LOCUST_STATS,
    MODEL_OPEN,
    ROLE_RECOVERY,
    SERVER_HISTORY,
    SERVICE_LOG,
)
from scenarios.arrivals import UNIFORM
from scenarios.catalog import (
    BASIC_AUTH_ENV,
    CAPACITY_PAUSE_S,
    CAPACITY_REST_LIMIT_S,
    OPEN_DEFAULT_MAX_IN_FLIGHT,
    PACKAGE_DIR,
    STOP_TIMEOUT_S,
)
from scenarios.headers import HEADERS_ENV, encode_for_environment, with_basic_auth
from scenarios.health import HOST_PATIENCE_S, HealthError, check_health
from scenarios.plan import CapacitySettings, RunOptions, RunPlan
from scenarios.processes import ChildProcess, ServiceError, start_service
from scenarios.progress import capacity_line, progress_line, requests_so_far
from scenarios.recovery_watch import DISTRIBUTED_LAG_S, extension_limit_s
from scenarios.run_record import (
    RunRecord,
    dropped_arrivals,
    model_fields,
    read_capacity,
    read_phase_log,
    split_credentials,
    strip_credentials,
)
from scenarios.sampler import Sampler, choose_server_side
from scenarios.schedule import Schedule

PROGRESS_EVERY_S = 2.0
#: Extra time a timed run may take before it is declared stuck, and a budget run's ceiling.
GRACE_S = 60.0
BUDGET_RUN_LIMIT_S = 900.0
#: The embedded service's per-request log: one line per request is megabytes per run, and
#: the run has every request in requests.csv anyway; start-up and errors are always logged.
ACCESS_LOG_ENV = "MARKET_API_ACCESS_LOG"
#: The embedded service answers /health once it is up; with injected faults it may answer
#: 503 now and then, so its start check is patient.
SERVICE_PATIENCE_S = 30.0
#: The kit's shape alone, loaded beside a user's locustfile.
KIT_SHAPE_MODULE = PACKAGE_DIR / "kit_shape.py"


class RunError(Exception):
    """A run that could not be made; the message is the one line the user sees."""


class Interrupted(Exception):
    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)


def say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def create_run_dir(out: Path, scenario: str) -> Path:
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    try:
        out.mkdir(parents=True, exist_ok=True)
        for attempt in range(100):
            run_dir = out / (f"{scenario}-{stamp}" + (f"-{attempt}" if attempt else ""))
            try:
                run_dir.mkdir()
                return run_dir
            except FileExistsError:
                continue
    except OSError as exc:
        raise RunError(f"cannot create a run directory in {out}: {exc.strerror}") from None
    raise RunError(f"cannot create a run directory in {out}: too many runs this second")


def load_run_thresholds(path: Path | None) -> Thresholds:
    """The run's thresholds, refused before anything starts when the file is bad."""
    try:
        return resolve_thresholds(path)
    except ThresholdsError as exc:
        raise RunError(str(exc)) from None


def service_env(access_log: bool) -> dict[str, str]:
    """This environment for the embedded service, its access log on or off."""
    return {**os.environ, ACCESS_LOG_ENV: "on" if access_log else "off"}


def run_limit_s(schedule: Schedule | None, thresholds: Thresholds, options: RunOptions) -> float:
    """How long Locust may take before the run is declared stuck.

    A timed run: its schedule, the longest the recovery watch may extend it, the graceful stop
    and a grace period. A budgeted run has a fixed ceiling.
    """
    if options.capacity is not None:
        return capacity_limit_s(options.capacity, options.time_scale)
    if schedule is None:
        return BUDGET_RUN_LIMIT_S
    limit = schedule.duration_s + GRACE_S + STOP_TIMEOUT_S
    recovery = schedule.index_of(ROLE_RECOVERY)
    if schedule.has_spike and recovery is not None:
        lag = DISTRIBUTED_LAG_S if options.processes else 0.0
        limits = thresholds.recovery.scaled(options.time_scale)
        limit += extension_limit_s(limits, schedule.phases[recovery].duration_s, lag)
    return limit


def _first_rate(plan: RunPlan) -> float | None:
    """An open run's first arrival rate; None for a closed run."""
    if plan.options.capacity is not None:
        return plan.options.capacity.start_rate
    return plan.schedule.phases[0].rate if plan.schedule is not None else None


def capacity_limit_s(settings: CapacitySettings, time_scale: float) -> float:
    """A generous ceiling on a capacity search: every rate the climb can reach, tried twice,
    the bisections, a rest after each failure, and the pauses between steps."""
    search = settings.search()
    climb = math.ceil(math.log(search.max_rate / search.start_rate) / math.log(search.factor)) + 1
    bisections = math.ceil(math.log2(math.log(search.factor) / math.log1p(search.precision))) + 1
    steps = 2 * (climb + bisections) + climb
    per_step = settings.step_s * time_scale + CAPACITY_PAUSE_S
    return steps * per_step + (bisections + 1) * CAPACITY_REST_LIMIT_S * time_scale + GRACE_S


def locust_argv(plan: RunPlan, host: str, run_dir: Path) -> list[str]:
    """Locust's command line: the scenario's module (or the kit's shape beside the user's
    locustfile), the run directory's files and the run's schedule. Nothing secret goes here:
    ``ps`` shows it."""
    options = plan.options
    locustfile = str(plan.scenario.module)
    if options.model == MODEL_OPEN:
        locustfile = str(plan.scenario.open_module)
    elif options.locustfile is not None:
        locustfile = f"{KIT_SHAPE_MODULE},{options.locustfile.resolve()}"
    argv = [
        sys.executable, "-m", "locust",
        "-f", locustfile,
        "--headless", "--only-summary",
        "--host", host,
        "--csv", str(run_dir / LOCUST_CSV_PREFIX), "--csv-full-history",
        "--html", str(run_dir / LOCUST_HTML),
        "--run-dir", str(run_dir),
        "--time-scale", repr(options.time_scale),
        "--stop-timeout", str(STOP_TIMEOUT_S),
    ]  # fmt: skip
    if plan.schedule is not None:
        argv += ["--kit-schedule", plan.schedule.to_json()]
    elif options.users:
        argv += ["--base-users", str(options.users)]
    if plan.thresholds_path is not None:
        argv += ["--thresholds", str(plan.thresholds_path)]
    if options.think_time:
        argv += ["--think-time", options.think_time]
    if options.processes:
        argv += ["--processes", str(options.processes)]
    if options.model == MODEL_OPEN:
        argv += [
            "--max-in-flight", str(options.max_in_flight or OPEN_DEFAULT_MAX_IN_FLIGHT),
            "--arrivals", options.arrivals or UNIFORM,
            "--open-workers", str(max(1, options.processes)),
        ]  # fmt: skip
    if options.capacity is not None:
        settings = options.capacity
        argv += [
            "--capacity-start-rate", repr(settings.start_rate),
            "--capacity-max-rate", repr(settings.max_rate),
            "--capacity-step-s", repr(settings.step_s),
            "--capacity-precision", repr(settings.precision),
        ]  # fmt: skip
        if settings.min_capacity is not None:
            argv += ["--min-capacity", repr(settings.min_capacity)]
    return argv


@contextlib.contextmanager
def signals_as(handler: object) -> Iterator[None]:
    """Route SIGINT and SIGTERM to ``handler`` for the duration of the block."""
    previous = {s: signal.signal(s, handler) for s in (signal.SIGINT, signal.SIGTERM)}  # type: ignore[arg-type]
    try:
        yield
    finally:
        for signum, old in previous.items():
            signal.signal(signum, old)


def raise_interrupted(signum: int, _frame: FrameType | None) -> None:
    raise Interrupted(signum)


@contextlib.contextmanager
def interrupts_held() -> Iterator[None]:
    """Hold SIGINT and SIGTERM until the block ends, then raise ``Interrupted``.

    For imports: an exception raised by a signal handler inside importlib's machinery is
    swallowed there and printed as a traceback, so the interruption would be lost.
    """
    received: list[int] = []
    with signals_as(lambda signum, _frame: received.append(signum)):
        yield
    if received:
        raise Interrupted(received[0])


class Run:
    """One run of one checked plan; ``execute()`` returns the exit code."""

    def __init__(self, plan: RunPlan) -> None:
        self.plan = plan
        self.options = plan.options
        self.scenario = plan.scenario
        self.schedule = plan.schedule
        self.thresholds_path = plan.thresholds_path
        self.thresholds = plan.thresholds
        self.limit_s = run_limit_s(self.schedule, self.thresholds, self.options)
        self.service: ChildProcess | None = None
        self.locust: ChildProcess | None = None
        self.sampler: Sampler | None = None

    def execute(self) -> int:
        """Run under SIGINT/SIGTERM handling: an interruption still stops and reports."""
        with signals_as(raise_interrupted):
            return self._execute()

    def _execute(self) -> int:
        options, plan = self.options, self.plan
        if options.host is not None:  # before anything is written or started
            self._check_health(options.host, HOST_PATIENCE_S)
        self.run_dir = create_run_dir(options.out, self.scenario.name)
        say(f"run directory: {self.run_dir}")
        self.record = RunRecord(
            scenario=self.scenario.name,
            host=options.host or "",
            started=time.time(),
            time_scale=options.time_scale,
            users=self._first_phase_users(),
            processes=options.processes,
            think_time=options.think_time or ("locustfile" if options.locustfile else "default"),
            recovery=self._recovery_limits(),
            locustfile=str(options.locustfile) if options.locustfile is not None else None,
            schedule=plan.schedule_origin,
            health_path=plan.health_path,
            headers=sorted(plan.headers),
            **model_fields(_first_rate(plan), options.max_in_flight, options.arrivals),
        )
        failure: str | None = None
        try:
            self._start_and_supervise()
        except Interrupted as exc:
            self._mark_partial(f"interrupted by {exc} before the run ended")
        except ServiceError as exc:
            failure = str(exc)
            self._mark_partial(failure)
        finally:
            with signals_as(lambda *_: None):  # a second Ctrl-C must not cut the clean-up
                self._shutdown()
                self.record.ended = time.time()
                if self.record.model == MODEL_OPEN:
                    self.record.dropped = dropped_arrivals(self.run_dir)
                if options.capacity is not None:
                    self.record.capacity = read_capacity(self.run_dir)
                self.record.write(self.run_dir)
        if not (self.run_dir / LOCUST_STATS).exists():
            reason = failure or self.record.partial_reason or "Locust wrote no statistics"
            raise RunError(f"{reason}; nothing to report (see {self.run_dir})")
        return self._report()

    def _first_phase_users(self) -> int:
        if self.schedule is not None:
            return self.schedule.phases[0].users
        return self.options.users or self.scenario.users

    def _request_headers(self, host: str) -> dict[str, str]:
        """What the start check and the sampler send: the run's headers and credentials."""
        return with_basic_auth(self.plan.headers, split_credentials(host)[1])

    def _check_health(self, host: str, patience_s: float) -> None:
        if self.plan.health_path is None:
            return
        clean_host = strip_credentials(host)
        try:
            check_health(clean_host, self.plan.health_path, self._request_headers(host), patience_s)
        except HealthError as exc:
            raise RunError(str(exc)) from None

    def _recovery_limits(self) -> dict[str, float] | None:
        if self.schedule is None or not self.schedule.has_spike:
            return None
        return self.thresholds.recovery.scaled(self.options.time_scale).to_dict()

    def _mark_partial(self, reason: str) -> None:
        if not self.record.partial:
            self.record.partial, self.record.partial_reason = True, reason
            say(f"run incomplete: {reason}")

    def _start_and_supervise(self) -> None:
        host = self.options.host
        if host is None:
            say("starting the embedded service (the first start seeds its database)...")
            self.service, host = start_service(
                self.run_dir / SERVICE_LOG, env=service_env(self.options.service_access_log)
            )
            self._check_health(host, SERVICE_PATIENCE_S)
        self.record.host = host
        clean_host, credentials = split_credentials(host)
        self._start_sampler(host)
        argv = locust_argv(self.plan, clean_host, self.run_dir)
        env = locust_env(credentials, self.plan.headers)
        self.locust = ChildProcess(argv, self.run_dir / LOCUST_LOG, env)
        users = f" with {self.options.locustfile}" if self.options.locustfile else ""
        say(f"running {self.scenario.name}{users} against {clean_host}")
        self._supervise()

    def _start_sampler(self, host: str) -> None:
        options = self.options
        server = choose_server_side(
            strip_credentials(host),
            options.prometheus,
            options.server_metrics,
            self._request_headers(host),
        )
        self.record.server_source, self.record.server_note = server.description, server.note
        if server.source is None:
            say(f"server side not sampled: {server.note}")
            return
        self.sampler = Sampler(server.source, self.run_dir / SERVER_HISTORY)
        self.sampler.start()
        say(f"sampling the server side from {server.description}")

    def _supervise(self) -> None:
        assert self.locust is not None
        started = time.monotonic()
        limit = self.limit_s
        next_progress = started
        while self.locust.exit_code is None:
            if self.service is not None and self.service.exit_code is not None:
                self._mark_partial(
                    f"the service exited with code {self.service.exit_code} during the run"
                )
                return
            now = time.monotonic()
            if now - started > limit:
                self._mark_partial(f"the run did not end within {limit:.0f} s")
                return
            if now >= next_progress:
                say(self._progress())
                next_progress = now + PROGRESS_EVERY_S
            time.sleep(0.2)
        if not read_phase_log(self.run_dir):
            raise ServiceError(
                f"Locust exited with code {self.locust.exit_code} before the load started "
                f"(see {self.locust.log_path})"
            )

    def _progress(self) -> str:
        settings = self.options.capacity
        if settings is not None:
            events, answer = read_phase_log(self.run_dir), read_capacity(self.run_dir)
            step_s = settings.step_s * self.options.time_scale + CAPACITY_PAUSE_S
            return capacity_line(events, answer, time.time(), step_s)
        return progress_line(
            self.scenario,
            self.schedule,
            self.record.users,
            read_phase_log(self.run_dir),
            time.time(),
            requests_so_far(self.run_dir / LOCUST_STATS),
        )

    def _shutdown(self) -> None:
        """Locust first (SIGINT: it writes its HTML and closes its CSVs), then the rest."""
        if self.locust is not None:  # its users finish their requests first
            self.locust.stop(signal.SIGINT, grace_s=STOP_TIMEOUT_S + 30.0)
        if self.sampler is not None:
            self.sampler.stop()
        if self.service is not None:
            self.service.stop(signal.SIGTERM, grace_s=10.0)

    def _report(self) -> int:
        try:
            with interrupts_held():  # pandas and matplotlib load only once the run is over
                from reports.build import build_and_summarise
            result = build_and_summarise(self.run_dir, self.thresholds_path, self.options.fail_on)
        except ReportInputError as exc:
            raise RunError(f"cannot build the report: {exc}") from None
        except Interrupted:
            raise RunError(
                f"report building interrupted; the run's data is kept in {self.run_dir} "
                f"(rebuild: python -m reports build {self.run_dir})"
            ) from None
        print(result.terminal)
        if self.record.partial:
            say(f"partial run: {self.record.partial_reason}")
            return 2
        return result.exit_code


def locust_env(
    credentials: tuple[str, str] | None, headers: Mapping[str, str] | None = None
) -> dict[str, str]:
    """This environment, plus the target's credentials and headers out of band: Locust's
    command line is visible to ``ps`` and its options to the web UI."""
    env = dict(os.environ)
    if credentials is not None:
        env[BASIC_AUTH_ENV] = ":".join(credentials)
    if headers:
        env[HEADERS_ENV] = encode_for_environment(headers)
    return env
