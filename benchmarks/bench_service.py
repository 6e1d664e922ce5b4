"""market_api under a real load generator: throughput ratios against its peers.

Real uvicorn subprocesses on free loopback ports, all over one freshly seeded SQLite file,
driven by ``wrk`` (Debian package; ``tools/ensure-wrk`` installs it), or by Locust's
FastHttpUser in a subprocess when wrk is missing. Each pair is measured in the same run with
the same connections and duration; the server is pinned to one core and the load generator
to the other when ``taskset`` is available. Other work on a shared machine only ever slows a
measurement down, so each figure is the best of a few interleaved rounds.

    python -m benchmarks.bench_service
"""

from __future__ import annotations

import csv
import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

import requests

from benchmarks.timing import row
from market_api.seeding import seed_database
from scenarios.processes import ChildProcess, free_port

CONNECTIONS = 20
DURATION_S = 5
WARMUP_S = 1
ROUNDS = 3
#: A fixed one-year range, so that after the warm-up every request is a cache hit.
HISTORICAL = "/api/v1/historical?symbol=AAPL&start=2024-01-01&end=2024-12-31"
HEALTH = "/health"

_WRK_REPORT = textwrap.dedent(
    """
    done = function(summary, latency, requests)
      local e = summary.errors
      io.write(string.format("RESULT %d %d %d %d %.1f\\n", summary.requests, summary.duration,
        e.connect + e.read + e.write + e.timeout, e.status, latency:percentile(99)))
    end
    """
)

_LOCUSTFILE = textwrap.dedent(
    """
    import os
    from locust import constant, task
    from locust.contrib.fasthttp import FastHttpUser

    class Bench(FastHttpUser):
        wait_time = constant(0)

        @task
        def get(self):
            self.client.get(os.environ["BENCH_PATH"], name="bench")
    """
)


@dataclass(frozen=True)
class Load:
    rps: float
    p99_ms: float
    errors: int


def pinned_to(core: int) -> list[str]:
    """A ``taskset`` prefix pinning to ``core`` when that is possible, else nothing."""
    if shutil.which("taskset") and os.cpu_count() and os.cpu_count() > core:
        return ["taskset", "-c", str(core)]
    return []


def _wrk(base: str, path: str, duration: int, script: Path) -> Load:
    url = base + path
    output = subprocess.run(
        [*pinned_to(1), "wrk", "-t1", f"-c{CONNECTIONS}", f"-d{duration}s", "-s", str(script), url],
        capture_output=True, text=True, check=True, timeout=duration + 30,
    ).stdout  # fmt: skip
    line = next(x for x in output.splitlines() if x.startswith("RESULT "))
    count, duration_us, socket_errors, status_errors, p99_us = line.split()[1:]
    return Load(
        rps=int(count) / (int(duration_us) / 1e6),
        p99_ms=float(p99_us) / 1000.0,
        errors=int(socket_errors) + int(status_errors),
    )


def locust_load(base: str, path: str, duration: int, workdir: Path) -> Load:
    locustfile = workdir / "bench_locustfile.py"
    locustfile.write_text(_LOCUSTFILE)
    prefix = workdir / "locust"
    subprocess.run(
        [*pinned_to(1), sys.executable, "-m", "locust", "-f", str(locustfile), "--headless",
         "-u", str(CONNECTIONS), "-r", str(CONNECTIONS), "-t", f"{duration}s", "--host", base,
         "--csv", str(prefix), "--only-summary", "--loglevel", "WARNING"],
        env={**os.environ, "BENCH_PATH": path}, capture_output=True, check=False,
        timeout=duration + 60,
    )  # fmt: skip
    with open(f"{prefix}_stats.csv", newline="") as fh:
        stats = next(r for r in csv.DictReader(fh) if r["Name"] == "bench")
    return Load(float(stats["Requests/s"]), float(stats["99%"]), int(stats["Failure Count"]))


class LoadGenerator:
    """wrk when installed, else Locust FastHttpUser; same connections and duration."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.name = "wrk" if shutil.which("wrk") else "locust"
        self._script = workdir / "report.lua"
        self._script.write_text(_WRK_REPORT)

    def run(self, base: str, path: str, duration: int) -> Load:
        if self.name == "wrk":
            return _wrk(base, path, duration, self._script)
        return locust_load(base, path, duration, self.workdir)

    def measure(self, base: str, path: str) -> Load:
        """A warm-up, then the measured run."""
        self.run(base, path, WARMUP_S)
        load = self.run(base, path, DURATION_S)
        if load.errors:
            raise RuntimeError(f"{load.errors} failed requests against {base}{path}")
        return load


def start_pinned(
    argv: list[str], log: Path, ready_path: str, env: dict[str, str]
) -> tuple[ChildProcess, str]:
    """A server pinned to core 0 on a free port, once ``ready_path`` answers 200."""
    port = free_port()
    child = ChildProcess([*pinned_to(0), *argv, "--port", str(port)], log, env)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and child.exit_code is None:
        try:
            if requests.get(url + ready_path, timeout=1).status_code == 200:
                return child, url
        except requests.RequestException:
            time.sleep(0.05)
    child.stop()
    raise RuntimeError(f"{argv[:3]} did not start; see {log}")


@contextmanager
def _servers(db: Path, workdir: Path) -> Iterator[dict[str, str]]:
    """The URL of every server of the comparison; all are stopped at the end."""
    service = [sys.executable, "-m", "market_api", "--db", str(db)]
    peer = [sys.executable, "-m", "benchmarks.peer_fastapi_cache2", "--db", str(db)]
    specs = {
        "cached": (service, "/health", {}),
        "cache_off": (service, "/health", {"MARKET_API_CACHE": "off"}),
        "bare": (service, "/health", {"MARKET_API_OBSERVABILITY": "off"}),
        "fastapi_cache2": (peer, "/openapi.json", {}),
    }
    base_env = {k: v for k, v in os.environ.items() if not k.startswith("MARKET_API_")}
    with ExitStack() as stack:
        urls = {}
        for name, (argv, ready_path, env) in specs.items():
            child, urls[name] = start_pinned(
                argv, workdir / f"{name}.log", ready_path, {**base_env, **env}
            )
            stack.callback(child.stop)
        yield urls


def _check_same_answer(*bases: str) -> None:
    """Every server must send the very same bytes, or the comparison would not be fair."""
    bodies = {requests.get(base + HISTORICAL, timeout=10).content for base in bases}
    if len(bodies) != 1:
        raise RuntimeError("the servers answer the benchmark query differently")


def run() -> list[dict]:
    with tempfile.TemporaryDirectory(prefix="bench-service-") as tmp:
        workdir = Path(tmp)
        db = workdir / "market.db"
        seed_database(db)
        generator = LoadGenerator(workdir)
        best: dict[str, Load] = {}
        plan = {
            "cached": HISTORICAL,
            "fastapi_cache2": HISTORICAL,
            "cache_off": HISTORICAL,
            "cached_bare": HISTORICAL,
            "health": HEALTH,
            "health_bare": HEALTH,
        }
        with _servers(db, workdir) as urls:
            _check_same_answer(*urls.values())
            server_of = {"cached_bare": "bare", "health": "cached", "health_bare": "bare"}
            for _ in range(ROUNDS):
                for name, path in plan.items():
                    load = generator.measure(urls[server_of.get(name, name)], path)
                    if name not in best or load.rps > best[name].rps:
                        best[name] = load
    rps = {name: load.rps for name, load in best.items()}
    setup = f"{generator.name} {CONNECTIONS} connections {DURATION_S} s, best of {ROUNDS}"
    return [
        row("service: cached /api/v1/historical", rps["cached"], "rps", "-", None, setup=setup),
        row(
            "service: cached historical vs fastapi-cache2",
            rps["cached"] / rps["fastapi_cache2"],
            "x",
            ">= 20",
            rps["cached"] >= 20 * rps["fastapi_cache2"],
            peer_rps=rps["fastapi_cache2"],
        ),
        row(
            "service: cached vs MARKET_API_CACHE=off",
            rps["cached"] / rps["cache_off"],
            "x",
            ">= 5",
            rps["cached"] >= 5 * rps["cache_off"],
            cache_off_rps=rps["cache_off"],
        ),
        row(
            "service: /health with vs without observability",
            rps["health"] / rps["health_bare"],
            "x",
            ">= 0.85",
            rps["health"] >= 0.85 * rps["health_bare"],
            with_rps=rps["health"],
            without_rps=rps["health_bare"],
        ),
        row(
            "service: cached historical with vs without observability",
            rps["cached"] / rps["cached_bare"],
            "x",
            "-",
            None,
        ),
        row(
            f"service: cached historical p99 at {CONNECTIONS} connections",
            best["cached"].p99_ms,
            "ms",
            "-",
            None,
        ),
    ]


if __name__ == "__main__":
    from benchmarks.__main__ import print_table

    print_table(run())
