"""The server-side sampler: one row a second from the service into server_history.csv.

It reads /api/v1/performance/summary (cache and database-query statistics) and
/api/v1/status (the process's RSS), so the report can set the server's view beside the
client's and a soak run can show whether memory stays flat.
"""

from __future__ import annotations

import csv
import threading
import time
from pathlib import Path
from typing import Any

import requests

from reports.run_format import SERVER_COLUMNS, names

#: server_history.csv's columns, in the order the report reads them.
COLUMNS = names(SERVER_COLUMNS)


def sample_row(summary: dict[str, Any], status: dict[str, Any] | None, now: float) -> list[Any]:
    """One CSV row from the two documents; absent values are left empty."""
    cache = summary.get("cache") or {}
    performance = summary.get("performance") or {}
    process = (status or {}).get("process") or {}
    values = {
        "timestamp": f"{now:.3f}",
        "cache_hit_rate_pct": cache.get("hit_rate_pct"),
        "cache_size": cache.get("size"),
        "cache_hits": cache.get("hits"),
        "cache_misses": cache.get("misses"),
        "queries_total": performance.get("total_queries"),
        "queries_failed": performance.get("failed"),
        "p95_ms": performance.get("p95_duration_ms"),
        "error_rate_pct": performance.get("error_rate_pct"),
        "rss_bytes": process.get("rss_bytes"),
    }
    return ["" if values.get(c) is None else values[c] for c in COLUMNS]


class Sampler(threading.Thread):
    """Samples ``host`` every ``interval_s`` until stopped; counts failed samples."""

    def __init__(self, host: str, path: Path, interval_s: float = 1.0) -> None:
        super().__init__(name="server-sampler", daemon=True)
        self.host = host.rstrip("/")
        self.path = path
        self.interval_s = interval_s
        self.failures_in_a_row = 0
        self.samples = 0
        self._stop_event = threading.Event()
        self._session = requests.Session()

    def run(self) -> None:
        with self.path.open("w", newline="", encoding="utf-8") as out:
            writer = csv.writer(out)
            writer.writerow(COLUMNS)
            next_at = time.monotonic()
            while not self._stop_event.is_set():
                row = self._sample()
                if row is not None:
                    writer.writerow(row)
                    out.flush()
                next_at += self.interval_s
                self._stop_event.wait(max(0.0, next_at - time.monotonic()))

    def _sample(self) -> list[Any] | None:
        try:
            summary = self._get("/api/v1/performance/summary")
            status = self._get("/api/v1/status")
        except (requests.RequestException, ValueError):
            self.failures_in_a_row += 1
            return None
        self.failures_in_a_row = 0
        self.samples += 1
        return sample_row(summary, status, time.time())

    def _get(self, path: str) -> dict[str, Any]:
        response = self._session.get(self.host + path, timeout=2.0)
        response.raise_for_status()
        return response.json()

    def stop(self) -> None:
        self._stop_event.set()
        if self.is_alive():
            self.join(timeout=5.0)
        self._session.close()
