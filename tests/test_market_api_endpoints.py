"""Every endpoint's body against its documented schema, its headers, and the error table."""

from __future__ import annotations

import re
from datetime import date, timedelta

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel
from starlette.testclient import TestClient

from market_api.errors import ErrorBody
from market_api.history import MAX_BARS
from market_api.schemas import (
    HealthResponse,
    HistoricalResponse,
    MetricsResponse,
    StatusResponse,
    SymbolsResponse,
)
from perf_lib.fastapi_router import CacheResponse, QueriesResponse, SummaryResponse
from tests.examples import examples
from tests.market_api_helpers import HISTORICAL, app_for

SERVER_TIMING = re.compile(r"^app;dur=\d+\.\d{3}(, db;dur=\d+\.\d{3})?$")


def strictly(model: type[BaseModel], body: bytes) -> BaseModel:
    """``body`` validated against ``model``, with no field the schema does not document."""
    document = orjson.loads(body)
    parsed = model.model_validate(document)
    assert set(document) == set(type(parsed).model_fields), sorted(document)
    return parsed


@pytest.mark.parametrize(
    ("path", "model"),
    [
        ("/health", HealthResponse),
        ("/api/v1/status", StatusResponse),
        ("/api/v1/metrics", MetricsResponse),
        ("/api/v1/performance/cache", CacheResponse),
        ("/api/v1/performance/queries", QueriesResponse),
        ("/api/v1/performance/summary", SummaryResponse),
    ],
)
def test_uncached_endpoints_match_their_schema_and_time_themselves(api_client, path, model):
    api_client.get(HISTORICAL)  # something for the statistics to show
    response = api_client.get(path)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert SERVER_TIMING.match(response.headers["server-timing"])
    assert "x-cache" not in response.headers
    strictly(model, response.content)


@pytest.mark.parametrize(
    ("path", "model"), [(HISTORICAL, HistoricalResponse), ("/api/v1/symbols", SymbolsResponse)]
)
def test_cached_endpoints_miss_then_hit_with_the_same_body(api_client, path, model):
    first, second = api_client.get(path), api_client.get(path)
    assert (first.status_code, second.status_code) == (200, 200)
    assert (first.headers["x-cache"], second.headers["x-cache"]) == ("MISS", "HIT")
    assert first.content == second.content
    assert "db;dur=" in first.headers["server-timing"]
    assert "db;dur=" not in second.headers["server-timing"]  # a hit does no database work
    strictly(model, first.content)


def test_health_and_status_report_a_healthy_service(api_client):
    assert orjson.loads(api_client.get("/health").content)["status"] == "ok"
    status = orjson.loads(api_client.get("/api/v1/status").content)
    assert status["database"]["kind"] == "sqlite"
    assert status["database"]["rows"]["bars"] >= 125_000
    assert status["symbol_count"] >= 100
    assert status["cache"]["enabled"] is True
    assert status["faults"] == {
        "db_latency_ms": 0.0,
        "error_rate": 0.0,
        "window_s": None,
        "stall_ms": 0.0,
        "stall_every_s": 0.0,
        "capacity_rps": None,
    }
    assert status["process"]["rss_bytes"] > 10_000_000


def test_symbols_list_every_symbol_with_its_range(api_client):
    symbols = orjson.loads(api_client.get("/api/v1/symbols").content)
    assert symbols["count"] == len(symbols["symbols"]) >= 100
    aapl = next(s for s in symbols["symbols"] if s["symbol"] == "AAPL")
    assert aapl == {
        "symbol": "AAPL",
        "name": "Apple Inc.",
        "first_date": "2019-01-01",
        "last_date": "2024-12-31",
    }


def test_historical_bars_are_consistent_and_in_date_order(api_client):
    body = orjson.loads(api_client.get(HISTORICAL).content)
    assert (body["symbol"], body["start"], body["end"]) == ("AAPL", "2024-01-01", "2024-12-31")
    bars = body["bars"]
    assert body["count"] == len(bars) == 262
    assert [b["date"] for b in bars] == sorted(b["date"] for b in bars)
    for bar in bars:
        assert 0 < bar["low"] <= min(bar["open"], bar["close"])
        assert max(bar["open"], bar["close"]) <= bar["high"]
        assert bar["volume"] > 0


@pytest.mark.parametrize(
    ("query", "start", "end"),
    [
        ("", "2024-01-01", "2024-12-31"),  # the last year of data
        ("&end=2023-06-30", "2022-06-30", "2023-06-30"),
        ("&start=2024-11-01", "2024-11-01", "2024-12-31"),
        ("&start=2030-01-01&end=2030-12-31", "2030-01-01", "2030-12-31"),  # after the data
        ("&end=0001-01-01", "0001-01-01", "0001-01-01"),  # the default start is clamped
    ],
)
def test_missing_dates_default_to_a_year_ending_at_the_last_bar(api_client, query, start, end):
    response = api_client.get(f"/api/v1/historical?symbol=MSFT{query}")
    assert response.status_code == 200
    body = orjson.loads(response.content)
    assert (body["start"], body["end"]) == (start, end)
    assert all(start <= bar["date"] <= end for bar in body["bars"])


def test_the_longest_allowed_range_answers(api_client):
    start = date(2015, 1, 5)  # a Monday: MAX_BARS business days end on a Friday
    end = start + timedelta(weeks=MAX_BARS // 5) - timedelta(days=3)
    ok = api_client.get(f"/api/v1/historical?symbol=AAPL&start={start}&end={end}")
    assert ok.status_code == 200
    over = api_client.get(f"/api/v1/historical?symbol=AAPL&start={start}&end={end + timedelta(3)}")
    assert over.status_code == 422


LONG = "A" * 10_000
BAD_INPUTS = [
    ("symbol=ZZZZ", 404),
    ("symbol=Z.Z9", 404),
    ("", 422),
    ("symbol=", 422),
    ("symbol=aapl", 422),
    ("symbol=AAPL'; DROP TABLE bars;--", 422),
    ("symbol=AAPL%27%3B%20DROP%20TABLE%20bars%3B--", 422),
    (f"symbol={LONG}", 422),
    ("symbol=ABCDEFGHIJK", 422),  # 11 characters
    ("symbol=%C3%84PPL", 422),  # non-ASCII
    ("symbol=AAPL%00", 422),  # NUL byte
    ("symbol=AAPL%0A", 422),  # trailing newline
    ("symbol=%FF%FE", 422),  # not UTF-8
    ("symbol=1AAPL", 422),
    ("symbol=AAPL&start=2024-02-30", 422),
    ("symbol=AAPL&start=2023-02-29", 422),
    ("symbol=AAPL&end=2024-13-01", 422),
    ("symbol=AAPL&start=24-01-01", 422),
    ("symbol=AAPL&start=2024-1-1", 422),
    ("symbol=AAPL&start=20240101", 422),
    ("symbol=AAPL&start=2024-01-01T00:00:00", 422),
    ("symbol=AAPL&start=%D9%A2%D9%A0%D9%A2%D9%A4-01-01", 422),  # Arabic-Indic digits
    ("symbol=AAPL&start=0000-01-01", 422),
    ("symbol=AAPL&start=", 422),
    ("symbol=AAPL&start=2024-06-01&end=2024-01-01", 422),  # reversed
    ("symbol=AAPL&start=2030-01-01", 422),  # after the last bar, which is the default end
    ("symbol=AAPL&start=2000-01-01&end=2024-12-31", 422),  # over the row limit
    ("symbol=AAPL&start=0001-01-01&end=9999-12-31", 422),
]


@pytest.mark.parametrize(("query", "status"), BAD_INPUTS, ids=[q[:40] for q, _ in BAD_INPUTS])
def test_bad_input_is_a_json_4xx_that_quotes_nothing_back(api_client, query, status):
    response = api_client.get(f"/api/v1/historical?{query}")
    assert response.status_code == status
    body = strictly(ErrorBody, response.content)
    assert body.error == ("not_found" if status == 404 else "validation_error")
    for value in re.findall(r"=([^&]+)", query):
        assert value not in response.text


@pytest.mark.parametrize(
    ("method", "path", "status", "error"),
    [
        ("GET", "/nope", 404, "not_found"),
        ("GET", "/api/v1/historical/AAPL", 404, "not_found"),
        ("POST", "/health", 405, "method_not_allowed"),
        ("DELETE", "/api/v1/symbols", 405, "method_not_allowed"),
    ],
)
def test_routing_errors_are_json_too(api_client, method, path, status, error):
    response = api_client.request(method, path)
    assert response.status_code == status
    assert strictly(ErrorBody, response.content).error == error


@pytest.fixture(scope="module")
def shared_client(market_db):
    """One client for every generated example (a function-scoped one would be reset)."""
    with TestClient(app_for(market_db)) as test_client:
        yield test_client


@settings(max_examples=examples(300), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    params=st.lists(
        st.tuples(
            st.sampled_from(["symbol", "start", "end", "x"]),
            st.one_of(
                st.text(max_size=30),
                st.from_regex(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", fullmatch=True),
                st.sampled_from(["AAPL", "MSFT", "BRK.B", "ZZZ"]),
            ),
        ),
        max_size=4,
    )
)
def test_no_query_string_gets_a_server_error(shared_client, params):
    response = shared_client.get("/api/v1/historical", params=params)
    assert response.status_code in (200, 404, 422)
    orjson.loads(response.content)


def test_the_openapi_document_describes_every_endpoint(api_client):
    document = orjson.loads(api_client.get("/openapi.json").content)
    paths = document["paths"]
    for path in (
        "/health",
        "/api/v1/status",
        "/api/v1/symbols",
        "/api/v1/historical",
        "/api/v1/metrics",
        "/api/v1/performance/cache",
        "/api/v1/performance/queries",
        "/api/v1/performance/summary",
        "/metrics",
    ):
        assert "200" in paths[path]["get"]["responses"], path
    historical = paths["/api/v1/historical"]["get"]
    assert {p["name"] for p in historical["parameters"]} == {"symbol", "start", "end"}
    assert {"404", "422", "503"} <= set(historical["responses"])
    assert str(MAX_BARS) in historical["description"]
    error_schema = historical["responses"]["422"]["content"]["application/json"]["schema"]
    assert error_schema["$ref"].endswith("/ErrorBody")
    docs = api_client.get("/docs")
    assert docs.status_code == 200 and "swagger" in docs.text.lower()


def test_fastapi_validation_errors_use_the_same_shape_without_values(market_db):
    app = app_for(market_db)

    @app.get("/probe")
    async def probe(count: int) -> dict:  # a route with FastAPI-validated parameters
        return {"count": count}

    with TestClient(app) as test_client:
        missing = test_client.get("/probe")
        malformed = test_client.get("/probe?count=QZXW")
    assert orjson.loads(missing.content) == {
        "error": "validation_error",
        "detail": "count is required",
    }
    assert malformed.status_code == 422 and "QZXW" not in malformed.text


def test_an_internal_bug_is_a_json_500_that_logs_no_message(market_db, caplog):
    app = app_for(market_db)

    @app.get("/bug")
    async def bug(token: str) -> dict:
        raise RuntimeError(f"bad token {token}")

    with TestClient(app, raise_server_exceptions=False) as test_client:
        response = test_client.get("/bug?token=QZXW")
    assert response.status_code == 500
    assert orjson.loads(response.content) == {
        "error": "internal_error",
        "detail": "internal server error",
    }
    server_side = [r.getMessage() for r in caplog.records if r.name.startswith("market_api")]
    assert "RuntimeError" in server_side[0]
    assert not any("QZXW" in line for line in server_side)
