"""Fixtures for end-to-end tests: a seeded database, a live service, and the run command.

Everything runs as real processes on 127.0.0.1; Locust only ever runs in a subprocess.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import orjson
import pandas as pd
import psutil
import pytest
import requests

from scenarios.processes import ChildProcess, start_service

REPO_ROOT = Path(__file__).resolve().parent.parent
T = TypeVar("T")


def wait_until(condition: Callable[[], T], timeout: float, what: str, every: float = 0.05) -> T:
    """Poll ``condition`` until it returns something truthy, and return that.

    Fails with "timed out after N s waiting for WHAT" when ``timeout`` seconds pass first.
    """
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")
        time.sleep(every)


@pytest.fixture(scope="session")
def seeded_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A database seeded once per session (the service seeds a missing file at start-up)."""
    path = tmp_path_factory.mktemp("db") / "market.db"
    service, _url = start_service(path.with_suffix(".log"), env=service_env(path))
    service.stop()
    assert path.is_file()
    return path


def service_env(db: Path, **settings: str) -> dict[str, str]:
    """This environment with the service pointed at ``db`` plus MARKET_API_* ``settings``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MARKET_API_")}
    env["MARKET_API_DB"] = str(db)
    env.update({f"MARKET_API_{k.upper()}": v for k, v in settings.items()})
    return env


@pytest.fixture
def live_service(seeded_db: Path, tmp_path: Path) -> Iterator[str]:
    """A real uvicorn on a free loopback port, stopped after the test."""
    service, url = start_service(tmp_path / "service.log", env=service_env(seeded_db))
    yield url
    service.stop()


@dataclass
class RunResult:
    returncode: int
    stdout: str
    stderr: str
    run_dir: Path | None

    def json(self, name: str) -> dict:
        assert self.run_dir is not None, self.stderr
        return orjson.loads((self.run_dir / name).read_bytes())


def run_scenario(
    args: list[str], out: Path, env: dict[str, str], timeout: float = 180, command: str = "run"
) -> RunResult:
    """``python -m scenarios COMMAND ARGS --out OUT``, from the repository root."""
    completed = subprocess.run(
        [sys.executable, "-m", "scenarios", command, *args, "--out", str(out)],
        cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=timeout,
    )  # fmt: skip
    runs = sorted(p for p in out.iterdir() if p.is_dir()) if out.is_dir() else []
    return RunResult(
        completed.returncode, completed.stdout, completed.stderr, runs[-1] if runs else None
    )


def start_scenario(args: list[str], out: Path, env: dict[str, str]) -> ChildProcess:
    """The run command in the background (its own session, like a terminal job)."""
    argv = [sys.executable, "-m", "scenarios", "run", *args, "--out", str(out)]
    out.mkdir(parents=True, exist_ok=True)
    return ChildProcess(argv, out / "runner.log", {**env, "PYTHONUNBUFFERED": "1"})


def requests_log(run_dir: Path) -> pd.DataFrame:
    """Every per-request log of a run (one per distributed worker), concatenated."""
    return pd.concat(pd.read_csv(p) for p in sorted(run_dir.glob("requests*.csv")))


def descendants(pid: int) -> list[psutil.Process]:
    try:
        return psutil.Process(pid).children(recursive=True)
    except psutil.NoSuchProcess:
        return []


def alive(processes: list[psutil.Process]) -> list[psutil.Process]:
    return [p for p in processes if p.is_running() and p.status() != psutil.STATUS_ZOMBIE]


def phase_events(out: Path) -> list[dict]:
    """The phase log of the (only) run in ``out`` so far: complete lines only."""
    runs = [p for p in out.iterdir() if p.is_dir()] if out.is_dir() else []
    if not runs or not (runs[0] / "phases.jsonl").exists():
        return []
    lines = (runs[0] / "phases.jsonl").read_text().splitlines()
    return [orjson.loads(line) for line in lines if line.endswith("}")]


def in_phase(out: Path, name: str) -> bool:
    return any(e.get("name") == name for e in phase_events(out))


def target_of(runner: ChildProcess) -> str:
    """The URL a background run (``start_scenario``) tests, once its log says it started.

    Fails at once, with the end of the log, when the run exits before that.
    """

    def started() -> str | None:
        log = runner.log_path.read_text(errors="replace")
        if runner.exit_code is not None:
            raise AssertionError(f"the run exited with {runner.exit_code}: {log[-2000:]}")
        found = re.search(r"running \w+ against (http://\S+)", log)
        return found.group(1) if found else None

    return wait_until(started, 90, "the run to start")


def route_counts(url: str, route: str) -> tuple[int, int]:
    """(answered, 5xx) requests to ``route`` so far, by the service's own count; (0, 0) when it
    does not answer."""
    try:
        metrics = requests.get(f"{url}/api/v1/metrics", timeout=2).json()
    except (requests.RequestException, ValueError):
        return 0, 0
    counts = metrics["routes"].get(route, {})
    return counts.get("count", 0), counts.get("errors", 0)


def process_kinds(processes: list[psutil.Process]) -> set[str]:
    """Which of the service and Locust are among ``processes``."""
    kinds = set()
    for process in processes:
        try:
            argv = process.cmdline()
        except psutil.Error:
            continue
        kinds |= {kind for kind in ("market_api", "locust") if kind in argv}
    return kinds


def interrupt(process: ChildProcess, timeout: float) -> None:
    """SIGINT to the whole group, as Ctrl-C in the terminal sends it; wait, then clean up."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.proc.pid, signal.SIGINT)
    process.proc.wait(timeout=timeout)
    process.stop()
