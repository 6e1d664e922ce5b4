"""`make ui`: the service plus Locust's web UI with every scenario and the Verdict tab."""

from __future__ import annotations

import os
import re
import signal
import time

import pytest
import requests

from scenarios.processes import ChildProcess, free_port
from tests.e2e_helpers import REPO_ROOT, alive, descendants, service_env

pytestmark = pytest.mark.e2e


def wait_for(predicate, timeout: float = 60.0, every: float = 0.2):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(every)
    raise AssertionError("timed out waiting")


def test_make_ui_serves_the_class_picker_and_the_verdict_tab(seeded_db, tmp_path):
    port = free_port()
    env = {**service_env(seeded_db), "PYTHONUNBUFFERED": "1"}
    argv = ["make", "-C", str(REPO_ROOT), "--no-print-directory", "ui", f"WEB_PORT={port}"]
    ui = ChildProcess(argv, tmp_path / "ui.log", env)
    base = f"http://127.0.0.1:{port}"
    try:
        service_url = wait_for(
            lambda: re.search(
                r"service (http://127\.0\.0\.1:\d+)", (tmp_path / "ui.log").read_text()
            )
        ).group(1)

        def index():
            try:
                return requests.get(base + "/", timeout=2)
            except requests.RequestException:
                return None

        page = wait_for(index)
        assert page.status_code == 200
        for name in ("SpikeShape", "BaselineShape", "HistoricalUser", "MarketDataUser", "Verdict"):
            assert name in page.text
        assert requests.get(base + "/verdict", timeout=5).json()[-1]["name"] == "Service"

        started = requests.post(
            base + "/swarm",
            data={"user_count": 1, "spawn_rate": 1, "host": service_url,
                  "shape_class": "SpikeShape", "user_classes": "MarketDataUser",
                  "time_scale": "0.1"},
            timeout=10,
        ).json()  # fmt: skip
        assert started["success"] is True and "SpikeShape" in started["message"]

        def busy():
            stats = requests.get(base + "/stats/requests", timeout=5).json()
            return stats if stats["user_count"] >= 10 and stats["total_rps"] > 0 else None

        stats = wait_for(busy, timeout=30)
        (tab,) = [s for s in stats["extended_stats"] if s["key"] == "verdict"]
        rows = {row["name"]: row for row in tab["data"]}
        assert rows["/api/v1/historical"]["verdict"] in {"HEALTHY", "DEGRADED", "CRITICAL"}
        assert "cache hit rate" in rows["Service"]["levels"]
        children = descendants(ui.proc.pid)
    finally:
        os.killpg(ui.proc.pid, signal.SIGINT)  # what Ctrl-C in the terminal does
        ui.proc.wait(timeout=60)
        ui.stop()
    assert alive(children) == []
