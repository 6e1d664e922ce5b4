"""The capacity search against simulated services: plain functions from a rate to a judged trial."""

from __future__ import annotations

import json
import math
from collections.abc import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from perf_lib.thresholds import DEFAULT_LIMITS, Level
from scenarios.capacity_search import (
    Break,
    CapacitySearch,
    EndpointLevel,
    SearchSettings,
    Trial,
    first_to_break,
)
from tests.examples import examples

Service = Callable[[float], Trial]
MAX_TRIALS = 200

#: 25 * 1.5**k up to the first rate above a knee at 200, as the ramp must offer them.
RAMP_25 = [25.0, 37.5, 56.25, 84.375, 126.5625, 189.84375, 284.765625]


def run(search_settings: SearchSettings, service: Service) -> tuple[CapacitySearch, list[float]]:
    """Drive the search to its end; the rates it asked for, in order."""
    search = CapacitySearch(search_settings)
    rates: list[float] = []
    while (rate := search.next_rate()) is not None:
        rates.append(rate)
        assert len(rates) <= MAX_TRIALS, f"the search did not end within {MAX_TRIALS} trials"
        search.record(service(rate))
    assert search.done
    return search, rates


def knee(at: float, above: Level = Level.CRITICAL) -> Service:
    """Healthy up to ``at`` req/s, ``above`` beyond it."""
    return lambda rate: Trial(rate, Level.HEALTHY if rate <= at else above)


def settings_from(start_rate: float = 25.0, max_rate: float = 1000.0, **others) -> SearchSettings:
    return SearchSettings(start_rate, max_rate, **others)


def test_a_sharp_knee_is_bracketed_to_the_precision():
    search, rates = run(settings_from(), knee(200))
    answer = search.answer()
    assert answer.complete and answer.limited_by == "service"
    assert 200 / 1.05 <= answer.healthy_rps <= 200 < answer.failing_rps
    assert answer.failing_rps / answer.healthy_rps <= 1.05
    held_twice = [rate for rate in RAMP_25[:-1] for _ in range(2)]
    assert rates[: len(held_twice) + 1] == [*held_twice, RAMP_25[-1]]
    assert max(rates) == RAMP_25[-1]


def test_bisection_tries_the_geometric_mean_of_the_bracket_unrounded():
    search, rates = run(settings_from(), knee(200))
    first_bisection = rates[len(RAMP_25) * 2 - 1]
    assert first_bisection == pytest.approx(math.sqrt(189.84375 * 284.765625), rel=1e-12)
    assert first_bisection != round(first_bisection, 3)
    assert search.answer().failing_rps in rates


def test_a_bracket_already_within_the_precision_needs_no_bisection():
    search, rates = run(settings_from(100, factor=1.04, precision=0.05), knee(110))
    assert rates == [100, 100, 104, 104, 108.16, 108.16, pytest.approx(112.4864)]
    answer = search.answer()
    assert answer.healthy_rps == 108.16 and answer.failing_rps == pytest.approx(112.4864)


def soft_knee(rate: float) -> Trial:
    """p95 grows smoothly with the rate: 50 ms idle, degraded from 200 ms at 100*sqrt(3) req/s."""
    p95 = 50 * (1 + (rate / 100) ** 2)
    level = DEFAULT_LIMITS["p95_ms"].level(p95)
    endpoint = EndpointLevel(level, None if level == Level.HEALTHY else "p95_ms", p95)
    return Trial(rate, level, endpoints={"GET /quotes": endpoint}, p95_ms=p95)


def test_a_soft_knee_is_bracketed_and_a_degraded_trial_is_not_retried():
    search, rates = run(settings_from(), soft_knee)
    answer = search.answer()
    knee_rate = 100 * math.sqrt(3)
    assert answer.healthy_rps <= knee_rate < answer.failing_rps
    assert answer.failing_rps / answer.healthy_rps <= 1.05
    assert answer.limited_by == "service"
    degraded = [s for s in answer.steps if s.trial.level == Level.DEGRADED]
    assert degraded and all(s.trial.level < Level.CRITICAL for s in answer.steps)
    for step in degraded:
        assert rates.count(step.trial.rate) == 1 and step.repetition == 1
        assert step.outcome == "failed" and not step.held
    lowest_failed = answer.failing_rps  # the endpoint broke first where the rate failed
    assert answer.first_to_break == (
        Break(
            "GET /quotes", lowest_failed, Level.DEGRADED, "p95_ms", soft_knee(lowest_failed).p95_ms
        ),
    )


def lucky_once(knee_at: float) -> Service:
    """Fails above ``knee_at``, except that the first trial at each such rate passes by luck."""
    seen: set[float] = set()

    def service(rate: float) -> Trial:
        lucky = rate > knee_at and rate not in seen
        seen.add(rate)
        return Trial(rate, Level.HEALTHY if rate <= knee_at or lucky else Level.CRITICAL)

    return service


def test_a_lucky_pass_above_the_knee_is_not_taken_for_held():
    search, rates = run(settings_from(), lucky_once(200))
    answer = search.answer()
    assert answer.healthy_rps <= 200 < answer.failing_rps
    lucky = [s for s in answer.steps if s.trial.rate == RAMP_25[-1]]
    assert [(s.repetition, s.held, s.outcome) for s in lucky] == [
        (1, True, "failed"),
        (2, False, "failed"),
    ]
    assert all(s.outcome != "held" for s in answer.steps if s.trial.rate > 200)


def test_one_confirmation_would_believe_the_lucky_pass():
    """Why rates are held twice: with one confirmation the same service looks stronger."""
    search, _ = run(settings_from(confirmations=1), lucky_once(200))
    assert search.answer().healthy_rps > 200


def test_a_critical_trial_stops_the_climb_with_no_retry():
    search, rates = run(settings_from(), knee(200))
    steps = search.answer().steps
    critical = [i for i, s in enumerate(steps) if s.trial.level == Level.CRITICAL]
    assert len(critical) >= 2  # the ramp's and at least one bisection's
    for i in critical:
        rate = steps[i].trial.rate
        assert rates.count(rate) == 1
        assert all(later < rate for later in rates[i + 1 :])
    # 6 ramp rates held twice, then 284.77 (x1), 232.5 (x1), 210.1 (x1), 199.7 (x2), 204.8 (x1)
    assert len(rates) == 12 + 1 + 1 + 1 + 2 + 1


def test_a_generator_limit_ends_the_search_with_a_lower_bound():
    def service(rate: float) -> Trial:
        if rate > 150:  # the generator falls behind, and the latencies it saw suffer too
            return Trial(rate, Level.CRITICAL, generator_limited=True)
        return Trial(rate, Level.HEALTHY)

    search, rates = run(settings_from(), service)
    answer = search.answer()
    assert rates == [rate for rate in RAMP_25[:5] for _ in range(2)] + [RAMP_25[5]]
    assert answer.limited_by == "generator" and answer.complete
    assert answer.healthy_rps == RAMP_25[4] and answer.failing_rps is None
    assert answer.steps[-1].outcome == "unjudged"


def test_a_generator_limit_while_bisecting_keeps_the_service_failure():
    def service(rate: float) -> Trial:
        if 220 < rate < 250:
            return Trial(rate, Level.HEALTHY, generator_limited=True)
        return knee(200)(rate)

    search, rates = run(settings_from(), service)
    answer = search.answer()
    assert rates[-1] == pytest.approx(232.5, abs=0.1)
    assert answer.limited_by == "generator"
    assert answer.healthy_rps == RAMP_25[5] and answer.failing_rps == RAMP_25[6]


def test_a_generator_limit_on_the_confirming_trial_leaves_the_rate_unheld():
    def service(rate: float) -> Trial:
        return Trial(rate, Level.HEALTHY, generator_limited=rate > 50 and rate in seen)

    seen: set[float] = set()
    search = CapacitySearch(settings_from())
    while (rate := search.next_rate()) is not None:
        search.record(service(rate))
        seen.add(rate)
    answer = search.answer()
    assert answer.healthy_rps == 37.5 and answer.limited_by == "generator"
    assert [(s.trial.rate, s.repetition, s.outcome) for s in answer.steps[-2:]] == [
        (56.25, 1, "unjudged"),
        (56.25, 2, "unjudged"),
    ]


def test_a_service_that_never_breaks_is_limited_by_the_max_rate_tried_exactly():
    search, rates = run(settings_from(max_rate=300), knee(math.inf))
    answer = search.answer()
    assert answer.limited_by == "max_rate" and answer.complete
    assert answer.healthy_rps == 300 and answer.failing_rps is None
    assert max(rates) == 300 and rates.count(300) == 2
    assert rates[-4:] == [284.765625, 284.765625, 300, 300]


def test_a_start_rate_at_the_max_rate_is_all_there_is_to_try():
    _, rates = run(settings_from(300, 300), knee(math.inf))
    assert rates == [300, 300]


def test_a_failing_first_rate_steps_down_by_the_factor_then_bisects():
    search, rates = run(settings_from(100, factor=2), knee(10))
    assert rates[:6] == [100, 50, 25, 12.5, 6.25, 6.25]
    answer = search.answer()
    assert 10 / 1.05 <= answer.healthy_rps <= 10 < answer.failing_rps
    assert answer.failing_rps / answer.healthy_rps <= 1.05
    assert answer.limited_by == "service"


def test_stepping_down_stops_at_the_floor_when_nothing_holds():
    search, rates = run(settings_from(40, factor=2, floor_rate=10), knee(0))
    assert rates == [40, 20, 10]  # 10 is the floor itself; 5 would be below it
    answer = search.answer()
    assert answer.complete and answer.limited_by == "service"
    assert answer.healthy_rps is None and answer.failing_rps == 10


def test_the_endpoints_that_break_first_come_first():
    def service(rate: float) -> Trial:
        orders = (
            EndpointLevel(Level.CRITICAL, "error_rate_pct", rate / 10)
            if rate >= 90
            else EndpointLevel(Level.HEALTHY)
        )
        quotes = (
            EndpointLevel(Level.DEGRADED, "p95_ms", rate * 2)
            if rate >= 120
            else EndpointLevel(Level.HEALTHY)
        )
        endpoints = {
            "GET /quotes": quotes,
            "POST /orders": orders,
            "GET /health": EndpointLevel(Level.HEALTHY),
        }
        return Trial(rate, max(e.level for e in endpoints.values()), endpoints=endpoints)

    search, rates = run(settings_from(), service)
    answer = search.answer()
    orders_at = min(rate for rate in rates if rate >= 90)
    assert orders_at < 120
    assert answer.first_to_break == (
        Break("POST /orders", orders_at, Level.CRITICAL, "error_rate_pct", orders_at / 10),
        Break("GET /quotes", RAMP_25[4], Level.DEGRADED, "p95_ms", RAMP_25[4] * 2),
    )
    assert 84.375 <= answer.healthy_rps < 90 <= answer.failing_rps


def test_first_to_break_ties_put_the_worse_level_first_then_the_name():
    def broken(level: Level) -> EndpointLevel:
        return EndpointLevel(level, "p99_ms", 900.0)

    trials = [
        Trial(50, Level.DEGRADED, endpoints={"b": broken(Level.DEGRADED)}),
        Trial(
            50, Level.CRITICAL, endpoints={"b": broken(Level.CRITICAL), "c": broken(Level.DEGRADED)}
        ),
        Trial(50, Level.DEGRADED, endpoints={"a": broken(Level.DEGRADED)}),
        Trial(40, Level.HEALTHY, endpoints={"d": EndpointLevel(Level.HEALTHY)}),
        Trial(30, Level.CRITICAL, generator_limited=True, endpoints={"a": broken(Level.CRITICAL)}),
    ]
    ranked = [(b.endpoint, b.rate, b.level) for b in first_to_break(trials)]
    assert ranked == [
        ("b", 50, Level.CRITICAL),
        ("a", 50, Level.DEGRADED),
        ("c", 50, Level.DEGRADED),
    ]  # d never broke; a's break under a limited generator does not count


def test_the_answer_is_there_at_any_time_and_plain_data_at_the_end():
    search = CapacitySearch(settings_from())
    assert search.answer().steps == () and search.answer().healthy_rps is None
    search.record(Trial(25, Level.HEALTHY, p95_ms=12.5))
    partial = search.answer()
    assert not partial.complete and partial.limited_by is None
    assert [(s.repetition, s.outcome) for s in partial.steps] == [(1, "pending")]
    search.record(Trial(25, Level.HEALTHY))
    search.record(
        Trial(
            37.5,
            Level.DEGRADED,
            dropped=3,
            endpoints={"GET /quotes": EndpointLevel(Level.DEGRADED, "p95_ms", 250.0)},
            achieved_rps=36.9,
            p50_ms=80.0,
            p95_ms=250.0,
            p99_ms=400.0,
        )
    )
    data = json.loads(json.dumps(search.answer().to_dict()))
    assert {k: data[k] for k in ("healthy_rps", "failing_rps", "limited_by", "complete")} == {
        "healthy_rps": 25,
        "failing_rps": 37.5,
        "limited_by": None,
        "complete": False,
    }
    assert data["first_to_break"] == [
        {
            "endpoint": "GET /quotes",
            "rate": 37.5,
            "metric": "p95_ms",
            "value": 250.0,
            "level": "degraded",
        }
    ]
    assert [(s["rate"], s["repetition"], s["held"], s["outcome"]) for s in data["steps"]] == [
        (25, 1, True, "held"),
        (25, 2, True, "held"),
        (37.5, 1, False, "failed"),
    ]
    assert data["steps"][2] == {
        "rate": 37.5,
        "repetition": 1,
        "held": False,
        "outcome": "failed",
        "level": "degraded",
        "dropped": 3,
        "generator_limited": False,
        "achieved_rps": 36.9,
        "p50_ms": 80.0,
        "p95_ms": 250.0,
        "p99_ms": 400.0,
        "endpoints": {"GET /quotes": {"level": "degraded", "metric": "p95_ms", "value": 250.0}},
    }
    assert search.answer().trials[0] == Trial(25, Level.HEALTHY, p95_ms=12.5)


def test_drops_fail_a_rate_even_when_the_latencies_are_healthy():
    assert not Trial(10, Level.HEALTHY, dropped=1).held
    assert not Trial(10, Level.HEALTHY, generator_limited=True).held
    assert Trial(10, Level.HEALTHY).held
    search = CapacitySearch(settings_from(10, factor=2, floor_rate=5))
    search.record(Trial(10, Level.HEALTHY, dropped=1))
    assert search.next_rate() == 5 and search.answer().failing_rps == 10


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"start_rate": 0}, "start_rate"),
        ({"start_rate": -5}, "start_rate"),
        ({"start_rate": math.nan}, "start_rate"),
        ({"max_rate": math.inf}, "max_rate"),
        ({"max_rate": 10}, "max_rate"),
        ({"factor": 1}, "factor"),
        ({"factor": 0.5}, "factor"),
        ({"factor": math.nan}, "factor"),
        ({"precision": 0}, "precision"),
        ({"precision": 1}, "precision"),
        ({"confirmations": 0}, "confirmations"),
        ({"confirmations": 1.5}, "confirmations"),
        ({"confirmations": True}, "confirmations"),
        ({"floor_rate": 0}, "floor_rate"),
        ({"floor_rate": -math.inf}, "floor_rate"),
        ({"start_rate": "25"}, "start_rate"),
    ],
)
def test_bad_settings_name_the_field(changes, field):
    values = {"start_rate": 25.0, "max_rate": 100.0} | changes
    with pytest.raises(ValueError, match=field) as caught:
        SearchSettings(**values)
    assert "\n" not in str(caught.value)


def test_a_trial_must_be_at_the_rate_asked_for_and_only_while_searching():
    search = CapacitySearch(settings_from(25, 25))
    with pytest.raises(ValueError, match="expected a trial at rate 25"):
        search.record(Trial(26, Level.HEALTHY))
    assert search.answer().steps == ()  # the refused trial left no trace
    search.record(Trial(25, Level.HEALTHY))
    search.record(Trial(25, Level.HEALTHY))
    assert search.done and search.next_rate() is None
    with pytest.raises(ValueError, match="search is over"):
        search.record(Trial(25, Level.HEALTHY))
    assert len(search.answer().steps) == 2


@settings(max_examples=examples(200), deadline=None)
@given(
    start_rate=st.floats(1, 500),
    span=st.floats(1, 100),
    knee_at=st.floats(0, 1),
    factor=st.floats(1.2, 4),  # with span and precision: < 120 trials
    precision=st.floats(0.005, 0.5),
    confirmations=st.integers(1, 3),
)
def test_any_monotone_knee_is_bracketed_to_the_precision(
    start_rate, span, knee_at, factor, precision, confirmations
):
    max_rate = start_rate * span
    knee_rate = start_rate + knee_at * (max_rate - start_rate)
    search_settings = SearchSettings(start_rate, max_rate, factor, precision, confirmations)
    search, rates = run(search_settings, knee(knee_rate))
    answer = search.answer()
    assert answer.complete and max(rates) <= max_rate
    if answer.limited_by == "max_rate":
        assert answer.healthy_rps == max_rate <= knee_rate and answer.failing_rps is None
    else:
        assert answer.limited_by == "service"
        assert answer.healthy_rps <= knee_rate < answer.failing_rps
        assert answer.failing_rps / answer.healthy_rps <= 1 + precision
    for i, rate in enumerate(rates):  # nothing at or above a failed rate is tried after it
        if rate > knee_rate:
            assert all(later < rate for later in rates[i + 1 :])
