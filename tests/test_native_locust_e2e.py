"""A locustfile of one's own under plain ``locust``, with the kit's shape and request log.

examples/native_locustfile.py imports ``SpikeShape`` and calls ``request_log()``: a team that
keeps its own Locust command still gets a run directory that ``reports build`` can judge.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import orjson
import pytest

from tests.e2e_helpers import REPO_ROOT
from tests.test_own_api_e2e import Orders, orders_api

pytestmark = [pytest.mark.e2e, pytest.mark.concurrent]


def test_plain_locust_with_the_kit_leaves_a_run_the_report_can_build(tmp_path: Path) -> None:
    kit_out = tmp_path / "runs"
    with orders_api(tmp_path / "orders") as orders:
        locust = run(
            ["-m", "locust", "-f", "examples/native_locustfile.py", "--headless",
             "--host", orders.url, "--time-scale", "0.05", "--kit-out", str(kit_out)],
            timeout=180,
        )  # fmt: skip
        assert locust.returncode == 0, locust.stderr[-3000:]
        assert_orders_were_asked(orders)
    (run_dir,) = [p for p in kit_out.iterdir() if p.is_dir()]
    assert run_dir.name.startswith("spike-")
    assert {"requests.csv", "phases.jsonl", "run.json"} <= {p.name for p in run_dir.iterdir()}
    phases = orjson.loads((run_dir / "run.json").read_bytes())["phases"]
    assert [(p["role"], p["users"]) for p in phases] == [
        ("baseline", 10), ("spike", 50), ("recovery", 10)
    ]  # fmt: skip

    (run_dir / "report.json").unlink()  # the session built one: the command must write it anew
    build = run(["-m", "reports", "build", str(run_dir)], timeout=120)
    assert build.returncode in (0, 1), build.stderr
    report = orjson.loads((run_dir / "report.json").read_bytes())
    assert [p["role"] for p in report["phases"]] == ["baseline", "spike", "recovery"]
    assert sum(e["requests"] for e in report["endpoints"]) > 0


def run(args: list[str], timeout: float) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *args], cwd=REPO_ROOT, env=dict(os.environ),
        capture_output=True, text=True, timeout=timeout,
    )  # fmt: skip


def assert_orders_were_asked(orders: Orders) -> None:
    """The example's users ran: all three of their requests reached the service."""
    asked = {(r["method"], r["path"].rstrip("0123456789")) for r in orders.requests()}
    assert {("GET", "/orders"), ("GET", "/orders/"), ("POST", "/orders")} <= asked
