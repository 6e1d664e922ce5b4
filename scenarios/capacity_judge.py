"""One capacity step's samples, and its judgement by the run's thresholds.

The Locust processes collect, for the steady part of each step, every request's latency
measured from its intended start, its failures, its send lags, the arrivals dropped and the
busiest second of the generator's CPU. The samples merge (a distributed run's workers each
send theirs to the master) and are judged here as every report judges a phase: each endpoint
by the thresholds, the dropped share of the arrivals by the error-rate limits, and the
generator by the limits of ``reports.generator_limits``. Plain Python, no Locust: the tests
judge synthetic samples.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from perf_lib.thresholds import Level, Limit, Thresholds, worst
from reports.generator_limits import CPU_LIMIT_PCT, LAG_LIMIT_MS
from scenarios.arrivals import percentile
from scenarios.capacity_search import EndpointLevel, Trial

ERROR_RATE = "error_rate_pct"


@dataclass
class StepSamples:
    """What one step's steady part sent and saw, in one process or merged over several."""

    latencies_ms: dict[str, list[float]] = field(default_factory=dict)
    failures: dict[str, int] = field(default_factory=dict)
    lags_ms: list[float] = field(default_factory=list)
    sent: int = 0  # arrivals sent (their replies are in ``latencies_ms`` once they came)
    dropped: int = 0  # arrivals dropped at the in-flight limit
    cpu_max_pct: float = 0.0

    def add(self, name: str, latency_ms: float, failed: bool, lag_ms: float) -> None:
        self.latencies_ms.setdefault(name, []).append(latency_ms)
        self.failures[name] = self.failures.get(name, 0) + int(failed)
        self.lags_ms.append(lag_ms)

    @property
    def requests(self) -> int:
        return sum(len(times) for times in self.latencies_ms.values())

    def merge(self, other: StepSamples) -> None:
        for name, times in other.latencies_ms.items():
            self.latencies_ms.setdefault(name, []).extend(times)
            self.failures[name] = self.failures.get(name, 0) + other.failures.get(name, 0)
        self.lags_ms.extend(other.lags_ms)
        self.sent += other.sent
        self.dropped += other.dropped
        self.cpu_max_pct = max(self.cpu_max_pct, other.cpu_max_pct)

    def to_message(self) -> dict[str, Any]:
        return {
            "latencies_ms": self.latencies_ms,
            "failures": self.failures,
            "lags_ms": self.lags_ms,
            "sent": self.sent,
            "dropped": self.dropped,
            "cpu_max_pct": self.cpu_max_pct,
        }

    @classmethod
    def from_message(cls, data: dict[str, Any]) -> StepSamples:
        return cls(
            {str(k): [float(t) for t in v] for k, v in data["latencies_ms"].items()},
            {str(k): int(v) for k, v in data["failures"].items()},
            [float(t) for t in data["lags_ms"]],
            int(data["sent"]),
            int(data["dropped"]),
            float(data["cpu_max_pct"]),
        )


def judge_step(rate: float, samples: StepSamples, seconds: float, thresholds: Thresholds) -> Trial:
    """The step at ``rate`` whose steady part lasted ``seconds``: each endpoint's level and what
    set it, whether the generator kept up, and the figures. Arrivals that got no answer (dropped
    at the in-flight limit, or still waiting when the step is judged) count as errors."""
    endpoints = {
        name: _endpoint(name, times, samples.failures.get(name, 0), thresholds)
        for name, times in sorted(samples.latencies_ms.items())
        if times
    }
    unanswered = samples.dropped + max(0, samples.sent - samples.requests)
    arrivals = samples.requests + unanswered
    unanswered_pct = 100.0 * unanswered / arrivals if arrivals else 0.0
    level = worst(
        [e.level for e in endpoints.values()]
        + [thresholds.limits_for(None)[ERROR_RATE].level(unanswered_pct)]
    )
    everything = [t for times in samples.latencies_ms.values() for t in times]
    lag_p99 = percentile(samples.lags_ms, 0.99) if samples.lags_ms else 0.0
    return Trial(
        rate=rate,
        level=level,
        dropped=samples.dropped,
        # a step in which nothing was sent says nothing about the service
        generator_limited=arrivals == 0
        or lag_p99 > LAG_LIMIT_MS
        or samples.cpu_max_pct >= CPU_LIMIT_PCT,
        endpoints=endpoints,
        achieved_rps=samples.requests / seconds if seconds > 0 else None,
        p50_ms=_percentile(everything, 0.50),
        p95_ms=_percentile(everything, 0.95),
        p99_ms=_percentile(everything, 0.99),
    )


def _endpoint(name: str, times: list[float], failed: int, thresholds: Thresholds) -> EndpointLevel:
    """The endpoint's level and the metric that went furthest past the limit it crossed."""
    values = {
        "avg_ms": sum(times) / len(times),
        "p95_ms": percentile(times, 0.95),
        "p99_ms": percentile(times, 0.99),
        ERROR_RATE: 100.0 * failed / len(times),
    }
    checks = thresholds.check(values, endpoint=name)
    level = worst(checks.values())
    if level is Level.HEALTHY:
        return EndpointLevel(level)
    limits = thresholds.limits_for(name)
    metric = max(
        (m for m, lv in checks.items() if lv is level),
        key=lambda m: _excess(values[m], limits[m], level),
    )
    return EndpointLevel(level, metric, values[metric])


def _excess(value: float, limit: Limit, level: Level) -> float:
    crossed = limit.healthy if level is Level.DEGRADED else limit.degraded
    return value / crossed if crossed > 0 else math.inf


def _percentile(values: list[float], fraction: float) -> float | None:
    return percentile(values, fraction) if values else None
