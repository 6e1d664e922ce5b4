"""Everything a run directory holds, read and checked once (the I/O shell of the analysis).

Which files are needed depends on what is there: the per-request log (``requests.csv`` or
``requests-*.csv`` from distributed workers) is the primary source; without it Locust's own
``locust_stats.csv`` and ``locust_stats_history.csv`` are required instead, and rebuilt into a
request frame (``fallback.py``), so that what comes after reads one kind of data. Every other
file is optional, but a file that is present must be well formed. ``run.json`` is the exception:
when it is unreadable the phases are segmented from the user count, so its problem becomes a
warning. ``server_history.csv`` may hold no rows at all: the server side was not sampled, which is
no error. Its header tells its format: the reference API's columns, or Prometheus series.

In an open-model run the request log's response times are measured from each request's intended
start as they are read (``open_model``), so that everything after reading judges the latency a
client arriving on schedule would have seen. The load generator's own log (``generator.csv``, or
``generator-*.csv`` from distributed workers) is optional: runs from before it existed lack it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
import pandas as pd

from reports import fallback, open_model
from reports.errors import ReportInputError
from reports.loading import CsvTable, read_checked_csv, read_header
from reports.run_format import (
    GENERATOR_COLUMNS,
    GENERATOR_LOG,
    LOCUST_AGGREGATED,
    LOCUST_CPU_WARNING,
    LOCUST_EXCEPTION_COLUMNS,
    LOCUST_EXCEPTIONS,
    LOCUST_FAILURE_COLUMNS,
    LOCUST_FAILURES,
    LOCUST_HISTORY,
    LOCUST_HISTORY_COLUMNS,
    LOCUST_HTML,
    LOCUST_LOG,
    LOCUST_STATS,
    LOCUST_STATS_COLUMNS,
    MODEL_CLOSED,
    MODEL_OPEN,
    REQUEST_COLUMNS,
    REQUEST_LOG,
    RUN_RECORD,
    SERVER_COLUMNS,
    SERVER_HISTORY,
    WORKER_GENERATOR_LOG_GLOB,
    WORKER_REQUEST_LOG_GLOB,
    Column,
    server_series_columns,
)

#: The ``source`` of a report whose figures come from the per-request log.
SOURCE_REQUEST_LOG = "request log"
_RUN_DIR_NAME = re.compile(r"^(?P<scenario>.+?)-\d{8}T\d{6}Z")


@dataclass
class RunData:
    """The checked contents of one run directory; frames are ``None`` when the file is absent.

    ``requests`` is always there: the request log, or the requests rebuilt from Locust's CSVs
    (then ``source`` says so and ``approximate`` is true).
    """

    run_dir: Path
    meta: dict[str, Any]
    run_json_problem: str | None
    requests: pd.DataFrame
    source: str
    request_files: list[str]
    users: pd.DataFrame | None  # timestamp, users: Locust's user count once a second
    failures: pd.DataFrame | None
    exceptions: pd.DataFrame | None
    server_history: pd.DataFrame | None  # the reference format (SERVER_COLUMNS)
    server_series: pd.DataFrame | None  # the series format: timestamp and Prometheus samples
    #: Every Locust process's generator log (GENERATOR_COLUMNS), a row per process and second.
    generator: pd.DataFrame | None = None
    truncated_files: list[str] = field(default_factory=list)
    cpu_warning: bool = False
    has_locust_html: bool = False
    has_locust_log: bool = False

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

    @property
    def model(self) -> str:
        """``open`` when run.json says so; else ``closed`` (runs from before the open model)."""
        return MODEL_OPEN if self.meta.get("model") == MODEL_OPEN else MODEL_CLOSED

    @property
    def approximate(self) -> bool:
        """True when the requests were rebuilt from Locust's CSVs rather than logged."""
        return self.source != SOURCE_REQUEST_LOG

    @property
    def time_scale(self) -> float:
        """run.json's time scale; 1 when it is missing or not a positive number."""
        value = self.meta.get("time_scale")
        if isinstance(value, int | float) and not isinstance(value, bool) and 0 < value < 1e6:
            return float(value)
        return 1.0


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

    request_paths = _logs(run_dir, REQUEST_LOG, WORKER_REQUEST_LOG_GLOB)
    requests = _read_requests(request_paths, truncated) if request_paths else None
    stats = optional(LOCUST_STATS, LOCUST_STATS_COLUMNS, "Locust stats")
    history = optional(LOCUST_HISTORY, LOCUST_HISTORY_COLUMNS, "Locust stats history")
    failures = optional(
        LOCUST_FAILURES, LOCUST_FAILURE_COLUMNS, "Locust failures", allow_no_rows=True
    )
    if requests is None:
        if stats is None:
            raise ReportInputError(
                f"{run_dir}: no {REQUEST_LOG} and no {LOCUST_STATS}: not a run directory"
            )
        if history is None:
            raise ReportInputError(
                f"{run_dir / LOCUST_HISTORY}: file not found (needed when there is no "
                f"{REQUEST_LOG})"
            )
    if history is not None and not (history["Name"] == LOCUST_AGGREGATED).any():
        raise ReportInputError(
            f"{run_dir / LOCUST_HISTORY}: no {LOCUST_AGGREGATED} rows, not Locust's history"
        )
    source = SOURCE_REQUEST_LOG
    meta, problem = _read_run_json(run_dir / RUN_RECORD)
    if requests is None:
        assert stats is not None and history is not None
        try:
            requests = fallback.rebuild_requests(stats, history, failures)
        except ValueError as exc:
            raise ReportInputError(f"{run_dir / LOCUST_HISTORY}: {exc}") from None
        source = fallback.SOURCE
    elif meta.get("model") == MODEL_OPEN:
        requests = open_model.correct_latency(requests)
    server_history, server_series = _read_server_history(run_dir / SERVER_HISTORY, truncated)
    return RunData(
        run_dir=run_dir,
        meta=meta,
        run_json_problem=problem,
        requests=requests,
        source=source,
        request_files=[p.name for p in request_paths],
        users=fallback.users_series(history) if history is not None else None,
        failures=failures,
        exceptions=optional(
            LOCUST_EXCEPTIONS, LOCUST_EXCEPTION_COLUMNS, "Locust exceptions", allow_no_rows=True
        ),
        server_history=server_history,
        server_series=server_series,
        generator=_read_generator(run_dir, truncated),
        truncated_files=truncated,
        cpu_warning=_cpu_warning(run_dir / LOCUST_LOG),
        has_locust_html=(run_dir / LOCUST_HTML).is_file(),
        has_locust_log=(run_dir / LOCUST_LOG).is_file(),
    )


def _keep(table: CsvTable, truncated: list[str]) -> pd.DataFrame:
    if table.truncated:
        truncated.append(table.path.name)
    return table.frame


def _logs(run_dir: Path, single: str, per_worker: str) -> list[Path]:
    """The local run's log and the distributed workers' ones."""
    path = run_dir / single
    return ([path] if path.exists() else []) + sorted(run_dir.glob(per_worker))


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
    frame["name"] = names_by_method(frame)
    return frame


def names_by_method(frame: pd.DataFrame) -> pd.Categorical:
    """Endpoint names: a name sent with more than one method becomes "METHOD name" on each
    row (Locust keeps GET and POST /orders apart too); any other name stays as it is, so a
    run with one method per name reads as before."""
    names = frame["name"].astype(str)
    if "request_type" not in frame.columns:
        return pd.Categorical(names)
    methods = frame["request_type"].fillna("").astype(str)
    shared = methods.groupby(names).nunique() > 1
    split = names.map(shared).fillna(False).to_numpy(dtype=bool)
    return pd.Categorical(names.where(~split, methods + " " + names))


def _read_generator(run_dir: Path, truncated: list[str]) -> pd.DataFrame | None:
    """Every generator log's rows as one frame; None when there is none, or only headers."""
    paths = _logs(run_dir, GENERATOR_LOG, WORKER_GENERATOR_LOG_GLOB)
    frames = [
        _keep(
            read_checked_csv(path, GENERATOR_COLUMNS, what="generator log", allow_no_rows=True),
            truncated,
        )
        for path in paths
    ]
    frames = [frame for frame in frames if not frame.empty]
    if not frames:
        return None
    return pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]


def _read_server_history(
    path: Path, truncated: list[str]
) -> tuple[pd.DataFrame | None, pd.DataFrame | None]:
    """(the reference format, the series format): at most one is a frame. Both are None when the
    server side was not sampled: no file, a file never written to, or a header without rows."""
    if not path.exists() or path.stat().st_size == 0:
        return None, None
    what = "server history"
    try:
        series = server_series_columns(read_header(path, what=what))
    except ValueError as exc:
        raise ReportInputError(f"{path}: {exc}") from None
    columns = SERVER_COLUMNS if series is None else series
    frame = _keep(read_checked_csv(path, columns, what=what, allow_no_rows=True), truncated)
    if frame.empty:
        return None, None
    return (frame, None) if series is None else (None, frame)


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
        return LOCUST_CPU_WARNING.search(path.read_bytes()) is not None
    except OSError:
        return False
