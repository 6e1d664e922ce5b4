"""The open model's load generator, measured against cached /api/v1/historical.

One Locust process pinned to one core, the service to the other (``bench_service``), all
requests the same cached query as bench_service's closed loop:

- rate accuracy: at 500 and 2,000 arrivals a second the rate actually sent must be within
  1 % of the target and the send lag (actual send - intended send, from requests.csv) at
  most 5 ms at the 99th percentile, or the open model's latencies would include the
  generator's own delays;
- capacity: the highest rate sent without drops and within that lag, found by stepping the
  rate up, against the closed loop's throughput with the same run files, counted the same
  way: an open run must not need many more load-generator processes than a closed one;
- cost: closed runs gained the ``intended_start`` column and generator.csv with the open
  model; the closed loop's throughput with the kit's run files as now against as before.

Rates, lags and drops are counted over each run's steady window: its requests sent from two
seconds after the first to one second before the last (opening the connections and stopping
are no steady state).
Other work on a shared machine only ever slows a run down, so each figure is the best of a
few interleaved rounds (a capacity step gets a second try).

    python -m benchmarks.bench_open_model
"""

from __future__ import annotations

import csv
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from benchmarks.bench_service import (
    CONNECTIONS,
    HISTORICAL,
    locust_load,
    pinned_to,
    start_pinned,
)
from benchmarks.timing import row
from market_api.seeding import seed_database
from reports.run_format import GENERATOR_LOG, REQUEST_LOG
from scenarios.arrivals import percentile
from scenarios.catalog import OPEN_DEFAULT_MAX_IN_FLIGHT
from scenarios.schedule import constant_schedule

REPO = Path(__file__).resolve().parent.parent
OPEN_LOCUSTFILE = REPO / "benchmarks" / "open_historical.py"
CLOSED_LOCUSTFILE = REPO / "benchmarks" / "closed_historical.py"
#: Set (to anything) for closed runs that write the run files as before the open model.
BEFORE_OPEN_MODEL = "BENCH_BEFORE_OPEN_MODEL"

RATES = (500, 2000)
RATE_S = 7
ROUNDS = 3
LAG_P99_MS = 5.0
TOLERANCE = 0.01
#: The capacity steps start at this share of the closed loop's throughput, 10 % apart: a
#: step's size bounds how far below the true highest rate the figure can fall.
STEP_FROM_SHARE, STEP_FACTOR, STEP_S, STEP_BUDGET_S = 0.5, 1.1, 7, 100.0
COST_ROUNDS = 3
COST_S = 8  # the steady window leaves out three seconds
#: Left out of every run's figures: its start, while the connections are opened (a cold
#: start at a few thousand arrivals a second lags and drops for 1-2 s), and its end.
SKIP_START_S, SKIP_END_S = 2.0, 1.0


@dataclass(frozen=True)
class Sent:
    """What one run sent in its steady window."""

    rps: float
    lag_p99_ms: float  # 0 for closed runs, which have no intended send times
    dropped: int

    def sustains(self) -> bool:
        return self.dropped == 0 and self.lag_p99_ms <= LAG_P99_MS


def _locust(locustfile: Path, url: str, run_dir: Path, extra: list[str], timeout: float,
            before_open_model: bool = False) -> Sent:  # fmt: skip
    """One Locust run writing the kit's run files into ``run_dir``; what it sent."""
    env = {k: v for k, v in os.environ.items() if k != BEFORE_OPEN_MODEL}
    if before_open_model:
        env[BEFORE_OPEN_MODEL] = "1"
    subprocess.run(
        [*pinned_to(1), sys.executable, "-m", "locust", "-f", str(locustfile), "--headless",
         "--only-summary", "--host", url, "--run-dir", str(run_dir), "--loglevel", "WARNING",
         *extra],
        cwd=REPO, env=env, capture_output=True, check=False, timeout=timeout,
    )  # fmt: skip
    return _sent(run_dir)


def _sent(run_dir: Path) -> Sent:
    with (run_dir / REQUEST_LOG).open(newline="") as fh:
        rows = [r for r in csv.DictReader(fh) if r["name"] == "bench"]
    if failed := sum(r["success"] != "1" for r in rows):
        raise RuntimeError(f"{failed} failed requests in {run_dir}")
    start = min(float(r["timestamp"]) for r in rows) + SKIP_START_S
    end = max(float(r["timestamp"]) for r in rows) - SKIP_END_S
    steady = [r for r in rows if start <= float(r["timestamp"]) < end]
    lags_ms = [
        1000.0 * (float(r["timestamp"]) - float(r["intended_start"]))
        for r in steady
        if r.get("intended_start")
    ]
    dropped = 0
    if (run_dir / GENERATOR_LOG).exists():
        with (run_dir / GENERATOR_LOG).open(newline="") as fh:
            # each row counts the second that ends at its timestamp
            dropped = sum(
                int(r["dropped"] or 0)
                for r in csv.DictReader(fh)
                if start + 1.0 <= float(r["timestamp"]) <= end
            )
    lag_p99_ms = percentile(lags_ms, 0.99) if lags_ms else 0.0
    return Sent(len(steady) / (end - start), lag_p99_ms, dropped)


def _open(url: str, rate: float, duration: float, workdir: Path) -> Sent:
    schedule = constant_schedule("sustained", 1, duration).open_model(rate)
    run_dir = Path(tempfile.mkdtemp(prefix=f"open-{rate:.0f}-", dir=workdir))
    extra = ["--kit-schedule", schedule.to_json(),
             "--max-in-flight", str(OPEN_DEFAULT_MAX_IN_FLIGHT)]  # fmt: skip
    return _locust(OPEN_LOCUSTFILE, url, run_dir, extra, duration + 60)


def _closed(url: str, workdir: Path, before_open_model: bool) -> Sent:
    run_dir = Path(tempfile.mkdtemp(prefix="closed-", dir=workdir))
    extra = ["-u", str(CONNECTIONS), "-r", str(CONNECTIONS), "-t", f"{COST_S}s"]
    return _locust(CLOSED_LOCUSTFILE, url, run_dir, extra, COST_S + 60, before_open_model)


def accuracy_rows(url: str, workdir: Path) -> list[dict]:
    best: dict[int, Sent] = {}
    for _ in range(ROUNDS):
        for rate in RATES:
            sent = _open(url, rate, RATE_S, workdir)
            if rate not in best or sent.lag_p99_ms < best[rate].lag_p99_ms:
                best[rate] = sent
    how = f"{RATE_S} s uniform arrivals, steady window, the round of least lag of {ROUNDS}"
    rows = []
    for rate, sent in best.items():
        ratio = sent.rps / rate
        rows += [
            row(f"open model at {rate} req/s: achieved / target", ratio, "x", "within 1 %",
                abs(ratio - 1) <= TOLERANCE, achieved_rps=sent.rps, dropped=sent.dropped,
                setup=how),
            row(f"open model at {rate} req/s: send lag p99", sent.lag_p99_ms, "ms",
                f"<= {LAG_P99_MS:g}", sent.lag_p99_ms <= LAG_P99_MS,
                load_average_1min=os.getloadavg()[0], setup=how),
        ]  # fmt: skip
    return rows


def highest_sustained(url: str, closed_rps: float, workdir: Path) -> tuple[float, list[dict]]:
    """The highest rate of the steps that sustains; stepping ends at a second failure of
    the same rate or when the time budget is spent."""
    rate, best, failures, steps = STEP_FROM_SHARE * closed_rps, 0.0, 0, []
    deadline = time.monotonic() + STEP_BUDGET_S
    while time.monotonic() + STEP_S < deadline:
        sent = _open(url, rate, STEP_S, workdir)
        steps.append(
            {"rate": round(rate), "rps": round(sent.rps, 1),
             "lag_p99_ms": round(sent.lag_p99_ms, 2), "dropped": sent.dropped}
        )  # fmt: skip
        if sent.sustains():
            best, rate, failures = rate, rate * STEP_FACTOR, 0
        elif failures:
            break
        else:
            failures = 1
    return best, steps


def run() -> list[dict]:
    with tempfile.TemporaryDirectory(prefix="bench-open-model-") as tmp:
        workdir = Path(tmp)
        db = workdir / "market.db"
        seed_database(db)
        env = {k: v for k, v in os.environ.items() if not k.startswith("MARKET_API_")}
        argv = [sys.executable, "-m", "market_api", "--db", str(db)]
        service, url = start_pinned(argv, workdir / "service.log", "/health", env)
        try:
            locust_load(url, HISTORICAL, 2, workdir)  # warm the cache
            rows = accuracy_rows(url, workdir)
            rounds: dict[str, list[float]] = {"now": [], "before": []}
            for _ in range(COST_ROUNDS):
                rounds["now"].append(_closed(url, workdir, before_open_model=False).rps)
                rounds["before"].append(_closed(url, workdir, before_open_model=True).rps)
            now, before = max(rounds["now"]), max(rounds["before"])
            highest, steps = highest_sustained(url, now, workdir)
        finally:
            service.stop()
    each = {k: [round(rps) for rps in v] for k, v in rounds.items()}
    interleaved = f"{CONNECTIONS} users, best of {COST_ROUNDS} interleaved rounds"
    return [
        *rows,
        row("open model: highest sustained rate vs closed loop rps", highest / now, "x",
            ">= 0.7", highest >= 0.7 * now, highest_rate=highest, closed_rps=now, steps=steps,
            setup=f"rates from {STEP_FROM_SHARE:g}x the closed loop's, x{STEP_FACTOR} for "
            f"{STEP_S} s each, sustained: no drops and lag p99 <= {LAG_P99_MS:g} ms; closed "
            f"loop: FastHttpUser, {interleaved}; both write the kit's run files and are "
            "counted in the same steady window"),
        row("closed loop: run files as now vs before the open model", now / before, "x",
            ">= 0.97", now >= 0.97 * before, now_rps=now, before_rps=before,
            now_rounds_rps=each["now"], before_rounds_rps=each["before"],
            setup="requests.csv with vs without intended_start, with vs without "
            f"generator.csv; {COST_S} s, steady window, {interleaved}"),
    ]  # fmt: skip


if __name__ == "__main__":
    from benchmarks.__main__ import print_table

    print_table(run())
