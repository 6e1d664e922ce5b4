"""Schedules of one's own: durations, ``--stages``, the ``[schedule]`` TOML table, and the
schedule as the runner hands it to Locust (JSON)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reports.roles import infer_roles
from reports.run_format import ROLE_BASELINE, ROLE_RECOVERY, ROLE_SPIKE, ROLE_STEADY, ROLES
from scenarios.schedule import Phase, Schedule
from scenarios.stages import load_schedule_file, parse_duration, parse_stages
from tests.examples import examples

B, S, R, T = ROLE_BASELINE, ROLE_SPIKE, ROLE_RECOVERY, ROLE_STEADY


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("90", 90), ("0.5", 0.5), ("30s", 30), ("2m", 120), ("1m30s", 90), ("1h", 3600),
     ("1.5m", 90), ("1h0m1s", 3601), (" 45s ", 45)],
)  # fmt: skip
def test_durations_parse_to_seconds(text, seconds):
    assert parse_duration(text) == seconds


@pytest.mark.parametrize(
    ("text", "message"),
    [("", "duration '' is not like 30s, 2m, 1m30s or 90"),
     ("30 s", "duration '30 s' is not like 30s, 2m, 1m30s or 90"),
     ("30x", "duration '30x' is not like 30s, 2m, 1m30s or 90"),
     ("1s1m", "duration '1s1m' is not like 30s, 2m, 1m30s or 90"),
     ("0s", "duration '0s' must be more than 0 s"),
     ("-5", "duration '-5' must be more than 0 s"),
     ("nan", "duration 'nan' must be more than 0 s"),
     ("inf", "duration 'inf' must be more than 0 s")],
)  # fmt: skip
def test_bad_durations_are_refused_with_one_line(text, message):
    with pytest.raises(ValueError) as caught:
        parse_duration(text)
    assert str(caught.value) == message


@settings(max_examples=examples(200), deadline=None)
@given(st.tuples(st.integers(0, 30), st.integers(0, 59), st.integers(0, 59)).filter(any))
def test_hours_minutes_seconds_add_up(parts):
    text = "".join(f"{n}{unit}" for n, unit in zip(parts, "hms", strict=True) if n)
    hours, minutes, seconds = parts
    assert parse_duration(text) == hours * 3600 + minutes * 60 + seconds


def test_stages_make_a_spike_with_inferred_roles():
    schedule = parse_stages("30s:10, 30s:50 ,1m:10")
    assert [(p.name, p.duration_s, p.users, p.spawn_rate, p.role) for p in schedule.phases] == [
        ("stage-1", 30.0, 10, 10.0, B),
        ("stage-2", 30.0, 50, 50.0, S),
        ("stage-3", 60.0, 10, 50.0, R),  # leaving the spike takes a second too
    ]
    assert schedule.has_spike


@settings(max_examples=examples(200), deadline=None)
@given(st.lists(st.tuples(st.integers(1, 7200), st.integers(1, 1000)), min_size=1, max_size=8))
def test_any_stage_list_round_trips_with_valid_roles(stages):
    schedule = parse_stages(",".join(f"{seconds}s:{users}" for seconds, users in stages))
    assert [(p.duration_s, p.users) for p in schedule.phases] == stages
    assert [p.name for p in schedule.phases] == [f"stage-{i}" for i in range(1, len(stages) + 1)]
    roles = [p.role for p in schedule.phases]
    assert roles == infer_roles([users for _, users in stages]) and set(roles) <= set(ROLES)
    previous = 0
    for phase in schedule.phases:  # every phase reaches its users within a second
        assert phase.spawn_rate >= abs(phase.users - previous)
        previous = phase.users


@pytest.mark.parametrize(
    ("text", "message"),
    [("30s", "stage 1 '30s' is not DURATION:USERS (e.g. 30s:10)"),
     ("30s:10,", "stage 2 '' is not DURATION:USERS (e.g. 30s:10)"),
     ("30s:10,abc:5", "stage 2: duration 'abc' is not like 30s, 2m, 1m30s or 90"),
     ("0s:5", "stage 1: duration '0s' must be more than 0 s"),
     ("30s:0", "stage 1: users must be at least 1, not 0"),
     ("30s:1.5", "stage 1: users must be a whole number, not '1.5'"),
     ("30s:10:5", "stage 1: users must be a whole number, not '10:5'")],
)  # fmt: skip
def test_bad_stages_are_refused_naming_the_stage(text, message):
    with pytest.raises(ValueError) as caught:
        parse_stages(text)
    assert str(caught.value) == message


def test_a_schedule_file_names_phases_and_may_set_role_and_spawn_rate(tmp_path):
    path = tmp_path / "schedule.toml"
    path.write_text(
        "[schedule]\nphases = [\n"
        '  { name = "warm", duration = "1m", users = 5 },\n'
        '  { name = "surge", duration = 30, users = "40", spawn_rate = 2.5 },\n'
        '  { duration = 90, users = 5, role = "steady" },\n'
        "]\n"
    )
    schedule = load_schedule_file(path)
    assert [(p.name, p.duration_s, p.users, p.spawn_rate, p.role) for p in schedule.phases] == [
        ("warm", 60.0, 5, 5.0, B),
        ("surge", 30.0, 40, 2.5, S),
        ("phase-3", 90.0, 5, 40.0, T),  # the role given wins over the inferred recovery
    ]
    assert not schedule.has_spike


PHASE = '{ name = "a", duration = 10, users = 1 }'


@pytest.mark.parametrize(
    ("toml", "message"),
    [("", "no [schedule] table"),
     ("[schedule]\nphases = []", "[schedule] phases must be a non-empty list of tables"),
     (f"[schedule]\nphases = [{PHASE}]\nrepeat = 2", "[schedule] must hold one key, phases"),
     ("[schedule]\nphases = [1]", "[schedule] phase 1 must be a table"),
     ("[schedule]\nphases = [{ duration = 10 }]", "[schedule] phase 1: users is missing"),
     ("[schedule]\nphases = [{ users = 1 }]", "[schedule] phase 1: duration is missing"),
     ("[schedule]\nphases = [{ duration = 10, users = 1, ramp = 2 }]",
      "[schedule] phase 1: unknown key(s) ramp (expected name, duration, users, spawn_rate, role)"),
     (f"[schedule]\nphases = [{PHASE}, {PHASE}]", "[schedule] phase 2: name 'a' is used twice"),
     ('[schedule]\nphases = [{ name = " ", duration = 10, users = 1 }]',
      "[schedule] phase 1: name must be a non-empty string"),
     ("[schedule]\nphases = [{ duration = true, users = 1 }]",
      "[schedule] phase 1: duration must be like 30s or a number of seconds"),
     ("[schedule]\nphases = [{ duration = 0, users = 1 }]",
      "[schedule] phase 1: duration '0' must be more than 0 s"),
     ("[schedule]\nphases = [{ duration = 10, users = 1.0 }]",
      "[schedule] phase 1: users must be a whole number, not 1.0"),
     ("[schedule]\nphases = [{ duration = 10, users = 1, spawn_rate = 0 }]",
      "[schedule] phase 1: spawn_rate must be a positive number, not 0"),
     ("[schedule]\nphases = [{ duration = 10, users = 1, spawn_rate = nan }]",
      "[schedule] phase 1: spawn_rate must be a positive number, not nan"),
     ('[schedule]\nphases = [{ duration = 10, users = 1, role = "surge" }]',
      "[schedule] phase 1: role 'surge' is not one of baseline, spike, recovery, steady")],
)  # fmt: skip
def test_bad_schedule_files_are_refused_naming_the_file(tmp_path, toml, message):
    path = tmp_path / "schedule.toml"
    path.write_text(toml)
    with pytest.raises(ValueError) as caught:
        load_schedule_file(path)
    assert str(caught.value) == f"{path}: {message}"


def test_unreadable_schedule_files_are_refused_naming_the_file(tmp_path):
    missing = tmp_path / "missing.toml"
    with pytest.raises(ValueError) as caught:
        load_schedule_file(missing)
    reason = "No such file or directory"
    assert str(caught.value) == f"{missing}: cannot read the schedule file ({reason})"
    broken = tmp_path / "broken.toml"
    broken.write_text("[schedule\n")
    with pytest.raises(ValueError, match=r"broken\.toml: not valid TOML \(") as caught:
        load_schedule_file(broken)
    assert "\n" not in str(caught.value)


def test_phase_names_differing_only_in_spaces_are_the_same_name(tmp_path):
    """Names are stripped: ``"a"`` and ``" a "`` would make two phases called 'a'."""
    path = tmp_path / "schedule.toml"
    path.write_text(
        '[schedule]\nphases = [{ name = "a", duration = 10, users = 1 },'
        ' { name = " a ", duration = 10, users = 2 }]\n'
    )
    with pytest.raises(ValueError, match="used twice"):
        load_schedule_file(path)


PHASES = st.builds(
    Phase,
    name=st.text(min_size=1, max_size=12),
    duration_s=st.floats(0.001, 1e6),
    users=st.integers(1, 10_000),
    spawn_rate=st.floats(0.001, 1e6),
    role=st.sampled_from(ROLES),
)


@settings(max_examples=examples(200), deadline=None)
@given(st.lists(PHASES, min_size=1, max_size=6).map(lambda p: Schedule(tuple(p))))
def test_json_round_trips_the_schedule(schedule):
    assert Schedule.from_json(schedule.to_json()) == schedule


@pytest.mark.parametrize(
    "text", ["", "[]", "{}", "[1]", '[{"name": "x"}]', '[{"name": "x", "duration_s": 1, '
     '"users": 1, "spawn_rate": 1, "role": "steady", "extra": 1}]'],
)  # fmt: skip
def test_anything_but_a_schedule_json_is_refused(text):
    with pytest.raises((ValueError, TypeError)):
        Schedule.from_json(text)


def schedule_of(*roles: str) -> Schedule:
    return Schedule(tuple(Phase(f"p{i}", 10, 1, 1.0, role) for i, role in enumerate(roles)))


@pytest.mark.parametrize(
    ("roles", "spike"),
    [((B, S, R), True),
     ((B, T, S, R, T), True),
     ((S, R), False),  # no baseline
     ((T, S, R, B), False),  # the baseline comes after the spike
     ((B, S, T, R), False),  # the recovery is not right after the spike
     ((B, S), False),  # no recovery
     ((B, R, S), False)],
)  # fmt: skip
def test_has_spike_needs_baseline_then_spike_then_recovery(roles, spike):
    assert schedule_of(*roles).has_spike is spike


def test_shortest_phase_is_the_first_of_the_shortest():
    schedule = Schedule(
        (Phase("a", 5, 1, 1.0), Phase("b", 2, 1, 1.0), Phase("c", 2, 1, 1.0), Phase("d", 9, 1, 1.0))
    )
    assert schedule.shortest_phase().name == "b"
