"""A capacity step's judgement, on synthetic samples whose figures are known exactly."""

from __future__ import annotations

import pytest

from perf_lib.thresholds import Level, Thresholds
from scenarios.capacity_judge import StepSamples, judge_step

HISTORY, HEALTH = "/api/v1/historical", "/health"


def samples(latency_ms: dict[str, list[float]], failed: int = 0, dropped: int = 0, sent=None,
            lag_ms: float = 1.0, cpu: float = 40.0) -> StepSamples:  # fmt: skip
    """Requests with these latencies; the first ``failed`` of HISTORY's failed."""
    collected = StepSamples(dropped=dropped, cpu_max_pct=cpu)
    for name, times in latency_ms.items():
        for i, t in enumerate(times):
            collected.add(name, t, name == HISTORY and i < failed, lag_ms)
    collected.sent = collected.requests if sent is None else sent
    return collected


def test_a_fast_step_holds_with_its_figures():
    trial = judge_step(
        100.0, samples({HISTORY: [10.0] * 90, HEALTH: [2.0] * 10}), 1.0, Thresholds()
    )
    assert trial.held and trial.level is Level.HEALTHY
    assert trial.achieved_rps == 100.0
    assert (trial.p50_ms, trial.p95_ms, trial.p99_ms) == (10.0, 10.0, 10.0)
    assert all(e.level is Level.HEALTHY and e.metric is None for e in trial.endpoints.values())


def test_the_endpoint_and_metric_furthest_past_their_limit_are_named():
    """p95 260 ms is degraded (limit 200, x1.3) and avg 116 ms too (limit 100, x1.16): the
    p95 went further past its limit."""
    times = [100.0] * 90 + [260.0] * 10
    trial = judge_step(100.0, samples({HISTORY: times, HEALTH: [2.0] * 100}), 2.0, Thresholds())
    assert trial.level is Level.DEGRADED and not trial.held
    history = trial.endpoints[HISTORY]
    assert (history.level, history.metric, history.value) == (Level.DEGRADED, "p95_ms", 260.0)
    assert trial.endpoints[HEALTH].level is Level.HEALTHY


@pytest.mark.parametrize(
    ("dropped", "sent", "level"),
    [(0, None, Level.HEALTHY), (2, None, Level.DEGRADED), (6, None, Level.CRITICAL),
     (0, 106, Level.CRITICAL)],  # six sent but never answered when the step was judged
)  # fmt: skip
def test_arrivals_without_an_answer_count_as_errors(dropped, sent, level):
    trial = judge_step(
        100.0, samples({HISTORY: [5.0] * 100}, dropped=dropped, sent=sent), 1.0, Thresholds()
    )
    assert trial.level is level and trial.dropped == dropped
    assert trial.endpoints[HISTORY].level is Level.HEALTHY  # the requests answered were fine


@pytest.mark.parametrize(
    ("lag_ms", "cpu", "limited"), [(1.0, 40.0, False), (6.0, 40.0, True), (1.0, 90.0, True)]
)
def test_a_late_or_busy_generator_is_flagged(lag_ms, cpu, limited):
    step = samples({HISTORY: [5.0] * 100}, lag_ms=lag_ms, cpu=cpu)
    assert judge_step(100.0, step, 1.0, Thresholds()).generator_limited is limited


def test_a_step_that_sent_nothing_proves_nothing():
    trial = judge_step(100.0, StepSamples(), 1.0, Thresholds())
    assert trial.generator_limited and not trial.held


def test_samples_merge_as_one_process_would_collect_them():
    one = samples({HISTORY: [1.0, 2.0]}, failed=1, dropped=1, cpu=50.0)
    two = samples({HISTORY: [3.0], HEALTH: [4.0]}, dropped=2, cpu=70.0)
    one.merge(StepSamples.from_message(two.to_message()))
    assert one.latencies_ms == {HISTORY: [1.0, 2.0, 3.0], HEALTH: [4.0]}
    assert one.failures == {HISTORY: 1, HEALTH: 0}
    assert (one.sent, one.dropped, one.cpu_max_pct, one.requests) == (4, 3, 70.0, 4)
