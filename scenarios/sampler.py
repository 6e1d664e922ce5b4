"""The server-side sampler: which view of the service to record, and one row a second of it.

The report sets the server's view beside the client's, and a soak run shows whether memory
stays flat. The view is the reference API's own summary or any Prometheus endpoint; when
neither answers, the run goes on unsampled and says why: a target without either is still
worth load-testing.
"""

from __future__ import annotations

import csv
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests

from scenarios.prometheus_text import DEFAULT_PATTERNS
from scenarios.server_sources import (
    SUMMARY_PATH,
    HttpClient,
    PrometheusSource,
    ReferenceSource,
    Source,
    scrape,
)


@dataclass(frozen=True)
class ServerSide:
    """The chosen source and how run.json names it, or why nothing is sampled."""

    source: Source | None  # None: not sampled
    description: str | None  # run.json's server_source
    note: str | None  # run.json's server_note when not sampled: one line


def choose_server_side(
    host: str, prometheus: str | None, patterns: Sequence[str], headers: Mapping[str, str]
) -> ServerSide:
    """Probe once: the ``prometheus`` URL when given, else the reference API on ``host``.

    ``patterns`` select Prometheus series (``DEFAULT_PATTERNS`` when empty); ``headers`` go
    with every request to ``host``'s origin. A source that does not answer usably gives a
    note, never an exception.
    """
    client = HttpClient(host, headers)
    if prometheus is None:
        side = _reference_side(client)
    else:
        side = _prometheus_side(client, prometheus, tuple(patterns) or DEFAULT_PATTERNS)
    if side.source is None:
        client.close()
    return side


def _reference_side(client: HttpClient) -> ServerSide:
    source = ReferenceSource(client)
    try:
        source.sample()
    except ValueError as exc:
        return ServerSide(None, None, f"no --prometheus URL, and {exc}")
    return ServerSide(source, f"reference API {SUMMARY_PATH}", None)


def _prometheus_side(client: HttpClient, url: str, patterns: tuple[str, ...]) -> ServerSide:
    """The columns are the series of this first scrape, sorted by name."""
    try:
        series = scrape(client, url, patterns)
    except ValueError as exc:
        return ServerSide(None, None, str(exc))
    if not series:
        return ServerSide(None, None, f"{url} has no series matching {', '.join(patterns)}")
    source = PrometheusSource(client, url, patterns, sorted(series))
    return ServerSide(source, f"Prometheus {url} ({len(series)} series)", None)


def history_row(
    now: float, values: Mapping[str, float | None], columns: Sequence[str]
) -> list[Any]:
    """One server_history.csv row: the timestamp, then each column's value or an empty cell."""
    return [f"{now:.3f}", *("" if values.get(c) is None else values[c] for c in columns)]


class Sampler(threading.Thread):
    """Samples ``source`` every ``interval_s`` into ``path`` until stopped.

    A failed sample is counted and skipped: the run must not depend on its observer.
    """

    def __init__(self, source: Source, path: Path, interval_s: float = 1.0) -> None:
        super().__init__(name="server-sampler", daemon=True)
        self.source = source
        self.path = path
        self.interval_s = interval_s
        self.failures_in_a_row = 0
        self.samples = 0
        self._stop_event = threading.Event()

    def run(self) -> None:
        columns = self.source.columns()
        with self.path.open("w", newline="", encoding="utf-8") as out:
            writer = csv.writer(out)
            writer.writerow(["timestamp", *columns])
            next_at = time.monotonic()
            while not self._stop_event.is_set():
                try:
                    values = self.source.sample()
                except (requests.RequestException, ValueError):
                    self.failures_in_a_row += 1
                else:
                    writer.writerow(history_row(time.time(), values, columns))
                    out.flush()
                    self.failures_in_a_row = 0
                    self.samples += 1
                next_at += self.interval_s
                self._stop_event.wait(max(0.0, next_at - time.monotonic()))

    def stop(self) -> None:
        self._stop_event.set()
        if self.is_alive():
            self.join(timeout=5.0)
        self.source.close()
