"""Response checks: a valid body passes, every kind of broken one fails with a clear message."""

from __future__ import annotations

import orjson
import pytest

from scenarios.checks import (
    check_health,
    check_metrics,
    check_status,
    check_symbols,
    historical_check,
    server_time_ms,
    symbol_listing,
)


def body(document) -> bytes:
    return orjson.dumps(document)


def bar(date, o=10.0, h=12.0, low=9.0, c=11.0, v=100):
    return {"date": date, "open": o, "high": h, "low": low, "close": c, "volume": v}


def historical(bars, symbol="AAPL", start="2024-01-01", end="2024-12-31"):
    return body({"symbol": symbol, "start": start, "end": end, "count": len(bars), "bars": bars})


def test_a_valid_historical_response_passes():
    ok = historical([bar("2024-01-02"), bar("2024-01-03")])
    assert historical_check("AAPL")(200, ok) is None


@pytest.mark.parametrize(
    ("status", "payload", "message"),
    [
        (500, historical([]), "HTTP 500, expected 200"),
        (200, b"<html>", "not valid JSON"),
        (200, b"[1, 2]", "not a JSON object"),
        (200, body({"symbol": "AAPL"}), "missing fields start, end, count, bars"),
        (200, historical([], symbol="MSFT"), "asked for AAPL, got MSFT"),
        (200, historical([bar("2024-01-03"), bar("2024-01-02")]), "out of order at 2024-01-02"),
        (200, historical([bar("2024-01-02"), bar("2024-01-02")]), "out of order"),
        (200, historical([bar("2023-12-29")]), "outside 2024-01-01..2024-12-31"),
        (200, historical([bar("2024-01-02", h=8.0)]), "inconsistent OHLC on 2024-01-02"),
        (200, historical([{"date": "2024-01-02"}]), "missing fields open, high, low, close"),
        (200, body({"symbol": "AAPL", "start": "a", "end": "b", "count": 3, "bars": []}),
         "count 3 does not match"),
    ],
)  # fmt: skip
def test_broken_historical_responses_fail_with_a_clear_message(status, payload, message):
    assert message in historical_check("AAPL")(status, payload)


def test_light_endpoint_checks():
    health = {"status": "ok", "database": "ok", "uptime_seconds": 1.0}
    assert check_health(200, body(health)) is None
    degraded = check_health(200, body(health | {"status": "degraded", "database": "unavailable"}))
    assert degraded == "service reports status 'degraded' (database 'unavailable')"
    assert check_health(503, body(health)) == "HTTP 503, expected 200"
    assert check_status(200, body({"version": "1", "uptime_seconds": 2, "database": {}})) is None
    assert "missing field version" in check_status(200, body({"uptime_seconds": 2, "database": {}}))
    assert check_metrics(200, body({"requests_total": 1, "routes": {}})) is None
    assert (
        check_metrics(200, body({"requests_total": 1, "routes": []})) == "routes is not an object"
    )


def test_symbols_check_and_listing():
    entry = {
        "symbol": "AAPL",
        "name": "Apple",
        "first_date": "2020-01-01",
        "last_date": "2025-06-30",
    }
    other = entry | {"symbol": "MSFT", "last_date": "2025-07-01"}
    good = body({"count": 2, "symbols": [entry, other]})
    assert check_symbols(200, good) is None
    assert symbol_listing(good) == (["AAPL", "MSFT"], "2025-07-01")
    assert check_symbols(200, body({"count": 0, "symbols": []})) == "symbols is empty or not a list"
    assert "count 3 but 2" in check_symbols(200, body({"count": 3, "symbols": [entry, other]}))
    broken = body({"count": 1, "symbols": [{"symbol": "AAPL"}]})
    assert check_symbols(200, broken) == "missing fields name, first_date, last_date in a symbol"


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("app;dur=12.5, db;dur=3.1", 12.5),
        ('db;dur=3.1,app;desc="x";dur=0.25', 0.25),
        ("db;dur=3.1", None),
        ("app;dur=abc", None),
        ("", None),
        (None, None),
    ],
)
def test_server_timing_app_duration(header, expected):
    assert server_time_ms(header) == expected
