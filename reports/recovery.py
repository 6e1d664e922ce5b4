"""Degradation and recovery of a spike, as pure functions.

Both are measured against the baseline phase's p95 and error rate, its warm-up left out
(``baseline_window``). Recovery is read from a per-second series that starts at the end of the
spike and runs to the end of the recovery phase. Each sample
``k`` (seconds after the spike's end) pools the requests *sent* in ``[k, k + 3)`` and takes
their exact p95 and error rate. Why a 3 s window: at the kit's normal load (10 users) a single
second holds about ten requests, so its "p95" is its slowest request and one stray slow
response would reset the count; three seconds hold ~30 requests, enough for the p95 to ignore
one outlier. The window looks forward from its sample so that the recovery time is the start of
the data that shows health, without the lag of a trailing window (Locust's own is 10 s).

"Errors within the baseline's rate" is judged on counts: a window may hold at most as many
failures as the baseline rate predicts for its number of requests, rounded up. After a baseline
without failures a single failure still means "not recovered"; with a 1.4 % background
rate, a window of 138 requests may hold two (1.45 %) without the noise of single failures
resetting the count.

A second in which no request was sent is no sample: it neither counts towards the three
consecutive healthy samples nor breaks a run of them (a stalled server shows up instead as the
slow responses of the requests that were waiting).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from perf_lib.thresholds import Level, RecoveryLimits

WINDOW_S = 3
CONSECUTIVE = 3
#: The first share of the baseline phase is its warm-up (cold cache, connection set-up, JIT'd
#: paths): it is left out of the baseline p95 that degradation and recovery are measured from.
#: A fixed share rather than a cache signal, so that the same rule holds for any target and for
#: the live recovery watch in the load generator, which sees no cache headers.
WARMUP_SHARE = 0.2
WARMUP_METHOD = f"first {WARMUP_SHARE * 100:g} % of the baseline phase left out (warm-up)"


@dataclass(frozen=True)
class Sample:
    """One recovery sample: ``offset_s`` after the spike's end."""

    offset_s: int
    requests: int
    failures: int
    p95_ms: float
    ok: bool = False

    @property
    def error_rate_pct(self) -> float:
        return self.failures / self.requests * 100.0 if self.requests else 0.0


@dataclass(frozen=True)
class Recovery:
    """The outcome: ``seconds`` is None when the system never got back to normal."""

    seconds: int | None
    level: Level
    baseline_p95_ms: float
    limit_p95_ms: float
    baseline_error_rate_pct: float
    searched_s: float
    samples: tuple[Sample, ...]
    method: str

    @property
    def status(self) -> str:
        return "recovered" if self.seconds is not None else "not recovered"


#: What every output says beside the degradation figure: it is context, not a judged metric.
DEGRADATION_NOTE = (
    "degradation has no threshold; the verdict comes from the thresholds and the recovery"
)


def degradation_pct(baseline_p95: float, spike_p95: float) -> float | None:
    """Spike p95 / baseline p95 - 1, in %; None when either is missing or the baseline is 0."""
    if not all(map(_finite, (baseline_p95, spike_p95))) or baseline_p95 <= 0:
        return None
    return (spike_p95 / baseline_p95 - 1.0) * 100.0


def baseline_window(start: float, end: float) -> tuple[float, float]:
    """The part of the baseline phase ``[start, end)`` that its p95 is taken from."""
    return start + (end - start) * WARMUP_SHARE, end


def exact_samples(
    ts: np.ndarray,
    response_ms: np.ndarray,
    failed: np.ndarray,
    spike_end: float,
    search_end: float,
    window_s: int = WINDOW_S,
) -> list[Sample]:
    """Forward-window samples from a send-time-sorted request log, one per non-empty second."""
    first = int(np.searchsorted(ts, spike_end, side="left"))
    last = int(np.searchsorted(ts, search_end, side="right"))
    offsets = np.floor(ts[first:last] - spike_end).astype(np.int64)
    rt = response_ms[first:last]
    bad = failed[first:last]
    seconds, starts = np.unique(offsets, return_index=True)
    ends = np.searchsorted(offsets, seconds + window_s, side="left")
    samples = []
    for k, a, b in zip(seconds, starts, ends, strict=True):
        window = rt[a:b]
        samples.append(
            Sample(int(k), int(b - a), int(bad[a:b].sum()), float(np.percentile(window, 95)))
        )
    return samples


def allowed_failures(baseline_error_rate_pct: float, requests: int) -> int:
    """Failures that ``requests`` may hold at the baseline's rate, rounded up."""
    return math.ceil(baseline_error_rate_pct / 100.0 * requests - 1e-9)


def find_recovery(
    samples: Sequence[Sample],
    baseline_p95_ms: float,
    baseline_error_rate_pct: float,
    limits: RecoveryLimits,
    searched_s: float,
    method: str,
) -> Recovery:
    """The first run of ``CONSECUTIVE`` healthy samples; its first sample is the recovery time."""
    limit = limits.p95_limit_ms(baseline_p95_ms)
    marked = tuple(
        Sample(
            s.offset_s,
            s.requests,
            s.failures,
            s.p95_ms,
            ok=s.p95_ms <= limit + 1e-9
            and s.failures <= allowed_failures(baseline_error_rate_pct, s.requests),
        )
        for s in samples
    )
    seconds: int | None = None
    streak = 0
    for i, sample in enumerate(marked):
        streak = streak + 1 if sample.ok else 0
        if streak == CONSECUTIVE:
            seconds = marked[i - CONSECUTIVE + 1].offset_s
            break
    return Recovery(
        seconds=seconds,
        level=limits.level(seconds),
        baseline_p95_ms=baseline_p95_ms,
        limit_p95_ms=limit,
        baseline_error_rate_pct=baseline_error_rate_pct,
        searched_s=searched_s,
        samples=marked,
        method=method,
    )


def _finite(value: float | None) -> bool:
    return value is not None and math.isfinite(value)
