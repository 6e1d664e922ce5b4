"""``scenarios ui``: every test started in the web UI gets its own run directory and report,
served by the web UI; a busy web port is refused before anything starts."""

from __future__ import annotations

import contextlib
import json
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from scenarios.processes import ChildProcess, free_port
from tests.e2e_helpers import REPO_ROOT, interrupt, requests_log, service_env, wait_until

pytestmark = [pytest.mark.e2e, pytest.mark.concurrent]

LEVELS = {"HEALTHY", "DEGRADED", "CRITICAL"}
MANUAL = {"user_count": 2, "spawn_rate": 2, "user_classes": "MarketDataUser"}


def swarm(base: str, form: dict) -> None:
    answer = requests.post(base + "/swarm", data=form, timeout=10).json()
    assert answer["success"] is True, answer


def requests_flow(base: str) -> bool:
    return requests.get(base + "/stats/requests", timeout=5).json()["total_rps"] > 0


def last_report(base: str) -> str | None:
    return requests.get(base + "/verdict", timeout=5).json()["report"]


def run_dir_of(out: Path, report_url: str) -> Path:
    match = re.fullmatch(r"/kit-reports/([^/]+)/report\.html", report_url)
    assert match, report_url
    return out / match.group(1)


def assert_recorded(run_dir: Path, scenario: str) -> dict:
    """run.json with phases, a request log with rows and a built report; run.json returned."""
    record = json.loads((run_dir / "run.json").read_text())
    assert record["scenario"] == scenario
    assert record["phases"], record
    assert record["started"] <= record["phases"][0]["start"] < record["ended"]
    logged = requests_log(run_dir)
    assert len(logged) > 0
    report = json.loads((run_dir / "report.json").read_text())
    assert report["verdict"].upper() in LEVELS
    assert sum(e["requests"] for e in report["endpoints"]) == len(logged)
    assert (run_dir / "report.html").is_file()
    return record


def test_each_web_ui_test_gets_its_own_run_directory_and_report(seeded_db, tmp_path):
    port = free_port()
    out = tmp_path / "out"
    argv = [sys.executable, "-m", "scenarios", "ui", "--web-port", str(port), "--out", str(out)]
    env = {**service_env(seeded_db), "PYTHONPATH": str(REPO_ROOT), "PYTHONUNBUFFERED": "1"}
    ui = ChildProcess(argv, tmp_path / "ui.log", env)
    base = f"http://127.0.0.1:{port}"
    try:

        def announced() -> str | None:
            log = (tmp_path / "ui.log").read_text(errors="replace")
            assert ui.exit_code is None, f"scenarios ui exited with {ui.exit_code}: {log[-2000:]}"
            found = re.search(r"service (http://127\.0\.0\.1:\d+);", log)
            return found.group(1) if found else None

        service = wait_until(announced, 90, "the service's address in the log")

        def index() -> requests.Response | None:
            with contextlib.suppress(requests.RequestException):
                return requests.get(base + "/", timeout=2)
            return None

        page = wait_until(index, 60, "the web UI")
        assert "kit_verdict" in page.text  # the Verdict tab's headline script
        assert requests.get(base + "/verdict", timeout=5).json()["report"] is None
        assert requests.get(base + "/kit-reports/last", timeout=5).status_code == 404

        # 1: users and spawn rate typed into the form, stopped by hand after ~5 s.
        swarm(base, {**MANUAL, "host": service})
        wait_until(lambda: requests_flow(base), 30, "requests", every=0.2)
        time.sleep(3)
        requests.post(base + "/stop", timeout=70)
        first_url = wait_until(lambda: last_report(base), 60, "the first test's report", 0.5)
        first = run_dir_of(out, first_url)
        record = assert_recorded(first, "manual")
        assert [(p["name"], p["role"], p["users"]) for p in record["phases"]] == [
            ("manual", "steady", 2)
        ]
        verdict = requests.get(base + "/verdict", timeout=5).json()
        assert verdict["overall"] in LEVELS
        assert verdict["rows"][-1]["name"] == "Service"
        html = requests.get(base + first_url, timeout=10)
        assert html.status_code == 200 and html.headers["Content-Type"].startswith("text/html")
        assert html.content == (first / "report.html").read_bytes()
        moved = requests.get(base + "/kit-reports/last", timeout=5, allow_redirects=False)
        assert moved.status_code == 302 and moved.headers["Location"].endswith(first_url)
        chart = requests.get(f"{base}/kit-reports/{first.name}/latency.png", timeout=5)
        assert chart.status_code == 200 and chart.content.startswith(b"\x89PNG")
        for path in (f"/kit-reports/{first.name}/..%2F..%2Fui.log", "/kit-reports/x/report.html"):
            assert requests.get(base + path, timeout=5).status_code == 404, path

        # 2: a shape, which ends the test by itself.
        swarm(
            base,
            {**MANUAL, "host": service, "shape_class": "SustainedShape", "time_scale": "0.1"},
        )
        second_url = wait_until(
            lambda: (url := last_report(base)) != first_url and url, 60, "the second report", 0.5
        )
        second = run_dir_of(out, second_url)
        record = assert_recorded(second, "sustained")
        assert second.name.startswith("sustained-") and second != first
        assert record["time_scale"] == 0.1
        assert [p["name"] for p in record["phases"]] == ["sustained"]

        # 3: an open shape: arrivals at the form's rate, each phase's figures measured from
        # the intended start.
        open_form = {
            "user_count": 1, "spawn_rate": 1, "user_classes": "OpenMarketDataUser",
            "shape_class": "OpenSustainedShape", "time_scale": "0.1", "arrival_rate": "100",
        }  # fmt: skip
        swarm(base, {**open_form, "host": service})
        open_url = wait_until(
            lambda: (url := last_report(base)) != second_url and url, 60, "the open report", 0.5
        )
        opened = run_dir_of(out, open_url)
        record = assert_recorded(opened, "sustained")
        assert (record["model"], record["rate"]) == ("open", 100.0)
        report = json.loads((opened / "report.json").read_text())
        (phase,) = report["phases"]
        assert phase["offered_rps"] == 100.0 and phase["dropped"] == 0
        assert phase["achieved_rps"] == pytest.approx(100.0, rel=0.02)
        assert report["latency_measured_from"].startswith("intended start")

        # 4: the capacity shape: the Verdict tab follows the search, and its run records it.
        capacity_form = {
            **open_form, "shape_class": "CapacityShape", "time_scale": "0.2",
            "capacity_start_rate": "50", "capacity_max_rate": "60",
        }  # fmt: skip
        swarm(base, {**capacity_form, "host": service})
        progress = wait_until(
            lambda: requests.get(base + "/verdict", timeout=5).json()["capacity"], 30,
            "the search's progress", 0.2,
        )  # fmt: skip
        assert progress.startswith("capacity | ") and " req/s | held " in progress
        capacity_url = wait_until(
            lambda: (url := last_report(base)) != open_url and url, 90, "the capacity report", 0.5
        )
        searched = run_dir_of(out, capacity_url)
        record = assert_recorded(searched, "capacity")
        assert record["model"] == "open" and record["capacity"]["complete"] is True
        block = json.loads((searched / "report.json").read_text())["capacity"]
        assert block["limited_by"] in ("max_rate", "generator")  # 60 req/s: no service limit
        assert block["answer"].startswith("capacity ")

        # 5: the process quits during a test, which still gets its directory and report.
        swarm(base, {**MANUAL, "host": service})
        wait_until(lambda: len(list(out.glob("*/phases.jsonl"))) > 4, 30, "its run directory")
    finally:
        interrupt(ui, timeout=120)
    assert ui.proc.returncode == 0
    runs = {p.parent for p in out.glob("*/run.json")}
    (last,) = runs - {first, second, opened, searched}
    assert_recorded(last, "manual")
    (log_dir,) = [p for p in out.iterdir() if (p / "locust.log").exists()]
    assert (log_dir / "service.log").exists() and log_dir not in runs


def test_a_busy_web_port_is_refused_before_anything_starts(tmp_path):
    out = tmp_path / "out"
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = subprocess.run(
            [sys.executable, "-m", "scenarios", "ui", "--web-port", str(port), "--out", str(out)],
            cwd=REPO_ROOT, capture_output=True, text=True, timeout=60,
        )  # fmt: skip
    assert done.returncode == 2
    assert done.stderr.splitlines() == [f"error: 127.0.0.1:{port} is in use (--web-port)"]
    assert done.stdout == ""
    assert not out.exists()  # no log folder: no service was started
