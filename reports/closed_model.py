"""What a closed-model run may hide: the requests its users never sent while they waited.

A closed-model user sends its next request only when the previous reply came. When the service
slows down, each user sends less, so fewer requests meet the slow period than would have arrived
on their own schedule, and the percentiles under-count it (coordinated omission). Its trace is a
phase whose rate per user fell against the baseline while its latency rose: then the run's
figures are a floor, and an open-model run would show the rest.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from reports.analysis import Analysis
from reports.phases import by_role
from reports.run_format import ROLE_BASELINE

#: The fall of a phase's requests per user and second, against the baseline, beyond which its
#: users were held back by the service rather than by their own pacing. Random think time
#: (e.g. 15-25 ms around 20 ms) and the spawn ramp at a phase's start move the rate per user by
#: well under a third; a fall of more than 30 % is the users waiting for replies.
RATE_FALL_SHARE = 0.30


@dataclass(frozen=True)
class HeldBack:
    """A phase whose users sent less while the service answered more slowly."""

    phase: str
    baseline: str
    rate_per_user: float
    baseline_rate_per_user: float
    p95_ms: float
    baseline_p95_ms: float

    @property
    def fall_pct(self) -> float:
        return (1.0 - self.rate_per_user / self.baseline_rate_per_user) * 100.0


def held_back(analysis: Analysis) -> list[HeldBack]:
    """Every phase whose rate per user fell by more than ``RATE_FALL_SHARE`` against the
    baseline phase (the first phase when none has that role) while its p95 rose. Phases without
    a user count or without requests are not judged."""
    phases, table = analysis.phases, analysis.phase_table
    if len(phases) < 2 or len(table) < len(phases):
        return []
    base = by_role(phases, ROLE_BASELINE)
    base = 0 if base is None else base

    def figures(i: int) -> tuple[float, float]:
        users = phases[i].users
        rate = float(table["rps"].iloc[i]) / users if users else math.nan
        return rate, float(table["p95_ms"].iloc[i])

    base_rate, base_p95 = figures(base)
    if not (math.isfinite(base_rate) and base_rate > 0 and math.isfinite(base_p95)):
        return []
    found = []
    for i, phase in enumerate(phases):
        rate, p95 = figures(i)
        if i == base or not (math.isfinite(rate) and math.isfinite(p95)):
            continue
        if rate < (1.0 - RATE_FALL_SHARE) * base_rate and p95 > base_p95:
            found.append(HeldBack(phase.name, phases[base].name, rate, base_rate, p95, base_p95))
    return found
