"""Short, actionable sentences from a performance summary, consistent with the thresholds.

Each sentence states the measured value and the level the threshold table gives it, so the
advice never contradicts the verdict (a 1.07 % error rate is degraded, not healthy).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from perf_lib.thresholds import Level, Thresholds

#: Below this hit rate the cache is not paying for itself on a read-heavy API.
GOOD_HIT_RATE_PCT = 60.0


def recommendations(
    cache: Mapping[str, Any] | None,
    performance: Mapping[str, Any],
    bottlenecks: Sequence[Mapping[str, Any]] = (),
    thresholds: Thresholds | None = None,
) -> list[str]:
    """Advice from the cache stats, the monitor's summary and its bottlenecks."""
    thresholds = thresholds or Thresholds()
    advice: list[str] = []
    if cache is not None:
        advice.append(_cache_advice(cache))
    if not performance.get("total_queries"):
        advice.append("No queries recorded in the window yet: nothing to judge.")
        return advice
    p99 = performance.get("p99_duration_ms")
    if p99 is not None:
        advice.append(_p99_advice(p99, thresholds))
    error_rate = performance.get("error_rate_pct", 0.0)
    advice.append(_error_advice(error_rate, thresholds))
    if bottlenecks:
        worst = bottlenecks[0]
        advice.append(
            f"Slowest query type is {worst['query_type']}: {worst['slow_count']} queries above "
            f"{worst['threshold_ms']:.1f}ms (avg {worst['avg_slow_ms']:.1f}ms) - "
            "check its indexes and result size"
        )
    return advice


def _cache_advice(cache: Mapping[str, Any]) -> str:
    lookups = cache.get("hits", 0) + cache.get("misses", 0)
    rate = cache.get("hit_rate_pct", 0.0)
    if not lookups:
        return "Cache has not been used yet"
    if rate >= GOOD_HIT_RATE_PCT:
        return f"Cache hit rate is good at {rate:.1f}%"
    advice = f"Cache hit rate is low at {rate:.1f}% - consider a longer TTL"
    if cache.get("evictions", 0) and cache.get("size", 0) >= cache.get("max_size", 0):
        advice += " or a larger max_size (the cache is full and evicting)"
    return advice


def _level_advice(
    what: str,
    metric: str,
    value: float,
    shown: str,
    unit: str,
    remedy: str,
    thresholds: Thresholds,
) -> str:
    """``what`` is healthy below its threshold; otherwise its level and ``remedy``."""
    level = thresholds.level(metric, value)
    healthy = f"{thresholds.limits_for()[metric].healthy:g}{unit}"
    if level is Level.HEALTHY:
        return f"{what} is healthy at {shown}{unit} (below {healthy})"
    return f"{what} is {level.label} at {shown}{unit} (healthy below {healthy}) - {remedy}"


def _p99_advice(p99: float, thresholds: Thresholds) -> str:
    return _level_advice(
        "P99 query time", "p99_ms", p99, f"{p99:.1f}", "ms",
        "consider database optimization", thresholds,
    )  # fmt: skip


def _error_advice(error_rate: float, thresholds: Thresholds) -> str:
    return _level_advice(
        "Error rate", "error_rate_pct", error_rate, f"{error_rate:.2f}", "%",
        "review the failing queries", thresholds,
    )  # fmt: skip
