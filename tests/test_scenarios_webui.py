"""`make ui`: the service plus Locust's web UI with every scenario and the Verdict tab."""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal

import pytest
import requests

from scenarios.cli import build_parser
from scenarios.processes import ChildProcess, free_port
from tests.e2e_helpers import REPO_ROOT, alive, descendants, service_env, wait_until

pytestmark = [pytest.mark.e2e, pytest.mark.concurrent]


def ui_takes_out() -> bool:
    """Whether ``scenarios ui`` has --out (the parent of its log folder)."""
    _, unknown = build_parser().parse_known_args(["ui", "--out", "x"])
    return not unknown


def test_make_ui_serves_the_class_picker_and_the_verdict_tab(seeded_db, tmp_path):
    port = free_port()
    out = tmp_path / "results"
    env = {**service_env(seeded_db), "PYTHONUNBUFFERED": "1"}
    argv = ["make", "-C", str(REPO_ROOT), "--no-print-directory", "ui", f"WEB_PORT={port}"]
    if ui_takes_out():
        argv.append(f"OUT={out}")
    ui = ChildProcess(argv, tmp_path / "ui.log", env)
    base = f"http://127.0.0.1:{port}"
    log_dir = None
    try:

        def announced() -> re.Match | None:
            log = (tmp_path / "ui.log").read_text(errors="replace")
            assert ui.exit_code is None, f"make ui exited with {ui.exit_code}: {log[-2000:]}"
            return re.search(r"service (http://127\.0\.0\.1:\d+); logs (.+)\)", log)

        found = wait_until(announced, 90, "the web UI's address in the log")
        service_url, log_dir = found.group(1), REPO_ROOT / found.group(2)

        def index():
            try:
                return requests.get(base + "/", timeout=2)
            except requests.RequestException:
                return None

        page = wait_until(index, 60, "the web UI's index page")
        assert page.status_code == 200
        for name in ("SpikeShape", "BaselineShape", "HistoricalUser", "MarketDataUser", "Verdict"):
            assert name in page.text
        verdict = requests.get(base + "/verdict", timeout=5).json()
        assert verdict["rows"][-1]["name"] == "Service" and verdict["overall"] is None

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

        stats = wait_until(busy, 30, "10 users and some requests", every=0.2)
        (tab,) = [s for s in stats["extended_stats"] if s["key"] == "verdict"]
        rows = {row["name"]: row for row in tab["data"]}
        assert rows["/api/v1/historical"]["verdict"] in {"HEALTHY", "DEGRADED", "CRITICAL"}
        assert "cache hit rate" in rows["Service"]["levels"]
        children = descendants(ui.proc.pid)
    finally:
        os.killpg(ui.proc.pid, signal.SIGINT)  # what Ctrl-C in the terminal does
        ui.proc.wait(timeout=60)
        ui.stop()
        if log_dir is not None and log_dir.parent == REPO_ROOT / "results":
            shutil.rmtree(log_dir, ignore_errors=True)  # `scenarios ui` without --out
            with contextlib.suppress(OSError):
                log_dir.parent.rmdir()  # if it is empty now
    assert alive(children) == []
    if ui_takes_out():
        assert log_dir is not None and log_dir.parent == out
