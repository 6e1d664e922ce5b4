"""A run's options checked before anything starts: every refusal is one line, and the plan
carries the scaled schedule, where it came from, and resolved paths and headers."""

from __future__ import annotations

from pathlib import Path

import pytest

from scenarios.locustfile_check import LocustfileError
from scenarios.plan import PlanError, RunOptions, plan_run
from scenarios.schedule import spike_schedule
from scenarios.stages import parse_stages

MARKER = "s3cr3t-MARKER"
SHORT = "a phase needs at least 1 s (Locust changes the load once a second)"


@pytest.fixture(autouse=True)
def _no_thresholds_in_the_current_directory(tmp_path, monkeypatch):
    """The plan reads ./thresholds.toml when no file is named: run where there is none."""
    monkeypatch.chdir(tmp_path)


def no_locustfile(path: Path) -> list[str]:
    raise AssertionError(f"the locustfile {path} should not be inspected")


def plan(scenario: str = "spike", environ=None, inspect=no_locustfile, **fields):
    options = RunOptions(scenario, **fields)
    return plan_run(options, environ=environ or {}, inspect_locustfile=inspect)


def refusal(*args, **kwargs) -> str:
    with pytest.raises(PlanError) as caught:
        plan(*args, **kwargs)
    return str(caught.value)


def budget(name: str, option: str) -> str:
    return (
        f"{name} is specific to the reference API (a fixed request budget of its own endpoints): "
        f"{option} works with spike or sustained"
    )


@pytest.mark.parametrize(
    ("scenario", "options", "message"),
    [("soak", {}, "unknown scenario 'soak'"),
     ("baseline", {"locustfile": Path("my.py")}, budget("baseline", "--locustfile")),
     ("historical", {"stages": "30s:10"}, budget("historical", "--stages")),
     ("baseline", {"schedule_file": Path("s.toml")}, budget("baseline", "--schedule")),
     ("spike", {"stages": "30s:10", "schedule_file": Path("s.toml")},
      "--stages and --schedule both set the phases: give one of them"),
     ("spike", {"duration": 30.0},
      "--duration applies to sustained only; spike: its phases have fixed lengths"),
     ("sustained", {"stages": "30s:10", "duration": 30.0},
      "--duration applies to sustained only; sustained: the stages set the length"),
     ("spike", {"stages": "30s:10", "users": 5},
      "--users does not apply with --stages or --schedule: they set the users"),
     ("sustained", {"locustfile": Path("my.py"), "think_time": "0.1"},
      "--wait sets the built-in users' think time; a locustfile's users have their own wait_time"),
     ("sustained", {"server_metrics": ("process_cpu_seconds_total",)},
      "--server-metric chooses series of --prometheus: give its URL too"),
     ("spike", {"time_scale": 0.01},
      f"--time-scale 0.01 leaves phase 'normal' 0.3 s long; {SHORT}"),
     ("spike", {"stages": "10s:5,20s:10", "time_scale": 0.05},
      f"--time-scale 0.05 leaves phase 'stage-1' 0.5 s long; {SHORT}"),
     ("spike", {"stages": "30s:0"}, "--stages: stage 1: users must be at least 1, not 0"),
     ("spike", {"health_path": "health"},
      "--health-path must be a path starting with / or 'none', not 'health'"),
     ("spike", {"headers": ("X-Key: env:API_KEY",)},
      "--header X-Key: environment variable API_KEY is not set")],
)  # fmt: skip
def test_options_that_cannot_work_are_refused_with_one_line(scenario, options, message):
    assert refusal(scenario, **options) == message


def test_a_phase_too_short_by_itself_does_not_blame_the_time_scale():
    """At time scale 1 the stage is too short as written: the message should say so."""
    message = refusal(stages="0.5s:10,10s:20")
    assert "'stage-1' 0.5 s long" in message
    assert "--time-scale" not in message


def test_bad_thresholds_and_schedule_files_are_refused_naming_the_file(tmp_path):
    assert refusal(thresholds=Path("gone.toml")) == (
        f"{tmp_path / 'gone.toml'}: thresholds file not found"
    )
    (tmp_path / "bad.toml").write_text("[default\n")
    assert refusal(thresholds=Path("bad.toml")).startswith(
        f"{tmp_path / 'bad.toml'}: not valid TOML ("
    )
    (tmp_path / "empty.toml").write_text("")
    assert refusal(schedule_file=Path("empty.toml")) == "empty.toml: no [schedule] table"


def test_a_locustfile_error_is_refused_with_its_line():
    def broken(path: Path) -> list[str]:
        raise LocustfileError(f"--locustfile {path}: defines no user class")

    message = refusal("sustained", locustfile=Path("my.py"), inspect=broken)
    assert message == "--locustfile my.py: defines no user class"


def test_the_plan_of_the_spike_with_defaults():
    found = plan()
    assert found.scenario.name == "spike"
    assert found.schedule == spike_schedule()
    assert found.schedule_origin == "the spike scenario"
    assert (found.thresholds_path, found.health_path, found.headers) == (None, "/health", {})
    assert found.locust_users is None
    assert plan("baseline").schedule is None


def test_the_plan_resolves_schedule_paths_and_headers(tmp_path):
    (tmp_path / "limits.toml").write_text("[default]\np95_ms = { healthy = 50, degraded = 90 }\n")
    found = plan(
        "sustained",
        environ={"API_KEY": MARKER},
        inspect=lambda path: ["ApiUser"],
        stages="30s:10,30s:50,60s:10",
        time_scale=0.5,
        thresholds=Path("limits.toml"),
        health_path="NONE",
        headers=("X-Key: env:API_KEY", "X-Team: perf"),
        locustfile=Path("my.py"),
    )
    assert found.schedule == parse_stages("15s:10,15s:50,30s:10")
    assert found.schedule.has_spike
    assert found.schedule_origin == "--stages 30s:10,30s:50,60s:10"
    assert found.thresholds_path == tmp_path / "limits.toml" and found.thresholds_path.is_absolute()
    assert found.thresholds.defaults["p95_ms"].healthy == 50
    assert found.health_path is None
    assert found.headers == {"X-Key": MARKER, "X-Team": "perf"}
    assert found.locust_users == ["ApiUser"]


def test_the_plan_takes_a_schedule_file_and_a_sustained_length(tmp_path):
    path = tmp_path / "schedule.toml"
    path.write_text('[schedule]\nphases = [{ name = "flat", duration = "2m", users = 3 }]\n')
    found = plan(schedule_file=path, time_scale=0.25)
    assert [(p.name, p.duration_s, p.users) for p in found.schedule.phases] == [("flat", 30, 3)]
    assert found.schedule_origin == str(path)
    sustained = plan("sustained", duration=20.0, users=4, time_scale=0.5).schedule
    assert [(p.duration_s, p.users) for p in sustained.phases] == [(10.0, 4)]
    assert [p.users for p in plan(users=4).schedule.phases] == [4, 20, 4]


def test_the_plan_never_shows_a_header_value():
    found = plan(headers=(f"X-Key: {MARKER}",))
    assert found.headers == {"X-Key": MARKER}
    assert MARKER not in repr(found)  # nor in the options it keeps


@pytest.mark.parametrize(
    ("scenario", "options", "message"),
    [("spike", {"rate": 50.0}, "--rate applies to the open model: add --model open"),
     ("spike", {"arrivals": "poisson"}, "--arrivals applies to the open model: add --model open"),
     ("baseline", {"model": "open"},
      "--model open runs spike or sustained; baseline runs a budget"),
     ("spike", {"model": "open", "users": 5},
      "the open model sets arrivals, not users: use --rate"),
     ("spike", {"model": "open", "think_time": "0.1"},
      "the open model has no think time: arrivals follow --rate"),
     ("spike", {"model": "open", "locustfile": Path("f.py")},
      "--model open sends the built-in users' mix; a locustfile runs closed"),
     ("spike", {"model": "open", "rate": 5.0, "stages": "2s:10"},
      "with --model open, the stages' numbers are the rates: drop --rate")],
)  # fmt: skip
def test_open_model_options_that_cannot_work_are_refused(scenario, options, message):
    assert refusal(scenario, **options) == message


def test_the_open_spike_plans_r_five_r_r_shared_by_the_processes():
    planned = plan("spike", model="open", rate=120.0, processes=2).schedule
    assert [(p.rate, p.users) for p in planned.phases] == [(120.0, 2), (600.0, 2), (120.0, 2)]
    own = plan("sustained", model="open", stages="3s:50,3s:300,6s:50").schedule
    assert [p.rate for p in own.phases] == [50.0, 300.0, 50.0]  # the stages are rates
    assert [p.role for p in own.phases] == ["baseline", "spike", "recovery"]
    assert plan("sustained", model="open").schedule.phases[0].rate == 200.0  # the default
