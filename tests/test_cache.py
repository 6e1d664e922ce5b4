"""Contract tests of QueryCache: TTL, LRU, keys, namespaces, stats, privacy, single-flight."""

from __future__ import annotations

import asyncio
import logging
import threading
import weakref
from collections import OrderedDict

import pytest

from perf_lib.cache import QueryCache, get_query_cache
from tests.fakes import FakeClock

MARKER = "SECRET-MARKER-7f3a"


def make_cache(**kwargs) -> tuple[QueryCache, FakeClock]:
    clock = FakeClock()
    return QueryCache(timer=clock, **kwargs), clock


# ---------------------------------------------------------------------- TTL


def test_default_ttl_expires_entries_at_the_deadline():
    cache, clock = make_cache(default_ttl=10)
    cache.set_sync("ns", "v", a=1)
    clock.advance(9.999)
    assert cache.get_sync("ns", a=1) == "v"
    clock.advance(0.001)
    assert cache.get_sync("ns", a=1) is None
    assert cache.stats()["expirations"] == 1
    assert len(cache) == 0


def test_per_entry_ttl_overrides_the_default():
    cache, clock = make_cache(default_ttl=10)
    cache.set_sync("ns", "short", ttl=1, a=1)
    cache.set_sync("ns", "long", ttl=100, a=2)
    clock.advance(50)
    assert cache.get_sync("ns", a=1) is None
    assert cache.get_sync("ns", a=2) == "long"


def test_overwriting_an_entry_renews_its_ttl():
    cache, clock = make_cache(default_ttl=10)
    cache.set_sync("ns", "old", a=1)
    clock.advance(8)
    cache.set_sync("ns", "new", a=1)
    clock.advance(8)
    assert cache.get_sync("ns", a=1) == "new"
    assert len(cache) == 1


@pytest.mark.parametrize("ttl", [0, -1, float("nan"), "5", True])
def test_invalid_ttl_is_rejected(ttl):
    cache, _ = make_cache()
    with pytest.raises(ValueError, match="ttl"):
        cache.set_sync("ns", "v", ttl=ttl, a=1)
    with pytest.raises(ValueError, match="ttl"):
        QueryCache(default_ttl=ttl)


@pytest.mark.parametrize("max_size", [0, -3, 2.5, True])
def test_invalid_max_size_is_rejected(max_size):
    with pytest.raises(ValueError, match="max_size"):
        QueryCache(max_size=max_size)


# ---------------------------------------------------------------------- LRU


def test_lru_eviction_drops_the_least_recently_used_entry():
    cache, _ = make_cache(max_size=3)
    for i in range(3):
        cache.set_sync("ns", i, i=i)
    assert cache.get_sync("ns", i=0) == 0  # 0 is now the most recent
    cache.set_sync("ns", 3, i=3)
    assert cache.get_sync("ns", i=1) is None
    assert [cache.get_sync("ns", i=i) for i in (0, 2, 3)] == [0, 2, 3]
    assert cache.stats()["evictions"] == 1


def test_size_never_exceeds_max_size():
    cache, _ = make_cache(max_size=50)
    for i in range(1_000):
        cache.set_sync(f"ns{i % 7}", i, i=i)
        assert len(cache) <= 50
    stats = cache.stats()
    assert stats["size"] == 50
    assert stats["evictions"] == 950


# ---------------------------------------------------------------------- keys


def test_key_does_not_depend_on_parameter_order():
    cache, _ = make_cache()
    cache.set_sync("ns", "v", symbol="AAPL", start="2024-01-01", end="2024-12-31")
    assert cache.get_sync("ns", end="2024-12-31", symbol="AAPL", start="2024-01-01") == "v"


def test_keys_are_distinct_per_namespace_and_per_parameter_name():
    cache, _ = make_cache()
    cache.set_sync("a", 1, x="v")
    cache.set_sync("b", 2, x="v")
    cache.set_sync("a", 3, y="v")
    cache.set_sync("a", 4)
    assert cache.get_sync("a", x="v") == 1
    assert cache.get_sync("b", x="v") == 2
    assert cache.get_sync("a", y="v") == 3
    assert cache.get_sync("a") == 4


def test_unhashable_parameter_values_are_accepted_and_normalised():
    cache, _ = make_cache()
    cache.set_sync("ns", "v", symbols=["AAPL", "MSFT"], opts={"b": 2, "a": [1, {"z": 0}]})
    assert cache.get_sync("ns", opts={"a": [1, {"z": 0}], "b": 2}, symbols=["AAPL", "MSFT"]) == "v"
    assert cache.get_sync("ns", symbols=["MSFT", "AAPL"], opts={"b": 2, "a": [1, {"z": 0}]}) is None
    # A list and a tuple with the same items are different values, as in Python.
    assert cache.get_sync("ns", symbols=("AAPL", "MSFT"), opts={"b": 2, "a": [1, {"z": 0}]}) is None
    cache.set_sync("ns", "set", tags={"x", "y"})
    assert cache.get_sync("ns", tags={"y", "x"}) == "set"


def test_a_value_that_cannot_be_hashed_at_all_raises_type_error():
    cache, _ = make_cache()

    class Unhashable:
        __hash__ = None

    with pytest.raises(TypeError):
        cache.set_sync("ns", "v", obj=Unhashable())


def test_hashed_keys_keep_no_parameter_value_in_memory():
    cache, _ = make_cache(hashed_keys=True)
    cache.set_sync("ns", "v", symbol=MARKER, dates=[MARKER, 1])
    assert cache.get_sync("ns", dates=[MARKER, 1], symbol=MARKER) == "v"
    assert cache.get_sync("ns", dates=[MARKER, 2], symbol=MARKER) is None
    assert MARKER not in repr(list(cache._data)) + repr(cache._by_namespace)
    assert cache.invalidate_sync("ns") == 1


# ---------------------------------------------------------------- namespaces


def test_invalidate_namespace_returns_the_count_and_keeps_the_others():
    cache, _ = make_cache()
    for i in range(5):
        cache.set_sync("historical_data", i, i=i)
    for i in range(3):
        cache.set_sync("symbols", i, i=i)
    assert cache.invalidate_sync("historical_data") == 5
    assert cache.invalidate_sync("historical_data") == 0
    assert cache.get_sync("symbols", i=2) == 2
    assert cache.invalidate_sync() == 3
    assert len(cache) == 0


def test_invalidate_does_not_scan_the_whole_cache():
    """Removal goes through the namespace index: iterating the store would be a scan."""

    class NoScan(OrderedDict):
        def __iter__(self):
            raise AssertionError("invalidate scanned the cache")

        keys = values = items = __iter__

    cache, _ = make_cache(max_size=10_000)
    cache._data = NoScan()
    for i in range(1_000):
        cache.set_sync("big", i, i=i)
    for i in range(10):
        cache.set_sync("small", i, i=i)
    assert cache.invalidate_sync("small") == 10
    assert len(cache) == 1_000


def test_invalidate_leaves_the_entries_untouched_until_later_writes():
    """The call is O(1) for the caller: deleting the entries is left to the writes after it."""

    class NoDelete(OrderedDict):
        def __delitem__(self, key):
            raise AssertionError("invalidate deleted entries itself")

    cache, _ = make_cache(max_size=10_000)
    cache._data = NoDelete()
    for i in range(1_000):
        cache.set_sync("big", i, i=i)
    assert cache.invalidate_sync("big") == 1_000
    assert len(cache) == 0
    assert cache.get_sync("big", i=1) is None


class Payload:
    """A cached value that can be watched with a weak reference."""


def test_invalidated_values_are_released_by_the_writes_that_follow():
    cache, _ = make_cache(max_size=1_000)
    payloads = [Payload() for _ in range(100)]
    watchers = [weakref.ref(p) for p in payloads]
    for i, payload in enumerate(payloads):
        cache.set_sync("historical_data", payload, i=i)
    del payloads, payload
    assert cache.invalidate_sync("historical_data") == 100
    writes = -(-100 // cache.reclaim_per_write)
    for i in range(writes - 1):
        cache.set_sync("symbols", i, i=i)
    assert any(watcher() is not None for watcher in watchers)
    cache.set_sync("symbols", "last", i=writes)
    assert all(watcher() is None for watcher in watchers)
    assert len(cache) == writes


def test_a_full_cache_releases_invalidated_entries_before_evicting_live_ones():
    cache, _ = make_cache(max_size=3)
    cache.reclaim_per_write = 1
    cache.set_sync("a", 1, i=1)
    cache.set_sync("a", 2, i=2)
    cache.set_sync("b", 3, i=3)
    assert cache.invalidate_sync("a") == 2
    cache.set_sync("b", 4, i=4)
    cache.set_sync("b", 5, i=5)
    assert [cache.get_sync("b", i=i) for i in (3, 4, 5)] == [3, 4, 5]
    assert cache.stats()["evictions"] == 0
    cache.set_sync("b", 6, i=6)
    assert cache.get_sync("b", i=3) is None
    assert cache.stats()["evictions"] == 1


@pytest.mark.parametrize("invalidated", ["ns", None], ids=["namespace", "everything"])
def test_a_write_built_before_an_invalidation_is_not_stored(invalidated):
    cache, _ = make_cache()
    key = cache._key("ns", {"k": 1})  # a writer that computed its key, then lost the CPU
    assert cache.invalidate_sync(invalidated) == 0
    cache._store(key, "stale", None)
    assert cache.get_sync("ns", k=1) is None
    assert len(cache) == 0


class InvalidatingClock(FakeClock):
    """A clock that invalidates the cache the next time it is read, once armed: the call
    lands while a write is under way, between building its key and storing its entry."""

    cache: QueryCache | None = None
    namespace: str | None = None

    def __call__(self) -> float:
        cache, self.cache = self.cache, None
        if cache is not None:
            cache.invalidate_sync(self.namespace)
        return self.now


@pytest.mark.parametrize("invalidated", ["ns", None], ids=["namespace", "everything"])
def test_invalidating_everything_drops_a_write_in_flight_like_a_namespace_does(invalidated):
    clock = InvalidatingClock()
    cache = QueryCache(timer=clock)
    cache.set_sync("ns", "old", k=1)
    cache.set_sync("other", "old", k=1)
    clock.cache, clock.namespace = cache, invalidated
    cache.set_sync("ns", "stale", k=1)
    assert clock.cache is None  # the invalidation did run, in the middle of the write
    assert cache.get_sync("ns", k=1) is None
    cache.set_sync("ns", "new", k=1)  # a write after the invalidation is kept
    assert cache.get_sync("ns", k=1) == "new"


def test_evicted_and_expired_entries_leave_the_namespace_index():
    cache, clock = make_cache(max_size=2, default_ttl=5)
    cache.set_sync("a", 1, i=1)
    cache.set_sync("a", 2, i=2)
    cache.set_sync("b", 3, i=3)  # evicts a/1
    clock.advance(10)
    assert cache.get_sync("a", i=2) is None  # expires a/2
    assert cache.invalidate_sync("a") == 0
    assert cache.invalidate_sync("b") == 1


async def test_async_api_matches_the_sync_one():
    cache, clock = make_cache(default_ttl=10)
    await cache.set("historical_data", {"bars": []}, ttl=600, symbol="AAPL", start="2024-01-01")
    assert await cache.get("historical_data", start="2024-01-01", symbol="AAPL") == {"bars": []}
    clock.advance(599)
    assert await cache.get("historical_data", symbol="AAPL", start="2024-01-01") is not None
    assert await cache.invalidate("historical_data") == 1
    assert await cache.get("historical_data", symbol="AAPL", start="2024-01-01") is None


# ---------------------------------------------------------------------- stats


def test_stats_count_hits_misses_and_rate():
    cache, _ = make_cache(max_size=10, default_ttl=300)
    cache.set_sync("ns", "v", a=1)
    for _ in range(3):
        cache.get_sync("ns", a=1)
    cache.get_sync("ns", a=2)
    stats = cache.stats()
    assert stats == stats | {
        "size": 1,
        "max_size": 10,
        "hits": 3,
        "misses": 1,
        "hit_rate_pct": 75.0,
        "default_ttl_seconds": 300.0,
        "evictions": 0,
        "expirations": 0,
    }


def test_no_parameter_value_in_stats_repr_or_logs(caplog):
    caplog.set_level(logging.DEBUG)
    cache, clock = make_cache(max_size=2, default_ttl=1)
    cache.set_sync("ns", MARKER, symbol=MARKER)
    cache.get_sync("ns", symbol=MARKER)
    cache.set_sync("ns", "x", symbol=MARKER + "2")
    cache.set_sync("ns", "y", symbol=MARKER + "3")
    clock.advance(5)
    cache.get_sync("ns", symbol=MARKER + "3")
    exposed = repr(cache) + repr(cache.stats()) + caplog.text
    assert MARKER not in exposed


def test_get_query_cache_is_a_process_wide_singleton():
    assert get_query_cache() is get_query_cache()
    assert get_query_cache().stats()["max_size"] == 1000
    assert get_query_cache().stats()["default_ttl_seconds"] == 300


# --------------------------------------------------------------- single-flight


async def test_a_thousand_concurrent_misses_run_the_loader_once():
    cache, _ = make_cache()
    calls = 0
    release = asyncio.Event()

    async def loader():
        nonlocal calls
        calls += 1
        await release.wait()
        return b"payload"

    waiters = [
        asyncio.create_task(cache.get_or_load("historical_data", loader, symbol="AAPL"))
        for _ in range(1_000)
    ]
    await asyncio.sleep(0)
    release.set()
    results = await asyncio.gather(*waiters)
    assert calls == 1
    assert results == [b"payload"] * 1_000
    assert await cache.get_or_load("historical_data", loader, symbol="AAPL") == b"payload"
    assert calls == 1
    stats = cache.stats()
    assert stats["loads"] == 1
    assert stats["coalesced"] == 999
    assert stats["hits"] == 1


async def test_a_sync_loader_runs_off_the_event_loop():
    cache, _ = make_cache()
    loop_thread = threading.get_ident()
    seen = []

    def loader():
        seen.append(threading.get_ident())
        return 42

    results = await asyncio.gather(*(cache.get_or_load("ns", loader, k=1) for _ in range(20)))
    assert results == [42] * 20
    assert len(seen) == 1 and seen[0] != loop_thread


async def test_a_loader_exception_reaches_every_waiter_and_is_not_cached():
    cache, _ = make_cache()
    calls = 0

    async def failing():
        nonlocal calls
        calls += 1
        await asyncio.sleep(0)
        raise RuntimeError("database down")

    results = await asyncio.gather(
        *(cache.get_or_load("ns", failing, k=1) for _ in range(10)), return_exceptions=True
    )
    assert calls == 1
    assert all(isinstance(r, RuntimeError) for r in results)
    assert len(cache) == 0

    async def working():
        return "ok"

    assert await cache.get_or_load("ns", working, k=1) == "ok"


async def test_cancelling_one_waiter_does_not_cancel_the_load():
    cache, _ = make_cache()
    release = asyncio.Event()
    finished = asyncio.Event()

    async def loader():
        await release.wait()
        finished.set()
        return "value"

    first = asyncio.create_task(cache.get_or_load("ns", loader, k=1))
    second = asyncio.create_task(cache.get_or_load("ns", loader, k=1))
    await asyncio.sleep(0)
    first.cancel()
    await asyncio.sleep(0)
    release.set()
    assert await second == "value"
    assert finished.is_set()
    with pytest.raises(asyncio.CancelledError):
        await first
    assert cache.get_sync("ns", k=1) == "value"


async def test_a_load_survives_even_when_every_waiter_is_cancelled():
    cache, _ = make_cache()
    release = asyncio.Event()

    async def loader():
        await release.wait()
        return "value"

    waiter = asyncio.create_task(cache.get_or_load("ns", loader, k=1))
    await asyncio.sleep(0)
    waiter.cancel()
    release.set()
    for _ in range(5):
        await asyncio.sleep(0)
    assert cache.get_sync("ns", k=1) == "value"


@pytest.mark.parametrize("invalidated", ["ns", None], ids=["namespace", "everything"])
async def test_invalidation_during_a_load_keeps_the_stale_result_out(invalidated):
    cache, _ = make_cache()
    release = asyncio.Event()

    async def loader():
        await release.wait()
        return "stale"

    waiter = asyncio.create_task(cache.get_or_load("ns", loader, k=1))
    await asyncio.sleep(0)
    await cache.invalidate(invalidated)
    release.set()
    assert await waiter == "stale"  # the waiter still gets its answer
    assert cache.get_sync("ns", k=1) is None  # but the cache does not keep it
