"""Shared fixtures and helpers of the market_api tests.

The database is seeded once per session; tests that damage it work on their own copy.
"""

from __future__ import annotations

import shutil
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests
from fastapi import FastAPI
from starlette.testclient import TestClient

from market_api.app import create_app
from market_api.seeding import seed_database
from market_api.settings import Settings
from scenarios.processes import ChildProcess, free_port

#: A fully specified one-year range, as a cache key that only ever means one thing.
HISTORICAL = "/api/v1/historical?symbol=AAPL&start=2024-01-01&end=2024-12-31"


@pytest.fixture(scope="session")
def market_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The seeded database, shared read-only by the whole session."""
    path = tmp_path_factory.mktemp("market_db") / "market.db"
    seed_database(path)
    return path


@pytest.fixture
def own_db(market_db: Path, tmp_path: Path) -> Path:
    """A private copy of the seeded database, for tests that move or damage it."""
    path = tmp_path / "market.db"
    shutil.copy(market_db, path)
    return path


def app_for(db: Path, **settings: object) -> FastAPI:
    return create_app(Settings(db_path=db, **settings))  # type: ignore[arg-type]


@pytest.fixture
def api_client(market_db: Path) -> Iterator[TestClient]:
    """A TestClient (lifespan run) of the service with default settings."""
    with TestClient(app_for(market_db)) as test_client:
        yield test_client


@dataclass
class LiveService:
    url: str
    child: ChildProcess

    @property
    def log(self) -> str:
        return self.child.log_path.read_text(errors="replace")


def start_live_service(db: Path, log: Path, *flags: str, timeout: float = 60.0) -> LiveService:
    """``python -m market_api`` as a real uvicorn on a free loopback port, once /health answers."""
    port = free_port()
    argv = [sys.executable, "-m", "market_api", "--port", str(port), "--db", str(db), *flags]
    child = ChildProcess(argv, log)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and child.exit_code is None:
        try:
            requests.get(f"{url}/health", timeout=1.0)
            return LiveService(url, child)
        except requests.RequestException:
            time.sleep(0.05)
    child.stop()
    raise AssertionError(f"the service did not start: {log.read_text(errors='replace')[-2000:]}")
