"""``scenarios ui`` (``make ui``): the service plus Locust's web UI, both stopped on Ctrl-C."""

from __future__ import annotations

import signal
import sys
import time
from pathlib import Path

from scenarios.processes import ChildProcess, start_service
from scenarios.runner import (
    Interrupted,
    RunError,
    create_run_dir,
    raise_interrupted,
    say,
    signals_as,
)

REPO_LOCUSTFILE = Path(__file__).resolve().parent.parent / "locustfile.py"


def locust_ui_argv(host: str, web_host: str, web_port: int) -> list[str]:
    return [
        sys.executable, "-m", "locust",
        "-f", str(REPO_LOCUSTFILE),
        "--class-picker",
        "--host", host,
        "--web-host", web_host,
        "--web-port", str(web_port),
    ]  # fmt: skip


def run_ui(host: str | None, web_host: str, web_port: int, out: Path = Path("results")) -> int:
    """Run until Ctrl-C (or until Locust exits); logs go to results/ui-<time>/."""
    log_dir = create_run_dir(out, "ui")
    service = locust = None
    try:
        with signals_as(raise_interrupted):
            if host is None:
                say("starting the embedded service...")
                service, host = start_service(log_dir / "service.log")
            argv = locust_ui_argv(host, web_host, web_port)
            locust = ChildProcess(argv, log_dir / "locust.log")
            say(f"Locust web UI: http://{web_host}:{web_port}  (service {host}; logs {log_dir})")
            say("press Ctrl-C to stop")
            while locust.exit_code is None:
                if service is not None and service.exit_code is not None:
                    raise RunError(f"the service exited with code {service.exit_code}")
                time.sleep(0.5)
        raise RunError(f"Locust exited with code {locust.exit_code} (see {log_dir / 'locust.log'})")
    except Interrupted:
        return 0
    finally:
        with signals_as(lambda *_: None):
            if locust is not None:
                locust.stop(signal.SIGINT)
            if service is not None:
                service.stop()
