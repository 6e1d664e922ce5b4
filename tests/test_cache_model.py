"""QueryCache against a plain reference model (hypothesis state machine), and under threads."""

from __future__ import annotations

import sys
import threading
from collections import OrderedDict

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from perf_lib.cache import QueryCache
from tests.examples import examples
from tests.fakes import FakeClock

NAMESPACES = st.sampled_from(["historical_data", "symbols", "other"])
PARAMS = st.sampled_from([{"a": 1}, {"a": 2}, {"b": 1}, {"a": 1, "b": 2}, {"l": [1, 2]}, {}])
MAX_SIZE = 4


class CacheModel(RuleBasedStateMachine):
    """The model: an ordered dict of (namespace, frozen params) -> (value, expires_at)."""

    def __init__(self) -> None:
        super().__init__()
        self.clock = FakeClock()
        self.cache = QueryCache(max_size=MAX_SIZE, default_ttl=10, timer=self.clock)
        self.model: OrderedDict[tuple, tuple[int, float]] = OrderedDict()
        self.counts = {"hits": 0, "misses": 0, "evictions": 0, "expirations": 0}

    @staticmethod
    def key(namespace: str, params: dict) -> tuple:
        return namespace, repr(sorted(params.items()))

    @rule(
        namespace=NAMESPACES,
        params=PARAMS,
        value=st.integers(),
        ttl=st.sampled_from([None, 1, 5, 30]),
    )
    def set(self, namespace, params, value, ttl):
        self.cache.set_sync(namespace, value, ttl=ttl, **params)
        key = self.key(namespace, params)
        self.model[key] = (value, self.clock.now + (ttl or 10))
        self.model.move_to_end(key)
        if len(self.model) > MAX_SIZE:
            self.model.popitem(last=False)
            self.counts["evictions"] += 1

    @rule(namespace=NAMESPACES, params=PARAMS)
    def get(self, namespace, params):
        key = self.key(namespace, params)
        expected = None
        if key in self.model:
            value, expires_at = self.model[key]
            if expires_at > self.clock.now:
                expected = value
                self.model.move_to_end(key)
            else:
                del self.model[key]
                self.counts["expirations"] += 1
        self.counts["hits" if expected is not None else "misses"] += 1
        assert self.cache.get_sync(namespace, **params) == expected

    @rule(namespace=st.one_of(st.none(), NAMESPACES))
    def invalidate(self, namespace):
        doomed = [k for k in self.model if namespace is None or k[0] == namespace]
        for key in doomed:
            del self.model[key]
        assert self.cache.invalidate_sync(namespace) == len(doomed)

    @precondition(lambda self: self.model)
    @rule(seconds=st.sampled_from([0.5, 1, 4, 20]))
    def advance(self, seconds):
        self.clock.advance(seconds)

    @invariant()
    def agrees_with_the_model(self):
        stats = self.cache.stats()
        assert stats["size"] == len(self.model) <= MAX_SIZE
        assert len(self.cache._data) <= MAX_SIZE
        assert {k: stats[k] for k in self.counts} == self.counts


class CacheModelReleasingOneAtATime(CacheModel):
    """Invalidated entries linger across writes, so eviction must release them before live ones."""

    def __init__(self) -> None:
        super().__init__()
        self.cache.reclaim_per_write = 1


TestCacheModel = CacheModel.TestCase
TestCacheModelReleasingOneAtATime = CacheModelReleasingOneAtATime.TestCase
for case in (TestCacheModel, TestCacheModelReleasingOneAtATime):
    case.settings = settings(max_examples=examples(150), stateful_step_count=40, deadline=None)


@pytest.fixture
def fast_thread_switching():
    """Switch threads every microsecond, so races get a chance to show within a short test."""
    previous = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    yield
    sys.setswitchinterval(previous)


@pytest.mark.parametrize("threads", [2, 4, 8])
def test_threads_hammering_the_cache_keep_its_invariants(threads, fast_thread_switching):
    cache = QueryCache(max_size=64, default_ttl=300)
    operations = 5_000
    errors: list[BaseException] = []
    gets = [0] * threads
    barrier = threading.Barrier(threads)

    def worker(index: int) -> None:
        try:
            barrier.wait()
            for i in range(operations):
                key = (i * 7 + index) % 200
                if i % 3 == 0:
                    cache.set_sync(f"ns{key % 3}", key, k=key)
                elif i % 97 == 0:
                    cache.invalidate_sync(f"ns{key % 3}")
                else:
                    value = cache.get_sync(f"ns{key % 3}", k=key)
                    assert value is None or value == key
                    gets[index] += 1
                assert len(cache) <= 64
        except BaseException as exc:  # collected for the main thread
            errors.append(exc)

    pool = [threading.Thread(target=worker, args=(n,)) for n in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    assert errors == []
    stats = cache.stats()
    assert stats["hits"] + stats["misses"] == sum(gets)
    assert stats["size"] == len(cache._data) - cache._unreclaimed <= 64
    indexed = sum(len(keys) for keys in cache._by_namespace.values())
    assert indexed == stats["size"]
    assert sum(len(keys) for keys in cache._reclaim) == cache._unreclaimed
