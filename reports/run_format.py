"""The run directory's format: its files, their columns and types, and run.json's keys.

The writers (the request log and the phase log in the Locust process, the server sampler and
the runner) and the readers (``reports``) import this one module, so a column is named and typed
in exactly one place. It imports neither pandas nor Locust: the load generator loads it too.
``FORMAT_VERSION`` goes into run.json; a reader can tell an older directory by it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

#: 2: run.json phases carry a ``role``; run.json carries ``format_version`` and ``recovery``.
#: 3: requests.csv has ``intended_start``; run.json says the ``model``; generator.csv.
FORMAT_VERSION = 3

# Files written during a run.
REQUEST_LOG = "requests.csv"
#: One per distributed worker, ``{worker}`` being its process id.
WORKER_REQUEST_LOG = "requests-{worker}.csv"
WORKER_REQUEST_LOG_GLOB = "requests-*.csv"
PHASE_LOG = "phases.jsonl"
#: The load generator's own health, once a second per Locust process that sends requests.
GENERATOR_LOG = "generator.csv"
WORKER_GENERATOR_LOG = "generator-{worker}.csv"
#: The capacity search's settings, steps and answer so far; the runner copies it into run.json.
CAPACITY_FILE = "capacity.json"
WORKER_GENERATOR_LOG_GLOB = "generator-*.csv"
RUN_RECORD = "run.json"
SERVER_HISTORY = "server_history.csv"
SERVICE_LOG = "service.log"
LOCUST_LOG = "locust.log"
LOCUST_HTML = "locust.html"
#: Locust's ``--csv`` prefix: it writes ``locust_stats.csv``, ``locust_stats_history.csv``...
LOCUST_CSV_PREFIX = "locust"
LOCUST_STATS = "locust_stats.csv"
LOCUST_HISTORY = "locust_stats_history.csv"
LOCUST_FAILURES = "locust_failures.csv"
LOCUST_EXCEPTIONS = "locust_exceptions.csv"

Kind = Literal["float", "int", "str", "flag"]


@dataclass(frozen=True)
class Column:
    """One column: its type, whether a reader requires it and whether cells may be empty."""

    name: str
    kind: Kind
    required: bool = True
    empty_ok: bool = False


def names(columns: tuple[Column, ...]) -> tuple[str, ...]:
    """The header row a writer puts first."""
    return tuple(column.name for column in columns)


#: requests.csv, in the order the request log writes them: one row per request.
REQUEST_COLUMNS: tuple[Column, ...] = (
    Column("timestamp", "float"),  # epoch seconds at which the request was sent
    # Epoch seconds at which it should have been sent (open model); empty in closed runs.
    Column("intended_start", "float", required=False, empty_ok=True),
    Column("request_type", "str", required=False, empty_ok=True),
    Column("name", "str"),  # the route template, not the URL
    Column("response_time_ms", "float"),
    Column("response_length", "float", required=False, empty_ok=True),
    Column("status_code", "int", required=False, empty_ok=True),  # 0: no response
    Column("success", "flag"),
    Column("exception", "str", required=False, empty_ok=True),
    Column("x_cache", "str", required=False, empty_ok=True),  # HIT, MISS or empty
    Column("server_ms", "float", required=False, empty_ok=True),  # Server-Timing app;dur
)

#: server_history.csv: the service sampled once a second.
SERVER_COLUMNS: tuple[Column, ...] = (
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
#: server_history.csv in the series format (any column outside SERVER_COLUMNS): ``timestamp``
#: and one column per Prometheus sample name, its values summed over label sets, an empty cell
#: when it was absent that second.
PROMETHEUS_NAME = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")


def server_series_columns(header: Sequence[str]) -> tuple[Column, ...] | None:
    """The columns of a server_history.csv with this ``header``: None for the reference format
    (every column is one of SERVER_COLUMNS), else the series format's. A column of the series
    format that is no Prometheus metric name is a ``ValueError`` naming it."""
    if set(header) <= set(names(SERVER_COLUMNS)):
        return None
    timestamp = SERVER_COLUMNS[0]
    metrics = [name for name in header if name != timestamp.name]
    for name in metrics:
        if not PROMETHEUS_NAME.fullmatch(name):
            raise ValueError(
                f"column {name[:60]!r} is not a Prometheus metric name ({PROMETHEUS_NAME.pattern})"
            )
    return (timestamp, *(Column(n, "float", required=False, empty_ok=True) for n in metrics))


#: generator.csv: per second, what the generator meant to send and what it did. In a closed
#: run only ``timestamp`` and ``cpu_pct`` are filled: users send when the previous reply came.
GENERATOR_COLUMNS: tuple[Column, ...] = (
    Column("timestamp", "float"),  # epoch seconds: the end of the second described
    Column("intended", "int", empty_ok=True),  # arrivals due in that second
    Column("sent", "int", empty_ok=True),  # of them, sent
    Column("dropped", "int", empty_ok=True),  # of them, dropped: max in flight reached
    Column("lag_p50_ms", "float", empty_ok=True),  # actual send - intended send, of the sent
    Column("lag_p99_ms", "float", empty_ok=True),
    Column("in_flight", "int", empty_ok=True),  # requests outstanding at the end of the second
    Column("cpu_pct", "float", empty_ok=True),  # this process's CPU, % of one core
)

# Locust's own CSVs (``--csv locust --csv-full-history``), as far as the reports read them.
_LOCUST_PERCENTILES = ("50%", "95%", "99%")
LOCUST_STATS_COLUMNS: tuple[Column, ...] = (
    Column("Type", "str", empty_ok=True),
    Column("Name", "str"),
    Column("Request Count", "int"),
    Column("Failure Count", "int"),
    Column("Average Response Time", "float"),
    Column("Requests/s", "float"),
    *(Column(p, "float", empty_ok=True) for p in _LOCUST_PERCENTILES),
)
LOCUST_HISTORY_COLUMNS: tuple[Column, ...] = (
    Column("Timestamp", "float"),
    Column("User Count", "int"),
    Column("Type", "str", empty_ok=True),
    Column("Name", "str"),
    Column("Requests/s", "float"),
    Column("Failures/s", "float"),
    *(Column(p, "float", empty_ok=True) for p in _LOCUST_PERCENTILES),
    Column("Total Request Count", "int"),
    Column("Total Failure Count", "int"),
    Column("Total Average Response Time", "float"),
)
LOCUST_FAILURE_COLUMNS: tuple[Column, ...] = (
    Column("Method", "str", empty_ok=True),
    Column("Name", "str", empty_ok=True),
    Column("Error", "str", empty_ok=True),
    Column("Occurrences", "int"),
)
LOCUST_EXCEPTION_COLUMNS: tuple[Column, ...] = (
    Column("Count", "int"),
    Column("Message", "str", empty_ok=True),
    Column("Nodes", "str", required=False, empty_ok=True),
)
#: Locust's aggregate row name in its stats files.
LOCUST_AGGREGATED = "Aggregated"

# run.json: what ran.
RUN_KEYS: tuple[str, ...] = (
    "format_version",
    "scenario",
    "host",  # without credentials
    "started",  # epoch seconds
    "ended",
    "time_scale",
    "partial",  # true when the run was interrupted or could not finish
    "partial_reason",
    "phases",
    "users",
    "processes",
    "think_time",
    "recovery",  # the recovery limits the run watched for, already scaled
    "locustfile",  # the user classes' file when not the built-in users, else null
    "schedule",  # where the phases came from: the scenario's, --stages or a schedule file
    "health_path",  # the start check's path, null when skipped
    "headers",  # the names of the headers sent with every request (never their values)
    "server_source",  # what server_history.csv was sampled from; null: not sampled
    "server_note",  # why the server side was not sampled, when it was not
    "model",  # "closed" (users wait for replies) or "open" (arrivals on their own schedule)
    "rate",  # open: the first phase's arrivals per second; null in closed runs
    "max_in_flight",  # open: requests outstanding at most, beyond which arrivals are dropped
    "arrivals",  # open: "uniform" or "poisson"
    "dropped",  # open: arrivals dropped at the in-flight limit, all processes; null: closed
    "capacity",  # the capacity search's settings, steps and answer; null for other runs
    "versions",
)
#: Each of run.json's phases; ``start`` and ``end`` are the actual epoch seconds.
PHASE_KEYS: tuple[str, ...] = ("name", "role", "start", "end", "users")
# Open runs' phases also carry ``rate``: their target arrivals per second.
MODEL_CLOSED = "closed"
MODEL_OPEN = "open"

# What a phase is, whatever it is called: reports judge degradation and recovery by role.
ROLE_BASELINE = "baseline"
ROLE_SPIKE = "spike"
ROLE_RECOVERY = "recovery"
ROLE_STEADY = "steady"
ROLES: tuple[str, ...] = (ROLE_BASELINE, ROLE_SPIKE, ROLE_RECOVERY, ROLE_STEADY)

#: Locust's words when its own process runs out of CPU, in ``locust.log``: "CPU usage above
#: 90%!" (local runner), "CPU usage threshold was exceeded on workers during the test!" (master)
#: and "CPU usage was too high at some point" (at the end).
LOCUST_CPU_WARNING = re.compile(rb"CPU usage (above|threshold was exceeded|was too high)")
