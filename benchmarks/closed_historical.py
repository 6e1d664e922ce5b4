"""Locust module for bench_open_model: bench_service's closed loop, with the kit's run files.

With ``--run-dir`` the kit writes requests.csv and generator.csv as in any closed run. With
``BENCH_BEFORE_OPEN_MODEL`` set it writes what it wrote before the open model instead:
requests.csv without the ``intended_start`` column, and no generator.csv; the rates of the
two say what those cost a closed run.
"""

from __future__ import annotations

import os

from locust import constant, events, task
from locust.contrib.fasthttp import FastHttpUser

import scenarios.generator_log
import scenarios.locust_support  # noqa: F401  (--run-dir and the kit's run files)
import scenarios.run_session
from benchmarks.bench_open_model import BEFORE_OPEN_MODEL
from benchmarks.bench_service import HISTORICAL
from scenarios.request_log import HEADER, INTENDED_START, RequestLog


class ClosedHistoricalUser(FastHttpUser):
    wait_time = constant(0)

    @task
    def cached_history(self) -> None:
        self.client.get(HISTORICAL, name="bench")


class RequestLogBeforeOpenModel(RequestLog):
    """RequestLog's header and rows, less ``intended_start``."""

    columns = tuple(column for column in HEADER if column != INTENDED_START)


if os.environ.get(BEFORE_OPEN_MODEL):
    scenarios.run_session.RequestLog = RequestLogBeforeOpenModel  # type: ignore[misc]
    events.init.remove_listener(scenarios.generator_log._start_writing)
