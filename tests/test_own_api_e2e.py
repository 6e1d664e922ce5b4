"""``scenarios run --locustfile`` against an API that is not the reference one.

The target is examples/orders_api.py: other routes, a health check at /healthz, no performance
endpoints. What must hold for any API: the spike's phases, degradation and recovery are
measured; a server side that cannot be sampled is said, not failed; a broken target is a
critical verdict with a report; secrets reach the target and nothing else; what cannot work
is refused before any load.
"""

from __future__ import annotations

import json
import os
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from scenarios.headers import basic_auth_value
from scenarios.processes import ChildProcess
from tests.e2e_helpers import REPO_ROOT, RunResult, run_scenario, wait_until

pytestmark = [pytest.mark.e2e, pytest.mark.concurrent]

ORDERS_API = REPO_ROOT / "examples" / "orders_api.py"
LOCUSTFILE = "examples/locustfile.py"  # as typed in the repository root
QUICK_STAGES = "2s:5,2s:10,3s:5"
RUN_TIMEOUT_S = 240
REFUSAL_TIMEOUT_S = 60


@dataclass
class Orders:
    """A running orders_api and the requests it received (``--record-headers``)."""

    url: str
    record: Path

    def requests(self) -> list[dict]:
        if not self.record.exists():
            return []
        return [json.loads(line) for line in self.record.read_text().splitlines()]


@contextmanager
def orders_api(directory: Path, *flags: str) -> Iterator[Orders]:
    """orders_api on a free loopback port, recording every request, stopped afterwards."""
    directory.mkdir(parents=True, exist_ok=True)
    stdout, record = directory / "orders.out", directory / "requests.jsonl"
    process = ChildProcess(
        [sys.executable, str(ORDERS_API), "--port", "0", "--record-headers", str(record), *flags],
        stdout,
    )
    try:

        def listening() -> str | None:
            assert process.exit_code is None, stdout.read_text()
            text = stdout.read_text()
            return text.split("listening on ", 1)[1].strip() if "\n" in text else None

        yield Orders(wait_until(listening, 30, "orders_api to listen"), record)
    finally:
        process.stop()


@pytest.fixture(scope="module")
def orders(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Orders]:
    with orders_api(tmp_path_factory.mktemp("orders")) as api:
        yield api


def run_against(
    orders: Orders, args: list[str], out: Path, env: dict[str, str] | None = None
) -> RunResult:
    """``scenarios run`` with the example locustfile against ``orders``, checked at /healthz."""
    base = ["--locustfile", LOCUSTFILE, "--host", orders.url, "--health-path", "/healthz"]
    return run_scenario([*args, *base], out, env or dict(os.environ), timeout=RUN_TIMEOUT_S)


def header(request: dict, name: str) -> str | None:
    """A recorded request's header, by case-insensitive name."""
    return next((v for k, v in request["headers"].items() if k.lower() == name.lower()), None)


def assert_nowhere(secret: str, result: RunResult) -> None:
    """``secret`` is in no file of the run directory (any kind, any depth) nor in the output."""
    assert result.run_dir is not None, result.stderr
    files = [p for p in result.run_dir.rglob("*") if p.is_file()]
    assert {"run.json", "requests.csv", "report.json", "locust.html"} <= {p.name for p in files}
    holding = [p.name for p in files if secret.encode() in p.read_bytes()]
    assert holding == [], f"the secret is written in {holding}"
    assert secret not in result.stdout and secret not in result.stderr


def run_dirs(out: Path) -> list[Path]:
    return [p for p in out.iterdir() if p.is_dir()] if out.is_dir() else []


# --- a spike against the orders API --------------------------------------------------------


@pytest.fixture(scope="module")
def spike(orders: Orders, tmp_path_factory: pytest.TempPathFactory) -> RunResult:
    """One spike at a fifth of its length, shared by the assertions on it."""
    out = tmp_path_factory.mktemp("spike")
    result = run_against(orders, ["spike", "--time-scale", "0.2"], out)
    assert result.returncode in (0, 1), result.stderr
    return result


def test_spike_writes_a_full_run_directory(spike: RunResult) -> None:
    assert spike.run_dir is not None
    names = {p.name for p in spike.run_dir.iterdir()}
    assert {"requests.csv", "phases.jsonl", "run.json", "report.json", "report.html"} <= names
    run = spike.json("run.json")
    assert run["locustfile"] == LOCUSTFILE and run["health_path"] == "/healthz"
    assert run["partial"] is False
    assert spike.json("report.json")["run"]["locustfile"] == LOCUSTFILE  # the report says whose
    endpoints = {e["name"]: e for e in spike.json("report.json")["endpoints"]}
    # /orders is read and written: the two methods are two endpoints, as in Locust's table.
    assert set(endpoints) == {"GET /orders", "POST /orders", "/orders/[id]"}
    assert all(e["requests"] > 0 and e["failures"] == 0 for e in endpoints.values())


def test_spike_report_measures_phases_degradation_and_recovery(spike: RunResult) -> None:
    report = spike.json("report.json")
    assert [(p["role"], p["users"]) for p in report["phases"]] == [
        ("baseline", 10), ("spike", 50), ("recovery", 10)
    ]  # fmt: skip
    assert all(p["requests"] > 0 for p in report["phases"])
    assert isinstance(report["degradation_pct"], float | int)
    assert report["recovery"]["verdict"] in ("healthy", "degraded", "critical")
    assert report["verdict"] in ("healthy", "degraded", "critical")
    assert spike.stdout.startswith(f"spike: {report['verdict'].upper()}")
    assert spike.returncode == (1 if report["verdict"] == "critical" else 0)


def test_spike_says_the_server_side_was_not_sampled(spike: RunResult) -> None:
    assert spike.json("report.json")["server"]["sampled"] is False
    assert spike.json("run.json")["server_source"] is None
    assert "server side not sampled" in spike.stdout.lower()


# --- a broken target ---------------------------------------------------------------------


def test_a_target_answering_404_is_critical_with_a_report(tmp_path: Path) -> None:
    with orders_api(tmp_path / "orders", "--not-found") as broken:
        result = run_against(broken, ["spike", "--stages", QUICK_STAGES], tmp_path / "out")
    assert result.returncode == 1, result.stderr
    assert result.run_dir is not None
    assert (result.run_dir / "report.html").is_file()
    report = result.json("report.json")
    assert report["verdict"] == "critical"
    assert report["endpoints"]
    for endpoint in report["endpoints"]:
        assert endpoint["error_rate_pct"] == 100
        assert endpoint["checks"]["error_rate_pct"] == "critical"
    assert result.stdout.startswith("spike: CRITICAL")


# --- secrets -------------------------------------------------------------------------------


def test_an_env_header_reaches_the_target_and_is_written_nowhere(
    orders: Orders, tmp_path: Path
) -> None:
    key = f"orders-key-{uuid.uuid4().hex}"
    env = {**os.environ, "ORDERS_KEY": key}
    args = ["sustained", "--stages", "3s:5", "--header", "X-Api-Key: env:ORDERS_KEY"]
    result = run_against(orders, args, tmp_path, env)
    assert result.returncode == 0, result.stderr
    paths = {r["path"] for r in orders.requests() if header(r, "X-Api-Key") == key}
    assert "/healthz" in paths  # the start check
    assert {"/orders"} <= paths and any(p.startswith("/orders/") for p in paths)  # the users
    assert_nowhere(key, result)
    assert result.json("run.json")["headers"] == ["X-Api-Key"]


def test_the_built_in_users_send_the_headers_too(orders: Orders, tmp_path: Path) -> None:
    key = f"built-in-key-{uuid.uuid4().hex}"
    env = {**os.environ, "ORDERS_KEY": key}
    args = ["sustained", "--stages", "2s:2", "--host", orders.url, "--health-path", "/healthz",
            "--header", "X-Api-Key: env:ORDERS_KEY", "--fail-on", "never"]  # fmt: skip
    result = run_scenario(args, tmp_path, env, timeout=RUN_TIMEOUT_S)
    assert result.returncode == 0, result.stderr  # every market-data route is a 404 here
    paths = {r["path"].split("?")[0] for r in orders.requests() if header(r, "X-Api-Key") == key}
    assert "/api/v1/symbols" in paths  # what MarketDataUser asks for first
    assert_nowhere(key, result)


def test_basic_auth_in_the_url_reaches_the_target_and_is_written_nowhere(
    orders: Orders, tmp_path: Path
) -> None:
    password = f"secret-{uuid.uuid4().hex}"
    authorization = basic_auth_value("user", password)
    with_credentials = orders.url.replace("http://", f"http://user:{password}@")
    args = ["sustained", "--stages", "3s:5", "--locustfile", LOCUSTFILE,
            "--host", with_credentials, "--health-path", "/healthz"]  # fmt: skip
    result = run_scenario(args, tmp_path, dict(os.environ), timeout=RUN_TIMEOUT_S)
    assert result.returncode == 0, result.stderr
    paths = {r["path"] for r in orders.requests() if header(r, "Authorization") == authorization}
    assert "/healthz" in paths and "/orders" in paths
    assert_nowhere(password, result)
    assert_nowhere(authorization.removeprefix("Basic "), result)
    assert result.json("run.json")["host"] == orders.url


# --- refusals ------------------------------------------------------------------------------

SHAPED = "<a locustfile with its own shape>"
#: Copied to a .py file for the run: the test process itself never imports Locust.
SHAPED_LOCUSTFILE = REPO_ROOT / "tests" / "fixtures" / "locustfiles" / "own_shape.py.txt"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["spike", "--locustfile", SHAPED], "defines its own load shape (MyShape)"),
        (["baseline", "--locustfile", LOCUSTFILE], "--locustfile works with spike or sustained"),
        (["spike", "--duration", "10"], "--duration applies to sustained only"),
        (["spike", "--time-scale", "0.001"], "a phase needs at least 1 s"),
    ],
    ids=["own-shape", "baseline-locustfile", "spike-duration", "tiny-time-scale"],
)
def test_what_cannot_work_is_refused_before_any_request(
    orders: Orders, tmp_path: Path, args: list[str], message: str
) -> None:
    shaped = tmp_path / "shaped_locustfile.py"
    shaped.write_text(SHAPED_LOCUSTFILE.read_text())
    args = [str(shaped) if a == SHAPED else a for a in args]
    received = len(orders.requests())
    out = tmp_path / "out"
    args += ["--host", orders.url, "--health-path", "/healthz"]
    result = run_scenario(args, out, dict(os.environ), timeout=REFUSAL_TIMEOUT_S)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    assert message in lines[0]
    assert run_dirs(out) == []
    assert len(orders.requests()) == received


def test_a_health_path_answering_404_stops_the_run_before_any_load(
    orders: Orders, tmp_path: Path
) -> None:
    received = len(orders.requests())
    args = ["spike", "--locustfile", LOCUSTFILE, "--host", orders.url, "--health-path", "/nope"]
    result = run_scenario(args, tmp_path / "out", dict(os.environ), timeout=REFUSAL_TIMEOUT_S)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"error: {orders.url}/nope answered 404")
    assert run_dirs(tmp_path / "out") == []
    assert [(r["method"], r["path"]) for r in orders.requests()[received:]] == [("GET", "/nope")]


# --- a schedule of one's own ---------------------------------------------------------------

SCHEDULE = """
[schedule]
phases = [
    { name = "warm", duration = "2s", users = 4 },
    { name = "rush", duration = "2s", users = 12 },
    { name = "cool", duration = "3s", users = 4 },
]
"""


def test_a_schedule_file_names_the_phases_and_their_roles_are_inferred(
    orders: Orders, tmp_path: Path
) -> None:
    schedule = tmp_path / "schedule.toml"
    schedule.write_text(SCHEDULE)
    result = run_against(orders, ["spike", "--schedule", str(schedule)], tmp_path / "out")
    assert result.returncode in (0, 1), result.stderr
    run = result.json("run.json")
    assert [(p["name"], p["role"], p["users"]) for p in run["phases"]] == [
        ("warm", "baseline", 4), ("rush", "spike", 12), ("cool", "recovery", 4)
    ]  # fmt: skip
    assert run["schedule"] == str(schedule)
    report = result.json("report.json")
    assert [p["name"] for p in report["phases"]] == ["warm", "rush", "cool"]
    assert report["degradation_pct"] is not None
