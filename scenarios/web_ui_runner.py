"""``scenarios ui`` (``make ui``): the service plus Locust's web UI, both stopped on Ctrl-C.

As with ``scenarios run``, credentials in the target URL never reach Locust's command line
(where ``ps`` and the web UI show it): Locust gets the bare URL and the credentials out of
band, in the environment.
"""

from __future__ import annotations

import signal
import sys
import time
from pathlib import Path

from reports.run_format import LOCUST_LOG, SERVICE_LOG
from scenarios.catalog import STOP_TIMEOUT_S
from scenarios.processes import ChildProcess, start_service
from scenarios.run_record import split_credentials
from scenarios.runner import (
    Interrupted,
    RunError,
    create_run_dir,
    load_run_thresholds,
    locust_env,
    raise_interrupted,
    say,
    service_env,
    signals_as,
    thresholds_file,
)

REPO_LOCUSTFILE = Path(__file__).resolve().parent.parent / "locustfile.py"


def locust_ui_argv(
    host: str, web_host: str, web_port: int, thresholds: Path | None = None
) -> list[str]:
    """Locust's web UI over every scenario; ``host`` must carry no credentials."""
    argv = [
        sys.executable, "-m", "locust",
        "-f", str(REPO_LOCUSTFILE),
        "--class-picker",
        "--host", host,
        "--web-host", web_host,
        "--web-port", str(web_port),
        "--stop-timeout", str(STOP_TIMEOUT_S),
    ]  # fmt: skip
    if thresholds is not None:
        argv += ["--thresholds", str(thresholds)]
    return argv


def run_ui(
    host: str | None,
    web_host: str,
    web_port: int,
    out: Path = Path("results"),
    thresholds: Path | None = None,
    service_access_log: bool = False,
) -> int:
    """Run until Ctrl-C (or until Locust exits); logs go to ``out``/ui-<time>/."""
    thresholds_path = thresholds_file(thresholds)
    load_run_thresholds(thresholds_path)  # a bad file is refused before anything starts
    log_dir = create_run_dir(out, "ui")
    service = locust = None
    try:
        with signals_as(raise_interrupted):
            if host is None:
                say("starting the embedded service...")
                service, host = start_service(
                    log_dir / SERVICE_LOG, env=service_env(service_access_log)
                )
            clean_host, credentials = split_credentials(host)
            argv = locust_ui_argv(clean_host, web_host, web_port, thresholds_path)
            locust = ChildProcess(argv, log_dir / LOCUST_LOG, locust_env(credentials))
            say(
                f"Locust web UI: http://{web_host}:{web_port}  "
                f"(service {clean_host}; logs {log_dir})"
            )
            say("press Ctrl-C to stop")
            while locust.exit_code is None:
                if service is not None and service.exit_code is not None:
                    raise RunError(f"the service exited with code {service.exit_code}")
                time.sleep(0.5)
        raise RunError(f"Locust exited with code {locust.exit_code} (see {log_dir / LOCUST_LOG})")
    except Interrupted:
        return 0
    finally:
        with signals_as(lambda *_: None):
            if locust is not None:
                locust.stop(signal.SIGINT, grace_s=STOP_TIMEOUT_S + 30.0)
            if service is not None:
                service.stop()
