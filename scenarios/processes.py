"""Child processes that never outlive the run: the embedded service and Locust.

Each child starts in its own session, so a Ctrl-C in the terminal reaches only the runner,
which then stops the children in the right order and the right way (Locust with SIGINT so
it still writes its HTML report; SIGTERM would lose it).
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import IO

import requests


class ChildProcess:
    """A subprocess in its own process group, logging to a file."""

    def __init__(self, argv: list[str], log_path: Path, env: dict[str, str] | None = None):
        self.argv = argv
        self.log_path = log_path
        self._log: IO[bytes] = log_path.open("ab")
        self.proc = subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            env=env,
            start_new_session=True,
        )

    @property
    def exit_code(self) -> int | None:
        return self.proc.poll()

    def stop(self, first_signal: int = signal.SIGTERM, grace_s: float = 10.0) -> int:
        """Send ``first_signal``; kill the whole group if it has not exited after ``grace_s``."""
        if self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                self.proc.send_signal(first_signal)
            try:
                self.proc.wait(grace_s)
            except subprocess.TimeoutExpired:
                self.kill()
        self._reap_group()
        self._log.close()
        return self.proc.returncode

    def kill(self) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait()

    def _reap_group(self) -> None:
        """Kill anything the child left behind in its group (Locust's forked workers)."""
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.proc.pid, signal.SIGKILL)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class ServiceError(RuntimeError):
    """The embedded service could not be started."""


def start_service(
    log_path: Path, timeout_s: float = 90.0, env: dict[str, str] | None = None
) -> tuple[ChildProcess, str]:
    """``python -m market_api`` on a free loopback port; returns it and its URL once healthy.

    Configuration reaches it through the usual MARKET_API_* environment variables (``env``,
    or this process's environment).
    """
    port = free_port()
    service = ChildProcess(
        [sys.executable, "-m", "market_api", "--host", "127.0.0.1", "--port", str(port)],
        log_path,
        env,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_healthy(service, url, timeout_s)
    except BaseException:  # including an interruption: never leave the child behind
        service.stop()
        raise
    return service, url


def _wait_until_healthy(service: ChildProcess, url: str, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if service.exit_code is not None:
            raise ServiceError(
                f"the service exited with code {service.exit_code} at start-up "
                f"({_last_line(service.log_path)})"
            )
        if reachable(url, timeout_s=1.0):
            return
        time.sleep(0.1)
    raise ServiceError(f"the service did not answer /health within {timeout_s:.0f} s")


def reachable(url: str, timeout_s: float = 2.0) -> bool:
    """Whether ``url``/health answers at all (any status: a degraded service is reachable)."""
    try:
        requests.get(f"{url}/health", timeout=timeout_s)
    except requests.RequestException:
        return False
    return True


def _last_line(path: Path) -> str:
    try:
        lines = path.read_text(errors="replace").strip().splitlines()
    except OSError:
        return "no log"
    return lines[-1][:200] if lines else "empty log"
