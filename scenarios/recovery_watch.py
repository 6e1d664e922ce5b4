"""The live recovery watch: how long a spike's recovery phase must run to show the recovery.

A recovery phase of fixed length cuts off a slow recovery: the report then says "not
recovered" although the service was only slow to get back. So the recovery phase runs at
least its scheduled length and then goes on at the recovery load until the service is seen
back to normal for the confirming samples, or at the latest until a recovery that began
``degraded_s`` after the spike (the last that is not critical) could have been confirmed.

The watch runs where the load shape runs: the local runner, or the master of a distributed
run, which sees no request events, only the statistics its workers report. So it reads
Locust's own cumulative totals once a tick (request and failure counts and the rounded
response-time histogram) and works on their differences. Each difference is put in the
second after the spike's end that holds the middle of its tick interval; a sample pools
``WINDOW_S`` such seconds and is judged with the report's own rule (``find_recovery``).
Locust files a request when it completes, the report by when it was sent; after a spike the
two differ by about one response time, which is why the run goes on ``MARGIN_S`` past what
the watch needs itself. This module imports no Locust, so the tests feed it synthetic data.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

from perf_lib.thresholds import RecoveryLimits
from reports.recovery import CONSECUTIVE, WINDOW_S, Recovery, Sample, baseline_window, find_recovery

#: Seconds of requests the report needs after a recovery's first second to confirm it: the
#: confirming samples and the forward window of the last one.
CONFIRM_S = CONSECUTIVE - 1 + WINDOW_S
#: Extra seconds the run goes on after the watch has confirmed a recovery (see above).
MARGIN_S = 1.0
#: How late the master of a distributed run sees its workers' requests: they report their
#: statistics every 3 s (Locust's ``WORKER_REPORT_INTERVAL``).
DISTRIBUTED_LAG_S = 3.0
METHOD = (
    f"live: Locust's cumulative statistics differenced each tick, {WINDOW_S} s windows, "
    f"{CONSECUTIVE} consecutive samples needed"
)

Histogram = Mapping[int, int]


@dataclass(frozen=True)
class Interval:
    """What completed between two ticks, filed at the middle of the interval."""

    at: float
    requests: int
    failures: int
    histogram: dict[int, int]


def percentile_ms(histogram: Histogram, fraction: float) -> float | None:
    """The nearest-rank percentile of a response-time histogram; None when it is empty."""
    total = sum(histogram.values())
    if total <= 0:
        return None
    rank = max(1, math.ceil(fraction * total - 1e-9))
    seen = 0
    for value in sorted(histogram):
        seen += histogram[value]
        if seen >= rank:
            return float(value)
    return float(max(histogram))


def pooled(intervals: list[Interval]) -> tuple[int, int, dict[int, int]]:
    """Requests, failures and the merged histogram of ``intervals``."""
    histogram: dict[int, int] = {}
    for interval in intervals:
        for value, count in interval.histogram.items():
            histogram[value] = histogram.get(value, 0) + count
    return (
        sum(i.requests for i in intervals),
        sum(i.failures for i in intervals),
        histogram,
    )


def extension_limit_s(limits: RecoveryLimits, recovery_s: float, lag_s: float = 0.0) -> float:
    """The most a recovery phase of ``recovery_s`` can be extended by (``limits`` scaled)."""
    return max(0.0, limits.degraded_s + CONFIRM_S + MARGIN_S + lag_s - recovery_s)


class RecoveryWatch:
    """Fed Locust's cumulative totals every tick; says when the recovery phase may end.

    ``limits`` are already scaled by the run's time scale; ``recovery_s`` is the scheduled
    length of the recovery phase; ``lag_s`` how late the totals arrive (distributed runs).
    """

    def __init__(self, limits: RecoveryLimits, recovery_s: float, lag_s: float = 0.0) -> None:
        self.limits = limits
        self.recovery_s = recovery_s
        self.lag_s = lag_s
        self.intervals: list[Interval] = []
        self.baseline: tuple[float, float] | None = None  # p95 ms, error rate %
        self.spike_end: float | None = None
        self.latest: float | None = None
        self._previous: tuple[float, int, int, dict[int, int]] | None = None

    @property
    def margin_s(self) -> float:
        return MARGIN_S + self.lag_s

    def observe(self, now: float, requests: int, failures: int, histogram: Histogram) -> None:
        """Locust's cumulative totals at ``now``; the first call only sets the starting point."""
        current = (now, requests, failures, dict(histogram))
        previous, self._previous, self.latest = self._previous, current, now
        if previous is None:
            return
        then, old_requests, old_failures, old_histogram = previous
        if requests < old_requests:  # statistics were reset: count from zero again
            old_requests, old_failures, old_histogram = 0, 0, {}
        difference = {
            value: count - old_histogram.get(value, 0)
            for value, count in histogram.items()
            if count != old_histogram.get(value, 0)
        }
        self.intervals.append(
            Interval((then + now) / 2, requests - old_requests, failures - old_failures, difference)
        )

    def baseline_phase(self, start: float, end: float) -> tuple[float, float] | None:
        """Set the baseline from what completed in the baseline phase ``[start, end)``.

        Its warm-up is left out, as in the report (``baseline_window``).
        """
        low, high = baseline_window(start, end)
        requests, failures, histogram = pooled([i for i in self.intervals if low <= i.at < high])
        p95 = percentile_ms(histogram, 0.95)
        self.baseline = None if p95 is None else (p95, failures / requests * 100.0)
        return self.baseline

    def spike_ended(self, at: float) -> None:
        self.spike_end = at

    @property
    def deadline(self) -> float | None:
        """When the recovery phase ends at the latest: a recovery that begins at ``degraded_s``
        still counts, and the report needs the seconds that confirm it."""
        if self.spike_end is None:
            return None
        return self.spike_end + self.limits.degraded_s + CONFIRM_S + self.margin_s

    def samples(self) -> list[Sample]:
        """One sample per second after the spike whose whole window has been seen."""
        if self.spike_end is None or self.latest is None:
            return []
        seconds: dict[int, list[Interval]] = {}
        for interval in self.intervals:
            if interval.at >= self.spike_end:
                seconds.setdefault(int(interval.at - self.spike_end), []).append(interval)
        complete = math.floor(self.latest - self.spike_end) - WINDOW_S  # last whole window
        samples = []
        for k in range(complete + 1):
            window = [i for s in range(k, k + WINDOW_S) for i in seconds.get(s, [])]
            requests, failures, histogram = pooled(window)
            p95 = percentile_ms(histogram, 0.95)
            if requests > 0 and p95 is not None:
                samples.append(Sample(k, requests, failures, p95))
        return samples

    def recovery(self) -> Recovery | None:
        """The report's rule over the samples so far; None before the spike or without a
        baseline."""
        if self.spike_end is None or self.baseline is None or self.latest is None:
            return None
        p95, error_rate = self.baseline
        searched = max(0.0, self.latest - self.spike_end)
        return find_recovery(self.samples(), p95, error_rate, self.limits, searched, METHOD)

    def recovered_after_s(self) -> int | None:
        found = self.recovery()
        return None if found is None else found.seconds

    def ends_at(self) -> float | None:
        """When the recovery phase may end: the scheduled end, the confirmed recovery plus the
        margin, or the deadline; None before the spike. Without a baseline there is nothing to
        watch for, so the schedule alone decides."""
        if self.spike_end is None:
            return None
        scheduled = self.spike_end + self.recovery_s
        if self.baseline is None:
            return scheduled
        seconds = self.recovered_after_s()
        assert self.deadline is not None
        if seconds is None:
            return self.deadline
        confirmed = self.spike_end + seconds + CONFIRM_S + self.margin_s
        return max(scheduled, min(confirmed, self.deadline))

    def done(self, now: float) -> bool:
        """Whether the recovery phase may end at ``now``."""
        end = self.ends_at()
        return end is not None and now >= end
