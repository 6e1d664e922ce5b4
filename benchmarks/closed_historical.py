"""Locust module for bench_open_model: bench_service's closed loop, with the kit's run files.

With ``--run-dir`` the kit writes requests.csv and generator.csv as in any closed run. With
``BENCH_BEFORE_OPEN_MODEL`` set it writes what it wrote before the open model instead:
requests.csv without the ``intended_start`` column, and no generator.csv; the rates of the
two say what those cost a closed run.
"""

from __future__ import annotations

import csv
import os
from typing import Any

from locust import constant, events, task
from locust.contrib.fasthttp import FastHttpUser

import scenarios.generator_log
import scenarios.locust_support  # noqa: F401  (--run-dir and the kit's run files)
import scenarios.run_session
from benchmarks.bench_open_model import BEFORE_OPEN_MODEL
from benchmarks.bench_service import HISTORICAL
from scenarios.checks import server_time_ms
from scenarios.request_log import HEADER, INTENDED_START, RequestLog, _one_line

OLD_HEADER = [column for column in HEADER if column != INTENDED_START]


class ClosedHistoricalUser(FastHttpUser):
    wait_time = constant(0)

    @task
    def cached_history(self) -> None:
        self.client.get(HISTORICAL, name="bench")


class RequestLogBeforeOpenModel(RequestLog):
    """RequestLog's header and rows, less ``intended_start`` and the look-up that fills it."""

    def _open(self) -> None:
        self.close()
        if not self.filepath:
            return
        self._filehandle = open(self.filepath, "w", newline="", encoding="utf-8")  # noqa: SIM115
        self._writer = csv.writer(self._filehandle)
        self._writer.writerow(OLD_HEADER)
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
        **kwargs: Any,
    ) -> None:
        if self._writer is None:
            return
        headers = getattr(response, "headers", None) or {}
        server_ms = server_time_ms(headers.get("Server-Timing"))
        status = getattr(response, "status_code", 0) or 0
        row = {
            "timestamp": f"{start_time:.6f}" if start_time is not None else "",
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
        self._writer.writerow([row[column] for column in OLD_HEADER])
        self._pending += 1
        if self._pending >= self.flush_interval:
            self._filehandle.flush()  # type: ignore[union-attr]
            self._pending = 0


if os.environ.get(BEFORE_OPEN_MODEL):
    scenarios.run_session.RequestLog = RequestLogBeforeOpenModel  # type: ignore[misc]
    events.init.remove_listener(scenarios.generator_log._start_writing)
