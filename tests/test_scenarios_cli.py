"""``python -m scenarios``: its options, and what the runner hands to Locust and the service."""

from __future__ import annotations

import argparse
import subprocess
import sys
import time

import pytest

from perf_lib.thresholds import RecoveryLimits, Thresholds
from scenarios.catalog import REQUEST_TIMEOUT_S, SCENARIOS, STOP_TIMEOUT_S
from scenarios.cli import build_parser
from scenarios.plan import RunOptions, plan_run, thresholds_file
from scenarios.recovery_watch import extension_limit_s
from scenarios.runner import GRACE_S, KIT_SHAPE_MODULE, locust_argv, run_limit_s, service_env
from scenarios.schedule import Schedule
from scenarios.web_ui_runner import locust_ui_argv
from tests.e2e_helpers import REPO_ROOT


def subcommands() -> dict[str, argparse.ArgumentParser]:
    parser = build_parser()
    (choices,) = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    return dict(choices.choices)


@pytest.mark.parametrize("command", ["", "run", "ui"])
def test_every_option_has_help_text(command):
    parser = subcommands()[command] if command else build_parser()
    missing = [
        action.dest
        for action in parser._actions
        if not isinstance(action, argparse._HelpAction) and not action.help
    ]
    assert missing == []
    assert "--out" in parser.format_help() or not command


@pytest.mark.e2e
@pytest.mark.concurrent
def test_a_bad_thresholds_file_is_refused_before_the_run_starts(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text("[default\n")
    out = tmp_path / "out"
    started = time.monotonic()
    result = subprocess.run(
        [sys.executable, "-m", "scenarios", "run", "spike", "--time-scale", "0.1",
         "--host", "http://127.0.0.1:9", "--thresholds", str(bad), "--out", str(out)],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and str(bad) in lines[0] and "not valid TOML" in lines[0], lines
    assert not out.exists()  # nothing was started, not even a run directory
    assert time.monotonic() - started < 30


@pytest.mark.e2e
@pytest.mark.concurrent
def test_the_ui_refuses_a_bad_thresholds_file_too(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text("[recovery]\nhealthy_s = -1\n")
    result = subprocess.run(
        [sys.executable, "-m", "scenarios", "ui", "--host", "http://127.0.0.1:9",
         "--thresholds", str(bad), "--out", str(tmp_path / "out")],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [f"error: {bad}: [recovery]: healthy_s must "
                                                  "be a finite number >= 0, not -1"]  # fmt: skip
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(("flag", "value"), [([], "off"), (["--service-access-log"], "on")])
def test_the_embedded_service_logs_requests_only_when_asked(flag, value):
    args = build_parser().parse_args(["run", "spike", *flag])
    assert service_env(args.service_access_log)["MARKET_API_ACCESS_LOG"] == value
    ui = build_parser().parse_args(["ui", *flag])
    assert service_env(ui.service_access_log)["MARKET_API_ACCESS_LOG"] == value


def test_removed_users_finish_their_request_and_locust_gets_the_thresholds(tmp_path):
    thresholds = tmp_path / "t.toml"
    thresholds.write_text("")
    plan = plan_run(RunOptions(scenario="spike", time_scale=0.1, thresholds=thresholds))
    argv = locust_argv(plan, "http://127.0.0.1:1", tmp_path)
    assert argv[argv.index("--stop-timeout") + 1] == str(STOP_TIMEOUT_S)
    assert argv[argv.index("--thresholds") + 1] == str(thresholds)
    assert STOP_TIMEOUT_S > REQUEST_TIMEOUT_S  # a request ends (or fails) before it is cut
    ui = locust_ui_argv("http://127.0.0.1:1", "127.0.0.1", 8089, thresholds)
    assert ui[ui.index("--stop-timeout") + 1] == str(STOP_TIMEOUT_S)


def test_locust_follows_the_runners_schedule_with_the_users_of_the_locustfile(tmp_path):
    locustfile = tmp_path / "their_users.py"
    options = RunOptions(scenario="spike", stages="2s:5,2s:20,4s:5", locustfile=locustfile)
    plan = plan_run(options, inspect_locustfile=lambda path: ["Shopper"])
    argv = locust_argv(plan, "http://127.0.0.1:1", tmp_path)
    assert argv[argv.index("-f") + 1] == f"{KIT_SHAPE_MODULE},{locustfile.resolve()}"
    followed = Schedule.from_json(argv[argv.index("--kit-schedule") + 1])
    assert followed == plan.schedule
    assert [p.users for p in followed.phases] == [5, 20, 5]
    assert "--base-users" not in argv  # the schedule already holds the users


def test_the_built_in_scenarios_hand_their_scaled_schedule_to_locust(tmp_path):
    plan = plan_run(RunOptions(scenario="sustained", duration=30.0, time_scale=0.5, users=4))
    argv = locust_argv(plan, "http://127.0.0.1:1", tmp_path)
    assert argv[argv.index("-f") + 1] == str(SCENARIOS["sustained"].module)
    (phase,) = Schedule.from_json(argv[argv.index("--kit-schedule") + 1]).phases
    assert (phase.duration_s, phase.users) == (15.0, 4)
    budget = locust_argv(plan_run(RunOptions(scenario="baseline", users=3)), "http://h:1", tmp_path)
    assert "--kit-schedule" not in budget and budget[budget.index("--base-users") + 1] == "3"


def test_the_thresholds_file_is_handed_on_by_its_absolute_path(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert thresholds_file(None) is None  # no thresholds.toml here: the built-in table
    (tmp_path / "thresholds.toml").write_text("")
    assert thresholds_file(None) == tmp_path / "thresholds.toml"
    assert thresholds_file(tmp_path / "x" / ".." / "t.toml").is_absolute()


@pytest.mark.parametrize("processes", [0, 2])
def test_the_run_limit_allows_for_the_recovery_watch(processes):
    options = RunOptions(scenario="spike", time_scale=0.1, processes=processes)
    schedule = SCENARIOS["spike"].schedule(time_scale=0.1)
    thresholds = Thresholds(recovery=RecoveryLimits(degraded_s=300))
    limit = run_limit_s(schedule, thresholds, options)
    lag = 3.0 if processes else 0.0
    extension = extension_limit_s(RecoveryLimits(degraded_s=300).scaled(0.1), 6.0, lag)
    assert extension > 20
    assert limit == pytest.approx(12 + extension + GRACE_S + STOP_TIMEOUT_S)
    sustained = SCENARIOS["sustained"].schedule(time_scale=0.1)
    assert run_limit_s(sustained, thresholds, options) == pytest.approx(
        6 + GRACE_S + STOP_TIMEOUT_S
    )


def test_an_open_run_hands_locust_its_driver_module_and_the_cap(tmp_path):
    options = RunOptions(scenario="spike", model="open", rate=50.0, max_in_flight=30, processes=2)
    argv = locust_argv(plan_run(options), "http://127.0.0.1:1", tmp_path)
    assert argv[argv.index("-f") + 1] == str(SCENARIOS["spike"].open_module)
    assert argv[argv.index("--max-in-flight") + 1] == "30"
    assert argv[argv.index("--arrivals") + 1] == "uniform"
    assert argv[argv.index("--open-workers") + 1] == "2"
    rates = [p.rate for p in Schedule.from_json(argv[argv.index("--kit-schedule") + 1]).phases]
    assert rates == [50.0, 250.0, 50.0]
