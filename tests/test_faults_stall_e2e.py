"""Stall and capacity faults in the real service: requests held, the observers' routes not."""

from __future__ import annotations

import math
import statistics
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import pytest
import requests

from scenarios.processes import start_service
from tests.e2e_helpers import service_env

pytestmark = pytest.mark.e2e

#: (sent, answered) in seconds of time.perf_counter(), and the status.
Timed = tuple[float, float, int]


@contextmanager
def service(db: Path, log: Path, **settings: str) -> Iterator[str]:
    """``python -m market_api`` with MARKET_API_* ``settings`` on loopback; yields its URL."""
    child, url = start_service(log, env=service_env(db, **settings))
    try:
        yield url
    finally:
        child.stop()


def timed_get(session: requests.Session, url: str) -> Timed:
    sent = time.perf_counter()
    status = session.get(url, timeout=10).status_code
    return sent, time.perf_counter(), status


def in_a_row(url: str, *, count: int | None = None, seconds: float = math.inf) -> list[Timed]:
    """GET ``url`` one request after another: ``count`` of them, or for ``seconds``."""
    deadline = time.perf_counter() + seconds
    timings: list[Timed] = []
    with requests.Session() as session:
        while (count is None or len(timings) < count) and time.perf_counter() < deadline:
            timings.append(timed_get(session, url))
    return timings


def poll(url: str, until: threading.Event, every: float = 0.05) -> list[Timed]:
    """GET ``url`` every ``every`` seconds until ``until`` is set."""
    timings = []
    with requests.Session() as session:
        while not until.is_set():
            timings.append(timed_get(session, url))
            time.sleep(every)
    return timings


def test_a_stall_holds_requests_for_its_length_but_not_metrics(seeded_db, tmp_path):
    env = {"fault_stall_ms": "500", "fault_stall_every_s": "2"}
    with service(seeded_db, tmp_path / "service.log", **env) as url:
        done = threading.Event()
        with ThreadPoolExecutor(5) as pool:
            metrics = pool.submit(poll, f"{url}/metrics", done)
            senders = [pool.submit(in_a_row, f"{url}/health", seconds=5.0) for _ in range(4)]
            health = [timing for sender in senders for timing in sender.result()]
            done.set()
            metrics_timings = metrics.result()
    assert {status for _, _, status in health + metrics_timings} == {200}
    durations = [answered - sent for sent, answered, _ in health]
    held = [(sent, answered) for sent, answered, _ in health if answered - sent >= 0.4]
    assert held, f"no request held by a stall (slowest {max(durations):.3f} s)"
    assert max(durations) < 1.2  # held for one stall, then served normally
    assert statistics.median(durations) < 0.1
    # A /health held until `answered` shows a stall in progress over the 0.3 s before it.
    during_stall = [
        answered - sent
        for sent, answered, _ in metrics_timings
        if any(end - 0.35 <= sent and answered <= end - 0.05 for _, end in held)
    ]
    assert during_stall, "no /metrics request during a stall"
    assert max(during_stall) < 0.1


def test_a_capacity_of_50_per_second_queues_api_requests_but_not_metrics(seeded_db, tmp_path):
    with service(seeded_db, tmp_path / "service.log", fault_capacity_rps="50") as url:
        done = threading.Event()
        with ThreadPoolExecutor(11) as pool:
            metrics = pool.submit(poll, f"{url}/metrics", done)
            started = time.perf_counter()
            senders = [pool.submit(in_a_row, f"{url}/health", count=10) for _ in range(10)]
            health = [timing for sender in senders for timing in sender.result()]
            elapsed = time.perf_counter() - started
            done.set()
            metrics_timings = metrics.result()
    assert {status for _, _, status in health + metrics_timings} == {200}
    assert 1.9 <= elapsed < 6.0  # 100 requests, one every 20 ms
    assert statistics.median(answered - sent for sent, answered, _ in health) >= 0.1  # queued
    assert max(answered - sent for sent, answered, _ in metrics_timings) < 0.1  # not queued
