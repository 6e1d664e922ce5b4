"""``python -m market_api``: run the service with uvicorn (uvloop, httptools).

Every setting has a flag (see ``--help``) beside its environment variable; a bad value is one
line on stderr and exit code 2. Request logs are JSON lines on stderr (uvicorn's own access
log is off: it would log the query strings); with ``--access-log off`` only the lines of 5xx
answers are written, beside uvicorn's start-up lines and the service's error reports.
"""

from __future__ import annotations

import argparse
import logging
import sys

import uvicorn

from market_api.app import create_app
from market_api.settings import SETTINGS_SOURCES, Settings, SettingsError
from market_api.store import StoreUnavailable, open_sqlite_store
from perf_lib.cli import OneLineParser

#: field -> (metavar, help) of its flag
_FLAGS = {
    "db_path": ("PATH", "SQLite file, created and seeded when missing (default data/market.db)"),
    "cache_enabled": ("on|off", "cache historical and symbols responses (default on)"),
    "cache_max_size": ("N", "cache entries (default 1000)"),
    "cache_ttl": ("SECONDS", "cache entry lifetime (default 300)"),
    "fault_db_latency_ms": ("MS", "milliseconds added to every database query (default 0)"),
    "fault_error_rate": ("RATE", "fraction 0..1 of database queries that fail (default 0)"),
    "fault_window_s": (
        "START,END",
        "faults apply only from START to END s after start-up (default: the whole run)",
    ),
    "fault_seed": ("SEED", "seed of the fault dice, for reproducible faults"),
    "fault_stall_ms": ("MS", "answer nothing for MS every --fault-stall-every-s (default: never)"),
    "fault_stall_every_s": ("SECONDS", "period of the stalls, counted from start-up"),
    "fault_capacity_rps": ("R", "serve one request at a time, 1/R s each (default: no limit)"),
    "observability": ("on|off", "request middleware and query monitor (off: benchmarks only)"),
    "access_log": ("on|off", "one JSON line per request (off: start-up and errors only)"),
}


def port(text: str) -> int:
    """A TCP port number (argparse names the function in its error message)."""
    number = int(text)
    if not 0 <= number <= 65535:
        raise ValueError(text)
    return number


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = OneLineParser(prog="python -m market_api", description="Run the market-data service.")
    parser.add_argument("--host", default="127.0.0.1", help="bind address (default 127.0.0.1)")
    parser.add_argument("--port", type=port, default=8000, help="port (default 8000)")
    for field, source in SETTINGS_SOURCES.items():
        metavar, help_text = _FLAGS[field]
        parser.add_argument(
            source.flag, dest=field, metavar=metavar, help=f"{help_text}; env {source.env}"
        )
    return parser.parse_args(argv)


class _MessageHandler(logging.StreamHandler):
    """Writes each record's message as it is (the access log lines are JSON already).

    The service's records carry everything in their message (the error log puts the frames
    there itself). The stream is block-buffered: the access log flushes its handlers after
    each batch, and a warning or worse is flushed at once.
    """

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.stream.write(record.getMessage() + "\n")
            if record.levelno >= logging.WARNING:
                self.flush()
        except Exception:
            self.handleError(record)


def _configure_logging() -> None:
    # No record here shows thread or process, so skip collecting them (the logging HOWTO's
    # "Optimization" advice): one access log record per request makes that worth it.
    logging.logThreads = False
    logging.logProcesses = False
    logging.logMultiprocessing = False
    stream = open(  # noqa: SIM115 - stays open as long as the process
        sys.stderr.fileno(), "w", buffering=1 << 16, encoding="utf-8", closefd=False
    )
    handler = _MessageHandler(stream)
    logger = logging.getLogger("market_api")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        settings = Settings.from_env(flags={f: getattr(args, f) for f in SETTINGS_SOURCES})
    except SettingsError as exc:
        print(f"market_api: {exc}", file=sys.stderr)
        return 2
    try:
        # Seed now if needed, and fail with one line rather than a lifespan traceback.
        store = open_sqlite_store(settings.db_path)
        store.ping()
        store.close()
    except (OSError, StoreUnavailable) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        print(f"market_api: database {settings.db_path}: {reason}", file=sys.stderr)
        return 2
    _configure_logging()
    uvicorn.run(
        create_app(settings),
        host=args.host,
        port=args.port,
        loop="uvloop",
        http="httptools",
        access_log=False,
        server_header=False,
        log_level="info",
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
