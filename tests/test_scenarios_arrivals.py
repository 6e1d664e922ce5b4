"""The open model's arrival schedule and per-second tally, without Locust."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scenarios.arrivals import SecondTally, arrival_times, percentile
from scenarios.schedule import Phase, Schedule, constant_schedule, spike_schedule
from tests.examples import examples

SPIKE = spike_schedule().scaled(0.1).open_model(100.0)  # 3 s at 100/s, 3 s at 500/s, 6 s at 100/s


def until(times, end: float) -> list[float]:
    return list(itertools.takewhile(lambda t: t < end, times))


def test_the_open_spike_is_r_five_r_r():
    assert [(p.rate, p.users) for p in SPIKE.phases] == [(100.0, 1), (500.0, 1), (100.0, 1)]
    assert all(p.rate is None for p in spike_schedule().phases)  # closed until asked


def test_uniform_arrivals_are_evenly_spaced_at_each_phases_rate():
    times = until(arrival_times(SPIKE, start=1000.0), 1012.0)
    counts = [sum(a <= t - 1000.0 < b for t in times) for a, b in ((0, 3), (3, 6), (6, 12))]
    assert counts == [300, 1500, 600]
    assert times[:3] == pytest.approx([1000.0, 1000.01, 1000.02])
    assert times == sorted(times)


def test_arrivals_go_on_at_the_last_rate_while_the_recovery_is_watched():
    times = until(arrival_times(SPIKE, start=0.0), 20.0)
    assert sum(12.0 <= t < 20.0 for t in times) == 800  # 8 s more at 100/s


@pytest.mark.parametrize("arrivals", ["uniform", "poisson"])
def test_a_schedule_no_watch_extends_ends_with_its_last_phase(arrivals):
    schedule = constant_schedule("s", 1, 10.0).open_model(50.0)
    times = list(arrival_times(schedule, 100.0, arrivals, seed=3, endless=False))
    assert times[-1] < 110.0
    if arrivals == "uniform":
        assert len(times) == 500 and times[-1] == pytest.approx(109.98)


@pytest.mark.parametrize("workers", [2, 3])
def test_workers_share_the_uniform_schedule_without_gaps_or_overlap(workers):
    single = until(arrival_times(SPIKE, 0.0), 12.0)
    shared = sorted(
        t
        for w in range(workers)
        for t in until(arrival_times(SPIKE, 0.0, worker=w, workers=workers), 12.0)
    )
    assert shared == pytest.approx(single)


def test_poisson_arrivals_are_seeded_and_near_the_rate():
    schedule = constant_schedule("s", 1, 100.0).open_model(200.0)
    first = until(arrival_times(schedule, 0.0, "poisson", seed=7), 100.0)
    again = until(arrival_times(schedule, 0.0, "poisson", seed=7), 100.0)
    other = until(arrival_times(schedule, 0.0, "poisson", seed=8), 100.0)
    assert first == again and first != other
    assert 19_400 < len(first) < 20_600  # 20,000 expected; 4 standard deviations
    worker = until(arrival_times(schedule, 0.0, "poisson", seed=7, worker=1, workers=2), 100.0)
    assert 9_600 < len(worker) < 10_400 and worker != first[: len(worker)]


def test_bad_arrival_requests_are_refused():
    with pytest.raises(ValueError, match="arrivals must be one of uniform, poisson"):
        next(arrival_times(SPIKE, 0.0, "bursty"))
    with pytest.raises(ValueError, match="worker 2 is not one of 2"):
        next(arrival_times(SPIKE, 0.0, worker=2, workers=2))
    with pytest.raises(ValueError, match="has no arrival rate"):
        next(arrival_times(spike_schedule(), 0.0))
    with pytest.raises(ValueError, match="needs a positive rate"):
        Schedule((Phase("p", 1.0, 1, 1.0, rate=0.0),))


@settings(max_examples=examples(100), deadline=None)
@given(
    rates=st.lists(st.integers(1, 400), min_size=1, max_size=4),
    seconds=st.integers(1, 5),
)
def test_uniform_arrivals_count_rate_times_duration_in_every_phase(rates, seconds):
    phases = tuple(
        Phase(f"p{i}", float(seconds), 1, 1.0, rate=float(r)) for i, r in enumerate(rates)
    )
    schedule = Schedule(phases)
    times = until(arrival_times(schedule, 0.0), schedule.duration_s)
    for i, rate in enumerate(rates):
        start = i * seconds
        assert sum(start <= t < start + seconds for t in times) == rate * seconds


def test_a_seconds_tally_counts_sent_and_dropped_and_the_lag_of_the_sent():
    tally = SecondTally()
    for lag_ms in range(1, 101):
        tally.record_sent(lag_ms / 1000.0)
    tally.record_drop()
    tally.record_sent(-0.001)  # sent a hair early: no negative lag
    assert tally.row() == {
        "intended": 102,
        "sent": 101,
        "dropped": 1,
        "lag_p50_ms": 50.0,
        "lag_p99_ms": 99.0,
    }
    assert SecondTally().row()["lag_p99_ms"] is None
    assert percentile([3.0, 1.0, 2.0], 1.0) == 3.0
