"""perf_lib against its peers, measured in one process: cachetools, aiocache, prometheus_client.

Run alone with ``python -m benchmarks.bench_perf_lib``; ``make bench`` runs it with the rest.
"""

from __future__ import annotations

import asyncio
import statistics
import threading
from collections.abc import Callable

import numpy as np
from aiocache import SimpleMemoryCache
from cachetools import TTLCache
from cachetools.keys import hashkey
from prometheus_client import CollectorRegistry, Histogram

from benchmarks.timing import allocated_bytes, best_seconds, row
from perf_lib.cache import QueryCache
from perf_lib.monitor import PerformanceMonitor

PARAMS = {"symbol": "AAPL", "start": "2024-01-01", "end": "2024-12-31"}
HITS = 100_000
ENTRIES = 100_000
TYPES = ["historical_data", "symbols", "status_check", "metrics", "health_check"]


def _async_loop_seconds(step: Callable[[], object], count: int) -> float:
    """Best time of ``count`` calls of ``step`` awaited (or called) in one coroutine."""

    async def loop() -> float:
        start = asyncio.get_running_loop().time()
        for _ in range(count):
            result = step()
            if asyncio.iscoroutine(result):
                await result
        return asyncio.get_running_loop().time() - start

    async def best() -> float:
        return min([await loop() for _ in range(5)])

    return asyncio.run(best())


def cache_hit_rows() -> list[dict]:
    ours = QueryCache(max_size=1000, default_ttl=300)
    ours.set_sync("historical_data", b"bars", **PARAMS)
    peer = TTLCache(maxsize=1000, ttl=300)
    lock = threading.Lock()
    peer[hashkey(**PARAMS)] = b"bars"
    aio = SimpleMemoryCache()
    asyncio.run(aio.set("historical_data:AAPL:2024-01-01:2024-12-31", b"bars", ttl=300))
    hashed = QueryCache(max_size=1000, default_ttl=300, hashed_keys=True)
    hashed.set_sync("historical_data", b"bars", **PARAMS)

    def peer_get() -> object:
        with lock:
            return peer[hashkey(symbol="AAPL", start="2024-01-01", end="2024-12-31")]

    def aio_get() -> object:
        return aio.get("historical_data:AAPL:2024-01-01:2024-12-31")

    def ours_get() -> object:
        return ours.get("historical_data", symbol="AAPL", start="2024-01-01", end="2024-12-31")

    def hashed_get() -> object:
        return hashed.get("historical_data", symbol="AAPL", start="2024-01-01", end="2024-12-31")

    ours_s = _async_loop_seconds(ours_get, HITS)
    peer_s = _async_loop_seconds(peer_get, HITS)
    aio_s = _async_loop_seconds(aio_get, HITS // 10) * 10
    hashed_s = _async_loop_seconds(hashed_get, HITS)
    per_hit = ours_s / HITS * 1e9
    return [
        row(
            "cache hit (async API) vs cachetools TTLCache+Lock+hashkey",
            peer_s / ours_s,
            "x faster",
            ">= 1.2",
            peer_s / ours_s >= 1.2,
            ours_ns=per_hit,
            peer_ns=peer_s / HITS * 1e9,
        ),
        row(
            "cache hit (async API) vs aiocache SimpleMemoryCache",
            aio_s / ours_s,
            "x faster",
            ">= 10",
            aio_s / ours_s >= 10,
            ours_ns=per_hit,
            peer_ns=aio_s / HITS * 1e9,
        ),
        row(
            "hashed_keys=True hit cost vs plain keys",
            hashed_s / ours_s,
            "x the time",
            "reported",
            None,
            hashed_ns=hashed_s / HITS * 1e9,
        ),
    ]


def cache_set_row() -> dict:
    keys = [{"symbol": f"S{i}", "start": "2024-01-01"} for i in range(HITS)]
    ours = QueryCache(max_size=1000, default_ttl=300)
    peer = TTLCache(maxsize=1000, ttl=300)
    lock = threading.Lock()

    def ours_set() -> None:
        for params in keys:
            ours.set_sync("historical_data", b"bars", **params)

    def peer_set() -> None:
        for params in keys:
            with lock:
                peer[hashkey(**params)] = b"bars"

    ours_s, peer_s = best_seconds(ours_set), best_seconds(peer_set)
    return row(
        "cache set with eviction vs cachetools TTLCache+Lock",
        peer_s / ours_s,
        "x faster",
        ">= 2",
        peer_s / ours_s >= 2,
        ours_ns=ours_s / HITS * 1e9,
    )


def two_thread_row() -> dict:
    cache = QueryCache()
    cache.set_sync("historical_data", b"bars", **PARAMS)
    count = 200_000

    def hits() -> None:
        get = cache.get_sync
        for _ in range(count):
            get("historical_data", symbol="AAPL", start="2024-01-01", end="2024-12-31")

    def two_threads() -> None:
        pool = [threading.Thread(target=hits) for _ in range(2)]
        for thread in pool:
            thread.start()
        for thread in pool:
            thread.join()

    one = count / best_seconds(hits)
    two = 2 * count / best_seconds(two_threads)
    return row(
        "two threads of hits vs one thread, total throughput",
        two / one,
        "x",
        ">= 0.9",
        two / one >= 0.9,
        one_thread_per_s=one,
        two_threads_per_s=two,
    )


def memory_rows() -> list[dict]:
    params = [
        {"symbol": f"S{i % 500}", "start": f"2024-{i % 12 + 1:02d}-01", "end": str(i)}
        for i in range(ENTRIES)
    ]
    value = b"shared value: excluded from the figure"

    def fill(cache: QueryCache) -> QueryCache:
        for p in params:
            cache.set_sync("historical_data", value, **p)
        return cache

    def fill_peer() -> TTLCache:
        peer, lock = TTLCache(maxsize=ENTRIES, ttl=300), threading.Lock()
        for p in params:
            with lock:
                peer[hashkey(**p)] = value
        return peer

    ours, _ = allocated_bytes(lambda: fill(QueryCache(max_size=ENTRIES)))
    hashed, _ = allocated_bytes(lambda: fill(QueryCache(max_size=ENTRIES, hashed_keys=True)))
    peer, _ = allocated_bytes(fill_peer)
    return [
        row(
            "cache bytes per entry, value excluded (100k entries, 3 params)",
            ours / ENTRIES,
            "bytes",
            "<= 330",
            ours / ENTRIES <= 330,
            ttlcache_bytes=peer / ENTRIES,
        ),
        row(
            "cache bytes per entry with hashed_keys=True",
            hashed / ENTRIES,
            "bytes",
            "reported",
            None,
        ),
    ]


def invalidate_row() -> dict:
    def setup() -> QueryCache:
        cache = QueryCache(max_size=ENTRIES)
        for i in range(ENTRIES):
            cache.set_sync("small" if i % 100 == 0 else "big", b"v", i=i)
        return cache

    timings, releases = [], []
    for _ in range(5):
        cache = setup()
        timings.append(best_seconds(lambda c=cache: c.invalidate_sync("small"), repeat=1))
        # The deletions that invalidation defers to later writes, timed all at once here.
        releases.append(best_seconds(lambda c=cache: c._release(ENTRIES), repeat=1))
    ms = min(timings) * 1000
    return row(
        "invalidate 1k of 100k entries",
        ms,
        "ms",
        "<= 0.2",
        ms <= 0.2,
        deferred_release_ms=min(releases) * 1000,
    )


def monitor_record_row() -> dict:
    durations = np.random.default_rng(3).lognormal(2.5, 0.8, 1000).tolist()
    monitor = PerformanceMonitor(max_samples=10_000)
    child = Histogram("query_seconds", "d", ["type"], registry=CollectorRegistry()).labels("q")
    rounds = 100

    def ours() -> None:
        record = monitor.record
        for _ in range(rounds):
            for ms in durations:
                record("historical_data", ms, True)

    def peer() -> None:
        observe = child.observe
        for _ in range(rounds):
            for ms in durations:
                observe(ms / 1000.0)

    ours_s, peer_s = best_seconds(ours), best_seconds(peer)
    calls = rounds * len(durations)
    return row(
        "monitor record vs prometheus_client Histogram child observe",
        ours_s / peer_s,
        "x the cost",
        "<= 0.5",
        ours_s / peer_s <= 0.5,
        ours_ns=ours_s / calls * 1e9,
        peer_ns=peer_s / calls * 1e9,
    )


def monitor_summary_rows() -> list[dict]:
    samples = 100_000
    durations = np.random.default_rng(5).lognormal(2.5, 0.8, samples).tolist()
    monitor = PerformanceMonitor(max_samples=samples)
    for i, ms in enumerate(durations):
        monitor.record(TYPES[i % 5], ms, i % 50 != 0)
    ms = best_seconds(lambda: asyncio.run(monitor.get_summary()), repeat=7) * 1000
    baseline = best_seconds(lambda: statistics.quantiles(durations, n=100), repeat=3) * 1000
    used, _ = allocated_bytes(lambda: _filled_monitor(samples))
    return [
        row(
            "monitor get_summary over 100k samples of 5 types",
            ms,
            "ms",
            "<= 5",
            ms <= 5,
            statistics_module_ms=baseline,
        ),
        row(
            "monitor memory per sample, ring mode",
            used / samples,
            "bytes",
            f"<= {SAMPLE_BOUND:.1f}",
            used / samples <= SAMPLE_BOUND,
        ),
    ]


def _filled_monitor(samples: int) -> PerformanceMonitor:
    """A monitor at its largest: the buffer is 40 % over, just before a compaction."""
    monitor = PerformanceMonitor(max_samples=samples)
    for i in range(samples + samples * 2 // 5):
        monitor.record(TYPES[i % 5], 1.0 + i % 100, True)
    return monitor


#: Documented bounds (QueryCache and PerformanceMonitor docstrings): bookkeeping per cache
#: entry, per monitor aggregate (one per minute and query type) beyond its buckets, and per
#: monitor sample slot: 24-byte samples, the buffer up to 40 % over max_samples, plus up to
#: 10 % that a growing array allocates ahead.
CACHE_ENTRY_BOUND = 400
AGGREGATE_BOUND = 500
BUCKET_BYTES = 12
SAMPLE_BOUND = 1.4 * 24 * 1.1


def churn_rows(operations: int = 10_000_000) -> list[dict]:
    """10M cache operations over 10x more keys than max_size, and 10M monitor records."""
    max_size, keys = 10_000, 100_000
    value = b"v" * 100

    def cache_churn() -> QueryCache:
        cache = QueryCache(max_size=max_size)
        get, put = cache.get_sync, cache.set_sync
        done, x = 0, 12345
        while done < operations:
            x = (x * 1103515245 + 12345) & 0x7FFFFFFF  # a cheap deterministic key stream
            done += 1
            if get("historical_data", key=x % keys) is None:
                put("historical_data", value, key=x % keys)
                done += 1
        return cache

    cache_bytes, cache = allocated_bytes(cache_churn)
    cache_bound = max_size * CACHE_ENTRY_BOUND + len(value)

    clock = [0.0]
    types = TYPES

    def monitor_churn() -> PerformanceMonitor:
        monitor = PerformanceMonitor(max_samples=10_000, timer=lambda: clock[0])
        record = monitor.record
        for i in range(operations):
            record(types[i % 5], float(i % 500) + 0.5, i % 100 != 0)
            clock[0] += 0.001  # 10M records over 10,000 s: 167 minutes inside the 24 h window
        return monitor

    monitor_bytes, monitor = allocated_bytes(monitor_churn)
    aggregates = [a for by_type in monitor._minutes.values() for a in by_type.values()]
    monitor_bound = int(10_000 * SAMPLE_BOUND) + sum(
        AGGREGATE_BOUND + BUCKET_BYTES * a.buckets.size for a in aggregates
    )
    return [
        row("cache memory after 10M ops, 10x keys over max_size 10k", cache_bytes / 1e6, "MB",
            f"<= {cache_bound / 1e6:.1f}", cache_bytes <= cache_bound, size=len(cache),
            evictions=cache.stats()["evictions"]),
        row("monitor memory after 10M records (167 min window)", monitor_bytes / 1e6, "MB",
            f"<= {monitor_bound / 1e6:.1f}", monitor_bytes <= monitor_bound,
            aggregates=len(aggregates)),
    ]  # fmt: skip


def run() -> list[dict]:
    return [
        *cache_hit_rows(),
        cache_set_row(),
        two_thread_row(),
        *memory_rows(),
        invalidate_row(),
        monitor_record_row(),
        *monitor_summary_rows(),
        *churn_rows(),
    ]


if __name__ == "__main__":
    from benchmarks.__main__ import print_table

    print_table(run())
