"""Injected latency and errors, a database that goes away and comes back, single-flight."""

from __future__ import annotations

import asyncio
import re
import time

import httpx
import orjson
import pytest
from starlette.testclient import TestClient

from market_api.faults import FaultInjector
from tests.fakes import FakeClock
from tests.market_api_helpers import HISTORICAL, app_for


def db_ms(response: httpx.Response) -> float:
    match = re.search(r"db;dur=([\d.]+)", response.headers["server-timing"])
    assert match, response.headers["server-timing"]
    return float(match.group(1))


async def serve(app, requests: list[str]) -> list[httpx.Response]:
    """The requests concurrently against ``app`` (lifespan run), in the order given."""
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            return list(await asyncio.gather(*(client.get(path) for path in requests)))


def test_injected_latency_shows_in_server_timing(market_db):
    with TestClient(app_for(market_db, fault_db_latency_ms=80.0)) as client:
        miss = client.get(HISTORICAL)
        hit = client.get(HISTORICAL)
        health = client.get("/health")
    assert db_ms(miss) >= 80.0
    assert db_ms(health) >= 80.0  # every database query, the health ping included
    assert "db;dur" not in hit.headers["server-timing"]


async def test_injected_latency_does_not_block_the_event_loop(market_db):
    app = app_for(market_db, fault_db_latency_ms=400.0)
    started = time.perf_counter()
    timings: list[float] = []

    async def timed(client: httpx.AsyncClient, path: str) -> httpx.Response:
        response = await client.get(path)
        timings.append(time.perf_counter() - started)
        return response

    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            slow = asyncio.ensure_future(client.get(HISTORICAL))
            await asyncio.sleep(0.05)
            fast = await asyncio.gather(*(timed(client, "/api/v1/metrics") for _ in range(10)))
            fast_done = time.perf_counter() - started
            assert (await slow).status_code == 200
    assert all(r.status_code == 200 for r in fast)
    assert fast_done < 0.3 < time.perf_counter() - started


def test_an_error_rate_of_one_fails_every_query_with_503_json(market_db):
    with TestClient(app_for(market_db, fault_error_rate=1.0)) as client:
        historical = client.get(HISTORICAL)
        symbols = client.get("/api/v1/symbols")
        health = client.get("/health")
        status = client.get("/api/v1/status")
        queries = orjson.loads(client.get("/api/v1/performance/queries").content)
    for response in (historical, symbols):
        assert response.status_code == 503
        assert response.headers["retry-after"] == "1"
        assert orjson.loads(response.content) == {
            "error": "unavailable",
            "detail": "injected database fault",
        }
    assert health.status_code == 200
    assert orjson.loads(health.content)["status"] == "degraded"
    assert orjson.loads(status.content)["database"] == {
        "kind": "sqlite",
        "status": "unavailable",
        "rows": None,
    }
    assert queries["stats"]["failed"] == queries["stats"]["total"] == 4


def test_a_seeded_error_rate_fails_the_same_queries_each_run(market_db):
    def pattern() -> list[int]:
        with TestClient(app_for(market_db, fault_error_rate=0.5, fault_seed=11)) as client:
            return [
                client.get(f"/api/v1/historical?symbol=AAPL&start=2024-01-{day:02d}").status_code
                for day in range(1, 21)
            ]

    first = pattern()
    assert first == pattern()
    assert set(first) == {200, 503}


def test_failed_loads_are_not_cached(market_db):
    app = app_for(market_db, fault_error_rate=1.0)
    with TestClient(app) as client:
        assert client.get(HISTORICAL).status_code == 503
        assert len(app.state.runtime.cache) == 0


def test_a_database_that_goes_away_answers_503_and_recovers_without_restart(own_db):
    with TestClient(app_for(own_db)) as client:
        assert client.get(HISTORICAL).status_code == 200  # now cached
        away = own_db.with_name("away.db")
        own_db.rename(away)
        try:
            gone = client.get("/api/v1/historical?symbol=MSFT")
            health = orjson.loads(client.get("/health").content)
            status = orjson.loads(client.get("/api/v1/status").content)
            cached = client.get(HISTORICAL)
            recreated = own_db.exists()
        finally:
            away.rename(own_db)
        back = client.get("/api/v1/historical?symbol=MSFT")
        health_back = orjson.loads(client.get("/health").content)
    assert gone.status_code == 503
    assert orjson.loads(gone.content)["error"] == "unavailable"
    assert (health["status"], health["database"]) == ("degraded", "unavailable")
    assert status["database"]["status"] == "unavailable" and status["symbol_count"] is None
    assert cached.status_code == 200 and cached.headers["x-cache"] == "HIT"
    assert not recreated
    assert back.status_code == 200
    assert (health_back["status"], health_back["database"]) == ("ok", "ok")


def test_a_burst_of_identical_misses_queries_the_database_once(market_db):
    app = app_for(market_db, fault_db_latency_ms=100.0)
    responses = asyncio.run(serve(app, [HISTORICAL] * 10))
    assert {r.status_code for r in responses} == {200}
    assert len({r.content for r in responses}) == 1
    assert sorted(r.headers["x-cache"] for r in responses) == ["HIT"] * 9 + ["MISS"]
    assert sum("db;dur" in r.headers["server-timing"] for r in responses) == 1
    stats = app.state.runtime.cache.stats()
    assert (stats["loads"], stats["coalesced"]) == (1, 9)


def test_without_the_cache_every_request_queries_the_database(market_db):
    app = app_for(market_db, cache_enabled=False)
    with TestClient(app) as client:
        responses = [client.get(HISTORICAL) for _ in range(3)]
        queries = orjson.loads(client.get("/api/v1/performance/queries").content)
    assert [r.headers["x-cache"] for r in responses] == ["MISS"] * 3
    assert len({r.content for r in responses}) == 1
    assert queries["query_types"] == {"historical_data": 3}
    assert app.state.runtime.cache.stats()["misses"] == 0  # never consulted


def test_faults_apply_only_inside_their_window_counted_from_start():
    clock = FakeClock()
    faults = FaultInjector(50.0, 0.5, window=(30.0, 90.0), timer=clock)
    assert not faults.in_effect()  # the service does not answer yet
    clock.advance(40)
    assert not faults.in_effect()  # the window counts from start(), not from creation
    faults.start()
    started = clock.now
    seen = {}
    for offset in (0.0, 29.999, 30.0, 60.0, 89.999, 90.0, 1000.0):
        clock.now = started + offset
        seen[offset] = faults.in_effect()
    assert seen == {
        0.0: False, 29.999: False, 30.0: True, 60.0: True, 89.999: True, 90.0: False,
        1000.0: False,
    }  # fmt: skip


@pytest.mark.parametrize("started", [False, True])
def test_without_a_window_faults_last_the_whole_run(started):
    clock = FakeClock()
    faults = FaultInjector(error_rate=0.1, timer=clock)
    if started:
        faults.start()
    assert faults.in_effect()
    clock.advance(1e9)
    assert faults.in_effect()


def test_a_window_without_faults_injects_nothing():
    clock = FakeClock()
    faults = FaultInjector(window=(0.0, 10.0), timer=clock)
    faults.start()
    assert not faults.in_effect()


@pytest.mark.parametrize("window", [(-1.0, 5.0), (5.0, 5.0), (9.0, 3.0)])
def test_an_impossible_window_is_rejected(window):
    with pytest.raises(ValueError, match="window"):
        FaultInjector(10.0, window=window)


@pytest.mark.parametrize(("window", "status"), [((0.0, 3600.0), 503), ((3600.0, 7200.0), 200)])
def test_the_fault_window_opens_when_the_service_starts_answering(market_db, window, status):
    app = app_for(market_db, fault_error_rate=1.0, fault_window_s=window)
    with TestClient(app) as client:
        answered = client.get(HISTORICAL).status_code
        faults = orjson.loads(client.get("/api/v1/status").content)["faults"]
    assert answered == status
    assert faults == {"db_latency_ms": 0.0, "error_rate": 1.0, "window_s": list(window)}
