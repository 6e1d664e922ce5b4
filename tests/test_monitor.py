"""Contract tests of PerformanceMonitor: window, exact and aggregated statistics, bottlenecks."""

from __future__ import annotations

import gc
import sys
import threading
import tracemalloc

import numpy as np
import pytest

from perf_lib.monitor import PerformanceMonitor, get_performance_monitor
from tests.fakes import FakeClock

TYPES = ["historical_data", "symbols", "status_check", "metrics", "health_check"]


def make_monitor(**kwargs) -> tuple[PerformanceMonitor, FakeClock]:
    clock = FakeClock()
    return PerformanceMonitor(timer=clock, **kwargs), clock


def reachable(root: object, target: object) -> bool:
    """Whether ``target`` can be reached from ``root`` through object references."""
    seen, todo = set(), [root]
    while todo:
        obj = todo.pop()
        if obj is target:
            return True
        if id(obj) in seen or isinstance(obj, type):
            continue
        seen.add(id(obj))
        todo.extend(gc.get_referents(obj))
    return False


def feed(monitor, clock, durations, step=0.01, failures_every=0, types=TYPES):
    """Record ``durations`` one ``step`` apart, cycling through ``types``."""
    for i, duration in enumerate(durations.tolist()):
        failed = bool(failures_every) and i % failures_every == 0
        monitor.record(types[i % len(types)], duration, success=not failed)
        clock.advance(step)


# ------------------------------------------------------------------ exact


async def test_stats_inside_max_samples_are_exact_against_numpy():
    monitor, clock = make_monitor(max_samples=20_000)
    durations = np.random.default_rng(7).lognormal(2.5, 0.9, 20_000)
    feed(monitor, clock, durations, failures_every=50)
    stats = await monitor.get_stats()
    assert stats["total"] == 20_000
    assert stats["failed"] == 400 and stats["successful"] == 19_600
    assert stats["error_rate_pct"] == pytest.approx(2.0)
    expected = np.percentile(durations, [50, 95, 99])
    got = [stats["median_ms"], stats["p95_ms"], stats["p99_ms"]]
    assert got == pytest.approx(expected, rel=1e-12)
    assert stats["mean_ms"] == pytest.approx(durations.mean(), rel=1e-12)
    assert stats["stdev_ms"] == pytest.approx(durations.std(ddof=1), rel=1e-9)
    assert (stats["min_ms"], stats["max_ms"]) == (durations.min(), durations.max())
    summary = await monitor.get_summary()
    assert summary["exact"] is True
    assert summary["p95_duration_ms"] == stats["p95_ms"]


async def test_stats_per_type_only_count_that_type():
    monitor, clock = make_monitor()
    for duration in (10.0, 20.0, 30.0):
        monitor.record("historical_data", duration)
    monitor.record("symbols", 99.0, success=False)
    stats = await monitor.get_stats("historical_data")
    assert stats["query_type"] == "historical_data"
    assert (stats["total"], stats["failed"], stats["median_ms"]) == (3, 0, 20.0)
    assert stats["stdev_ms"] == pytest.approx(10.0)
    assert (await monitor.get_stats("symbols"))["error_rate_pct"] == 100.0
    assert monitor.snapshot().query_types() == {"historical_data": 3, "symbols": 1}


async def test_a_snapshot_keeps_its_figures_while_recording_goes_on():
    monitor, clock = make_monitor()
    monitor.record("historical_data", 10.0)
    monitor.record("historical_data", 30.0, success=False)
    window = monitor.snapshot()
    monitor.record("historical_data", 500.0)
    monitor.record("symbols", 1.0)
    clock.advance(86_401)  # everything leaves the monitor's window, not the snapshot's
    assert window.query_types() == {"historical_data": 2}
    stats = window.stats("historical_data")
    assert (stats["total"], stats["failed"], stats["max_ms"]) == (2, 1, 30.0)
    assert window.stats() == {**stats, "query_type": "all"}
    assert window.stats_by_type() == {"historical_data": stats}
    assert window.summary()["total_queries"] == 2
    assert [b["max_slow_ms"] for b in window.bottlenecks(threshold_ms=20)] == [30.0]
    assert (await monitor.get_summary())["total_queries"] == 0


async def test_an_empty_window_reports_zero_counts_and_no_timings():
    monitor, _ = make_monitor()
    stats = await monitor.get_stats("nothing")
    assert stats["total"] == 0 and stats["p95_ms"] is None
    summary = await monitor.get_summary()
    assert summary["total_queries"] == 0 and summary["avg_duration_ms"] is None
    assert await monitor.get_bottlenecks() == []


# ---------------------------------------------------------------- window


async def test_samples_leave_the_rolling_window():
    monitor, clock = make_monitor(window_seconds=60)
    monitor.record("q", 100.0)
    clock.advance(30)
    monitor.record("q", 1.0)
    assert (await monitor.get_stats())["total"] == 2
    clock.advance(30.5)
    stats = await monitor.get_stats()
    assert (stats["total"], stats["max_ms"]) == (1, 1.0)
    clock.advance(30)
    assert (await monitor.get_stats())["total"] == 0
    summary = await monitor.get_summary()
    assert summary["window_hours"] == pytest.approx(60 / 3600)
    assert summary["window_seconds_covered"] == pytest.approx(60)


async def test_the_summary_reports_the_span_it_covers_when_younger_than_the_window():
    monitor, clock = make_monitor()
    monitor.record("q", 5.0)
    clock.advance(90)
    summary = await monitor.get_summary()
    assert summary["window_hours"] == 24
    assert summary["window_seconds_covered"] == pytest.approx(90)


# --------------------------------------------------------- beyond max_samples


async def test_beyond_max_samples_moments_stay_exact_and_percentiles_within_one_percent():
    monitor, clock = make_monitor(max_samples=1_000)
    rng = np.random.default_rng(11)
    durations = np.concatenate([rng.lognormal(2.0, 1.0, 30_000), rng.uniform(0, 2000, 10_000)])
    rng.shuffle(durations)
    feed(monitor, clock, durations, step=0.02, failures_every=40)
    stats = await monitor.get_stats()
    assert stats["total"] == durations.size
    assert stats["failed"] == durations.size // 40
    assert stats["mean_ms"] == pytest.approx(durations.mean(), rel=1e-9)
    assert stats["stdev_ms"] == pytest.approx(durations.std(ddof=1), rel=1e-9)
    assert (stats["min_ms"], stats["max_ms"]) == (durations.min(), durations.max())
    expected = np.percentile(durations, [50, 95, 99])
    got = [stats["median_ms"], stats["p95_ms"], stats["p99_ms"]]
    assert got == pytest.approx(expected, rel=0.01)
    summary = await monitor.get_summary()
    assert summary["exact"] is False
    assert summary["total_queries"] == durations.size


async def test_aggregated_window_drops_whole_minutes_and_says_what_it_covers():
    monitor, clock = make_monitor(window_seconds=600, max_samples=100)
    clock.now = 0.0
    monitor = PerformanceMonitor(window_seconds=600, max_samples=100, timer=clock)
    # 20 minutes of traffic, one sample a second: the buffer holds only the last 100.
    for second in range(1200):
        monitor.record("q", float(second))
        clock.advance(1)
    summary = await monitor.get_summary()
    assert summary["exact"] is False
    # The window (600 s) starts at 600 s, a whole minute: samples 600..1199 are inside it.
    assert summary["window_seconds_covered"] == pytest.approx(600)
    assert summary["total_queries"] == 600
    assert summary["min_duration_ms"] == 600.0
    assert summary["avg_duration_ms"] == pytest.approx(np.arange(600, 1200).mean())


async def test_back_to_exact_statistics_once_the_folded_samples_leave_the_window():
    monitor, clock = make_monitor(window_seconds=60, max_samples=100)
    feed(monitor, clock, np.full(500, 50.0), step=0.01)
    assert (await monitor.get_summary())["exact"] is False
    clock.advance(120)
    feed(monitor, clock, np.arange(1.0, 51.0), step=0.1)
    summary = await monitor.get_summary()
    assert summary["exact"] is True
    assert summary["total_queries"] == 50
    assert summary["median_duration_ms"] == pytest.approx(25.5)


async def test_memory_stays_bounded_after_a_million_records():
    monitor, clock = make_monitor(window_seconds=3600, max_samples=10_000)
    record = monitor.record
    gc.collect()
    tracemalloc.start()
    try:
        for i in range(1_000_000):
            record(TYPES[i % 5], float(i % 1000) + 0.5, i % 100 != 0)
            clock.now += 0.01  # 10,000 s in all: the window rolls over twice
        current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # Buffer: 10k samples x 24 B (+40 % before compaction); aggregates: <= 61 minutes x 5 types.
    assert current < 4_000_000, current
    assert peak < 8_000_000, peak
    assert len(monitor._minutes) <= 61
    summary = await monitor.get_summary()
    assert summary["total_queries"] == pytest.approx(360_000, rel=0.02)


# ------------------------------------------------------------ bottlenecks


async def test_bottlenecks_use_each_types_p95_by_default():
    monitor, clock = make_monitor()
    for duration in range(1, 101):
        monitor.record("historical_data", float(duration))
        monitor.record("symbols", 1.0)
    bottlenecks = await monitor.get_bottlenecks()
    (slow,) = [b for b in bottlenecks if b["query_type"] == "historical_data"]
    assert slow["threshold_ms"] == pytest.approx(np.percentile(np.arange(1, 101), 95))
    assert slow["slow_count"] == 5
    assert slow["avg_slow_ms"] == pytest.approx(98.0)
    assert slow["max_slow_ms"] == 100.0
    assert slow["pct_of_total"] == pytest.approx(5.0)
    assert all(b["query_type"] != "symbols" for b in bottlenecks)  # nothing above its p95


async def test_bottlenecks_with_an_explicit_threshold_are_ranked_by_slow_time():
    monitor, _ = make_monitor()
    for _ in range(10):
        monitor.record("a", 250.0)
    for _ in range(3):
        monitor.record("b", 2000.0)
    monitor.record("c", 10.0)
    bottlenecks = await monitor.get_bottlenecks(threshold_ms=200)
    assert [b["query_type"] for b in bottlenecks] == ["b", "a"]
    assert bottlenecks[1]["slow_count"] == 10 and bottlenecks[1]["threshold_ms"] == 200


# ------------------------------------------------------- recording surface


async def test_timer_records_success_and_failure_with_the_injected_clock():
    monitor, clock = make_monitor()
    with monitor.timer("historical_data"):
        clock.advance(0.25)
    with pytest.raises(KeyError), monitor.timer("historical_data"):
        clock.advance(0.5)
        raise KeyError("boom")
    stats = await monitor.get_stats("historical_data")
    assert (stats["total"], stats["failed"]) == (2, 1)
    assert (stats["min_ms"], stats["max_ms"]) == pytest.approx((250.0, 500.0))


async def test_record_query_accepts_metadata_and_keeps_none_of_it():
    monitor, _ = make_monitor()
    marker = "".join(["SECRET-", "METADATA-", "91c2"])  # a fresh object, not an interned constant
    await monitor.record_query("historical_fetch", 12.5, success=True, symbol=marker)
    assert not reachable(monitor, marker)
    assert marker not in repr(monitor) + repr(await monitor.get_summary())
    assert marker not in repr(await monitor.get_bottlenecks(threshold_ms=0))
    assert (await monitor.get_stats("historical_fetch"))["total"] == 1


@pytest.mark.parametrize("duration", [-1.0, float("nan"), float("inf")])
def test_impossible_durations_are_rejected(duration):
    monitor, _ = make_monitor()
    with pytest.raises(ValueError, match="duration_ms"):
        monitor.record("q", duration)


async def test_failures_of_zero_duration_are_still_failures():
    monitor, _ = make_monitor()
    monitor.record("q", 0, success=False)
    monitor.record("q", 0.0, success=True)
    stats = await monitor.get_stats("q")
    assert (stats["failed"], stats["max_ms"]) == (1, 0.0)


async def test_query_types_past_the_cap_share_one_bucket():
    monitor, _ = make_monitor(max_query_types=3)
    for name in ["a", "b", "c", "d", "e"]:
        monitor.record(name, 1.0)
    assert monitor.snapshot().query_types() == {"a": 1, "b": 1, "other": 3}


async def test_threads_recording_at_once_lose_no_sample():
    monitor, _ = make_monitor(max_samples=500)
    previous = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:

        def worker(index: int) -> None:
            for i in range(5_000):
                monitor.record(TYPES[index], float(i % 50), success=i % 10 != 0)

        pool = [threading.Thread(target=worker, args=(n,)) for n in range(4)]
        for thread in pool:
            thread.start()
        for thread in pool:
            thread.join()
    finally:
        sys.setswitchinterval(previous)
    stats = await monitor.get_stats()
    assert (stats["total"], stats["failed"]) == (20_000, 2_000)
    assert stats["max_ms"] == 49.0
    assert monitor.snapshot().query_types() == {name: 5_000 for name in TYPES[:4]}


def test_get_performance_monitor_is_a_process_wide_singleton():
    monitor = get_performance_monitor()
    assert monitor is get_performance_monitor()
    assert monitor.window_seconds == 86400 and monitor.max_samples == 10_000
