"""Everything a run directory holds, read and checked once (the I/O shell of the analysis).

Which files are needed depends on what is there: the per-request log (``requests.csv`` or
``requests-*.csv`` from distributed workers) is the primary source; without it Locust's own
``locust_stats.csv`` and ``locust_stats_history.csv`` are required instead. Every other file is
optional, but a file that is present must be well formed. ``run.json`` is the exception: when it
is unreadable the phases are segmented from the user count, so its problem becomes a warning.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
import pandas as pd

from reports.errors import ReportInputError
from reports.loading import Column, CsvTable, read_checked_csv

REQUEST_COLUMNS = (
    Column("timestamp", "float"),
    Column("name", "str"),
    Column("response_time_ms", "float"),
    Column("success", "flag"),
    Column("request_type", "str", required=False, empty_ok=True),
    Column("response_length", "float", required=False, empty_ok=True),
    Column("status_code", "int", required=False, empty_ok=True),
    Column("exception", "str", required=False, empty_ok=True),
    Column("x_cache", "str", required=False, empty_ok=True),
    Column("server_ms", "float", required=False, empty_ok=True),
)
_PERCENTILES = ("50%", "95%", "99%")
STATS_COLUMNS = (
    Column("Type", "str", empty_ok=True),
    Column("Name", "str"),
    Column("Request Count", "int"),
    Column("Failure Count", "int"),
    Column("Average Response Time", "float"),
    Column("Requests/s", "float"),
    *(Column(p, "float", empty_ok=True) for p in _PERCENTILES),
)
HISTORY_COLUMNS = (
    Column("Timestamp", "float"),
    Column("User Count", "int"),
    Column("Type", "str", empty_ok=True),
    Column("Name", "str"),
    Column("Requests/s", "float"),
    Column("Failures/s", "float"),
    *(Column(p, "float", empty_ok=True) for p in _PERCENTILES),
    Column("Total Request Count", "int"),
    Column("Total Failure Count", "int"),
    Column("Total Average Response Time", "float"),
)
FAILURE_COLUMNS = (
    Column("Method", "str", empty_ok=True),
    Column("Name", "str", empty_ok=True),
    Column("Error", "str", empty_ok=True),
    Column("Occurrences", "int"),
)
EXCEPTION_COLUMNS = (
    Column("Count", "int"),
    Column("Message", "str", empty_ok=True),
    Column("Nodes", "str", required=False, empty_ok=True),
)
SERVER_COLUMNS = (
    Column("timestamp", "float"),
    *(
        Column(name, "float", required=False, empty_ok=True)
        for name in (
            "cache_hit_rate_pct",
            "cache_size",
            "cache_hits",
            "cache_misses",
            "queries_total",
            "queries_failed",
            "p95_ms",
            "error_rate_pct",
            "rss_bytes",
        )
    ),
)
# Locust's wording: "CPU usage above 90%!" (local runner), "CPU usage threshold was exceeded on
# workers during the test!" (master) and "CPU usage was too high at some point" (at the end).
_CPU_WARNING = re.compile(rb"CPU usage (above|threshold was exceeded|was too high)")
_RUN_DIR_NAME = re.compile(r"^(?P<scenario>.+?)-\d{8}T\d{6}Z")


@dataclass
class RunData:
    """The checked contents of one run directory; frames are ``None`` when the file is absent."""

    run_dir: Path
    meta: dict[str, Any]
    run_json_problem: str | None
    requests: pd.DataFrame | None
    request_files: list[str]
    stats: pd.DataFrame | None
    history: pd.DataFrame | None
    failures: pd.DataFrame | None
    exceptions: pd.DataFrame | None
    server_history: pd.DataFrame | None
    truncated_files: list[str] = field(default_factory=list)
    cpu_warning: bool = False
    has_locust_html: bool = False

    @property
    def scenario(self) -> str:
        name = self.meta.get("scenario")
        if isinstance(name, str) and name.strip():
            return name.strip()
        match = _RUN_DIR_NAME.match(self.run_dir.name)
        return match["scenario"] if match else self.run_dir.name

    @property
    def partial(self) -> bool:
        return bool(self.meta.get("partial")) or bool(self.truncated_files)


def load_run(run_dir: str | Path) -> RunData:
    """Read and check every file of ``run_dir``; bad input raises ``ReportInputError``."""
    run_dir = Path(run_dir)
    if not run_dir.exists():
        raise ReportInputError(f"{run_dir}: run directory not found")
    if not run_dir.is_dir():
        raise ReportInputError(f"{run_dir}: not a directory")
    truncated: list[str] = []

    def optional(
        name: str, columns: tuple[Column, ...], what: str, **kw: Any
    ) -> pd.DataFrame | None:
        path = run_dir / name
        if not path.exists():
            return None
        return _keep(read_checked_csv(path, columns, what=what, **kw), truncated)

    request_paths = _request_paths(run_dir)
    requests = _read_requests(request_paths, truncated) if request_paths else None
    stats = optional("locust_stats.csv", STATS_COLUMNS, "Locust stats")
    history = optional("locust_stats_history.csv", HISTORY_COLUMNS, "Locust stats history")
    if requests is None:
        if stats is None:
            raise ReportInputError(
                f"{run_dir}: no requests.csv and no locust_stats.csv: not a run directory"
            )
        if history is None:
            raise ReportInputError(
                f"{run_dir / 'locust_stats_history.csv'}: file not found "
                "(needed when there is no requests.csv)"
            )
    if history is not None and not (history["Name"] == "Aggregated").any():
        raise ReportInputError(
            f"{run_dir / 'locust_stats_history.csv'}: no Aggregated rows, not Locust's history"
        )
    meta, problem = _read_run_json(run_dir / "run.json")
    return RunData(
        run_dir=run_dir,
        meta=meta,
        run_json_problem=problem,
        requests=requests,
        request_files=[p.name for p in request_paths],
        stats=stats,
        history=history,
        failures=optional(
            "locust_failures.csv", FAILURE_COLUMNS, "Locust failures", allow_no_rows=True
        ),
        exceptions=optional(
            "locust_exceptions.csv", EXCEPTION_COLUMNS, "Locust exceptions", allow_no_rows=True
        ),
        server_history=optional("server_history.csv", SERVER_COLUMNS, "server history"),
        truncated_files=truncated,
        cpu_warning=_cpu_warning(run_dir / "locust.log"),
        has_locust_html=(run_dir / "locust.html").is_file(),
    )


def _keep(table: CsvTable, truncated: list[str]) -> pd.DataFrame:
    if table.truncated:
        truncated.append(table.path.name)
    return table.frame


def _request_paths(run_dir: Path) -> list[Path]:
    single = run_dir / "requests.csv"
    workers = sorted(run_dir.glob("requests-*.csv"))
    return ([single] if single.exists() else []) + workers


def _read_requests(paths: list[Path], truncated: list[str]) -> pd.DataFrame:
    """All workers' logs as one frame sorted by send time (the recovery search relies on it)."""
    frames = []
    for path in paths:
        table = read_checked_csv(
            path, REQUEST_COLUMNS, what="request log", allow_no_rows=len(paths) > 1
        )
        stamps = table.frame["timestamp"].to_numpy()
        odd = (stamps < 1e9) | (stamps > 1e10)
        if odd.any():
            row = int(odd.argmax())
            raise ReportInputError(
                f"{path}: timestamp {float(stamps[row])!r} on line {row + 2} is not epoch seconds"
            )
        frames.append(_keep(table, truncated))
    frame = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
    if frame.empty:
        names = ", ".join(p.name for p in paths)
        raise ReportInputError(f"{paths[0].parent}: {names}: header only, no request rows")
    if (frame["response_time_ms"] < 0).any():
        row = int((frame["response_time_ms"] < 0).to_numpy().argmax())
        raise ReportInputError(f"{paths[0]}: negative response_time_ms on data row {row + 1}")
    frame = frame.sort_values("timestamp", kind="stable", ignore_index=True)
    frame["name"] = frame["name"].astype("category")
    return frame


def _read_run_json(path: Path) -> tuple[dict[str, Any], str | None]:
    if not path.exists():
        return {}, "no run.json"
    try:
        document = orjson.loads(path.read_bytes())
    except (OSError, orjson.JSONDecodeError) as exc:
        return {}, f"run.json is unreadable ({str(exc).splitlines()[0][:80]})"
    if not isinstance(document, dict):
        return {}, "run.json is not a JSON object"
    return document, None


def _cpu_warning(path: Path) -> bool:
    try:
        return _CPU_WARNING.search(path.read_bytes()) is not None
    except OSError:
        return False
