"""The open model's arrivals: when each request is due, and what the generator did each second.

An open model sends requests on their own schedule, whatever the replies are doing, as real
clients of an API arrive. The schedule is plain arithmetic here, apart from Locust, so that
tests check it exactly: evenly spaced (``uniform``) or a seeded Poisson process, with the rate
shared among distributed workers by interleaving (worker i of n takes every n-th arrival of
the uniform schedule, or a Poisson process of rate/n).

After the last phase the arrivals go on at its rate: the recovery watch may extend that
phase, and the driver stops when Locust stops it.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterator
from dataclasses import dataclass, field

from scenarios.schedule import Schedule

UNIFORM = "uniform"
POISSON = "poisson"
ARRIVALS = (UNIFORM, POISSON)


def arrival_times(
    schedule: Schedule,
    start: float,
    arrivals: str = UNIFORM,
    seed: int | None = None,
    worker: int = 0,
    workers: int = 1,
    endless: bool = True,
) -> Iterator[float]:
    """Epoch seconds at which this worker's requests are due, in order. ``endless``: the last
    phase goes on until the test is stopped (a recovery the watch may extend); else the
    arrivals end with the schedule."""
    if arrivals not in ARRIVALS:
        raise ValueError(f"arrivals must be one of {', '.join(ARRIVALS)}, not {arrivals!r}")
    if not 0 <= worker < workers:
        raise ValueError(f"worker {worker} is not one of {workers}")
    rng = random.Random(None if seed is None else seed * 1_000_003 + worker)
    phase_start = start
    last = len(schedule.phases) - 1
    for index, phase in enumerate(schedule.phases):
        if phase.rate is None:
            raise ValueError(f"phase {phase.name!r} has no arrival rate")
        open_ended = endless and index == last
        end = math.inf if open_ended else phase_start + phase.duration_s
        if arrivals == UNIFORM:
            # Counted, not compared in time: k / rate < duration exactly when k < rate x
            # duration, so floating point never adds an arrival at a phase's boundary.
            due = math.inf if open_ended else phase.rate * phase.duration_s - 1e-9
            k = worker
            while k < due:
                yield phase_start + k / phase.rate
                k += workers
        else:
            at = phase_start
            while (at := at + rng.expovariate(phase.rate / workers)) < end:
                yield at
        phase_start = end


def percentile(values: list[float], fraction: float) -> float:
    """The nearest-rank percentile of ``values`` (not empty)."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(fraction * len(ordered)) - 1)]


@dataclass
class SecondTally:
    """What the generator meant to send and did in the current second (generator.csv)."""

    intended: int = 0
    sent: int = 0
    dropped: int = 0
    lags_ms: list[float] = field(default_factory=list)

    def record_sent(self, lag_s: float) -> None:
        self.intended += 1
        self.sent += 1
        self.lags_ms.append(max(0.0, lag_s) * 1000.0)

    def record_drop(self) -> None:
        self.intended += 1
        self.dropped += 1

    def row(self) -> dict[str, float | int | None]:
        """The second's figures; lags are None when nothing was sent."""
        lags = self.lags_ms
        return {
            "intended": self.intended,
            "sent": self.sent,
            "dropped": self.dropped,
            "lag_p50_ms": round(percentile(lags, 0.5), 3) if lags else None,
            "lag_p99_ms": round(percentile(lags, 0.99), 3) if lags else None,
        }
