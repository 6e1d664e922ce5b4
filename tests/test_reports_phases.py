"""Phases: read from run.json with their roles, or segmented from the user count; and the
report measures degradation and recovery by role, whatever the phases are called."""

from __future__ import annotations

import numpy as np
import pytest

from reports import analyse_run
from reports.phases import Phase, assign, from_run_json, segment_by_users
from reports.roles import infer_roles
from tests.reports_helpers import START, block, spike_phases, spike_rows, write_run


def test_assign_half_open_with_inclusive_last_end():
    phases = [Phase("a", 10, 20), Phase("b", 20, 30), Phase("c", 40, 50)]
    ts = np.array([9.99, 10, 19.999, 20, 29.9, 35, 40, 50, 50.1])
    assert assign(ts, phases).tolist() == [-1, 0, 0, 1, 1, -1, 2, 2, -1]


def test_from_run_json_checks_phases():
    phases = from_run_json(
        {
            "phases": [
                {"name": "b", "start": 5, "end": 9, "users": 50},
                {"name": "a", "start": 1, "end": 5, "users": 10},
            ]
        }
    )
    assert [p.name for p in phases] == ["a", "b"]
    for bad, reason in [
        ({}, "no phases"),
        ({"phases": [{"name": "x", "start": 5, "end": 1}]}, "no valid start and end"),
        ({"phases": [{"start": 1, "end": 2}]}, "has no name"),
        (
            {"phases": [{"name": "a", "start": 0, "end": 5}, {"name": "b", "start": 4, "end": 9}]},
            "overlap",
        ),
        ({"phases": [{"name": "a", "start": 0, "end": 5, "users": "ten"}]}, "non-numeric"),
        ({"phases": [{"name": "a", "start": 0, "end": 5, "users": 1e30}]}, "impossible user"),
        ({"phases": [{"name": "a", "start": 0, "end": 5, "users": -3.5}]}, "impossible user"),
        ({"phases": [{"name": "a", "start": -1.7e308, "end": 1.7e308}]}, "no valid start"),
        ({"phases": [{"name": "a", "start": 0, "end": 5, "role": "peak"}]}, "unknown role 'peak'"),
        ({"phases": [{"name": "a", "start": 0, "end": 5, "role": 3}]}, "unknown role 3"),
    ]:
        with pytest.raises(ValueError, match=reason):
            from_run_json(bad)


def test_roles_from_run_json_or_from_the_spike_scenarios_names():
    stated = from_run_json(
        {
            "phases": [
                {"name": "warm", "role": "baseline", "start": 0, "end": 5},
                {"name": "burst", "role": "spike", "start": 5, "end": 9},
                {"name": "normal", "role": "steady", "start": 9, "end": 12},  # stated wins
            ]
        }
    )
    assert [p.role for p in stated] == ["baseline", "spike", "steady"]
    older = from_run_json({"phases": spike_phases() + [{"name": "x", "start": 2e9, "end": 3e9}]})
    assert [p.role for p in older] == ["baseline", "spike", "recovery", "steady"]
    unset = from_run_json({"phases": [{"name": "spike", "role": None, "start": 0, "end": 1}]})
    assert unset[0].role == "spike"


def test_segment_by_users_merges_ramps_and_names_a_spike():
    times = np.arange(100, 190, dtype=float)
    users = np.array([0] * 2 + [3, 7] + [10] * 26 + [33] + [50] * 29 + [20] + [10] * 29)
    phases = segment_by_users(times, users, "spike")
    assert [(p.name, p.role, p.start, p.end, p.users) for p in phases] == [
        ("normal", "baseline", 102.0, 130.0, 10),
        ("spike", "spike", 130.0, 160.0, 50),
        ("recovery", "recovery", 160.0, 190.0, 10),
    ]
    flat = segment_by_users(times, np.full(len(times), 10), "sustained")
    assert [(p.name, p.role, p.start, p.end) for p in flat] == [
        ("sustained", "steady", 100.0, 190.0)
    ]
    steps = segment_by_users(times, np.repeat([10, 20, 30], 30), "x")
    assert [p.name for p in steps] == ["phase 1", "phase 2", "phase 3"]
    assert [p.role for p in steps] == ["baseline", "steady", "spike"]


@pytest.mark.parametrize(
    ("levels", "expected"),
    [
        ([10], ["steady"]),
        ([10, 50], ["baseline", "spike"]),
        ([10, 50, 10], ["baseline", "spike", "recovery"]),
        ([10, 20, 50, 10, 10], ["baseline", "steady", "spike", "recovery", "steady"]),
        ([10, 50, 60], ["baseline", "steady", "spike"]),  # no plateau after the highest
        ([50, 10], ["steady", "steady"]),  # load only falls: no spike
        ([10, 10], ["steady", "steady"]),
        ([10, 50, 50], ["baseline", "spike", "steady"]),  # not lower: no recovery
    ],
)
def test_roles_follow_the_low_high_low_pattern(levels, expected):
    assert infer_roles(levels) == expected


def test_phases_segmented_from_user_count_without_run_json(tmp_path):
    run_dir = write_run(tmp_path / "run", spike_rows(7), spike_phases(), run_json=False)
    report = analyse_run(run_dir).report
    phases = report["phases"]
    assert [(p["name"], p["role"]) for p in phases] == [
        ("normal", "baseline"),
        ("spike", "spike"),
        ("recovery", "recovery"),
    ]
    assert [p["users"] for p in phases] == [10, 50, 10]
    assert (phases[1]["start"], phases[1]["end"]) == (START + 30, START + 60)
    assert report["recovery_seconds"] == 7
    codes = {w["code"]: w["message"] for w in report["warnings"]}
    assert codes["no_run_json"].startswith(
        "The phases could not be read from run.json (no run.json), so the phases "
        "(normal, spike, recovery) were segmented from the user count"
    )
    assert report["scenario"] == "run"  # no run.json and a directory name without a timestamp


def test_unreadable_run_json_is_a_warning(tmp_path):
    run_dir = write_run(tmp_path / "spike-20250101T120000Z", spike_rows(7), spike_phases())
    (run_dir / "run.json").write_text("{not json")
    report = analyse_run(run_dir).report
    assert report["scenario"] == "spike"  # from the directory name
    message = {w["code"]: w["message"] for w in report["warnings"]}["no_run_json"]
    assert "(run.json is unreadable" in message


def test_no_run_json_and_no_user_count_is_one_phase(tmp_path):
    run_dir = write_run(tmp_path / "run", spike_rows(7), spike_phases(), run_json=False)
    (run_dir / "locust_stats_history.csv").unlink()
    report = analyse_run(run_dir).report
    assert [(p["name"], p["role"]) for p in report["phases"]] == [("run", "steady")]
    assert report["recovery"] is None
    message = {w["code"]: w["message"] for w in report["warnings"]}["no_run_json"]
    assert message.endswith(
        "so the whole run is one phase: there are no per-phase figures, degradation or recovery."
    )


RENAMED = [
    {"name": "warm", "role": "baseline", "start": START, "end": START + 30, "users": 10},
    {"name": "burst", "role": "spike", "start": START + 30, "end": START + 60, "users": 50},
    {"name": "calm", "role": "recovery", "start": START + 60, "end": START + 120, "users": 10},
]


def test_spike_is_measured_by_role_not_by_name(tmp_path):
    renamed = analyse_run(write_run(tmp_path / "renamed", spike_rows(7), RENAMED)).report
    named = analyse_run(write_run(tmp_path / "named", spike_rows(7), spike_phases())).report
    assert [(p["name"], p["role"]) for p in renamed["phases"]] == [
        ("warm", "baseline"),
        ("burst", "spike"),
        ("calm", "recovery"),
    ]
    assert renamed["recovery_seconds"] == named["recovery_seconds"] == 7
    assert renamed["degradation_pct"] == named["degradation_pct"] is not None
    assert renamed["baseline"]["phase"] == "warm"
    assert [p["role"] for p in renamed["server"]["phases"]] == ["baseline", "spike", "recovery"]


def test_a_phase_called_normal_is_no_baseline_when_run_json_says_steady(tmp_path):
    steady = [{**p, "role": "steady"} for p in spike_phases()]
    report = analyse_run(write_run(tmp_path / "run", spike_rows(7), steady)).report
    assert report["degradation_pct"] is None and report["recovery"] is None
    assert report["baseline"] is None and report["degradation"] is None


def test_recovery_is_searched_in_the_recovery_phase_even_after_a_steady_one(tmp_path):
    rows = spike_rows(recover_at=20) + block(START + 120, 10, 10, lambda s, j, n: 10.0)
    phases = [
        {**spike_phases()[0], "role": "baseline"},
        {**spike_phases()[1], "role": "spike"},
        {**spike_phases()[2], "name": "cool-down", "role": "recovery"},
        {"name": "tail", "role": "steady", "start": START + 120, "end": START + 130},
    ]
    report = analyse_run(write_run(tmp_path / "run", rows, phases)).report
    assert report["recovery_seconds"] == 20
    assert report["recovery"]["searched_s"] == 60.0  # to the end of cool-down, not of tail
