"""report.html in a real headless Chromium (Debian's ``chromium``), driven over DevTools.

The page must render, every chart must decode (natural width > 0) and the verdict must be
visible at the top. A full-page screenshot is kept in the test's tmp dir, and copied to
``$LOADKIT_TEST_ARTIFACTS/report-screenshot.png`` when that variable names a directory (a CI
step can publish it from there).
"""

from __future__ import annotations

import base64
import contextlib
import itertools
import json
import os
import re
import shutil
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from websockets.sync.client import ClientConnection, connect

from perf_lib.thresholds import Thresholds
from reports import build_report
from tests.e2e_helpers import wait_until
from tests.reports_helpers import copy_real_fixture, spike_phases, spike_rows, write_run
from tests.test_reports_open_model import second_rows, steady, write_generator

pytestmark = [pytest.mark.e2e, pytest.mark.concurrent]

ARTIFACTS_ENV = "LOADKIT_TEST_ARTIFACTS"
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--hide-scrollbars",
    "--remote-debugging-port=0",
)
PROBE = """(() => {
  const verdict = document.getElementById('verdict');
  const box = verdict.getBoundingClientRect();
  const style = getComputedStyle(verdict);
  return JSON.stringify({
    title: document.title,
    images: [...document.images].map(i => ({complete: i.complete, width: i.naturalWidth})),
    verdictText: verdict.innerText,
    verdictVisible: box.width > 0 && box.height > 0 && box.top >= 0 && box.bottom <= innerHeight
      && style.visibility === 'visible' && style.display !== 'none',
    verdictBackground: style.backgroundColor,
    locustLink: document.getElementById('locust-link')?.getAttribute('href') ?? null,
    tables: document.querySelectorAll('table').length,
  });
})()"""


def find_chromium() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    return "/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None


@contextlib.contextmanager
def launch(executable: str, profile: Path) -> Iterator[str]:
    """A headless Chromium; yields the websocket URL of its blank page."""
    process = subprocess.Popen(
        [executable, *FLAGS, f"--user-data-dir={profile}", "about:blank"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        port_file = profile / "DevToolsActivePort"  # Chromium writes its port there

        def port_written() -> str:
            assert process.poll() is None, f"chromium exited with {process.returncode}"
            return port_file.read_text().strip() if port_file.exists() else ""

        port = wait_until(port_written, 30, "chromium's DevTools port").split()[0]
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=10) as reply:
            pages = [t for t in json.load(reply) if t["type"] == "page"]
        yield pages[0]["webSocketDebuggerUrl"]
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


class DevTools:
    """The few DevTools protocol calls this test needs, over one page's websocket."""

    def __init__(self, socket: ClientConnection) -> None:
        self.socket = socket
        self.ids = itertools.count(1)
        self.events: list[dict] = []

    def call(self, method: str, **params) -> dict:
        ident = next(self.ids)
        self.socket.send(json.dumps({"id": ident, "method": method, "params": params}))
        while True:
            message = json.loads(self.socket.recv(timeout=30))
            if message.get("id") == ident:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return message["result"]
            self.events.append(message)

    def wait_for(self, event: str, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while not any(e.get("method") == event for e in self.events):
            self.events.append(json.loads(self.socket.recv(timeout=deadline - time.monotonic())))


@pytest.fixture(scope="module")
def chromium():
    executable = find_chromium()
    if executable is None:
        pytest.skip("chromium not found: `make test` installs it (tools/ensure-chromium)")
    return executable


def open_report(chromium: str, html: Path, workdir: Path) -> tuple[dict, bytes]:
    with launch(chromium, workdir / "profile") as url, connect(url, max_size=None) as socket:
        browser = DevTools(socket)
        browser.call("Page.enable")
        browser.call(
            "Emulation.setDeviceMetricsOverride",
            width=1280,
            height=900,
            deviceScaleFactor=1,
            mobile=False,
        )
        browser.call("Page.navigate", url=html.resolve().as_uri())
        browser.wait_for("Page.loadEventFired")
        probe = browser.call("Runtime.evaluate", expression=PROBE, returnByValue=True)
        state = json.loads(probe["result"]["value"])
        size = browser.call("Page.getLayoutMetrics")["cssContentSize"]
        shot = browser.call(
            "Page.captureScreenshot",
            format="png",
            captureBeyondViewport=True,
            clip={"x": 0, "y": 0, "width": size["width"], "height": size["height"], "scale": 1},
        )
        return state, base64.b64decode(shot["data"])


def test_report_renders_in_chromium(chromium, tmp_path):
    run_dir = copy_real_fixture(tmp_path / "spike-real")
    result = build_report(run_dir, Thresholds(), fail_on="never")
    state, png = open_report(chromium, result.html_path, tmp_path)

    verdict = result.report["verdict"]
    assert state["title"].startswith(verdict.upper())
    assert state["verdictVisible"] is True
    assert state["verdictText"].startswith(verdict.upper())
    assert state["verdictBackground"] != "rgba(0, 0, 0, 0)"
    assert len(state["images"]) == len(result.report["charts"]) >= 5
    assert all(img["complete"] and img["width"] > 0 for img in state["images"])
    assert state["locustLink"] == "locust.html"
    assert state["tables"] >= 4

    assert png.startswith(b"\x89PNG\r\n\x1a\n") and len(png) > 50_000
    screenshot = tmp_path / "report-screenshot.png"
    screenshot.write_bytes(png)
    if os.environ.get(ARTIFACTS_ENV):
        artifacts = Path(os.environ[ARTIFACTS_ENV])
        artifacts.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(screenshot, artifacts / "report-screenshot.png")


def test_healthy_report_is_green(chromium, tmp_path):
    rows = [r for r in spike_rows(0) if r[3]]  # no failures, recovers at once
    rows = [(ts, name, min(rt, 150.0), ok, *rest) for ts, name, rt, ok, *rest in rows]
    run_dir = write_run(tmp_path / "run", rows, spike_phases())
    thresholds = Thresholds.from_dict(
        {
            "default": {
                "avg_ms": {"healthy": 1000, "degraded": 2000},
                "p95_ms": {"healthy": 1000, "degraded": 2000},
            }
        }
    )
    result = build_report(run_dir, thresholds)
    assert result.report["verdict"] == "healthy"
    state, _ = open_report(chromium, result.html_path, tmp_path)
    assert state["verdictText"].startswith("HEALTHY") and state["verdictVisible"]
    assert state["verdictBackground"] == "rgb(46, 125, 50)"
    assert state["locustLink"] is None


def test_generator_limited_report_is_not_green(chromium, tmp_path):
    run_dir = steady(tmp_path, lag_s=0.010)  # every request sent 10 ms late
    # 5 of 1,005 arrivals dropped: 0.5 %, within the healthy error rate
    write_generator(run_dir, second_rows(10, dropped=lambda k: 5 if k == 3 else 0))
    result = build_report(run_dir, Thresholds())
    assert result.report["verdict"] == "healthy"
    state, png = open_report(chromium, result.html_path, tmp_path)
    (tmp_path / "limited-screenshot.png").write_bytes(png)
    assert state["title"].startswith("HEALTHY — generator-limited")
    assert state["verdictVisible"] is True
    assert re.match(r"HEALTHY\s+— generator-limited", state["verdictText"])
    assert "Open model at 100.0 req/s" in state["verdictText"]  # the first screen says the model,
    assert "5 arrivals dropped (sustained: 5)" in state["verdictText"]  # the drops
    assert "did not keep up" in state["verdictText"]  # and that the generator fell behind
    assert state["verdictBackground"] == "rgb(84, 110, 122)"  # the partial run's grey
