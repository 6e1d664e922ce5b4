"""Schedules and the scenario catalog: phases, their timing, users and roles."""

from __future__ import annotations

import pytest

from reports.run_format import ROLE_BASELINE, ROLE_RECOVERY, ROLE_SPIKE, ROLE_STEADY
from scenarios.catalog import SCENARIOS, parse_think_time
from scenarios.schedule import Phase, Schedule, constant_schedule, spike_schedule


def test_the_spike_is_normal_spike_recovery_at_10_50_10_users():
    schedule = spike_schedule()
    assert [(p.name, p.duration_s, p.users) for p in schedule.phases] == [
        ("normal", 30.0, 10),
        ("spike", 30.0, 50),
        ("recovery", 60.0, 10),
    ]
    assert schedule.duration_s == 120.0
    assert schedule.phases[1].spawn_rate >= 40  # the spike arrives within a second


def test_every_phase_says_what_it_is():
    spike = spike_schedule()
    assert [p.role for p in spike.phases] == [ROLE_BASELINE, ROLE_SPIKE, ROLE_RECOVERY]
    assert spike.has_spike and spike.index_of(ROLE_RECOVERY) == 2
    assert spike.scaled(0.1).with_users(4).has_spike  # roles survive scaling
    steady = constant_schedule("sustained", 10, 60)
    assert [p.role for p in steady.phases] == [ROLE_STEADY]
    assert not steady.has_spike and steady.index_of(ROLE_SPIKE) is None
    with pytest.raises(ValueError, match="role 'surge'"):
        Schedule((Phase("x", 1, 1, 1.0, "surge"),))


@pytest.mark.parametrize(
    ("elapsed", "phase"),
    [(0, "normal"), (29.99, "normal"), (30, "spike"), (59.9, "spike"), (60, "recovery"),
     (119.9, "recovery"), (120, None), (500, None)],
)  # fmt: skip
def test_phase_at_walks_the_schedule(elapsed, phase):
    found = spike_schedule().phase_at(elapsed)
    assert (found.name if found else None) == phase


def test_each_phase_starts_where_the_previous_ends():
    spike = spike_schedule()
    assert [spike.start_s(i) for i in range(3)] == [0.0, 30.0, 60.0]
    assert [spike.index_at(t) for t in (0.0, 30.0, 119.9, 120.0)] == [0, 1, 2, None]


def test_time_scale_shortens_every_phase():
    scaled = spike_schedule().scaled(0.1)
    assert [p.duration_s for p in scaled.phases] == pytest.approx([3.0, 3.0, 6.0])
    assert scaled.phase_at(3.5).name == "spike"
    assert scaled.remaining_s(4.0) == pytest.approx(8.0)
    with pytest.raises(ValueError):
        spike_schedule().scaled(0)
    with pytest.raises(ValueError):
        spike_schedule().scaled(-1)


def test_users_scale_keeping_the_spikes_ratio():
    assert [p.users for p in spike_schedule().with_users(4).phases] == [4, 20, 4]
    with pytest.raises(ValueError):
        spike_schedule().with_users(0)


def test_invalid_phases_are_rejected():
    with pytest.raises(ValueError):
        Schedule(())
    with pytest.raises(ValueError):
        Schedule((Phase("x", 10, 0, 1.0),))


def test_catalog_matches_the_design():
    assert {n: (s.users, s.requests_per_user) for n, s in SCENARIOS.items()} == {
        "baseline": (10, 100),
        "historical": (10, 50),
        "sustained": (10, None),
        "spike": (10, None),
    }
    assert SCENARIOS["baseline"].schedule() is None
    sustained = SCENARIOS["sustained"].schedule(time_scale=0.5, duration_s=30)
    assert [(p.name, p.duration_s, p.users) for p in sustained.phases] == [("sustained", 15.0, 10)]
    assert SCENARIOS["sustained"].schedule().duration_s == 60
    assert all(s.module.is_file() for s in SCENARIOS.values())


@pytest.mark.parametrize(("text", "expected"), [("0", (0, 0)), ("0.01,0.03", (0.01, 0.03))])
def test_think_time_parses(text, expected):
    assert parse_think_time(text) == expected


@pytest.mark.parametrize("text", ["", "a", "-1", "0.3,0.1", "1,2,3", "inf"])
def test_bad_think_time_is_rejected(text):
    with pytest.raises(ValueError, match="think time"):
        parse_think_time(text)
