"""Injected latency and errors, a database that goes away and comes back, single-flight; stalls
and a capacity line, which leave the observers' routes alone."""

from __future__ import annotations

import asyncio
import math
import re
import time

import httpx
import orjson
import pytest
from starlette.testclient import TestClient

from market_api.capacity import CapacityMiddleware
from market_api.faults import FaultInjector, FaultWindow
from market_api.stall import Stall, StallMiddleware
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
    window = FaultWindow((30.0, 90.0), timer=clock)
    faults = FaultInjector(50.0, 0.5, window=window)
    assert not faults.in_effect()  # the service does not answer yet
    clock.advance(40)
    assert not faults.in_effect()  # the window counts from start(), not from creation
    window.start()
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
    window = FaultWindow(timer=clock)
    faults = FaultInjector(error_rate=0.1, window=window)
    if started:
        window.start()
    assert faults.in_effect()
    clock.advance(1e9)
    assert faults.in_effect()


def test_a_window_without_faults_injects_nothing():
    clock = FakeClock()
    window = FaultWindow((0.0, 10.0), timer=clock)
    window.start()
    assert not FaultInjector(window=window).in_effect()


@pytest.mark.parametrize("window", [(-1.0, 5.0), (5.0, 5.0), (9.0, 3.0)])
def test_an_impossible_window_is_rejected(window):
    with pytest.raises(ValueError, match="window"):
        FaultWindow(window)


@pytest.mark.parametrize(("window", "status"), [((0.0, 3600.0), 503), ((3600.0, 7200.0), 200)])
def test_the_fault_window_opens_when_the_service_starts_answering(market_db, window, status):
    app = app_for(market_db, fault_error_rate=1.0, fault_window_s=window)
    with TestClient(app) as client:
        answered = client.get(HISTORICAL).status_code
        faults = orjson.loads(client.get("/api/v1/status").content)["faults"]
    assert answered == status
    assert faults == {
        "db_latency_ms": 0.0,
        "error_rate": 1.0,
        "window_s": list(window),
        "stall_ms": 0.0,
        "stall_every_s": 0.0,
        "capacity_rps": None,
    }


class FakeSleep:
    """An ``asyncio.sleep`` that moves the fake clock instead of waiting, and records each call."""

    def __init__(self, clock: FakeClock) -> None:
        self.clock = clock
        self.calls: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)
        self.clock.advance(seconds)
        await asyncio.sleep(0)


def handler(clock: FakeClock, handling_s: float = 0.0, entered: list[str] | None = None):
    """An ASGI app that takes ``handling_s`` (fake) seconds, yielding once, then answers 200."""

    async def app(scope, receive, send) -> None:
        if entered is not None:
            entered.append(scope["path"])
        await asyncio.sleep(0)  # a real handler lets other requests run meanwhile
        clock.advance(handling_s)
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})

    return app


async def response_start(middleware, path: str, clock: FakeClock) -> float:
    """Send one request for ``path`` through ``middleware``; the clock when its response began."""
    started: list[float] = []

    async def receive():
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message) -> None:
        if message["type"] == "http.response.start":
            started.append(clock.now)

    await middleware({"type": "http", "method": "GET", "path": path}, receive, send)
    (instant,) = started
    return instant


def started_stall(
    clock: FakeClock, window_s: tuple[float, float] | None = None
) -> tuple[Stall, FakeSleep]:
    """A stall of 500 ms every 2 s, its service started at ``clock.now``."""
    window = FaultWindow(window_s, timer=clock)
    window.start()
    sleep = FakeSleep(clock)
    return Stall(500.0, 2.0, window, sleep=sleep), sleep


def test_stalls_begin_every_period_from_start_and_last_their_duration():
    clock = FakeClock()
    stall, _ = started_stall(clock)
    offsets = (0.0, 0.25, 1.999, 2.0, 2.125, 2.499, 2.5, 3.0, 4.0, 4.25, 4.5, 6.375)
    left = {offset: stall.time_left(clock.now + offset) for offset in offsets}
    expected = {
        0.0: 0.0, 0.25: 0.0, 1.999: 0.0, 2.0: 0.5, 2.125: 0.375, 2.499: 0.001, 2.5: 0.0,
        3.0: 0.0, 4.0: 0.5, 4.25: 0.25, 4.5: 0.0, 6.375: 0.125,
    }  # fmt: skip
    assert left == pytest.approx(expected)


def test_no_stall_before_the_service_answers():
    clock = FakeClock()
    stall = Stall(500.0, 2.0, FaultWindow(timer=clock))
    assert [stall.time_left(clock.now + t) for t in (0.0, 2.0, 4.25)] == [0.0, 0.0, 0.0]


def test_only_the_part_of_a_stall_inside_the_fault_window_applies():
    clock = FakeClock()
    stall, _ = started_stall(clock, window_s=(3.0, 4.25))
    offsets = (2.0, 2.25, 3.0, 4.0, 4.125, 4.25, 6.0)
    left = {offset: stall.time_left(clock.now + offset) for offset in offsets}
    assert left == {2.0: 0.0, 2.25: 0.0, 3.0: 0.0, 4.0: 0.25, 4.125: 0.125, 4.25: 0.0, 6.0: 0.0}


async def test_a_request_arriving_mid_stall_waits_for_its_end_only():
    clock = FakeClock()
    stall, sleep = started_stall(clock)
    started = clock.now
    clock.now = started + 1.0
    await stall.wait()
    assert sleep.calls == []  # between stalls: at once
    clock.now = started + 2.125
    await stall.wait()
    assert sleep.calls == [0.375]
    assert clock.now == started + 2.5


@pytest.mark.parametrize(
    ("path", "arrives", "responds"),
    [
        ("/health", 1.75, 2.5),  # in progress when the stall begins at 2.0: held to its end
        ("/api/v1/status", 2.125, 2.75),  # arrives mid-stall: handled after it, 0.25 s
        ("/api/v1/historical", 2.5, 2.75),  # just after: not held
        ("/metrics", 2.125, 2.375),  # the observers' own routes are never held
        ("/api/v1/metrics", 1.75, 2.0),
        ("/api/v1/performance/summary", 2.0, 2.25),
    ],
)
async def test_the_stall_middleware_holds_requests_at_arrival_and_response_start(
    path, arrives, responds
):
    clock = FakeClock()
    stall, _ = started_stall(clock)
    middleware = StallMiddleware(handler(clock, handling_s=0.25), stall)
    started = clock.now
    clock.now = started + arrives
    assert await response_start(middleware, path, clock) == pytest.approx(started + responds)


async def test_the_capacity_line_serves_one_request_at_a_time_in_arrival_order():
    clock = FakeClock()
    window = FaultWindow(timer=clock)
    window.start()
    entered: list[str] = []
    line = CapacityMiddleware(handler(clock, entered=entered), 50.0, window, sleep=FakeSleep(clock))
    started = clock.now
    paths = [f"/api/v1/symbols?n={n}" for n in range(5)]
    responded = await asyncio.gather(*(response_start(line, path, clock) for path in paths))
    assert entered == paths  # first come, first served
    assert [t - started for t in responded] == pytest.approx([0.02, 0.04, 0.06, 0.08, 0.10])


async def test_a_request_slower_than_its_share_is_not_held_longer():
    clock = FakeClock()
    window = FaultWindow(timer=clock)
    window.start()
    line = CapacityMiddleware(handler(clock, handling_s=0.05), 50.0, window, sleep=FakeSleep(clock))
    started = clock.now
    responded = [await response_start(line, "/health", clock) for _ in range(2)]
    assert [t - started for t in responded] == pytest.approx([0.05, 0.10])


@pytest.mark.parametrize(("arrives", "responds"), [(5.0, 5.0), (10.0, 10.02), (20.0, 20.0)])
async def test_only_requests_arriving_inside_the_fault_window_join_the_line(arrives, responds):
    clock = FakeClock()
    window = FaultWindow((10.0, 20.0), timer=clock)
    window.start()
    line = CapacityMiddleware(handler(clock), 50.0, window, sleep=FakeSleep(clock))
    started = clock.now
    clock.now = started + arrives
    assert await response_start(line, "/health", clock) == pytest.approx(started + responds)


@pytest.mark.parametrize(
    ("build", "problem"),
    [
        (lambda w: Stall(0.0, 2.0, w), "duration_ms"),
        (lambda w: Stall(2000.0, 2.0, w), "duration_ms"),
        (lambda w: Stall(500.0, 0.0, w), "every_s"),
        (lambda w: CapacityMiddleware(handler(FakeClock()), 0.0, w), "rate_rps"),
        (lambda w: CapacityMiddleware(handler(FakeClock()), math.inf, w), "rate_rps"),
    ],
)
def test_an_impossible_stall_or_capacity_is_rejected(build, problem):
    with pytest.raises(ValueError, match=problem):
        build(FaultWindow())


OBSERVERS = ["/metrics", "/api/v1/metrics", "/api/v1/performance/summary"]


async def finished_after(client: httpx.AsyncClient, path: str, since: float) -> float:
    """Seconds from ``since`` until ``path`` answered 200."""
    response = await client.get(path)
    assert response.status_code == 200, path
    return time.perf_counter() - since


async def test_a_stall_holds_health_but_not_the_observers_routes(market_db):
    # Stalls from 0.6 to 1.1 s after start-up, then from 1.2 to 1.7 s.
    app = app_for(market_db, fault_stall_ms=500.0, fault_stall_every_s=0.6)
    async with app.router.lifespan_context(app):
        started = time.perf_counter()
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            await asyncio.sleep(0.65)
            health = asyncio.ensure_future(finished_after(client, "/health", started))
            observers = await asyncio.gather(
                *(finished_after(client, path, started) for path in OBSERVERS)
            )
            assert not health.done()
            held = await health
    assert max(observers) < 1.0 <= held


async def test_the_capacity_line_spaces_api_routes_but_not_the_observers(market_db):
    app = app_for(market_db, fault_capacity_rps=20.0)
    async with app.router.lifespan_context(app):
        started = time.perf_counter()
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            queued = [
                asyncio.ensure_future(finished_after(client, path, started))
                for path in ["/health", "/api/v1/status"] * 5
            ]
            await asyncio.sleep(0.01)
            observers = await asyncio.gather(
                *(finished_after(client, path, started) for path in OBSERVERS)
            )
            served = sorted(await asyncio.gather(*queued))
    assert served[-1] >= 0.45  # 10 requests at 20 a second: the last is served at 0.5 s
    assert max(observers) < served[4]  # not queued behind the line
