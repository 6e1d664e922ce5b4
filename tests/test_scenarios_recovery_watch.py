"""The live recovery watch on synthetic traffic: when may a spike's recovery phase end?

A synthetic run sends requests at a steady rate; their response times follow a chosen
profile (normal, slow during the spike, back to normal some seconds after it). The watch is
fed what Locust's statistics would show once a tick (cumulative counts and a rounded
histogram, by completion time); the report's exact analysis reads the same requests by send
time. The watch must keep the recovery phase going until the exact analysis can see the
recovery too.
"""

from __future__ import annotations

import random
from collections.abc import Callable

import numpy as np
import pytest

from perf_lib.thresholds import RecoveryLimits
from reports.recovery import exact_samples, find_recovery
from scenarios.recovery_watch import (
    CONFIRM_S,
    MARGIN_S,
    RecoveryWatch,
    extension_limit_s,
    percentile_ms,
)

T0 = 1_700_000_000.0
BASELINE_S, SPIKE_S, RECOVERY_S = 30.0, 30.0, 60.0
SPIKE_START, SPIKE_END = T0 + BASELINE_S, T0 + BASELINE_S + SPIKE_S
LIMITS = RecoveryLimits()  # healthy 30 s, degraded 180 s, 10 % or 5 ms


def locust_rounded(ms: float) -> int:
    """Locust's histogram keys: whole ms below 100, then 10 ms, then 100 ms steps."""
    if ms < 100:
        return round(ms)
    if ms < 1000:
        return round(ms, -1)
    return round(ms, -2)


class Run:
    """Requests sent at ``rate`` a second, each as slow as ``profile(seconds since T0)``."""

    def __init__(
        self,
        profile: Callable[[float], float],
        rate: float = 20.0,
        fails: Callable[[float], bool] = lambda _t: False,
        seed: int = 1,
    ) -> None:
        rng = random.Random(seed)
        self.sent: list[tuple[float, float, bool]] = []  # send time, response ms, failed
        t = T0
        while t < T0 + 400:
            jitter = 1.0 + rng.uniform(-0.1, 0.1)
            self.sent.append((t, profile(t - T0) * jitter, fails(t - T0)))
            t += 1.0 / rate

    def watch(
        self, limits: RecoveryLimits = LIMITS, recovery_s: float = RECOVERY_S, lag_s: float = 0.0
    ) -> tuple[RecoveryWatch, float]:
        """Tick about once a second, as the shape does, until the watch lets the phase end.

        Each tick the watch gets what Locust's cumulative statistics show: the requests
        completed so far, in a rounded histogram.
        """
        completed = sorted((sent + ms / 1000.0, ms, failed) for sent, ms, failed in self.sent)
        histogram: dict[int, int] = {}
        requests = failures = 0
        watch = RecoveryWatch(limits, recovery_s, lag_s)
        now = T0
        while True:
            while requests < len(completed) and completed[requests][0] <= now:
                _done, ms, failed = completed[requests]
                requests += 1
                failures += failed
                key = locust_rounded(ms)
                histogram[key] = histogram.get(key, 0) + 1
            watch.observe(now, requests, failures, histogram)
            if now >= SPIKE_START and watch.baseline is None:
                watch.baseline_phase(T0, now)
            if now >= SPIKE_END and watch.spike_end is None:
                watch.spike_ended(now)
            scheduled_over = watch.spike_end is not None and now >= watch.spike_end + recovery_s
            if scheduled_over and watch.done(now):
                return watch, now
            now += 1.0 + 0.003  # the shape's ticks drift a little
            assert now < T0 + 400, "the watch never let the phase end"

    def exact_recovery(self, spike_end: float, run_end: float, limits: RecoveryLimits = LIMITS):
        """The report's analysis of the requests the run sent before it ended."""
        kept = [r for r in self.sent if r[0] < run_end]
        ts = np.array([r[0] for r in kept])
        ms = np.array([r[1] for r in kept])
        failed = np.array([r[2] for r in kept])
        low = T0 + BASELINE_S * 0.2
        baseline = (ts >= low) & (ts < SPIKE_START)
        p95 = float(np.percentile(ms[baseline], 95))
        error_rate = float(failed[baseline].mean() * 100)
        samples = exact_samples(ts, ms, failed, spike_end, run_end)
        return find_recovery(samples, p95, error_rate, limits, run_end - spike_end, "exact")


def recovering_after(seconds: float, normal_ms: float = 10.0, spike_ms: float = 400.0):
    """Normal, slow during the spike, normal again ``seconds`` after the spike's end."""

    def profile(t: float) -> float:
        if t < BASELINE_S:
            return normal_ms
        if t < BASELINE_S + SPIKE_S + seconds:
            return spike_ms
        return normal_ms

    return profile


def test_a_healthy_recovery_ends_with_the_schedule():
    run = Run(recovering_after(2))
    watch, ended = run.watch()
    assert watch.recovered_after_s() in (2, 3, 4)
    assert ended - watch.spike_end == pytest.approx(RECOVERY_S, abs=1.1)
    exact = run.exact_recovery(watch.spike_end, ended)
    assert exact.seconds in (1, 2, 3) and exact.level.label == "healthy"


def test_a_slow_recovery_extends_the_phase_until_it_is_confirmed():
    run = Run(recovering_after(95))
    watch, ended = run.watch()
    seen = watch.recovered_after_s()
    assert seen in (95, 96, 97)
    assert ended - watch.spike_end == pytest.approx(seen + CONFIRM_S + MARGIN_S, abs=1.1)
    exact = run.exact_recovery(watch.spike_end, ended)
    assert exact.seconds is not None and abs(exact.seconds - seen) <= 2
    assert exact.level.label == "degraded"


def test_a_service_that_never_recovers_is_watched_until_degraded_s_is_over():
    run = Run(recovering_after(1000))
    watch, ended = run.watch()
    assert watch.recovered_after_s() is None
    assert ended - watch.spike_end == pytest.approx(
        LIMITS.degraded_s + CONFIRM_S + MARGIN_S, abs=1.1
    )
    assert run.exact_recovery(watch.spike_end, ended).seconds is None


def test_a_recovery_at_the_last_second_that_counts_can_still_be_confirmed():
    run = Run(recovering_after(178))
    watch, ended = run.watch()
    exact = run.exact_recovery(watch.spike_end, ended)
    assert exact.seconds is not None and exact.seconds <= LIMITS.degraded_s
    assert exact.level.label == "degraded"


def test_errors_at_a_normal_speed_are_no_recovery():
    """Fast responses are not enough: the error rate must be back to the baseline's too."""

    def failing(t: float) -> bool:
        return BASELINE_S <= t < BASELINE_S + SPIKE_S + 70

    run = Run(recovering_after(0), fails=failing)
    watch, ended = run.watch()
    assert watch.recovered_after_s() in (70, 71, 72)
    exact = run.exact_recovery(watch.spike_end, ended)
    assert exact.seconds is not None and abs(exact.seconds - watch.recovered_after_s()) <= 2


def test_time_scale_shortens_the_limits_and_the_phase():
    limits = LIMITS.scaled(0.1)  # healthy 3 s, degraded 18 s
    never = Run(recovering_after(1000))
    watch, ended = never.watch(limits, recovery_s=6.0)
    assert ended - watch.spike_end == pytest.approx(18 + CONFIRM_S + MARGIN_S, abs=1.1)
    quick = Run(recovering_after(0))
    watch, ended = quick.watch(limits, recovery_s=6.0)
    assert watch.recovered_after_s() in (0, 1)
    assert ended - watch.spike_end <= 7.1
    assert quick.exact_recovery(watch.spike_end, ended, limits).seconds == 0


def test_a_distributed_run_waits_for_its_workers_reports():
    run = Run(recovering_after(95))
    local, local_end = run.watch()
    master, master_end = run.watch(lag_s=3.0)
    assert master_end - local_end == pytest.approx(3.0, abs=1.1)
    assert master.deadline - local.deadline == pytest.approx(3.0)


def test_without_a_baseline_the_schedule_alone_decides():
    watch = RecoveryWatch(LIMITS, RECOVERY_S)
    watch.observe(T0, 0, 0, {})
    watch.observe(T0 + 30, 0, 0, {})
    assert watch.baseline_phase(T0, T0 + 30) is None
    watch.spike_ended(T0 + 60)
    assert watch.ends_at() == T0 + 60 + RECOVERY_S
    assert not watch.done(T0 + 119) and watch.done(T0 + 120)


def test_reset_statistics_start_the_count_afresh():
    watch = RecoveryWatch(LIMITS, RECOVERY_S)
    watch.observe(T0, 500, 5, {10: 500})
    watch.observe(T0 + 1, 20, 0, {10: 20})  # the web UI's "reset statistics"
    assert watch.intervals[-1].requests == 20 and watch.intervals[-1].histogram == {10: 20}


def test_histogram_percentile_is_the_nearest_rank():
    assert percentile_ms({}, 0.95) is None
    assert percentile_ms({10: 95, 500: 5}, 0.95) == 10
    assert percentile_ms({10: 94, 500: 6}, 0.95) == 500
    assert percentile_ms({3: 1}, 0.95) == 3


def test_the_extension_the_runner_must_allow_for():
    assert extension_limit_s(LIMITS, 60.0) == 180 + CONFIRM_S + MARGIN_S - 60
    assert extension_limit_s(LIMITS.scaled(0.1), 6.0, lag_s=3.0) == pytest.approx(
        18 + CONFIRM_S + MARGIN_S + 3 - 6
    )
    assert extension_limit_s(LIMITS, 400.0) == 0.0
