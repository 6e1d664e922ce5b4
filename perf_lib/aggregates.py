"""Mergeable duration statistics: exact moments plus a log-bucket histogram.

The monitor keeps one ``Aggregate`` per minute and query type for samples that no longer fit
in its raw buffer. Count, failures, min, max, mean and variance merge exactly (Chan et al.'s
parallel update); percentiles come from a histogram whose buckets grow geometrically, so any
value read back from a bucket is within ``RELATIVE_ERROR`` of every value that fell into it,
whatever the scale (the DDSketch construction). Histograms of different minutes add up
bucket by bucket, which is what makes a rolling window of them cheap.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

#: Worst relative error of a percentile read from a histogram (half the 1 % promised).
RELATIVE_ERROR = 0.005
_GAMMA = (1 + RELATIVE_ERROR) / (1 - RELATIVE_ERROR)
_LOG_GAMMA = math.log(_GAMMA)
#: The range the buckets resolve, in ms: 1 ns to about 2.8 hours (~3,000 buckets). Shorter
#: durations share the zero bucket and longer ones the top bucket; percentiles are clamped to
#: the exact min and max, so only a percentile that falls among such values is coarser.
_SMALLEST_MS, _LARGEST_MS = 1e-6, 1e7
#: The bucket of durations under the smallest resolved one (a logarithm has none for zero).
ZERO_BUCKET = math.floor(math.log(_SMALLEST_MS) / _LOG_GAMMA) - 1


def bucket_of(values: np.ndarray) -> np.ndarray:
    """Bucket index of each value: bucket ``i`` holds (gamma**(i-1), gamma**i]."""
    clipped = np.clip(values, _SMALLEST_MS, _LARGEST_MS)
    buckets = np.ceil(np.log(clipped) / _LOG_GAMMA).astype(np.int32)
    buckets[values < _SMALLEST_MS] = ZERO_BUCKET
    return buckets


def bucket_value(buckets: np.ndarray) -> np.ndarray:
    """The representative value of each bucket, within RELATIVE_ERROR of its contents."""
    values = 2.0 * np.exp(buckets.astype(np.float64) * _LOG_GAMMA) / (_GAMMA + 1.0)
    return np.where(buckets == ZERO_BUCKET, 0.0, values)


def _histogram(
    buckets: np.ndarray, weights: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Sorted occupied buckets and their counts; a dense count beats sorting for ~3k buckets."""
    dense = np.bincount(buckets - ZERO_BUCKET, weights=weights)
    occupied = np.flatnonzero(dense)
    return (occupied + ZERO_BUCKET).astype(np.int32), dense[occupied].astype(np.int64)


@dataclass(slots=True)
class Aggregate:
    """Statistics of a set of durations (ms) that merge without the durations themselves."""

    count: int
    failures: int
    mean: float
    m2: float  # sum of squared deviations from the mean
    min: float
    max: float
    buckets: np.ndarray  # sorted unique bucket indexes (int32)
    counts: np.ndarray  # samples per bucket (int64)

    @classmethod
    def of(cls, durations: np.ndarray, failed: np.ndarray) -> Aggregate:
        """The aggregate of a non-empty array of durations and their failure flags."""
        mean = float(durations.mean())
        buckets, counts = _histogram(bucket_of(durations))
        return cls(
            count=int(durations.size),
            failures=int(np.count_nonzero(failed)),
            mean=mean,
            m2=float(np.square(durations - mean).sum()),
            min=float(durations.min()),
            max=float(durations.max()),
            buckets=buckets,
            counts=counts,
        )

    def merge(self, other: Aggregate) -> Aggregate:
        merged = merge_all((self, other))
        assert merged is not None
        return merged

    @property
    def stdev(self) -> float:
        """Sample standard deviation (n - 1), as ``statistics.stdev`` gives."""
        return math.sqrt(self.m2 / (self.count - 1)) if self.count > 1 else 0.0

    def percentiles(self, qs: Sequence[float]) -> list[float]:
        """Percentiles as numpy's default (linear) method defines them, read from the buckets.

        The two order statistics around each rank are estimated from their buckets and then
        interpolated, so the result keeps the buckets' relative error bound.
        """
        cumulative = np.cumsum(self.counts)
        values = np.clip(bucket_value(self.buckets), self.min, self.max)
        results = []
        for q in qs:
            rank = q / 100.0 * (self.count - 1)
            low, high = math.floor(rank), math.ceil(rank)
            at = np.searchsorted(cumulative, [low, high], side="right")
            low_value, high_value = values[at[0]], values[at[1]]
            results.append(float(low_value + (high_value - low_value) * (rank - low)))
        return results

    def above(self, threshold: float) -> tuple[int, float, float]:
        """(count, mean, max) of the durations above ``threshold``, read from the buckets."""
        values = np.clip(bucket_value(self.buckets), self.min, self.max)
        slow = values > threshold
        count = int(self.counts[slow].sum())
        if not count:
            return 0, 0.0, 0.0
        return count, float((values[slow] * self.counts[slow]).sum() / count), self.max


def merge_all(aggregates: Iterable[Aggregate]) -> Aggregate | None:
    """One aggregate of many (None when there are none): moments pairwise, buckets at once."""
    parts = list(aggregates)
    if not parts:
        return None
    count, failures, mean, m2 = 0, 0, 0.0, 0.0
    for part in parts:
        total = count + part.count
        delta = part.mean - mean
        mean += delta * part.count / total
        m2 += part.m2 + delta * delta * count * part.count / total
        count, failures = total, failures + part.failures
    buckets, counts = _add_histograms([p.buckets for p in parts], [p.counts for p in parts])
    return Aggregate(
        count=count,
        failures=failures,
        mean=mean,
        m2=m2,
        min=min(p.min for p in parts),
        max=max(p.max for p in parts),
        buckets=buckets,
        counts=counts,
    )


def _add_histograms(
    buckets: Sequence[np.ndarray], counts: Sequence[np.ndarray]
) -> tuple[np.ndarray, np.ndarray]:
    if len(buckets) == 1:
        return buckets[0], counts[0]
    return _histogram(np.concatenate(buckets), np.concatenate(counts).astype(np.float64))


@dataclass
class Samples:
    """The raw durations of a window: the same questions as ``Aggregate``, answered exactly."""

    durations: np.ndarray
    failed: np.ndarray

    @property
    def count(self) -> int:
        return int(self.durations.size)

    @property
    def failures(self) -> int:
        return int(np.count_nonzero(self.failed))

    @property
    def mean(self) -> float:
        return float(self.durations.mean())

    @property
    def min(self) -> float:
        return float(self.durations.min())

    @property
    def max(self) -> float:
        return float(self.durations.max())

    @property
    def stdev(self) -> float:
        return float(self.durations.std(ddof=1)) if self.durations.size > 1 else 0.0

    def percentiles(self, qs: Sequence[float]) -> list[float]:
        """numpy's default (linear) percentiles; one sort is cheaper than its partitions."""
        ordered = np.sort(self.durations)
        ranks = np.asarray(qs, dtype=np.float64) / 100.0 * (ordered.size - 1)
        low = np.floor(ranks).astype(np.int64)
        high = np.ceil(ranks).astype(np.int64)
        values = ordered[low] + (ordered[high] - ordered[low]) * (ranks - low)
        return [float(v) for v in values]

    def above(self, threshold: float) -> tuple[int, float, float]:
        slow = self.durations[self.durations > threshold]
        if not slow.size:
            return 0, 0.0, 0.0
        return int(slow.size), float(slow.mean()), float(slow.max())
