"""Which series of a Prometheus text exposition the server sampler records, and their values.

Pure functions over the scraped text, parsed by prometheus_client's own parser, so the
format's corners (escaping, timestamps, OpenMetrics-style suffixes) are its business.
"""

from __future__ import annotations

from collections.abc import Sequence
from fnmatch import fnmatchcase

from prometheus_client.parser import text_string_to_metric_families

#: What is recorded when no pattern is given: the process's CPU time and memory, and the
#: request counters and in-flight gauges that the common instrumentation libraries export.
DEFAULT_PATTERNS: tuple[str, ...] = (
    "process_cpu_seconds_total",
    "process_resident_memory_bytes",
    "*in_flight*",
    "*inprogress*",
    "*requests_total",
)

#: Sample suffixes whose sum over label sets means nothing: cumulative histogram buckets
#: and creation timestamps.
_UNSUMMABLE_SUFFIXES = ("_bucket", "_created")


def _summable(name: str, labels: dict[str, str]) -> bool:
    """Whether a sample can be summed with its siblings; quantiles and buckets cannot."""
    return not name.endswith(_UNSUMMABLE_SUFFIXES) and "quantile" not in labels


def select_series(text: str, patterns: Sequence[str]) -> dict[str, float]:
    """Each sample name matching one of the fnmatch ``patterns``, summed over its label sets.

    Raises ValueError when ``text`` is not Prometheus text.
    """
    series: dict[str, float] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if _summable(sample.name, sample.labels) and any(
                fnmatchcase(sample.name, pattern) for pattern in patterns
            ):
                series[sample.name] = series.get(sample.name, 0.0) + sample.value
    return series
