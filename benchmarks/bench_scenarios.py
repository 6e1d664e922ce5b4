"""The load generator and the default sustained scenario, measured.

- How many requests a second one Locust process (FastHttpUser) drives from one core against
  cached /api/v1/historical, the service pinned to the other core: the load generator must
  not be what limits a run.
- The default ``make sustained`` against the embedded service, against the original
  write-up's figures (108 rps at a p95 of 234 ms): the goal is 20x the rps at a p95 under
  50 ms, without Locust's own CPU warning (which says the generator, not the service, was
  the limit).

    python -m benchmarks.bench_scenarios
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

import orjson

from benchmarks.bench_service import CONNECTIONS, HISTORICAL, locust_load, start_pinned
from benchmarks.timing import row
from market_api.seeding import seed_database
from reports.run_format import LOCUST_CPU_WARNING, LOCUST_LOG

ORIGINAL_RPS, ORIGINAL_P95_MS = 108.2, 234.5
REPO = Path(__file__).resolve().parent.parent


def load_generator_rows(workdir: Path, db: Path) -> list[dict]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MARKET_API_")}
    argv = [sys.executable, "-m", "market_api", "--db", str(db)]
    service, url = start_pinned(argv, workdir / "service.log", "/health", env)
    try:
        locust_load(url, HISTORICAL, 2, workdir)  # warm the cache
        load = locust_load(url, HISTORICAL, 10, workdir)
    finally:
        service.stop()
    return [
        row(f"load generator: one Locust process, {CONNECTIONS} users, cached historical",
            load.rps, "rps", "reported", None, p99_ms=load.p99_ms),
    ]  # fmt: skip


def sustained_rows(workdir: Path, db: Path) -> list[dict]:
    """``python -m scenarios run sustained`` with its defaults, as ``make sustained`` runs it."""
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("MARKET_API_")},
           "MARKET_API_DB": str(db)}  # fmt: skip
    out = workdir / "runs"
    subprocess.run(
        [sys.executable, "-m", "scenarios", "run", "sustained", "--out", str(out)],
        cwd=REPO, env=env, capture_output=True, check=False, timeout=300,
    )  # fmt: skip
    (run_dir,) = out.iterdir()
    report = orjson.loads((run_dir / "report.json").read_bytes())
    totals = report["totals"]
    cpu_warnings = len(LOCUST_CPU_WARNING.findall((run_dir / LOCUST_LOG).read_bytes()))
    ratio = totals["rps"] / ORIGINAL_RPS
    return [
        row("default sustained: rps vs the original 108 rps", ratio, "x", ">= 20", ratio >= 20,
            rps=totals["rps"], requests=totals["requests"], failures=totals["failures"]),
        row("default sustained: p95", totals["p95_ms"], "ms", "< 50", totals["p95_ms"] < 50,
            original_p95_ms=ORIGINAL_P95_MS, p99_ms=totals["p99_ms"]),
        row("default sustained: Locust CPU warnings", cpu_warnings, "warnings", "0",
            cpu_warnings == 0, verdict=report["verdict"]),
    ]  # fmt: skip


def run() -> list[dict]:
    with tempfile.TemporaryDirectory(prefix="bench-scenarios-") as tmp:
        workdir = Path(tmp)
        db = workdir / "market.db"
        seed_database(db)
        return [*load_generator_rows(workdir, db), *sustained_rows(workdir, db)]


if __name__ == "__main__":
    from benchmarks.__main__ import print_table

    print_table(run())
