"""The request middleware: access log lines, request metrics by route template, Prometheus."""

from __future__ import annotations

import asyncio
import gc
import logging

import orjson
import pytest
from prometheus_client.parser import text_string_to_metric_families
from starlette.testclient import TestClient

from market_api.context import HIT, current_request
from market_api.metrics import ServiceMetrics
from market_api.middleware import ObservabilityMiddleware, RequestRecords
from perf_lib.cache import QueryCache
from perf_lib.monitor import PerformanceMonitor
from tests.market_api_helpers import HISTORICAL, app_for

MARKER = "QZXW"  # a ticker that exists nowhere else, to look for in the logs


def access_lines(caplog) -> list[dict]:
    """The JSON lines of the access log (a record holds a batch: one line per request)."""
    return [
        orjson.loads(line)
        for r in caplog.records
        if r.name == "market_api.access"
        for line in r.getMessage().splitlines()
    ]


def test_one_json_line_per_request_with_the_route_template(market_db, caplog):
    caplog.set_level(logging.INFO, logger="market_api")
    with TestClient(app_for(market_db)) as client:
        client.get(HISTORICAL)
        client.get(HISTORICAL)
        client.get("/nope")
    # The lines are written in batches; the app's shutdown writes the rest.
    lines = access_lines(caplog)
    assert [(x["route"], x["status"], x["cache"]) for x in lines] == [
        ("/api/v1/historical", 200, "MISS"),
        ("/api/v1/historical", 200, "HIT"),
        ("<unmatched>", 404, None),
    ]
    for line in lines:
        assert set(line) == {"ts", "method", "route", "status", "duration_ms", "db_ms", "cache"}
        assert line["method"] == "GET" and line["duration_ms"] >= 0
    assert lines[0]["db_ms"] > 0 and lines[1]["db_ms"] is None


def test_no_submitted_value_reaches_the_logs(market_db, caplog):
    caplog.set_level(logging.DEBUG)
    with TestClient(app_for(market_db, fault_error_rate=0.5, fault_seed=3)) as client:
        for query in (
            f"symbol={MARKER}",
            f"symbol={MARKER.lower()}",
            f"symbol=AAPL&start=1999-{MARKER}",
            f"symbol=AAPL&start=2024-01-01&end=2023-01-01&{MARKER}=1",
        ):
            client.get(f"/api/v1/historical?{query}")
        client.get(f"/{MARKER}/x?token={MARKER}")
    assert len(access_lines(caplog)) == 5
    server_side = " ".join(
        r.getMessage()
        for r in caplog.records
        if not r.name.startswith("httpx")  # the client
    )
    assert MARKER not in server_side.upper()


def test_request_metrics_count_by_route_template(market_db):
    with TestClient(app_for(market_db)) as client:
        client.get(HISTORICAL)
        client.get("/api/v1/historical?symbol=MSFT")
        client.get("/api/v1/historical?symbol=ZZZZ")  # 404
        client.get("/api/v1/historical?symbol=bad")  # 422
        for i in range(5):
            client.get(f"/random/{i}")  # one label, however many paths
        client.post("/health")  # 405
        metrics = orjson.loads(client.get("/api/v1/metrics").content)
    routes = metrics["routes"]
    assert routes["/api/v1/historical"]["count"] == 4
    assert routes["/api/v1/historical"]["client_errors"] == 2
    assert routes["/api/v1/historical"]["errors"] == 0
    assert routes["/api/v1/historical"]["avg_ms"] > 0
    assert routes["<unmatched>"] == {**routes["<unmatched>"], "count": 5, "client_errors": 5}
    assert routes["/health"]["client_errors"] == 1
    assert metrics["requests_total"] == 10 and metrics["client_errors_total"] == 8
    assert metrics["errors_total"] == 0


def test_server_errors_count_as_errors(market_db):
    with TestClient(app_for(market_db, fault_error_rate=1.0)) as client:
        client.get(HISTORICAL)
        client.get("/api/v1/symbols")
        metrics = orjson.loads(client.get("/api/v1/metrics").content)
    assert metrics["errors_total"] == 2
    assert metrics["routes"]["/api/v1/symbols"]["errors"] == 1


def test_prometheus_text_parses_and_agrees_with_the_json(market_db):
    with TestClient(app_for(market_db)) as client:
        client.get(HISTORICAL)
        client.get(HISTORICAL)
        client.get("/nope")
        response = client.get("/metrics")
        summary = orjson.loads(client.get("/api/v1/metrics").content)
    assert response.headers["content-type"].startswith("text/plain")
    families = {f.name: f for f in text_string_to_metric_families(response.text)}
    assert {
        "market_api_requests",
        "market_api_request_duration_seconds",
        "market_api_db_queries_window",
        "market_api_db_query_duration_ms",
        "market_api_cache_hits",
        "market_api_cache_misses",
        "market_api_cache_size",
    } <= set(families)
    requests = {
        (s.labels["route"], s.labels["status"]): s.value
        for s in families["market_api_requests"].samples
        if s.name == "market_api_requests_total"
    }
    assert requests == {("/api/v1/historical", "200"): 2.0, ("<unmatched>", "404"): 1.0}
    assert summary["requests_total"] == 4  # those three and /metrics itself
    (hits,) = families["market_api_cache_hits"].samples
    assert hits.value == 1.0
    (queries,) = families["market_api_db_queries_window"].samples
    assert (queries.labels["query_type"], queries.value) == ("historical_data", 1.0)
    quantiles = {
        s.labels["quantile"]: s.value
        for s in families["market_api_db_query_duration_ms"].samples
        if s.labels["query_type"] == "historical_data"
    }
    assert set(quantiles) == {"0.5", "0.95", "0.99"} and quantiles["0.5"] > 0


def test_each_app_has_its_own_registry(market_db):
    with TestClient(app_for(market_db)) as first, TestClient(app_for(market_db)) as second:
        first.get("/health")
        assert orjson.loads(second.get("/api/v1/metrics").content)["requests_total"] == 0


def test_without_observability_there_is_no_middleware_and_no_monitoring(market_db, caplog):
    caplog.set_level(logging.INFO, logger="market_api")
    with TestClient(app_for(market_db, observability=False)) as client:
        response = client.get(HISTORICAL)
        queries = orjson.loads(client.get("/api/v1/performance/queries").content)
    assert response.status_code == 200
    assert "server-timing" not in response.headers and "x-cache" not in response.headers
    assert queries["query_types"] == {}
    assert access_lines(caplog) == []


def test_with_the_access_log_off_only_server_errors_are_logged(market_db, caplog):
    caplog.set_level(logging.INFO, logger="market_api")
    app = app_for(market_db, access_log=False, fault_error_rate=1.0)
    with TestClient(app) as client:
        client.get("/health")  # 200, degraded
        client.get(HISTORICAL)  # 503
        client.get("/nope")  # 404
        metrics = orjson.loads(client.get("/api/v1/metrics").content)
    assert [(x["route"], x["status"]) for x in access_lines(caplog)] == [
        ("/api/v1/historical", 503)
    ]
    assert metrics["requests_total"] == 3  # every request is still counted


async def receive_no_body():
    return {"type": "http.request", "body": b"", "more_body": False}


@pytest.mark.parametrize("access_log", [True, False])
def test_a_request_that_raises_is_logged_and_counted_as_a_500(caplog, access_log):
    """No response was sent, so the client gets a 500 from the server: so do the records,
    and the line is written with the access log off too."""

    async def crashing_app(scope, receive, send):
        raise RuntimeError("crashed before answering")

    async def send(message):
        raise AssertionError("nothing is sent")

    metrics = ServiceMetrics(QueryCache(), PerformanceMonitor())
    records = RequestRecords(metrics, access_log=access_log)
    middleware = ObservabilityMiddleware(crashing_app, records)
    scope = {"type": "http", "method": "BREW", "path": "/pot", "headers": []}
    caplog.set_level(logging.INFO, logger="market_api")
    with pytest.raises(RuntimeError):
        asyncio.run(middleware(scope, receive_no_body, send))
    summary = metrics.summary()  # applies what is pending
    assert summary["routes"]["<unmatched>"]["errors"] == 1
    # The log keeps the method; the metric label folds unusual methods into OTHER.
    (line,) = access_lines(caplog)
    assert (line["method"], line["route"], line["status"]) == ("BREW", "<unmatched>", 500)
    assert list(metrics.requests.series) == [("<unmatched>", "OTHER", 500)]


def test_pending_records_hold_nothing_the_garbage_collector_tracks():
    """A batch outlives hundreds of requests. Objects in it that the collector tracks would be
    promoted to its older generations and, under load, set off full collections that stall
    the event loop; so what a request leaves behind must be plain values."""

    async def cached_app(scope, receive, send):
        context = current_request()
        context.db_ms, context.db_queries, context.cache = 0.5, 1, HIT
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"{}"})

    async def send(message):
        pass

    metrics = ServiceMetrics(QueryCache(), PerformanceMonitor())
    middleware = ObservabilityMiddleware(cached_app, RequestRecords(metrics))
    scope = {"type": "http", "method": "GET", "path": "/x", "headers": []}

    async def tracked_objects_left_by(requests: int) -> int:
        # Warm-up: the first request schedules the batch's flush, and the interpreter's free
        # lists (emptied by the collection below) refill, which would otherwise count too.
        for _ in range(100):
            await middleware(dict(scope), receive_no_body, send)
        before = gc.get_count()[0]  # tracked allocations minus deallocations
        for _ in range(requests):
            await middleware(dict(scope), receive_no_body, send)
        return gc.get_count()[0] - before

    gc.collect()  # the same starting point whatever the tests before this one left
    gc.disable()  # a collection would reset the count
    try:
        left = asyncio.run(tracked_objects_left_by(500))
    finally:
        gc.enable()
    assert left < 50  # a tuple or context object per request would leave 500 or more
    assert metrics.summary()["requests_total"] == 600  # reading applies the batch
