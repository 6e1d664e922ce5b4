"""``scenarios ui`` with credentials in the target URL: they reach no file, command line or page.

Locust gets the bare URL; the credentials go to its users out of band, as in ``scenarios run``.
"""

from __future__ import annotations

import sys

import pytest
import requests

from scenarios.processes import ChildProcess, free_port
from tests.e2e_helpers import REPO_ROOT, descendants, interrupt, service_env, wait_until

pytestmark = [pytest.mark.e2e, pytest.mark.concurrent]

MARKER = "Pw4UiLeakCheck"


def test_the_web_ui_path_keeps_the_password_out_of_files_command_lines_and_pages(
    live_service, tmp_path
):
    port = free_port()
    host = live_service.replace("http://", f"http://loadtester:{MARKER}@")
    out = tmp_path / "out"
    argv = [sys.executable, "-m", "scenarios", "ui", "--host", host, "--web-port", str(port),
            "--out", str(out)]  # fmt: skip
    env = {**service_env(tmp_path), "PYTHONPATH": str(REPO_ROOT), "PYTHONUNBUFFERED": "1"}
    ui = ChildProcess(argv, tmp_path / "ui.log", env)
    base = f"http://127.0.0.1:{port}"
    pages: dict[str, str] = {}
    command_lines: list[str] = []
    try:

        def index() -> requests.Response | None:
            if ui.exit_code is not None:
                raise AssertionError(f"the UI exited: {(tmp_path / 'ui.log').read_text()}")
            try:
                return requests.get(base + "/", timeout=2)
            except requests.RequestException:
                return None

        pages["/"] = wait_until(index, 60, "the web UI").text
        for path in ("/stats/requests", "/verdict", "/stats/report"):
            pages[path] = requests.get(base + path, timeout=10).text
        command_lines = [" ".join(p.cmdline()) for p in descendants(ui.proc.pid)]
    finally:
        interrupt(ui, timeout=90)
    assert ui.proc.returncode == 0
    assert live_service in pages["/"]  # the UI does show the target, without its password
    assert any("locust" in line for line in command_lines), command_lines
    for line in command_lines:
        assert MARKER not in line, line
    for path, text in pages.items():
        assert MARKER not in text, path
    written = [p for p in [*out.rglob("*"), tmp_path / "ui.log"] if p.is_file()]
    assert any(p.name == "locust.log" for p in written), written
    for path in written:
        assert MARKER.encode() not in path.read_bytes(), path
