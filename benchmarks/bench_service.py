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
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

from benchmarks.timing import row
from market_api.process import ServiceProcess, free_port, market_api_command
from market_api.seeding import seed_database

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


def _cpu(core: int) -> list[str]:
    """A ``taskset`` prefix pinning to ``core`` when that is possible, else nothing."""
    if shutil.which("taskset") and os.cpu_count() and os.cpu_count() > core:
        return ["taskset", "-c", str(core)]
    return []


def _wrk(base: str, path: str, duration: int, script: Path) -> Load:
    url = base + path
    output = subprocess.run(
        [*_cpu(1), "wrk", "-t1", f"-c{CONNECTIONS}", f"-d{duration}s", "-s", str(script), url],
        capture_output=True, text=True, check=True, timeout=duration + 30,
    ).stdout  # fmt: skip
    line = next(x for x in output.splitlines() if x.startswith("RESULT "))
    requests, duration_us, socket_errors, status_errors, p99_us = line.split()[1:]
    return Load(
        rps=int(requests) / (int(duration_us) / 1e6),
        p99_ms=float(p99_us) / 1000.0,
        errors=int(socket_errors) + int(status_errors),
    )


def _locust(base: str, path: str, duration: int, workdir: Path) -> Load:
    locustfile = workdir / "bench_locustfile.py"
    locustfile.write_text(_LOCUSTFILE)
    prefix = workdir / "locust"
    subprocess.run(
        [*_cpu(1), sys.executable, "-m", "locust", "-f", str(locustfile), "--headless",
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
        return _locust(base, path, duration, self.workdir)

    def measure(self, base: str, path: str) -> Load:
        """A warm-up, then the measured run."""
        self.run(base, path, WARMUP_S)
        load = self.run(base, path, DURATION_S)
        if load.errors:
            raise RuntimeError(f"{load.errors} failed requests against {base}{path}")
        return load


@contextmanager
def _servers(db: Path, workdir: Path) -> Iterator[dict[str, ServiceProcess]]:
    """Every server of the comparison, started on core 0 and stopped at the end."""
    specs = {
        "cached": ([], {}),
        "cache_off": ([], {"MARKET_API_CACHE": "off"}),
        "bare": ([], {"MARKET_API_OBSERVABILITY": "off"}),
    }
    with ExitStack() as stack:
        servers: dict[str, ServiceProcess] = {}
        for name, (flags, env) in specs.items():
            port = free_port()
            command = [*_cpu(0), *market_api_command(port, db, *flags)]
            servers[name] = stack.enter_context(ServiceProcess(command, port, env=env))
        port = free_port()
        peer = [*_cpu(0), sys.executable, "-m", "benchmarks.peer_fastapi_cache2",
                "--port", str(port), "--db", str(db)]  # fmt: skip
        servers["fastapi_cache2"] = stack.enter_context(
            ServiceProcess(peer, port, ready_path="/openapi.json")
        )
        yield servers


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
            "health": HEALTH,
            "health_bare": HEALTH,
        }
        with _servers(db, workdir) as servers:
            server_of = {"health": "cached", "health_bare": "bare"}
            for _ in range(ROUNDS):
                for name, path in plan.items():
                    load = generator.measure(servers[server_of.get(name, name)].url, path)
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
            ">= 0.9",
            rps["health"] >= 0.9 * rps["health_bare"],
            with_rps=rps["health"],
            without_rps=rps["health_bare"],
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
