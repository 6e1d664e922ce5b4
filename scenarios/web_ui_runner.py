"""``scenarios ui`` (``make ui``): the service plus Locust's web UI, both stopped on Ctrl-C.

Each test started in the web UI is recorded in its own run directory under ``--out``, with
its report (Locust's ``--kit-out``, ``scenarios.run_session``); the ui-<time>/ folder keeps
the service's and Locust's logs.

As with ``scenarios run``, credentials in the target URL never reach Locust's command line
(where ``ps`` and the web UI show it): Locust gets the bare URL and the credentials out of
band, in the environment.
"""

from __future__ import annotations

import errno
import signal
import socket
import sys
import time
from pathlib import Path

from reports.run_format import LOCUST_LOG, SERVICE_LOG
from scenarios.catalog import STOP_TIMEOUT_S
from scenarios.plan import thresholds_file
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
)

REPO_LOCUSTFILE = Path(__file__).resolve().parent.parent / "locustfile.py"


def refuse_busy_port(web_host: str, web_port: int) -> None:
    """Raise ``RunError`` when the web UI could not listen: Locust would only fail once the
    service is up. Bound as Locust binds it (address reuse, so a closing port is free)."""
    shown = f"[{web_host}]:{web_port}" if ":" in web_host else f"{web_host}:{web_port}"
    try:
        family, *_, address = socket.getaddrinfo(
            web_host or None, web_port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )[0]
        socket.create_server(address, family=family).close()
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            raise RunError(f"{shown} is in use (--web-port)") from None
        raise RunError(f"cannot listen on {shown}: {exc.strerror or exc} (--web-host)") from None


def locust_ui_argv(
    host: str, web_host: str, web_port: int, kit_out: Path, thresholds: Path | None = None
) -> list[str]:
    """Locust's web UI over every scenario, each test recorded under ``kit_out``; ``host``
    must carry no credentials."""
    argv = [
        sys.executable, "-m", "locust",
        "-f", str(REPO_LOCUSTFILE),
        "--class-picker",
        "--host", host,
        "--web-host", web_host,
        "--web-port", str(web_port),
        "--stop-timeout", str(STOP_TIMEOUT_S),
        "--kit-out", str(kit_out),
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
    """Run until Ctrl-C (or until Locust exits); each test's run directory goes to ``out``,
    the logs to ``out``/ui-<time>/."""
    thresholds_path = thresholds_file(thresholds)
    load_run_thresholds(thresholds_path)  # a bad file is refused before anything starts
    refuse_busy_port(web_host, web_port)
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
            argv = locust_ui_argv(clean_host, web_host, web_port, out.resolve(), thresholds_path)
            locust = ChildProcess(argv, log_dir / LOCUST_LOG, locust_env(credentials))
            say(
                f"Locust web UI: http://{web_host}:{web_port}  "
                f"(service {clean_host}; logs {log_dir})"
            )
            say(f"each test's run directory and report: {out}/<scenario>-<UTC time>/")
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
