"""Synthetic run directories with a known ground truth, for the reports tests.

Every figure a test asserts can be derived from the arrays built here: response times are
chosen so that the percentiles are round numbers (numpy's linear interpolation), and the
request log, Locust's CSVs and run.json describe the same run.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from reports.run_format import REQUEST_COLUMNS as REQUEST_LOG_COLUMNS
from reports.run_format import names

START = 1_700_000_000.0
HISTORICAL, HEALTH = "/api/v1/historical", "/health"
REQUEST_COLUMNS = list(names(REQUEST_LOG_COLUMNS))
PERCENTILES = ["50%", "66%", "75%", "80%", "90%", "95%", "98%", "99%", "99.9%", "99.99%", "100%"]
STATS_HEADER = [
    "Type",
    "Name",
    "Request Count",
    "Failure Count",
    "Median Response Time",
    "Average Response Time",
    "Min Response Time",
    "Max Response Time",
    "Average Content Size",
    "Requests/s",
    "Failures/s",
    *PERCENTILES,
]
HISTORY_HEADER = [
    "Timestamp",
    "User Count",
    "Type",
    "Name",
    "Requests/s",
    "Failures/s",
    *PERCENTILES,
    "Total Request Count",
    "Total Failure Count",
    "Total Median Response Time",
    "Total Average Response Time",
    "Total Min Response Time",
    "Total Max Response Time",
    "Total Average Content Size",
]
REAL_FIXTURE = Path(__file__).parent / "fixtures" / "real-spike"


def requests_frame(rows: Iterable[tuple]) -> pd.DataFrame:
    """Rows of (timestamp, name, response_time_ms, success[, exception, x_cache, server_ms])."""
    full = []
    for row in rows:
        ts, name, rt, ok, *rest = row
        exception, x_cache, server_ms = [*rest, *["", "", None][len(rest) :]][:3]
        full.append(
            {
                "timestamp": ts,
                "request_type": "GET",
                "name": name,
                "response_time_ms": rt,
                "response_length": 100,
                "status_code": 200 if ok else 503,
                "success": int(ok),
                "exception": exception if not ok else "",
                "x_cache": x_cache,
                "server_ms": server_ms,
            }
        )
    return pd.DataFrame(full, columns=REQUEST_COLUMNS)


def block(start: float, seconds: int, per_second: int, rt_of, fail_of=None, name_of=None):
    """Requests evenly spread over ``seconds`` seconds; ``rt_of(second, j, n)`` gives each time."""
    rows = []
    for s in range(seconds):
        for j in range(per_second):
            n = s * per_second + j
            ok = not (fail_of and fail_of(s, j))
            name = name_of(s, j) if name_of else (HISTORICAL if j % 2 == 0 else HEALTH)
            exception = "" if ok else "HTTPError('503 Server Error')"
            rows.append(
                (
                    start + s + j / per_second,
                    name,
                    float(rt_of(s, j, n)),
                    ok,
                    exception,
                    "HIT" if j % 4 else "MISS",
                    float(rt_of(s, j, n)) / 2,
                )
            )
    return rows


def spike_rows(
    recover_at: int = 7,
    recovery_s: int = 60,
    errors_until: int = 0,
    *,
    warmup_s: int = 0,
    warmup_ms: float = 400.0,
    slow_ms: float = 500.0,
) -> list[tuple]:
    """A spike run: normal 30 s, spike 30 s, recovery ``recovery_s`` s.

    normal: 10 req/s, response times 1..100 ms three times over (p95 = 95.05 ms, no failure),
    except the first ``warmup_s`` s at ``warmup_ms``; its last 80 % (the baseline that recovery
    is measured against) has p95 = 96.05 ms;
    spike: 20 req/s, three times slower (p95 = 285.15 ms), every tenth request fails.
    Each second holds every tenth (fifth) value of the cycle, so that every second looks like
    the whole phase, as in a real steady load (what Locust's ~10 s windows assume);
    recovery: ``slow_ms`` until ``recover_at`` s, then 10..100 ms; one failure per second until
    ``errors_until`` s. So recovery_seconds = max(recover_at, errors_until).
    """
    normal = block(
        START, 30, 10, lambda s, j, n: warmup_ms if s < warmup_s else (10 * j + s) % 100 + 1
    )
    spike = block(
        START + 30,
        30,
        20,
        lambda s, j, n: 3 * ((5 * j + s) % 100 + 1),
        fail_of=lambda s, j: j % 10 == 9,
    )
    recovery = block(
        START + 60,
        recovery_s,
        10,
        lambda s, j, n: slow_ms if s < recover_at else (j + 1) * 10.0,
        fail_of=lambda s, j: s < errors_until and j == 0,
    )
    return normal + spike + recovery


#: The p95 of the normal phase's last 80 %: the baseline left after the warm-up.
BASELINE_P95 = 96.05


def spike_phases(recovery_s: int = 60) -> list[dict]:
    return [
        {"name": "normal", "start": START, "end": START + 30, "users": 10},
        {"name": "spike", "start": START + 30, "end": START + 60, "users": 50},
        {"name": "recovery", "start": START + 60, "end": START + 60 + recovery_s, "users": 10},
    ]


def write_run(
    run_dir: Path,
    rows: list[tuple] | pd.DataFrame,
    phases: list[dict] | None = None,
    *,
    scenario: str = "spike",
    locust: bool = True,
    stale_by: int = 0,
    run_json: bool = True,
    requests_log: bool = True,
    **meta,
) -> Path:
    """A run directory: requests.csv, Locust's CSVs (totals ``stale_by`` short) and run.json."""
    run_dir.mkdir(parents=True, exist_ok=True)
    frame = rows if isinstance(rows, pd.DataFrame) else requests_frame(rows)
    if requests_log:
        frame.to_csv(run_dir / "requests.csv", index=False)
    if phases is None:
        phases = [
            {
                "name": scenario,
                "start": float(frame["timestamp"].min()),
                "end": float(frame["timestamp"].max()) + 1,
                "users": 10,
            }
        ]
    if locust:
        write_locust_csvs(run_dir, frame, phases, stale_by=stale_by)
    if run_json:
        document = {
            "scenario": scenario,
            "host": "http://127.0.0.1:8000",
            "started": phases[0]["start"],
            "ended": phases[-1]["end"],
            "time_scale": 1.0,
            "partial": False,
            "phases": phases,
            "versions": {"python": "3.11"},
        }
        document.update(meta)
        (run_dir / "run.json").write_text(json.dumps(document))
    return run_dir


def locust_round(value: float) -> int:
    """Locust's storage of a response time (stats.py: bucket_response_time)."""
    if value < 100:
        return int(round(value))
    if value < 1000:
        return int(round(value, -1))
    if value < 10000:
        return int(round(value, -2))
    return int(round(value, -3))


def write_locust_csvs(run_dir: Path, frame: pd.DataFrame, phases: list[dict], stale_by: int = 0):
    """locust_stats.csv (totals short by ``stale_by`` per entry, as at a stale shutdown),
    locust_stats_history.csv (one row per endpoint and Aggregated per second: cumulative
    totals of the requests sent before that second, 10 s windowed percentiles, users of the
    phase with a one-second ramp row when the level changes), empty failures and exceptions."""
    names = sorted(frame["name"].unique())
    ts = frame["timestamp"].to_numpy()
    rt = frame["response_time_ms"].to_numpy()
    ok = frame["success"].to_numpy().astype(bool)
    stats_rows, history_rows = [], []
    for name in [*names, "Aggregated"]:
        mask = (
            np.ones(len(frame), bool)
            if name == "Aggregated"
            else (frame["name"] == name).to_numpy()
        )
        n = int(mask.sum()) - stale_by
        values = rt[mask][:n]
        stats_rows.append(
            [
                "" if name == "Aggregated" else "GET",
                name,
                n,
                int((~ok[mask][:n]).sum()),
                locust_round(np.median(values)),
                float(values.mean()),
                float(values.min()),
                float(values.max()),
                100.0,
                n / (phases[-1]["end"] - phases[0]["start"]),
                0.0,
                *[locust_round(np.percentile(values, float(p[:-1]))) for p in PERCENTILES],
            ]
        )
    first, last = int(phases[0]["start"]), int(np.ceil(phases[-1]["end"]))
    levels = [(p["start"], p.get("users", 10)) for p in phases]
    previous = None
    for t in range(first + 1, last + 1):
        users = next(u for s, u in reversed(levels) if t >= s) if t >= levels[0][0] else 0
        shown = users if previous in (None, users) else (previous + users) // 2  # a ramp row
        previous = users
        for name in [*names, "Aggregated"]:
            mask = (
                np.ones(len(frame), bool)
                if name == "Aggregated"
                else (frame["name"] == name).to_numpy()
            )
            before = mask & (ts < t)
            window = mask & (ts >= t - 10) & (ts < t)
            last_second = mask & (ts >= t - 1) & (ts < t)
            pct = (
                [locust_round(np.percentile(rt[window], float(p[:-1]))) for p in PERCENTILES]
                if window.any()
                else ["N/A"] * len(PERCENTILES)
            )
            count = int(before.sum())
            history_rows.append(
                [
                    t,
                    shown,
                    "" if name == "Aggregated" else "GET",
                    name,
                    f"{last_second.sum():f}",
                    f"{(last_second & ~ok).sum():f}",
                    *pct,
                    count,
                    int((before & ~ok).sum()),
                    0,
                    float(rt[before].mean()) if count else 0.0,
                    0,
                    0,
                    100.0,
                ]
            )
    pd.DataFrame(stats_rows, columns=STATS_HEADER).to_csv(run_dir / "locust_stats.csv", index=False)
    pd.DataFrame(history_rows, columns=HISTORY_HEADER).to_csv(
        run_dir / "locust_stats_history.csv", index=False
    )
    (run_dir / "locust_failures.csv").write_text(
        "Method,Name,Error,Occurrences,First Seen,Last Seen\n"
    )
    (run_dir / "locust_exceptions.csv").write_text("Count,Message,Traceback,Nodes\n")


def constant_run(run_dir: Path, per_endpoint: dict[str, tuple[float, int, int]], **kw) -> Path:
    """One 100-second phase; each endpoint: (response time, requests, failures)."""
    rows = []
    for name, (value, count, failures) in per_endpoint.items():
        for i in range(count):
            rows.append((START + i * 100 / count, name, value, i >= failures, "boom"))
    rows.sort(key=lambda r: r[0])
    phases = [
        {"name": kw.pop("scenario", "sustained"), "start": START, "end": START + 100, "users": 10}
    ]
    return write_run(run_dir, rows, phases, scenario=phases[0]["name"], **kw)


def sustained_rows(
    window_ms: Sequence[float], window_failures: Sequence[int] | None = None, per_second: int = 10
) -> list[tuple]:
    """A steady run of 10 s windows: every response of window ``k`` takes ``window_ms[k]`` (so
    that is its p95) and ``window_failures[k]`` of its requests fail (one per second at most)."""
    failures = window_failures or [0] * len(window_ms)
    return block(
        START,
        10 * len(window_ms),
        per_second,
        lambda s, j, n: window_ms[s // 10],
        fail_of=lambda s, j: j == 0 and s % 10 < failures[s // 10],
    )


def write_sustained(run_dir: Path, rows: list[tuple], seconds: float, **kw) -> Path:
    """A ``sustained`` run of one phase from ``START`` lasting ``seconds``."""
    phases = [{"name": "sustained", "start": START, "end": START + seconds, "users": 10}]
    return write_run(run_dir, rows, phases, scenario="sustained", **kw)


def write_server_history(
    run_dir: Path, rss_mb: Sequence[float], cache_size: Sequence[int] | None = None
) -> None:
    """server_history.csv with one sample a second from ``START`` + 0.5 s; RSS in MB (10^6 B)."""
    frame = pd.DataFrame(
        {
            "timestamp": START + 0.5 + np.arange(len(rss_mb)),
            "rss_bytes": np.round(np.asarray(rss_mb, dtype=float) * 1e6).astype(np.int64),
        }
    )
    if cache_size is not None:
        frame["cache_size"] = cache_size
    frame.to_csv(run_dir / "server_history.csv", index=False)


def copy_real_fixture(target: Path) -> Path:
    shutil.copytree(REAL_FIXTURE, target)
    return target
