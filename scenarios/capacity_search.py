"""The state machine of a capacity search: which arrival rate to try next, and what the answer is.

The kit steps an open-model arrival rate up to find the highest rate at which the service stays
healthy. Running and judging each step needs Locust and a clock; deciding the next rate needs
neither, so it lives here, pure, and the tests drive it with simulated services.

The search ramps geometrically (``start_rate * factor**k``, capped at ``max_rate``), steps down
by the factor when the first rate already fails, and bisects geometrically between the highest
held and the lowest failed rate until they are within ``precision`` of each other. A rate
counts as held only after ``confirmations`` healthy trials in a row, so one lucky pass above
the knee cannot raise the answer; one failing trial fails it at once, so the answer only errs
low. A trial whose load generator fell behind ends the search: the service was not measured at
that rate, and the kit never claims a limit it did not reach.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from perf_lib.thresholds import Level

LIMITED_BY_SERVICE = "service"
LIMITED_BY_GENERATOR = "generator"
LIMITED_BY_MAX_RATE = "max_rate"

OUTCOME_HELD = "held"
OUTCOME_FAILED = "failed"
#: The rate is still being confirmed (the search goes on at it).
OUTCOME_PENDING = "pending"
#: The generator fell behind at this rate, so it was neither held nor failed.
OUTCOME_UNJUDGED = "unjudged"


@dataclass(frozen=True)
class EndpointLevel:
    level: Level
    metric: str | None = None  # the metric that set a non-healthy level, e.g. "p95_ms"
    value: float | None = None


@dataclass(frozen=True)
class Trial:
    """One step at one rate, judged on its steady part."""

    rate: float  # offered arrivals per second
    level: Level  # worst threshold level of the step (the judge counts drops as errors)
    dropped: int = 0
    generator_limited: bool = False
    endpoints: Mapping[str, EndpointLevel] = field(default_factory=dict)
    # Figures carried through to the answer's step table:
    achieved_rps: float | None = None
    p50_ms: float | None = None
    p95_ms: float | None = None
    p99_ms: float | None = None

    def __post_init__(self) -> None:
        if not (_is_number(self.rate) and 0 < self.rate < math.inf):
            raise ValueError(f"rate must be a finite number > 0, not {self.rate!r}")
        if not (_is_whole(self.dropped) and self.dropped >= 0):
            raise ValueError(f"dropped must be a count >= 0, not {self.dropped!r}")

    @property
    def held(self) -> bool:
        """Healthy, nothing dropped, and the generator kept up."""
        return self.level == Level.HEALTHY and self.dropped == 0 and not self.generator_limited


@dataclass(frozen=True)
class SearchSettings:
    start_rate: float  # the first rate tried, > 0
    max_rate: float  # the highest rate ever tried, >= start_rate
    factor: float = 1.5  # > 1: the ramp's (and the step down's) geometric step
    precision: float = 0.05  # 0 < p < 1: done when lowest failed / highest held <= 1 + p
    confirmations: int = 2  # a rate counts as held only once it held this many times in a row
    floor_rate: float = 1.0  # > 0: stepping down stops before a rate below this

    def __post_init__(self) -> None:
        for name in ("start_rate", "max_rate", "factor", "precision", "floor_rate"):
            value = getattr(self, name)
            if not (_is_number(value) and math.isfinite(value)):
                raise ValueError(f"{name} must be a finite number, not {value!r}")
        if self.start_rate <= 0:
            raise ValueError(f"start_rate must be > 0, not {self.start_rate!r}")
        if self.max_rate < self.start_rate:
            raise ValueError(f"max_rate {self.max_rate!r} is below start_rate {self.start_rate!r}")
        if self.factor <= 1:
            raise ValueError(f"factor must be > 1, not {self.factor!r}")
        if not 0 < self.precision < 1:
            raise ValueError(
                f"precision must be between 0 and 1 (exclusive), not {self.precision!r}"
            )
        if not (_is_whole(self.confirmations) and self.confirmations >= 1):
            raise ValueError(
                f"confirmations must be a whole number >= 1, not {self.confirmations!r}"
            )
        if self.floor_rate <= 0:
            raise ValueError(f"floor_rate must be > 0, not {self.floor_rate!r}")


@dataclass(frozen=True)
class StepRecord:
    """One trial as the search saw it: which run of its rate it was, and what became of the rate."""

    trial: Trial
    repetition: int  # 1-based: the trial's place in its rate's run of back-to-back trials
    outcome: str  # the rate's outcome: held, failed, pending or unjudged

    @property
    def held(self) -> bool:
        return self.trial.held

    def to_dict(self) -> dict[str, Any]:
        trial = self.trial
        return {
            "rate": trial.rate,
            "repetition": self.repetition,
            "held": trial.held,
            "outcome": self.outcome,
            "level": trial.level.label,
            "dropped": trial.dropped,
            "generator_limited": trial.generator_limited,
            "achieved_rps": trial.achieved_rps,
            "p50_ms": trial.p50_ms,
            "p95_ms": trial.p95_ms,
            "p99_ms": trial.p99_ms,
            "endpoints": {
                name: {"level": e.level.label, "metric": e.metric, "value": e.value}
                for name, e in trial.endpoints.items()
            },
        }


@dataclass(frozen=True)
class Break:
    """The lowest rate at which an endpoint left healthy, and what it broke on there."""

    endpoint: str
    rate: float
    level: Level
    metric: str | None = None
    value: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "endpoint": self.endpoint,
            "rate": self.rate,
            "metric": self.metric,
            "value": self.value,
            "level": self.level.label,
        }


@dataclass(frozen=True)
class Answer:
    """What the search found so far; ``complete`` once it is over.

    ``healthy_rps`` is the highest held rate; ``failing_rps`` the lowest rate that failed for
    the service (a generator-limited trial never counts). When ``limited_by`` is "generator"
    the healthy rate is only a lower bound.
    """

    healthy_rps: float | None
    failing_rps: float | None
    limited_by: str | None  # service, generator or max_rate; None while not complete
    complete: bool
    first_to_break: tuple[Break, ...]
    steps: tuple[StepRecord, ...]

    @property
    def trials(self) -> tuple[Trial, ...]:
        return tuple(step.trial for step in self.steps)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready data: levels as labels, rates unrounded."""
        return {
            "healthy_rps": self.healthy_rps,
            "failing_rps": self.failing_rps,
            "limited_by": self.limited_by,
            "complete": self.complete,
            "first_to_break": [b.to_dict() for b in self.first_to_break],
            "steps": [step.to_dict() for step in self.steps],
        }


class CapacitySearch:
    """Ask ``next_rate()``, run a trial at it, ``record()`` the judged trial; until ``done``."""

    def __init__(self, settings: SearchSettings) -> None:
        self.settings = settings
        self._rate: float | None = settings.start_rate
        self._passes = 0  # held trials in a row at the current rate
        self._highest_held: float | None = None
        self._lowest_failed: float | None = None
        self._limited_by: str | None = None
        self._trials: list[tuple[Trial, int]] = []
        self._outcomes: dict[float, str] = {}  # each rate is tried in one run only

    @property
    def done(self) -> bool:
        return self._rate is None

    def next_rate(self) -> float | None:
        """The rate of the next trial; None once the search is over."""
        return self._rate

    def record(self, trial: Trial) -> None:
        """Take the judged trial run at the rate ``next_rate()`` gave."""
        if self._rate is None:
            raise ValueError(f"the search is over: no trial was due at rate {trial.rate!r}")
        if trial.rate != self._rate:
            raise ValueError(f"expected a trial at rate {self._rate!r}, not {trial.rate!r}")
        rate = self._rate
        self._trials.append((trial, self._passes + 1))
        if trial.generator_limited:
            self._outcomes[rate] = OUTCOME_UNJUDGED
            self._finish(LIMITED_BY_GENERATOR)
        elif not trial.held:
            self._outcomes[rate] = OUTCOME_FAILED
            self._lowest_failed = rate  # below any earlier failure: nothing above one is tried
            self._advance()
        else:
            self._passes += 1
            if self._passes < self.settings.confirmations:
                return  # run the same rate again before believing it
            self._outcomes[rate] = OUTCOME_HELD
            self._highest_held = rate
            self._advance()

    def answer(self) -> Answer:
        return Answer(
            healthy_rps=self._highest_held,
            failing_rps=self._lowest_failed,
            limited_by=self._limited_by,
            complete=self.done,
            first_to_break=first_to_break(t for t, _ in self._trials),
            steps=tuple(
                StepRecord(t, repetition, self._outcomes.get(t.rate, OUTCOME_PENDING))
                for t, repetition in self._trials
            ),
        )

    def _advance(self) -> None:
        """Move on from a decided rate: ramp, step down, bisect, or finish."""
        s = self.settings
        held, failed = self._highest_held, self._lowest_failed
        if failed is None:
            assert held is not None  # a rate was just decided, and it did not fail
            if held >= s.max_rate:
                self._finish(LIMITED_BY_MAX_RATE)
            else:
                self._try(min(held * s.factor, s.max_rate))
        elif held is None:
            lower = failed / s.factor
            if lower < s.floor_rate:
                self._finish(LIMITED_BY_SERVICE)
            else:
                self._try(lower)
        elif failed / held <= 1 + s.precision:
            self._finish(LIMITED_BY_SERVICE)
        else:
            middle = held * math.sqrt(failed / held)  # the geometric mean, without overflow
            if held < middle < failed:
                self._try(middle)
            else:  # the bracket is as narrow as floats go
                self._finish(LIMITED_BY_SERVICE)

    def _try(self, rate: float) -> None:
        self._rate = rate
        self._passes = 0

    def _finish(self, limited_by: str) -> None:
        self._rate = None
        self._limited_by = limited_by


def first_to_break(trials: Iterable[Trial]) -> tuple[Break, ...]:
    """Per endpoint that left healthy, the lowest rate at which it did, lowest rate first.

    Trials whose generator fell behind are left out: their latencies measure the generator as
    much as the service. Ties on rate put the worse level first, then go by name.
    """
    lowest: dict[str, Break] = {}
    for trial in trials:
        if trial.generator_limited:
            continue
        for name, endpoint in trial.endpoints.items():
            if endpoint.level == Level.HEALTHY:
                continue
            found = Break(name, trial.rate, endpoint.level, endpoint.metric, endpoint.value)
            known = lowest.get(name)
            if known is None or (found.rate, -found.level) < (known.rate, -known.level):
                lowest[name] = found
    return tuple(sorted(lowest.values(), key=lambda b: (b.rate, -b.level, b.endpoint)))


def _is_number(value: object) -> bool:
    """An int or a float; a bool is not a number here."""
    return isinstance(value, int | float) and not isinstance(value, bool)


def _is_whole(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)
