"""The per-request log (requests.csv): one row per request at full precision.

Locust's own CSVs hold rounded percentiles and are rewritten only once a second, so the
report's exact numbers come from here. Built on Locust's CsvRequestLogger (file handling,
flushing, closing at ``quitting``), adding the success flag and the server's own view of
each request: the ``X-Cache`` header and the ``app`` time of ``Server-Timing``. Where it
writes, and when, is ``scenarios.run_session``'s business.
"""

from __future__ import annotations

import csv
import os
from pathlib import Path
from typing import Any

from locust.contrib.csv_request_logger import CsvRequestLogger

from reports.run_format import REQUEST_COLUMNS, REQUEST_LOG, WORKER_REQUEST_LOG, names
from scenarios.checks import server_time_ms

HEADER = names(REQUEST_COLUMNS)

#: Rows buffered before a flush: a killed load generator loses at most this many.
FLUSH_EVERY = 200
#: The request event's context key for the open model's intended send time (epoch seconds).
INTENDED_START = "intended_start"


def process_file_name(options: Any, single: str, per_worker: str) -> str:
    """This process's own file: ``single``, or ``per_worker`` with its pid in each distributed
    worker (every worker writes its own; the report merges them)."""
    worker = getattr(options, "worker", False) or getattr(options, "processes", 0)
    return per_worker.format(worker=os.getpid()) if worker else single


def file_name(options: Any) -> str:
    """This process's log: requests.csv, or requests-<pid>.csv in each distributed worker."""
    return process_file_name(options, REQUEST_LOG, WORKER_REQUEST_LOG)


class RequestLog(CsvRequestLogger):
    #: The columns written, in order (a subclass may write fewer).
    columns: tuple[str, ...] = HEADER

    def __init__(self, path: str | Path | None = None) -> None:
        """A log of ``path``; without one it logs nothing until ``reopen`` names a file."""
        super().__init__(str(path or ""), flush_interval=FLUSH_EVERY)

    def reopen(self, path: str | Path) -> None:
        """Log the following requests to ``path`` (the next test's), closing the current file."""
        self.filepath = str(path)
        self._open()

    def _open(self) -> None:
        self.close()
        if not self.filepath:
            return
        self._filehandle = open(self.filepath, "w", newline="", encoding="utf-8")  # noqa: SIM115
        self._writer = csv.writer(self._filehandle)
        self._writer.writerow(self.columns)
        self._filehandle.flush()

    def _on_request(
        self,
        *,
        request_type: str,
        name: str,
        response_time: float | None,
        response_length: int,
        exception: Any = None,
        response: Any = None,
        start_time: float | None = None,
        context: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        if self._writer is None:
            return
        intended = (context or {}).get(INTENDED_START)
        headers = getattr(response, "headers", None) or {}
        server_ms = server_time_ms(headers.get("Server-Timing"))
        status = getattr(response, "status_code", 0) or 0
        row = {
            "timestamp": f"{start_time:.6f}" if start_time is not None else "",
            "intended_start": f"{intended:.6f}" if intended is not None else "",
            "request_type": request_type,
            "name": name,
            "response_time_ms": response_time if response_time is not None else "",
            "response_length": response_length,
            "status_code": status,
            "success": 0 if exception else 1,
            "exception": _one_line(exception) if exception else "",
            "x_cache": headers.get("X-Cache", ""),
            "server_ms": server_ms if server_ms is not None else "",
        }
        self._writer.writerow([row[column] for column in self.columns])
        self._pending += 1
        if self._pending >= self.flush_interval:
            self._filehandle.flush()  # type: ignore[union-attr]
            self._pending = 0


def _one_line(exception: Any) -> str:
    return " ".join(str(exception).split())[:300]
