"""Small timing and memory helpers shared by the benchmarks.

Every figure is the best of several repeats: on a shared 2-core machine the minimum is the
run least disturbed by other work, which is what a ratio between two implementations needs.
"""

from __future__ import annotations

import gc
import time
import tracemalloc
from collections.abc import Callable
from typing import Any


def best_seconds(run: Callable[[], Any], repeat: int = 5) -> float:
    """The fastest of ``repeat`` calls of ``run``, in seconds."""
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        run()
        best = min(best, time.perf_counter() - start)
    return best


def allocated_bytes(build: Callable[[], Any]) -> tuple[int, Any]:
    """Bytes still allocated after ``build()`` (tracemalloc), and what it built."""
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        built = build()
        gc.collect()
        after = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    return after - before, built


def row(name: str, value: float, unit: str, target: str, ok: bool | None, **extra: Any) -> dict:
    """One line of the benchmark table; ``ok`` is None for figures that are only reported."""
    return {
        "name": name,
        "value": round(value, 4),
        "unit": unit,
        "target": target,
        "ok": ok,
        **extra,
    }
