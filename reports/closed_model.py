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

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from reports.analysis import Analysis
from reports.phases import Phase, by_role
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


#: A one-second window whose slowest request took this many times the run's p95 saw the
#: service stop, not merely slow down: a stall, a pause, a queue draining.
STALL_FACTOR = 4.0
#: Slow periods, at least, before the run is said to hide anything: one can be chance.
MIN_HELD_PERIODS = 2
#: Windows of one second slide by this step: a stall shorter than a second lies wholly inside
#: some window however it falls on the clock, so its missing requests show in full.
STEP_S = 0.1
_STEPS = round(1.0 / STEP_S)


@dataclass(frozen=True)
class HeldSeconds:
    """Slow periods of a steady phase: the users sent less while a reply stalled."""

    periods: int  # separate stretches of held-back windows
    judged_s: int  # seconds of steady phases looked at
    median_sent: float  # requests sent in a typical second
    fewest_sent: int  # in the emptiest held-back second
    slowest_ms: float


def held_back_seconds(
    timestamps: np.ndarray, response_ms: np.ndarray, phases: list[Phase]
) -> HeldSeconds | None:
    """Inside each phase (its first and last second left out: ramps), the one-second windows
    in which the users sent ``RATE_FALL_SHARE`` fewer requests than in the phase's median
    window while some request took ``STALL_FACTOR`` times the run's p95: slow periods a closed
    model hid, however short. None with fewer than ``MIN_HELD_PERIODS`` of them."""
    if len(timestamps) == 0:
        return None
    p95 = float(np.percentile(response_ms, 95))
    periods, judged, fewest, medians, slowest = 0, 0, [], [], 0.0
    for phase in phases:
        first, last = phase.start + 1.0, phase.end - 1.0
        bins = int((last - first) / STEP_S)
        if bins < 3 * _STEPS:
            continue
        inside = (timestamps >= first) & (timestamps < first + bins * STEP_S)
        index = ((timestamps[inside] - first) / STEP_S).astype(np.int64)
        sent = np.bincount(index, minlength=bins)
        worst = np.zeros(bins)
        np.maximum.at(worst, index, response_ms[inside])
        window_sent = sliding_window_view(sent, _STEPS).sum(axis=1)
        window_worst = sliding_window_view(worst, _STEPS).max(axis=1)
        median = float(np.median(window_sent))
        held = (window_sent < (1.0 - RATE_FALL_SHARE) * median) & (
            window_worst > STALL_FACTOR * p95
        )
        judged += bins // _STEPS
        if held.any():
            periods += int(held[0]) + int(np.count_nonzero(held[1:] & ~held[:-1]))
            fewest.append(int(window_sent[held].min()))
            slowest = max(slowest, float(window_worst[held].max()))
            medians.append(median)
    if periods < MIN_HELD_PERIODS:
        return None
    return HeldSeconds(periods, judged, float(np.median(medians)), min(fewest), slowest)
