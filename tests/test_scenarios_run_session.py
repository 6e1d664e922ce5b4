"""Run sessions' rules, without Locust: which mode, the run directory's name, the phases of a
test without a shape, run.json of a finished test, its report command, and which files of the
run directories the web UI serves."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

from reports.run_format import PHASE_LOG
from scenarios import run_record
from scenarios.kit_reports import report_url, served_file
from scenarios.schedule import constant_schedule, spike_schedule
from scenarios.session_rules import (
    END_EVENT,
    ManualPhases,
    Session,
    first_users,
    recovery_limits,
    report_argv,
    scenario_name,
    session_out,
    session_record,
)


@pytest.mark.parametrize(
    ("run_dir", "kit_out", "enabled", "expected"),
    [
        ("results/spike-1", "out", Path("mine"), None),  # the runner names the directory
        ("", "out", Path("mine"), Path("out")),  # the command line overrides the locustfile
        ("", "", Path("mine"), Path("mine")),
        ("", "", None, None),  # nothing asked for sessions
    ],
)
def test_sessions_only_without_a_given_directory(run_dir, kit_out, enabled, expected):
    assert session_out(run_dir, kit_out, enabled) == expected


class SpikeShape:
    scenario = "spike"


class MyOwnShape:
    pass


class OddShape:
    scenario = "../odd name/"


@pytest.mark.parametrize(
    ("shape", "web_ui", "expected"),
    [
        (SpikeShape(), True, "spike"),
        (MyOwnShape(), False, "myownshape"),
        (None, True, "manual"),
        (None, False, "locust"),
        (OddShape(), True, "odd-name"),  # never a path of its own
    ],
)
def test_the_run_directory_is_named_after_the_shape(shape, web_ui, expected):
    assert scenario_name(shape, web_ui) == expected


def test_a_test_without_a_shape_gets_a_phase_per_user_count_it_settles_at():
    phases = ManualPhases()
    first = phases.settled(5)
    assert first == {"event": "phase", "name": "manual", "role": "steady", "users": 5}
    assert phases.settled(5) is None  # spawning completed again at the same count
    assert phases.settled(8) == {**first, "users": 8}


def test_recovery_limits_only_for_a_spike_scaled_by_the_time_scale(tmp_path):
    thresholds = tmp_path / "thresholds.toml"
    thresholds.write_text("[recovery]\nhealthy_s = 20\ndegraded_s = 100\n")
    limits = recovery_limits(spike_schedule(), str(thresholds), 0.1)
    assert limits is not None
    assert (limits["healthy_s"], limits["degraded_s"]) == pytest.approx((2.0, 10.0))
    assert recovery_limits(constant_schedule("sustained", 10, 60), str(thresholds), 1.0) is None
    assert recovery_limits(None, str(thresholds), 1.0) is None


def test_no_recovery_limits_from_an_unusable_thresholds_file(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text("[recovery\n")
    assert recovery_limits(spike_schedule(), str(bad), 1.0) is None
    assert recovery_limits(spike_schedule(), str(tmp_path / "missing.toml"), 1.0) is None


def test_the_run_records_users_are_its_first_phases():
    events = [
        {"time": 1.0, "event": "watch", "users": 99},
        {"time": 2.0, "event": "phase", "name": "normal", "role": "baseline", "users": 10},
        {"time": 3.0, "event": "phase", "name": "spike", "role": "spike", "users": 50},
    ]
    assert first_users(events, fallback=7) == 10
    assert first_users([], fallback=7) == 7  # stopped before any phase began


@pytest.fixture
def no_uname(monkeypatch):
    monkeypatch.setattr(run_record, "versions", lambda: {"kit": "test"})  # no `uname -p`


def test_a_finished_test_without_a_shape_gets_its_run_json(tmp_path, no_uname):
    events = [
        {"time": 100.0, "event": "phase", "name": "manual", "role": "steady", "users": 3},
        {"time": 110.0, "event": "phase", "name": "manual", "role": "steady", "users": 6},
        {"time": 125.0, **END_EVENT},
    ]
    (tmp_path / PHASE_LOG).write_text("".join(json.dumps(e) + "\n" for e in events))
    session = Session(tmp_path, "manual", started=99.5, manual=ManualPhases())
    options = SimpleNamespace(time_scale=0.5, think_time="", thresholds="")
    record = session_record(
        session, options, "http://user:pw@127.0.0.1:8000", 125.0, 9, constant_schedule("x", 3, 5)
    )
    document = record.document(tmp_path)
    assert document["scenario"] == "manual"
    assert document["host"] == "http://127.0.0.1:8000"
    assert (document["started"], document["ended"]) == (99.5, 125.0)
    assert document["time_scale"] == 0.5
    assert (document["users"], document["processes"]) == (3, 0)
    assert document["think_time"] == "default"
    assert document["recovery"] is None
    assert document["partial"] is False
    assert [(p["start"], p["end"], p["users"]) for p in document["phases"]] == [
        (100.0, 110.0, 3),
        (110.0, 125.0, 6),
    ]


def test_a_spike_tests_run_json_states_the_recovery_limits_it_was_watched_for(tmp_path, no_uname):
    session = Session(tmp_path, "spike", started=1.0)
    options = SimpleNamespace(time_scale=0.1, think_time="0.01,0.02", thresholds="")
    document = session_record(session, options, "", 2.0, 10, spike_schedule()).document(tmp_path)
    assert document["recovery"]["healthy_s"] == pytest.approx(3.0)
    assert document["think_time"] == "0.01,0.02"
    assert document["users"] == 10  # no phase logged: the runner's target
    assert session_record(session, None, "", 2.0, 1, None).time_scale == 1.0


def test_the_report_is_built_whatever_its_verdict():
    argv = report_argv(Path("out/ui-1"), "")
    assert argv == [sys.executable, "-m", "reports", "build", "out/ui-1", "--fail-on", "never"]
    assert report_argv(Path("out/ui-1"), "/etc/t.toml")[-2:] == ["--thresholds", "/etc/t.toml"]


@pytest.fixture
def run_dirs(tmp_path):
    run_dir = tmp_path / "ui-20260101T000000Z"
    run_dir.mkdir()
    (run_dir / "report.html").write_text("<html></html>")
    (run_dir / "latency.png").write_bytes(b"\x89PNG")
    (run_dir / ".hidden").write_text("x")
    (run_dir / "charts").mkdir()
    (tmp_path / "secret.txt").write_text("not a run's")
    (run_dir / "link.txt").symlink_to(tmp_path / "secret.txt")
    return {run_dir.name: run_dir}


def test_the_web_ui_serves_the_files_of_its_run_directories(run_dirs):
    (run_dir,) = run_dirs.values()
    assert served_file(run_dirs, run_dir.name, "report.html") == run_dir / "report.html"
    assert served_file(run_dirs, run_dir.name, "latency.png") == run_dir / "latency.png"
    assert report_url(run_dir) == f"/kit-reports/{run_dir.name}/report.html"


@pytest.mark.parametrize(
    ("name", "file"),
    [
        ("ui-20991231T000000Z", "report.html"),  # not a directory this process created
        ("..", "secret.txt"),
        ("ui-20260101T000000Z", "../secret.txt"),
        ("ui-20260101T000000Z", "charts/x.png"),
        ("ui-20260101T000000Z", ".hidden"),
        ("ui-20260101T000000Z", ".."),
        ("ui-20260101T000000Z", ""),
        ("ui-20260101T000000Z", "charts"),  # a directory
        ("ui-20260101T000000Z", "missing.png"),
        ("ui-20260101T000000Z", "link.txt"),  # a link out of the run directory
    ],
)
def test_nothing_else_is_served(run_dirs, name, file):
    assert served_file(run_dirs, name, file) is None


def test_a_shape_stopped_before_its_schedule_ended_is_a_partial_run(tmp_path, no_uname):
    phase = {"time": 1.0, "event": "phase", "name": "normal", "role": "baseline", "users": 10}
    (tmp_path / PHASE_LOG).write_text(json.dumps(phase) + "\n")
    options = SimpleNamespace(time_scale=1.0, think_time="", thresholds="")
    stopped = session_record(Session(tmp_path, "spike", started=1.0), options, "", 5.0, 10, None)
    assert (stopped.partial, stopped.partial_reason) == (
        True,
        "stopped before the shape's schedule ended",
    )
    with (tmp_path / PHASE_LOG).open("a") as log:
        log.write(json.dumps({"time": 4.0, "event": "end"}) + "\n")
    ended = session_record(Session(tmp_path, "spike", started=1.0), options, "", 5.0, 10, None)
    assert ended.partial is False
