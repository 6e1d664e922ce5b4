"""run.json: what ran, when each phase really started and ended, and whether it finished.

The shape logs each phase change as it happens (phases.jsonl, written in the Locust
process); this module turns that log into the run record the reports read. The log also
holds the recovery watch's notes, which mark no phase boundary.
"""

from __future__ import annotations

import csv
import json
import platform
import sys
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit, urlunsplit

from reports.run_format import (
    CAPACITY_FILE,
    FORMAT_VERSION,
    GENERATOR_LOG,
    MODEL_CLOSED,
    MODEL_OPEN,
    PHASE_LOG,
    RUN_RECORD,
    WORKER_GENERATOR_LOG_GLOB,
)
from scenarios.arrivals import UNIFORM
from scenarios.catalog import OPEN_DEFAULT_MAX_IN_FLIGHT


def split_credentials(url: str) -> tuple[str, tuple[str, str] | None]:
    """``url`` without ``user:password@``, and the credentials (unquoted) if it had any.

    Run directories must hold no secrets, so only the clean URL is ever written down; the
    credentials travel to the load generator out of band.
    """
    parts = urlsplit(url)
    if parts.username is None and parts.password is None:
        return url, None
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    netloc = f"{host}:{parts.port}" if parts.port else host
    credentials = (unquote(parts.username or ""), unquote(parts.password or ""))
    return urlunsplit(parts._replace(netloc=netloc)), credentials


def strip_credentials(url: str) -> str:
    return split_credentials(url)[0]


def read_phase_log(run_dir: Path) -> list[dict[str, Any]]:
    """The shape's events in order; a torn last line (a killed process) is skipped."""
    path = run_dir / PHASE_LOG
    events = []
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError:
        return []
    for line in lines:
        try:
            events.append(json.loads(line))
        except json.JSONDecodeError:
            continue
    return events


#: The events that start or end a phase; the others (the recovery watch's) are notes.
#: Events that end a phase: the next phase, a pause (a capacity step's arrivals stopped
#: while it is judged) or the end.
BOUNDARIES = ("phase", "pause", "end")


def phases_from_log(events: list[dict[str, Any]], ended: float) -> list[dict[str, Any]]:
    """Phases with their actual start and end: each ends where the next phase (or the end)
    begins, the last one at ``ended`` when the log stops short (an interrupted run)."""
    boundaries = [e for e in events if e.get("event") in BOUNDARIES]
    phases = []
    for index, event in enumerate(boundaries):
        if event["event"] != "phase":
            continue
        following = boundaries[index + 1]["time"] if index + 1 < len(boundaries) else ended
        phases.append(
            {
                "name": event["name"],
                "role": event["role"],
                "start": event["time"],
                "end": following,
                "users": event["users"],
                **({"rate": event["rate"]} if "rate" in event else {}),
            }
        )
    return phases


@dataclass
class RunRecord:
    scenario: str
    host: str
    started: float
    time_scale: float
    users: int
    processes: int
    think_time: str
    ended: float | None = None
    partial: bool = False
    partial_reason: str | None = None
    #: The recovery limits the run watched for, scaled; None for a run without a spike.
    recovery: dict[str, float] | None = None
    locustfile: str | None = None
    schedule: str | None = None
    health_path: str | None = None
    headers: list[str] = field(default_factory=list)  # names only: values are secrets
    server_source: str | None = None
    server_note: str | None = None
    model: str = MODEL_CLOSED
    rate: float | None = None  # open: the first phase's arrivals per second
    max_in_flight: int | None = None
    arrivals: str | None = None
    dropped: int | None = None
    capacity: dict[str, Any] | None = None  # the capacity search's settings, steps and answer

    def document(self, run_dir: Path) -> dict[str, Any]:
        ended = self.ended if self.ended is not None else self.started
        return {
            "format_version": FORMAT_VERSION,
            "scenario": self.scenario,
            "host": strip_credentials(self.host),
            "started": self.started,
            "ended": ended,
            "time_scale": self.time_scale,
            "partial": self.partial,
            "partial_reason": self.partial_reason,
            "phases": phases_from_log(read_phase_log(run_dir), ended),
            "users": self.users,
            "processes": self.processes,
            "think_time": self.think_time,
            "recovery": self.recovery,
            "locustfile": self.locustfile,
            "schedule": self.schedule,
            "health_path": self.health_path,
            "headers": self.headers,
            "server_source": self.server_source,
            "server_note": self.server_note,
            "model": self.model,
            "rate": self.rate,
            "max_in_flight": self.max_in_flight,
            "arrivals": self.arrivals,
            "dropped": self.dropped,
            "capacity": self.capacity,
            "versions": versions(),
        }

    def write(self, run_dir: Path) -> Path:
        path = run_dir / RUN_RECORD
        tmp = path.with_suffix(".json.tmp")
        tmp.write_text(json.dumps(self.document(run_dir), indent=2) + "\n", encoding="utf-8")
        tmp.replace(path)
        return path


def versions() -> dict[str, str]:
    def version(package: str) -> str:
        try:
            return metadata.version(package)
        except metadata.PackageNotFoundError:
            return "unknown"

    return {
        "kit": version("market-loadkit"),
        "locust": version("locust"),
        "python": sys.version.split()[0],
        "platform": platform.platform(),
    }


def model_fields(
    rate: float | None, max_in_flight: int | None, arrivals: str | None
) -> dict[str, Any]:
    """run.json's model fields: what an open run offered first (``rate``), at most in flight,
    how spaced; a run without an arrival rate is closed."""
    if rate is None:
        return {"model": MODEL_CLOSED}
    return {
        "model": MODEL_OPEN,
        "rate": rate,
        "max_in_flight": max_in_flight or OPEN_DEFAULT_MAX_IN_FLIGHT,
        "arrivals": arrivals or UNIFORM,
    }


def read_capacity(run_dir: Path) -> dict[str, Any] | None:
    """The capacity search's answer as its shape last wrote it; None without one."""
    try:
        document = json.loads((run_dir / CAPACITY_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return document if isinstance(document, dict) else None


def dropped_arrivals(run_dir: Path) -> int:
    """Arrivals dropped at the in-flight limit, summed over every process's generator log;
    a torn last line (a killed process) is skipped."""
    total = 0
    for path in (run_dir / GENERATOR_LOG, *sorted(run_dir.glob(WORKER_GENERATOR_LOG_GLOB))):
        try:
            with path.open(newline="", encoding="utf-8") as log:
                rows = list(csv.DictReader(log))
        except OSError:
            continue
        total += sum(int(r["dropped"]) for r in rows if (r.get("dropped") or "").isdigit())
    return total
