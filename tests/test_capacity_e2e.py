"""The capacity search end to end: a service of known capacity is found where it is, and a
service that outruns one Locust process is never reported as the limit.

``MARKET_API_FAULT_CAPACITY_RPS=R`` makes the service a single-server queue that answers R
requests a second; evenly spaced arrivals below R wait for nobody, above R the line grows.
The steps are shorter than the default (``--time-scale``) to keep the suite short; the
default search's duration is measured in the README's example.
"""

from __future__ import annotations

import os

import pytest

from scenarios.processes import start_service
from tests.e2e_helpers import run_scenario, service_env

pytestmark = pytest.mark.e2e  # the generator's check needs the CPU to itself

CAPACITY_RPS = 150.0


@pytest.fixture
def queue_service(seeded_db, tmp_path):
    env = service_env(seeded_db, fault_capacity_rps=f"{CAPACITY_RPS:g}")
    child, url = start_service(tmp_path / "service.log", env=env)
    try:
        yield url
    finally:
        child.stop()


def capacity(args: list[str], out, timeout: float = 300):
    return run_scenario(args, out, dict(os.environ), timeout=timeout, command="capacity")


def test_a_single_server_queue_is_found_at_its_capacity(queue_service, tmp_path):
    args = ["--host", queue_service, "--time-scale", "0.25", "--start-rate", "120"]
    result = capacity([*args, "--precision", "0.1", "--min-capacity", "1000"], tmp_path / "out")
    assert result.returncode == 1, result.stderr  # found, but below the 1,000 req/s asked for
    report = result.json("report.json")
    block = report["capacity"]
    assert block["limited_by"] == "service"
    assert 0.85 * CAPACITY_RPS <= block["healthy_rps"] <= 1.05 * CAPACITY_RPS
    assert block["failing_rps"] / block["healthy_rps"] <= 1.1 + 1e-9
    assert block["meets_minimum"] is False and report["verdict"] == "critical"
    held = [s for s in block["steps"] if s["outcome"] == "held"]
    assert all(s["held"] for s in held) and len(held) % 2 == 0  # every held rate held twice
    assert any(line.startswith("capacity: ") for line in result.stdout.splitlines())
    assert (result.run_dir / "capacity.png").read_bytes().startswith(b"\x89PNG")
    run = result.json("run.json")
    assert run["scenario"] == "capacity" and run["model"] == "open"
    assert len(run["phases"]) == len(block["steps"])  # one phase per step


def test_a_generator_that_runs_out_first_is_never_called_the_service(tmp_path):
    """The cached embedded service answers thousands of requests a second; one Locust process
    sending the open model runs out of CPU or timing first."""
    args = ["--time-scale", "0.3", "--start-rate", "400", "--max-rate", "30000"]
    result = capacity(args, tmp_path / "out")
    assert result.returncode == 0, result.stderr
    block = result.json("report.json")["capacity"]
    assert block["limited_by"] in ("generator", "max_rate")
    assert block["failing_rps"] is None or block["limited_by"] != "service"
    if block["limited_by"] == "generator":
        assert block["answer"].startswith("capacity ≥ ")
        assert "add --processes" in block["answer"]
