"""``python -m scenarios run NAME`` and ``python -m scenarios ui``.

Exit codes: 0 when the verdict is below ``--fail-on``, 1 when it reaches it, 2 for bad input
or a run that could not be made or finished; errors are one line on stderr.
"""

from __future__ import annotations

import argparse
import math
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from perf_lib.cli import OneLineParser
from reports.run_format import MODEL_CLOSED, MODEL_OPEN
from scenarios.arrivals import ARRIVALS
from scenarios.catalog import (
    CAPACITY,
    CAPACITY_DEFAULT_MAX_RATE,
    CAPACITY_DEFAULT_PRECISION,
    CAPACITY_DEFAULT_START_RATE,
    CAPACITY_DEFAULT_STEP_S,
    OPEN_DEFAULT_MAX_IN_FLIGHT,
    OPEN_DEFAULT_RATE,
    SCENARIOS,
    parse_think_time,
)
from scenarios.health import HEALTH_PATH
from scenarios.plan import CapacitySettings, PlanError, RunOptions, plan_run
from scenarios.runner import Interrupted, Run, RunError, say


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not (value > 0 and math.isfinite(value)):
        raise argparse.ArgumentTypeError(f"must be a positive number, not {text}")
    return value


def _whole_number(minimum: int) -> Callable[[str], int]:
    """An argparse type: a whole number of at least ``minimum``."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be at least {minimum}, not {value}")
        return value

    return parse


_positive_int = _whole_number(1)


def _think_time(text: str) -> str:
    try:
        parse_think_time(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return text


def _host(text: str) -> str:
    if not text.startswith(("http://", "https://")):
        raise argparse.ArgumentTypeError(f"must be an http:// or https:// URL, not {text!r}")
    return text.rstrip("/")


#: The capacity search's own options: flag, default, what it sets.
CAPACITY_SEARCH_OPTIONS = (
    ("--start-rate", CAPACITY_DEFAULT_START_RATE, "the first rate tried, req/s"),
    ("--max-rate", CAPACITY_DEFAULT_MAX_RATE, "the highest rate tried, req/s"),
    ("--step-s", CAPACITY_DEFAULT_STEP_S, "seconds per step, x --time-scale"),
    (
        "--precision",
        CAPACITY_DEFAULT_PRECISION,
        "bisect until the failing rate is within this share of the healthy one",
    ),
)


def build_parser() -> OneLineParser:
    parser = OneLineParser(prog="python -m scenarios", description=__doc__)
    commands = parser.add_subparsers(
        dest="command", required=True, parser_class=OneLineParser, help="what to do"
    )

    run = commands.add_parser("run", help="run one scenario headless and build its report")
    run.add_argument("scenario", choices=sorted(SCENARIOS), help="the scenario to run")
    run.add_argument("--host", type=_host, help="test this URL instead of the embedded service")
    run.add_argument(
        "--out",
        type=Path,
        default=Path("results"),
        help="parent of the run folder <scenario>-<UTC time>/ (default results)",
    )
    run.add_argument("--users", type=_positive_int, help="users (the spike's normal phase)")
    run.add_argument(
        "--time-scale",
        type=_positive_float,
        default=1.0,
        help="phase lengths multiplied by this (0.1 = ten times shorter)",
    )
    run.add_argument(
        "--processes",
        type=_whole_number(0),
        default=0,
        help="run Locust distributed: one master and N local workers",
    )
    run.add_argument(
        "--fail-on",
        choices=("degraded", "critical", "never"),
        default="critical",
        help="exit 1 when the verdict reaches this level (default critical)",
    )
    run.add_argument(
        "--duration", type=_positive_float, help="sustained's length in seconds (default 60)"
    )
    run.add_argument(
        "--wait",
        type=_think_time,
        metavar="SECONDS|MIN,MAX",
        help="think time between a user's requests (default: per scenario)",
    )
    run.add_argument(
        "--thresholds",
        type=Path,
        help="thresholds file (default thresholds.toml, else the built-in table)",
    )
    _add_service_access_log(run)
    _add_target_options(run)
    _add_model_options(run)

    capacity = commands.add_parser(
        "capacity", help="find the highest arrival rate at which the service stays healthy"
    )
    capacity.add_argument(
        "--host", type=_host, help="test this URL instead of the embedded service"
    )
    capacity.add_argument(
        "--out", type=Path, default=Path("results"),
        help="parent of the run folder capacity-<UTC time>/ (default results)",
    )  # fmt: skip
    for flag, default, sets in CAPACITY_SEARCH_OPTIONS:
        capacity.add_argument(
            flag, type=_positive_float, default=default, help=f"{sets} (default {default:g})"
        )
    capacity.add_argument(
        "--min-capacity", type=_positive_float, metavar="RPS",
        help="exit 1 when the capacity found is below this rate",
    )  # fmt: skip
    capacity.add_argument(
        "--time-scale", type=_positive_float, default=1.0,
        help="step lengths multiplied by this (0.5 = twice as short)",
    )  # fmt: skip
    capacity.add_argument(
        "--processes", type=_whole_number(0), default=0,
        help="run Locust distributed: one master and N local workers sharing each step's rate",
    )  # fmt: skip
    capacity.add_argument(
        "--thresholds", type=Path,
        help="thresholds file (default thresholds.toml, else the built-in table)",
    )  # fmt: skip
    _add_service_access_log(capacity)
    _add_target_options(capacity, own_users=False)
    _add_open_options(capacity)

    ui = commands.add_parser("ui", help="the service plus Locust's web UI with every scenario")
    ui.add_argument("--host", type=_host, help="test this URL instead of the embedded service")
    ui.add_argument("--web-host", default="127.0.0.1", help="address the web UI binds")
    ui.add_argument(
        "--web-port", type=_positive_int, default=8089, help="port of the web UI (default 8089)"
    )
    ui.add_argument(
        "--out",
        type=Path,
        default=Path("results"),
        help="parent of the log folder ui-<UTC time>/ (default results)",
    )
    ui.add_argument(
        "--thresholds",
        type=Path,
        help="thresholds file for the Verdict tab (default thresholds.toml, else built-in)",
    )
    _add_service_access_log(ui)
    return parser


def _add_target_options(run: argparse.ArgumentParser, own_users: bool = True) -> None:
    """What makes the kit test any API: its users and schedule (``own_users``), its health and
    headers, and where its server side can be read."""
    if own_users:
        _add_own_users(run)
    run.add_argument(
        "--health-path",
        default=HEALTH_PATH,
        metavar="PATH|none",
        help=f"path that must answer 2xx before the load starts (default {HEALTH_PATH})",
    )
    run.add_argument(
        "--header",
        action="append",
        default=[],
        dest="headers",
        metavar="'NAME: VALUE'",
        help="header sent with every request (repeatable); VALUE env:VAR reads it from the "
        "environment; never written to any file",
    )
    run.add_argument(
        "--prometheus",
        type=_host,
        metavar="URL",
        help="sample the server side from this Prometheus text endpoint once a second",
    )
    run.add_argument(
        "--server-metric",
        action="append",
        default=[],
        dest="server_metrics",
        metavar="NAME_OR_GLOB",
        help="series to record from --prometheus (repeatable; default: process CPU and memory, "
        "requests in flight and in total)",
    )


def _add_own_users(run: argparse.ArgumentParser) -> None:
    """Users and phases of the user's own: a locustfile, stages or a schedule file."""
    run.add_argument(
        "--locustfile",
        type=Path,
        metavar="PATH",
        help="run the user classes of this locustfile under the scenario's shape "
        "(spike or sustained; default: the built-in users)",
    )
    run.add_argument(
        "--stages",
        metavar="DURATION:USERS,...",
        help="phases of your own, e.g. 30s:10,30s:50,60s:10 (the first is the baseline, the "
        "largest the spike, the next the recovery)",
    )
    run.add_argument(
        "--schedule",
        type=Path,
        metavar="FILE",
        dest="schedule_file",
        help="phases from the [schedule] table of a TOML file, with names",
    )


def _add_model_options(run: argparse.ArgumentParser) -> None:
    """Closed (users wait for replies, the default) or open (arrivals on their own schedule)."""
    run.add_argument(
        "--model",
        choices=(MODEL_CLOSED, MODEL_OPEN),
        default=MODEL_CLOSED,
        help="closed: users wait for each reply (default); open: requests arrive at --rate "
        "whatever the replies do, and latency counts from when each was due",
    )
    run.add_argument(
        "--rate",
        type=_positive_float,
        help=f"open model: arrivals per second in the first phase (default "
        f"{OPEN_DEFAULT_RATE:g}; the spike's phases are R, 5R, R)",
    )
    _add_open_options(run)


def _add_open_options(run: argparse.ArgumentParser) -> None:
    """How an open run's generator sends: its in-flight limit and the arrivals' spacing."""
    run.add_argument(
        "--max-in-flight",
        type=_positive_int,
        help=f"open model: requests outstanding at most; later arrivals are dropped and counted "
        f"(default {OPEN_DEFAULT_MAX_IN_FLIGHT})",
    )
    run.add_argument(
        "--arrivals",
        choices=ARRIVALS,
        help="open model: evenly spaced (uniform, the default) or a Poisson process",
    )


def _add_service_access_log(command: argparse.ArgumentParser) -> None:
    command.add_argument(
        "--service-access-log",
        action="store_true",
        help="let the embedded service log one line per request (default: start-up and errors)",
    )


def _common_options(args: argparse.Namespace) -> dict[str, Any]:
    """What ``run`` and ``capacity`` share: the target, its checks, the run's files."""
    return {
        "host": args.host,
        "out": args.out,
        "time_scale": args.time_scale,
        "processes": args.processes,
        "thresholds": args.thresholds,
        "service_access_log": args.service_access_log,
        "health_path": args.health_path,
        "headers": tuple(args.headers),
        "prometheus": args.prometheus,
        "server_metrics": tuple(args.server_metrics),
        "max_in_flight": args.max_in_flight,
        "arrivals": args.arrivals,
    }


def run_options(args: argparse.Namespace) -> RunOptions:
    return RunOptions(
        scenario=args.scenario,
        users=args.users,
        fail_on=args.fail_on,
        duration=args.duration,
        think_time=args.wait,
        locustfile=args.locustfile,
        stages=args.stages,
        schedule_file=args.schedule_file,
        model=args.model,
        rate=args.rate,
        **_common_options(args),
    )


def capacity_options(args: argparse.Namespace) -> RunOptions:
    """The capacity command's run: the open model, stepped by the search."""
    return RunOptions(
        scenario=CAPACITY.name,
        model=MODEL_OPEN,
        capacity=CapacitySettings(
            args.start_rate, args.max_rate, args.step_s, args.precision, args.min_capacity
        ),
        **_common_options(args),
    )


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        if args.command == "ui":
            from scenarios.web_ui_runner import run_ui

            return run_ui(
                args.host,
                args.web_host,
                args.web_port,
                out=args.out,
                thresholds=args.thresholds,
                service_access_log=args.service_access_log,
            )
        make_options = capacity_options if args.command == "capacity" else run_options
        options = make_options(args)
        return Run(plan_run(options)).execute()
    except PlanError as exc:
        say(f"error: {exc}")
        return 2
    except (Interrupted, KeyboardInterrupt):
        say("error: interrupted")
        return 2
    except RunError as exc:
        say(f"error: {exc}")
        return 2


if __name__ == "__main__":
    sys.exit(main())
