"""Report build on a large run: 1M request rows and one hour of full Locust history.

Target (DESIGN/issue): <= 15 s and <= 2 GB peak RSS. The run directory is synthetic (numpy,
seeded): a one-hour spike schedule (normal, spike, recovery: 20 min each), five endpoints, 1 %
failures, X-Cache and Server-Timing columns, Locust's CSVs with one history row per endpoint
per second, and a server_history.csv. ``build_report`` is timed in this process; the peak RSS
is measured by building the same report again in a child interpreter and reading
``RUSAGE_CHILDREN``.

    .venv/bin/python -m benchmarks.bench_reports
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROWS = 1_000_000
SECONDS = 3600
ENDPOINTS = (
    "/health",
    "/api/v1/status",
    "/api/v1/symbols",
    "/api/v1/metrics",
    "/api/v1/historical",
)
TARGET_S = 15.0
TARGET_MB = 2048.0
START = 1_750_000_000.0


def make_run(run_dir: Path, rows: int = ROWS, seconds: int = SECONDS, seed: int = 7) -> Path:
    """Write a synthetic spike run of ``rows`` requests over ``seconds`` into ``run_dir``."""
    rng = np.random.default_rng(seed)
    run_dir.mkdir(parents=True, exist_ok=True)
    third = seconds / 3
    phases = [
        ("normal", 0.0, third, 10),
        ("spike", third, 2 * third, 50),
        ("recovery", 2 * third, seconds, 10),
    ]
    ts = np.sort(rng.uniform(0, seconds, rows))
    in_spike = (ts >= third) & (ts < 2 * third)
    names = rng.integers(0, len(ENDPOINTS), rows)
    rt = rng.lognormal(mean=3.0, sigma=0.6, size=rows) * np.where(in_spike, 2.5, 1.0)
    ok = rng.random(rows) >= 0.01
    hit = rng.random(rows) < 0.7
    server = rt * rng.uniform(0.3, 0.8, rows)
    frame = pd.DataFrame(
        {
            "timestamp": START + ts,
            "request_type": "GET",
            "name": np.asarray(ENDPOINTS, dtype=object)[names],
            "response_time_ms": rt.round(3),
            "response_length": rng.integers(100, 5000, rows),
            "status_code": np.where(ok, 200, 503),
            "success": ok.astype(np.int8),
            "exception": np.where(ok, "", "HTTPError('503 Server Error: Service Unavailable')"),
            "x_cache": np.where(hit, "HIT", "MISS"),
            "server_ms": server.round(3),
        }
    )
    frame.to_csv(run_dir / "requests.csv", index=False, float_format="%.6f")
    _locust_csvs(run_dir, frame, phases, seconds)
    _server_history(run_dir, frame, seconds)
    run = {
        "scenario": "spike",
        "host": "http://127.0.0.1:8000",
        "started": START,
        "ended": START + seconds,
        "time_scale": 1.0,
        "partial": False,
        "phases": [
            {"name": n, "start": START + a, "end": START + b, "users": u} for n, a, b, u in phases
        ],
        "versions": {"benchmark": "synthetic"},
    }
    (run_dir / "run.json").write_text(json.dumps(run, indent=2))
    return run_dir


def _locust_csvs(run_dir: Path, frame: pd.DataFrame, phases: list, seconds: int) -> None:
    percentiles = [
        "50%",
        "66%",
        "75%",
        "80%",
        "90%",
        "95%",
        "98%",
        "99%",
        "99.9%",
        "99.99%",
        "100%",
    ]
    second = np.floor(frame["timestamp"].to_numpy() - START).astype(np.int64)
    users = np.select(
        [second < phases[1][1], second < phases[2][1]], [phases[0][3], phases[1][3]], phases[2][3]
    )
    counts = np.bincount(second, minlength=seconds)
    users_at = np.array(
        [users[np.searchsorted(second, s)] if counts[s] else 10 for s in range(seconds)]
    )
    blocks = []
    for name in (*ENDPOINTS, "Aggregated"):
        mask = (
            np.ones(len(frame), bool)
            if name == "Aggregated"
            else (frame["name"] == name).to_numpy()
        )
        per_second = np.bincount(second[mask], minlength=seconds)
        fails = np.bincount(
            second[mask], weights=(frame["success"].to_numpy()[mask] == 0), minlength=seconds
        )
        rt_sum = np.bincount(
            second[mask], weights=frame["response_time_ms"].to_numpy()[mask], minlength=seconds
        )
        cumulative = np.cumsum(per_second)
        block = pd.DataFrame(
            {
                "Timestamp": (START + np.arange(seconds)).astype(np.int64),
                "User Count": users_at,
                "Type": "" if name == "Aggregated" else "GET",
                "Name": name,
                "Requests/s": per_second.astype(float),
                "Failures/s": fails,
            }
        )
        level = np.where(per_second > 0, rt_sum / np.maximum(per_second, 1), 0)
        for i, p in enumerate(percentiles):
            block[p] = (level * (1 + i * 0.2)).round(-1).astype(np.int64)
        block["Total Request Count"] = cumulative
        block["Total Failure Count"] = np.cumsum(fails).astype(np.int64)
        block["Total Median Response Time"] = 20
        block["Total Average Response Time"] = np.cumsum(rt_sum) / np.maximum(cumulative, 1)
        block["Total Min Response Time"] = 1
        block["Total Max Response Time"] = 900
        block["Total Average Content Size"] = 1000.0
        blocks.append(block)
    history = pd.concat(blocks).sort_values(["Timestamp"], kind="stable")
    history.to_csv(run_dir / "locust_stats_history.csv", index=False)
    last = history.groupby("Name", sort=False).tail(1)
    stats = pd.DataFrame(
        {
            "Type": last["Type"],
            "Name": last["Name"],
            "Request Count": last["Total Request Count"],
            "Failure Count": last["Total Failure Count"],
            "Median Response Time": 20,
            "Average Response Time": last["Total Average Response Time"],
            "Min Response Time": 1,
            "Max Response Time": 900,
            "Average Content Size": 1000.0,
            "Requests/s": last["Total Request Count"] / seconds,
            "Failures/s": 0.0,
            **{p: last[p] for p in percentiles},
        }
    )
    stats.to_csv(run_dir / "locust_stats.csv", index=False)
    (run_dir / "locust_failures.csv").write_text(
        "Method,Name,Error,Occurrences,First Seen,Last Seen\n"
    )
    (run_dir / "locust_exceptions.csv").write_text("Count,Message,Traceback,Nodes\n")


def _server_history(run_dir: Path, frame: pd.DataFrame, seconds: int) -> None:
    second = np.floor(frame["timestamp"].to_numpy() - START).astype(np.int64)
    hits = np.cumsum(np.bincount(second, weights=frame["x_cache"].eq("HIT"), minlength=seconds))
    total = np.cumsum(np.bincount(second, minlength=seconds))
    pd.DataFrame(
        {
            "timestamp": START + np.arange(seconds) + 0.5,
            "cache_hit_rate_pct": hits / np.maximum(total, 1) * 100,
            "cache_size": 500,
            "cache_hits": hits.astype(np.int64),
            "cache_misses": (total - hits).astype(np.int64),
            "queries_total": total,
            "queries_failed": 0,
            "p95_ms": 30.0,
            "error_rate_pct": 0.0,
        }
    ).to_csv(run_dir / "server_history.csv", index=False)


def _peak_rss_mb(run_dir: Path) -> float:
    code = (
        "import sys; from reports import build_report; build_report(sys.argv[1], fail_on='never')"
    )
    subprocess.run(
        [sys.executable, "-c", code, str(run_dir)],
        check=True,
        cwd=Path(__file__).resolve().parent.parent,
    )
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024  # KiB on Linux


def run() -> list[dict]:
    """Rows for ``make bench``: build seconds and peak RSS against their targets."""
    from reports import build_report

    with tempfile.TemporaryDirectory(prefix="bench-reports-") as tmp:
        run_dir = make_run(Path(tmp) / "spike-20250101T000000Z")
        began = time.perf_counter()
        build_report(run_dir, fail_on="never")
        seconds = time.perf_counter() - began
        peak = _peak_rss_mb(run_dir)
    name = "report build, 1M requests + 1 h history"
    return [
        {
            "name": name,
            "value": round(seconds, 2),
            "unit": "s",
            "target": f"<= {TARGET_S:g}",
            "ok": seconds <= TARGET_S,
        },
        {
            "name": f"{name}, peak RSS",
            "value": round(peak, 1),
            "unit": "MB",
            "target": f"<= {TARGET_MB:g}",
            "ok": peak <= TARGET_MB,
        },
    ]


if __name__ == "__main__":
    for row in run():
        mark = "ok" if row["ok"] else "MISSED"
        print(f"{row['name']}: {row['value']} {row['unit']} (target {row['target']}) {mark}")
