"""QueryCache: a TTL + LRU cache for query results, keyed by namespace and parameters.

The hit path takes no lock. Every step of it (``dict.get``, ``OrderedDict.move_to_end``,
a list item increment on a counter cell that only the calling thread writes) is a single
C-level operation under the GIL, so two threads reading at once do not convoy on a lock the
way a locked read does. Writes (set, expiry, eviction, invalidation) take one lock.

Keys are ``(shape, *values)``: the shape is an interned tuple of the namespace, its
generation and the sorted parameter names, shared by every entry of that shape, so a key costs
one small tuple and the order of keyword arguments does not matter. Unhashable values (lists,
dicts, sets) are frozen into hashable equivalents. With ``hashed_keys=True`` only a digest of
the values is kept.

Invalidating a namespace bumps its generation, so no later key can match its old entries,
and hands their index to a reclaim list: the call costs O(1) however many entries it drops,
and never stalls the event loop. The dropped entries leave memory in batches on later writes,
before any live entry would be evicted for room, so they never cost a live entry its place.
Invalidating everything bumps every namespace's generation the same way, so in both cases a
write whose key was built before the call (a load that was running, say) is not stored.
"""

from __future__ import annotations

import asyncio
import hashlib
import inspect
import operator
import pickle
import threading
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Hashable, Mapping
from enum import Enum
from typing import Any

__all__ = ["QueryCache", "get_query_cache"]

Key = tuple[Any, ...]
Loader = Callable[[], Any] | Callable[[], Awaitable[Any]]

_HITS = 0
_MISSES = 1


class _Tag(Enum):
    """Marks a frozen list or dict, so that it never equals a plain tuple.

    A set needs no tag: it becomes a frozenset, which never equals a tuple.
    """

    LIST = "list"
    DICT = "dict"


def _freeze(value: Any) -> Hashable:
    """A hashable stand-in for ``value`` that compares equal exactly when the values do."""
    if isinstance(value, Mapping):
        items = [(_freeze(k), _freeze(v)) for k, v in value.items()]
        try:
            items.sort()
        except TypeError:
            items.sort(key=repr)
        return (_Tag.DICT, *items)
    if isinstance(value, list):
        return (_Tag.LIST, *map(_freeze, value))
    if isinstance(value, tuple):
        return tuple(map(_freeze, value))
    if isinstance(value, set | frozenset):
        return frozenset(map(_freeze, value))
    hash(value)  # raises TypeError for anything we cannot make hashable
    return value


class QueryCache:
    """Cache of query results with per-entry TTL, LRU eviction and namespace invalidation.

    ``timer`` is the clock used for expiry (``time.monotonic`` by default) so that tests can
    move time forward instead of sleeping. Parameter values never leave the cache: they are
    absent from ``stats()`` and ``repr()``, and with ``hashed_keys=True`` they are not even
    kept in memory (a 128-bit BLAKE2b digest is stored instead).

    Memory: at most ``max_size`` entries, invalidated ones included until released, each
    costing under 400 bytes of bookkeeping (key tuple, recency link, expiry, namespace index;
    about 300 measured) plus its parameter values and the cached value itself.
    """

    # Invalidated entries that each write releases: a few microseconds per write, and enough
    # to outpace refilling, since every write adds at most one entry.
    reclaim_per_write = 8

    def __init__(
        self,
        max_size: int = 1000,
        default_ttl: float = 300.0,
        *,
        timer: Callable[[], float] = time.monotonic,
        hashed_keys: bool = False,
    ) -> None:
        if isinstance(max_size, bool) or not isinstance(max_size, int) or max_size < 1:
            raise ValueError(f"max_size must be a positive integer, not {max_size!r}")
        self._check_ttl(default_ttl)
        self.max_size = max_size
        self.default_ttl = float(default_ttl)
        self.hashed_keys = hashed_keys
        self._timer = timer
        # key -> (value, expires_at); order is recency, oldest first.
        self._data: OrderedDict[Key, tuple[Any, float]] = OrderedDict()
        # namespace -> its live keys (a dict used as an ordered set).
        self._by_namespace: dict[str, dict[Key, None]] = {}
        # Indexes of invalidated namespaces whose entries are still in _data, and their total.
        self._reclaim: list[dict[Key, None]] = []
        self._unreclaimed = 0
        self._shapes: dict[tuple[str, ...], tuple[tuple[Any, ...], Callable[..., Any]]] = {}
        self._write_lock = threading.Lock()
        # thread id -> [hits, misses]; each thread only writes its own cell.
        self._counters: dict[int, list[int]] = {}
        self._evictions = 0
        self._expirations = 0
        self._loads = 0
        self._coalesced = 0
        # Bumped by invalidation: part of every key, so old entries become unreachable.
        self._generation: dict[str, int] = {}
        self._inflight: dict[Key, asyncio.Future[Any]] = {}

    # ----------------------------------------------------------------- keys

    def _key(self, namespace: str, params: dict[str, Any]) -> Key:
        """The entry key for ``namespace`` and ``params``, independent of argument order."""
        shape_id = (namespace, *params)
        shape = self._shapes.get(shape_id)
        if shape is None:
            shape = self._make_shape(shape_id, namespace, params)
        head, values = shape
        key = (head,) + values(params)
        if self.hashed_keys:
            return (head, self._digest(key))
        return key

    def _make_shape(
        self, shape_id: tuple[str, ...], namespace: str, params: dict[str, Any]
    ) -> tuple[tuple[Any, ...], Callable[..., Any]]:
        """Build and register a shape; under the lock, so that none outlives an invalidation."""
        if not isinstance(namespace, str):
            raise TypeError(f"namespace must be a str, not {type(namespace).__name__}")
        names = tuple(sorted(params))
        if not names:
            values: Callable[..., Any] = lambda params: ()  # noqa: E731
        elif len(names) == 1:
            (name,) = names
            values = lambda params: (params[name],)  # noqa: E731
        else:
            values = operator.itemgetter(*names)
        with self._write_lock:
            head = (namespace, self._generation.get(namespace, 0), *names)
            shape = self._shapes[shape_id] = (head, values)
        return shape

    def _is_current(self, key: Key) -> bool:
        """Whether ``key`` was built after the last invalidation of its namespace."""
        namespace, generation = key[0][:2]
        return generation == self._generation.get(namespace, 0)

    @staticmethod
    def _digest(key: Key) -> bytes:
        """A digest of the values. Pickle is reversible, so distinct values never share bytes."""
        frozen = tuple(map(_freeze, key[1:]))
        try:
            encoded = pickle.dumps(frozen, protocol=5)
        except (pickle.PicklingError, TypeError, AttributeError) as exc:
            raise TypeError(f"cache parameter values cannot be encoded: {exc}") from None
        return hashlib.blake2b(encoded, digest_size=16).digest()

    @staticmethod
    def _hashable(key: Key) -> Key:
        """``key`` with unhashable values frozen; TypeError if a value cannot be frozen."""
        return (key[0], *(_freeze(v) for v in key[1:]))

    @staticmethod
    def _check_ttl(ttl: float) -> None:
        if isinstance(ttl, bool) or not isinstance(ttl, int | float) or not ttl > 0:
            raise ValueError(f"ttl must be a positive number of seconds, not {ttl!r}")

    def _count(self, which: int) -> None:
        cell = self._counters.get(threading.get_ident())
        if cell is None:
            cell = self._counters.setdefault(threading.get_ident(), [0, 0])
        cell[which] += 1

    # ------------------------------------------------------------ sync core

    def _lookup(self, key: Key) -> tuple[bool, Any]:
        """(found, value) for ``key``; counts the hit or miss and drops an expired entry."""
        data = self._data
        try:
            entry = data.get(key)
        except TypeError:
            key = self._hashable(key)
            entry = data.get(key)
        if entry is not None:
            if entry[1] > self._timer():
                try:  # noqa: SIM105 - suppress() costs a context manager on the hot path
                    data.move_to_end(key)
                except KeyError:  # evicted by another thread in between: still a hit
                    pass
                self._count(_HITS)
                return True, entry[0]
            self._expire(key, entry)
        self._count(_MISSES)
        return False, None

    def _expire(self, key: Key, entry: tuple[Any, float]) -> None:
        with self._write_lock:
            if self._data.get(key) is entry and self._is_current(key):
                del self._data[key]
                self._unindex(key)
                self._expirations += 1

    def _store(self, key: Key, value: Any, ttl: float | None) -> None:
        if ttl is None:
            ttl = self.default_ttl
        else:
            self._check_ttl(ttl)
        entry = (value, self._timer() + ttl)
        data = self._data
        with self._write_lock:
            if not self._is_current(key):
                return  # built before an invalidation: storing it would resurrect stale data
            if self._reclaim:
                self._release(self.reclaim_per_write)
            try:
                present = key in data
            except TypeError:
                key = self._hashable(key)
                present = key in data
            if present:
                data[key] = entry
                data.move_to_end(key)
                return
            by_namespace = self._by_namespace
            if len(data) >= self.max_size:
                # Only live entries are left (releasing one invalidated entry made room
                # otherwise). Evict before inserting: readers must never see max_size + 1.
                old_key, _ = data.popitem(last=False)
                del by_namespace[old_key[0][0]][old_key]
                self._evictions += 1
            data[key] = entry
            index = by_namespace.get(key[0][0])
            if index is None:
                index = by_namespace[key[0][0]] = {}
            index[key] = None

    def _unindex(self, key: Key) -> None:
        """Drop ``key`` from its namespace index; the caller holds the write lock."""
        del self._by_namespace[key[0][0]][key]

    def _release(self, budget: int) -> None:
        """Delete up to ``budget`` invalidated entries; the caller holds the write lock."""
        reclaim = self._reclaim
        while budget and reclaim:
            keys = reclaim[-1]
            while budget and keys:
                key, _ = keys.popitem()
                del self._data[key]
                self._unreclaimed -= 1
                budget -= 1
            if not keys:
                reclaim.pop()

    def _remove_namespace(self, namespace: str | None) -> int:
        with self._write_lock:
            if namespace is None:
                return self._remove_all()
            self._generation[namespace] = self._generation.get(namespace, 0) + 1
            stale_shapes = [shape_id for shape_id in self._shapes if shape_id[0] == namespace]
            for shape_id in stale_shapes:
                del self._shapes[shape_id]
            keys = self._by_namespace.pop(namespace, None)
            if not keys:
                return 0
            self._reclaim.append(keys)
            self._unreclaimed += len(keys)
            return len(keys)

    def _remove_all(self) -> int:
        """Invalidate every namespace at once; the caller holds the write lock.

        Every namespace that has a key moves to its next generation, exactly as a namespace
        invalidation does, so a write whose key was built before the call is dropped too.
        """
        removed = self._live_size()
        for namespace in {shape_id[0] for shape_id in self._shapes} | set(self._generation):
            self._generation[namespace] = self._generation.get(namespace, 0) + 1
        self._shapes.clear()
        self._data.clear()
        self._by_namespace.clear()
        self._reclaim.clear()
        self._unreclaimed = 0
        return removed

    def _live_size(self) -> int:
        return max(0, len(self._data) - self._unreclaimed)

    # ------------------------------------------------------------- sync API

    def get_sync(self, namespace: str, /, **params: Any) -> Any:
        """The cached value, or None on a miss or after expiry."""
        return self._lookup(self._key(namespace, params))[1]

    def set_sync(
        self, namespace: str, value: Any, /, ttl: float | None = None, **params: Any
    ) -> None:
        """Store ``value``; ``ttl`` seconds (default: the cache's default TTL)."""
        self._store(self._key(namespace, params), value, ttl)

    def invalidate_sync(self, namespace: str | None = None) -> int:
        """Remove every entry of ``namespace`` (all entries when None); returns how many went.

        A value being written or loaded for a key built before the call is not stored.
        """
        return self._remove_namespace(namespace)

    # ------------------------------------------------------------ async API

    async def get(self, namespace: str, /, **params: Any) -> Any:
        return self._lookup(self._key(namespace, params))[1]

    async def set(
        self, namespace: str, value: Any, /, ttl: float | None = None, **params: Any
    ) -> None:
        self._store(self._key(namespace, params), value, ttl)

    async def invalidate(self, namespace: str | None = None) -> int:
        return self._remove_namespace(namespace)

    async def get_or_load(
        self, namespace: str, loader: Loader, /, ttl: float | None = None, **params: Any
    ) -> Any:
        """The cached value, or the loader's result, loading at most once per key at a time.

        Concurrent misses on one key share a single load (single-flight). A coroutine function
        is awaited on the loop; a plain callable runs in a worker thread so that blocking I/O
        does not stall the loop. The load runs in its own task: cancelling one waiter does not
        cancel it. An exception reaches every waiter and nothing is cached.
        """
        key = self._key(namespace, params)
        try:
            hash(key)
        except TypeError:
            key = self._hashable(key)
        found, value = self._lookup(key)
        if found:
            return value
        if ttl is not None:
            self._check_ttl(ttl)
        load = self._inflight.get(key)
        if load is None:
            load = asyncio.ensure_future(self._load(key, loader, ttl))
            load.add_done_callback(_consume_exception)
            self._inflight[key] = load
        else:
            self._coalesced += 1
        return await asyncio.shield(load)

    async def _load(self, key: Key, loader: Loader, ttl: float | None) -> Any:
        self._loads += 1
        try:
            if inspect.iscoroutinefunction(loader):
                value = await loader()
            else:
                value = await asyncio.to_thread(loader)
                if inspect.isawaitable(value):
                    value = await value
            # The key was built before the load: if its namespace was invalidated meanwhile,
            # the value may already be stale, and _store drops it.
            self._store(key, value, ttl)
            return value
        finally:
            # Still inside the task, so no caller can join a load that has already finished.
            if self._inflight.get(key) is asyncio.current_task():
                del self._inflight[key]

    # ---------------------------------------------------------------- stats

    def __len__(self) -> int:
        return self._live_size()

    def stats(self) -> dict[str, Any]:
        """Counters and sizes only: never a key or a parameter value."""
        cells = list(self._counters.copy().values())
        hits = sum(cell[_HITS] for cell in cells)
        misses = sum(cell[_MISSES] for cell in cells)
        lookups = hits + misses
        return {
            "size": self._live_size(),
            "max_size": self.max_size,
            "hits": hits,
            "misses": misses,
            "hit_rate_pct": round(100.0 * hits / lookups, 2) if lookups else 0.0,
            "default_ttl_seconds": self.default_ttl,
            "evictions": self._evictions,
            "expirations": self._expirations,
            "loads": self._loads,
            "coalesced": self._coalesced,
            "namespaces": sum(1 for keys in list(self._by_namespace.values()) if keys),
            "hashed_keys": self.hashed_keys,
        }

    def __repr__(self) -> str:
        return (
            f"QueryCache(size={self._live_size()}, max_size={self.max_size}, "
            f"default_ttl={self.default_ttl:g}, hashed_keys={self.hashed_keys})"
        )


def _consume_exception(load: asyncio.Future[Any]) -> None:
    """Mark a failed load's exception as seen even when every waiter was cancelled."""
    if not load.cancelled():
        load.exception()


_default_cache: QueryCache | None = None
_default_lock = threading.Lock()


def get_query_cache() -> QueryCache:
    """The process-wide cache (1,000 entries, 300 s TTL), created on first use."""
    global _default_cache
    if _default_cache is None:
        with _default_lock:
            if _default_cache is None:
                _default_cache = QueryCache()
    return _default_cache
